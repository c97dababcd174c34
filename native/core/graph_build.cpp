#include "graph_build.h"

#include <algorithm>
#include <atomic>
#include <numeric>
#include <tuple>

#include "graph_prune.h"
#include "graph_search.h"
#include "rng.h"
#include "thread_pool.h"

namespace semvec {

namespace {

// Scratch of the insertion walks, one per thread.
struct BuildScratch {
  GraphScratch walk;
  std::vector<GraphHit> hits;
  std::vector<PruneCandidate> candidates;
  std::vector<uint32_t> slots;
  std::vector<float> dists;
  std::vector<uint32_t> routed;
  std::vector<double> encode;
};

BuildScratch& build_scratch() {
  thread_local BuildScratch s;
  return s;
}

// Where the walk of one slot of a batch starts: how many slots (the
// route's, at most kRouteWidth, or the entry slots) and its layer-2 member.
struct BatchStart {
  uint32_t n = 0;
  uint32_t anchor = kNoAnchor;
};

// Routes slot p through the upper layers (into starts: room for `width`,
// at least kRouteWidth and the entry slots).
BatchStart route_slot(const GraphStore& g, uint32_t p, const GraphEntry& entry, uint32_t* starts, size_t width) {
  BuildScratch& s = build_scratch();
  s.walk.probe.prepare(g.vector(p), g);
  BatchStart b;
  const WalkStart start = walk_start(g, entry, s.walk, s.routed, &b.anchor);
  b.n = static_cast<uint32_t>(std::min(start.n, width));
  std::copy(start.slots, start.slots + b.n, starts);
  return b;
}

// Walks the graph for slot p's nearest live slots from its route and
// selects its links into out (degree slots); returns how many. Encodes p's
// code again as its residual from the layer-2 member its route met, unless
// p is to be one (graph_codes.h): p is in no walk of its batch, so no
// thread reads it.
size_t choose_links(GraphStore& g, PruneDistances& dist, uint32_t p, const GraphBuildParams& prm,
                    const GraphEntry& entry, const BatchStart& start, const uint32_t* starts, uint32_t* out) {
  BuildScratch& s = build_scratch();
  s.walk.probe.prepare(g.vector(p), g);
  SlotFilter filter;
  filter.deleted = g.tombstone_flags();
  if (start.anchor != kNoAnchor &&
      !GraphLayers::anchors(GraphLayers::level(g.id(p), prm.seed, entry.layers.links())))
    if (g.set_anchor(p, start.anchor, s.encode)) dist.refresh(g, p);
  beam_search(g, starts, start.n, prm.build_ef, filter, s.walk, s.hits);
  s.slots.clear();
  for (const GraphHit& h : s.hits)
    if (h.slot != p) s.slots.push_back(h.slot);
  s.dists.resize(s.slots.size());
  dist.many(g, p, s.slots.data(), s.slots.size(), s.dists.data());
  s.candidates.clear();
  for (size_t i = 0; i < s.slots.size(); ++i) s.candidates.push_back({s.dists[i], s.slots[i]});
  sort_candidates(s.candidates);
  return select_neighbours(g, dist, s.candidates.data(), s.candidates.size(), prm.alpha, g.degree(), out);
}

// Chooses the links of a batch's slots (rows / counts, by place in the
// batch): every slot is routed first, then the walks run in the order of
// their routes' layer-2 member and first slot, each thread taking runs of
// neighbours, so that walks through the same region follow each other and
// find its rows in cache. Each walk reads only the graph as it was before
// the batch, so the order changes the time and never the links.
void choose_batch_links(GraphStore& g, PruneDistances& dist, const uint32_t* batch, size_t size,
                        const GraphBuildParams& p, const GraphEntry& entry, ThreadPool& pool,
                        std::vector<uint32_t>& rows, std::vector<uint32_t>& counts) {
  constexpr size_t kRun = 8;
  const size_t degree = g.degree(), threads = std::min(pool.threads(), size);
  const size_t width = std::max(GraphLayers::kRouteWidth, entry.slots.size());
  std::vector<BatchStart> starts(size);
  std::vector<uint32_t> start_slots(size * width), order(size);
  std::atomic<size_t> next{0};
  pool.parallel_for(threads, [&](size_t) {
    for (size_t i = next++; i < size; i = next++)
      starts[i] = route_slot(g, batch[i], entry, start_slots.data() + i * width, width);
  });
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const uint32_t fa = starts[a].n ? start_slots[a * width] : 0, fb = starts[b].n ? start_slots[b * width] : 0;
    return std::tie(starts[a].anchor, fa, a) < std::tie(starts[b].anchor, fb, b);
  });
  next = 0;
  pool.parallel_for(threads, [&](size_t) {
    for (size_t r = next.fetch_add(kRun); r < size; r = next.fetch_add(kRun))
      for (size_t k = r; k < std::min(size, r + kRun); ++k) {
        const uint32_t i = order[k];
        counts[i] = static_cast<uint32_t>(
            choose_links(g, dist, batch[i], p, entry, starts[i], start_slots.data() + i * width, rows.data() + i * degree));
      }
  });
}

// Gives slot v its new links back from `from` (n slots, ascending): appended
// when the row has room, else chosen again with the old ones.
void link_back(GraphStore& g, const PruneDistances& dist, uint32_t v, const uint32_t* from, size_t n, float alpha) {
  const size_t degree = g.degree();
  const size_t have = g.link_count(v);
  BuildScratch& s = build_scratch();
  std::vector<uint32_t>& row = s.walk.slots;  // free between walks
  row.assign(g.links(v), g.links(v) + have);
  if (have + n <= degree) {
    row.insert(row.end(), from, from + n);
    g.set_links(v, row.data(), row.size());
    return;
  }
  s.slots.clear();
  for (uint32_t x : row)
    if (!g.deleted(x)) s.slots.push_back(x);
  s.slots.insert(s.slots.end(), from, from + n);
  s.dists.resize(s.slots.size());
  dist.many(g, v, s.slots.data(), s.slots.size(), s.dists.data());
  s.candidates.clear();
  for (size_t i = 0; i < s.slots.size(); ++i) s.candidates.push_back({s.dists[i], s.slots[i]});
  sort_candidates(s.candidates);
  row.resize(degree);
  const size_t kept = select_neighbours(g, dist, s.candidates.data(), s.candidates.size(), alpha, degree, row.data());
  g.set_links(v, row.data(), kept);
}

// Commits one batch: its rows of links, then the links back. The pairs
// (linked to, from) are dealt by target into parts, and each part is
// sorted and gives each of its targets its links back on one task: the
// sorting runs on all threads (one sort of all pairs was 1.0 s of a 1M
// build, serial), and each target gets the same ascending `from` as before.
void commit_batch(GraphStore& g, const PruneDistances& dist, const uint32_t* batch, size_t size,
                  const std::vector<uint32_t>& rows, const std::vector<uint32_t>& counts, float alpha, ThreadPool& pool) {
  constexpr size_t kParts = 64;
  const size_t degree = g.degree();
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> parts(kParts);  // (linked to, from)
  for (size_t i = 0; i < size; ++i) {
    g.set_links(batch[i], rows.data() + i * degree, counts[i]);
    for (size_t j = 0; j < counts[i]; ++j) {
      const uint32_t to = rows[i * degree + j];
      parts[to % kParts].emplace_back(to, batch[i]);
    }
  }
  std::atomic<size_t> next{0};
  pool.parallel_for(std::min(pool.threads(), kParts), [&](size_t) {
    std::vector<uint32_t> from;
    for (size_t k = next++; k < kParts; k = next++) {
      std::vector<std::pair<uint32_t, uint32_t>>& back = parts[k];
      std::sort(back.begin(), back.end());
      for (size_t a = 0, b = 0; a < back.size(); a = b) {
        from.clear();
        for (b = a; b < back.size() && back[b].first == back[a].first; ++b) from.push_back(back[b].second);
        link_back(g, dist, back[a].first, from.data(), from.size(), alpha);
      }
    }
  });
}

// Inserts the slots of a batch that have a level into the upper layers
// (about 1 in 15; on all threads, GraphLayers::insert_batch).
void insert_into_layers(const GraphStore& g, const PruneDistances& dist, const uint32_t* slots, size_t n,
                        const GraphBuildParams& p, GraphLayers& layers, ThreadPool& pool) {
  std::vector<size_t> levels(n);
  for (size_t i = 0; i < n; ++i) levels[i] = GraphLayers::level(g.id(slots[i]), p.seed, layers.links());
  layers.insert_batch(g, dist, slots, levels.data(), n, p.build_ef, p.alpha, pool);
}

}  // namespace

WalkStart walk_start(const GraphStore& g, const GraphEntry& entry, GraphScratch& s, std::vector<uint32_t>& routed,
                     uint32_t* anchor) {
  if (entry.layers.empty()) return {entry.slots.data(), entry.slots.size()};
  entry.layers.route(g, s, routed, anchor);
  return {routed.data(), routed.size()};
}

void add_to_sum(const GraphStore& g, const uint32_t* slots, size_t n, int sign, GraphEntry& entry, ThreadPool* pool) {
  const size_t d = g.dim();
  if (entry.sum.size() != d) entry.sum.assign(d, 0.0);
  // Components in ranges, a range per task: each component's sum is taken
  // over the slots in order whatever the threads, so it is the same.
  constexpr size_t kRange = 64;
  const size_t ranges = (d + kRange - 1) / kRange;
  auto add = [&](size_t r) {
    double* sum = entry.sum.data();
    const size_t lo = r * kRange, hi = std::min(d, lo + kRange);
    for (size_t i = 0; i < n; ++i) {
      const float* x = g.vector(slots[i]);
      for (size_t c = lo; c < hi; ++c) sum[c] += sign * static_cast<double>(x[c]);
    }
  };
  if (pool && n >= 1024 && ranges > 1) {
    pool->parallel_for(ranges, add);
  } else {
    for (size_t r = 0; r < ranges; ++r) add(r);
  }
  entry.live = sign > 0 ? entry.live + n : entry.live - n;
}

void choose_entry(const GraphStore& g, size_t build_ef, GraphEntry& entry) {
  if (entry.slots.empty() || entry.live == 0) return;
  const size_t d = g.dim();
  std::vector<float> mean(d);
  for (size_t c = 0; c < d; ++c) mean[c] = static_cast<float>(entry.sum[c] / static_cast<double>(entry.live));
  BuildScratch& s = build_scratch();
  s.walk.probe.prepare(mean.data(), g);
  SlotFilter filter;
  filter.deleted = g.tombstone_flags();
  beam_search(g, entry.slots.data(), entry.slots.size(), build_ef, filter, s.walk, s.hits);
  if (!s.hits.empty()) entry.slots = {s.hits[0].slot};
}

void link_new_slots(GraphStore& g, size_t first, size_t n, const GraphBuildParams& p, GraphEntry& entry,
                    PruneDistances& dist, ThreadPool& pool) {
  if (n == 0) return;
  dist.update(g, &pool);
  // A graph read from a format 3.0 file has no layers: they are built over
  // its slots first, so that they route to all of them.
  if (entry.layers.empty() && first > 0) entry.layers.rebuild(g, dist, first, p.seed, p.build_ef, p.alpha);
  const size_t degree = g.degree();
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), static_cast<uint32_t>(first));
  Rng rng(p.seed ^ (uint64_t(first) * 0x9E3779B97F4A7C15ull));
  for (size_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  size_t pos = 0;
  if (entry.slots.empty() || entry.live == 0) {
    entry.slots = {order[0]};
    add_to_sum(g, order.data(), 1, 1, entry);
    insert_into_layers(g, dist, order.data(), 1, p, entry.layers, pool);
    pos = 1;
  }
  const size_t max_batch = std::max<size_t>(1, (first + n) / 50);
  size_t graph = first + pos, next_entry = 2 * graph;
  std::vector<uint32_t> rows(std::min(max_batch, n) * degree), counts(std::min(max_batch, n));
  while (pos < n) {
    const size_t size = std::min({n - pos, max_batch, graph});
    const uint32_t* batch = order.data() + pos;
    choose_batch_links(g, dist, batch, size, p, entry, pool, rows, counts);
    commit_batch(g, dist, batch, size, rows, counts, p.alpha, pool);
    insert_into_layers(g, dist, batch, size, p, entry.layers, pool);
    add_to_sum(g, batch, size, 1, entry, &pool);
    pos += size;
    graph += size;
    if (graph >= next_entry) {
      choose_entry(g, p.build_ef, entry);
      next_entry = 2 * graph;
    }
  }
  choose_entry(g, p.build_ef, entry);
}

}  // namespace semvec
