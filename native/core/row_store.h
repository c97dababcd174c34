// Vectors kept row-major with their ids and, for L2, their squared norms:
// the floats of an sq8 IVF list, whose scan reads the 8-bit codes (sq8.h)
// and then only the chosen candidates' vectors, whole, to re-rank them.
// Slots are dense and match the list's codes slot for slot: removing a slot
// moves the last vector into it. The arrays are owned, or borrowed from a
// mapped file (pod_storage.h): a borrowed store is read-only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pod_storage.h"

namespace semvec {

class ThreadPool;

class RowStore {
 public:
  RowStore(size_t dim, bool with_norms) : dim_(dim), with_norms_(with_norms) {}
  // A store of `size` vectors over existing arrays (read from or mapped
  // onto a file): rows size * dim floats, sqnorms size floats with norms
  // (else none), ids size ids; owned arrays may be longer and are cut to
  // size. Wrong sizes: ERR_INTERNAL.
  RowStore(size_t dim, bool with_norms, size_t size, PodStorage<float> rows, PodStorage<float> sqnorms,
           PodStorage<uint64_t> ids);
  RowStore(RowStore&&) noexcept = default;
  RowStore& operator=(RowStore&&) noexcept = default;

  size_t size() const { return size_; }
  size_t dim() const { return dim_; }
  const uint64_t* ids() const { return ids_.data(); }
  // size() squared norms, or nullptr without norms.
  const float* sqnorms() const { return with_norms_ ? sqnorms_.data() : nullptr; }
  // The vector in `slot` (dim values).
  const float* row(size_t slot) const { return rows_.data() + slot * dim_; }
  // Heap bytes held (borrowed arrays cost none).
  size_t memory_usage() const;

  // Makes room for n vectors in all; grows geometrically.
  void reserve(size_t n);

  // Appends n rows (x: n * dim) with their ids, as they are. Uses `pool`
  // (may be null) for large appends. Call reserve(size() + n) first: then
  // append allocates nothing and cannot fail.
  void append(const float* x, size_t n, const uint64_t* ids, ThreadPool* pool);

  // Moves the last vector into `slot` and shrinks by one; returns the id now
  // at `slot` (the moved one), or the removed id if `slot` was the last.
  uint64_t remove_slot(size_t slot);

  // Copies vectors [first, first + count) to out.
  void unpack_rows(size_t first, size_t count, float* out) const;

 private:
  size_t dim_;
  bool with_norms_;
  size_t size_ = 0;
  PodStorage<float> rows_;     // size * dim
  PodStorage<float> sqnorms_;  // size, with norms only
  PodStorage<uint64_t> ids_;   // size
};

}  // namespace semvec
