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
//
// An index opened from a file (open) searches the file's pages in place
// and is read-only: add and remove throw Error(ReadOnly). It holds the
// mapping, which goes when the last holder of the index does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "allow_mask.h"
#include "file_format.h"
#include "file_mapping.h"
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
  // Heap bytes the index holds (a mapped index: its lookup structures only).
  size_t memory_usage() const;
  // Bytes of the file a mapped index maps (0 for an index in memory).
  size_t mapped_bytes() const;
  // Whether the index is mapped from a file, and so read-only.
  bool read_only() const { return mapping_ != nullptr; }
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

  // An index in memory from a file (any format) or its bytes.
  static std::unique_ptr<FlatIndex> load(const std::string& path);
  static std::unique_ptr<FlatIndex> deserialize(const void* data, size_t size);

  // A read-only index over the file mapped into memory (format 3 or
  // later; an older file is ERR_UNSUPPORTED_VERSION saying to load it).
  // Every field and section is checked against the file; with `verify`,
  // also the payload checksum and every check load() makes (O(size));
  // without, only the structure (O(1)): contents are trusted, though no
  // content can make a search read outside the file.
  static std::unique_ptr<FlatIndex> open(const std::string& path, bool verify = true);
  // The same over an image (a mapping, or borrowed memory: file_mapping.h).
  static std::unique_ptr<FlatIndex> open_image(std::shared_ptr<const FileMapping> image, bool verify = true);

 private:
  struct Fields3;
  void check_writable() const;
  bool locate_locked(uint64_t id, size_t* slot) const;
  AllowMasks allow_masks_locked(const uint64_t* allow, size_t n_allow) const;
  // Persistence (flat_index_io.cpp).
  size_t payload_bytes_locked() const;
  void write_locked(Writer& w) const;
  static std::unique_ptr<FlatIndex> read(Reader& r);
  static std::unique_ptr<FlatIndex> read_v1(Reader& r, const FileHeader& h);
  static std::unique_ptr<FlatIndex> read_v3(Reader& r, const FileHeader& h);
  template <typename Source>
  static std::unique_ptr<FlatIndex> assemble(const FileHeader& h, const Fields3& f, Source& src);
  void check_contents_locked() const;

  size_t dim_;
  Metric metric_;
  uint64_t next_id_ = 0;
  PackedStore store_;  // norms kept for L2 only
  IdTable slot_of_;  // id -> slot
  std::shared_ptr<const FileMapping> mapping_;  // set: a read-only index over this file
  mutable RwLock mutex_;  // phase-fair: writers are not starved (rw_lock.h)
};

}  // namespace semvec
