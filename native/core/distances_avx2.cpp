// AVX2 + FMA kernels. Compiled with -mavx2 -mfma in this translation unit
// only; reached only through the dispatch table when the CPU has them.
#include <immintrin.h>

#include "distances.h"

namespace semvec {
namespace {

struct V {
  using reg = __m256;
  static constexpr int W = 8;
  static constexpr int MR = 6;  // 6 rows x 2 registers = 12 accumulators of 16
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static reg load_tail(const float* p, size_t n) {
    alignas(32) static const int32_t ramp[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                                      _mm256_load_si256(reinterpret_cast<const __m256i*>(ramp)));
    return _mm256_maskload_ps(p, mask);
  }
  static reg set1(float x) { return _mm256_set1_ps(x); }
  static reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
  static void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
  static float reduce(reg v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

#include "kernels_simd.inc"

size_t select_at_least_avx2(const float* s, size_t n, float threshold, uint32_t* idx) {
  const __m256 t = _mm256_set1_ps(threshold);
  size_t count = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    unsigned m = static_cast<unsigned>(
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(s + i), t, _CMP_GE_OQ)));
    while (m) {
      idx[count++] = static_cast<uint32_t>(i + static_cast<size_t>(__builtin_ctz(m)));
      m &= m - 1;
    }
  }
  for (; i < n; ++i)
    if (s[i] >= threshold) idx[count++] = static_cast<uint32_t>(i);
  return count;
}

}  // namespace

const Kernels kAvx2Kernels = {
    SimdLevel::Avx2,      inner_product_simd, l2sqr_simd,    scores_packed_simd,
    select_at_least_avx2, fma_probe_simd,     read_probe_simd,
};

}  // namespace semvec
