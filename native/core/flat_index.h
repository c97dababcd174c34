// Exact (brute-force) index: every query is scored against every stored
// vector with the packed SIMD kernels, and the exact top-k is kept.
//
// Metrics: InnerProduct scores <q, x> (higher is better); Cosine normalises
// stored and query vectors, then scores <q, x>; L2 scores ||q - x||^2 (lower
// is better): the returned scores of search_results.h, which defines the
// convention of every layer. Ids are caller-chosen 64-bit integers, unique
// in the index.
//
// Thread safety: a readers-writer lock guards the index: searches and saves
// share it, add and remove take it alone; it is phase-fair (rw_lock.h), so
// a stream of searches cannot starve a writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "allow_mask.h"
#include "file_format.h"
#include "id_table.h"
#include "metric.h"
#include "packed_store.h"
#include "rw_lock.h"
#include "search_results.h"

namespace semvec {

class FlatIndex {
 public:
  FlatIndex(size_t dim, Metric metric);

  size_t dim() const { return dim_; }
  Metric metric() const { return metric_; }
  size_t size() const;
  uint64_t next_id() const;
  size_t memory_usage() const;
  bool contains(uint64_t id) const;

  // Adds n vectors (x: n * dim). ids: n unique ids not in the index, or
  // nullptr for sequential ids from next_id(). All or nothing: on error the
  // index is unchanged.
  void add(const float* x, size_t n, const uint64_t* ids);

  // Scores nq queries (q: nq * dim) and returns the best min(k, size) per
  // query. k must be >= 1. With an allow-list (allow: n_allow ids; ids not
  // in the index are ignored) only those vectors are returned: min(k, number
  // of allowed vectors) per query, exactly the best among them.
  SearchResults search(const float* q, size_t nq, size_t k, const uint64_t* allow = nullptr,
                       size_t n_allow = 0) const;

  // Removes the given ids (repeats are allowed). All or nothing: if any id is
  // absent, throws Error(NotFound) and removes none. Returns the number removed.
  size_t remove(const uint64_t* ids, size_t n);

  // Copies the stored vector of `id` (normalised, for Cosine) into out (dim).
  void reconstruct(uint64_t id, float* out) const;

  void save(const std::string& path) const;
  // Serialises into memory obtained from alloc(size) (called once, under the
  // lock, so the size matches the contents).
  void serialize(const std::function<void*(size_t)>& alloc) const;

  static std::unique_ptr<FlatIndex> load(const std::string& path);
  static std::unique_ptr<FlatIndex> deserialize(const void* data, size_t size);

 private:
  AllowMasks allow_masks_locked(const uint64_t* allow, size_t n_allow) const;
  size_t payload_bytes_locked() const;
  void write_locked(Writer& w) const;
  static std::unique_ptr<FlatIndex> read(Reader& r);

  size_t dim_;
  Metric metric_;
  uint64_t next_id_ = 0;
  PackedStore store_;  // norms kept for L2 only
  IdTable slot_of_;  // id -> slot
  mutable RwLock mutex_;  // phase-fair: writers are not starved (rw_lock.h)
};

}  // namespace semvec
