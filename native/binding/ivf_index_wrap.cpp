#include "ivf_index_wrap.h"

#include "addon.h"
#include "args.h"
#include "async_progress.h"
#include "errors.h"
#include "index_methods.h"
#include "kmeans_binding.h"
#include "workers.h"

namespace semvec_binding {

using semvec::IvfIndex;
using semvec::SearchResults;

Napi::Function IvfIndexWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "NativeIvfIndex",
                                    CommonMethods({
                                        InstanceMethod<&IvfIndexWrap::Train>("train"),
                                        InstanceMethod<&IvfIndexWrap::TrainAsync>("trainAsync"),
                                        InstanceMethod<&IvfIndexWrap::Search>("search"),
                                        InstanceMethod<&IvfIndexWrap::SearchAsync>("searchAsync"),
                                        InstanceMethod<&IvfIndexWrap::Info>("info"),
                                        InstanceMethod<&IvfIndexWrap::SetNprobe>("setNprobe"),
                                        InstanceMethod<&IvfIndexWrap::SetRerank>("setRerank"),
                                        InstanceMethod<&IvfIndexWrap::ListSizes>("listSizes"),
                                        InstanceMethod<&IvfIndexWrap::Centroids>("centroids"),
                                    }));
  addon_data(env).ivf_index_ctor = Napi::Persistent(ctor);
  return ctor;
}

Napi::Value IvfIndexWrap::Wrap(Napi::Env env, std::shared_ptr<IvfIndex> index) {
  return wrap_existing(env, addon_data(env).ivf_index_ctor, std::move(index));
}

namespace {

constexpr double kMaxRerank = static_cast<double>(semvec::kMaxRerank);
constexpr double kMaxNlist = static_cast<double>(semvec::kMaxNlist);

semvec::IvfEncoding encoding_arg(const Napi::CallbackInfo& info, size_t i) {
  std::string e = string_arg(info, i, "encoding");
  if (e == "f32") return semvec::IvfEncoding::F32;
  if (e == "sq8") return semvec::IvfEncoding::Sq8;
  throw_error(info.Env(), "ERR_INVALID_ARGUMENT", "encoding must be 'f32' or 'sq8'; received '" + e + "'");
}

// Optional rerank argument: undefined for the index default.
std::optional<size_t> rerank_arg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined()) return std::nullopt;
  return count_arg(info, i, "rerank", 0, kMaxRerank);
}

// nprobe argument: 0 for the index default.
std::optional<size_t> nprobe_arg(const Napi::CallbackInfo& info, size_t i) {
  size_t nprobe = count_arg(info, i, "nprobe", 0, kMaxNlist);
  return nprobe == 0 ? std::nullopt : std::optional<size_t>(nprobe);
}

}  // namespace

// new IvfIndex(dim, metric, nlist, nprobe, encoding, rerank)
IvfIndexWrap::IvfIndexWrap(const Napi::CallbackInfo& info) : IndexWrap(info) {
  if (index_) return;
  size_t dim = count_arg(info, 0, "dim", 1, semvec::kMaxDim);
  semvec::Metric metric = metric_arg(info, 1);
  size_t nlist = count_arg(info, 2, "nlist", 1, kMaxNlist);
  size_t nprobe = count_arg(info, 3, "nprobe", 1, kMaxNlist);
  semvec::IvfEncoding encoding = encoding_arg(info, 4);
  size_t rerank = count_arg(info, 5, "rerank", 0, kMaxRerank);
  index_ = guard(info.Env(), [&] {
    return std::make_shared<IvfIndex>(dim, metric, nlist, nprobe, encoding, rerank);
  });
}

// train(vectors, options, progress?) -> { history, iterations, trainingPoints }
Napi::Value IvfIndexWrap::Train(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View x = f32_arg(info, 0, "vectors");
  size_t n = rows_of(env, x, index_->dim(), "vectors");
  semvec::KMeansParams p = kmeans_params(info, 1);
  attach_sync_progress(p, info, 2);
  semvec::KMeansResult r = guard(env, [&] { return index_->train(x.data, n, p); });
  return kmeans_result_to_js(env, r, false);
}

Napi::Value IvfIndexWrap::TrainAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View x = f32_arg_fixed(info, 0, "vectors");
  size_t n = rows_of(env, x, index_->dim(), "vectors");
  semvec::KMeansParams p = kmeans_params(info, 1);
  auto progress = AsyncProgress::FromArg(info, 2);
  AsyncProgress::Attach(p, progress);
  auto index = index_;
  auto out = std::make_shared<semvec::KMeansResult>();
  return PromiseWorker::Start(
      env, [index, x, n, p, out] { *out = index->train(x.data, n, p); },
      [out](Napi::Env e) { return kmeans_result_to_js(e, *out, false); }, {info[0]}, progress);
}

// search(queries, k, nprobe, allow?, rerank?) with nprobe 0 = the index default
Napi::Value IvfIndexWrap::Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View q = f32_arg(info, 0, "queries");
  size_t nq = rows_of(env, q, index_->dim(), "queries");
  size_t k = k_arg(info, 1);
  std::optional<size_t> nprobe = nprobe_arg(info, 2);
  auto allow = allow_arg(info, 3);
  std::optional<size_t> rerank = rerank_arg(info, 4);
  SearchResults r = guard(env, [&] {
    return index_->search(q.data, nq, k, {nprobe, rerank, allow_data(allow), allow_size(allow)});
  });
  return results_to_js(env, r);
}

Napi::Value IvfIndexWrap::SearchAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View q = f32_arg_fixed(info, 0, "queries");
  size_t nq = rows_of(env, q, index_->dim(), "queries");
  size_t k = k_arg(info, 1);
  std::optional<size_t> nprobe = nprobe_arg(info, 2);
  auto allow = allow_arg(info, 3);
  std::optional<size_t> rerank = rerank_arg(info, 4);
  auto index = index_;
  auto out = std::make_shared<SearchResults>();
  return PromiseWorker::Start(
      env,
      [index, q, nq, k, nprobe, allow, rerank, out] {
        *out = index->search(q.data, nq, k, {nprobe, rerank, allow_data(allow), allow_size(allow)});
      },
      [out](Napi::Env e) { return results_to_js(e, *out); }, {info[0]});
}

Napi::Value IvfIndexWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = BaseInfo(env);
  o.Set("nlist", Napi::Number::New(env, static_cast<double>(index_->nlist())));
  o.Set("nprobe", Napi::Number::New(env, static_cast<double>(index_->nprobe())));
  o.Set("trained", Napi::Boolean::New(env, index_->is_trained()));
  o.Set("encoding", Napi::String::New(env, semvec::ivf_encoding_name(index_->encoding())));
  o.Set("rerank", Napi::Number::New(env, static_cast<double>(index_->rerank())));
  return o;
}

Napi::Value IvfIndexWrap::SetNprobe(const Napi::CallbackInfo& info) {
  size_t nprobe = count_arg(info, 0, "nprobe", 0, kMaxNlist);
  guard(info.Env(), [&] { index_->set_nprobe(nprobe); });
  return info.Env().Undefined();
}

Napi::Value IvfIndexWrap::SetRerank(const Napi::CallbackInfo& info) {
  size_t rerank = count_arg(info, 0, "rerank", 0, kMaxRerank);
  guard(info.Env(), [&] { index_->set_rerank(rerank); });
  return info.Env().Undefined();
}

Napi::Value IvfIndexWrap::ListSizes(const Napi::CallbackInfo& info) {
  std::vector<size_t> sizes = index_->list_sizes();
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) out[i] = static_cast<double>(sizes[i]);
  return out;
}

Napi::Value IvfIndexWrap::Centroids(const Napi::CallbackInfo& info) {
  std::vector<float> c = index_->centroids();
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), c.size());
  if (!c.empty()) std::memcpy(out.Data(), c.data(), c.size() * sizeof(float));
  return out;
}

}  // namespace semvec_binding
