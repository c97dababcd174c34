// 8-bit residual codes: error bounds of the decoded residuals and of the
// estimated scores, and code storage.
#include <algorithm>
#include <cmath>
#include <limits>

#include "distances.h"
#include "harness.h"
#include "ivf_index.h"
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
  sq8_scores(probe, dots.data(), store, store.size(), out.data());
  return out;
}

}  // namespace

TEST("sq8: a probe's bytes are its components rounded half away from zero and clamped, NaN as 0, in every lane") {
  // max |q - c| = 127 makes alpha 1, so each byte is a component rounded.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> q = {127.0f, -0.0f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0.49999997f, -0.49999997f,
                                126.5f, -126.5f, -127.0f, nan, 3.25f, -3.75f, 0.0f, 100.5f, -99.5f, nan, 7.0f};
  const std::vector<int> want = {127, 0, 1, -1, 2, -2, 3, -3, 0, 0, 127, -127, -127, 0, 3, -4, 0, 101, -100, 0, 7};
  for (size_t offset = 0; offset < 8; ++offset) {  // each value through each SIMD lane and the scalar tail
    std::vector<float> x(offset, 1.0f), c;
    x.insert(x.end(), q.begin(), q.end());
    c.assign(x.size(), 0.0f);
    Sq8Probe p;
    p.prepare(x.data(), c.data(), x.size(), false);
    CHECK_EQ(p.alpha, 1.0);
    for (size_t i = 0; i < offset; ++i) CHECK_EQ(int(p.w[i]), 1);
    for (size_t i = 0; i < q.size(); ++i) CHECK_EQ(int(p.w[offset + i]), want[i]);
    for (size_t i = x.size(); i < p.w.size(); ++i) CHECK_EQ(int(p.w[i]), 0);
  }
}

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

namespace {

// Vectors of extreme but finite scales, 32 of each kind: components near
// +-1e38 and up to +-FLT_MAX, near 1e-38 and subnormal, and mixed scales
// within one vector, besides ordinary ones.
std::vector<float> extreme_vectors(size_t d, uint32_t seed) {
  auto g = testutil::random_vectors(160, d, seed);
  std::vector<float> x(g.size());
  const float big = std::numeric_limits<float>::max();
  for (size_t j = 0; j < 160; ++j)
    for (size_t i = 0; i < d; ++i) {
      const float v = g[j * d + i];
      const float sign = v < 0 ? -1.0f : 1.0f;
      float& out = x[j * d + i];
      switch (j % 5) {
        case 0: out = 1e38f * v; break;
        case 1: out = i == j % d ? sign * big : sign * (0.5f + std::min(std::abs(v), 1.5f)) * 1.5e38f; break;
        case 2: out = 1e-38f * v + (i == 0 ? 3e-42f : 0.0f); break;
        case 3: out = v * (i % 3 == 0 ? 1e38f : i % 3 == 1 ? 1e-38f : 1.0f); break;
        default: out = v; break;
      }
    }
  return x;
}

}  // namespace

TEST("sq8: estimated scores are finite for every finite vector and query, however extreme") {
  const size_t d = 9;
  const auto x = extreme_vectors(d, 21);
  const size_t n = x.size() / d;
  for (bool l2 : {false, true})
    for (size_t centre : {size_t(0), size_t(1), size_t(2), size_t(3), size_t(4)}) {
      std::vector<float> c(x.begin() + centre * d, x.begin() + (centre + 1) * d);
      if (centre == 1)
        for (float& v : c) v = -v;  // residuals of about 2 * FLT_MAX
      CodeStore store(d, l2);
      store.reserve(n);
      store.append(x.data(), n, c.data());
      for (size_t j = 0; j < n; ++j) {
        CHECK(std::isfinite(store.lo()[j]) && std::isfinite(store.bias()[j]));
        CHECK(std::isfinite(store.step()[j]) && store.step()[j] > 0.0f);
      }
      for (size_t q = 0; q < n; q += 7) {
        const std::vector<float> est = estimates(store, &x[q * d], c.data(), d, l2);
        for (size_t j = 0; j < n; ++j) CHECK(std::isfinite(est[j]));
      }
    }
}

TEST("sq8: every stored vector is found by a search for itself, with components near +-FLT_MAX, 1e-38 and mixed scales") {
  const size_t d = 9, nlist = 4;
  const auto x = extreme_vectors(d, 22);
  const size_t n = x.size() / d;
  for (Metric m : {Metric::InnerProduct, Metric::L2, Metric::Cosine}) {
    IvfIndex ix(d, m, nlist, nlist, IvfEncoding::Sq8);
    ix.train(x.data(), n, KMeansParams());
    ix.add(x.data(), n, nullptr);
    for (size_t rerank : {size_t(0), size_t(8), n}) {
      SearchResults r = ix.search(x.data(), n, n, IvfSearchParams{nlist, rerank, nullptr, 0});
      CHECK_EQ(r.k, n);
      for (size_t q = 0; q < n; ++q) {
        if (r.counts[q] != n) harness::fail(__FILE__, __LINE__, "query ", q, ": ", r.counts[q], " results (metric ", metric_name(m), ", rerank ", rerank, ")");
        bool found = false;
        for (size_t j = 0; j < n; ++j) found = found || r.ids[q * n + j] == q;
        if (!found) harness::fail(__FILE__, __LINE__, "vector ", q, " not found (metric ", metric_name(m), ", rerank ", rerank, ")");
        for (size_t j = 0; j < n; ++j) CHECK(!std::isnan(r.scores[q * n + j]));
        // Cosine makes every vector a unit vector, however extreme: then the
        // best match of each one is itself.
        if (m == Metric::Cosine && rerank > 0 && r.ids[q * n] != q)
          harness::fail(__FILE__, __LINE__, "cosine: vector ", q, " is not its own best match (rerank ", rerank, ")");
      }
    }
  }
}
