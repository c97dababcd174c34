#include "rq_scan.h"

#include <algorithm>
#include <cmath>

#include "code_candidates.h"
#include "distances.h"
#include "rabitq.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

namespace {

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
      code_candidates::push_picked(heap, l, scores.data(), picked.data(), m, mask);
    }
  });
}

}  // namespace

void rq_scan(const RqLists& in, const float* qs, const float* qrs, size_t nq, const IvfProbes& probes,
             size_t rerank, const AllowMasks* allowed, TopK* heaps) {
  const size_t k = heaps[0].k();
  std::vector<TopK> candidates(nq, TopK(rerank == 0 ? k : std::max(rerank, k)));
  select_candidates(in, qs, qrs, nq, probes, allowed, candidates.data());
  code_candidates::finish_queries(in, qs, nq, candidates, rerank, heaps);
}

}  // namespace semvec
