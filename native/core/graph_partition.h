// A graph index's partition: its vectors grouped by k-means, as an IVF
// groups them, so that a search with nprobe > 0 can start its walk from
// every member of the query's nprobe best groups (graph_index.h).
//
// Why: on some data a walk alone stops short of the recall asked for,
// however wide. On overlapping isotropic clusters with 10% uniform noise
// (bench:peers' hard mixture, 1M x 384) a vector is its cluster's centre
// plus a spread as long as the centre: no single vector, and so no step of
// a walk, points towards the clusters a query's neighbours are in, and
// recall@10 stopped at 0.9385 at ef 2,560 (0.62 for the queries drawn from
// the noise). A group's centroid is close to a cluster's centre.
// Measured there (bench:peers, docs/benchmarks/peers-1m-hard-nprobe.md,
// 3,906 groups): ef 64 with nprobe 48 reached 0.955 in 0.79 ms a single
// query, ef 1,024 with nprobe 1,024 0.9915 in 11.8 ms. Other groupings
// tried there (one-off script, 1,000 queries): the walk's own anchors
// (graph_codes.h) as groups, 0.9133 at ef 1,024 / nprobe 1,024, no better
// than the walk alone; plain (not spherical) k-means, 0.9441 at ef 256 /
// nprobe 64 against 0.9604 spherical; plain two-level k-means (sqrt of the
// groups, then each split), trained in 2.3 s instead of 12, 0.9163 at the
// same setting; plain with 64 training vectors per group instead of 16,
// 0.9788 against 0.9751 at ef 1,024 / nprobe 1,024, for 26 s of training
// instead of 12. Assigning the vectors in two levels (the best 8 of 63
// clusters of the centroids, then their members) took the training from
// 12.9 s to 9.0 s but put 12.3% of the vectors in another group than the
// nearest: kept exact.
//
// Starting the walk from only the first 16 or 48 members of each group
// instead of all lost most of that (ef 1,024 / nprobe 1,024: 0.9397 and
// 0.9467 against 0.9913): the groups' members are needed whole.
//
// Derived from the vectors: trained by the first search that asks for it, with IVF training's k-means (ivf_index.h: random starts, 10
// iterations; spherical for ip and cosine, whose centroids are then unit
// vectors) on 16 vectors per group, seeded by the index's seed, so the
// same for any thread count; one group per kGraphGroupSize vectors.
// Every vector then joins its nearest group: each centroid is scored
// against the vector's 8-bit code as a walk scores a row, and the best
// kShortlist estimates again from the floats (at 1M hard-mixture vectors
// and 3,906 groups, training with this assignment took 9.2-9.3 s against
// 12.5-12.7 s assigning from the floats alone; 6 vectors of 999,950 went
// to another group, each within 5e-7 of the first's score: float
// rounding; with a shortlist of 8, 8 more went to one within 1.1e-3).
// Vectors added later join their nearest group the same way; a repair (which renumbers
// the slots) or growth past kRetrainGrowth times the trained size drops
// it, and the next such search trains it again. Tombstones stay in their
// groups: the walk steps over them. A group's score against a query is its
// centroid's in the metric's convention (search_results.h), as a vector's.
// An index saved with its partition keeps it (the centroids and each
// slot's group: 4 bytes a vector, docs/file-format.md), so that a loaded
// or mapped copy needs no training before its first nprobe search.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "metric.h"

namespace semvec {

class GraphStore;

class GraphPartition {
 public:
  static constexpr size_t kGraphGroupSize = 256;
  static constexpr size_t kRetrainGrowth = 4;
  static constexpr size_t kTrainingPerGroup = 16;
  // Groups scored again from the floats for each vector assigned.
  static constexpr size_t kShortlist = 16;

  // Trains the groups over the slots of g (at least one). Throws what
  // kmeans() does (allocation).
  GraphPartition(const GraphStore& g, Metric metric, uint64_t seed);
  // A partition read from a file: `groups` centroids (groups * dim values)
  // and the group of each of `slots` slots (each below groups), trained
  // over `trained` slots. The caller has checked the groups.
  GraphPartition(size_t dim, Metric metric, size_t trained, std::vector<float> centroids, const uint32_t* group,
                 size_t slots);
  size_t groups() const { return members_.size(); }
  // Whether the partition should be trained again for a store of `slots`.
  bool stale(size_t slots) const { return slots > kRetrainGrowth * trained_; }
  // Adds slots [first, first + n) of g to their nearest groups.
  void append(const GraphStore& g, size_t first, size_t n);
  // Appends the slots of the nprobe groups that score best against q (as
  // prepared for search: a unit vector for cosine) to out.
  void probe(const float* q, size_t nprobe, std::vector<uint32_t>& out) const;
  size_t memory_usage() const;

  // What a file keeps: the centroids, the slots trained over, and each
  // slot's group (slots values into out).
  const std::vector<float>& centroids() const { return centroids_; }
  size_t trained() const { return trained_; }
  void groups_of(size_t slots, uint32_t* out) const;

 private:
  // The centroids' norms and probes, from centroids_.
  void pack();
  // The nearest group of each of slots [first, first + n) of g into out:
  // every centroid is scored against the slot's code as a walk scores a
  // row (graph_codes.h), and the best kShortlist estimates again from the
  // floats (ties: the lower group). On all threads.
  void assign(const GraphStore& g, size_t first, size_t n, uint32_t* out) const;

  size_t dim_;
  bool l2_;
  size_t trained_;
  std::vector<float> centroids_;  // groups * dim
  std::vector<float> sqnorms_;    // |centroid|^2 (l2 scores)
  // Each centroid as a query of the codes (Sq8Probe about the origin):
  // its signed bytes (graph_code_bytes(dim) each), factor * alpha and
  // factor * sum, for assign().
  std::vector<int8_t> probe_w_;
  std::vector<float> probe_a_, probe_t_;
  std::vector<std::vector<uint32_t>> members_;
};

}  // namespace semvec
