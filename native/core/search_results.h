// What a search returns, and how the scores of a selection become it.
//
// Scores, one convention per layer (defined here, once):
//   Kernels and selections (distances.h, scan.h, topk.h, sq8.h): higher is
//     better, for every metric. InnerProduct and Cosine score <q, x>
//     (Cosine on unit vectors); L2 scores 2 <q, x> - ||x||^2, which ranks
//     vectors as -||q - x||^2 does without needing ||q||^2.
//   SearchResults (finish_results below), what FlatIndex::search and
//     IvfIndex::search return, best first: the similarity <q, x> for
//     InnerProduct and Cosine (descending); the squared distance
//     ||q - x||^2 = ||q||^2 - score for L2 (ascending, clamped at 0).
//   TypeScript passes these on unchanged (SearchResult in
//     src/vector-index.ts); a collection turns each into Chroma's distance
//     and its own higher-is-better score with one helper
//     (distanceAndScore, src/scores.ts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "metric.h"
#include "topk.h"

namespace semvec {

struct SearchResults {
  size_t nq = 0;
  size_t k = 0;               // results per query: min(requested k, size)
  std::vector<float> scores;  // nq * k, best first per query
  std::vector<uint64_t> ids;  // nq * k
  // Results found per query (<= k; less when an approximate index finds
  // fewer candidates, or vectors of an unverified file score NaN). Empty
  // means k for every query.
  std::vector<uint32_t> counts;
};

// Sorts each query's hits into res (res.nq and res.k set by the caller) and,
// for L2, turns scores (2 <q, x> - ||x||^2) into distances ||q - x||^2.
// queries: nq * d, as scored (unit vectors for Cosine).
void finish_results(TopK* heaps, const float* queries, size_t nq, size_t d, Metric metric,
                    SearchResults& res);

}  // namespace semvec
