// JavaScript class over semvec::IvfIndex.
#pragma once

#include <napi.h>

#include <memory>

#include "../core/ivf_index.h"
#include "index_wrap.h"

namespace semvec_binding {

class IvfIndexWrap : public IndexWrap<IvfIndexWrap, semvec::IvfIndex> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Value Wrap(Napi::Env env, std::shared_ptr<semvec::IvfIndex> index);

  explicit IvfIndexWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Train(const Napi::CallbackInfo& info);
  Napi::Value TrainAsync(const Napi::CallbackInfo& info);
  Napi::Value Search(const Napi::CallbackInfo& info);
  Napi::Value SearchAsync(const Napi::CallbackInfo& info);
  Napi::Value SearchOn(const Napi::CallbackInfo& info, bool async);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Nprobe(const Napi::CallbackInfo& info);
  Napi::Value SetNprobe(const Napi::CallbackInfo& info);
  Napi::Value Rerank(const Napi::CallbackInfo& info);
  Napi::Value SetRerank(const Napi::CallbackInfo& info);
  Napi::Value IsTrained(const Napi::CallbackInfo& info);
  Napi::Value ListSizes(const Napi::CallbackInfo& info);
  Napi::Value Centroids(const Napi::CallbackInfo& info);
  Napi::Value EmptyLike(const Napi::CallbackInfo& info);
};

}  // namespace semvec_binding
