#include "graph_prune.h"

#include <algorithm>
#include <cmath>

#include "distances.h"

namespace semvec {

float prune_distance(const GraphStore& g, uint32_t a, uint32_t b) {
  const Kernels& kn = kernels();
  const float* x = g.vector(a);
  const float* y = g.vector(b);
  const float d = kn.l2sqr(x, y, g.dim());
  // An overflow (extreme vectors) is as far as it gets: never NaN, which
  // would make the selection depend on comparison order.
  return std::isnan(d) ? INFINITY : d;
}

void sort_candidates(std::vector<PruneCandidate>& c) {
  std::sort(c.begin(), c.end(), [](const PruneCandidate& a, const PruneCandidate& b) {
    return a.dist < b.dist || (a.dist == b.dist && a.slot < b.slot);
  });
  c.erase(std::unique(c.begin(), c.end(), [](const PruneCandidate& a, const PruneCandidate& b) { return a.slot == b.slot; }),
          c.end());
}

size_t select_neighbours(const GraphStore& g, const PruneCandidate* c, size_t n, float alpha, size_t degree,
                         uint32_t* out) {
  size_t kept = 0;
  for (size_t i = 0; i < n && kept < degree; ++i) {
    bool keep = true;
    for (size_t j = 0; j < kept && keep; ++j) keep = alpha * prune_distance(g, c[i].slot, out[j]) > c[i].dist;
    if (keep) out[kept++] = c[i].slot;
  }
  return kept;
}

}  // namespace semvec
