#include "sq8.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "distances.h"

namespace semvec {

namespace {
size_t blocks_for(size_t n) { return (n + kBlock - 1) / kBlock; }
}  // namespace

Sq8Codec::Sq8Codec(size_t dim) : dim_(dim), vmin_(dim, 0.0f), step_(dim, 1.0f) {}

void Sq8Codec::train(const float* x, size_t n, bool normalize) {
  const Kernels& kn = kernels();
  std::vector<float> hi(dim_, -std::numeric_limits<float>::infinity());
  std::fill(vmin_.begin(), vmin_.end(), std::numeric_limits<float>::infinity());
  for (size_t i = 0; i < n; ++i) {
    const float* row = x + i * dim_;
    float scale = 1.0f;
    if (normalize) {
      const float sq = kn.inner_product(row, row, dim_);
      if (sq > 0.0f) scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(sq)));
    }
    for (size_t c = 0; c < dim_; ++c) {
      vmin_[c] = std::min(vmin_[c], row[c] * scale);
      hi[c] = std::max(hi[c], row[c] * scale);
    }
  }
  float narrowest = std::numeric_limits<float>::infinity();
  for (size_t c = 0; c < dim_; ++c) {
    step_[c] = std::min(hi[c] - vmin_[c], std::numeric_limits<float>::max()) / 255.0f;
    if (step_[c] > 0.0f) narrowest = std::min(narrowest, step_[c]);
  }
  // A constant component (code 0) still needs a positive step; the narrowest
  // one keeps its query weight from crowding the others out of 8 bits.
  for (float& s : step_)
    if (!(s > 0.0f)) s = std::isfinite(narrowest) ? narrowest : 1.0f;
}

void Sq8Codec::set(const float* vmin, const float* step) {
  vmin_.assign(vmin, vmin + dim_);
  step_.assign(step, step + dim_);
}

void Sq8Codec::encode(const float* row, uint8_t* block, size_t lane) const {
  for (size_t c = 0; c < dim_; ++c) {
    const float v = std::nearbyint((row[c] - vmin_[c]) / step_[c]);
    block[(c / 4) * 64 + lane * 4 + c % 4] = static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, v)));
  }
}

void Sq8Codec::prepare(const float* q, Query& out) const {
  out.w.assign(groups() * 4, 0);
  double base = 0.0;
  float top = 0.0f;
  for (size_t c = 0; c < dim_; ++c) {
    base += static_cast<double>(q[c]) * vmin_[c];
    top = std::max(top, std::abs(q[c] * step_[c]));
  }
  out.base = static_cast<float>(base);
  out.alpha = top > 0.0f ? top / 127.0f : 1.0f;
  for (size_t c = 0; c < dim_; ++c)
    out.w[c] = static_cast<int8_t>(std::nearbyint(q[c] * step_[c] / out.alpha));
}

void CodeStore::reserve(size_t n) {
  const size_t nb = blocks_for(n);
  if (nb * block_bytes_ <= codes_.capacity()) return;
  codes_.reserve(std::max(nb, blocks_for(size_) + blocks_for(size_) / 2) * block_bytes_);
}

void CodeStore::append(const Sq8Codec& codec, const float* x, size_t n) {
  if (n == 0) return;
  reserve(size_ + n);
  codes_.resize(blocks_for(size_ + n) * block_bytes_);
  for (size_t i = 0; i < n; ++i) {
    const size_t slot = size_ + i;
    codec.encode(x + i * codec.dim(), codes_.data() + (slot / kBlock) * block_bytes_, slot % kBlock);
  }
  size_ += n;
}

void CodeStore::remove_slot(size_t slot) {
  const size_t last = size_ - 1;
  const size_t dim = block_bytes_ / 16;  // components, padded to a multiple of 4
  for (size_t c = 0; c < dim; ++c) {
    if (slot != last) *lane(slot, c) = *lane(last, c);
    *lane(last, c) = 0;
  }
  size_ = last;
  codes_.resize(blocks_for(size_) * block_bytes_);
}

}  // namespace semvec
