// k-means clustering (Lloyd iterations) on the batch scoring kernel.
//
// Deterministic: for a given seed the result is the same whatever the thread
// count (assignment is per point; centroid sums run per cluster in point
// order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace semvec {

enum class KMeansInit { PlusPlus, Random };

// "kmeans++" or "random": the names the API uses.
const char* kmeans_init_name(KMeansInit init);

// The defaults of k-means, defined here once: the addon exports them
// (constants.defaults.kmeans) and TypeScript reads them from there
// (src/cluster/kmeans.ts documents them for users). IVF training changes a
// few (IvfIndex::training_defaults).
struct KMeansParams {
  size_t k = 0;
  size_t iterations = 25;               // Lloyd iterations at most
  uint64_t seed = 1234;
  bool spherical = false;               // unit-norm points and centroids (cosine)
  size_t max_points_per_centroid = 256; // training subsample: k * this points at most
  KMeansInit init = KMeansInit::PlusPlus;
  // Assign every input point at the end (assignments, inertia). IVF training
  // turns this off: adding the vectors assigns them anyway.
  bool assign_all = true;
  // Called after each iteration's assignment with (iteration from 1, inertia
  // of the training points); return false to stop early. Runs on the
  // calling thread.
  std::function<bool(size_t, double)> progress;
};

struct KMeansResult {
  std::vector<float> centroids;          // k * d
  std::vector<uint32_t> assignments;     // n: nearest centroid of every input point
  double inertia = 0;                    // sum of squared distances of all n points
                                         // (without assign_all: of the training points,
                                         // at the last iteration)
  size_t iterations = 0;                 // Lloyd iterations run
  std::vector<double> history;           // inertia of the training points per iteration
  size_t training_points = 0;
};

// x: n * d. Throws Error(InvalidArgument) for k < 1, k > n, n == 0, or
// non-finite values.
KMeansResult kmeans(const float* x, size_t n, size_t d, const KMeansParams& params);

}  // namespace semvec
