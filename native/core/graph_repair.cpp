#include "graph_repair.h"

#include <atomic>
#include <vector>

#include "graph_prune.h"
#include "thread_pool.h"

namespace semvec {

namespace {

// Chooses the links of live slot v again if it has a deleted neighbour;
// returns whether it had.
bool repair_one(GraphStore& g, const PruneDistances& dist, uint32_t v, float alpha, std::vector<PruneCandidate>& cand,
                std::vector<uint32_t>& row) {
  const size_t degree = g.degree();
  const uint32_t* links = g.links(v);
  bool touched = false;
  cand.clear();
  for (size_t j = 0; j < degree && links[j] != kNoLink; ++j) {
    const uint32_t u = links[j];
    if (!g.deleted(u)) {
      cand.push_back({dist(g, v, u), u});
      continue;
    }
    touched = true;
    const uint32_t* through = g.links(u);
    for (size_t i = 0; i < degree && through[i] != kNoLink; ++i)
      if (through[i] != v && !g.deleted(through[i])) cand.push_back({dist(g, v, through[i]), through[i]});
  }
  if (!touched) return false;
  sort_candidates(cand);
  row.resize(degree);
  const size_t kept = select_neighbours(g, dist, cand.data(), cand.size(), alpha, degree, row.data());
  g.set_links(v, row.data(), kept);
  return true;
}

}  // namespace

size_t repair_tombstone_links(GraphStore& g, float alpha, PruneDistances& dist, ThreadPool& pool) {
  dist.update(g, &pool);
  const size_t n = g.size();
  constexpr size_t kChunk = 256;
  std::atomic<size_t> next{0}, repaired{0};
  pool.parallel_for(pool.threads(), [&](size_t) {
    std::vector<PruneCandidate> cand;
    std::vector<uint32_t> row;
    size_t mine = 0;
    for (size_t c = next++; c * kChunk < n; c = next++)
      for (size_t v = c * kChunk; v < std::min(n, (c + 1) * kChunk); ++v)
        if (!g.deleted(v) && repair_one(g, dist, static_cast<uint32_t>(v), alpha, cand, row)) ++mine;
    repaired += mine;
  });
  return repaired;
}

}  // namespace semvec
