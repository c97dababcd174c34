// The probe of sq8 IVF lists (the codes of sq8.h): each probed list's codes
// scored against each query that probes it, the best candidates kept, then
// (rerank > 0) scored again exactly from their floats.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "allow_mask.h"
#include "ivf_list.h"
#include "ivf_probes.h"
#include "topk.h"

namespace semvec {

// What an sq8 scan reads: the lists of an sq8 IVF index (null: empty) and
// their centroids, row-major (nlist * dim).
struct Sq8Lists {
  const std::vector<std::unique_ptr<IvfList>>& lists;
  const float* centroids;
  size_t dim;
  bool l2;
};

// Scans the lists `probes` names for the queries qs (nq * dim, prepared:
// unit vectors for Cosine) into heaps[0..nq) (k each), with ids. Each query
// keeps its max(rerank, k) best 8-bit estimates, re-scored exactly when
// rerank > 0 (0: the estimates are the scores). With `allowed`, only allowed
// slots are candidates.
void sq8_scan(const Sq8Lists& lists, const float* qs, size_t nq, const IvfProbes& probes, size_t rerank,
              const AllowMasks* allowed, TopK* heaps);

}  // namespace semvec
