#include "quantized_linear.h"

namespace semvec {

QuantizedLinear::QuantizedLinear(size_t k, const std::vector<LinearPart>& parts) : k_(k) {
  for (const LinearPart& p : parts) n_ += p.n;
  groups_ = (k + 3) / 4;
  blocks_ = (n_ + 15) / 16;
  const size_t cols = blocks_ * 16;
  packed_.resize(blocks_ * groups_ * 64);  // zero: the padding of k and n
  scale_.resize(cols);
  bias_.resize(cols);
  zero_point_.resize(cols);
  col_term_.resize(cols);
  size_t c0 = 0;
  for (const LinearPart& p : parts) {
    for (size_t c = 0; c < p.n; ++c) {
      const size_t col = c0 + c;
      int8_t* blk = packed_.data() + (col / 16) * groups_ * 64 + (col % 16) * 4;
      int64_t colsum = 0;
      for (size_t i = 0; i < k; ++i) {
        const int8_t w = p.weight[i * p.n + c];
        blk[(i / 4) * 64 + i % 4] = w;
        colsum += w;
      }
      const int32_t zw = p.zero_point[p.zero_point_length == 1 ? 0 : c];
      zero_point_[col] = zw;
      col_term_[col] = static_cast<int32_t>(colsum - static_cast<int64_t>(k) * zw);
      scale_[col] = p.scale[p.scale_length == 1 ? 0 : c] * p.scale_multiplier;
      bias_[col] = p.bias[c] * p.scale_multiplier;
    }
    c0 += p.n;
  }
}

GemmWeights QuantizedLinear::weights() const {
  GemmWeights w;
  w.packed = packed_.data();
  w.k = k_;
  w.n = n_;
  w.groups = groups_;
  w.blocks = blocks_;
  w.scale = scale_.data();
  w.zero_point = zero_point_.data();
  w.col_term = col_term_.data();
  w.bias = bias_.data();
  return w;
}

size_t QuantizedLinear::memory_usage() const {
  return packed_.size() + (scale_.size() + bias_.size()) * sizeof(float) +
         (zero_point_.size() + col_term_.size()) * sizeof(int32_t);
}

}  // namespace semvec
