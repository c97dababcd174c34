#include "graph_prune.h"

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "distances.h"
#include "graph_codes.h"
#include "thread_pool.h"

namespace semvec {

PruneDistances::Scratch& PruneDistances::scratch() {
  thread_local Scratch s;
  return s;
}

void PruneDistances::update(const GraphStore& g, ThreadPool* pool) {
  const size_t n = g.size(), first = terms_.size(), dim = g.dim();
  if (first >= n) return;
  terms_.resize(n);
  auto compute = [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; ++i) {
      const uint8_t* code = g.code(i);
      const Sq8Range r = graph_code_range(code, dim);
      double norm = 0.0, sum = 0.0;
      for (size_t c = 0; c < dim; ++c) {
        const double x = r.lo + static_cast<double>(r.step) * code[c];
        norm += x * x;
        sum += code[c];
      }
      terms_[i] = {norm, sum, r.lo, r.step};
    }
  };
  constexpr size_t kChunk = 4096;
  if (pool == nullptr || n - first <= kChunk) {
    compute(first, n);
    return;
  }
  std::atomic<size_t> next{0};
  pool->parallel_for(pool->threads(), [&](size_t) {
    for (size_t c = next++; first + c * kChunk < n; c = next++)
      compute(first + c * kChunk, std::min(n, first + (c + 1) * kChunk));
  });
}

void PruneDistances::truncate(size_t size) {
  if (terms_.size() > size) terms_.resize(size);
}

void PruneDistances::many(const GraphStore& g, uint32_t a, const uint32_t* b, size_t m, float* out) const {
  many(g, a, b, m, out, scratch());
}

void PruneDistances::many(const GraphStore& g, uint32_t a, const uint32_t* b, size_t m, float* out,
                          Scratch& s) const {
  if (m == 0) return;
  const size_t dim = g.dim(), bytes = graph_code_bytes(dim);
  // code_a - 128 as signed bytes: the top bit flipped (past dim the codes
  // of b are zero, so what is there does not count).
  s.q.resize(bytes);
  const uint8_t* ca = g.code(a);
  int8_t* q = s.q.data();
  for (size_t c = 0; c < bytes; c += 4) {  // bytes: a multiple of 4
    uint32_t w;
    std::memcpy(&w, ca + c, 4);
    w ^= 0x80808080u;
    std::memcpy(q + c, &w, 4);
  }
  s.rows.resize(m);
  s.dots.resize(m);
  for (size_t j = 0; j < m; ++j) {
    s.rows[j] = g.code(b[j]);
    __builtin_prefetch(&terms_[b[j]]);
  }
  kernels().sq8_dots_rows(s.q.data(), s.rows.data(), m, bytes, s.dots.data());
  const Terms& ta = terms_[a];
  const double d = static_cast<double>(dim);
  for (size_t j = 0; j < m; ++j) {
    const Terms& tb = terms_[b[j]];
    // <code_a, code_b> = <code_a - 128, code_b> + 128 S_b, exactly.
    const double codes = static_cast<double>(s.dots[j]) + 128.0 * tb.sum;
    const double xy = d * ta.lo * tb.lo + static_cast<double>(ta.lo) * tb.step * tb.sum +
                      static_cast<double>(tb.lo) * ta.step * ta.sum + static_cast<double>(ta.step) * tb.step * codes;
    const double dist = ta.norm + tb.norm - 2.0 * xy;
    // Never NaN (an overflow is as far as it gets), never below 0 (rounding).
    out[j] = std::isnan(dist) || dist > FLT_MAX ? INFINITY : dist < 0.0 ? 0.0f : static_cast<float>(dist);
  }
}

float PruneDistances::operator()(const GraphStore& g, uint32_t a, uint32_t b) const {
  float d;
  many(g, a, &b, 1, &d);
  return d;
}

void sort_candidates(std::vector<PruneCandidate>& c) {
  std::sort(c.begin(), c.end(), [](const PruneCandidate& a, const PruneCandidate& b) {
    return a.dist < b.dist || (a.dist == b.dist && a.slot < b.slot);
  });
  c.erase(std::unique(c.begin(), c.end(), [](const PruneCandidate& a, const PruneCandidate& b) { return a.slot == b.slot; }),
          c.end());
}

// Each kept neighbour s drops, at once, the later candidates c it occludes
// (alpha * d(s, c) <= d(p, c)): one batch of distances per kept neighbour,
// and the same choice as testing each candidate against the neighbours
// kept before it.
size_t select_neighbours(const GraphStore& g, const PruneDistances& dist, const PruneCandidate* c, size_t n,
                         float alpha, size_t degree, uint32_t* out) {
  PruneDistances::Scratch& s = PruneDistances::scratch();
  // The candidates still in play, in order: their positions and slots.
  s.at.resize(n);
  s.rest.resize(n);
  s.to_rest.resize(n);
  uint32_t* at = s.at.data();
  uint32_t* rest = s.rest.data();
  float* d = s.to_rest.data();
  for (size_t j = 0; j < n; ++j) {
    at[j] = static_cast<uint32_t>(j);
    rest[j] = c[j].slot;
  }
  size_t live = n, kept = 0;
  while (live > 0 && kept < degree) {
    out[kept++] = rest[0];
    if (kept == degree) break;
    dist.many(g, rest[0], rest + 1, live - 1, d, s);
    size_t w = 0;
    for (size_t k = 1; k < live; ++k) {
      if (alpha * d[k - 1] <= c[at[k]].dist) continue;
      at[w] = at[k];
      rest[w] = rest[k];
      ++w;
    }
    live = w;
  }
  return kept;
}

}  // namespace semvec
