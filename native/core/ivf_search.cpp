// IvfIndex search: coarse selection of the lists to probe, then one scan of
// each probed list for all the queries that probe it (f32 here, sq8 in
// sq8_scan.cpp).
#include <algorithm>
#include <cmath>
#include <mutex>
#include <optional>
#include <shared_mutex>

#include "distances.h"
#include "errors.h"
#include "ivf_index.h"
#include "query_preparation.h"
#include "scan.h"
#include "sq8_scan.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

SearchResults IvfIndex::search(const float* q, size_t nq, size_t k, const IvfSearchParams& params) const {
  if (k == 0) throw Error(ErrorCode::InvalidArgument, "k must be >= 1; received 0");
  if (params.rerank) check_rerank(*params.rerank);
  check_finite(q, nq, dim_, "queries");
  std::vector<float> qbuf;
  const float* qs = prepare_queries(q, nq, dim_, metric_, qbuf);

  std::shared_lock<RwLock> lock(mutex_);
  if (!trained_) throw Error(ErrorCode::NotTrained, "the IVF index must be trained before searching");
  const size_t nprobe = check_nprobe(params.nprobe.value_or(nprobe_));
  std::optional<AllowMasks> allowed;
  if (params.allow != nullptr) allowed = allow_masks_locked(params.allow, params.n_allow);
  const AllowMasks* allow = allowed ? &*allowed : nullptr;
  SearchResults res;
  res.nq = nq;
  res.k = std::min(k, allow ? allow->allowed() : size_);
  res.counts.assign(nq, 0);
  if (res.k == 0 || nq == 0) {
    res.k = 0;
    return res;
  }
  const IvfProbes probes = plan_probes_locked(qs, nq, nprobe, res.k, allow);
  std::vector<TopK> heaps(nq, TopK(res.k));
  if (encoding_ == IvfEncoding::Sq8) {
    const Sq8Lists lists{lists_, centroid_rows_.data(), dim_, metric_ == Metric::L2};
    sq8_scan(lists, qs, nq, probes, params.rerank.value_or(rerank_), allow, heaps.data());
  } else {
    scan_f32_locked(qs, nq, probes, allow, heaps.data());
  }
  finish_results(heaps.data(), qs, nq, dim_, metric_, res);
  return res;
}

AllowMasks IvfIndex::allow_masks_locked(const uint64_t* allow, size_t n_allow) const {
  AllowMasks out(nlist_);  // one store per list
  out.allow_all(
      allow, n_allow,
      [&](uint64_t id, size_t& list, size_t& slot) {
        return locate_locked(id, &list, &slot);
      },
      [&](size_t list) { return list_size(list); });
  return out;
}

// Each query probes its nprobe best lists; with an allow-list, its nprobe
// best among the lists holding allowed vectors, then more until k allowed
// vectors are covered.
IvfProbes IvfIndex::plan_probes_locked(const float* qs, size_t nq, size_t nprobe, size_t k,
                                       const AllowMasks* allowed) const {
  IvfProbes probes;
  probes.by_list.resize(nlist_);
  std::vector<TopK> coarse(nq, TopK(allowed ? nlist_ : nprobe));
  scan_centroids_locked(qs, nq, coarse.data());
  for (size_t i = 0; i < nq; ++i) {
    size_t taken = 0, covered = 0;
    for (const Hit& h : coarse_hits_locked(coarse[i], qs + i * dim_)) {
      if (allowed) {
        if (allowed->allowed_in(h.id) == 0) continue;
        if (taken >= nprobe && covered >= k) break;
        covered += allowed->allowed_in(h.id);
      }
      probes.by_list[h.id].push_back(static_cast<uint32_t>(i));
      ++taken;
    }
  }
  size_t work = 0;  // vector-query pairs to score
  for (size_t l = 0; l < nlist_; ++l) {
    if (probes.by_list[l].empty() || list_size(l) == 0) continue;
    probes.probed.push_back(static_cast<uint32_t>(l));
    work += list_size(l) * probes.by_list[l].size();
  }
  probes.tasks = work / 4096;
  return probes;
}

// The probe order of one query from its coarse selection. Scores that
// overflowed a float (extreme vectors: NaN scores are dropped by the scan,
// infinite ones tie) are computed again in double, so that every list can
// still be probed, best first.
std::vector<Hit> IvfIndex::coarse_hits_locked(TopK& heap, const float* q) const {
  std::vector<Hit> hits = heap.take_sorted();
  bool finite = hits.size() == std::min(heap.k(), nlist_);
  for (const Hit& h : hits) finite = finite && std::isfinite(h.score);
  if (finite) return hits;
  TopK wide(heap.k());
  std::vector<float> c(dim_);
  for (size_t l = 0; l < nlist_; ++l) {
    centroids_.unpack_rows(l, 1, c.data());
    wide.push(score_in_double(q, c.data(), dim_, metric_ == Metric::L2), l);
  }
  return wide.take_sorted();
}

// Few queries are split across the pool by ranges of centroids, many by
// ranges of queries; small jobs stay on the calling thread.
void IvfIndex::scan_centroids_locked(const float* qs, size_t nq, TopK* heaps) const {
  ThreadPool& pool = ThreadPool::global();
  const size_t threads = pool.threads();
  const size_t tasks = std::min(threads, nq * nlist_ * dim_ / (size_t(1) << 18));
  if (tasks <= 1) {
    scan_packed(qs, nq, dim_, centroids_.run(), heaps);
  } else if (nq >= 2 * threads) {
    pool.parallel_for(tasks, [&](size_t t) {
      const size_t i0 = nq * t / tasks, i1 = nq * (t + 1) / tasks;
      scan_packed(qs + i0 * dim_, i1 - i0, dim_, centroids_.run(), heaps + i0);
    });
  } else {
    const size_t nblocks = (nlist_ + kBlock - 1) / kBlock;
    std::vector<std::vector<TopK>> part(tasks, std::vector<TopK>(nq, TopK(heaps[0].k())));
    pool.parallel_for(tasks, [&](size_t t) {
      const size_t first = nblocks * t / tasks * kBlock;
      const size_t last = std::min(nlist_, nblocks * (t + 1) / tasks * kBlock);
      scan_packed(qs, nq, dim_, centroids_.run(first, last), part[t].data());
    });
    for (size_t i = 0; i < nq; ++i)
      for (size_t t = 0; t < tasks; ++t) heaps[i].merge(part[t][i]);
  }
}

// Each probed list is scanned with the flat kernels for the queries that
// probe it, gathered into one block when there are several.
void IvfIndex::scan_f32_locked(const float* qs, size_t nq, const IvfProbes& probes, const AllowMasks* allowed,
                               TopK* heaps) const {
  const size_t d = dim_;
  scan_probed_lists(probes.tasks, probes.probed.size(), nq, heaps, [&](TopK* partial, size_t p) {
    thread_local std::vector<float> group;
    const uint32_t l = probes.probed[p];
    const std::vector<uint32_t>& qs_of = probes.by_list[l];
    const float* qptr;
    if (qs_of.size() == 1) {
      qptr = qs + size_t(qs_of[0]) * d;
    } else {
      group.resize(qs_of.size() * d);
      for (size_t j = 0; j < qs_of.size(); ++j)
        std::copy(qs + size_t(qs_of[j]) * d, qs + size_t(qs_of[j] + 1) * d, group.begin() + j * d);
      qptr = group.data();
    }
    PackedRun run = lists_[l]->packed().run();
    if (allowed) run.masks = allowed->masks(l);
    scan_packed(qptr, qs_of.size(), d, run, partial, qs_of.data());
  });
}

}  // namespace semvec
