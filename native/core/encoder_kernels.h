// Kernels of the int8 transformer encoder (encoder.h): one table of function
// pointers per SIMD level, like distances.h. Each level lives in its own
// translation unit compiled with its own flags; the scalar level is the
// exact reference and runs on any CPU.
//
// Int8 GEMM. Activations are quantised per row to uint8 (asymmetric, the
// DynamicQuantizeLinear rule applied to each row on its own); weights are
// int8 with a per-column scale and zero point, packed for AVX-512 VNNI:
//   k is padded with zeros to groups * 4, n to blocks * 16 columns, and
//   byte (k, column c) is at packed[(c / 16) * groups * 64 + (k / 4) * 64 + (c % 16) * 4 + k % 4]
// so one 64-byte load holds 4 consecutive k of 16 columns (the operand of
// one vpdpbusd). The exact integer sum of row r and column c is
//   sum_k (q[r][k] - zq_r) (w[k][c] - zw_c)
//     = acc - zq_r * (colsum_c - K zw_c) - zw_c * rowsum_r
// with acc = sum_k q[r][k] w[k][c] (int32, never saturated: K <= kMaxGemmK),
// and every level computes the same sums. The float epilogue turns it into
//   y = sum * sw_c * sq_r + bias_c  [+ residual | then GELU]
// Each output element is computed by the same instructions whatever rows or
// columns share its tile, so results never depend on the batch, the tiling
// or the thread count.
#pragma once

#include <cstddef>
#include <cstdint>

#include "distances.h"

namespace semvec {

// The largest inner dimension of a GEMM: its sums fit int32 exactly
// (K * 255 * 255 < 2^31).
constexpr size_t kMaxGemmK = 16384;

// Quantised activations: rows of ldq bytes (ldq >= groups * 4, zero past k).
struct GemmRows {
  const uint8_t* q = nullptr;
  size_t ldq = 0;
  const float* scale = nullptr;      // per row
  const int32_t* zero_point = nullptr;  // per row, 0..255
  const int32_t* sum = nullptr;      // per row: sum_k q[r][k]
};

// Packed weights (layout above). The per-column arrays hold blocks * 16
// values, zero past n.
struct GemmWeights {
  const int8_t* packed = nullptr;
  size_t k = 0, n = 0, groups = 0, blocks = 0;
  const float* scale = nullptr;
  const int32_t* zero_point = nullptr;
  const int32_t* col_term = nullptr;  // colsum_c - K * zw_c
  const float* bias = nullptr;
};

enum class GemmEpilogue : int {
  Bias,          // y
  BiasResidual,  // y + residual[r][c]
  BiasGeluErf,   // gelu(y), 0.5 y (1 + erf(y / sqrt 2))
  BiasGeluTanh,  // gelu(y), 0.5 y (1 + tanh(sqrt(2 / pi) (y + 0.044715 y^3)))
  Sums,          // the exact integer sums, to `sums` (tests)
};

struct GemmOut {
  GemmEpilogue epilogue = GemmEpilogue::Bias;
  float* out = nullptr;  // rows of ldo floats; columns past n untouched
  size_t ldo = 0;
  const float* residual = nullptr;  // BiasResidual: rows of ldr floats
  size_t ldr = 0;
  int32_t* sums = nullptr;  // Sums: rows of ldo int32
};

struct EncoderKernels {
  SimdLevel level;
  const char* name;

  // Rows [row0, row1) x column blocks [block0, block1) of the GEMM.
  void (*gemm)(const GemmRows& a, const GemmWeights& w, const GemmOut& o, size_t row0, size_t row1,
               size_t block0, size_t block1);

  // Quantises `rows` rows of k floats (stride ldx) to uint8 rows ldq bytes
  // apart (ldq >= k rounded up to 4; zero from k to that), with each row's
  // scale, zero point and sum.
  void (*quantize_rows)(const float* x, size_t ldx, size_t rows, size_t k, uint8_t* q, size_t ldq,
                        float* scale, int32_t* zero_point, int32_t* sum);

  // out = (x - mean) / sqrt(var + eps) * gamma + beta for each row of n
  // floats (x and out may be the same).
  void (*layer_norm_rows)(const float* x, size_t ldx, size_t rows, size_t n, const float* gamma,
                          const float* beta, float eps, float* out, size_t ldo);

  // One attention head of one sequence of s tokens: rows of q, k, v are
  // ld floats apart, dh values each; q is pre-scaled by 1 / sqrt(dh).
  //   out[i] = sum_j softmax_j(q_i . k_j) v_j   (rows ldo floats apart)
  // scratch: attention_scratch(s, dh) floats.
  void (*attention)(const float* q, const float* k, const float* v, size_t ld, size_t s, size_t dh,
                    float* out, size_t ldo, float* scratch);
};

// Floats of scratch one attention call needs: the keys transposed, the
// values copied contiguous, and 8 rows of scores (each padded to 16).
size_t attention_scratch(size_t s, size_t dh);

// The per-row quantisation parameters from the row's extremes (shared by
// every level, so all quantise alike): lo = min(0, min), hi = max(0, max),
// scale = (hi - lo) / 255 (1 when hi == lo), zero point = round-half-even
// of -lo / scale clamped to 0..255, inv = 1 / scale; q = clamp(rint(x * inv) + zp, 0, 255).
void quantize_params(float min, float max, float* scale, int32_t* zero_point, float* inv);

extern const EncoderKernels kScalarEncoderKernels;
extern const EncoderKernels kAvx2EncoderKernels;        // GEMM by vpmaddwd on 16-bit values
extern const EncoderKernels kAvx512EncoderKernels;      // GEMM by vpmaddwd on 16-bit values
extern const EncoderKernels kAvx512VnniEncoderKernels;  // GEMM by vpdpbusd

// The encoder kernels of one level (the best variant this CPU runs), or
// nullptr when the CPU cannot run that level.
const EncoderKernels* encoder_kernels_for(SimdLevel level);

// The kernels for the level chosen at load (SEMVEC_SIMD, see distances.h).
const EncoderKernels& encoder_kernels();

}  // namespace semvec
