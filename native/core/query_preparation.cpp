#include "query_preparation.h"

#include "vectors.h"

namespace semvec {

const float* prepare_queries(const float* q, size_t nq, size_t d, Metric metric, std::vector<float>& buf) {
  if (metric != Metric::Cosine) return q;
  buf.resize(nq * d);
  fvec_normalized_L2(q, nq, d, buf.data());
  return buf.data();
}

}  // namespace semvec
