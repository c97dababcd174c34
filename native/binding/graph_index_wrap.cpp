#include "graph_index_wrap.h"

#include <optional>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "index_methods.h"
#include "workers.h"

namespace semvec_binding {

using semvec::GraphIndex;

Napi::Function GraphIndexWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "NativeGraphIndex",
                                    CommonMethods({
                                        InstanceMethod<&GraphIndexWrap::Search>("search"),
                                        InstanceMethod<&GraphIndexWrap::SearchAsync>("searchAsync"),
                                        InstanceMethod<&GraphIndexWrap::Info>("info"),
                                        InstanceMethod<&GraphIndexWrap::Ef>("ef"),
                                        InstanceMethod<&GraphIndexWrap::SetEf>("setEf"),
                                        InstanceMethod<&GraphIndexWrap::Rerank>("rerank"),
                                        InstanceMethod<&GraphIndexWrap::SetRerank>("setRerank"),
                                        InstanceMethod<&GraphIndexWrap::Slots>("slots"),
                                        InstanceMethod<&GraphIndexWrap::Neighbours>("neighbours"),
                                    }));
  addon_data(env).graph_index_ctor = Napi::Persistent(ctor);
  return ctor;
}

Napi::Value GraphIndexWrap::Wrap(Napi::Env env, std::shared_ptr<GraphIndex> index) {
  return wrap_existing(env, addon_data(env).graph_index_ctor, std::move(index));
}

namespace {

constexpr double kMaxEf = static_cast<double>(semvec::kMaxEf);
// rerank travels as a count, or as kAutoRerank (one past the largest) for 'auto'.
constexpr double kRerankArgMax = static_cast<double>(semvec::kAutoRerank);

// search(queries, k, allow?, ef?, rerank?, nprobe?): undefined ef and
// rerank are the index's own; undefined nprobe is 0.
struct GraphSearchArgs : SearchArgs {
  semvec::GraphSearchParams params() const {
    semvec::GraphSearchParams p;
    p.ef = ef;
    p.rerank = rerank;
    p.nprobe = nprobe.value_or(0);
    p.allow = allow_data();
    p.n_allow = allow_size();
    return p;
  }
  std::optional<size_t> ef;
  std::optional<size_t> rerank;
  std::optional<size_t> nprobe;
};

GraphSearchArgs graph_search_args(const Napi::CallbackInfo& info, size_t dim, bool async) {
  GraphSearchArgs a;
  static_cast<SearchArgs&>(a) = search_args(info, dim, async);
  a.ef = optional_count_arg(info, 3, "ef", 1, kMaxEf);
  a.rerank = optional_count_arg(info, 4, "rerank", 0, kRerankArgMax);
  a.nprobe = optional_count_arg(info, 5, "nprobe", 0, kMaxEf);
  return a;
}

}  // namespace

// new GraphIndex(dim, metric, degree?, buildEf?, alpha?, ef?, rerank?,
// seed?): undefined settings are GraphParams' defaults.
GraphIndexWrap::GraphIndexWrap(const Napi::CallbackInfo& info) : IndexWrap(info) {
  if (index_) return;
  const semvec::GraphParams d;
  size_t dim = count_arg(info, 0, "dim", 1, semvec::kMaxDim);
  semvec::Metric metric = metric_arg(info, 1);
  semvec::GraphParams p;
  p.degree = optional_count_arg(info, 2, "degree", semvec::kMinGraphDegree, semvec::kMaxGraphDegree).value_or(d.degree);
  p.build_ef = optional_count_arg(info, 3, "buildEf", 1, kMaxEf).value_or(d.build_ef);
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    const double alpha = number_arg(info, 4, "alpha");
    if (!(alpha >= 1.0 && alpha <= 2.0))
      throw_error(info.Env(), "ERR_INVALID_ARGUMENT", "alpha must be a number from 1 to 2; received " + std::to_string(alpha));
    p.alpha = static_cast<float>(alpha);
  }
  p.ef = optional_count_arg(info, 5, "ef", 1, kMaxEf).value_or(d.ef);
  p.rerank = optional_count_arg(info, 6, "rerank", 0, kRerankArgMax).value_or(d.rerank);
  p.seed = optional_count_arg(info, 7, "seed", 0, kMaxSafeInteger).value_or(d.seed);
  index_ = guard(info.Env(), [&] { return std::make_shared<GraphIndex>(dim, metric, p); });
}

// search(queries, k, allow?, ef?, rerank?, nprobe?) -> { k, nq, ids, scores, counts }
Napi::Value GraphIndexWrap::Search(const Napi::CallbackInfo& info) { return SearchOn(info, false); }

Napi::Value GraphIndexWrap::SearchAsync(const Napi::CallbackInfo& info) { return SearchOn(info, true); }

Napi::Value GraphIndexWrap::SearchOn(const Napi::CallbackInfo& info, bool async) {
  GraphSearchArgs a = graph_search_args(info, index_->dim(), async);
  return index_search(info, index_, async, [a](const GraphIndex& index) {
    return index.search(a.queries.data, a.nq, a.k, a.params());
  });
}

// info() -> { dim, metric, degree, buildEf, alpha, seed }: fixed at construction.
Napi::Value GraphIndexWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = BaseInfo(env);
  const semvec::GraphParams& p = index_->params();
  o.Set("degree", Napi::Number::New(env, static_cast<double>(p.degree)));
  o.Set("buildEf", Napi::Number::New(env, static_cast<double>(p.build_ef)));
  o.Set("alpha", Napi::Number::New(env, alpha_to_js(p.alpha)));
  o.Set("seed", Napi::Number::New(env, static_cast<double>(p.seed)));
  return o;
}

Napi::Value GraphIndexWrap::Ef(const Napi::CallbackInfo& info) { return count(info, index_->ef()); }

Napi::Value GraphIndexWrap::Rerank(const Napi::CallbackInfo& info) { return count(info, index_->rerank()); }

Napi::Value GraphIndexWrap::Slots(const Napi::CallbackInfo& info) { return count(info, index_->slots()); }

Napi::Value GraphIndexWrap::SetEf(const Napi::CallbackInfo& info) {
  size_t ef = count_arg(info, 0, "ef", 1, kMaxEf);
  guard(info.Env(), [&] { index_->set_ef(ef); });
  return info.Env().Undefined();
}

Napi::Value GraphIndexWrap::SetRerank(const Napi::CallbackInfo& info) {
  size_t rerank = count_arg(info, 0, "rerank", 0, kRerankArgMax);
  guard(info.Env(), [&] { index_->set_rerank(rerank); });
  return info.Env().Undefined();
}

// neighbours(id) -> Float64Array of the live ids the node of `id` links to.
Napi::Value GraphIndexWrap::Neighbours(const Napi::CallbackInfo& info) {
  size_t id = count_arg(info, 0, "id", 0, kMaxSafeInteger);
  std::vector<uint64_t> ids = guard(info.Env(), [&] { return index_->neighbours(id); });
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) out[i] = static_cast<double>(ids[i]);
  return out;
}

}  // namespace semvec_binding
