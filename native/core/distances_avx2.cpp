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

inline int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

// Row-major codes: 16 components per step, widened to 16 bits (vpmaddwd);
// two rows at a time share the widened query. The tail (bytes % 16, a
// multiple of 4) is summed one component at a time.
void sq8_dots_rows_avx2(const int8_t* q, const uint8_t* const* rows, size_t m, size_t bytes, int32_t* out) {
  const size_t body = bytes / 16 * 16;
  auto tail = [&](const uint8_t* r) {
    int32_t acc = 0;
    for (size_t c = body; c < bytes; ++c) acc += int32_t(r[c]) * int32_t(q[c]);
    return acc;
  };
  size_t j = 0;
  for (; j + 2 <= m; j += 2) {
    const uint8_t* r0 = rows[j];
    const uint8_t* r1 = rows[j + 1];
    __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
    for (size_t c = 0; c < body; c += 16) {
      const __m256i qq = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + c)));
      a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + c))), qq));
      a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r1 + c))), qq));
    }
    out[j] = hsum_epi32(a0) + tail(r0);
    out[j + 1] = hsum_epi32(a1) + tail(r1);
  }
  for (; j < m; ++j) {
    const uint8_t* r0 = rows[j];
    __m256i a0 = _mm256_setzero_si256();
    for (size_t c = 0; c < body; c += 16) {
      const __m256i qq = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + c)));
      a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + c))), qq));
    }
    out[j] = hsum_epi32(a0) + tail(r0);
  }
}

}  // namespace

const Kernels kAvx2Kernels = {
    SimdLevel::Avx2,      inner_product_simd, l2sqr_simd, scores_packed_simd,
    select_at_least_avx2, sq8_dots_avx2, rq4_dots_avx2, rq1_dots_avx2, sq8_dots_rows_avx2,
};

}  // namespace semvec
