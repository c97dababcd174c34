#include "kmeans.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "distances.h"
#include "errors.h"
#include "packed_store.h"
#include "rng.h"
#include "scan.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

namespace {

// Packs centroids (k * d) with their norms for L2 assignment.
PackedStore pack_centroids(const float* c, size_t k, size_t d) {
  PackedStore store(d, true);
  std::vector<uint64_t> ids(k);
  for (size_t j = 0; j < k; ++j) ids[j] = j;
  store.append(c, k, ids.data(), false, nullptr);
  return store;
}

// Nearest centroid of every point; returns the sum of squared distances.
double assign(const float* x, size_t n, size_t d, const std::vector<float>& centroids, size_t k,
              const std::vector<float>& point_sqnorms, uint32_t* labels) {
  PackedStore packed = pack_centroids(centroids.data(), k, d);
  std::vector<float> score(n);
  assign_best(x, n, d, packed.run(), labels, score.data());
  double inertia = 0;
  for (size_t i = 0; i < n; ++i)
    inertia += std::max(0.0, static_cast<double>(point_sqnorms[i]) - score[i]);
  return inertia;
}

std::vector<float> sqnorms_of(const float* x, size_t n, size_t d) {
  const Kernels& kn = kernels();
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = kn.inner_product(x + i * d, x + i * d, d);
  return out;
}

// k distinct points: the first k of a seeded shuffle.
std::vector<float> init_random(const float* x, size_t n, size_t d, size_t k, Rng& rng) {
  std::vector<uint32_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = static_cast<uint32_t>(i);
  for (size_t i = 0; i < k; ++i) std::swap(idx[i], idx[i + rng.below(n - i)]);
  std::vector<float> c(k * d);
  for (size_t j = 0; j < k; ++j) std::memcpy(&c[j * d], x + size_t(idx[j]) * d, d * sizeof(float));
  return c;
}

// k-means++: each next centre drawn with probability proportional to the
// squared distance to the nearest centre chosen so far.
std::vector<float> init_plus_plus(const float* x, size_t n, size_t d, size_t k, Rng& rng) {
  const Kernels& kn = kernels();
  ThreadPool& pool = ThreadPool::global();
  std::vector<float> c(k * d);
  std::vector<double> dist(n, 0.0);
  size_t first = rng.below(n);
  std::memcpy(&c[0], x + first * d, d * sizeof(float));
  const size_t tasks = std::min<size_t>(pool.threads() * 4, std::max<size_t>(1, n / 1024));
  for (size_t j = 1; j <= k; ++j) {
    const float* cj = &c[(j - 1) * d];
    pool.parallel_for(tasks, [&](size_t t) {
      for (size_t i = n * t / tasks; i < n * (t + 1) / tasks; ++i) {
        double dd = kn.l2sqr(x + i * d, cj, d);
        dist[i] = j == 1 ? dd : std::min(dist[i], dd);
      }
    });
    if (j == k) break;
    double total = 0;
    for (double v : dist) total += v;
    size_t pick = 0;
    if (total > 0) {
      double r = rng.uniform() * total, acc = 0;
      pick = n - 1;
      for (size_t i = 0; i < n; ++i) {
        acc += dist[i];
        if (acc > r) {
          pick = i;
          break;
        }
      }
    } else {
      pick = rng.below(n);  // all points coincide with centres already
    }
    std::memcpy(&c[j * d], x + pick * d, d * sizeof(float));
  }
  return c;
}

// New centroids: mean of each cluster's points, summed per cluster in point
// order (deterministic). Empty clusters take half of the largest cluster.
void update(const float* x, size_t n, size_t d, size_t k, const uint32_t* labels, bool spherical,
            std::vector<float>& centroids) {
  std::vector<size_t> count(k + 1, 0);
  for (size_t i = 0; i < n; ++i) count[labels[i] + 1]++;
  std::vector<size_t> start(k + 1, 0);
  for (size_t j = 0; j < k; ++j) start[j + 1] = start[j] + count[j + 1];
  std::vector<uint32_t> order(n);
  {
    std::vector<size_t> fill(start.begin(), start.end() - 1);
    for (size_t i = 0; i < n; ++i) order[fill[labels[i]]++] = static_cast<uint32_t>(i);
  }
  ThreadPool& pool = ThreadPool::global();
  std::atomic<size_t> next{0};
  pool.parallel_for(pool.threads(), [&](size_t) {
    std::vector<double> sum(d);
    for (size_t j = next++; j < k; j = next++) {
      const size_t m = start[j + 1] - start[j];
      if (m == 0) continue;
      std::fill(sum.begin(), sum.end(), 0.0);
      for (size_t p = start[j]; p < start[j + 1]; ++p) {
        const float* xi = x + size_t(order[p]) * d;
        for (size_t c = 0; c < d; ++c) sum[c] += xi[c];
      }
      for (size_t c = 0; c < d; ++c) centroids[j * d + c] = static_cast<float>(sum[c] / m);
    }
  });
  // Split the largest cluster for each empty one (FAISS's rule, made
  // deterministic: the largest, lowest index on ties).
  std::vector<size_t> size(k);
  for (size_t j = 0; j < k; ++j) size[j] = start[j + 1] - start[j];
  constexpr float kEps = 1.0f / 1024.0f;
  for (size_t j = 0; j < k; ++j) {
    if (size[j] != 0) continue;
    size_t big = static_cast<size_t>(std::max_element(size.begin(), size.end()) - size.begin());
    for (size_t c = 0; c < d; ++c) {
      float sign = (c % 2 == 0) ? 1.0f : -1.0f;
      // In double, clamped: a centroid near +-FLT_MAX must not become infinite.
      const double v = centroids[big * d + c], most = std::numeric_limits<float>::max();
      centroids[j * d + c] = static_cast<float>(std::clamp(v * (1 + sign * kEps), -most, most));
      centroids[big * d + c] = static_cast<float>(std::clamp(v * (1 - sign * kEps), -most, most));
    }
    size[j] = size[big] / 2;
    size[big] -= size[j];
  }
  if (spherical) fvec_renorm_L2(centroids.data(), k, d);
}

}  // namespace

const char* kmeans_init_name(KMeansInit init) { return init == KMeansInit::Random ? "random" : "kmeans++"; }

KMeansResult kmeans(const float* x_in, size_t n, size_t d, const KMeansParams& p) {
  if (n == 0) throw Error(ErrorCode::InvalidArgument, "k-means needs at least one vector; received none");
  if (p.k < 1 || p.k > n)
    throw Error(ErrorCode::InvalidArgument, "k must be an integer from 1 to the number of vectors (" +
                                                std::to_string(n) + "); received " + std::to_string(p.k));
  check_finite(x_in, n, d, "vectors");
  const size_t k = p.k;

  Rng rng(p.seed);
  // Training sample: at most k * max_points_per_centroid points.
  const size_t cap = p.max_points_per_centroid == 0 ? n : std::min(n, k * p.max_points_per_centroid);

  // Spherical k-means works on unit vectors: all of them when all are used,
  // else only the sample's (a copy of every vector was 1.5 GB at 1M x 384).
  const bool sample_only = cap < n && !p.assign_all;
  std::vector<float> normalized;
  const float* x = x_in;
  if (p.spherical && !sample_only) {
    normalized.resize(n * d);
    fvec_normalized_L2(x_in, n, d, normalized.data());
    x = normalized.data();
  }
  std::vector<float> sample;
  const float* train = x;
  size_t nt = n;
  if (cap < n) {
    std::vector<uint32_t> idx(n);
    for (size_t i = 0; i < n; ++i) idx[i] = static_cast<uint32_t>(i);
    for (size_t i = 0; i < cap; ++i) std::swap(idx[i], idx[i + rng.below(n - i)]);
    std::sort(idx.begin(), idx.begin() + cap);  // keep input order: cache-friendly, stable
    sample.resize(cap * d);
    for (size_t i = 0; i < cap; ++i) std::memcpy(&sample[i * d], x + size_t(idx[i]) * d, d * sizeof(float));
    if (p.spherical && sample_only) fvec_renorm_L2(sample.data(), cap, d);
    train = sample.data();
    nt = cap;
  }

  KMeansResult res;
  res.training_points = nt;
  res.centroids = p.init == KMeansInit::PlusPlus ? init_plus_plus(train, nt, d, k, rng)
                                                 : init_random(train, nt, d, k, rng);
  if (p.spherical) fvec_renorm_L2(res.centroids.data(), k, d);

  const std::vector<float> train_sq = sqnorms_of(train, nt, d);
  std::vector<uint32_t> labels(nt), previous;
  for (size_t it = 1; it <= p.iterations; ++it) {
    double inertia = assign(train, nt, d, res.centroids, k, train_sq, labels.data());
    res.history.push_back(inertia);
    res.iterations = it;
    bool keep_going = !p.progress || p.progress(it, inertia);
    bool converged = labels == previous;
    if (converged || !keep_going) break;
    update(train, nt, d, k, labels.data(), p.spherical, res.centroids);
    previous = labels;
  }

  if (!p.assign_all) {
    res.inertia = res.history.empty() ? 0 : res.history.back();
    return res;
  }
  // Final assignment of every input point to the final centroids.
  res.assignments.resize(n);
  res.inertia = assign(x, n, d, res.centroids, k, train == x ? train_sq : sqnorms_of(x, n, d),
                       res.assignments.data());
  return res;
}

}  // namespace semvec
