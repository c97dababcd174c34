// Argument extraction for the binding. TypeScript validates every argument
// with precise messages first; these checks guard the native boundary so
// that a bad call can never reach the core with wrong sizes.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../core/api_limits.h"
#include "../core/metric.h"
#include "errors.h"

namespace semvec_binding {

// Values in the largest typed array the addon returns (V8 allows 2^32 on
// 64-bit systems). Exported to TypeScript as constants.limits.maxArrayLength.
constexpr size_t kMaxArrayLength = 0xFFFFFFFFu;

// A Float32Array of n values that owns `data` (no copy): freed when
// JavaScript collects it.
inline Napi::Float32Array owned_f32_array(Napi::Env env, std::unique_ptr<float[]> data, size_t n) {
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, data.get(), n * sizeof(float), [](Napi::Env, void* p) { delete[] static_cast<float*>(p); });
  data.release();  // owned by the buffer now
  return Napi::Float32Array::New(env, n, buffer, 0);
}

struct F32View {
  const float* data = nullptr;
  size_t length = 0;
};

inline F32View f32_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT", std::string(name) + " must be a Float32Array");
  Napi::Float32Array a = info[i].As<Napi::Float32Array>();
  return {a.Data(), a.ElementLength()};
}

// A Float32Array read by async work after the call has returned: its
// buffer must not be able to change size. A view of a resizable ArrayBuffer
// or a growable SharedArrayBuffer could shrink (its pages unmapped) under
// the worker thread. N-API has no call that tells: the buffer's own
// `resizable` / `growable` getters are read (TypeScript checks the same
// first, with the same message).
inline F32View f32_arg_fixed(const Napi::CallbackInfo& info, size_t i, const char* name) {
  F32View v = f32_arg(info, i, name);
  Napi::Object buffer = info[i].As<Napi::TypedArray>().ArrayBuffer();
  auto is = [&](const char* key) {
    Napi::Value flag = buffer.Get(key);
    return flag.IsBoolean() && flag.As<Napi::Boolean>().Value();
  };
  if (is("resizable") || is("growable"))
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT",
                std::string(name) + " is a Float32Array over a " +
                    (is("resizable") ? "resizable ArrayBuffer" : "growable SharedArrayBuffer") +
                    ", which could shrink while async work reads it; pass a copy (new Float32Array(" +
                    name + ")) or use the synchronous method");
  return v;
}

// A vector set: a Float32Array whose length is a positive multiple of dim.
inline size_t rows_of(Napi::Env env, const F32View& v, size_t dim, const char* name) {
  if (v.length % dim != 0)
    throw_error(env, "ERR_DIMENSION_MISMATCH",
                std::string(name) + " length " + std::to_string(v.length) +
                    " is not a multiple of dim " + std::to_string(dim));
  return v.length / dim;
}

inline double number_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber())
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT", std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

inline size_t count_arg(const Napi::CallbackInfo& info, size_t i, const char* name, double min,
                        double max) {
  double v = number_arg(info, i, name);
  if (!(v >= min && v <= max) || std::floor(v) != v)
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT",
                std::string(name) + " must be an integer in " + std::to_string(size_t(min)) +
                    ".." + std::to_string(size_t(max)));
  return static_cast<size_t>(v);
}

// An optional count at argument i: std::nullopt when undefined (or absent).
inline std::optional<size_t> optional_count_arg(const Napi::CallbackInfo& info, size_t i, const char* name,
                                                double min, double max) {
  if (info.Length() <= i || info[i].IsUndefined()) return std::nullopt;
  return count_arg(info, i, name, min, max);
}

inline std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString())
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT", std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

inline bool bool_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsBoolean())
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT", std::string(name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

// Number.MAX_SAFE_INTEGER (2^53 - 1): ids and counts travel as JavaScript
// numbers. The largest id, and the largest k a search takes (the core
// clamps k to the candidates, so a larger k means "all of them").
constexpr double kMaxSafeInteger = 9007199254740991.0;
static_assert(kMaxSafeInteger == static_cast<double>(semvec::kMaxId), "ids are safe integers");

// k of a search at argument i: 1 .. 2^53 - 1 (TypeScript clamps larger ones).
inline size_t k_arg(const Napi::CallbackInfo& info, size_t i) { return count_arg(info, i, "k", 1, static_cast<double>(semvec::kMaxK)); }

// Ids travel as a Float64Array of safe non-negative integers.
inline std::vector<uint64_t> ids_arg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT", "ids must be a Float64Array");
  Napi::Float64Array a = info[i].As<Napi::Float64Array>();
  std::vector<uint64_t> out(a.ElementLength());
  for (size_t j = 0; j < out.size(); ++j) {
    double v = a[j];
    if (!(v >= 0 && v <= kMaxSafeInteger) || std::floor(v) != v)
      throw_error(info.Env(), "ERR_INVALID_ARGUMENT",
                  "ids must be integers in 0..2^53-1; received " + std::to_string(v) +
                      " at position " + std::to_string(j));
    out[j] = static_cast<uint64_t>(v);
  }
  return out;
}

inline semvec::Metric metric_arg(const Napi::CallbackInfo& info, size_t i) {
  std::string m = string_arg(info, i, "metric");
  if (m == "ip") return semvec::Metric::InnerProduct;
  if (m == "cosine") return semvec::Metric::Cosine;
  if (m == "l2") return semvec::Metric::L2;
  throw_error(info.Env(), "ERR_INVALID_ARGUMENT",
              "metric must be 'ip', 'cosine' or 'l2'; received '" + m + "'");
}

// A graph index's alpha (a float) as the decimal it was given: 1.2, not
// 1.2000000476837158 (alpha is 1..2, so six decimals hold every float
// the API takes from a decimal of up to six places).
inline double alpha_to_js(float alpha) { return std::nearbyint(static_cast<double>(alpha) * 1e6) / 1e6; }

}  // namespace semvec_binding
