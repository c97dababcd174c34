// JavaScript class over semvec::IvfIndex.
#pragma once

#include <napi.h>

#include <memory>

#include "../core/ivf_index.h"

namespace semvec_binding {

class IvfIndexWrap : public Napi::ObjectWrap<IvfIndexWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Value Wrap(Napi::Env env, std::shared_ptr<semvec::IvfIndex> index);

  explicit IvfIndexWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Train(const Napi::CallbackInfo& info);
  Napi::Value TrainAsync(const Napi::CallbackInfo& info);
  Napi::Value Add(const Napi::CallbackInfo& info);
  Napi::Value AddAsync(const Napi::CallbackInfo& info);
  Napi::Value Search(const Napi::CallbackInfo& info);
  Napi::Value SearchAsync(const Napi::CallbackInfo& info);
  Napi::Value Remove(const Napi::CallbackInfo& info);
  Napi::Value Contains(const Napi::CallbackInfo& info);
  Napi::Value Get(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value SetNprobe(const Napi::CallbackInfo& info);
  Napi::Value ListSizes(const Napi::CallbackInfo& info);
  Napi::Value Centroids(const Napi::CallbackInfo& info);
  Napi::Value Save(const Napi::CallbackInfo& info);
  Napi::Value SaveAsync(const Napi::CallbackInfo& info);
  Napi::Value Serialize(const Napi::CallbackInfo& info);

  std::shared_ptr<semvec::IvfIndex> index_;
};

}  // namespace semvec_binding
