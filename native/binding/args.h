// Argument extraction for the binding. TypeScript validates every argument
// with precise messages first; these checks guard the native boundary so
// that a bad call can never reach the core with wrong sizes.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/io.h"
#include "../core/api_limits.h"
#include "errors.h"

namespace semvec_binding {

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

inline std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString())
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT", std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

constexpr double kMaxSafeId = static_cast<double>(semvec::kMaxId);  // 2^53 - 1, exact in a double

// Ids travel as a Float64Array of safe non-negative integers.
inline std::vector<uint64_t> ids_arg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT", "ids must be a Float64Array");
  Napi::Float64Array a = info[i].As<Napi::Float64Array>();
  std::vector<uint64_t> out(a.ElementLength());
  for (size_t j = 0; j < out.size(); ++j) {
    double v = a[j];
    if (!(v >= 0 && v <= kMaxSafeId) || std::floor(v) != v)
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

}  // namespace semvec_binding
