#include "sq8_scan.h"

#include <algorithm>
#include <cmath>

#include "code_candidates.h"
#include "distances.h"
#include "sq8.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

namespace {

// Selects each query's candidates by their 8-bit estimates into
// candidates[0..nq).
void select_candidates(const Sq8Lists& in, const float* qs, size_t nq, const IvfProbes& probes,
                       const AllowMasks* allowed, TopK* candidates) {
  const Kernels& kn = kernels();
  const size_t d = in.dim, groups = sq8_groups(d);
  scan_probed_lists(probes.tasks, probes.probed.size(), nq, candidates, [&](TopK* partial, size_t p) {
    thread_local std::vector<int32_t> dots;
    thread_local std::vector<float> scores;
    thread_local std::vector<uint32_t> picked;
    thread_local Sq8Probe probe;
    const uint32_t l = probes.probed[p];
    const size_t count = in.lists[l]->size();
    const CodeStore& cs = in.lists[l]->codes();
    const size_t nb = (count + kBlock - 1) / kBlock;
    dots.resize(nb * kBlock);
    scores.resize(nb * kBlock);
    picked.resize(nb * kBlock);
    const uint16_t* mask = allowed ? allowed->masks(l) : nullptr;
    for (uint32_t i : probes.by_list[l]) {
      probe.prepare(qs + size_t(i) * d, in.centroids + size_t(l) * d, d, in.l2);
      kn.sq8_dots(probe.w.data(), cs.codes(), nb, groups, dots.data());
      sq8_scores(probe, dots.data(), cs, count, scores.data());
      TopK& heap = partial[i];
      const size_t m = kn.select_at_least(scores.data(), count, heap.threshold(), picked.data());
      code_candidates::push_picked(heap, l, scores.data(), picked.data(), m, mask);
    }
  });
}

}  // namespace

void sq8_scan(const Sq8Lists& in, const float* qs, size_t nq, const IvfProbes& probes, size_t rerank,
              const AllowMasks* allowed, TopK* heaps) {
  const size_t k = heaps[0].k();
  std::vector<TopK> candidates(nq, TopK(rerank == 0 ? k : std::max(rerank, k)));
  select_candidates(in, qs, nq, probes, allowed, candidates.data());
  code_candidates::finish_queries(in, qs, nq, candidates, rerank, heaps);
}

}  // namespace semvec
