// One inverted list of an IVF index: the vectors of one k-means cell, with
// their ids, stored as the index's encoding wants them.
//   F32: packed (PackedStore), scanned with the flat index's kernels.
//   Sq8: row-major floats (RowStore) and their 8-bit codes (CodeStore,
//        sq8.h), slot for slot: a probe scans the codes and reads only the
//        chosen candidates' floats, to re-rank them.
// Vectors arrive as they are stored (unit vectors already for Cosine).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <variant>

#include "packed_store.h"
#include "row_store.h"
#include "sq8.h"

namespace semvec {

class ThreadPool;

enum class IvfEncoding : uint32_t { F32 = 0, Sq8 = 1 };

const char* ivf_encoding_name(IvfEncoding encoding);

class IvfList {
 public:
  IvfList(size_t dim, bool l2, IvfEncoding encoding);
  // A list over existing stores (read from or mapped onto a file).
  explicit IvfList(PackedStore packed) : store_(std::move(packed)) {}
  IvfList(RowStore rows, CodeStore codes) : store_(Sq8{std::move(rows), std::move(codes)}) {}

  size_t size() const;
  const uint64_t* ids() const;
  // Heap bytes held (borrowed arrays cost none).
  size_t memory_usage() const;

  // F32 lists: the packed vectors.
  const PackedStore& packed() const { return std::get<PackedStore>(store_); }
  // Sq8 lists: the floats and their codes.
  const RowStore& rows() const { return std::get<Sq8>(store_).rows; }
  const CodeStore& codes() const { return std::get<Sq8>(store_).codes; }

  // Makes room for n vectors in all.
  void reserve(size_t n);
  // Appends n rows (x: n * dim) with their ids; Sq8 lists also encode them
  // as residuals of `centroid` (dim values; unused by F32 lists). Call
  // reserve(size() + n) first: then this allocates nothing, cannot fail.
  void append(const float* x, size_t n, const uint64_t* ids, const float* centroid, ThreadPool* pool);
  // Appends the floats only (a load; Sq8 lists: encode() them after).
  void append_floats(const float* x, size_t n, const uint64_t* ids, ThreadPool* pool);
  // Sq8 lists after a load, which stores no codes: the codes of every
  // vector against `centroid`.
  void encode(const float* centroid);
  // Moves the last vector into `slot` and shrinks by one; returns the id now
  // at `slot` (the moved one), or the removed id if `slot` was the last.
  uint64_t remove_slot(size_t slot);
  // Copies vectors [first, first + count) to out, row-major.
  void unpack_rows(size_t first, size_t count, float* out) const;

 private:
  struct Sq8 {
    RowStore rows;
    CodeStore codes;
  };
  std::variant<PackedStore, Sq8> store_;
};

}  // namespace semvec
