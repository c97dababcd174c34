// AVX2 + FMA probe kernels. Compiled with -mavx2 -mfma in this translation
// unit only.
#include <immintrin.h>

#include "probe_kernels.h"

namespace semvec_bench {
namespace {

struct V {
  using reg = __m256;
  static constexpr int W = 8;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static reg set1(float x) { return _mm256_set1_ps(x); }
  static reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static float reduce(reg v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

#include "probe_kernels_simd.inc"

}  // namespace

const ProbeKernels kAvx2Probes = {fma_probe_simd, read_probe_simd};

}  // namespace semvec_bench
