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

// Codes widened to 16 bits and multiplied by pairs of query bytes (vpmaddwd):
// exact, unlike vpmaddubsw, which saturates.
void sq8_dots_avx2(const int8_t* q, const uint8_t* codes, size_t nb, size_t groups, int32_t* out) {
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* blk = codes + b * groups * 64;
    // acc[r]: vectors 4r..4r+3, two partial sums each.
    __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                      _mm256_setzero_si256()};
    for (size_t g = 0; g < groups; ++g) {
      const __m256i qq = _mm256_cvtepi8_epi16(_mm_set1_epi32(*reinterpret_cast<const int32_t*>(q + 4 * g)));
      for (int r = 0; r < 4; ++r) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + g * 64 + r * 16));
        acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(_mm256_cvtepu8_epi16(x), qq));
      }
    }
    // hadd gives [v0 v1 v4 v5 | v2 v3 v6 v7]; the permute restores the order.
    const __m256i lo = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[0], acc[1]), 0xD8);
    const __m256i hi = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[2], acc[3]), 0xD8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + b * kBlock), lo);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + b * kBlock + 8), hi);
  }
}

// u8 x s8 pairs (vpmaddubsw) cannot saturate here: |2 * 15 * 128| < 2^15.
void rq4_dots_avx2(const int8_t* q, const uint8_t* codes, size_t nb, size_t pairs, int32_t* out) {
  const int32_t* q4 = reinterpret_cast<const int32_t*>(q);
  const __m256i nib = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* blk = codes + b * pairs * 64;
    __m256i acc0 = _mm256_setzero_si256(), acc1 = acc0;  // vectors 0-7, 8-15
    for (size_t p = 0; p < pairs; ++p) {
      const __m256i qa = _mm256_set1_epi32(q4[2 * p]), qb = _mm256_set1_epi32(q4[2 * p + 1]);
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + p * 64));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + p * 64 + 32));
      const __m256i s0 = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(x0, nib), qa),
                                          _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(x0, 4), nib), qb));
      const __m256i s1 = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(x1, nib), qa),
                                          _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(x1, 4), nib), qb));
      acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(s0, ones));
      acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(s1, ones));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + b * kBlock), acc0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + b * kBlock + 8), acc1);
  }
}

// Bytes of x with their popcounts (a nibble lookup, vpshufb).
inline __m256i popcount_bytes(__m256i x) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2,
                                       2, 3, 2, 3, 3, 4);
  const __m256i nib = _mm256_set1_epi8(0x0F);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, nib)),
                         _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib)));
}

// Per word, the four planes' byte counts are weighted in bytes (at most
// 8 * 15 = 120 each) before one vpsadbw sums them per vector.
void rq1_dots_avx2(const uint64_t* planes, const uint64_t* codes, size_t nb, size_t words, int32_t* out) {
  for (size_t b = 0; b < nb; ++b) {
    const uint64_t* blk = codes + b * words * kBlock;
    __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                      _mm256_setzero_si256()};
    for (size_t w = 0; w < words; ++w) {
      const __m256i p0 = _mm256_set1_epi64x(static_cast<long long>(planes[w]));
      const __m256i p1 = _mm256_set1_epi64x(static_cast<long long>(planes[words + w]));
      const __m256i p2 = _mm256_set1_epi64x(static_cast<long long>(planes[2 * words + w]));
      const __m256i p3 = _mm256_set1_epi64x(static_cast<long long>(planes[3 * words + w]));
      for (int r = 0; r < 4; ++r) {
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + w * kBlock + 4 * r));
        __m256i t = popcount_bytes(_mm256_and_si256(x, p3));
        t = _mm256_add_epi8(_mm256_add_epi8(t, t), popcount_bytes(_mm256_and_si256(x, p2)));
        t = _mm256_add_epi8(_mm256_add_epi8(t, t), popcount_bytes(_mm256_and_si256(x, p1)));
        t = _mm256_add_epi8(_mm256_add_epi8(t, t), popcount_bytes(_mm256_and_si256(x, p0)));
        acc[r] = _mm256_add_epi64(acc[r], _mm256_sad_epu8(t, _mm256_setzero_si256()));
      }
    }
    alignas(32) uint64_t sums[kBlock];
    for (int r = 0; r < 4; ++r) _mm256_store_si256(reinterpret_cast<__m256i*>(sums + 4 * r), acc[r]);
    for (size_t l = 0; l < kBlock; ++l) out[b * kBlock + l] = static_cast<int32_t>(sums[l]);
  }
}

}  // namespace

const Kernels kAvx2Kernels = {
    SimdLevel::Avx2,      inner_product_simd, l2sqr_simd, scores_packed_simd,
    select_at_least_avx2, sq8_dots_avx2, rq4_dots_avx2, rq1_dots_avx2,
};

}  // namespace semvec
