#include "flat_index_wrap.h"

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "index_methods.h"
#include "workers.h"

namespace semvec_binding {

using semvec::FlatIndex;
using semvec::SearchResults;

Napi::Function FlatIndexWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "NativeFlatIndex",
                                    CommonMethods({
                                        InstanceMethod<&FlatIndexWrap::Search>("search"),
                                        InstanceMethod<&FlatIndexWrap::SearchAsync>("searchAsync"),
                                        InstanceMethod<&FlatIndexWrap::Info>("info"),
                                    }));
  addon_data(env).flat_index_ctor = Napi::Persistent(ctor);
  return ctor;
}

Napi::Value FlatIndexWrap::Wrap(Napi::Env env, std::shared_ptr<FlatIndex> index) {
  return wrap_existing(env, addon_data(env).flat_index_ctor, std::move(index));
}

FlatIndexWrap::FlatIndexWrap(const Napi::CallbackInfo& info) : IndexWrap(info) {
  if (index_) return;
  size_t dim = count_arg(info, 0, "dim", 1, semvec::kMaxDim);
  semvec::Metric metric = metric_arg(info, 1);
  index_ = guard(info.Env(), [&] { return std::make_shared<FlatIndex>(dim, metric); });
}

// search(queries: Float32Array, k: number, allow?: Float64Array) -> { k, nq, ids, scores }
Napi::Value FlatIndexWrap::Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View q = f32_arg(info, 0, "queries");
  size_t nq = rows_of(env, q, index_->dim(), "queries");
  size_t k = count_arg(info, 1, "k", 1, static_cast<double>(semvec::kMaxK));
  auto allow = allow_arg(info, 2);
  SearchResults r = guard(env, [&] { return index_->search(q.data, nq, k, allow_data(allow), allow_size(allow)); });
  return results_to_js(env, r);
}

Napi::Value FlatIndexWrap::SearchAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View q = f32_arg(info, 0, "queries");
  size_t nq = rows_of(env, q, index_->dim(), "queries");
  size_t k = count_arg(info, 1, "k", 1, static_cast<double>(semvec::kMaxK));
  auto allow = allow_arg(info, 2);
  auto index = index_;
  auto out = std::make_shared<SearchResults>();
  return PromiseWorker::Start(
      env, [index, q, nq, k, allow, out] { *out = index->search(q.data, nq, k, allow_data(allow), allow_size(allow)); },
      [out](Napi::Env e) { return results_to_js(e, *out); }, {info[0]});
}

Napi::Value FlatIndexWrap::Info(const Napi::CallbackInfo& info) { return BaseInfo(info.Env()); }

}  // namespace semvec_binding
