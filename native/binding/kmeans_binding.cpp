#include "kmeans_binding.h"

#include <cstring>

#include "args.h"
#include "async_progress.h"
#include "errors.h"
#include "workers.h"

namespace semvec_binding {

namespace {
double opt_number(Napi::Object o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}
}  // namespace

semvec::KMeansParams kmeans_params(const Napi::CallbackInfo& info, size_t i,
                                   const semvec::KMeansParams& defaults) {
  semvec::KMeansParams p = defaults;
  if (info.Length() <= i || !info[i].IsObject())
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT", "k-means options must be an object");
  Napi::Object o = info[i].As<Napi::Object>();
  p.k = static_cast<size_t>(opt_number(o, "k", static_cast<double>(p.k)));
  p.iterations = static_cast<size_t>(opt_number(o, "iterations", static_cast<double>(p.iterations)));
  p.seed = static_cast<uint64_t>(opt_number(o, "seed", static_cast<double>(p.seed)));
  p.max_points_per_centroid = static_cast<size_t>(
      opt_number(o, "maxPointsPerCentroid", static_cast<double>(p.max_points_per_centroid)));
  Napi::Value sph = o.Get("spherical");
  if (sph.IsBoolean()) p.spherical = sph.As<Napi::Boolean>().Value();
  Napi::Value init = o.Get("init");
  for (semvec::KMeansInit v : {semvec::KMeansInit::PlusPlus, semvec::KMeansInit::Random})
    if (init.IsString() && init.As<Napi::String>().Utf8Value() == semvec::kmeans_init_name(v)) p.init = v;
  return p;
}

Napi::Value kmeans_result_to_js(Napi::Env env, const semvec::KMeansResult& r, bool with_data) {
  Napi::Object o = Napi::Object::New(env);
  if (with_data) {
    Napi::Float32Array c = Napi::Float32Array::New(env, r.centroids.size());
    std::memcpy(c.Data(), r.centroids.data(), r.centroids.size() * sizeof(float));
    Napi::Uint32Array a = Napi::Uint32Array::New(env, r.assignments.size());
    std::memcpy(a.Data(), r.assignments.data(), r.assignments.size() * sizeof(uint32_t));
    o.Set("centroids", c);
    o.Set("assignments", a);
    o.Set("inertia", Napi::Number::New(env, r.inertia));
  }
  Napi::Float64Array h = Napi::Float64Array::New(env, r.history.size());
  for (size_t i = 0; i < r.history.size(); ++i) h[i] = r.history[i];
  o.Set("history", h);
  o.Set("iterations", Napi::Number::New(env, static_cast<double>(r.iterations)));
  o.Set("trainingPoints", Napi::Number::New(env, static_cast<double>(r.training_points)));
  return o;
}

void attach_sync_progress(semvec::KMeansParams& params, const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsFunction()) return;
  Napi::Function fn = info[i].As<Napi::Function>();
  Napi::Env env = info.Env();
  // A throw propagates through the core as a Napi::Error: the run is
  // abandoned and the call throws it.
  params.progress = [fn, env](size_t it, double inertia) {
    Napi::Value r = fn.Call({Napi::Number::New(env, static_cast<double>(it)), Napi::Number::New(env, inertia)});
    return !(r.IsBoolean() && !r.As<Napi::Boolean>().Value());
  };
}

namespace {

// kmeans(vectors: Float32Array, dim, options, progress?): the vectors, their
// dimension and the k-means options.
struct KMeansArgs {
  F32View vectors;
  size_t dim = 0;
  size_t n = 0;
  semvec::KMeansParams params;
};

KMeansArgs kmeans_args(const Napi::CallbackInfo& info, bool async) {
  KMeansArgs a;
  a.vectors = async ? f32_arg_fixed(info, 0, "vectors") : f32_arg(info, 0, "vectors");
  a.dim = count_arg(info, 1, "dim", 1, semvec::kMaxDim);
  a.n = rows_of(info.Env(), a.vectors, a.dim, "vectors");
  a.params = kmeans_params(info, 2, semvec::KMeansParams());
  return a;
}

}  // namespace

Napi::Value KMeans(const Napi::CallbackInfo& info) {
  KMeansArgs a = kmeans_args(info, false);
  attach_sync_progress(a.params, info, 3);
  semvec::KMeansResult r = guard(info.Env(), [&] { return semvec::kmeans(a.vectors.data, a.n, a.dim, a.params); });
  return kmeans_result_to_js(info.Env(), r, true);
}

Napi::Value KMeansAsync(const Napi::CallbackInfo& info) {
  KMeansArgs a = kmeans_args(info, true);
  auto progress = AsyncProgress::FromArg(info, 3);
  AsyncProgress::Attach(a.params, progress);
  auto out = std::make_shared<semvec::KMeansResult>();
  return PromiseWorker::Start(
      info.Env(), [a, out] { *out = semvec::kmeans(a.vectors.data, a.n, a.dim, a.params); },
      [out](Napi::Env e) { return kmeans_result_to_js(e, *out, true); }, {info[0]}, progress);
}

}  // namespace semvec_binding
