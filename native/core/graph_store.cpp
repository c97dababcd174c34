#include "graph_store.h"

#include <algorithm>
#include <cstring>

#include "distances.h"
#include "errors.h"
#include "graph_codes.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

GraphStore::GraphStore(size_t dim, size_t degree, bool l2)
    : dim_(dim), degree_(degree), l2_(l2), code_stride_(graph_code_stride(dim)) {}

GraphStore::GraphStore(size_t dim, size_t degree, bool l2, size_t size, size_t code_stride, PodStorage<float> vectors,
                       PodStorage<float> sqnorms, PodStorage<uint8_t> codes, PodStorage<uint32_t> links,
                       PodStorage<uint64_t> ids, PodStorage<uint8_t> deleted)
    : dim_(dim),
      degree_(degree),
      l2_(l2),
      code_stride_(code_stride),
      size_(size),
      vectors_(std::move(vectors)),
      sqnorms_(std::move(sqnorms)),
      codes_(std::move(codes)),
      links_(std::move(links)),
      ids_(std::move(ids)),
      deleted_(std::move(deleted)) {
  if (vectors_.size() != size * dim || sqnorms_.size() != (l2 ? size : 0) || codes_.size() != size * code_stride_ ||
      links_.size() != size * degree || ids_.size() != size || deleted_.size() != size)
    throw Error(ErrorCode::Internal, "graph arrays do not match their size");
  tombstones_ = count_tombstones();
}

size_t GraphStore::count_tombstones() const {
  return static_cast<size_t>(size_ - std::count(deleted_.data(), deleted_.data() + size_, uint8_t{0}));
}

void GraphStore::set_deleted(size_t slot, bool deleted) {
  uint8_t& flag = deleted_.owned().data()[slot];
  tombstones_ = tombstones_ - (flag != 0) + deleted;
  flag = deleted ? 1 : 0;
}

size_t GraphStore::link_count(size_t slot) const {
  const uint32_t* row = links(slot);
  size_t n = 0;
  while (n < degree_ && row[n] != kNoLink) ++n;
  return n;
}

size_t GraphStore::memory_usage() const {
  return vectors_.heap_bytes() + sqnorms_.heap_bytes() + codes_.heap_bytes() + links_.heap_bytes() +
         ids_.heap_bytes() + deleted_.heap_bytes();
}

void GraphStore::reserve(size_t n) {
  PodBuffer<uint64_t>& ids = ids_.owned();
  if (n <= ids.capacity()) return;
  const size_t want = std::max(n, size_ + size_ / 2);
  vectors_.owned().reserve(want * dim_);
  if (l2_) sqnorms_.owned().reserve(want);
  codes_.owned().reserve(want * code_stride_);
  links_.owned().reserve(want * degree_);
  ids.reserve(want);
  deleted_.owned().reserve(want);
}

void GraphStore::resize(size_t n) {
  reserve(n);
  vectors_.owned().resize(n * dim_);
  if (l2_) sqnorms_.owned().resize(n);
  codes_.owned().resize(n * code_stride_);
  links_.owned().resize(n * degree_);
  ids_.owned().resize(n);
  deleted_.owned().resize(n);
  size_ = n;
}

void GraphStore::append(const float* x, size_t n, const uint64_t* ids, bool normalize, ThreadPool* pool) {
  if (n == 0) return;
  const size_t first = size_;
  resize(first + n);
  std::memcpy(ids_.owned().data() + first, ids, n * sizeof(uint64_t));
  uint32_t* links = links_.owned().data();
  std::fill(links + first * degree_, links + (first + n) * degree_, kNoLink);
  float* rows = vectors_.owned().data() + first * dim_;
  float* sqnorms = l2_ ? sqnorms_.owned().data() : nullptr;
  const Kernels& kn = kernels();
  const size_t tasks = pool && n >= 4096 ? pool->threads() * 4 : 1;
  auto copy = [&](size_t t) {
    const size_t i0 = n * t / tasks, i1 = n * (t + 1) / tasks;
    if (normalize) {
      fvec_normalized_L2(x + i0 * dim_, i1 - i0, dim_, rows + i0 * dim_);
    } else {
      std::memcpy(rows + i0 * dim_, x + i0 * dim_, (i1 - i0) * dim_ * sizeof(float));
    }
    if (sqnorms)
      for (size_t i = i0; i < i1; ++i) sqnorms[first + i] = kn.inner_product(rows + i * dim_, rows + i * dim_, dim_);
  };
  if (tasks > 1) {
    pool->parallel_for(tasks, copy);
  } else {
    copy(0);
  }
  encode_graph_codes(rows, n, dim_, l2_, code_stride_, codes_.owned().data() + first * code_stride_, pool);
}

bool GraphStore::anchored() const { return graph_code_has_anchor(dim_, code_stride_); }

uint32_t GraphStore::anchor(size_t slot) const {
  return anchored() ? graph_code_anchor(code(slot), dim_) : kNoAnchor;
}

bool GraphStore::set_anchor(size_t slot, uint32_t anchor, std::vector<double>& scratch) {
  if (!anchored()) return false;
  const uint8_t* c = anchor == kNoAnchor ? nullptr : code(anchor);
  return encode_graph_code(vector(slot), c, anchor, dim_, l2_, code_stride_, codes_.owned().data() + slot * code_stride_,
                           scratch);
}

void GraphStore::set_links(size_t slot, const uint32_t* to, size_t count) {
  uint32_t* row = links_.owned().data() + slot * degree_;
  std::copy(to, to + count, row);
  std::fill(row + count, row + degree_, kNoLink);
}

std::vector<uint32_t> GraphStore::compact(const std::vector<uint8_t>& keep) {
  std::vector<uint32_t> moved(size_, kNoLink);
  size_t n = 0;
  for (size_t s = 0; s < size_; ++s)
    if (keep[s]) moved[s] = static_cast<uint32_t>(n++);
  float* vectors = vectors_.owned().data();
  float* sqnorms = l2_ ? sqnorms_.owned().data() : nullptr;
  uint8_t* codes = codes_.owned().data();
  const uint32_t* links = links_.owned().data();
  uint64_t* ids = ids_.owned().data();
  uint8_t* deleted = deleted_.owned().data();
  std::vector<uint32_t> row(degree_);
  std::vector<double> scratch;
  const bool anchors = anchored();
  for (size_t s = 0; s < size_; ++s) {
    if (!keep[s]) continue;
    const size_t to = moved[s];
    size_t count = 0;
    for (size_t j = 0; j < degree_; ++j) {
      const uint32_t v = links[s * degree_ + j];
      if (v == kNoLink) break;
      if (moved[v] != kNoLink) row[count++] = moved[v];
    }
    // to <= s: every array moves down, never over a row still to be read.
    if (to != s) {
      std::memmove(vectors + to * dim_, vectors + s * dim_, dim_ * sizeof(float));
      if (sqnorms) sqnorms[to] = sqnorms[s];
      std::memmove(codes + to * code_stride_, codes + s * code_stride_, code_stride_);
      ids[to] = ids[s];
      deleted[to] = deleted[s];
    }
    set_links(to, row.data(), count);
    // The anchor's new slot; a row whose anchor is dropped is encoded
    // again without one.
    uint8_t* code = codes + to * code_stride_;
    const uint32_t a = anchors ? graph_code_anchor(code, dim_) : kNoAnchor;
    if (a != kNoAnchor && moved[a] != kNoLink) {
      set_graph_code_anchor(code, dim_, moved[a]);
    } else if (a != kNoAnchor) {
      encode_graph_code(vectors + to * dim_, nullptr, kNoAnchor, dim_, l2_, code_stride_, code, scratch);
    }
  }
  vectors_.owned().resize(n * dim_);
  if (l2_) sqnorms_.owned().resize(n);
  codes_.owned().resize(n * code_stride_);
  links_.owned().resize(n * degree_);
  ids_.owned().resize(n);
  deleted_.owned().resize(n);
  size_ = n;
  tombstones_ = count_tombstones();
  return moved;
}

}  // namespace semvec
