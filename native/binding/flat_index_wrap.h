// JavaScript class over semvec::FlatIndex. The core index is held by a
// shared_ptr so async work keeps it alive even if the wrapper is collected.
#pragma once

#include <napi.h>

#include <memory>

#include "../core/flat_index.h"
#include "index_wrap.h"

namespace semvec_binding {

class FlatIndexWrap : public IndexWrap<FlatIndexWrap, semvec::FlatIndex> {
 public:
  static Napi::Function Define(Napi::Env env);
  // A new JS wrapper around an existing core index.
  static Napi::Value Wrap(Napi::Env env, std::shared_ptr<semvec::FlatIndex> index);

  explicit FlatIndexWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Search(const Napi::CallbackInfo& info);
  Napi::Value SearchAsync(const Napi::CallbackInfo& info);
  Napi::Value SearchOn(const Napi::CallbackInfo& info, bool async);
  Napi::Value Info(const Napi::CallbackInfo& info);
};

}  // namespace semvec_binding
