#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "distances.h"
#include "encoder_kernels.h"
#include "errors.h"

namespace semvec {

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::Scalar: return "scalar";
    case SimdLevel::Avx2: return "avx2";
    case SimdLevel::Avx512: return "avx512";
  }
  return "scalar";
}

CpuFeatures detect_cpu() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // libgcc checks XCR0, so these are false when the OS does not save the
  // wider registers.
  f.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  f.avx512 = f.avx2_fma && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl");
  f.avx512_vnni = f.avx512 && __builtin_cpu_supports("avx512vnni");
  // AVX-VNNI (CPUID leaf 7, subleaf 1, EAX bit 4) from cpuid itself: not
  // every compiler's __builtin_cpu_supports knows the name (clang 14 does
  // not). Its registers are the AVX2 ones, already checked above.
  unsigned a = 0, b = 0, c = 0, d = 0;
  f.avx_vnni = f.avx2_fma && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 4)) != 0;
#endif
  return f;
}

SimdLevel resolve_simd_level(const char* requested, const CpuFeatures& cpu) {
  SimdLevel best = cpu.avx512 ? SimdLevel::Avx512 : cpu.avx2_fma ? SimdLevel::Avx2 : SimdLevel::Scalar;
  if (requested == nullptr || requested[0] == '\0') return best;
  std::string r(requested);
  SimdLevel want;
  if (r == "scalar") {
    want = SimdLevel::Scalar;
  } else if (r == "avx2") {
    want = SimdLevel::Avx2;
  } else if (r == "avx512") {
    want = SimdLevel::Avx512;
  } else {
    throw Error(ErrorCode::Unsupported,
                "SEMVEC_SIMD must be one of scalar, avx2, avx512; received '" + r + "'");
  }
  if (static_cast<int>(want) > static_cast<int>(best)) {
    throw Error(ErrorCode::Unsupported,
                "SEMVEC_SIMD=" + r + " was requested but this CPU supports at most '" +
                    simd_level_name(best) + "'; unset SEMVEC_SIMD or choose a lower level");
  }
  return want;
}

const Kernels* kernels_for(SimdLevel level) {
  static const CpuFeatures cpu = detect_cpu();
  switch (level) {
    case SimdLevel::Scalar: return &kScalarKernels;
    case SimdLevel::Avx2: return cpu.avx2_fma ? &kAvx2Kernels : nullptr;
    case SimdLevel::Avx512:
      if (!cpu.avx512) return nullptr;
      return cpu.avx512_vnni ? &kAvx512VnniKernels : &kAvx512Kernels;
  }
  return nullptr;
}

const Kernels& kernels() {
  static const Kernels* chosen =
      kernels_for(resolve_simd_level(std::getenv("SEMVEC_SIMD"), detect_cpu()));
  return *chosen;
}

const EncoderKernels* encoder_kernels_for(SimdLevel level) {
  static const CpuFeatures cpu = detect_cpu();
  switch (level) {
    case SimdLevel::Scalar: return &kScalarEncoderKernels;
    case SimdLevel::Avx2: return cpu.avx2_fma ? &kAvx2EncoderKernels : nullptr;
    case SimdLevel::Avx512:
      if (!cpu.avx512) return nullptr;
      return cpu.avx512_vnni ? &kAvx512VnniEncoderKernels : &kAvx512EncoderKernels;
  }
  return nullptr;
}

const EncoderKernels& encoder_kernels() {
  static const EncoderKernels* chosen = encoder_kernels_for(kernels().level);
  return *chosen;
}

}  // namespace semvec
