#include "similarity_matrix.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "distances.h"
#include "packed_store.h"
#include "query_preparation.h"
#include "scan.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

void similarity_matrix(const float* a, size_t na, const float* b, size_t nb, size_t dim, Metric metric,
                       float* out) {
  check_dim(dim);
  check_finite(a, na, dim, "a");
  check_finite(b, nb, dim, "b");
  if (na == 0 || nb == 0) return;
  // A as queries (unit rows for Cosine), B packed as an index stores it.
  std::vector<float> qbuf;
  const float* qs = prepare_queries(a, na, dim, metric, qbuf);
  PackedStore store(dim, metric == Metric::L2);
  std::vector<uint64_t> ids(nb, 0);
  store.reserve(nb);
  store.append(b, nb, ids.data(), metric == Metric::Cosine, &ThreadPool::global());
  // L2 scores are 2 <a, b> - ||b||^2: add ||a||^2 and flip the sign for
  // ||a - b||^2, clamped against rounding.
  score_all(qs, na, dim, store.run(), out);
  if (metric == Metric::L2) {
    const Kernels& kn = kernels();
    for (size_t i = 0; i < na; ++i) {
      const float* ai = qs + i * dim;
      const float aa = kn.inner_product(ai, ai, dim);
      float* row = out + i * nb;
      for (size_t j = 0; j < nb; ++j) row[j] = std::max(0.0f, aa - row[j]);
    }
  }
}

}  // namespace semvec
