// similarity_matrix: every pair of two vector sets.
#include <cmath>
#include <vector>

#include "harness.h"
#include "similarity_matrix.h"
#include "util.h"

using namespace semvec;

namespace {

double direct(const float* x, const float* y, size_t d, Metric metric) {
  double dot = 0, xx = 0, yy = 0, l2 = 0;
  for (size_t c = 0; c < d; ++c) {
    dot += double(x[c]) * y[c];
    xx += double(x[c]) * x[c];
    yy += double(y[c]) * y[c];
    l2 += (double(x[c]) - y[c]) * (double(x[c]) - y[c]);
  }
  if (metric == Metric::InnerProduct) return dot;
  if (metric == Metric::L2) return l2;
  return xx == 0 || yy == 0 ? 0 : dot / std::sqrt(xx * yy);
}

}  // namespace

TEST("similarity_matrix: every pair matches a direct computation, for every metric and odd dims") {
  for (size_t d : {1, 3, 17, 33}) {
    const size_t na = 7, nb = 41;
    std::vector<float> a = testutil::random_vectors(na, d, 3), b = testutil::random_vectors(nb, d, 4);
    for (size_t c = 0; c < d; ++c) b[5 * d + c] = 0;  // a zero vector
    for (Metric metric : {Metric::InnerProduct, Metric::Cosine, Metric::L2}) {
      std::vector<float> out(na * nb, -1.0f);
      similarity_matrix(a.data(), na, b.data(), nb, d, metric, out.data());
      for (size_t i = 0; i < na; ++i)
        for (size_t j = 0; j < nb; ++j)
          CHECK_NEAR(out[i * nb + j], direct(&a[i * d], &b[j * d], d, metric), 1e-4);
    }
  }
}

TEST("similarity_matrix: empty sets write nothing; non-finite values and dim 0 are refused") {
  std::vector<float> a = {1, 2}, out = {42};
  similarity_matrix(a.data(), 1, nullptr, 0, 2, Metric::L2, out.data());
  CHECK_EQ(out[0], 42.0f);
  std::vector<float> bad = {1, NAN};
  CHECK_THROWS_CODE(similarity_matrix(a.data(), 1, bad.data(), 1, 2, Metric::InnerProduct, out.data()),
                    ErrorCode::InvalidArgument);
  CHECK_THROWS_CODE(similarity_matrix(a.data(), 1, a.data(), 1, 0, Metric::InnerProduct, out.data()),
                    ErrorCode::InvalidArgument);
}
