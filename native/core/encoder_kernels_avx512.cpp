// AVX-512 encoder kernels (F + BW + DQ + VL; this file alone is compiled
// with those flags). The GEMM has two variants: vpdpbusd (VNNI, chosen when
// the CPU has it; those functions carry target("avx512vnni")) and vpmaddwd on
// values widened to 16 bits (exact as well: vpmaddubsw would saturate).
// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
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

SEMVEC_INLINE __mmask16 tail_mask(size_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

// e^x, |relative error| ~ 2 ulp; x clamped to [-87.3, 88.7] (the result
// never overflows nor becomes 0). Cephes' expf polynomial, 2^n by vscalefps.
SEMVEC_INLINE __m512 exp_ps(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.33654f));
  x = _mm512_min_ps(x, _mm512_set1_ps(88.72283f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 y = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(y, n);
}

// 1 / x: vrcp14ps and one Newton step (relative error ~1e-7).
SEMVEC_INLINE __m512 reciprocal_ps(__m512 x) {
  const __m512 r = _mm512_rcp14_ps(x);
  return _mm512_mul_ps(r, _mm512_fnmadd_ps(x, r, _mm512_set1_ps(2.0f)));
}

// 0.5 y (1 + erf(y / sqrt 2)); erf by Abramowitz & Stegun 7.1.26
// (|error| <= 1.5e-7), odd-symmetric.
SEMVEC_INLINE __m512 gelu_erf_ps(__m512 y) {
  const __m512 z = _mm512_mul_ps(_mm512_abs_ps(y), _mm512_set1_ps(0.70710678118654752f));
  const __m512 t = reciprocal_ps(_mm512_fmadd_ps(z, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.0f)));
  __m512 p = _mm512_set1_ps(1.061405429f);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
  p = _mm512_mul_ps(p, t);
  // erf(|z|) = 1 - p e^{-z^2}
  const __m512 e = _mm512_fnmadd_ps(p, exp_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), z), z)),
                                    _mm512_set1_ps(1.0f));
  // 0.5 y (1 + sign(y) erf(|z|)) = 0.5 y + 0.5 |y| erf(|z|)
  const __m512 half = _mm512_set1_ps(0.5f);
  return _mm512_fmadd_ps(_mm512_mul_ps(half, _mm512_abs_ps(y)), e, _mm512_mul_ps(half, y));
}

// 0.5 y (1 + tanh(u)) = y / (1 + e^{-2u}), u = sqrt(2 / pi) (y + 0.044715 y^3).
SEMVEC_INLINE __m512 gelu_tanh_ps(__m512 y) {
  const __m512 y2 = _mm512_mul_ps(y, y);
  const __m512 u = _mm512_mul_ps(_mm512_mul_ps(y, _mm512_set1_ps(-2.0f * 0.79788456080286536f)),
                                 _mm512_fmadd_ps(y2, _mm512_set1_ps(0.044715f), _mm512_set1_ps(1.0f)));
  return _mm512_div_ps(y, _mm512_add_ps(_mm512_set1_ps(1.0f), exp_ps(u)));
}

// ---- GEMM ----

constexpr int kNr = 3;  // column blocks of a register tile

SEMVEC_INLINE uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The exact sums of an MR x NR tile, then its epilogue (encoder_kernels.h).
// The accumulators come through memory (acc[i * NR + j]): indexing registers
// in a loop the compiler does not unroll would make it keep every
// accumulator on the stack in the multiply-add loop too.
template <int MR, int NR>
void tile_epilogue(const __m512i* acc, const GemmRows& a, const GemmWeights& w, const GemmOut& o, size_t r0,
                   size_t b0) {
  for (int j = 0; j < NR; ++j) {
    const size_t col = (b0 + j) * 16;
    const __mmask16 m = tail_mask(w.n - col);
    const __m512i ct = _mm512_loadu_si512(w.col_term + col);
    const __m512i zw = _mm512_loadu_si512(w.zero_point + col);
    const __m512 sw = _mm512_loadu_ps(w.scale + col);
    const __m512 bias = _mm512_loadu_ps(w.bias + col);
    for (int i = 0; i < MR; ++i) {
      const size_t r = r0 + i;
      __m512i s = _mm512_sub_epi32(acc[i * NR + j], _mm512_mullo_epi32(_mm512_set1_epi32(a.zero_point[r]), ct));
      s = _mm512_sub_epi32(s, _mm512_mullo_epi32(_mm512_set1_epi32(a.sum[r]), zw));
      if (o.epilogue == GemmEpilogue::Sums) {
        _mm512_mask_storeu_epi32(o.sums + r * o.ldo + col, m, s);
        continue;
      }
      __m512 y = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(s), sw), _mm512_set1_ps(a.scale[r]), bias);
      if (o.epilogue == GemmEpilogue::BiasResidual)
        y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(m, o.residual + r * o.ldr + col));
      else if (o.epilogue == GemmEpilogue::BiasGeluErf)
        y = gelu_erf_ps(y);
      else if (o.epilogue == GemmEpilogue::BiasGeluTanh)
        y = gelu_tanh_ps(y);
      _mm512_mask_storeu_ps(o.out + r * o.ldo + col, m, y);
    }
  }
}

// vpdpbusd: per group of 4 k, NR loads of 16 columns and MR broadcasts of
// 4 activation bytes feed MR x NR multiply-adds.
template <int MR, int NR>
__attribute__((target("avx512vnni"))) void tile_vnni(const GemmRows& a, const GemmWeights& w, const GemmOut& o,
                                                     size_t r0, size_t b0) {
  __m512i acc[MR][NR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_si512();
  const uint8_t* ap = a.q + r0 * a.ldq;
  const size_t ldq = a.ldq, bs = w.groups * 64;
  const int8_t* bp = w.packed + b0 * bs;
  for (size_t g = 0; g < w.groups; ++g, bp += 64, ap += 4) {
    __m512i b[NR];
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) b[j] = _mm512_load_si512(bp + j * bs);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512i av = _mm512_set1_epi32(static_cast<int>(load_u32(ap + i * ldq)));
#pragma GCC unroll 4
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av, b[j]);
    }
  }
  __m512i sums[MR * NR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) sums[i * NR + j] = acc[i][j];
  tile_epilogue<MR, NR>(sums, a, w, o, r0, b0);
}

// vpmaddwd: each 4-byte group split into its even and odd bytes, widened to
// 16 bits (unsigned activations, signed weights); two exact pair sums.
template <int MR, int NR>
void tile_madd(const GemmRows& a, const GemmWeights& w, const GemmOut& o, size_t r0, size_t b0) {
  __m512i acc[MR][NR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_si512();
  const uint8_t* ap = a.q + r0 * a.ldq;
  const size_t ldq = a.ldq, bs = w.groups * 64;
  const int8_t* bp = w.packed + b0 * bs;
  const __m512i low = _mm512_set1_epi16(0x00FF);
  for (size_t g = 0; g < w.groups; ++g, bp += 64, ap += 4) {
    __m512i be[NR], bo[NR];
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) {
      const __m512i x = _mm512_load_si512(bp + j * bs);
      be[j] = _mm512_srai_epi16(_mm512_slli_epi16(x, 8), 8);
      bo[j] = _mm512_srai_epi16(x, 8);
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512i av = _mm512_set1_epi32(static_cast<int>(load_u32(ap + i * ldq)));
      const __m512i ae = _mm512_and_si512(av, low), ao = _mm512_srli_epi16(av, 8);
#pragma GCC unroll 4
      for (int j = 0; j < NR; ++j)
        acc[i][j] = _mm512_add_epi32(acc[i][j], _mm512_add_epi32(_mm512_madd_epi16(ae, be[j]),
                                                                 _mm512_madd_epi16(ao, bo[j])));
    }
  }
  __m512i sums[MR * NR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) sums[i * NR + j] = acc[i][j];
  tile_epilogue<MR, NR>(sums, a, w, o, r0, b0);
}

using TileFn = void (*)(const GemmRows&, const GemmWeights&, const GemmOut&, size_t, size_t);

#define SEMVEC_TILES(T, M) {T<M, 1>, T<M, 2>, T<M, 3>}
const TileFn kVnniTiles[8][kNr] = {SEMVEC_TILES(tile_vnni, 1), SEMVEC_TILES(tile_vnni, 2), SEMVEC_TILES(tile_vnni, 3),
                                   SEMVEC_TILES(tile_vnni, 4), SEMVEC_TILES(tile_vnni, 5), SEMVEC_TILES(tile_vnni, 6),
                                   SEMVEC_TILES(tile_vnni, 7), SEMVEC_TILES(tile_vnni, 8)};
const TileFn kMaddTiles[4][kNr] = {SEMVEC_TILES(tile_madd, 1), SEMVEC_TILES(tile_madd, 2),
                                   SEMVEC_TILES(tile_madd, 3), SEMVEC_TILES(tile_madd, 4)};
#undef SEMVEC_TILES

// Row tiles outside, column tiles inside: a tile's activation rows stay in
// L1 while the weight panel [block0, block1) streams from L2.
template <size_t Mr>
void gemm_tiles(const TileFn (&tiles)[Mr][kNr], const GemmRows& a, const GemmWeights& w, const GemmOut& o,
                size_t row0, size_t row1, size_t block0, size_t block1) {
  for (size_t r = row0; r < row1; r += Mr) {
    const size_t mr = lmin(Mr, row1 - r);
    for (size_t b = block0; b < block1; b += kNr) {
      const size_t nr = lmin<size_t>(kNr, block1 - b);
      tiles[mr - 1][nr - 1](a, w, o, r, b);
    }
  }
}

void gemm_vnni(const GemmRows& a, const GemmWeights& w, const GemmOut& o, size_t row0, size_t row1,
               size_t block0, size_t block1) {
  gemm_tiles(kVnniTiles, a, w, o, row0, row1, block0, block1);
}

void gemm_madd(const GemmRows& a, const GemmWeights& w, const GemmOut& o, size_t row0, size_t row1,
               size_t block0, size_t block1) {
  gemm_tiles(kMaddTiles, a, w, o, row0, row1, block0, block1);
}

// ---- Row kernels ----

void quantize_rows_avx512(const float* x, size_t ldx, size_t rows, size_t k, uint8_t* q, size_t ldq,
                          float* scale, int32_t* zero_point, int32_t* sum) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    uint8_t* qr = q + r * ldq;
    __m512 mn = _mm512_setzero_ps(), mx = _mm512_setzero_ps();
    for (size_t i = 0; i < k; i += 16) {
      const __m512 v = _mm512_maskz_loadu_ps(tail_mask(k - i), xr + i);
      mn = _mm512_min_ps(v, mn);  // a NaN in v is skipped
      mx = _mm512_max_ps(v, mx);
    }
    float inv;
    quantize_params(_mm512_reduce_min_ps(mn), _mm512_reduce_max_ps(mx), &scale[r], &zero_point[r], &inv);
    const __m512 vinv = _mm512_set1_ps(inv);
    const __m512i zp = _mm512_set1_epi32(zero_point[r]);
    __m512i total = _mm512_setzero_si512();
    for (size_t i = 0; i < k; i += 16) {
      const __mmask16 m = tail_mask(k - i);
      __m512 t = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xr + i), vinv);
      t = _mm512_min_ps(_mm512_max_ps(t, _mm512_set1_ps(-512.0f)), _mm512_set1_ps(512.0f));  // NaN -> -512
      __m512i v = _mm512_add_epi32(_mm512_cvtps_epi32(t), zp);
      v = _mm512_min_epi32(_mm512_max_epi32(v, _mm512_setzero_si512()), _mm512_set1_epi32(255));
      total = _mm512_mask_add_epi32(total, m, total, v);
      // vpmovdb to a register, then a byte store (the memory form is slow on
      // some CPUs)
      _mm_mask_storeu_epi8(qr + i, m, _mm512_cvtepi32_epi8(v));
    }
    std::memset(qr + k, 0, (k + 3) / 4 * 4 - k);  // the padding the GEMM reads
    sum[r] = _mm512_reduce_add_epi32(total);
  }
}

void layer_norm_rows_avx512(const float* x, size_t ldx, size_t rows, size_t n, const float* gamma,
                            const float* beta, float eps, float* out, size_t ldo) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    float* yr = out + r * ldo;
    __m512 s = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(tail_mask(n - i), xr + i));
    const float mean = _mm512_reduce_add_ps(s) / static_cast<float>(n);
    const __m512 vm = _mm512_set1_ps(mean);
    __m512 ss = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
      const __mmask16 m = tail_mask(n - i);
      const __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, xr + i), vm);
      ss = _mm512_fmadd_ps(d, d, ss);
    }
    const float var = _mm512_reduce_add_ps(ss) / static_cast<float>(n);
    const __m512 rs = _mm512_set1_ps(1.0f / __builtin_sqrtf(var + eps));
    for (size_t i = 0; i < n; i += 16) {
      const __mmask16 m = tail_mask(n - i);
      const __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, xr + i), vm), rs);
      _mm512_mask_storeu_ps(yr + i, m,
                            _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(m, gamma + i), _mm512_maskz_loadu_ps(m, beta + i)));
    }
  }
}

// ---- Attention ----
//
// Query rows go in blocks of up to kRows; every multiply-add takes its own
// broadcast operand (an embedded broadcast: no shuffle competes with the
// multiply-adds), and kRows independent accumulators hide the latency.
// Each output is the same chain of operations whatever the block.

constexpr int kRows = 8;

// Scores of R query rows against all keys: sc[r][j] = q_r . k_j, from the
// transposed keys kt[d][j] (sp columns, zero past s).
template <int R>
void attention_scores(const float* q, size_t ld, size_t dh, const float* kt, size_t sp, float* sc) {
  for (size_t c = 0; c < sp; c += 16) {
    __m512 acc[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    for (size_t d = 0; d < dh; ++d) {
      const __m512 k0 = _mm512_loadu_ps(kt + d * sp + c);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(q[r * ld + d]), k0, acc[r]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) _mm512_storeu_ps(sc + r * sp + c, acc[r]);
  }
}

// Row r of sc (s scores) becomes e^{score - max}; returns 1 / their sum.
float softmax_row(float* sc, size_t s) {
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (size_t j = 0; j < s; j += 16) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(mx, tail_mask(s - j), sc + j));
  const __m512 vmax = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
  __m512 total = _mm512_setzero_ps();
  for (size_t j = 0; j < s; j += 16) {
    const __mmask16 m = tail_mask(s - j);
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, sc + j), vmax));
    total = _mm512_mask_add_ps(total, m, total, e);
    _mm512_mask_storeu_ps(sc + j, m, e);
  }
  return 1.0f / _mm512_reduce_add_ps(total);
}

// out_r = inv_r sum_j e[r][j] v_j for R rows, 16 output values at a time.
template <int R>
void attention_values(const float* sc, size_t sp, const float* inv, const float* v, size_t ldv, size_t s,
                      size_t dh, float* out, size_t ldo) {
  for (size_t p = 0; p < dh; p += 16) {
    const __mmask16 m = tail_mask(dh - p);
    __m512 acc[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    for (size_t j = 0; j < s; ++j) {
      const __m512 v0 = _mm512_maskz_loadu_ps(m, v + j * ldv + p);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(sc[r * sp + j]), v0, acc[r]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) _mm512_mask_storeu_ps(out + r * ldo + p, m, _mm512_mul_ps(acc[r], _mm512_set1_ps(inv[r])));
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

using RowsFn = void (*)(const float*, const float*, size_t, size_t, size_t, size_t, const float*, size_t, float*,
                        float*, size_t);
const RowsFn kAttentionRows[kRows] = {attention_rows<1>, attention_rows<2>, attention_rows<3>, attention_rows<4>,
                                      attention_rows<5>, attention_rows<6>, attention_rows<7>, attention_rows<8>};

void attention_avx512(const float* q, const float* k, const float* v, size_t ld, size_t s, size_t dh,
                      float* out, size_t ldo, float* scratch) {
  const size_t sp = (s + 15) / 16 * 16;
  const size_t dhp = (dh + 15) / 16 * 16;
  float* kt = scratch;        // dh x sp: the keys transposed
  float* vc = kt + dh * sp;   // s x dhp: the values, contiguous
  float* sc = vc + sp * dhp;  // kRows x sp: scores
  for (size_t j = 0; j < s; ++j) std::memcpy(vc + j * dhp, v + j * ld, dh * sizeof(float));
  for (size_t d = 0; d < dh; ++d) {
    float* row = kt + d * sp;
    for (size_t j = 0; j < s; ++j) row[j] = k[j * ld + d];
    for (size_t j = s; j < sp; ++j) row[j] = 0.0f;
  }
  for (size_t i = 0; i < s; i += kRows) {
    const size_t rows = lmin<size_t>(kRows, s - i);
    kAttentionRows[rows - 1](q + i * ld, vc, ld, dhp, s, dh, kt, sp, sc, out + i * ldo, ldo);
  }
}

}  // namespace

const EncoderKernels kAvx512EncoderKernels = {
    SimdLevel::Avx512, "avx512", gemm_madd, quantize_rows_avx512, layer_norm_rows_avx512, attention_avx512,
};

const EncoderKernels kAvx512VnniEncoderKernels = {
    SimdLevel::Avx512, "avx512-vnni", gemm_vnni, quantize_rows_avx512, layer_norm_rows_avx512, attention_avx512,
};

}  // namespace semvec
