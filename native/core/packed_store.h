// Vectors in the packed block layout (see distances.h) with their ids and,
// for L2, their squared norms: the storage of a flat index and of each IVF
// inverted list. The lists of an sq8 IVF index, which scan 8-bit codes and
// only read chosen vectors whole, keep theirs row-major instead (`packed`
// false); run() then serves ids and norms only. Slots are dense: removing a slot moves the last vector into
// it. Padding lanes of the last block always hold zeros.
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
  PackedStore(size_t dim, bool with_norms, bool packed = true)
      : dim_(dim), with_norms_(with_norms), packed_(packed) {}
  PackedStore(PackedStore&&) noexcept = default;
  PackedStore& operator=(PackedStore&&) noexcept = default;

  size_t size() const { return size_; }
  size_t dim() const { return dim_; }
  uint64_t id_at(size_t slot) const { return ids_[slot]; }
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

  // Row-major stores only: the vector in `slot`.
  const float* row(size_t slot) const { return blocks_.data() + slot * dim_; }

  // Copies vectors [first, first + count) to out, row-major.
  void unpack_rows(size_t first, size_t count, float* out) const;

  // All vectors, for scanning.
  PackedRun run() const { return run(0, size_); }
  // Vectors [first, last), first a multiple of kBlock.
  PackedRun run(size_t first, size_t last) const;

  void clear();

 private:
  void pack_row(const float* row, size_t slot, bool normalize);
  // Component c of `slot` is at at(slot)[c * stride()].
  float* at(size_t slot) {
    return blocks_.data() + (packed_ ? (slot / kBlock) * kBlock * dim_ + slot % kBlock : slot * dim_);
  }
  const float* at(size_t slot) const { return const_cast<PackedStore*>(this)->at(slot); }
  size_t stride() const { return packed_ ? kBlock : 1; }

  size_t dim_;
  bool with_norms_;
  bool packed_;
  size_t size_ = 0;
  PodBuffer<float> blocks_;
  PodBuffer<float> sqnorms_;
  PodBuffer<uint64_t> ids_;
};

}  // namespace semvec
