#include "graph_search.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "distances.h"
#include "graph_layers.h"
#include "vectors.h"

namespace semvec {

namespace {

// A hit is better than another with a higher score, or on equal scores a
// lower slot, so a walk never depends on more than its inputs.
inline bool graph_better(const GraphHit& a, const GraphHit& b) {
  return a.score > b.score || (a.score == b.score && a.slot < b.slot);
}

// The queue is a max-heap (the best candidate on top), the results a
// min-heap (the worst result on top). Function objects, not functions, so
// that the heap operations inline them (as pointers they were a call per
// comparison: 6% of a build's time).
struct QueueLess {
  bool operator()(const GraphHit& a, const GraphHit& b) const { return graph_better(b, a); }
};
struct Better {
  bool operator()(const GraphHit& a, const GraphHit& b) const { return graph_better(a, b); }
};
constexpr QueueLess queue_less{};
constexpr Better results_less{};

inline void prefetch_bytes(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (size_t b = 0; b < bytes; b += 64) __builtin_prefetch(c + b);
}

// Puts h in place of the worst result (the top of the min-heap of
// results) and restores the heap: one pass down, where a push and a pop
// take two.
void replace_worst(std::vector<GraphHit>& results, const GraphHit& h) {
  const size_t n = results.size();
  GraphHit* r = results.data();
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    // The worse child (heap order: the worst on top).
    if (c + 1 < n && graph_better(r[c], r[c + 1])) ++c;
    if (!graph_better(h, r[c])) break;
    r[i] = r[c];
    i = c;
  }
  r[i] = h;
}

// Scores scratch.rows / scratch.slots and offers each to the walk.
void offer_scored(size_t ef, const SlotFilter& filter, GraphScratch& s) {
  const size_t m = s.slots.size();
  if (m == 0) return;
  if (s.scores.size() < m) s.scores.resize(m);
  s.probe.score(s.rows.data(), m, s.scores.data());
  for (size_t j = 0; j < m; ++j) {
    const GraphHit h{s.scores[j], s.slots[j]};
    if (s.results.size() >= ef && !graph_better(h, s.results.front())) continue;
    s.queue.push_back(h);
    std::push_heap(s.queue.begin(), s.queue.end(), queue_less);
    if (!filter.passes(h.slot)) continue;
    if (s.results.size() < ef) {
      s.results.push_back(h);
      std::push_heap(s.results.begin(), s.results.end(), results_less);
    } else {
      replace_worst(s.results, h);
    }
  }
}

}  // namespace

void VisitedSet::reset(size_t n) {
  if (touched_.size() > bits_.size() / 8) {
    std::fill(bits_.begin(), bits_.end(), 0);
  } else {
    for (uint32_t w : touched_) bits_[w] = 0;
  }
  touched_.clear();
  if (bits_.size() < (n + 63) / 64) bits_.resize((n + 63) / 64, 0);
}

namespace {

// Scores the entries in chunks, fetching the next chunk's rows while one
// is scored (a partition's groups give thousands, graph_partition.h), and
// offers each chunk; returns how many were scored.
template <typename Graph, typename Offer>
size_t score_entries(const Graph& g, const uint32_t* entries, size_t n, GraphScratch& s, Offer offer) {
  constexpr size_t kChunk = 32;
  const size_t stride = g.code_stride();
  size_t count = 0;
  for (size_t e = 0; e < n; e += kChunk) {
    const size_t end = std::min(n, e + kChunk);
    for (size_t j = end; j < std::min(n, end + kChunk); ++j) prefetch_bytes(g.code(entries[j]), stride);
    s.rows.clear();
    s.slots.clear();
    for (size_t j = e; j < end; ++j) {
      if (!s.visited.visit(entries[j])) continue;
      s.slots.push_back(entries[j]);
      s.rows.push_back(g.code(entries[j]));
    }
    count += s.slots.size();
    offer();
  }
  return count;
}

// Puts the unvisited neighbours of slot c into scratch.rows / slots,
// fetching their codes; returns how many.
template <typename Graph>
size_t gather_neighbours(const Graph& g, uint32_t c, GraphScratch& s) {
  const size_t degree = g.degree(), stride = g.code_stride();
  const uint32_t* row = g.links(c);
  s.rows.clear();
  s.slots.clear();
  for (size_t j = 0; j < degree; ++j) {
    const uint32_t v = row[j];
    if (v == kNoLink) break;
    if (!s.visited.visit(v)) continue;
    const uint8_t* code = g.code(v);
    prefetch_bytes(code, stride);
    s.slots.push_back(v);
    s.rows.push_back(code);
  }
  return s.slots.size();
}

// A walk with a filter: HNSW's two heaps, candidates (every slot, for
// the way) and results (the slots passing the filter).
template <typename Graph>
size_t heap_walk(const Graph& g, const uint32_t* entries, size_t n_entries, size_t ef, const SlotFilter& filter,
                 GraphScratch& s, std::vector<GraphHit>& out) {
  s.queue.clear();
  s.results.clear();
  size_t count = score_entries(g, entries, n_entries, s, [&] { offer_scored(ef, filter, s); });
  while (!s.queue.empty()) {
    const GraphHit c = s.queue.front();
    if (s.results.size() >= ef && graph_better(s.results.front(), c)) break;
    std::pop_heap(s.queue.begin(), s.queue.end(), queue_less);
    s.queue.pop_back();
    if (!s.queue.empty()) prefetch_bytes(g.links(s.queue.front().slot), g.degree() * sizeof(uint32_t));
    count += gather_neighbours(g, c.slot, s);
    offer_scored(ef, filter, s);
  }
  out.assign(s.results.begin(), s.results.end());
  std::sort(out.begin(), out.end(), Better{});
  return count;
}

// Scores scratch.rows / slots into the pool of a walk without a filter,
// lowering `next` to the place of a new entry above it.
void offer_to_pool(size_t ef, GraphScratch& s, size_t& next) {
  const size_t m = s.slots.size();
  if (m == 0) return;
  if (s.scores.size() < m) s.scores.resize(m);
  s.probe.score(s.rows.data(), m, s.scores.data());
  std::vector<GraphHit>& pool = s.pool;
  std::vector<uint8_t>& expanded = s.expanded;
  for (size_t j = 0; j < m; ++j) {
    const GraphHit h{s.scores[j], s.slots[j]};
    size_t i = pool.size();
    if (i >= ef) {
      if (!graph_better(h, pool[i - 1])) continue;
      --i;  // the worst leaves
    } else {
      pool.push_back(h);
      expanded.push_back(0);
    }
    // From the bottom: once the pool is full, most new entries land near it.
    for (; i > 0 && graph_better(h, pool[i - 1]); --i) {
      pool[i] = pool[i - 1];
      expanded[i] = expanded[i - 1];
    }
    pool[i] = h;
    expanded[i] = 0;
    next = std::min(next, i);
  }
}

// A walk where every slot passes: one array of the best ef found, best
// first, each marked once its links are followed (NSG's candidate pool).
// Each hop follows the best entry not yet followed, and the walk ends when
// there is none: the same hops, in the same order, as heap_walk's with
// every slot passing (a candidate that leaves the pool is one that walk
// would stop at), for less work per offer.
template <typename Graph>
size_t pool_walk(const Graph& g, const uint32_t* entries, size_t n_entries, size_t ef, GraphScratch& s,
                 std::vector<GraphHit>& out) {
  s.pool.clear();
  s.expanded.clear();
  size_t next = 0;
  size_t count = score_entries(g, entries, n_entries, s, [&] { offer_to_pool(ef, s, next); });
  const std::vector<GraphHit>& pool = s.pool;
  std::vector<uint8_t>& expanded = s.expanded;
  for (;;) {
    while (next < pool.size() && expanded[next]) ++next;
    if (next == pool.size()) break;
    expanded[next] = 1;
    const uint32_t c = pool[next].slot;
    for (size_t k = next + 1; k < pool.size(); ++k)
      if (!expanded[k]) {
        prefetch_bytes(g.links(pool[k].slot), g.degree() * sizeof(uint32_t));
        break;
      }
    count += gather_neighbours(g, c, s);
    offer_to_pool(ef, s, next);
  }
  out.assign(pool.begin(), pool.end());
  return count;
}

}  // namespace

template <typename Graph>
void beam_search(const Graph& g, const uint32_t* entries, size_t n_entries, size_t ef,
                 const SlotFilter& filter, GraphScratch& s, std::vector<GraphHit>& out, size_t* scored) {
  out.clear();
  if (g.size() == 0 || ef == 0) return;
  s.visited.reset(g.size());
  const size_t count = filter.passes_all() ? pool_walk(g, entries, n_entries, ef, s, out)
                                           : heap_walk(g, entries, n_entries, ef, filter, s, out);
  if (scored) *scored += count;
}

template void beam_search<GraphStore>(const GraphStore&, const uint32_t*, size_t, size_t, const SlotFilter&,
                                      GraphScratch&, std::vector<GraphHit>&, size_t*);
template void beam_search<LayerView>(const LayerView&, const uint32_t*, size_t, size_t, const SlotFilter&,
                                     GraphScratch&, std::vector<GraphHit>&, size_t*);

void score_slots(const GraphStore& g, const uint32_t* slots, size_t n, GraphScratch& s, TopK& keep) {
  constexpr size_t kChunk = 32;
  const size_t stride = g.code_stride();
  for (size_t i = 0; i < n; i += kChunk) {
    const size_t m = std::min(kChunk, n - i);
    s.rows.resize(m);
    for (size_t j = 0; j < m; ++j) s.rows[j] = g.code(slots[i + j]);
    // The next chunk's rows, while this one is scored.
    for (size_t j = i + m; j < std::min(n, i + m + kChunk); ++j) prefetch_bytes(g.code(slots[j]), stride);
    if (s.scores.size() < m) s.scores.resize(m);
    s.probe.score(s.rows.data(), m, s.scores.data());
    for (size_t j = 0; j < m; ++j)
      if (s.scores[j] >= keep.threshold()) keep.push(s.scores[j], slots[i + j]);
  }
}

float exact_score(const GraphStore& g, const float* q, uint32_t slot) {
  const float* x = g.vector(slot);
  const size_t d = g.dim();
  const float ip = kernels().inner_product(q, x, d);
  float score = g.l2() ? 2.0f * ip - g.sqnorm(slot) : ip;
  if (!std::isfinite(score)) score = score_in_double(q, x, d, g.l2());
  return score;
}

void rerank_exact(const GraphStore& g, const float* q, const GraphHit* hits, size_t n, TopK& heap) {
  // Vectors are read whole from scattered places: fetch a few ahead.
  constexpr size_t kAhead = 4;
  const size_t bytes = g.dim() * sizeof(float);
  for (size_t j = 0; j < std::min(kAhead, n); ++j) prefetch_bytes(g.vector(hits[j].slot), bytes);
  for (size_t j = 0; j < n; ++j) {
    if (j + kAhead < n) prefetch_bytes(g.vector(hits[j + kAhead].slot), bytes);
    heap.push(exact_score(g, q, hits[j].slot), g.id(hits[j].slot));
  }
}

}  // namespace semvec
