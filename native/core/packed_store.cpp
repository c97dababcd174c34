#include "packed_store.h"

#include <algorithm>
#include <cmath>

#include "distances.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

PackedStore::PackedStore(size_t dim, bool with_norms, size_t size, PodStorage<float> blocks,
                         PodStorage<float> sqnorms, PodStorage<uint64_t> ids)
    : dim_(dim),
      with_norms_(with_norms),
      size_(size),
      blocks_(std::move(blocks)),
      sqnorms_(std::move(sqnorms)),
      ids_(std::move(ids)) {
  const size_t padded = blocks_for(size) * kBlock;
  if (blocks_.size() != padded * dim || sqnorms_.size() != (with_norms ? padded : 0) || ids_.size() < size)
    throw Error(ErrorCode::Internal, "packed store arrays do not match their size");
  if (!ids_.borrowed()) ids_.owned().resize(size);
}

size_t PackedStore::memory_usage() const {
  return blocks_.heap_bytes() + sqnorms_.heap_bytes() + ids_.heap_bytes();
}

void PackedStore::reserve(size_t n) {
  const size_t nb = blocks_for(n);
  PodBuffer<float>& blocks = blocks_.owned();
  if (nb * kBlock * dim_ <= blocks.capacity()) return;
  const size_t want = std::max(nb, blocks_for(size_) + blocks_for(size_) / 2);
  blocks.reserve(want * kBlock * dim_);
  if (with_norms_) sqnorms_.owned().reserve(want * kBlock);
  ids_.owned().reserve(want * kBlock);
}

void PackedStore::pack_row(const float* row, size_t slot, bool normalize) {
  const Kernels& kn = kernels();
  float* dst = at(slot);
  float sq = 0.0f;  // the stored squared norm (with_norms_ only)
  if (normalize) {
    // The norm in double where the float sum of squares over- or
    // underflowed, so that extreme vectors still become unit vectors.
    const double norm = fvec_norm_L2(row, dim_);
    const float scale = static_cast<float>(1.0 / norm);
    if (norm == 0.0) {
      for (size_t c = 0; c < dim_; ++c) dst[c * kBlock] = row[c];
      sq = 0.0f;
    } else if (std::isnormal(scale)) {
      for (size_t c = 0; c < dim_; ++c) dst[c * kBlock] = row[c] * scale;
      sq = 1.0f;
    } else {  // 1 / norm is not a normal float: scale in double
      for (size_t c = 0; c < dim_; ++c) dst[c * kBlock] = static_cast<float>(row[c] / norm);
      sq = 1.0f;
    }
  } else {
    if (with_norms_) sq = kn.inner_product(row, row, dim_);
    for (size_t c = 0; c < dim_; ++c) dst[c * kBlock] = row[c];
  }
  if (with_norms_) sqnorms_.owned()[slot] = sq;
}

void PackedStore::append(const float* x, size_t n, const uint64_t* ids, bool normalize,
                         ThreadPool* pool) {
  if (n == 0) return;
  reserve(size_ + n);
  const size_t first = size_;
  blocks_.owned().resize(blocks_for(first + n) * kBlock * dim_);
  if (with_norms_) sqnorms_.owned().resize(blocks_for(first + n) * kBlock);
  PodBuffer<uint64_t>& own_ids = ids_.owned();
  own_ids.resize(first + n);
  for (size_t i = 0; i < n; ++i) own_ids[first + i] = ids[i];

  // Tasks cover whole destination blocks so no two write the same block.
  const size_t b0 = first / kBlock, nblocks = blocks_for(first + n) - b0;
  const size_t tasks = pool && n >= 4096 ? std::min(nblocks, pool->threads() * 4) : 1;
  auto work = [&](size_t t) {
    size_t s0 = std::max(first, (b0 + nblocks * t / tasks) * kBlock);
    size_t s1 = std::min(first + n, (b0 + nblocks * (t + 1) / tasks) * kBlock);
    for (size_t s = s0; s < s1; ++s) pack_row(x + (s - first) * dim_, s, normalize);
  };
  if (tasks > 1) {
    pool->parallel_for(tasks, work);
  } else {
    work(0);
  }
  size_ = first + n;
}

uint64_t PackedStore::remove_slot(size_t slot) {
  const size_t last = size_ - 1;
  PodBuffer<uint64_t>& ids = ids_.owned();
  float* lane_last = at(last);
  if (slot != last) {
    float* dst = at(slot);
    for (size_t c = 0; c < dim_; ++c) dst[c * kBlock] = lane_last[c * kBlock];
    if (with_norms_) sqnorms_.owned()[slot] = sqnorms_[last];
    ids[slot] = ids[last];
  }
  const uint64_t at_slot = ids[slot];
  // Keep padding lanes zero.
  for (size_t c = 0; c < dim_; ++c) lane_last[c * kBlock] = 0.0f;
  if (with_norms_) sqnorms_.owned()[last] = 0.0f;
  size_ = last;
  ids.resize(size_);
  blocks_.owned().resize(blocks_for(size_) * kBlock * dim_);
  if (with_norms_) sqnorms_.owned().resize(blocks_for(size_) * kBlock);
  return at_slot;
}

void PackedStore::unpack_rows(size_t first, size_t count, float* out) const {
  for (size_t i = 0; i < count; ++i) {
    const float* src = at(first + i);
    for (size_t c = 0; c < dim_; ++c) out[i * dim_ + c] = src[c * kBlock];
  }
}

PackedRun PackedStore::run(size_t first, size_t last) const {
  PackedRun r;
  r.blocks = blocks_.data() + (first / kBlock) * kBlock * dim_;
  r.sqnorms = with_norms_ ? sqnorms_.data() + first : nullptr;
  r.ids = ids_.data() + first;
  r.count = last - first;
  return r;
}

void PackedStore::clear() {
  size_ = 0;
  blocks_ = PodStorage<float>();
  sqnorms_ = PodStorage<float>();
  ids_ = PodStorage<uint64_t>();
}

}  // namespace semvec
