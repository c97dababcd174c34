// Vectors in the packed block layout (see distances.h) with their ids and,
// for L2, their squared norms: the storage of a flat index, of the
// centroids of k-means and IVF, and of each f32 IVF inverted list (sq8
// lists keep their floats row-major: row_store.h). Slots are dense:
// removing a slot moves the last vector into it. Padding lanes of the last
// block always hold zeros.
#pragma once

#include <cstddef>
#include <cstdint>

#include "buffer.h"
#include "distances.h"
#include "scan.h"

namespace semvec {

class ThreadPool;

class PackedStore {
 public:
  PackedStore(size_t dim, bool with_norms) : dim_(dim), with_norms_(with_norms) {}
  PackedStore(PackedStore&&) noexcept = default;
  PackedStore& operator=(PackedStore&&) noexcept = default;

  size_t size() const { return size_; }
  size_t dim() const { return dim_; }
  const uint64_t* ids() const { return ids_.data(); }
  size_t memory_usage() const;

  // Makes room for n vectors in all; grows geometrically.
  void reserve(size_t n);

  // Appends n rows (x: n * dim) with their ids. With `normalize`, each row is
  // scaled to unit norm as it is packed (zero rows stay zero). Uses `pool`
  // (may be null) for large appends. Call reserve(size() + n) first: then
  // append allocates nothing and cannot fail.
  void append(const float* x, size_t n, const uint64_t* ids, bool normalize, ThreadPool* pool);

  // Moves the last vector into `slot` and shrinks by one; returns the id now
  // at `slot` (the moved one), or the removed id if `slot` was the last.
  uint64_t remove_slot(size_t slot);

  // Copies vectors [first, first + count) to out, row-major.
  void unpack_rows(size_t first, size_t count, float* out) const;

  // All vectors, for scanning.
  PackedRun run() const { return run(0, size_); }
  // Vectors [first, last), first a multiple of kBlock.
  PackedRun run(size_t first, size_t last) const;

  void clear();

 private:
  void pack_row(const float* row, size_t slot, bool normalize);
  // Component c of `slot` is at at(slot)[c * kBlock].
  float* at(size_t slot) { return blocks_.data() + (slot / kBlock) * kBlock * dim_ + slot % kBlock; }
  const float* at(size_t slot) const { return const_cast<PackedStore*>(this)->at(slot); }

  size_t dim_;
  bool with_norms_;
  size_t size_ = 0;
  PodBuffer<float> blocks_;
  PodBuffer<float> sqnorms_;
  PodBuffer<uint64_t> ids_;
};

}  // namespace semvec
