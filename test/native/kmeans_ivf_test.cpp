// k-means and the IVF index.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "flat_index.h"
#include "harness.h"
#include "ivf_index.h"
#include "kmeans.h"
#include "rng.h"
#include "thread_pool.h"
#include "util.h"

using namespace semvec;

namespace {

// n points around `centers` well-separated centres in d dims.
std::vector<float> blobs(size_t n, size_t d, size_t centers, uint64_t seed, float spread = 0.05f) {
  Rng rng(seed);
  std::vector<float> c(centers * d), x(n * d);
  for (auto& v : c) v = static_cast<float>(rng.uniform() * 2 - 1);
  auto g = testutil::random_vectors(n, d, static_cast<uint32_t>(seed));
  for (size_t i = 0; i < n; ++i) {
    size_t j = rng.below(centers);
    for (size_t k = 0; k < d; ++k) x[i * d + k] = c[j * d + k] + spread * g[i * d + k];
  }
  return x;
}

}  // namespace

TEST("kmeans: same seed gives the same centroids, whatever the thread count") {
  const size_t n = 3000, d = 16;
  auto x = blobs(n, d, 8, 1);
  KMeansParams p;
  p.k = 8;
  p.seed = 42;
  auto a = kmeans(x.data(), n, d, p);
  ThreadPool::global().set_threads(1);
  auto b = kmeans(x.data(), n, d, p);
  ThreadPool::global().set_threads(hardware_threads());
  CHECK(a.centroids == b.centroids);
  CHECK(a.assignments == b.assignments);
  p.seed = 43;
  auto c = kmeans(x.data(), n, d, p);
  CHECK(c.centroids != a.centroids);
}

TEST("kmeans: inertia never increases and well-separated blobs are found") {
  const size_t n = 4000, d = 8;
  auto x = blobs(n, d, 5, 2, 0.02f);
  for (KMeansInit init : {KMeansInit::PlusPlus, KMeansInit::Random}) {
    KMeansParams p;
    p.k = 5;
    p.init = init;
    p.iterations = 30;
    auto r = kmeans(x.data(), n, d, p);
    for (size_t i = 1; i < r.history.size(); ++i) CHECK(r.history[i] <= r.history[i - 1] * (1 + 1e-6));
    if (init == KMeansInit::PlusPlus) {
      // Each point's squared distance to its centroid is about d * spread^2.
      CHECK(r.inertia / n < 0.02 * 0.02 * d * 2);
      std::set<uint32_t> used(r.assignments.begin(), r.assignments.end());
      CHECK_EQ(used.size(), size_t(5));
    }
  }
}

TEST("kmeans: subsampling, k = n, duplicate points and argument errors") {
  const size_t d = 4;
  auto x = testutil::random_vectors(500, d, 3);
  KMeansParams p;
  p.k = 10;
  p.max_points_per_centroid = 20;
  auto r = kmeans(x.data(), 500, d, p);
  CHECK_EQ(r.training_points, size_t(200));
  CHECK_EQ(r.assignments.size(), size_t(500));
  p.k = 500;
  p.max_points_per_centroid = 256;
  CHECK_NEAR(kmeans(x.data(), 500, d, p).inertia, 0.0, 1e-3);  // float rounding only
  // Ten identical points, three clusters: empty clusters are split, never NaN.
  std::vector<float> same(10 * d, 0.5f);
  p.k = 3;
  auto s = kmeans(same.data(), 10, d, p);
  for (float v : s.centroids) CHECK(std::isfinite(v));
  CHECK_THROWS_CODE(kmeans(x.data(), 0, d, p), ErrorCode::InvalidArgument);
  p.k = 0;
  CHECK_THROWS_CODE(kmeans(x.data(), 500, d, p), ErrorCode::InvalidArgument);
  p.k = 501;
  CHECK_THROWS_CODE(kmeans(x.data(), 500, d, p), ErrorCode::InvalidArgument);
}

TEST("kmeans: spherical centroids have unit norm") {
  const size_t n = 1000, d = 12;
  auto x = blobs(n, d, 4, 5);
  KMeansParams p;
  p.k = 4;
  p.spherical = true;
  auto r = kmeans(x.data(), n, d, p);
  for (size_t j = 0; j < 4; ++j) {
    double s = 0;
    for (size_t c = 0; c < d; ++c) s += double(r.centroids[j * d + c]) * r.centroids[j * d + c];
    CHECK_NEAR(s, 1.0, 1e-5);
  }
}

TEST("ivf: nprobe = nlist returns exactly the flat index's results") {
  for (Metric m : {Metric::InnerProduct, Metric::Cosine, Metric::L2}) {
    const size_t n = 3000, d = 24, nq = 20, k = 10;
    auto x = blobs(n, d, 20, 6, 0.3f);
    auto q = blobs(nq, d, 20, 7, 0.3f);
    IvfIndex ivf(d, m, 16, 4);
    KMeansParams p;
    ivf.train(x.data(), n, p);
    ivf.add(x.data(), n, nullptr);
    FlatIndex flat(d, m);
    flat.add(x.data(), n, nullptr);
    auto a = ivf.search(q.data(), nq, k, IvfSearchParams{16, std::nullopt, nullptr, 0});
    auto b = flat.search(q.data(), nq, k);
    CHECK(a.ids == b.ids);
    for (size_t i = 0; i < a.scores.size(); ++i) CHECK_NEAR(a.scores[i], b.scores[i], 1e-4);
    for (uint32_t c : a.counts) CHECK_EQ(c, uint32_t(k));
  }
}

TEST("ivf: recall grows with nprobe and reaches 1 at nprobe = nlist") {
  const size_t n = 8000, d = 16, nq = 100, k = 10, nlist = 32;
  auto x = blobs(n, d, 64, 8, 0.4f);
  auto q = blobs(nq, d, 64, 9, 0.4f);
  IvfIndex ivf(d, Metric::L2, nlist, 1);
  ivf.train(x.data(), n, KMeansParams());
  ivf.add(x.data(), n, nullptr);
  FlatIndex flat(d, Metric::L2);
  flat.add(x.data(), n, nullptr);
  auto truth = flat.search(q.data(), nq, k);
  double last = -1;
  for (size_t np : {1, 2, 4, 8, 16, 32}) {
    auto r = ivf.search(q.data(), nq, k, IvfSearchParams{np, std::nullopt, nullptr, 0});
    size_t hit = 0;
    for (size_t i = 0; i < nq; ++i) {
      std::set<uint64_t> want(truth.ids.begin() + i * k, truth.ids.begin() + (i + 1) * k);
      for (size_t j = 0; j < r.counts[i]; ++j) hit += want.count(r.ids[i * k + j]);
    }
    double recall = double(hit) / (nq * k);
    CHECK(recall >= last);
    last = recall;
  }
  CHECK_EQ(last, 1.0);
}

TEST("ivf: errors before training, bad nprobe, remove, and few candidates") {
  const size_t d = 8;
  auto x = testutil::random_vectors(200, d, 10);
  IvfIndex ivf(d, Metric::L2, 8, 2);
  CHECK_THROWS_CODE(ivf.add(x.data(), 10, nullptr), ErrorCode::NotTrained);
  CHECK_THROWS_CODE(ivf.search(x.data(), 1, 5), ErrorCode::NotTrained);
  CHECK_THROWS_CODE(IvfIndex(d, Metric::L2, 8, 9), ErrorCode::InvalidArgument);
  CHECK_THROWS_CODE(ivf.train(x.data(), 5, KMeansParams()), ErrorCode::InvalidArgument);
  ivf.train(x.data(), 200, KMeansParams());
  ivf.add(x.data(), 200, nullptr);
  CHECK_THROWS_CODE(ivf.search(x.data(), 1, 5, IvfSearchParams{9, std::nullopt, nullptr, 0}), ErrorCode::InvalidArgument);
  CHECK_THROWS_CODE(ivf.train(x.data(), 200, KMeansParams()), ErrorCode::InvalidArgument);
  std::vector<uint64_t> gone = {0, 1, 2, 999};
  CHECK_THROWS_CODE(ivf.remove(gone.data(), 4), ErrorCode::NotFound);
  CHECK_EQ(ivf.remove(gone.data(), 3), size_t(3));
  CHECK_EQ(ivf.size(), size_t(197));
  auto r = ivf.search(x.data(), 1, 197, IvfSearchParams{1, std::nullopt, nullptr, 0});  // one list cannot hold everything
  CHECK(r.counts[0] < 197);
  for (size_t j = 0; j < r.counts[0]; ++j) CHECK(r.ids[j] > 2);
  auto sizes = ivf.list_sizes();
  size_t total = 0;
  for (size_t s : sizes) total += s;
  CHECK_EQ(total, size_t(197));
}

TEST("ivf: automatic ids never pass 2^53 - 1; an add that would is refused whole") {
  const size_t d = 4;
  auto x = testutil::random_vectors(40, d, 12);
  IvfIndex ivf(d, Metric::L2, 4, 4);
  ivf.train(x.data(), 40, KMeansParams());
  std::vector<uint64_t> near_max = {kMaxId - 1};
  ivf.add(x.data(), 1, near_max.data());
  CHECK_THROWS_CODE(ivf.add(x.data(), 2, nullptr), ErrorCode::InvalidArgument);
  CHECK_EQ(ivf.size(), size_t(1));
  ivf.add(x.data(), 1, nullptr);
  CHECK(ivf.contains(kMaxId));
  CHECK_THROWS_CODE(ivf.add(x.data(), 1, nullptr), ErrorCode::InvalidArgument);
  std::vector<uint64_t> too_big = {kMaxId + 5};
  CHECK_THROWS_CODE(ivf.add(x.data(), 1, too_big.data()), ErrorCode::InvalidArgument);
  CHECK_EQ(ivf.size(), size_t(2));
}

TEST("ivf: save and load round trip, untrained too, and damage is detected") {
  const size_t n = 1000, d = 12;
  auto x = blobs(n, d, 10, 11, 0.3f);
  IvfIndex ivf(d, Metric::Cosine, 10, 3);
  std::vector<char> empty;
  ivf.serialize([&](size_t s) { empty.resize(s); return static_cast<void*>(empty.data()); });
  CHECK(!IvfIndex::deserialize(empty.data(), empty.size())->is_trained());
  ivf.train(x.data(), n, KMeansParams());
  ivf.add(x.data(), n, nullptr);
  std::vector<uint64_t> gone = {5};
  ivf.remove(gone.data(), 1);
  std::vector<char> mem;
  ivf.serialize([&](size_t s) { mem.resize(s); return static_cast<void*>(mem.data()); });
  auto back = IvfIndex::deserialize(mem.data(), mem.size());
  CHECK_EQ(back->size(), ivf.size());
  CHECK_EQ(back->nprobe(), size_t(3));
  CHECK(back->list_sizes() == ivf.list_sizes());
  CHECK(back->centroids() == ivf.centroids());
  auto a = ivf.search(x.data(), 5, 7), b = back->search(x.data(), 5, 7);
  CHECK(a.ids == b.ids && a.scores == b.scores);
  for (size_t byte = 0; byte < mem.size(); byte += 29) {
    if (byte == 8 || byte == 9) continue;
    auto bad = mem;
    bad[byte] ^= 4;
    CHECK_THROWS_CODE(IvfIndex::deserialize(bad.data(), bad.size()), ErrorCode::CorruptFile);
  }
  std::vector<char> flat_bytes;
  FlatIndex flat(d, Metric::Cosine);
  flat.serialize([&](size_t s) { flat_bytes.resize(s); return static_cast<void*>(flat_bytes.data()); });
  CHECK_THROWS_CODE(IvfIndex::deserialize(flat_bytes.data(), flat_bytes.size()), ErrorCode::WrongKind);
  CHECK_THROWS_CODE(FlatIndex::deserialize(mem.data(), mem.size()), ErrorCode::WrongKind);
}

TEST("ivf: suggest_nlist is about 4 sqrt(n), bounded") {
  CHECK_EQ(suggest_nlist(0), size_t(1));
  CHECK_EQ(suggest_nlist(10), size_t(1));
  CHECK_EQ(suggest_nlist(10000), size_t(256));   // 400, capped at n / 39
  CHECK_EQ(suggest_nlist(1000000), size_t(4000));
  CHECK(suggest_nlist(100000) >= 1264 && suggest_nlist(100000) <= 1280);
}

TEST("filtered search: only allowed ids, exactly the best of them, flat and IVF") {
  const size_t n = 5000, d = 16, nq = 8, k = 10;
  auto x = blobs(n, d, 40, 12, 0.4f);
  auto q = blobs(nq, d, 40, 13, 0.4f);
  FlatIndex flat(d, Metric::L2);
  flat.add(x.data(), n, nullptr);
  IvfIndex ivf(d, Metric::L2, 32, 2);
  ivf.train(x.data(), n, KMeansParams());
  ivf.add(x.data(), n, nullptr);
  for (size_t stride : {2, 37, 997}) {
    std::vector<uint64_t> allow;
    for (uint64_t id = 0; id < n; id += stride) allow.push_back(id);
    allow.push_back(n + 5);  // unknown ids are ignored
    // Reference: a flat index over the allowed vectors only.
    FlatIndex sub(d, Metric::L2);
    for (size_t j = 0; j + 1 < allow.size(); ++j) sub.add(&x[allow[j] * d], 1, &allow[j]);
    auto want = sub.search(q.data(), nq, k);
    auto got = flat.search(q.data(), nq, k, allow.data(), allow.size());
    CHECK_EQ(got.k, std::min(k, allow.size() - 1));
    CHECK(got.ids == want.ids);
    // IVF: min(k, allowed) results, all allowed, sorted; exact at nprobe = nlist.
    auto approx = ivf.search(q.data(), nq, k, IvfSearchParams{2, std::nullopt, allow.data(), allow.size()});
    for (size_t i = 0; i < nq; ++i) {
      CHECK_EQ(approx.counts[i], uint32_t(std::min(k, allow.size() - 1)));
      for (size_t j = 0; j < approx.counts[i]; ++j) CHECK(approx.ids[i * approx.k + j] % stride == 0);
    }
    auto all = ivf.search(q.data(), nq, k, IvfSearchParams{32, std::nullopt, allow.data(), allow.size()});
    CHECK(all.ids == want.ids);
  }
  std::vector<uint64_t> none = {n + 100};
  CHECK_EQ(flat.search(q.data(), 1, k, none.data(), 1).k, size_t(0));
  CHECK_EQ(ivf.search(q.data(), 1, k, IvfSearchParams{4, std::nullopt, none.data(), 1}).k, size_t(0));
}

TEST("kmeans: centroids stay finite when a cluster near +-FLT_MAX is split for an empty one") {
  const size_t d = 3, n = 50;
  const float big = std::numeric_limits<float>::max();
  std::vector<float> x;
  for (size_t i = 0; i < n; ++i) x.insert(x.end(), {big, -big, 1.0f});
  for (bool spherical : {false, true}) {
    KMeansParams p;
    p.k = 4;
    p.spherical = spherical;
    KMeansResult r = kmeans(x.data(), n, d, p);
    for (float c : r.centroids) CHECK(std::isfinite(c));
    IvfIndex ivf(d, spherical ? Metric::InnerProduct : Metric::L2, 4, 4);
    ivf.train(x.data(), n, KMeansParams());
    for (float c : ivf.centroids()) CHECK(std::isfinite(c));
  }
}
