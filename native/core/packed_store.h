// Vectors in the packed block layout (see distances.h) with their ids and,
// for L2, their squared norms: the storage of a flat index, of the
// centroids of k-means and IVF, and of each f32 IVF inverted list (sq8
// lists keep their floats row-major: row_store.h). Slots are dense:
// removing a slot moves the last vector into it. Padding lanes of the last
// block always hold zeros. The arrays are owned, or borrowed from a mapped
// file (pod_storage.h): a borrowed store is read-only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "distances.h"
#include "pod_storage.h"
#include "scan.h"

namespace semvec {

class ThreadPool;

class PackedStore {
 public:
  PackedStore(size_t dim, bool with_norms) : dim_(dim), with_norms_(with_norms) {}
  // A store of `size` vectors over existing arrays (read from or mapped
  // onto a file): blocks holds blocks_for(size) * kBlock * dim floats;
  // sqnorms blocks_for(size) * kBlock floats with norms, else none; ids at
  // least size ids (owned ids are cut to size). Wrong sizes: ERR_INTERNAL.
  PackedStore(size_t dim, bool with_norms, size_t size, PodStorage<float> blocks, PodStorage<float> sqnorms,
              PodStorage<uint64_t> ids);
  PackedStore(PackedStore&&) noexcept = default;
  PackedStore& operator=(PackedStore&&) noexcept = default;

  size_t size() const { return size_; }
  size_t dim() const { return dim_; }
  bool with_norms() const { return with_norms_; }
  const uint64_t* ids() const { return ids_.data(); }
  // The packed blocks (blocks_for(size()) of kBlock * dim floats, padding
  // lanes zero) and their squared norms (nullptr without norms).
  const float* blocks() const { return blocks_.data(); }
  const float* sqnorms() const { return with_norms_ ? sqnorms_.data() : nullptr; }
  static size_t blocks_for(size_t n) { return (n + kBlock - 1) / kBlock; }
  // Heap bytes held (borrowed arrays cost none).
  size_t memory_usage() const;

  // An owned copy, bit for bit.
  PackedStore copy() const {
    return PackedStore(dim_, with_norms_, size_, blocks_.copy(), sqnorms_.copy(), ids_.copy());
  }

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
  size_t offset(size_t slot) const { return (slot / kBlock) * kBlock * dim_ + slot % kBlock; }
  float* at(size_t slot) { return blocks_.owned().data() + offset(slot); }
  const float* at(size_t slot) const { return blocks_.data() + offset(slot); }

  size_t dim_;
  bool with_norms_;
  size_t size_ = 0;
  PodStorage<float> blocks_;
  PodStorage<float> sqnorms_;
  PodStorage<uint64_t> ids_;
};

}  // namespace semvec
