#include "sq8.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "distances.h"

namespace semvec {

namespace {
size_t blocks_for(size_t n) { return (n + kBlock - 1) / kBlock; }

// Round to nearest (halves away from zero) without a libm call: this runs
// once per component of every probe and every stored vector.
inline int round_int(float v) { return static_cast<int>(v + (v < 0.0f ? -0.5f : 0.5f)); }
}  // namespace

void Sq8Probe::prepare(const float* q, const float* c, size_t dim, bool l2) {
  w.resize(sq8_groups(dim) * 4);
  t.resize(dim);
  // Four running maxima and sums: independent chains the compiler vectorises.
  float top[4] = {0, 0, 0, 0}, sum[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= dim; i += 4)
    for (size_t k = 0; k < 4; ++k) {
      t[i + k] = q[i + k] - c[i + k];
      sum[k] += t[i + k];
      top[k] = std::max(top[k], std::abs(t[i + k]));
    }
  for (; i < dim; ++i) {
    t[i] = q[i] - c[i];
    sum[0] += t[i];
    top[0] = std::max(top[0], std::abs(t[i]));
  }
  const float most = std::max(std::max(top[0], top[1]), std::max(top[2], top[3]));
  factor = l2 ? 2.0f : 1.0f;
  base = factor * kernels().inner_product(q, c, dim);
  tsum = (sum[0] + sum[1]) + (sum[2] + sum[3]);
  alpha = most > 0.0f ? most / 127.0f : 1.0f;
  const float inv = 1.0f / alpha;
  for (i = 0; i < dim; ++i) w[i] = static_cast<int8_t>(std::clamp(round_int(t[i] * inv), -127, 127));
  std::fill(w.begin() + dim, w.end(), 0);
}

void CodeStore::reserve(size_t n) {
  const size_t nb = blocks_for(n);
  if (nb * block_bytes_ <= codes_.capacity()) return;
  const size_t want = std::max(nb, blocks_for(size_) + blocks_for(size_) / 2);
  codes_.reserve(want * block_bytes_);
  lo_.reserve(want * kBlock);
  step_.reserve(want * kBlock);
  bias_.reserve(want * kBlock);
}

void CodeStore::append(const float* x, size_t n, const float* c) {
  if (n == 0) return;
  reserve(size_ + n);
  codes_.resize(blocks_for(size_ + n) * block_bytes_);
  lo_.resize(size_ + n);
  step_.resize(size_ + n);
  bias_.resize(size_ + n);
  std::vector<float> r(dim_);
  for (size_t j = 0; j < n; ++j) {
    const float* row = x + j * dim_;
    const size_t slot = size_ + j;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo, cr = 0.0, xx = 0.0;
    for (size_t i = 0; i < dim_; ++i) {
      r[i] = row[i] - c[i];
      lo = std::min(lo, static_cast<double>(r[i]));
      hi = std::max(hi, static_cast<double>(r[i]));
      cr += static_cast<double>(c[i]) * r[i];
      xx += static_cast<double>(row[i]) * row[i];
    }
    double step = (hi - lo) / 255.0;
    if (step == 0.0) step = 1.0;  // a constant residual: codes 0, any positive step
    step = std::min(step, static_cast<double>(std::numeric_limits<float>::max()));
    const float flo = static_cast<float>(lo), inv = static_cast<float>(1.0 / step);
    for (size_t i = 0; i < dim_; ++i)
      *byte(slot, i) = static_cast<uint8_t>(std::clamp(round_int((r[i] - flo) * inv), 0, 255));
    lo_[slot] = static_cast<float>(lo);
    step_[slot] = static_cast<float>(step);
    bias_[slot] = static_cast<float>(l2_ ? 2.0 * cr - xx : cr);
  }
  size_ += n;
}

void CodeStore::remove_slot(size_t slot) {
  const size_t last = size_ - 1;
  for (size_t i = 0; i < sq8_groups(dim_) * 4; ++i) {
    if (slot != last) *byte(slot, i) = *byte(last, i);
    *byte(last, i) = 0;
  }
  lo_[slot] = lo_[last];
  step_[slot] = step_[last];
  bias_[slot] = bias_[last];
  size_ = last;
  codes_.resize(blocks_for(size_) * block_bytes_);
  lo_.resize(size_);
  step_.resize(size_);
  bias_.resize(size_);
}

}  // namespace semvec
