#include "row_store.h"

#include <algorithm>
#include <cstring>

#include "distances.h"
#include "thread_pool.h"

namespace semvec {

RowStore::RowStore(size_t dim, bool with_norms, size_t size, PodStorage<float> rows, PodStorage<float> sqnorms,
                   PodStorage<uint64_t> ids)
    : dim_(dim),
      with_norms_(with_norms),
      size_(size),
      rows_(std::move(rows)),
      sqnorms_(std::move(sqnorms)),
      ids_(std::move(ids)) {
  if (rows_.size() < size * dim || sqnorms_.size() < (with_norms ? size : 0) || ids_.size() < size ||
      (rows_.borrowed() && rows_.size() != size * dim))
    throw Error(ErrorCode::Internal, "row store arrays do not match their size");
  if (!rows_.borrowed()) rows_.owned().resize(size * dim);
  if (!sqnorms_.borrowed()) sqnorms_.owned().resize(with_norms ? size : 0);
  if (!ids_.borrowed()) ids_.owned().resize(size);
}

size_t RowStore::memory_usage() const { return rows_.heap_bytes() + sqnorms_.heap_bytes() + ids_.heap_bytes(); }

void RowStore::reserve(size_t n) {
  PodBuffer<float>& rows = rows_.owned();
  if (n * dim_ <= rows.capacity()) return;
  const size_t want = std::max(n, size_ + size_ / 2);
  rows.reserve(want * dim_);
  if (with_norms_) sqnorms_.owned().reserve(want);
  ids_.owned().reserve(want);
}

void RowStore::append(const float* x, size_t n, const uint64_t* ids, ThreadPool* pool) {
  if (n == 0) return;
  reserve(size_ + n);
  const size_t first = size_;
  PodBuffer<float>& rows = rows_.owned();
  PodBuffer<float>& sqnorms = sqnorms_.owned();
  rows.resize((first + n) * dim_);
  if (with_norms_) sqnorms.resize(first + n);
  ids_.owned().resize(first + n);
  std::memcpy(ids_.owned().data() + first, ids, n * sizeof(uint64_t));
  const Kernels& kn = kernels();
  const size_t tasks = pool && n >= 4096 ? pool->threads() * 4 : 1;
  auto work = [&](size_t t) {
    const size_t i0 = n * t / tasks, i1 = n * (t + 1) / tasks;
    std::memcpy(rows.data() + (first + i0) * dim_, x + i0 * dim_, (i1 - i0) * dim_ * sizeof(float));
    if (with_norms_)
      for (size_t i = i0; i < i1; ++i) sqnorms[first + i] = kn.inner_product(x + i * dim_, x + i * dim_, dim_);
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
  PodBuffer<float>& rows = rows_.owned();
  PodBuffer<float>& sqnorms = sqnorms_.owned();
  PodBuffer<uint64_t>& ids = ids_.owned();
  if (slot != last) {
    std::memcpy(rows.data() + slot * dim_, rows.data() + last * dim_, dim_ * sizeof(float));
    if (with_norms_) sqnorms[slot] = sqnorms[last];
    ids[slot] = ids[last];
  }
  const uint64_t at_slot = ids[slot];
  size_ = last;
  rows.resize(size_ * dim_);
  if (with_norms_) sqnorms.resize(size_);
  ids.resize(size_);
  return at_slot;
}

void RowStore::unpack_rows(size_t first, size_t count, float* out) const {
  if (count > 0) std::memcpy(out, row(first), count * dim_ * sizeof(float));
}

}  // namespace semvec
