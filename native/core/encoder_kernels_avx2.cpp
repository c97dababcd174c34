// AVX2 + FMA encoder kernels (this file alone is compiled with those
// flags). The GEMM multiplies by vpmaddwd on values widened to 16 bits:
// exact, like vpdpbusd (vpmaddubsw would saturate).
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "encoder_kernels.h"

namespace semvec {
namespace {

#define SEMVEC_INLINE inline __attribute__((always_inline))

// Local min and max: std::min and std::max instantiated in this file (with
// its wider target flags) could be the copy the linker keeps for every file.
template <typename T>
SEMVEC_INLINE T lmin(T a, T b) { return b < a ? b : a; }
template <typename T>
SEMVEC_INLINE T lmax(T a, T b) { return a < b ? b : a; }

// Lanes [0, n) of 8 set (n may exceed 8).
SEMVEC_INLINE __m256i lane_mask(size_t n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(lmin<size_t>(n, 8))), idx);
}

SEMVEC_INLINE __m256 load_tail(const float* p, size_t n) {
  return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lane_mask(n));
}

SEMVEC_INLINE void store_tail(float* p, size_t n, __m256 v) {
  if (n >= 8)
    _mm256_storeu_ps(p, v);
  else
    _mm256_maskstore_ps(p, lane_mask(n), v);
}

// Fixed-order horizontal reductions.
SEMVEC_INLINE float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

SEMVEC_INLINE float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

SEMVEC_INLINE float hmin(__m256 v) {
  __m128 s = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_min_ps(s, _mm_movehl_ps(s, s));
  s = _mm_min_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

SEMVEC_INLINE int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// e^x as in the AVX-512 level; 2^n built in the exponent bits (x clamped
// so that n stays in -126..127).
SEMVEC_INLINE __m256 exp_ps(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.33654f));
  x = _mm256_min_ps(x, _mm256_set1_ps(88.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 y = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

SEMVEC_INLINE __m256 abs_ps(__m256 x) { return _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF))); }

SEMVEC_INLINE __m256 reciprocal_ps(__m256 x) {
  const __m256 r = _mm256_rcp_ps(x);
  return _mm256_mul_ps(r, _mm256_fnmadd_ps(x, r, _mm256_set1_ps(2.0f)));
}

SEMVEC_INLINE __m256 gelu_erf_ps(__m256 y) {
  const __m256 z = _mm256_mul_ps(abs_ps(y), _mm256_set1_ps(0.70710678118654752f));
  const __m256 t = reciprocal_ps(_mm256_fmadd_ps(z, _mm256_set1_ps(0.3275911f), _mm256_set1_ps(1.0f)));
  __m256 p = _mm256_set1_ps(1.061405429f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
  p = _mm256_mul_ps(p, t);
  const __m256 e = _mm256_fnmadd_ps(p, exp_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), z), z)),
                                    _mm256_set1_ps(1.0f));
  const __m256 half = _mm256_set1_ps(0.5f);
  return _mm256_fmadd_ps(_mm256_mul_ps(half, abs_ps(y)), e, _mm256_mul_ps(half, y));
}

SEMVEC_INLINE __m256 gelu_tanh_ps(__m256 y) {
  const __m256 y2 = _mm256_mul_ps(y, y);
  const __m256 u = _mm256_mul_ps(_mm256_mul_ps(y, _mm256_set1_ps(-2.0f * 0.79788456080286536f)),
                                 _mm256_fmadd_ps(y2, _mm256_set1_ps(0.044715f), _mm256_set1_ps(1.0f)));
  return _mm256_div_ps(y, _mm256_add_ps(_mm256_set1_ps(1.0f), exp_ps(u)));
}

// ---- GEMM: MR rows x one block of 16 columns (two halves of 8) ----

SEMVEC_INLINE uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

template <int MR>
void tile_epilogue(const __m256i* acc, const GemmRows& a, const GemmWeights& w, const GemmOut& o, size_t r0,
                   size_t b) {
  for (int half = 0; half < 2; ++half) {
    const size_t col = b * 16 + half * 8;
    if (col >= w.n) break;
    const size_t left = w.n - col;
    const __m256i ct = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.col_term + col));
    const __m256i zw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.zero_point + col));
    const __m256 sw = _mm256_loadu_ps(w.scale + col);
    const __m256 bias = _mm256_loadu_ps(w.bias + col);
    for (int i = 0; i < MR; ++i) {
      const size_t r = r0 + i;
      __m256i s = _mm256_sub_epi32(acc[i * 2 + half], _mm256_mullo_epi32(_mm256_set1_epi32(a.zero_point[r]), ct));
      s = _mm256_sub_epi32(s, _mm256_mullo_epi32(_mm256_set1_epi32(a.sum[r]), zw));
      if (o.epilogue == GemmEpilogue::Sums) {
        int32_t* dst = o.sums + r * o.ldo + col;
        if (left >= 8)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), s);
        else
          _mm256_maskstore_epi32(dst, lane_mask(left), s);
        continue;
      }
      __m256 y = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(s), sw), _mm256_set1_ps(a.scale[r]), bias);
      if (o.epilogue == GemmEpilogue::BiasResidual)
        y = _mm256_add_ps(y, load_tail(o.residual + r * o.ldr + col, left));
      else if (o.epilogue == GemmEpilogue::BiasGeluErf)
        y = gelu_erf_ps(y);
      else if (o.epilogue == GemmEpilogue::BiasGeluTanh)
        y = gelu_tanh_ps(y);
      store_tail(o.out + r * o.ldo + col, left, y);
    }
  }
}

template <int MR>
void tile_madd(const GemmRows& a, const GemmWeights& w, const GemmOut& o, size_t r0, size_t b) {
  __m256i acc[MR][2];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
  const uint8_t* ap = a.q + r0 * a.ldq;
  const size_t ldq = a.ldq;
  const int8_t* bp = w.packed + b * w.groups * 64;
  const __m256i low = _mm256_set1_epi16(0x00FF);
  for (size_t g = 0; g < w.groups; ++g, bp += 64, ap += 4) {
    const __m256i x0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(bp));
    const __m256i x1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(bp + 32));
    const __m256i e0 = _mm256_srai_epi16(_mm256_slli_epi16(x0, 8), 8), o0 = _mm256_srai_epi16(x0, 8);
    const __m256i e1 = _mm256_srai_epi16(_mm256_slli_epi16(x1, 8), 8), o1 = _mm256_srai_epi16(x1, 8);
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      const __m256i av = _mm256_set1_epi32(static_cast<int>(load_u32(ap + i * ldq)));
      const __m256i ae = _mm256_and_si256(av, low), ao = _mm256_srli_epi16(av, 8);
      acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_add_epi32(_mm256_madd_epi16(ae, e0), _mm256_madd_epi16(ao, o0)));
      acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_add_epi32(_mm256_madd_epi16(ae, e1), _mm256_madd_epi16(ao, o1)));
    }
  }
  __m256i sums[MR * 2];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) sums[2 * i] = acc[i][0], sums[2 * i + 1] = acc[i][1];
  tile_epilogue<MR>(sums, a, w, o, r0, b);
}

using TileFn = void (*)(const GemmRows&, const GemmWeights&, const GemmOut&, size_t, size_t);
const TileFn kTiles[4] = {tile_madd<1>, tile_madd<2>, tile_madd<3>, tile_madd<4>};

void gemm_avx2(const GemmRows& a, const GemmWeights& w, const GemmOut& o, size_t row0, size_t row1, size_t block0,
               size_t block1) {
  for (size_t r = row0; r < row1; r += 4) {
    const size_t mr = lmin<size_t>(4, row1 - r);
    for (size_t b = block0; b < block1; ++b) kTiles[mr - 1](a, w, o, r, b);
  }
}

// ---- Row kernels ----

// One value quantised as the vector code does (encoder_kernels_scalar.cpp).
SEMVEC_INLINE int32_t quantize_one(float x, float inv, int32_t zp) {
  float t = x * inv;
  t = __builtin_isnan(t) ? -512.0f : lmin(lmax(t, -512.0f), 512.0f);
  return lmin(lmax(static_cast<int32_t>(__builtin_nearbyintf(t)) + zp, 0), 255);
}

void quantize_rows_avx2(const float* x, size_t ldx, size_t rows, size_t k, uint8_t* q, size_t ldq, float* scale,
                        int32_t* zero_point, int32_t* sum) {
  const size_t body = k / 8 * 8;
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    uint8_t* qr = q + r * ldq;
    __m256 mn = _mm256_setzero_ps(), mx = _mm256_setzero_ps();
    for (size_t i = 0; i < k; i += 8) {
      const __m256 v = load_tail(xr + i, k - i);  // zero past k
      mn = _mm256_min_ps(v, mn);  // a NaN in v is skipped
      mx = _mm256_max_ps(v, mx);
    }
    float inv;
    quantize_params(hmin(mn), hmax(mx), &scale[r], &zero_point[r], &inv);
    const int32_t zpv = zero_point[r];
    const __m256 vinv = _mm256_set1_ps(inv);
    const __m256i zp = _mm256_set1_epi32(zpv);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1);
    __m256i total = _mm256_setzero_si256();
    for (size_t i = 0; i < body; i += 8) {
      __m256 t = _mm256_mul_ps(_mm256_loadu_ps(xr + i), vinv);
      t = _mm256_min_ps(_mm256_max_ps(t, _mm256_set1_ps(-512.0f)), _mm256_set1_ps(512.0f));  // NaN -> -512
      __m256i v = _mm256_add_epi32(_mm256_cvtps_epi32(t), zp);
      v = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_setzero_si256()), _mm256_set1_epi32(255));
      total = _mm256_add_epi32(total, v);
      __m256i p = _mm256_packus_epi32(v, v);
      p = _mm256_packus_epi16(p, p);
      p = _mm256_permutevar8x32_epi32(p, order);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(qr + i), _mm256_castsi256_si128(p));
    }
    int32_t s = hsum_epi32(total);
    for (size_t i = body; i < k; ++i) {
      const int32_t v = quantize_one(xr[i], inv, zpv);
      qr[i] = static_cast<uint8_t>(v);
      s += v;
    }
    std::memset(qr + k, 0, (k + 3) / 4 * 4 - k);  // the padding the GEMM reads
    sum[r] = s;
  }
}

void layer_norm_rows_avx2(const float* x, size_t ldx, size_t rows, size_t n, const float* gamma, const float* beta,
                          float eps, float* out, size_t ldo) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    float* yr = out + r * ldo;
    __m256 s = _mm256_setzero_ps();
    for (size_t i = 0; i < n; i += 8) s = _mm256_add_ps(s, load_tail(xr + i, n - i));
    const float mean = hsum(s) / static_cast<float>(n);
    const __m256 vm = _mm256_set1_ps(mean);
    __m256 ss = _mm256_setzero_ps();
    for (size_t i = 0; i < n; i += 8) {
      const __m256 m = _mm256_castsi256_ps(lane_mask(n - i));
      const __m256 d = _mm256_and_ps(_mm256_sub_ps(load_tail(xr + i, n - i), vm), m);
      ss = _mm256_fmadd_ps(d, d, ss);
    }
    const float var = hsum(ss) / static_cast<float>(n);
    const __m256 rs = _mm256_set1_ps(1.0f / __builtin_sqrtf(var + eps));
    for (size_t i = 0; i < n; i += 8) {
      const __m256 d = _mm256_mul_ps(_mm256_sub_ps(load_tail(xr + i, n - i), vm), rs);
      store_tail(yr + i, n - i, _mm256_fmadd_ps(d, load_tail(gamma + i, n - i), load_tail(beta + i, n - i)));
    }
  }
}

// ---- Attention (as the AVX-512 level, 8 lanes) ----

template <int R>
void attention_scores(const float* q, size_t ld, size_t dh, const float* kt, size_t sp, float* sc) {
  const size_t chunks = sp / 8;
  size_t c = 0;
  for (; c + 2 <= chunks; c += 2) {
    __m256 acc[R][2];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (size_t d = 0; d < dh; ++d) {
      const __m256 k0 = _mm256_loadu_ps(kt + d * sp + c * 8), k1 = _mm256_loadu_ps(kt + d * sp + c * 8 + 8);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m256 qb = _mm256_set1_ps(q[r * ld + d]);
        acc[r][0] = _mm256_fmadd_ps(qb, k0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(qb, k1, acc[r][1]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_ps(sc + r * sp + c * 8, acc[r][0]);
      _mm256_storeu_ps(sc + r * sp + c * 8 + 8, acc[r][1]);
    }
  }
  if (c < chunks) {
    __m256 acc[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (size_t d = 0; d < dh; ++d) {
      const __m256 k0 = _mm256_loadu_ps(kt + d * sp + c * 8);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(q[r * ld + d]), k0, acc[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) _mm256_storeu_ps(sc + r * sp + c * 8, acc[r]);
  }
}

float softmax_row(float* sc, size_t s) {
  __m256 mx = _mm256_set1_ps(-INFINITY);
  for (size_t j = 0; j < s; j += 8) {
    const __m256 m = _mm256_castsi256_ps(lane_mask(s - j));
    mx = _mm256_max_ps(mx, _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), load_tail(sc + j, s - j), m));
  }
  const __m256 vmax = _mm256_set1_ps(hmax(mx));
  __m256 total = _mm256_setzero_ps();
  for (size_t j = 0; j < s; j += 8) {
    const __m256 m = _mm256_castsi256_ps(lane_mask(s - j));
    const __m256 e = _mm256_and_ps(exp_ps(_mm256_sub_ps(load_tail(sc + j, s - j), vmax)), m);
    total = _mm256_add_ps(total, e);
    store_tail(sc + j, s - j, e);
  }
  return 1.0f / hsum(total);
}

template <int R>
void attention_values(const float* sc, size_t sp, const float* inv, const float* v, size_t ld, size_t s, size_t dh,
                      float* out, size_t ldo) {
  for (size_t p = 0; p < dh; p += 16) {
    const size_t n0 = dh - p, n1 = p + 8 < dh ? dh - p - 8 : 0;
    __m256 acc[R][2];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (size_t j = 0; j < s; ++j) {
      const __m256 v0 = load_tail(v + j * ld + p, n0);
      const __m256 v1 = n1 ? load_tail(v + j * ld + p + 8, n1) : _mm256_setzero_ps();
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m256 e = _mm256_set1_ps(sc[r * sp + j]);
        acc[r][0] = _mm256_fmadd_ps(e, v0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(e, v1, acc[r][1]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 vi = _mm256_set1_ps(inv[r]);
      store_tail(out + r * ldo + p, n0, _mm256_mul_ps(acc[r][0], vi));
      if (n1) store_tail(out + r * ldo + p + 8, n1, _mm256_mul_ps(acc[r][1], vi));
    }
  }
}

template <int R>
void attention_rows(const float* q, const float* v, size_t ld, size_t ldv, size_t s, size_t dh, const float* kt,
                    size_t sp, float* sc, float* out, size_t ldo) {
  attention_scores<R>(q, ld, dh, kt, sp, sc);
  float inv[R];
  for (int r = 0; r < R; ++r) inv[r] = softmax_row(sc + r * sp, s);
  attention_values<R>(sc, sp, inv, v, ldv, s, dh, out, ldo);
}

void attention_avx2(const float* q, const float* k, const float* v, size_t ld, size_t s, size_t dh, float* out,
                    size_t ldo, float* scratch) {
  const size_t sp = (s + 15) / 16 * 16;  // attention_scratch's layout
  const size_t dhp = (dh + 15) / 16 * 16;
  float* kt = scratch;             // dh x sp: the keys transposed
  float* vc = kt + dh * sp;        // s x dhp: the values, contiguous
  float* sc = vc + sp * dhp;       // 4 x sp: scores
  for (size_t j = 0; j < s; ++j) std::memcpy(vc + j * dhp, v + j * ld, dh * sizeof(float));
  for (size_t d = 0; d < dh; ++d) {
    float* row = kt + d * sp;
    for (size_t j = 0; j < s; ++j) row[j] = k[j * ld + d];
    for (size_t j = s; j < sp; ++j) row[j] = 0.0f;
  }
  size_t i = 0;
  for (; i + 4 <= s; i += 4) attention_rows<4>(q + i * ld, vc, ld, dhp, s, dh, kt, sp, sc, out + i * ldo, ldo);
  switch (s - i) {
    case 3: attention_rows<3>(q + i * ld, vc, ld, dhp, s, dh, kt, sp, sc, out + i * ldo, ldo); break;
    case 2: attention_rows<2>(q + i * ld, vc, ld, dhp, s, dh, kt, sp, sc, out + i * ldo, ldo); break;
    case 1: attention_rows<1>(q + i * ld, vc, ld, dhp, s, dh, kt, sp, sc, out + i * ldo, ldo); break;
    default: break;
  }
}

}  // namespace

const EncoderKernels kAvx2EncoderKernels = {
    SimdLevel::Avx2, "avx2", gemm_avx2, quantize_rows_avx2, layer_norm_rows_avx2, attention_avx2,
};

}  // namespace semvec
