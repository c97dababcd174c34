// Scalar encoder kernels: the reference every SIMD level is tested against,
// and the kernels of CPUs without AVX-512.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "encoder_kernels.h"

namespace semvec {

void quantize_params(float min, float max, float* scale, int32_t* zero_point, float* inv) {
  const float lo = std::min(0.0f, min), hi = std::max(0.0f, max);
  float s = (hi - lo) / 255.0f;
  if (!(s > 0.0f) || !std::isfinite(s)) s = 1.0f;  // an all-zero row (or a non-finite one)
  float z = std::nearbyint(std::clamp(-lo / s, 0.0f, 255.0f));
  *scale = s;
  *zero_point = static_cast<int32_t>(z);
  *inv = 1.0f / s;
}

size_t attention_scratch(size_t s, size_t dh) {
  const size_t sp = (s + 15) / 16 * 16;
  return dh * sp + sp * ((dh + 15) / 16 * 16) + 8 * sp;
}

namespace {

// The exact integer sum (see encoder_kernels.h): the true value fits int32.
inline int32_t corrected_sum(int32_t acc, int32_t zq, int32_t col_term, int32_t zw, int32_t row_sum) {
  return static_cast<int32_t>(int64_t(acc) - int64_t(zq) * col_term - int64_t(zw) * row_sum);
}

inline float gelu_erf(float y) { return 0.5f * y * (1.0f + std::erf(y * 0.70710678118654752f)); }

inline float gelu_tanh(float y) {
  return 0.5f * y * (1.0f + std::tanh(0.79788456080286536f * (y + 0.044715f * y * y * y)));
}

void gemm_scalar(const GemmRows& a, const GemmWeights& w, const GemmOut& o, size_t row0, size_t row1,
                 size_t block0, size_t block1) {
  const size_t groups = w.groups;
  for (size_t r = row0; r < row1; ++r) {
    const uint8_t* q = a.q + r * a.ldq;
    for (size_t b = block0; b < block1; ++b) {
      const int8_t* blk = w.packed + b * groups * 64;
      int32_t acc[16] = {0};
      for (size_t g = 0; g < groups; ++g)
        for (size_t c = 0; c < 16; ++c)
          for (size_t j = 0; j < 4; ++j) acc[c] += int32_t(q[g * 4 + j]) * blk[g * 64 + c * 4 + j];
      for (size_t c = 0; c < 16; ++c) {
        const size_t col = b * 16 + c;
        if (col >= w.n) break;
        int32_t sum = corrected_sum(acc[c], a.zero_point[r], w.col_term[col], w.zero_point[col], a.sum[r]);
        if (o.epilogue == GemmEpilogue::Sums) {
          o.sums[r * o.ldo + col] = sum;
          continue;
        }
        float y = static_cast<float>(sum) * w.scale[col] * a.scale[r] + w.bias[col];
        switch (o.epilogue) {
          case GemmEpilogue::BiasResidual: y += o.residual[r * o.ldr + col]; break;
          case GemmEpilogue::BiasGeluErf: y = gelu_erf(y); break;
          case GemmEpilogue::BiasGeluTanh: y = gelu_tanh(y); break;
          default: break;
        }
        o.out[r * o.ldo + col] = y;
      }
    }
  }
}

void quantize_rows_scalar(const float* x, size_t ldx, size_t rows, size_t k, uint8_t* q, size_t ldq,
                          float* scale, int32_t* zero_point, int32_t* sum) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    uint8_t* qr = q + r * ldq;
    float mn = 0.0f, mx = 0.0f;
    for (size_t i = 0; i < k; ++i) {
      mn = std::min(mn, xr[i]);  // a NaN is skipped
      mx = std::max(mx, xr[i]);
    }
    float inv;
    quantize_params(mn, mx, &scale[r], &zero_point[r], &inv);
    const int32_t zp = zero_point[r];
    int32_t s = 0;
    for (size_t i = 0; i < k; ++i) {
      // Clamped first (a NaN counts as -512), as the SIMD levels do.
      float t = xr[i] * inv;
      t = std::isnan(t) ? -512.0f : std::clamp(t, -512.0f, 512.0f);
      int32_t v = static_cast<int32_t>(std::nearbyint(t)) + zp;
      v = std::clamp(v, 0, 255);
      qr[i] = static_cast<uint8_t>(v);
      s += v;
    }
    std::memset(qr + k, 0, (k + 3) / 4 * 4 - k);  // the padding the GEMM reads
    sum[r] = s;
  }
}

void layer_norm_rows_scalar(const float* x, size_t ldx, size_t rows, size_t n, const float* gamma,
                            const float* beta, float eps, float* out, size_t ldo) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    float* yr = out + r * ldo;
    float mean = 0.0f;
    for (size_t i = 0; i < n; ++i) mean += xr[i];
    mean /= static_cast<float>(n);
    float var = 0.0f;
    for (size_t i = 0; i < n; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= static_cast<float>(n);
    const float rs = 1.0f / std::sqrt(var + eps);
    for (size_t i = 0; i < n; ++i) yr[i] = (xr[i] - mean) * rs * gamma[i] + beta[i];
  }
}

void attention_scalar(const float* q, const float* k, const float* v, size_t ld, size_t s, size_t dh,
                      float* out, size_t ldo, float* scratch) {
  float* p = scratch;  // s scores
  for (size_t i = 0; i < s; ++i) {
    const float* qi = q + i * ld;
    float mx = -INFINITY;
    for (size_t j = 0; j < s; ++j) {
      float dot = 0.0f;
      for (size_t d = 0; d < dh; ++d) dot += qi[d] * k[j * ld + d];
      p[j] = dot;
      mx = std::max(mx, dot);
    }
    float total = 0.0f;
    for (size_t j = 0; j < s; ++j) {
      p[j] = std::exp(p[j] - mx);
      total += p[j];
    }
    const float inv = 1.0f / total;
    float* oi = out + i * ldo;
    for (size_t d = 0; d < dh; ++d) oi[d] = 0.0f;
    for (size_t j = 0; j < s; ++j) {
      const float pj = p[j] * inv;
      for (size_t d = 0; d < dh; ++d) oi[d] += pj * v[j * ld + d];
    }
  }
}

}  // namespace

const EncoderKernels kScalarEncoderKernels = {
    SimdLevel::Scalar, "scalar", gemm_scalar, quantize_rows_scalar, layer_norm_rows_scalar, attention_scalar,
};

}  // namespace semvec
