// JavaScript class over semvec::GraphIndex.
#pragma once

#include <napi.h>

#include <memory>

#include "../core/graph_index.h"
#include "index_wrap.h"

namespace semvec_binding {

class GraphIndexWrap : public IndexWrap<GraphIndexWrap, semvec::GraphIndex> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Value Wrap(Napi::Env env, std::shared_ptr<semvec::GraphIndex> index);

  explicit GraphIndexWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Search(const Napi::CallbackInfo& info);
  Napi::Value SearchAsync(const Napi::CallbackInfo& info);
  Napi::Value SearchOn(const Napi::CallbackInfo& info, bool async);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Ef(const Napi::CallbackInfo& info);
  Napi::Value SetEf(const Napi::CallbackInfo& info);
  Napi::Value Rerank(const Napi::CallbackInfo& info);
  Napi::Value SetRerank(const Napi::CallbackInfo& info);
  Napi::Value Slots(const Napi::CallbackInfo& info);
  Napi::Value Neighbours(const Napi::CallbackInfo& info);
};

}  // namespace semvec_binding
