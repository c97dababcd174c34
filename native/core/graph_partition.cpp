#include "graph_partition.h"

#include <algorithm>

#include "distances.h"
#include "graph_store.h"
#include "ivf_index.h"
#include "kmeans.h"
#include "packed_store.h"
#include "scan.h"

namespace semvec {

GraphPartition::GraphPartition(const GraphStore& g, Metric metric, uint64_t seed)
    : dim_(g.dim()), l2_(metric == Metric::L2), trained_(g.size()), packed_(g.dim(), l2_) {
  const size_t n = g.size(), d = dim_;
  const size_t groups = std::max<size_t>(1, (n + kGraphGroupSize / 2) / kGraphGroupSize);
  KMeansParams p = IvfIndex::training_defaults();
  p.k = groups;
  p.seed = seed;
  // As IVF: inner product and cosine train spherical k-means (unit
  // centroids), assigned and ranked by inner product.
  p.spherical = !l2_;
  p.max_points_per_centroid = kTrainingPerGroup;
  const KMeansResult r = kmeans(g.vectors(), n, d, p);
  centroids_ = r.centroids;
  members_.resize(groups);
  for (size_t s = 0; s < n; ++s) members_[r.assignments[s]].push_back(static_cast<uint32_t>(s));
  pack();
}

GraphPartition::GraphPartition(size_t dim, Metric metric, size_t trained, std::vector<float> centroids,
                               const uint32_t* group, size_t slots)
    : dim_(dim), l2_(metric == Metric::L2), trained_(trained), centroids_(std::move(centroids)), packed_(dim, l2_) {
  members_.resize(centroids_.size() / dim_);
  for (size_t s = 0; s < slots; ++s) members_[group[s]].push_back(static_cast<uint32_t>(s));
  pack();
}

void GraphPartition::pack() {
  const size_t d = dim_, groups = members_.size();
  sqnorms_.resize(groups);
  for (size_t j = 0; j < groups; ++j)
    sqnorms_[j] = kernels().inner_product(centroids_.data() + j * d, centroids_.data() + j * d, d);
  std::vector<uint64_t> ids(groups);
  for (size_t j = 0; j < groups; ++j) ids[j] = j;
  packed_.append(centroids_.data(), groups, ids.data(), false, nullptr);
}

void GraphPartition::groups_of(size_t slots, uint32_t* out) const {
  for (size_t j = 0; j < members_.size(); ++j)
    for (uint32_t s : members_[j])
      if (s < slots) out[s] = static_cast<uint32_t>(j);
}

void GraphPartition::append(const GraphStore& g, size_t first, size_t n) {
  if (n == 0) return;
  std::vector<uint32_t> best(n);
  std::vector<float> score(n);
  assign_best(g.vector(first), n, dim_, packed_.run(), best.data(), score.data());
  for (size_t i = 0; i < n; ++i) members_[best[i]].push_back(static_cast<uint32_t>(first + i));
}

void GraphPartition::probe(const float* q, size_t nprobe, std::vector<uint32_t>& out) const {
  const size_t m = groups();
  nprobe = std::min(nprobe, m);
  if (nprobe == 0) return;
  thread_local std::vector<std::pair<float, uint32_t>> scored;
  scored.resize(m);
  const auto ip = kernels().inner_product;
  for (size_t j = 0; j < m; ++j) {
    const float s = ip(q, centroids_.data() + j * dim_, dim_);
    scored[j] = {l2_ ? 2.0f * s - sqnorms_[j] : s, static_cast<uint32_t>(j)};
  }
  // Best first; ties: the lower group.
  std::partial_sort(scored.begin(), scored.begin() + nprobe, scored.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  for (size_t i = 0; i < nprobe; ++i) {
    const std::vector<uint32_t>& group = members_[scored[i].second];
    out.insert(out.end(), group.begin(), group.end());
  }
}

size_t GraphPartition::memory_usage() const {
  size_t bytes = (centroids_.capacity() + sqnorms_.capacity()) * sizeof(float) + packed_.memory_usage();
  for (const auto& group : members_) bytes += group.capacity() * sizeof(uint32_t) + sizeof(group);
  return bytes;
}

}  // namespace semvec
