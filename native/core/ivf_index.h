// Inverted-file (IVF) approximate index. k-means splits the space into
// `nlist` cells; each vector is stored in the inverted list of its nearest
// centroid; a query scans only the `nprobe` lists whose centroids score best,
// exactly (top-k within them). nprobe = nlist scans everything and equals the
// flat index.
//
// Lists are PackedStores (vectors, ids and L2 norms side by side, packed), so
// a probe is a streaming scan with the same kernels as the flat index. Batch
// search groups queries by list, so each probed list is read once per batch.
//
// Coarse assignment uses the index metric: nearest centroid for L2, largest
// inner product for IP and Cosine. IP and Cosine train spherical k-means
// (unit centroids); Cosine also normalises the vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "index_common.h"
#include "io.h"
#include "kmeans.h"
#include "packed_store.h"

namespace semvec {

class IvfIndex {
 public:
  IvfIndex(size_t dim, Metric metric, size_t nlist, size_t nprobe);

  size_t dim() const { return dim_; }
  Metric metric() const { return metric_; }
  size_t nlist() const { return nlist_; }
  size_t nprobe() const;
  void set_nprobe(size_t nprobe);
  bool is_trained() const;
  size_t size() const;
  uint64_t next_id() const;
  size_t memory_usage() const;
  bool contains(uint64_t id) const;
  std::vector<size_t> list_sizes() const;
  std::vector<float> centroids() const;  // nlist * dim, empty before training

  // Trains the coarse quantizer with k-means (k = nlist) on x (n * dim).
  // Only an empty index can be trained (again). params.k, .spherical are set
  // here; the rest is the caller's.
  KMeansResult train(const float* x, size_t n, KMeansParams params);

  // Adds vectors to the lists of their nearest centroids; all or nothing.
  void add(const float* x, size_t n, const uint64_t* ids);

  // nprobe = 0 uses the index default. With an allow-list (allow: n_allow
  // ids), only those vectors are returned; lists holding none are skipped,
  // and probing goes past nprobe lists until k allowed vectors have been
  // seen (or every list holding one has been scanned), so a filtered search
  // returns min(k, allowed) results.
  SearchResults search(const float* q, size_t nq, size_t k, size_t nprobe,
                       const uint64_t* allow = nullptr, size_t n_allow = 0) const;

  size_t remove(const uint64_t* ids, size_t n);
  void reconstruct(uint64_t id, float* out) const;

  void save(const std::string& path) const;
  void serialize(const std::function<void*(size_t)>& alloc) const;
  static std::unique_ptr<IvfIndex> load(const std::string& path);
  static std::unique_ptr<IvfIndex> deserialize(const void* data, size_t size);

 private:
  size_t check_nprobe(size_t nprobe) const;
  void set_centroids_locked(const float* c);
  void assign_lists(const float* x, size_t n, uint32_t* lists) const;
  size_t payload_bytes_locked() const;
  void write_locked(Writer& w) const;
  static std::unique_ptr<IvfIndex> read(Reader& r);

  size_t dim_;
  Metric metric_;
  size_t nlist_;
  size_t nprobe_;
  bool trained_ = false;
  uint64_t next_id_ = 0;
  size_t size_ = 0;
  PackedStore centroids_;          // ids = list numbers; norms for L2
  std::vector<PackedStore> lists_;
  // id -> (list << 32) | slot
  std::unordered_map<uint64_t, uint64_t> where_;
  mutable std::shared_mutex mutex_;
};

// A common choice of nlist for n vectors: about 4 * sqrt(n), at least 1 and
// at most n / 39 (so that training has ~39 points per centroid), rounded to
// a multiple of 16 when larger than 64.
size_t suggest_nlist(size_t n);

}  // namespace semvec
