#include "graph_store.h"

#include <algorithm>
#include <cstring>

#include "distances.h"
#include "graph_codes.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

GraphStore::GraphStore(size_t dim, size_t degree, bool l2)
    : dim_(dim), degree_(degree), l2_(l2), code_stride_(graph_code_stride(dim)) {}

size_t GraphStore::link_count(size_t slot) const {
  const uint32_t* row = links(slot);
  size_t n = 0;
  while (n < degree_ && row[n] != kNoLink) ++n;
  return n;
}

size_t GraphStore::memory_usage() const {
  return vectors_.capacity() * sizeof(float) + sqnorms_.capacity() * sizeof(float) + codes_.capacity() +
         links_.capacity() * sizeof(uint32_t) + ids_.capacity() * sizeof(uint64_t) + deleted_.capacity();
}

void GraphStore::reserve(size_t n) {
  if (n <= ids_.capacity()) return;
  const size_t want = std::max(n, size_ + size_ / 2);
  vectors_.reserve(want * dim_);
  if (l2_) sqnorms_.reserve(want);
  codes_.reserve(want * code_stride_);
  links_.reserve(want * degree_);
  ids_.reserve(want);
  deleted_.reserve(want);
}

void GraphStore::resize(size_t n) {
  reserve(n);
  vectors_.resize(n * dim_);
  if (l2_) sqnorms_.resize(n);
  codes_.resize(n * code_stride_);
  links_.resize(n * degree_);
  ids_.resize(n);
  deleted_.resize(n);
  size_ = n;
}

void GraphStore::append(const float* x, size_t n, const uint64_t* ids, bool normalize, ThreadPool* pool) {
  if (n == 0) return;
  const size_t first = size_;
  resize(first + n);
  std::memcpy(ids_.data() + first, ids, n * sizeof(uint64_t));
  std::fill(links_.data() + first * degree_, links_.data() + (first + n) * degree_, kNoLink);
  float* rows = vectors_.data() + first * dim_;
  const Kernels& kn = kernels();
  const size_t tasks = pool && n >= 4096 ? pool->threads() * 4 : 1;
  auto copy = [&](size_t t) {
    const size_t i0 = n * t / tasks, i1 = n * (t + 1) / tasks;
    if (normalize) {
      fvec_normalized_L2(x + i0 * dim_, i1 - i0, dim_, rows + i0 * dim_);
    } else {
      std::memcpy(rows + i0 * dim_, x + i0 * dim_, (i1 - i0) * dim_ * sizeof(float));
    }
    if (l2_)
      for (size_t i = i0; i < i1; ++i) sqnorms_[first + i] = kn.inner_product(rows + i * dim_, rows + i * dim_, dim_);
  };
  if (tasks > 1) {
    pool->parallel_for(tasks, copy);
  } else {
    copy(0);
  }
  encode_graph_codes(rows, n, dim_, l2_, codes_.data() + first * code_stride_, pool);
}

void GraphStore::set_links(size_t slot, const uint32_t* to, size_t count) {
  uint32_t* row = links_.data() + slot * degree_;
  std::copy(to, to + count, row);
  std::fill(row + count, row + degree_, kNoLink);
}

std::vector<uint32_t> GraphStore::compact(const std::vector<uint8_t>& keep) {
  std::vector<uint32_t> moved(size_, kNoLink);
  size_t n = 0;
  for (size_t s = 0; s < size_; ++s)
    if (keep[s]) moved[s] = static_cast<uint32_t>(n++);
  std::vector<uint32_t> row(degree_);
  for (size_t s = 0; s < size_; ++s) {
    if (!keep[s]) continue;
    const size_t to = moved[s];
    size_t count = 0;
    for (size_t j = 0; j < degree_; ++j) {
      const uint32_t v = links_[s * degree_ + j];
      if (v == kNoLink) break;
      if (moved[v] != kNoLink) row[count++] = moved[v];
    }
    // to <= s: every array moves down, never over a row still to be read.
    if (to != s) {
      std::memmove(vectors_.data() + to * dim_, vectors_.data() + s * dim_, dim_ * sizeof(float));
      if (l2_) sqnorms_[to] = sqnorms_[s];
      std::memmove(codes_.data() + to * code_stride_, codes_.data() + s * code_stride_, code_stride_);
      ids_[to] = ids_[s];
      deleted_[to] = deleted_[s];
    }
    set_links(to, row.data(), count);
  }
  vectors_.resize(n * dim_);
  if (l2_) sqnorms_.resize(n);
  codes_.resize(n * code_stride_);
  links_.resize(n * degree_);
  ids_.resize(n);
  deleted_.resize(n);
  size_ = n;
  return moved;
}

}  // namespace semvec
