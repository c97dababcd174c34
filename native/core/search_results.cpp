#include "search_results.h"

#include <algorithm>

#include "distances.h"

namespace semvec {

void finish_results(TopK* heaps, const float* queries, size_t nq, size_t d, Metric metric,
                    SearchResults& res) {
  const Kernels& kn = kernels();
  res.scores.assign(nq * res.k, 0.0f);
  res.ids.assign(nq * res.k, 0);
  for (size_t i = 0; i < nq; ++i) {
    std::vector<Hit> hits = heaps[i].take_sorted();
    const float* qi = queries + i * d;
    const float qsq = metric == Metric::L2 ? kn.inner_product(qi, qi, d) : 0.0f;
    // A flat search finds k everywhere, unless some vectors score NaN (only
    // in a file opened without verification): then it counts too, and
    // results are never padded.
    if (res.counts.empty() && hits.size() < res.k) res.counts.assign(nq, static_cast<uint32_t>(res.k));
    if (!res.counts.empty()) res.counts[i] = static_cast<uint32_t>(std::min(res.k, hits.size()));
    for (size_t j = 0; j < res.k && j < hits.size(); ++j) {
      float s = hits[j].score;
      // ||q - x||^2 = ||q||^2 - (2 <q, x> - ||x||^2), clamped against rounding.
      if (metric == Metric::L2) s = std::max(0.0f, qsq - s);
      res.scores[i * res.k + j] = s;
      res.ids[i * res.k + j] = hits[j].id;
    }
  }
}

}  // namespace semvec
