// The lists a batch of IVF queries probes, and the runner that scans them:
// each probed list is read once for all the queries that probe it, the
// lists shared out among threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "thread_pool.h"
#include "topk.h"

namespace semvec {

struct IvfProbes {
  // by_list[l]: the queries probing list l, in increasing order (nlist
  // entries).
  std::vector<std::vector<uint32_t>> by_list;
  // The lists probed by at least one query and holding vectors, in
  // increasing order.
  std::vector<uint32_t> probed;
  // Threads the scan is worth: vector-query pairs to score / 4096 (the same
  // for both encodings: an sq8 pair reads fewer bytes but also prepares its
  // query and scores codes).
  size_t tasks = 0;
};

// Runs scan(partial, p) for each probed list p (0 <= p < nprobed) on up to
// `tasks` threads, each claiming lists in turn and pushing into its own
// selections partial[0..nq), which are then merged into heaps[0..nq).
template <typename Scan>
void scan_probed_lists(size_t tasks, size_t nprobed, size_t nq, TopK* heaps, Scan scan) {
  ThreadPool& pool = ThreadPool::global();
  tasks = std::max<size_t>(1, std::min(pool.threads(), tasks));
  std::vector<std::vector<TopK>> partial(tasks);
  std::atomic<size_t> next{0};
  pool.parallel_for(tasks, [&](size_t t) {
    partial[t].assign(nq, TopK(heaps[0].k()));
    for (size_t p = next++; p < nprobed; p = next++) scan(partial[t].data(), p);
  });
  for (size_t i = 0; i < nq; ++i)
    for (size_t t = 0; t < tasks; ++t) heaps[i].merge(partial[t][i]);
}

}  // namespace semvec
