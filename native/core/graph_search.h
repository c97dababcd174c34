// The walk of a graph index: a best-first beam search on the 8-bit codes
// (graph_codes.h), then exact re-ranking of the best candidates from the
// float vectors.
//
// The beam search keeps `ef` results and a queue of candidates to expand,
// best first; it starts from the entry slots and stops when the best
// candidate left scores below the worst of ef results. Expanding a slot
// scores all its neighbours not visited yet in one kernel call
// (sq8_dots_rows), their code rows prefetched first. Every slot may be
// walked through; only slots that pass the filter (`allowed`, and not
// deleted) become results, so a filter never disconnects the graph.
//
// Two forms of the same walk. With a filter: HNSW's two heaps, the
// candidates (every slot) and the results (slots passing it). Without
// (no allow-list and no tombstone: a build's insertion walks and most
// searches): one array of the best ef found, best first, each marked when
// its links are followed, as NSG and DiskANN keep it. A candidate that
// leaves that array is one the heap walk would stop at, so the hops and
// results are the same; an offer is a compare and a short shift from the
// bottom where the heaps took two sift-ups (100k hard build about 7% faster,
// single queries at ef 96 about 10%).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "graph_codes.h"
#include "graph_store.h"
#include "metric.h"
#include "topk.h"

namespace semvec {

// Which slots were seen by the current search: one bit per slot, so that
// the set of a million slots (125 KB) stays in the core's cache where a
// byte or more per slot would not (single queries on 1M hard-mixture
// vectors, ef 64 to 1,024: 5% faster than with 16-bit marks). Starting a
// search clears the words the last one set, or the whole set when that is
// cheaper.
class VisitedSet {
 public:
  // Prepares a new search over n slots.
  void reset(size_t n);
  // True the first time a slot is visited in this search.
  bool visit(uint32_t slot) {
    uint64_t& w = bits_[slot >> 6];
    const uint64_t b = uint64_t{1} << (slot & 63);
    if (w & b) return false;
    if (w == 0) touched_.push_back(slot >> 6);
    w |= b;
    return true;
  }

 private:
  std::vector<uint64_t> bits_;
  std::vector<uint32_t> touched_;  // words with a bit set
};

struct GraphHit {
  float score;
  uint32_t slot;
};

// The slots a search may return: a slot is returned when it is not
// deleted and, with `allowed`, allowed[slot] is 1. Null `deleted` (the
// store's tombstone_flags() when none is deleted) skips the deleted check,
// and a filter with neither passes every slot.
struct SlotFilter {
  const uint8_t* allowed = nullptr;
  const uint8_t* deleted = nullptr;
  bool passes(uint32_t slot) const {
    return (deleted == nullptr || deleted[slot] == 0) && (allowed == nullptr || allowed[slot] != 0);
  }
  bool passes_all() const { return deleted == nullptr && allowed == nullptr; }
};

// Scratch of one searching thread, reused between searches.
struct GraphScratch {
  VisitedSet visited;
  GraphProbe probe;
  std::vector<GraphHit> queue;    // candidates, a max-heap by score
  std::vector<GraphHit> results;  // a min-heap by score (worst on top)
  std::vector<GraphHit> pool;     // unfiltered walks: the best ef, best first
  std::vector<uint8_t> expanded;  // pool[i]'s links were followed
  std::vector<const uint8_t*> rows;
  std::vector<uint32_t> slots;
  std::vector<float> scores;
  std::vector<GraphHit> layer_hits;  // a route's result in each upper layer (graph_layers.h)
};

// The best `ef` slots passing the filter found from `entries`, best first,
// by their estimates, into out. scratch.probe must be prepared for the
// query. counts (may be null) adds the codes scored. Graph: a GraphStore
// (the full graph, by slot) or a LayerView (an upper layer, by member,
// graph_layers.h); either gives size(), degree(), code_stride(), links(i)
// and code(i).
template <typename Graph>
void beam_search(const Graph& g, const uint32_t* entries, size_t n_entries, size_t ef,
                 const SlotFilter& filter, GraphScratch& scratch, std::vector<GraphHit>& out,
                 size_t* scored = nullptr);

// The estimates of the given slots (the scan of a narrow allow-list) into
// `keep` (ids: slots); slots must pass the caller's filter already.
void score_slots(const GraphStore& g, const uint32_t* slots, size_t n, GraphScratch& scratch, TopK& keep);

// The exact score of q (dim values, as scored: a unit vector for cosine)
// and a slot's vector, in the convention of the selections
// (search_results.h): <q, x>, or 2 <q, x> - ||x||^2 for l2.
float exact_score(const GraphStore& g, const float* q, uint32_t slot);

// The best hits[0..n) (slots, by estimate, best first) scored exactly from
// their floats into `heap` with their ids.
void rerank_exact(const GraphStore& g, const float* q, const GraphHit* hits, size_t n, TopK& heap);

}  // namespace semvec
