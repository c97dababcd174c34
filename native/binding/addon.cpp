// Registers the addon: module functions and the index classes.
#include <napi.h>

#include <cstdint>
#include <memory>

#include "../core/distances.h"
#include "../core/file_lock.h"
#include "../core/similarity_matrix.h"
#include "../core/thread_pool.h"
#include "../core/vectors.h"
#include "addon.h"
#include "args.h"
#include "constants.h"
#include "encoder_wrap.h"
#include "errors.h"
#include "flat_index_wrap.h"
#include "graph_index_wrap.h"
#include "ivf_index_wrap.h"
#include "kmeans_binding.h"
#include "../core/ivf_index.h"

namespace semvec_binding {
namespace {

// The SIMD level searches use; the first call resolves it (SEMVEC_SIMD):
// an invalid choice is ERR_UNSUPPORTED here, and src/native.ts makes this
// call before any other.
Napi::Value SimdLevel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), guard(info.Env(), [] { return semvec::simd_level_name(semvec::kernels().level); }));
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(),
                           static_cast<double>(semvec::ThreadPool::global().threads()));
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  size_t n = count_arg(info, 0, "threads", 0, 1024);
  semvec::ThreadPool::global().set_threads(n == 0 ? semvec::hardware_threads() : n);
  return info.Env().Undefined();
}

Napi::Value HardwareThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(semvec::hardware_threads()));
}

// What the CPU offers beyond the SIMD level in use (the embedder picks an
// int8 model for CPUs with VNNI). Independent of SEMVEC_SIMD.
Napi::Value CpuFeatures(const Napi::CallbackInfo& info) {
  const semvec::CpuFeatures cpu = semvec::detect_cpu();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("avx2", cpu.avx2_fma);
  out.Set("avx512", cpu.avx512);
  out.Set("avx512Vnni", cpu.avx512_vnni);
  out.Set("avxVnni", cpu.avx_vnni);
  return out;
}

Napi::Value SetErrorFactory(const Napi::CallbackInfo& info) {
  set_error_factory(info);
  return info.Env().Undefined();
}

// normalize(x: Float32Array, dim, out: Float32Array) -> number of zero vectors
Napi::Value Normalize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View x = f32_arg(info, 0, "vectors");
  size_t dim = count_arg(info, 1, "dim", 1, semvec::kMaxDim);
  size_t n = rows_of(env, x, dim, "vectors");
  F32View out = f32_arg(info, 2, "out");
  if (out.length != x.length)
    throw_error(env, "ERR_INVALID_ARGUMENT", "out must have the same length as vectors");
  size_t zeros = guard(env, [&] {
    semvec::check_finite(x.data, n, dim, "vectors");
    return semvec::fvec_normalized_L2(x.data, n, dim, const_cast<float*>(out.data));
  });
  return Napi::Number::New(env, static_cast<double>(zeros));
}

Napi::Value SuggestNlist(const Napi::CallbackInfo& info) {
  size_t n = count_arg(info, 0, "n", 0, 1e15);
  return Napi::Number::New(info.Env(), static_cast<double>(semvec::suggest_nlist(n)));
}

// similarityMatrix(a, b, dim, metric) -> Float32Array(na * nb): inner
// products, cosine similarities or squared L2 distances of every pair.
Napi::Value SimilarityMatrix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View a = f32_arg(info, 0, "a");
  F32View b = f32_arg(info, 1, "b");
  size_t dim = count_arg(info, 2, "dim", 1, semvec::kMaxDim);
  semvec::Metric metric = metric_arg(info, 3);
  size_t na = rows_of(env, a, dim, "a"), nb = rows_of(env, b, dim, "b");
  if (na != 0 && nb > kMaxArrayLength / na)
    throw_error(env, "ERR_INVALID_ARGUMENT",
                "a similarity matrix of " + std::to_string(na) + " x " + std::to_string(nb) + " = " +
                    (nb <= SIZE_MAX / na ? std::to_string(na * nb) : "over 2^64") +
                    " values is more than a Float32Array holds (" + std::to_string(kMaxArrayLength) +
                    "); split a into batches of at most " + std::to_string(kMaxArrayLength / nb) + " rows");
  if (na == 0 || nb == 0) return Napi::Float32Array::New(env, 0);
  // Allocated here (std::bad_alloc: ERR_OUT_OF_MEMORY) and handed to
  // JavaScript without a copy.
  return guard(env, [&] {
    std::unique_ptr<float[]> out(new float[na * nb]);
    semvec::similarity_matrix(a.data, na, b.data, nb, dim, metric, out.get());
    return owned_f32_array(env, std::move(out), na * nb);
  });
}

// tryLockFile(path, exclusive) -> descriptor holding the lock, or -1 when
// another holder conflicts.
Napi::Value TryLockFile(const Napi::CallbackInfo& info) {
  std::string path = string_arg(info, 0, "path");
  if (info.Length() < 2 || !info[1].IsBoolean())
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT", "exclusive must be a boolean");
  bool exclusive = info[1].As<Napi::Boolean>().Value();
  int fd = guard(info.Env(), [&] { return semvec::FileLock::try_lock(path, exclusive); });
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value UnlockFile(const Napi::CallbackInfo& info) {
  size_t fd = count_arg(info, 0, "fd", 0, 1 << 30);
  semvec::FileLock::unlock(static_cast<int>(fd));
  return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  // Loading never fails on SEMVEC_SIMD, so that the constants below can be
  // read at import: simdLevel() resolves it.
  exports.Set("constants", constants_object(env));
  exports.Set("simdLevel", Napi::Function::New<SimdLevel>(env, "simdLevel"));
  exports.Set("getThreads", Napi::Function::New<GetThreads>(env, "getThreads"));
  exports.Set("setThreads", Napi::Function::New<SetThreads>(env, "setThreads"));
  exports.Set("hardwareThreads", Napi::Function::New<HardwareThreads>(env, "hardwareThreads"));
  exports.Set("cpuFeatures", Napi::Function::New<CpuFeatures>(env, "cpuFeatures"));
  exports.Set("setErrorFactory", Napi::Function::New<SetErrorFactory>(env, "setErrorFactory"));
  exports.Set("normalize", Napi::Function::New<Normalize>(env, "normalize"));
  exports.Set("similarityMatrix", Napi::Function::New<SimilarityMatrix>(env, "similarityMatrix"));
  exports.Set("suggestNlist", Napi::Function::New<SuggestNlist>(env, "suggestNlist"));
  exports.Set("tryLockFile", Napi::Function::New<TryLockFile>(env, "tryLockFile"));
  exports.Set("unlockFile", Napi::Function::New<UnlockFile>(env, "unlockFile"));
  exports.Set("kmeans", Napi::Function::New<KMeans>(env, "kmeans"));
  exports.Set("kmeansAsync", Napi::Function::New<KMeansAsync>(env, "kmeansAsync"));
  exports.Set("FlatIndex", FlatIndexWrap::Define(env));
  exports.Set("IvfIndex", IvfIndexWrap::Define(env));
  exports.Set("GraphIndex", GraphIndexWrap::Define(env));
  exports.Set("Encoder", EncoderWrap::Define(env));
  return exports;
}

}  // namespace semvec_binding

static Napi::Object InitSemvec(Napi::Env env, Napi::Object exports) {
  return semvec_binding::Init(env, exports);
}

NODE_API_MODULE(semvec, InitSemvec)
