// What the scans of coded IVF lists (sq8_scan, rq_scan) share once their
// codes have given each probed vector an estimated score: the candidates
// kept per query (a TopK of rerank or k), named by list and slot, then
// re-scored exactly from the lists' float rows or kept as estimates, and
// given the vectors' ids. Lists: anything with `dim` and `lists[l]->rows()`
// (a RowStore).
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "distances.h"
#include "row_store.h"
#include "thread_pool.h"
#include "topk.h"
#include "vectors.h"

namespace semvec::code_candidates {

// A candidate's id inside a scan: (list << 32) | slot.
inline uint64_t id(size_t list, size_t slot) { return (uint64_t(list) << 32) | uint64_t(slot); }
inline size_t list_of(uint64_t c) { return static_cast<size_t>(c >> 32); }
inline size_t slot_of(uint64_t c) { return static_cast<size_t>(c & 0xFFFFFFFFu); }

// Pushes the picked slots of list l (those select_at_least kept) that the
// allow-mask (null: all) lets through, with their estimated scores.
inline void push_picked(TopK& heap, size_t l, const float* scores, const uint32_t* picked, size_t m,
                        const uint16_t* mask) {
  for (size_t j = 0; j < m; ++j) {
    const size_t slot = picked[j];
    if (mask && !((mask[slot / kBlock] >> (slot % kBlock)) & 1u)) continue;
    heap.push(scores[slot], id(l, slot));
  }
}

// One query's candidates into its results: exact scores (rerank) or the
// estimates, with the vectors' ids.
template <typename Lists>
void finish_query(const Lists& in, const float* q, TopK& candidates, bool rerank, TopK& heap) {
  const Kernels& kn = kernels();
  const size_t d = in.dim;
  const std::vector<Hit> hits = candidates.take_sorted();
  // Vectors are read whole from scattered places: fetch a few ahead.
  constexpr size_t kAhead = 4;
  auto prefetch = [&](const Hit& h) {
    if (!rerank) return;
    const char* p = reinterpret_cast<const char*>(in.lists[list_of(h.id)]->rows().row(slot_of(h.id)));
    for (size_t b = 0; b < d * sizeof(float); b += 64) __builtin_prefetch(p + b);
  };
  for (size_t j = 0; j < std::min(kAhead, hits.size()); ++j) prefetch(hits[j]);
  for (size_t j = 0; j < hits.size(); ++j) {
    const Hit& h = hits[j];
    if (j + kAhead < hits.size()) prefetch(hits[j + kAhead]);
    const RowStore& rows = in.lists[list_of(h.id)]->rows();
    const size_t slot = slot_of(h.id);
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

// Every query's candidates into heaps[0..nq), across threads when there
// is re-ranking to share.
template <typename Lists>
void finish_queries(const Lists& in, const float* qs, size_t nq, std::vector<TopK>& candidates, size_t rerank,
                    TopK* heaps) {
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

}  // namespace semvec::code_candidates
