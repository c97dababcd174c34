// Queries made ready for scoring against an index's stored vectors.
#pragma once

#include <cstddef>
#include <vector>

#include "metric.h"

namespace semvec {

// q: nq * d. Cosine: the queries normalised into buf (zero vectors stay
// zero), returned; the other metrics: q itself.
const float* prepare_queries(const float* q, size_t nq, size_t d, Metric metric, std::vector<float>& buf);

}  // namespace semvec
