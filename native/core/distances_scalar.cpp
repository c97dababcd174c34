// Scalar reference kernels: the definition every SIMD level is tested
// against, and the fallback on CPUs without AVX2. Built with the baseline
// target flags only.
#include "distances.h"

namespace semvec {
namespace {

float inner_product_scalar(const float* x, const float* y, size_t d) {
  float s = 0.0f;
  for (size_t i = 0; i < d; ++i) s += x[i] * y[i];
  return s;
}

float l2sqr_scalar(const float* x, const float* y, size_t d) {
  float s = 0.0f;
  for (size_t i = 0; i < d; ++i) {
    float t = x[i] - y[i];
    s += t * t;
  }
  return s;
}

void scores_packed_scalar(const float* q, size_t nq, const float* blocks, size_t nb, size_t d,
                          const float* sqnorm, float* out, size_t ldo) {
  for (size_t i = 0; i < nq; ++i) {
    const float* qi = q + i * d;
    for (size_t b = 0; b < nb; ++b) {
      const float* blk = blocks + b * kBlock * d;
      float acc[kBlock] = {};
      for (size_t c = 0; c < d; ++c)
        for (size_t l = 0; l < kBlock; ++l) acc[l] += qi[c] * blk[c * kBlock + l];
      float* o = out + i * ldo + b * kBlock;
      for (size_t l = 0; l < kBlock; ++l)
        o[l] = sqnorm ? 2.0f * acc[l] - sqnorm[b * kBlock + l] : acc[l];
    }
  }
}

size_t select_at_least_scalar(const float* s, size_t n, float threshold, uint32_t* idx) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i)
    if (s[i] >= threshold) idx[count++] = static_cast<uint32_t>(i);
  return count;
}

void sq8_dots_scalar(const int8_t* q, const uint8_t* codes, size_t nb, size_t groups, int32_t* out) {
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* blk = codes + b * groups * 64;
    int32_t acc[kBlock] = {};
    for (size_t g = 0; g < groups; ++g)
      for (size_t l = 0; l < kBlock; ++l)
        for (size_t j = 0; j < 4; ++j)
          acc[l] += int32_t(blk[g * 64 + l * 4 + j]) * int32_t(q[g * 4 + j]);
    for (size_t l = 0; l < kBlock; ++l) out[b * kBlock + l] = acc[l];
  }
}

void rq4_dots_scalar(const int8_t* q, const uint8_t* codes, size_t nb, size_t pairs, int32_t* out) {
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* blk = codes + b * pairs * 64;
    int32_t acc[kBlock] = {};
    for (size_t p = 0; p < pairs; ++p)
      for (size_t l = 0; l < kBlock; ++l)
        for (size_t j = 0; j < 4; ++j) {
          const uint8_t byte = blk[p * 64 + l * 4 + j];
          acc[l] += int32_t(byte & 15) * int32_t(q[p * 8 + j]) + int32_t(byte >> 4) * int32_t(q[p * 8 + 4 + j]);
        }
    for (size_t l = 0; l < kBlock; ++l) out[b * kBlock + l] = acc[l];
  }
}

void rq1_dots_scalar(const uint64_t* planes, const uint64_t* codes, size_t nb, size_t words, int32_t* out) {
  for (size_t b = 0; b < nb; ++b) {
    const uint64_t* blk = codes + b * words * kBlock;
    for (size_t l = 0; l < kBlock; ++l) {
      int32_t acc = 0;
      for (size_t w = 0; w < words; ++w)
        for (size_t j = 0; j < 4; ++j)
          acc += int32_t(__builtin_popcountll(blk[w * kBlock + l] & planes[j * words + w])) << j;
      out[b * kBlock + l] = acc;
    }
  }
}

void sq8_dots_rows_scalar(const int8_t* q, const uint8_t* const* rows, size_t m, size_t bytes, int32_t* out) {
  for (size_t j = 0; j < m; ++j) {
    int32_t acc = 0;
    for (size_t c = 0; c < bytes; ++c) acc += int32_t(rows[j][c]) * int32_t(q[c]);
    out[j] = acc;
  }
}

}  // namespace

const Kernels kScalarKernels = {
    SimdLevel::Scalar,      inner_product_scalar, l2sqr_scalar, scores_packed_scalar,
    select_at_least_scalar, sq8_dots_scalar, rq4_dots_scalar, rq1_dots_scalar, sq8_dots_rows_scalar,
};

}  // namespace semvec
