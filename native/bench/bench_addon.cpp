// semvec_bench.node: the machine probes of the repository's benchmarks
// (bench/lib/machine.ts loads it). Built beside the addon in a source
// checkout only; the addon itself ships no benchmark code.
#include <napi.h>

#include <cmath>
#include <exception>
#include <string>

#include "errors.h"
#include "probes.h"

namespace semvec_bench {
namespace {

// Argument i: an integer in min..max.
double integer_arg(const Napi::CallbackInfo& info, size_t i, const char* name, double min, double max) {
  const bool number = info.Length() > i && info[i].IsNumber();
  const double v = number ? info[i].As<Napi::Number>().DoubleValue() : NAN;
  if (!(v >= min && v <= max) || std::floor(v) != v)
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be an integer from " +
                                                std::to_string(static_cast<long long>(min)) + " to " +
                                                std::to_string(static_cast<long long>(max)));
  return v;
}

// Runs fn; a core error (an invalid SEMVEC_SIMD) becomes a JavaScript error
// with its code.
template <typename F>
Napi::Value run(Napi::Env env, F&& fn) {
  try {
    return Napi::Number::New(env, fn());
  } catch (const semvec::Error& e) {
    Napi::Error err = Napi::Error::New(env, e.what());
    err.Set("code", Napi::String::New(env, e.code_name()));
    throw err;
  }
}

// probeFmaGflops(threads, seconds) -> GFLOP/s
Napi::Value ProbeFma(const Napi::CallbackInfo& info) {
  const size_t threads = static_cast<size_t>(integer_arg(info, 0, "threads", 1, 1024));
  if (info.Length() < 2 || !info[1].IsNumber() || !(info[1].As<Napi::Number>().DoubleValue() > 0))
    throw Napi::RangeError::New(info.Env(), "seconds must be a positive number");
  const double seconds = info[1].As<Napi::Number>().DoubleValue();
  return run(info.Env(), [&] { return probe_fma_gflops(threads, seconds); });
}

// probeReadGbps(threads, bytes, repeats) -> GB/s
Napi::Value ProbeRead(const Napi::CallbackInfo& info) {
  const size_t threads = static_cast<size_t>(integer_arg(info, 0, "threads", 1, 1024));
  const size_t bytes = static_cast<size_t>(integer_arg(info, 1, "bytes", 1 << 20, 1e12));
  const int repeats = static_cast<int>(integer_arg(info, 2, "repeats", 1, 1000));
  return run(info.Env(), [&] { return probe_read_gbps(threads, bytes, repeats); });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("probeFmaGflops", Napi::Function::New<ProbeFma>(env, "probeFmaGflops"));
  exports.Set("probeReadGbps", Napi::Function::New<ProbeRead>(env, "probeReadGbps"));
  return exports;
}

}  // namespace
}  // namespace semvec_bench

static Napi::Object InitBench(Napi::Env env, Napi::Object exports) { return semvec_bench::Init(env, exports); }

NODE_API_MODULE(semvec_bench, InitBench)
