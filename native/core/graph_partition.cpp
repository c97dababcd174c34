#include "graph_partition.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "distances.h"
#include "graph_codes.h"
#include "graph_store.h"
#include "ivf_index.h"
#include "kmeans.h"
#include "sq8.h"
#include "thread_pool.h"

namespace semvec {

GraphPartition::GraphPartition(const GraphStore& g, Metric metric, uint64_t seed)
    : dim_(g.dim()), l2_(metric == Metric::L2), trained_(g.size()) {
  const size_t n = g.size(), d = dim_;
  const size_t groups = std::max<size_t>(1, (n + kGraphGroupSize / 2) / kGraphGroupSize);
  KMeansParams p = IvfIndex::training_defaults();
  p.k = groups;
  p.seed = seed;
  // As IVF: inner product and cosine train spherical k-means (unit
  // centroids), assigned and ranked by inner product.
  p.spherical = !l2_;
  p.max_points_per_centroid = kTrainingPerGroup;
  p.assign_all = false;  // assign() below does, from the codes
  centroids_ = kmeans(g.vectors(), n, d, p).centroids;
  members_.resize(groups);
  pack();
  append(g, 0, n);
}

GraphPartition::GraphPartition(size_t dim, Metric metric, size_t trained, std::vector<float> centroids,
                               const uint32_t* group, size_t slots)
    : dim_(dim), l2_(metric == Metric::L2), trained_(trained), centroids_(std::move(centroids)) {
  members_.resize(centroids_.size() / dim_);
  for (size_t s = 0; s < slots; ++s) members_[group[s]].push_back(static_cast<uint32_t>(s));
  pack();
}

void GraphPartition::pack() {
  const size_t d = dim_, groups = members_.size(), bytes = graph_code_bytes(d);
  sqnorms_.resize(groups);
  probe_w_.assign(groups * bytes, 0);
  probe_a_.resize(groups);
  probe_t_.resize(groups);
  const std::vector<float> origin(d, 0.0f);
  Sq8Probe p;
  for (size_t j = 0; j < groups; ++j) {
    const float* c = centroids_.data() + j * d;
    sqnorms_[j] = kernels().inner_product(c, c, d);
    p.prepare(c, origin.data(), d, l2_);
    std::copy(p.w.begin(), p.w.begin() + d, probe_w_.begin() + j * bytes);
    probe_a_[j] = static_cast<float>(p.factor * p.alpha);
    probe_t_[j] = static_cast<float>(p.factor * p.tsum);
  }
}

void GraphPartition::groups_of(size_t slots, uint32_t* out) const {
  for (size_t j = 0; j < members_.size(); ++j)
    for (uint32_t s : members_[j])
      if (s < slots) out[s] = static_cast<uint32_t>(j);
}

void GraphPartition::append(const GraphStore& g, size_t first, size_t n) {
  if (n == 0) return;
  std::vector<uint32_t> best(n);
  assign(g, first, n, best.data());
  for (size_t i = 0; i < n; ++i) members_[best[i]].push_back(static_cast<uint32_t>(first + i));
}

namespace {

// A run of slots that share an anchor (kNoAnchor: none), scored together.
struct AnchorRun {
  uint32_t anchor, begin, end;  // places in the slots sorted by anchor
};

}  // namespace

void GraphPartition::assign(const GraphStore& g, size_t first, size_t n, uint32_t* out) const {
  const size_t d = dim_, groups = members_.size(), bytes = graph_code_bytes(d);
  // The slots by anchor, in runs of at most kRun: a run's anchor terms are
  // computed once for every centroid.
  constexpr size_t kRun = 512, kChunk = 64;
  static_assert(kChunk % kBlock == 0, "a chunk is whole blocks");
  std::vector<std::pair<uint32_t, uint32_t>> by_anchor(n);
  for (size_t i = 0; i < n; ++i) by_anchor[i] = {g.anchor(first + i), static_cast<uint32_t>(first + i)};
  std::sort(by_anchor.begin(), by_anchor.end());
  std::vector<AnchorRun> runs;
  for (size_t i = 0; i < n;) {
    size_t e = i + 1;
    while (e < n && e - i < kRun && by_anchor[e].first == by_anchor[i].first) ++e;
    runs.push_back({by_anchor[i].first, static_cast<uint32_t>(i), static_cast<uint32_t>(e)});
    i = e;
  }
  const auto& kern = kernels();
  std::atomic<size_t> next{0};
  ThreadPool& pool = ThreadPool::global();
  pool.parallel_for(std::min(pool.threads(), runs.size()), [&](size_t) {
    std::vector<float> anchor_term(groups, 0.0f), best(kChunk * kShortlist), floor(kChunk), est(kChunk);
    std::vector<uint32_t> which(kChunk * kShortlist);
    const size_t blocks = kChunk / kBlock, quads = bytes / 4;
    std::vector<uint8_t> codes(blocks * quads * 64);  // a chunk's codes in the block layout of sq8_dots
    std::vector<int32_t> dots(kChunk);
    std::vector<float> lo(kChunk), step(kChunk);
    std::vector<uint8_t> odd(kChunk), raised(kChunk);
    for (size_t r = next++; r < runs.size(); r = next++) {
      const AnchorRun& run = runs[r];
      // factor * <c, A> for each centroid c, as a walk scores the anchor A
      // (graph_codes.h), or 0 without one.
      if (run.anchor != kNoAnchor) {
        const uint8_t* row = g.code(run.anchor);
        const Sq8Range range = graph_code_range(row, d);
        for (size_t j = 0; j < groups; ++j) {
          kern.sq8_dots_rows(probe_w_.data() + j * bytes, &row, 1, bytes, dots.data());
          anchor_term[j] = range.lo * probe_t_[j] + range.step * probe_a_[j] * static_cast<float>(dots[0]);
        }
      } else {
        std::fill(anchor_term.begin(), anchor_term.end(), 0.0f);
      }
      for (size_t c = run.begin; c < run.end; c += kChunk) {
        const size_t m = std::min<size_t>(kChunk, run.end - c), nb = (m + kBlock - 1) / kBlock;
        std::fill(codes.begin(), codes.begin() + nb * quads * 64, 0);
        for (size_t i = 0; i < m; ++i) {
          const uint8_t* row = g.code(by_anchor[c + i].second);
          uint8_t* blk = codes.data() + (i / kBlock) * quads * 64 + (i % kBlock) * 4;
          for (size_t q = 0; q < quads; ++q) std::memcpy(blk + q * 64, row + q * 4, 4);
          const Sq8Range range = graph_code_range(row, d);
          lo[i] = range.lo;
          step[i] = range.step;
          odd[i] = 0;
        }
        std::fill(best.begin(), best.begin() + m * kShortlist, -INFINITY);
        std::fill(floor.begin(), floor.begin() + m, -INFINITY);
        std::fill(floor.begin() + m, floor.end(), INFINITY);  // no rows there
        std::fill(lo.begin() + m, lo.end(), 0.0f);
        std::fill(step.begin() + m, step.end(), 0.0f);
        std::fill(which.begin(), which.begin() + m * kShortlist, 0u);
        // Every centroid's estimate of every row; each row keeps its best
        // kShortlist (best[i * kShortlist ..], best first; floor[i]: the
        // last of them).
        for (size_t j = 0; j < groups; ++j) {
          kern.sq8_dots(probe_w_.data() + j * bytes, codes.data(), nb, quads, dots.data());
          const float at = anchor_term[j] - (l2_ ? sqnorms_[j] : 0.0f), t = probe_t_[j], a = probe_a_[j];
          // Branch-free over the chunk (it vectorises): most rows keep
          // their shortlist.
          float* es = est.data();
          const float *l = lo.data(), *st = step.data(), *f = floor.data();
          const int32_t* dt = dots.data();
          uint8_t* up = raised.data();
          for (size_t i = 0; i < kChunk; ++i) {
            es[i] = at + l[i] * t + st[i] * a * static_cast<float>(dt[i]);
            up[i] = !(es[i] <= f[i]);
          }
          // The rows whose shortlist takes this centroid: flags of 0 or 1,
          // eight a word, so that the lowest set bit is the next row's.
          for (size_t i0 = 0; i0 < kChunk; i0 += 8) {
            uint64_t word;
            std::memcpy(&word, up + i0, 8);
            for (; word != 0; word &= word - 1) {
              const size_t i = i0 + static_cast<size_t>(__builtin_ctzll(word)) / 8;
              const float e = est[i];
              if (!std::isfinite(e)) {
                odd[i] = 1;
                continue;
              }
              float* b = best.data() + i * kShortlist;
              uint32_t* w = which.data() + i * kShortlist;
              size_t p = kShortlist - 1;
              for (; p > 0 && e > b[p - 1]; --p) {
                b[p] = b[p - 1];
                w[p] = w[p - 1];
              }
              b[p] = e;
              w[p] = static_cast<uint32_t>(j);
              floor[i] = b[kShortlist - 1];
            }
          }
        }
        // The shortlist scored from the floats; every centroid for a row
        // with an estimate that is not finite (extreme vectors).
        for (size_t i = 0; i < m; ++i) {
          const uint32_t slot = by_anchor[c + i].second;
          const float* x = g.vector(slot);
          const uint32_t* w = which.data() + i * kShortlist;
          const size_t count = odd[i] ? groups : std::min(kShortlist, groups);
          float top = -INFINITY;
          uint32_t pick = odd[i] ? 0 : w[0];
          for (size_t k = 0; k < count; ++k) {
            const uint32_t j = odd[i] ? static_cast<uint32_t>(k) : w[k];
            const float ip = kern.inner_product(x, centroids_.data() + size_t(j) * d, d);
            const float score = l2_ ? 2.0f * ip - sqnorms_[j] : ip;
            if (score > top || (score == top && j < pick)) {
              top = score;
              pick = j;
            }
          }
          out[slot - first] = pick;
        }
      }
    }
  });
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
  size_t bytes = (centroids_.capacity() + sqnorms_.capacity() + probe_a_.capacity() + probe_t_.capacity()) * sizeof(float) +
                 probe_w_.capacity();
  for (const auto& group : members_) bytes += group.capacity() * sizeof(uint32_t) + sizeof(group);
  return bytes;
}

}  // namespace semvec
