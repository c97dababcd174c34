#include "graph_codes.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "distances.h"
#include "graph_store.h"
#include "round_int.h"
#include "thread_pool.h"

namespace semvec {

namespace {

void write_range(uint8_t* row, size_t dim, const Sq8Range& r) {
  float v[3] = {r.lo, r.step, r.bias};
  std::memcpy(row + graph_code_bytes(dim), v, sizeof(v));
}

// Where an anchor is first looked for in a table of size mask + 1.
size_t home(uint32_t anchor, size_t mask) { return (anchor * 0x9E3779B1u) & mask; }

}  // namespace

Sq8Range graph_code_range(const uint8_t* row, size_t dim) {
  float v[3];
  std::memcpy(v, row + graph_code_bytes(dim), sizeof(v));
  return {v[0], v[1], v[2]};
}

uint32_t graph_code_anchor(const uint8_t* row, size_t dim) {
  uint32_t field;
  std::memcpy(&field, row + graph_code_bytes(dim) + 3 * sizeof(float), sizeof(field));
  return field == 0 ? kNoAnchor : field - 1;
}

void set_graph_code_anchor(uint8_t* row, size_t dim, uint32_t anchor) {
  const uint32_t field = anchor == kNoAnchor ? 0 : anchor + 1;
  std::memcpy(row + graph_code_bytes(dim) + 3 * sizeof(float), &field, sizeof(field));
}

void encode_graph_codes(const float* x, size_t n, size_t dim, bool l2, size_t stride, uint8_t* rows,
                        ThreadPool* pool) {
  auto encode = [&](size_t first, size_t last) {
    std::vector<double> scratch(dim);
    for (size_t i = first; i < last; ++i) {
      uint8_t* row = rows + i * stride;
      std::memset(row, 0, stride);
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

bool encode_graph_code(const float* x, const uint8_t* anchor_row, uint32_t anchor, size_t dim, bool l2,
                       size_t stride, uint8_t* row, std::vector<double>& scratch) {
  thread_local std::vector<float> c;
  bool anchored = anchor_row != nullptr;
  float bias = 0.0f;
  if (anchored) {
    // The anchor as its code decodes; dropped when farther from x than
    // the origin (it would widen the range).
    c.resize(dim);
    const Sq8Range a = graph_code_range(anchor_row, dim);
    double rr = 0.0, xx = 0.0;
    for (size_t i = 0; i < dim; ++i) {
      c[i] = static_cast<float>(a.lo + static_cast<double>(a.step) * anchor_row[i]);
      const double d = static_cast<double>(x[i]) - c[i];
      rr += d * d;
      xx += static_cast<double>(x[i]) * x[i];
    }
    anchored = rr < 0.5 * xx && std::isfinite(rr);
    // sq8_encode's bias holds <c, r> for the t = q - c form of sq8.h; here
    // <q, c> is added whole, so the bias is what remains: -||x||^2 or 0.
    bias = l2 ? clamp_to_float(-xx) : 0.0f;
  }
  std::memset(row, 0, stride);
  Sq8Range r = sq8_encode(x, anchored ? c.data() : nullptr, dim, l2, row, scratch);
  if (anchored) r.bias = bias;
  write_range(row, dim, r);
  set_graph_code_anchor(row, dim, anchored ? anchor : kNoAnchor);
  return anchored;
}

void GraphProbe::prepare(const float* q, const GraphStore& g) {
  const size_t dim = g.dim();
  if (origin_.size() != dim) origin_.assign(dim, 0.0f);
  dim_ = dim;
  code_bytes_ = graph_code_bytes(dim);
  g_ = &g;
  has_anchor_ = graph_code_has_anchor(dim, g.code_stride());
  probe_.prepare(q, origin_.data(), dim, g.l2());
  constexpr size_t kInitial = 256;
  if (keys_.size() != kInitial) {
    keys_.assign(kInitial, kNoAnchor);
    terms_.assign(kInitial, 0.0);
  } else if (used_ > 0) {
    std::fill(keys_.begin(), keys_.end(), kNoAnchor);
  }
  used_ = 0;
}

void GraphProbe::grow(size_t want) {
  size_t size = keys_.size();
  while (2 * want > size) size *= 2;
  if (size == keys_.size()) return;
  std::vector<uint32_t> keys(size, kNoAnchor);
  std::vector<double> terms(size);
  const size_t mask = size - 1;
  for (size_t j = 0; j < keys_.size(); ++j) {
    if (keys_[j] == kNoAnchor) continue;
    size_t k = home(keys_[j], mask);
    while (keys[k] != kNoAnchor) k = (k + 1) & mask;
    keys[k] = keys_[j];
    terms[k] = terms_[j];
  }
  keys_.swap(keys);
  terms_.swap(terms);
}

void GraphProbe::anchor_terms(const uint8_t* const* rows, size_t m) {
  // Room for every row's anchor first: the places found stay valid.
  grow(used_ + m);
  const size_t mask = keys_.size() - 1;
  at_.resize(m);
  pending_.clear();
  for (size_t j = 0; j < m; ++j) {
    const uint32_t a = graph_code_anchor(rows[j], dim_);
    if (a == kNoAnchor) {
      at_[j] = kNoAnchor;
      continue;
    }
    size_t i = home(a, mask);
    while (keys_[i] != kNoAnchor && keys_[i] != a) i = (i + 1) & mask;
    if (keys_[i] == kNoAnchor) {
      keys_[i] = a;
      ++used_;
      pending_.push_back(static_cast<uint32_t>(i));
    }
    at_[j] = static_cast<uint32_t>(i);
  }
  if (pending_.empty()) return;
  // The new anchors' codes scored as rows (they have no anchor), in one
  // call, without their bias.
  const size_t n = pending_.size();
  anchor_rows_.resize(n);
  anchor_dots_.resize(n);
  for (size_t k = 0; k < n; ++k) anchor_rows_[k] = g_->code(keys_[pending_[k]]);
  kernels().sq8_dots_rows(probe_.w.data(), anchor_rows_.data(), n, code_bytes_, anchor_dots_.data());
  const Sq8Probe& p = probe_;
  for (size_t k = 0; k < n; ++k) {
    const Sq8Range r = graph_code_range(anchor_rows_[k], dim_);
    terms_[pending_[k]] = p.factor * (r.lo * p.tsum + r.step * p.alpha * static_cast<double>(anchor_dots_[k]));
  }
}

void GraphProbe::score(const uint8_t* const* rows, size_t m, float* out) {
  if (dots_.size() < m) dots_.resize(m);
  kernels().sq8_dots_rows(probe_.w.data(), rows, m, code_bytes_, dots_.data());
  if (has_anchor_) anchor_terms(rows, m);
  const Sq8Probe& p = probe_;
  const float a = p.factor_f * p.alpha_f, t = p.factor_f * p.tsum_f;
  for (size_t j = 0; j < m; ++j) {
    const Sq8Range r = graph_code_range(rows[j], dim_);
    float s = p.base_f + (r.lo * t + r.step * a * static_cast<float>(dots_[j])) + r.bias;
    if (has_anchor_ && at_[j] != kNoAnchor) {
      const double c = terms_[at_[j]];
      s += static_cast<float>(c);
      // Float overflowed (extreme vectors): this one again, in double.
      if (!std::isfinite(s)) s = clamp_to_float(static_cast<double>(p.score(dots_[j], r.lo, r.step, r.bias)) + c);
    } else if (!std::isfinite(s)) {
      s = p.score(dots_[j], r.lo, r.step, r.bias);
    }
    out[j] = s;
  }
}

}  // namespace semvec
