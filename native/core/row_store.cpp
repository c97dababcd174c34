#include "row_store.h"

#include <algorithm>
#include <cstring>

#include "distances.h"
#include "thread_pool.h"

namespace semvec {

size_t RowStore::memory_usage() const {
  return rows_.capacity() * sizeof(float) + sqnorms_.capacity() * sizeof(float) +
         ids_.capacity() * sizeof(uint64_t);
}

void RowStore::reserve(size_t n) {
  if (n * dim_ <= rows_.capacity()) return;
  const size_t want = std::max(n, size_ + size_ / 2);
  rows_.reserve(want * dim_);
  if (with_norms_) sqnorms_.reserve(want);
  ids_.reserve(want);
}

void RowStore::append(const float* x, size_t n, const uint64_t* ids, ThreadPool* pool) {
  if (n == 0) return;
  reserve(size_ + n);
  const size_t first = size_;
  rows_.resize((first + n) * dim_);
  if (with_norms_) sqnorms_.resize(first + n);
  ids_.resize(first + n);
  std::memcpy(ids_.data() + first, ids, n * sizeof(uint64_t));
  const Kernels& kn = kernels();
  const size_t tasks = pool && n >= 4096 ? pool->threads() * 4 : 1;
  auto work = [&](size_t t) {
    const size_t i0 = n * t / tasks, i1 = n * (t + 1) / tasks;
    std::memcpy(rows_.data() + (first + i0) * dim_, x + i0 * dim_, (i1 - i0) * dim_ * sizeof(float));
    if (with_norms_)
      for (size_t i = i0; i < i1; ++i) sqnorms_[first + i] = kn.inner_product(x + i * dim_, x + i * dim_, dim_);
  };
  if (tasks > 1) {
    pool->parallel_for(tasks, work);
  } else {
    work(0);
  }
  size_ = first + n;
}

uint64_t RowStore::remove_slot(size_t slot) {
  const size_t last = size_ - 1;
  if (slot != last) {
    std::memcpy(rows_.data() + slot * dim_, rows_.data() + last * dim_, dim_ * sizeof(float));
    if (with_norms_) sqnorms_[slot] = sqnorms_[last];
    ids_[slot] = ids_[last];
  }
  const uint64_t at_slot = ids_[slot];
  size_ = last;
  rows_.resize(size_ * dim_);
  if (with_norms_) sqnorms_.resize(size_);
  ids_.resize(size_);
  return at_slot;
}

void RowStore::unpack_rows(size_t first, size_t count, float* out) const {
  if (count > 0) std::memcpy(out, row(first), count * dim_ * sizeof(float));
}

}  // namespace semvec
