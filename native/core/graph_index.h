// Graph index: approximate search by a walk on a proximity graph, as HNSW,
// Vamana and NSG do, over 8-bit codes, with exact re-ranking.
//
// Every vector is a node (a slot, graph_store.h) with at most `degree`
// links to others, chosen by the heuristic of graph_prune.h. Upper layers
// over a sample of the nodes, as HNSW's (graph_layers.h), route each
// search to the query's region; from there a search walks the graph
// best-first over the codes (graph_search.h), keeping the `ef` best
// estimates, and re-scores the best `rerank` of them exactly from the
// float vectors; larger ef: higher recall, less speed. A code is the
// residual of its vector from a nearby member of the second layer (its
// anchor, graph_codes.h), so 8 bits resolve neighbours in tight clusters. Building links new
// vectors in parallel batches, deterministically (graph_build.h).
//
// Filtered search (an allow-list): when the allowed vectors are few, they
// are scanned (their codes scored, the best re-ranked exactly), which costs
// in proportion to their number; otherwise the walk goes through every node
// but only allowed ones become results, which costs about ef / selectivity
// codes. The crossover: scan when allowed^2 <= kGraphScanFactor * ef * live
// (a walk visits about ef / selectivity nodes of degree links each, at
// random; a scan reads the allowed codes in slot order).
//
// Removal: a removed vector becomes a tombstone: it stays in the graph as a
// stepping stone for walks but is never returned, and its id is free. Once
// tombstones reach kGraphRepairFraction of the slots, the remove that gets
// there repairs the graph (each node linked to a tombstone chooses again
// among its other links and the tombstones' links, FreshDiskANN's
// consolidation) and compacts the arrays; that remove costs about one
// neighbour selection per affected node plus a copy of the arrays.
//
// Thread safety as the other indexes: a readers-writer lock (rw_lock.h).
//
// An index opened from a file (open) walks the file's pages in place and is
// read-only: add and remove throw Error(ReadOnly).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api_limits.h"
#include "file_format.h"
#include "file_mapping.h"
#include "graph_partition.h"
#include "graph_build.h"
#include "graph_filter.h"
#include "graph_store.h"
#include "id_table.h"
#include "metric.h"
#include "rw_lock.h"
#include "search_results.h"

namespace semvec {

// rerank 'auto': a search re-scores every candidate its walk keeps, up to
// kAutoRerankCap: min(max(kAutoRerankFloor, ef), kAutoRerankCap). The
// 8-bit estimates mis-order near neighbours on tightly clustered data:
// before codes were anchored (graph_codes.h), a fixed 32 stopped recall@10
// at 0.972 however wide the walk (100k x 384, flat clusters), where
// re-scoring half of ef 160 reached 0.989 and all of it 0.993 (anchored,
// 32 gives 0.993 at ef 40); at 1M text-like vectors all of ef 320 gave
// 0.979 against half's 0.975. Past 256 no data set gained (ef 640: 256 and 640 gave the same
// recall on three 100k sets) while each float row re-scored cost time
// (0.96 against 1.07 ms per query on the hard mixture).
constexpr size_t kAutoRerank = kMaxRerank + 1;
constexpr size_t kAutoRerankFloor = 32;
constexpr size_t kAutoRerankCap = 256;
inline size_t effective_rerank(size_t rerank, size_t ef) {
  return rerank == kAutoRerank ? std::min(std::max(kAutoRerankFloor, ef), kAutoRerankCap) : rerank;
}

// How a graph is built and searched by default; the API's defaults (one
// home: the binding exports them to TypeScript).
struct GraphParams {
  size_t degree = 32;     // links per node
  size_t build_ef = 96;   // candidates each insertion keeps
  float alpha = 1.0f;     // the neighbour heuristic's alpha, 1..2 (1: HNSW's heuristic; see graph_prune.h)
  size_t ef = 64;         // candidates a search keeps unless it says
  size_t rerank = kAutoRerank;  // of those, re-scored exactly (at least k; 0: none; kAutoRerank: see below)
  uint64_t seed = 1234;   // insertion order within an add
};

// Tombstones, as a fraction of the slots, at which a remove repairs the
// graph and compacts it.
constexpr double kGraphRepairFraction = 0.1;

// A filtered search scans the allowed vectors when allowed^2 <= this *
// ef * live vectors (see above).
constexpr double kGraphScanFactor = 50.0;

// What one search may choose for itself. An unset optional means the
// index's own setting.
struct GraphSearchParams {
  std::optional<size_t> ef;      // 1..kMaxEf; raised to k
  std::optional<size_t> rerank;  // 0..kMaxRerank, or kAutoRerank
  // Groups of the partition whose members also start the walk
  // (graph_partition.h), 0..kMaxEf; 0: none, and no partition.
  size_t nprobe = 0;
  // Allow-list: only these n_allow ids may be returned (ids the index does
  // not hold are ignored); nullptr: any.
  const uint64_t* allow = nullptr;
  size_t n_allow = 0;
};

class GraphIndex {
 public:
  GraphIndex(size_t dim, Metric metric, const GraphParams& params = {});

  size_t dim() const { return dim_; }
  Metric metric() const { return metric_; }
  const GraphParams& params() const { return params_; }  // degree, build_ef, alpha, seed: fixed
  size_t ef() const;
  void set_ef(size_t ef);
  size_t rerank() const;
  void set_rerank(size_t rerank);
  size_t size() const;  // live vectors
  uint64_t next_id() const;
  // Heap bytes the index holds (a mapped index: its small tables only).
  size_t memory_usage() const;
  // Bytes of the file a mapped index maps (0 for an index in memory).
  size_t mapped_bytes() const;
  // Whether the index is mapped from a file, and so read-only.
  bool read_only() const { return mapping_ != nullptr; }
  bool contains(uint64_t id) const;
  // Slots held, tombstones included.
  size_t slots() const;

  // Adds n vectors (x: n * dim) with their ids (nullptr: sequential from
  // next_id()). All or nothing.
  void add(const float* x, size_t n, const uint64_t* ids);

  // The best min(k, live or allowed) of each of nq queries (q: nq * dim)
  // the walk finds (search_results.h); k >= 1.
  SearchResults search(const float* q, size_t nq, size_t k, const GraphSearchParams& params = {}) const;

  // Removes the given ids (repeats allowed). All or nothing: an absent id
  // is Error(NotFound) and removes none. Returns the number removed.
  size_t remove(const uint64_t* ids, size_t n);
  void reconstruct(uint64_t id, float* out) const;

  // Links of a live id's node, as ids (for tests and inspection).
  std::vector<uint64_t> neighbours(uint64_t id) const;

  void save(const std::string& path) const;
  void serialize(const std::function<void*(size_t)>& alloc) const;
  static std::unique_ptr<GraphIndex> load(const std::string& path);
  static std::unique_ptr<GraphIndex> deserialize(const void* data, size_t size);
  // Maps a format-3 graph file read-only and walks it in place. verify:
  // check the checksum and everything load() checks (O(file)); without it
  // only the structure (O(1) beyond the small tables), and a corrupt file
  // may give wrong results but never reads outside the mapping.
  static std::unique_ptr<GraphIndex> open(const std::string& path, bool verify);
  static std::unique_ptr<GraphIndex> open_image(std::shared_ptr<const FileMapping> image, bool verify);

  static void check_params(size_t dim, const GraphParams& p);

 private:
  void search_one(const float* q, size_t k, size_t ef, size_t rerank, size_t nprobe, const GraphPartition* partition,
                  const GraphFilter& filter, TopK& heap) const;
  // The partition, trained now if there is none or it is stale (under the
  // shared lock: partition_mutex_ serialises it).
  const GraphPartition& partition() const;
  size_t partition_memory() const;
  GraphFilter filter_locked(const uint64_t* allow, size_t n_allow, size_t ef) const;
  void repair_locked();
  uint64_t slot_of_locked(uint64_t id) const;  // NotFound, or CorruptFile past the store
  void check_writable() const;
  // Persistence (graph_index_io.cpp).
  // The file's payload with `part` (may be null), under the shared lock
  // and partition_mutex_.
  const GraphPartition* partition_to_save_locked() const;
  size_t payload_bytes_locked(const GraphPartition* part) const;
  void write_locked(Writer& w, const GraphPartition* part) const;
  struct Fields3;
  static std::unique_ptr<GraphIndex> read(Reader& r);
  template <typename Source>
  static std::unique_ptr<GraphIndex> assemble(const FileHeader& h, const Fields3& f, Source& src, bool verify);
  void check_contents_locked() const;

  size_t dim_;
  Metric metric_;
  GraphParams params_;
  GraphStore store_;
  GraphEntry entry_;
  PruneDistances prune_;  // the build's per-slot terms (derived from the codes, not saved)
  IdTable slot_of_;  // live ids only: id -> slot
  size_t deleted_ = 0;
  uint64_t next_id_ = 0;
  mutable RwLock mutex_;
  // Trained by a search under the shared lock; added to, or dropped, by
  // changes under the exclusive lock.
  mutable std::mutex partition_mutex_;
  mutable std::unique_ptr<GraphPartition> partition_;
  std::shared_ptr<const FileMapping> mapping_;  // set: a read-only index over this file
};

}  // namespace semvec
