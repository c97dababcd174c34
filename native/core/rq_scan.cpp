#include "rq_scan.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "distances.h"
#include "rabitq.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

namespace {

uint64_t candidate_id(size_t list, size_t slot) { return (uint64_t(list) << 32) | uint64_t(slot); }
size_t candidate_list(uint64_t c) { return static_cast<size_t>(c >> 32); }
size_t candidate_slot(uint64_t c) { return static_cast<size_t>(c & 0xFFFFFFFFu); }

void select_candidates(const RqLists& in, const float* qs, const float* qrs, size_t nq, const IvfProbes& probes,
                       const AllowMasks* allowed, TopK* candidates) {
  const Kernels& kn = kernels();
  const size_t d = in.dim;
  scan_probed_lists(probes.tasks, probes.probed.size(), nq, candidates, [&](TopK* partial, size_t p) {
    thread_local std::vector<int32_t> dots;
    thread_local std::vector<float> scores;
    thread_local std::vector<uint32_t> picked;
    thread_local RqProbe probe;
    const uint32_t l = probes.probed[p];
    const size_t count = in.lists[l]->size();
    const RqCodeStore& cs = in.lists[l]->rq_codes();
    const size_t nb = (count + kBlock - 1) / kBlock;
    dots.resize(nb * kBlock);
    scores.resize(nb * kBlock);
    picked.resize(nb * kBlock);
    const uint16_t* mask = allowed ? allowed->masks(l) : nullptr;
    const float* c = in.centroids + size_t(l) * d;
    for (uint32_t i : probes.by_list[l]) {
      const float* q = qs + size_t(i) * d;
      probe.prepare(qrs + size_t(i) * d, in.rotated_centroids + size_t(l) * d, kn.inner_product(q, c, d), d,
                    in.bits, in.l2);
      if (in.bits == 4)
        kn.rq4_dots(probe.w.data(), cs.codes(), nb, rq4_pairs(d), dots.data());
      else
        kn.rq1_dots(probe.planes.data(), reinterpret_cast<const uint64_t*>(cs.codes()), nb, rq1_words(d),
                    dots.data());
      rq_scores(probe, dots.data(), cs, count, scores.data());
      TopK& heap = partial[i];
      const size_t m = kn.select_at_least(scores.data(), count, heap.threshold(), picked.data());
      for (size_t j = 0; j < m; ++j) {
        const size_t slot = picked[j];
        if (mask && !((mask[slot / kBlock] >> (slot % kBlock)) & 1u)) continue;
        heap.push(scores[slot], candidate_id(l, slot));
      }
    }
  });
}

void finish_query(const RqLists& in, const float* q, TopK& candidates, bool rerank, TopK& heap) {
  const Kernels& kn = kernels();
  const size_t d = in.dim;
  const std::vector<Hit> hits = candidates.take_sorted();
  constexpr size_t kAhead = 4;
  auto prefetch = [&](const Hit& h) {
    if (!rerank) return;
    const char* p = reinterpret_cast<const char*>(in.lists[candidate_list(h.id)]->rows().row(candidate_slot(h.id)));
    for (size_t b = 0; b < d * sizeof(float); b += 64) __builtin_prefetch(p + b);
  };
  for (size_t j = 0; j < std::min(kAhead, hits.size()); ++j) prefetch(hits[j]);
  for (size_t j = 0; j < hits.size(); ++j) {
    const Hit& h = hits[j];
    if (j + kAhead < hits.size()) prefetch(hits[j + kAhead]);
    const RowStore& rows = in.lists[candidate_list(h.id)]->rows();
    const size_t slot = candidate_slot(h.id);
    float score = h.score;
    if (rerank) {
      const float* row = rows.row(slot);
      const float ip = kn.inner_product(q, row, d);
      score = rows.sqnorms() ? 2.0f * ip - rows.sqnorms()[slot] : ip;
      if (!std::isfinite(score)) score = score_in_double(q, row, d, rows.sqnorms() != nullptr);
    }
    heap.push(score, rows.ids()[slot]);
  }
}

}  // namespace

void rq_scan(const RqLists& in, const float* qs, const float* qrs, size_t nq, const IvfProbes& probes,
             size_t rerank, const AllowMasks* allowed, TopK* heaps) {
  const size_t k = heaps[0].k();
  std::vector<TopK> candidates(nq, TopK(rerank == 0 ? k : std::max(rerank, k)));
  select_candidates(in, qs, qrs, nq, probes, allowed, candidates.data());
  auto finish = [&](size_t i) { finish_query(in, qs + i * in.dim, candidates[i], rerank > 0, heaps[i]); };
  ThreadPool& pool = ThreadPool::global();
  if (nq == 1 || rerank == 0) {
    for (size_t i = 0; i < nq; ++i) finish(i);
  } else {
    std::atomic<size_t> next{0};
    pool.parallel_for(std::min(pool.threads(), nq), [&](size_t) {
      for (size_t i = next++; i < nq; i = next++) finish(i);
    });
  }
}

}  // namespace semvec
