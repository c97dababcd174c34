// The probe of rq4 and rq1 IVF lists (the codes of rabitq.h): each probed
// list's codes scored against each query that probes it, the best
// candidates kept, then (rerank > 0) scored again exactly from their floats.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "allow_mask.h"
#include "ivf_list.h"
#include "ivf_probes.h"
#include "topk.h"

namespace semvec {

// What an rq scan reads: the lists (null: empty), their centroids
// row-major (nlist * dim) and rotated (P c, nlist * dim).
struct RqLists {
  const std::vector<std::unique_ptr<IvfList>>& lists;
  const float* centroids;
  const float* rotated_centroids;
  size_t dim;
  unsigned bits;
  bool l2;
};

// Scans the lists `probes` names for the queries qs (nq * dim, prepared:
// unit vectors for Cosine) and their rotations qrs (P q, nq * dim) into
// heaps[0..nq) (k each), with ids. Each query keeps its max(rerank, k)
// best estimates, re-scored exactly when rerank > 0 (0: the estimates are
// the scores). With `allowed`, only allowed slots are candidates.
void rq_scan(const RqLists& lists, const float* qs, const float* qrs, size_t nq, const IvfProbes& probes,
             size_t rerank, const AllowMasks* allowed, TopK* heaps);

}  // namespace semvec
