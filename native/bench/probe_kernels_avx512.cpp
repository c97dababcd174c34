// AVX-512 probe kernels. Compiled with -mavx512* -mfma in this translation
// unit only.
// GCC 12 warns falsely about _mm256_undefined_pd inside its own headers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "probe_kernels.h"

namespace semvec_bench {
namespace {

struct V {
  using reg = __m512;
  static constexpr int W = 16;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static reg set1(float x) { return _mm512_set1_ps(x); }
  static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static float reduce(reg v) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

#include "probe_kernels_simd.inc"

}  // namespace

const ProbeKernels kAvx512Probes = {fma_probe_simd, read_probe_simd};

}  // namespace semvec_bench
