#include "graph_codes.h"

#include <atomic>
#include <cmath>
#include <cstring>

#include "distances.h"
#include "thread_pool.h"

namespace semvec {

namespace {

void write_range(uint8_t* row, size_t dim, const Sq8Range& r) {
  float v[3] = {r.lo, r.step, r.bias};
  std::memcpy(row + graph_code_bytes(dim), v, sizeof(v));
}

}  // namespace

Sq8Range graph_code_range(const uint8_t* row, size_t dim) {
  float v[3];
  std::memcpy(v, row + graph_code_bytes(dim), sizeof(v));
  return {v[0], v[1], v[2]};
}

void encode_graph_codes(const float* x, size_t n, size_t dim, bool l2, uint8_t* rows, ThreadPool* pool) {
  const size_t stride = graph_code_stride(dim);
  auto encode = [&](size_t first, size_t last) {
    std::vector<double> scratch(dim);
    for (size_t i = first; i < last; ++i) {
      uint8_t* row = rows + i * stride;
      write_range(row, dim, sq8_encode(x + i * dim, nullptr, dim, l2, row, scratch));
    }
  };
  constexpr size_t kChunk = 1024;
  if (pool == nullptr || n <= kChunk) {
    encode(0, n);
    return;
  }
  std::atomic<size_t> next{0};
  pool->parallel_for(pool->threads(), [&](size_t) {
    for (size_t c = next++; c * kChunk < n; c = next++) encode(c * kChunk, std::min(n, (c + 1) * kChunk));
  });
}

void GraphProbe::prepare(const float* q, size_t dim, bool l2) {
  if (origin_.size() != dim) origin_.assign(dim, 0.0f);
  dim_ = dim;
  code_bytes_ = graph_code_bytes(dim);
  probe_.prepare(q, origin_.data(), dim, l2);
}

void GraphProbe::score(const uint8_t* const* rows, size_t m, float* out) {
  if (dots_.size() < m) dots_.resize(m);
  kernels().sq8_dots_rows(probe_.w.data(), rows, m, code_bytes_, dots_.data());
  const Sq8Probe& p = probe_;
  const float a = p.factor_f * p.alpha_f, t = p.factor_f * p.tsum_f;
  for (size_t j = 0; j < m; ++j) {
    const Sq8Range r = graph_code_range(rows[j], dim_);
    float s = p.base_f + (r.lo * t + r.step * a * static_cast<float>(dots_[j])) + r.bias;
    // Float overflowed (extreme vectors): this one again, in double.
    if (!std::isfinite(s)) s = p.score(dots_[j], r.lo, r.step, r.bias);
    out[j] = s;
  }
}

}  // namespace semvec
