// Every pair of two vector sets scored at once, on the batch kernel.
#pragma once

#include <cstddef>

#include "metric.h"

namespace semvec {

// a: na * dim, b: nb * dim, row-major. Writes out (na * nb, row-major):
// out[i * nb + j] compares a[i] with b[j] as `metric` does: the inner
// product (InnerProduct), the cosine similarity (Cosine; 0 when either is
// all zeros) or the squared Euclidean distance (L2). Throws
// Error(InvalidArgument) for non-finite values. Runs on the global thread
// pool.
void similarity_matrix(const float* a, size_t na, const float* b, size_t nb, size_t dim, Metric metric,
                       float* out);

}  // namespace semvec
