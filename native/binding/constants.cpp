#include "constants.h"

#include "../core/api_limits.h"
#include "../core/graph_index.h"
#include "../core/ivf_index.h"
#include "../core/kmeans.h"
#include "args.h"

namespace semvec_binding {

namespace {

Napi::Number number(Napi::Env env, double v) { return Napi::Number::New(env, v); }

Napi::Object limits(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("maxDim", number(env, semvec::kMaxDim));
  o.Set("maxVectors", number(env, static_cast<double>(semvec::kMaxVectors)));
  o.Set("maxId", number(env, static_cast<double>(semvec::kMaxId)));
  o.Set("maxNextId", number(env, static_cast<double>(semvec::kMaxNextId)));
  o.Set("maxNlist", number(env, static_cast<double>(semvec::kMaxNlist)));
  o.Set("maxRerank", number(env, static_cast<double>(semvec::kMaxRerank)));
  o.Set("autoRerank", number(env, static_cast<double>(semvec::kAutoRerank)));
  o.Set("maxEf", number(env, static_cast<double>(semvec::kMaxEf)));
  o.Set("minGraphDegree", number(env, static_cast<double>(semvec::kMinGraphDegree)));
  o.Set("maxGraphDegree", number(env, static_cast<double>(semvec::kMaxGraphDegree)));
  o.Set("maxK", number(env, static_cast<double>(semvec::kMaxK)));
  o.Set("maxArrayLength", number(env, static_cast<double>(kMaxArrayLength)));
  o.Set("maxRqDim", number(env, static_cast<double>(semvec::kMaxRqDim)));
  o.Freeze();
  return o;
}

// The k-means options a default parameter set stands for (with the seed
// only when `with_seed`: IVF training takes k-means's).
Napi::Object kmeans_defaults(Napi::Env env, const semvec::KMeansParams& p, bool with_seed) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("iterations", number(env, static_cast<double>(p.iterations)));
  if (with_seed) o.Set("seed", number(env, static_cast<double>(p.seed)));
  o.Set("maxPointsPerCentroid", number(env, static_cast<double>(p.max_points_per_centroid)));
  o.Set("init", Napi::String::New(env, semvec::kmeans_init_name(p.init)));
  o.Freeze();
  return o;
}

}  // namespace

Napi::Object constants_object(Napi::Env env) {
  Napi::Object defaults = Napi::Object::New(env);
  defaults.Set("kmeans", kmeans_defaults(env, semvec::KMeansParams(), true));
  defaults.Set("ivfTraining", kmeans_defaults(env, semvec::IvfIndex::training_defaults(), false));
  defaults.Set("rerank", number(env, static_cast<double>(semvec::kDefaultRerank)));
  defaults.Set("nprobe", number(env, static_cast<double>(semvec::kDefaultNprobe)));
  const semvec::GraphParams g;
  Napi::Object graph = Napi::Object::New(env);
  graph.Set("degree", number(env, static_cast<double>(g.degree)));
  graph.Set("buildEf", number(env, static_cast<double>(g.build_ef)));
  graph.Set("alpha", number(env, alpha_to_js(g.alpha)));
  graph.Set("ef", number(env, static_cast<double>(g.ef)));
  if (g.rerank == semvec::kAutoRerank) graph.Set("rerank", Napi::String::New(env, "auto"));
  else graph.Set("rerank", number(env, static_cast<double>(g.rerank)));
  graph.Set("seed", number(env, static_cast<double>(g.seed)));
  graph.Freeze();
  defaults.Set("graph", graph);
  defaults.Freeze();
  Napi::Array encodings = Napi::Array::New(env);
  uint32_t at = 0;
  for (semvec::IvfEncoding e : {semvec::IvfEncoding::F32, semvec::IvfEncoding::Sq8, semvec::IvfEncoding::Rq4,
                                semvec::IvfEncoding::Rq1}) {
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("name", Napi::String::New(env, semvec::ivf_encoding_name(e)));
    entry.Set("bitsPerDim", number(env, static_cast<double>(semvec::ivf_encoding_bits(e))));
    entry.Freeze();
    encodings.Set(at++, entry);
  }
  encodings.Freeze();
  Napi::Object o = Napi::Object::New(env);
  o.Set("ivfEncodings", encodings);
  o.Set("limits", limits(env));
  o.Set("defaults", defaults);
  o.Freeze();
  return o;
}

}  // namespace semvec_binding
