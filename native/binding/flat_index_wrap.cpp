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
Napi::Value FlatIndexWrap::Search(const Napi::CallbackInfo& info) { return SearchOn(info, false); }

Napi::Value FlatIndexWrap::SearchAsync(const Napi::CallbackInfo& info) { return SearchOn(info, true); }

Napi::Value FlatIndexWrap::SearchOn(const Napi::CallbackInfo& info, bool async) {
  SearchArgs a = search_args(info, index_->dim(), async);
  return index_search(info, index_, async, [a](const FlatIndex& index) {
    return index.search(a.queries.data, a.nq, a.k, a.allow_data(), a.allow_size());
  });
}

Napi::Value FlatIndexWrap::Info(const Napi::CallbackInfo& info) { return BaseInfo(info.Env()); }

}  // namespace semvec_binding
