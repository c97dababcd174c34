// AVX-512 kernels (F, BW, DQ, VL). Compiled with -mavx512* -mfma in this
// translation unit only; reached only through the dispatch table when the
// CPU has these instructions.
// GCC 12 warns falsely about _mm256_undefined_pd inside its own headers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

#include "distances.h"

namespace semvec {
namespace {

struct V {
  using reg = __m512;
  static constexpr int W = 16;
  static constexpr int MR = 12;  // 12 rows x 2 registers = 24 accumulators of 32
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static reg load_tail(const float* p, size_t n) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1u), p);
  }
  static reg set1(float x) { return _mm512_set1_ps(x); }
  static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
  static void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
  static float reduce(reg v) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

#include "kernels_simd.inc"

size_t select_at_least_avx512(const float* s, size_t n, float threshold, uint32_t* idx) {
  const __m512 t = _mm512_set1_ps(threshold);
  __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i step = _mm512_set1_epi32(16);
  size_t count = 0, i = 0;
  for (; i + 16 <= n; i += 16) {
    __mmask16 m = _mm512_cmp_ps_mask(_mm512_loadu_ps(s + i), t, _CMP_GE_OQ);
    if (m) {
      _mm512_mask_compressstoreu_epi32(idx + count, m, lanes);
      count += static_cast<size_t>(__builtin_popcount(m));
    }
    lanes = _mm512_add_epi32(lanes, step);
  }
  for (; i < n; ++i)
    if (s[i] >= threshold) idx[count++] = static_cast<uint32_t>(i);
  return count;
}

// Without VNNI: codes widened to 16 bits, pairs of query bytes (vpmaddwd).
void sq8_dots_avx512(const int8_t* q, const uint8_t* codes, size_t nb, size_t groups, int32_t* out) {
  // Partial sums come out as [v0a v0b v1a v1b ...]: even and odd lanes of
  // lo (vectors 0-7) and hi (8-15), gathered in vector order.
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* blk = codes + b * groups * 64;
    __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
    for (size_t g = 0; g < groups; ++g) {
      const __m512i qq = _mm512_cvtepi8_epi16(_mm256_set1_epi32(*reinterpret_cast<const int32_t*>(q + 4 * g)));
      const __m256i* p = reinterpret_cast<const __m256i*>(blk + g * 64);
      lo = _mm512_add_epi32(lo, _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm256_loadu_si256(p)), qq));
      hi = _mm512_add_epi32(hi, _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm256_loadu_si256(p + 1)), qq));
    }
    const __m512i sum = _mm512_add_epi32(_mm512_permutex2var_epi32(lo, even, hi),
                                         _mm512_permutex2var_epi32(lo, odd, hi));
    _mm512_storeu_si512(out + b * kBlock, sum);
  }
}

// VNNI: one vpdpbusd per 4 components of 16 vectors. Two blocks at a time,
// four accumulators each, so that eight chains hide the instruction's
// latency and each broadcast serves both: where the codes are in cache
// (a graph partition scoring 3,906 centroids against chunks of 64 codes,
// 1M x 384) the scoring took 4.8-5.1 s against 5.5-6.3 s one block at a
// time.
__attribute__((target("avx512vnni"))) void sq8_dots_vnni(const int8_t* q, const uint8_t* codes,
                                                          size_t nb, size_t groups, int32_t* out) {
  const int32_t* q4 = reinterpret_cast<const int32_t*>(q);
  size_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const uint8_t* x = codes + b * groups * 64;
    const uint8_t* y = x + groups * 64;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
    size_t g = 0;
    for (; g + 4 <= groups; g += 4) {
      const __m512i q0 = _mm512_set1_epi32(q4[g]), q1 = _mm512_set1_epi32(q4[g + 1]);
      const __m512i q2 = _mm512_set1_epi32(q4[g + 2]), q3 = _mm512_set1_epi32(q4[g + 3]);
      a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(x + g * 64), q0);
      c0 = _mm512_dpbusd_epi32(c0, _mm512_loadu_si512(y + g * 64), q0);
      a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(x + g * 64 + 64), q1);
      c1 = _mm512_dpbusd_epi32(c1, _mm512_loadu_si512(y + g * 64 + 64), q1);
      a2 = _mm512_dpbusd_epi32(a2, _mm512_loadu_si512(x + g * 64 + 128), q2);
      c2 = _mm512_dpbusd_epi32(c2, _mm512_loadu_si512(y + g * 64 + 128), q2);
      a3 = _mm512_dpbusd_epi32(a3, _mm512_loadu_si512(x + g * 64 + 192), q3);
      c3 = _mm512_dpbusd_epi32(c3, _mm512_loadu_si512(y + g * 64 + 192), q3);
    }
    for (; g < groups; ++g) {
      const __m512i q0 = _mm512_set1_epi32(q4[g]);
      a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(x + g * 64), q0);
      c0 = _mm512_dpbusd_epi32(c0, _mm512_loadu_si512(y + g * 64), q0);
    }
    _mm512_storeu_si512(out + b * kBlock, _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)));
    _mm512_storeu_si512(out + (b + 1) * kBlock, _mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)));
  }
  for (; b < nb; ++b) {
    const uint8_t* blk = codes + b * groups * 64;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t g = 0;
    for (; g + 4 <= groups; g += 4) {
      a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(blk + g * 64), _mm512_set1_epi32(q4[g]));
      a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(blk + g * 64 + 64), _mm512_set1_epi32(q4[g + 1]));
      a2 = _mm512_dpbusd_epi32(a2, _mm512_loadu_si512(blk + g * 64 + 128), _mm512_set1_epi32(q4[g + 2]));
      a3 = _mm512_dpbusd_epi32(a3, _mm512_loadu_si512(blk + g * 64 + 192), _mm512_set1_epi32(q4[g + 3]));
    }
    for (; g < groups; ++g)
      a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(blk + g * 64), _mm512_set1_epi32(q4[g]));
    _mm512_storeu_si512(out + b * kBlock,
                        _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)));
  }
}

// u8 x s8 pairs (vpmaddubsw) cannot saturate here: |2 * 15 * 128| < 2^15.
void rq4_dots_avx512(const int8_t* q, const uint8_t* codes, size_t nb, size_t pairs, int32_t* out) {
  const int32_t* q4 = reinterpret_cast<const int32_t*>(q);
  const __m512i nib = _mm512_set1_epi8(0x0F), ones = _mm512_set1_epi16(1);
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* blk = codes + b * pairs * 64;
    __m512i acc = _mm512_setzero_si512();
    for (size_t p = 0; p < pairs; ++p) {
      const __m512i x = _mm512_loadu_si512(blk + p * 64);
      const __m512i s = _mm512_add_epi16(
          _mm512_maddubs_epi16(_mm512_and_si512(x, nib), _mm512_set1_epi32(q4[2 * p])),
          _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(x, 4), nib), _mm512_set1_epi32(q4[2 * p + 1])));
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(s, ones));
    }
    _mm512_storeu_si512(out + b * kBlock, acc);
  }
}

// VNNI: two vpdpbusd per 8 components of 16 vectors, two accumulators.
__attribute__((target("avx512vnni"))) void rq4_dots_vnni(const int8_t* q, const uint8_t* codes, size_t nb,
                                                          size_t pairs, int32_t* out) {
  const int32_t* q4 = reinterpret_cast<const int32_t*>(q);
  const __m512i nib = _mm512_set1_epi8(0x0F);
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* blk = codes + b * pairs * 64;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0;
    for (size_t p = 0; p < pairs; ++p) {
      const __m512i x = _mm512_loadu_si512(blk + p * 64);
      a0 = _mm512_dpbusd_epi32(a0, _mm512_and_si512(x, nib), _mm512_set1_epi32(q4[2 * p]));
      a1 = _mm512_dpbusd_epi32(a1, _mm512_and_si512(_mm512_srli_epi16(x, 4), nib), _mm512_set1_epi32(q4[2 * p + 1]));
    }
    _mm512_storeu_si512(out + b * kBlock, _mm512_add_epi32(a0, a1));
  }
}

// Bytes of x with their popcounts (a nibble lookup, vpshufb).
inline __m512i popcount_bytes(__m512i x) {
  const __m512i lut = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4));
  const __m512i nib = _mm512_set1_epi8(0x0F);
  return _mm512_add_epi8(_mm512_shuffle_epi8(lut, _mm512_and_si512(x, nib)),
                         _mm512_shuffle_epi8(lut, _mm512_and_si512(_mm512_srli_epi16(x, 4), nib)));
}

// As rq1_dots_avx2: the four planes weighted in bytes, one vpsadbw per word.
void rq1_dots_avx512(const uint64_t* planes, const uint64_t* codes, size_t nb, size_t words, int32_t* out) {
  for (size_t b = 0; b < nb; ++b) {
    const uint64_t* blk = codes + b * words * kBlock;
    __m512i acc0 = _mm512_setzero_si512(), acc1 = acc0;
    for (size_t w = 0; w < words; ++w) {
      const __m512i p0 = _mm512_set1_epi64(static_cast<long long>(planes[w]));
      const __m512i p1 = _mm512_set1_epi64(static_cast<long long>(planes[words + w]));
      const __m512i p2 = _mm512_set1_epi64(static_cast<long long>(planes[2 * words + w]));
      const __m512i p3 = _mm512_set1_epi64(static_cast<long long>(planes[3 * words + w]));
      for (int r = 0; r < 2; ++r) {
        const __m512i x = _mm512_loadu_si512(blk + w * kBlock + 8 * r);
        __m512i t = popcount_bytes(_mm512_and_si512(x, p3));
        t = _mm512_add_epi8(_mm512_add_epi8(t, t), popcount_bytes(_mm512_and_si512(x, p2)));
        t = _mm512_add_epi8(_mm512_add_epi8(t, t), popcount_bytes(_mm512_and_si512(x, p1)));
        t = _mm512_add_epi8(_mm512_add_epi8(t, t), popcount_bytes(_mm512_and_si512(x, p0)));
        const __m512i s = _mm512_sad_epu8(t, _mm512_setzero_si512());
        if (r == 0) acc0 = _mm512_add_epi64(acc0, s); else acc1 = _mm512_add_epi64(acc1, s);
      }
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + b * kBlock), _mm512_cvtepi64_epi32(acc0));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + b * kBlock + 8), _mm512_cvtepi64_epi32(acc1));
  }
}

// The sum of 16 int32 lanes (GCC 12's _mm512_reduce_add_epi32 warns
// falsely about its own temporaries).
inline int32_t reduce_epi32(__m512i v) {
  const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

// Row-major codes without VNNI: 32 components per step widened to 16 bits
// (vpmaddwd); the tail (bytes % 32) through a zeroing masked load.
void sq8_dots_rows_avx512(const int8_t* q, const uint8_t* const* rows, size_t m, size_t bytes, int32_t* out) {
  const size_t body = bytes / 32 * 32;
  const __mmask32 tail = static_cast<__mmask32>((uint64_t(1) << (bytes - body)) - 1u);
  const __m512i qt = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(tail, q + body));
  for (size_t j = 0; j < m; ++j) {
    const uint8_t* r = rows[j];
    __m512i a = _mm512_setzero_si512();
    for (size_t c = 0; c < body; c += 32) {
      const __m512i qq = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + c)));
      a = _mm512_add_epi32(a, _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + c))), qq));
    }
    if (tail) a = _mm512_add_epi32(a, _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(tail, r + body)), qt));
    out[j] = reduce_epi32(a);
  }
}

// Row-major codes with VNNI: one vpdpbusd per 64 components; four rows at a
// time (independent accumulators); the tail through a zeroing masked load.
__attribute__((target("avx512vnni"))) void sq8_dots_rows_vnni(const int8_t* q, const uint8_t* const* rows,
                                                               size_t m, size_t bytes, int32_t* out) {
  const size_t body = bytes / 64 * 64;
  const __mmask64 tail = bytes == body ? 0 : (~uint64_t(0)) >> (64 - (bytes - body));
  const __m512i qt = _mm512_maskz_loadu_epi8(tail, q + body);
  size_t j = 0;
  for (; j + 4 <= m; j += 4) {
    const uint8_t *r0 = rows[j], *r1 = rows[j + 1], *r2 = rows[j + 2], *r3 = rows[j + 3];
    // The rows are scattered: ask for the next four while these four run.
    for (size_t p = j + 4; p < std::min(m, j + 8); ++p)
      for (size_t c = 0; c < bytes; c += 64) _mm_prefetch(reinterpret_cast<const char*>(rows[p] + c), _MM_HINT_T0);
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t c = 0; c < body; c += 64) {
      const __m512i qq = _mm512_loadu_si512(q + c);
      a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(r0 + c), qq);
      a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(r1 + c), qq);
      a2 = _mm512_dpbusd_epi32(a2, _mm512_loadu_si512(r2 + c), qq);
      a3 = _mm512_dpbusd_epi32(a3, _mm512_loadu_si512(r3 + c), qq);
    }
    if (tail) {
      a0 = _mm512_dpbusd_epi32(a0, _mm512_maskz_loadu_epi8(tail, r0 + body), qt);
      a1 = _mm512_dpbusd_epi32(a1, _mm512_maskz_loadu_epi8(tail, r1 + body), qt);
      a2 = _mm512_dpbusd_epi32(a2, _mm512_maskz_loadu_epi8(tail, r2 + body), qt);
      a3 = _mm512_dpbusd_epi32(a3, _mm512_maskz_loadu_epi8(tail, r3 + body), qt);
    }
    out[j] = reduce_epi32(a0);
    out[j + 1] = reduce_epi32(a1);
    out[j + 2] = reduce_epi32(a2);
    out[j + 3] = reduce_epi32(a3);
  }
  for (; j < m; ++j) {
    const uint8_t* r = rows[j];
    __m512i a = _mm512_setzero_si512();
    for (size_t c = 0; c < body; c += 64) a = _mm512_dpbusd_epi32(a, _mm512_loadu_si512(r + c), _mm512_loadu_si512(q + c));
    if (tail) a = _mm512_dpbusd_epi32(a, _mm512_maskz_loadu_epi8(tail, r + body), qt);
    out[j] = reduce_epi32(a);
  }
}

}  // namespace

const Kernels kAvx512Kernels = {
    SimdLevel::Avx512,      inner_product_simd, l2sqr_simd, scores_packed_simd,
    select_at_least_avx512, sq8_dots_avx512, rq4_dots_avx512, rq1_dots_avx512, sq8_dots_rows_avx512,
};

const Kernels kAvx512VnniKernels = {
    SimdLevel::Avx512,      inner_product_simd, l2sqr_simd, scores_packed_simd,
    select_at_least_avx512, sq8_dots_vnni, rq4_dots_vnni, rq1_dots_avx512, sq8_dots_rows_vnni,
};

}  // namespace semvec
