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

template <typename Graph>
void beam_search(const Graph& g, const uint32_t* entries, size_t n_entries, size_t ef,
                 const SlotFilter& filter, GraphScratch& s, std::vector<GraphHit>& out, size_t* scored) {
  out.clear();
  if (g.size() == 0 || ef == 0) return;
  const size_t degree = g.degree(), stride = g.code_stride();
  s.visited.reset(g.size());
  s.queue.clear();
  s.results.clear();
  // The entries in chunks, the next chunk's rows fetched while one is
  // scored (a partition's groups give thousands, graph_partition.h).
  constexpr size_t kChunk = 32;
  size_t count = 0;
  for (size_t e = 0; e < n_entries; e += kChunk) {
    const size_t end = std::min(n_entries, e + kChunk);
    for (size_t j = end; j < std::min(n_entries, end + kChunk); ++j) prefetch_bytes(g.code(entries[j]), stride);
    s.rows.clear();
    s.slots.clear();
    for (size_t j = e; j < end; ++j) {
      if (!s.visited.visit(entries[j])) continue;
      s.slots.push_back(entries[j]);
      s.rows.push_back(g.code(entries[j]));
    }
    count += s.slots.size();
    offer_scored(ef, filter, s);
  }
  while (!s.queue.empty()) {
    const GraphHit c = s.queue.front();
    if (s.results.size() >= ef && graph_better(s.results.front(), c)) break;
    std::pop_heap(s.queue.begin(), s.queue.end(), queue_less);
    s.queue.pop_back();
    if (!s.queue.empty()) prefetch_bytes(g.links(s.queue.front().slot), degree * sizeof(uint32_t));
    const uint32_t* row = g.links(c.slot);
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
    count += s.slots.size();
    offer_scored(ef, filter, s);
  }
  out.assign(s.results.begin(), s.results.end());
  std::sort(out.begin(), out.end(), Better{});
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
