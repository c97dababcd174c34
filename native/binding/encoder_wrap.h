// JavaScript class over semvec::Encoder (addon export `Encoder`). The core
// encoder is held by a shared_ptr: async work keeps it alive, so release()
// while an encodeAsync call runs is safe.
#pragma once

#include <napi.h>

#include <memory>

#include "../core/encoder.h"

namespace semvec_binding {

class EncoderWrap : public Napi::ObjectWrap<EncoderWrap> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new Encoder(spec, threads?)
  explicit EncoderWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value EncodeAsync(const Napi::CallbackInfo& info);
  Napi::Value Hidden(const Napi::CallbackInfo& info);
  Napi::Value Layers(const Napi::CallbackInfo& info);
  Napi::Value MaxPositions(const Napi::CallbackInfo& info);
  Napi::Value Vocab(const Napi::CallbackInfo& info);
  Napi::Value MemoryUsage(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  const std::shared_ptr<semvec::Encoder>& live(Napi::Env env) const;

  std::shared_ptr<semvec::Encoder> encoder_;
  // Fixed at construction, readable after release().
  size_t hidden_ = 0, layers_ = 0, max_positions_ = 0, vocab_ = 0;
};

}  // namespace semvec_binding
