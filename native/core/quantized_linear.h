// An int8 linear layer y = x W + b, its weights packed for the encoder GEMM
// (layout and arithmetic in encoder_kernels.h). Several layers sharing an
// input can be packed side by side into one (query, key and value: one GEMM).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "buffer.h"
#include "encoder_kernels.h"

namespace semvec {

// One layer's parameters as given: weight k * n int8, row-major [k][n] (the
// B of ONNX MatMulInteger); scale and zero point per column (length n) or
// per tensor (length 1); bias n. scale_multiplier multiplies the scales and
// the bias (e.g. 1 / sqrt(dh) folded into the query).
struct LinearPart {
  const int8_t* weight = nullptr;
  size_t n = 0;
  const float* scale = nullptr;
  size_t scale_length = 0;
  const int32_t* zero_point = nullptr;
  size_t zero_point_length = 0;
  const float* bias = nullptr;
  float scale_multiplier = 1.0f;
};

class QuantizedLinear {
 public:
  QuantizedLinear() = default;
  // The parts' columns side by side; the caller has checked every length
  // and that 1 <= k <= kMaxGemmK and every zero point is in -128..127.
  QuantizedLinear(size_t k, const std::vector<LinearPart>& parts);

  size_t k() const { return k_; }
  size_t n() const { return n_; }
  // Bytes of an activation row this layer reads: k rounded up to 4.
  size_t padded_k() const { return groups_ * 4; }
  size_t blocks() const { return blocks_; }
  GemmWeights weights() const;
  size_t memory_usage() const;

 private:
  size_t k_ = 0, n_ = 0, groups_ = 0, blocks_ = 0;
  PodBuffer<int8_t> packed_;
  PodBuffer<float> scale_, bias_;
  PodBuffer<int32_t> zero_point_, col_term_;
};

}  // namespace semvec
