// 8-bit residual codes: error bounds of the decoded residuals and of the
// estimated scores, and code storage.
#include <algorithm>
#include <cmath>

#include "distances.h"
#include "harness.h"
#include "sq8.h"
#include "util.h"

using namespace semvec;

namespace {

uint8_t code_at(const CodeStore& s, size_t dim, size_t slot, size_t i) {
  return s.codes()[(slot / kBlock) * sq8_groups(dim) * 64 + (i / 4) * 64 + (slot % kBlock) * 4 + i % 4];
}

// Estimated scores of q against every code of `store`.
std::vector<float> estimates(const CodeStore& store, const float* q, const float* c, size_t dim, bool l2) {
  Sq8Probe probe;
  probe.prepare(q, c, dim, l2);
  const size_t nb = (store.size() + kBlock - 1) / kBlock;
  std::vector<int32_t> dots(nb * kBlock);
  kernels().sq8_dots(probe.w.data(), store.codes(), nb, sq8_groups(dim), dots.data());
  std::vector<float> out(store.size());
  for (size_t j = 0; j < store.size(); ++j)
    out[j] = probe.score(dots[j], store.lo()[j], store.step()[j], store.bias()[j]);
  return out;
}

}  // namespace

TEST("sq8: residual codes decode to within half a step of each vector's own range") {
  const size_t d = 37, n = 300;
  auto x = testutil::random_vectors(n, d, 5);
  auto c = testutil::random_vectors(1, d, 6);
  for (size_t i = 0; i < d; ++i) x[7 * d + i] = c[i] + 0.5f;  // a constant residual
  CodeStore store(d, false);
  store.reserve(n);
  store.append(x.data(), n, c.data());
  CHECK_EQ(store.size(), n);
  for (size_t j = 0; j < n; ++j)
    for (size_t i = 0; i < d; ++i) {
      const float r = x[j * d + i] - c[i];
      const float decoded = store.lo()[j] + store.step()[j] * code_at(store, d, j, i);
      CHECK(std::abs(decoded - r) <= 0.5f * store.step()[j] * 1.001f + 1e-6f);
    }
  CHECK(store.step()[7] > 0.0f);
  CHECK_NEAR(store.lo()[7], 0.5, 1e-6);
}

TEST("sq8: estimated scores are close to the exact ones, for ip and l2, and tight clusters stay resolved") {
  const size_t d = 48, n = 200;
  for (bool l2 : {false, true})
    for (float spread : {1.0f, 0.03f}) {  // a wide and a tight cluster around c
      auto c = testutil::random_vectors(1, d, 11);
      auto x = testutil::random_vectors(n, d, 12);
      for (size_t j = 0; j < n; ++j)
        for (size_t i = 0; i < d; ++i) x[j * d + i] = c[i] + spread * x[j * d + i];
      auto q = testutil::random_vectors(1, d, 13);
      for (size_t i = 0; i < d; ++i) q[i] = c[i] + spread * q[i];
      CodeStore store(d, l2);
      store.reserve(n);
      store.append(x.data(), n, c.data());
      const std::vector<float> est = estimates(store, q.data(), c.data(), d, l2);
      double worst = 0, span = 0;
      std::vector<double> exact(n);
      for (size_t j = 0; j < n; ++j) {
        double ip = 0, xx = 0;
        for (size_t i = 0; i < d; ++i) {
          ip += double(q[i]) * x[j * d + i];
          xx += double(x[j * d + i]) * x[j * d + i];
        }
        exact[j] = l2 ? 2 * ip - xx : ip;
        worst = std::max(worst, std::abs(est[j] - exact[j]));
      }
      span = *std::max_element(exact.begin(), exact.end()) - *std::min_element(exact.begin(), exact.end());
      // Errors scale with the cluster, not with where it sits: a small share
      // of the spread of the scores within the list.
      CHECK(worst < 0.02 * span);
    }
}

TEST("sq8: removing a slot moves the last code into it and clears the old lane") {
  const size_t d = 6, n = 20;
  auto x = testutil::random_vectors(n, d, 9);
  std::vector<float> c(d, 0.25f);
  CodeStore store(d, true);
  store.reserve(n);
  store.append(x.data(), n, c.data());
  std::vector<uint8_t> last(d);
  for (size_t i = 0; i < d; ++i) last[i] = code_at(store, d, n - 1, i);
  const float lo = store.lo()[n - 1], step = store.step()[n - 1], bias = store.bias()[n - 1];
  store.remove_slot(3);
  CHECK_EQ(store.size(), n - 1);
  for (size_t i = 0; i < d; ++i) CHECK_EQ(code_at(store, d, 3, i), last[i]);
  CHECK(store.lo()[3] == lo && store.step()[3] == step && store.bias()[3] == bias);
  for (size_t i = 0; i < d; ++i) CHECK_EQ(int(code_at(store, d, n - 1, i)), 0);
  store.remove_slot(store.size() - 1);
  CHECK_EQ(store.size(), n - 2);
}
