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

PruneDistances::Terms PruneDistances::compute(const GraphStore& g, size_t slot) const {
  const size_t dim = g.dim();
  const uint8_t* code = g.code(slot);
  const Sq8Range r = graph_code_range(code, dim);
  const uint32_t anchor = g.anchor(slot);
  const uint8_t* ac = anchor == kNoAnchor ? nullptr : g.code(anchor);
  const Sq8Range a = ac ? graph_code_range(ac, dim) : Sq8Range{0.0f, 0.0f, 0.0f};
  double norm = 0.0, sum = 0.0, cr = 0.0;
  for (size_t i = 0; i < dim; ++i) {
    const double x = r.lo + static_cast<double>(r.step) * code[i];
    const double c = ac ? a.lo + static_cast<double>(a.step) * ac[i] : 0.0;
    norm += (c + x) * (c + x);
    cr += c * x;
    sum += code[i];
  }
  return {norm, sum, cr, r.lo, r.step, anchor};
}

void PruneDistances::update(const GraphStore& g, ThreadPool* pool) {
  const size_t n = g.size(), first = terms_.size();
  if (first >= n) return;
  terms_.resize(n);
  auto compute_range = [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; ++i) terms_[i] = compute(g, i);
  };
  constexpr size_t kChunk = 4096;
  if (pool == nullptr || n - first <= kChunk) {
    compute_range(first, n);
    return;
  }
  std::atomic<size_t> next{0};
  pool->parallel_for(pool->threads(), [&](size_t) {
    for (size_t c = next++; first + c * kChunk < n; c = next++)
      compute_range(first + c * kChunk, std::min(n, first + (c + 1) * kChunk));
  });
}

void PruneDistances::refresh(const GraphStore& g, size_t slot) {
  if (slot < terms_.size()) terms_[slot] = compute(g, slot);
}

void PruneDistances::truncate(size_t size) {
  if (terms_.size() > size) terms_.resize(size);
}

void PruneDistances::many(const GraphStore& g, uint32_t a, const uint32_t* b, size_t m, float* out) const {
  many(g, a, b, m, out, scratch());
}

namespace {

// code - 128 as signed bytes: the top bit flipped (past dim the other
// row's codes are zero, so what is there does not count).
void shifted(const uint8_t* code, size_t bytes, std::vector<int8_t>& out) {
  out.resize(bytes);
  int8_t* to = out.data();  // held here: a store through it could alias out's own pointer
  for (size_t c = 0; c < bytes; ++c) to[c] = static_cast<int8_t>(code[c] ^ 0x80u);
}

}  // namespace

void PruneDistances::many(const GraphStore& g, uint32_t a, const uint32_t* b, size_t m, float* out,
                          Scratch& s) const {
  if (m == 0) return;
  const size_t dim = g.dim(), bytes = graph_code_bytes(dim);
  const double d = static_cast<double>(dim);
  // <u, v> of two decoded rows from their terms and <code_u - 128, code_v>.
  auto decoded = [d](const Terms& u, const Terms& v, int32_t shifted_dot) {
    const double codes = static_cast<double>(shifted_dot) + 128.0 * v.sum;
    return d * u.lo * v.lo + static_cast<double>(u.lo) * v.step * v.sum + static_cast<double>(v.lo) * u.step * u.sum +
           static_cast<double>(u.step) * v.step * codes;
  };
  const Terms& ta = terms_[a];
  const uint32_t A = ta.anchor;
  shifted(g.code(a), bytes, s.q);
  s.rows.resize(m);
  s.dots.resize(m);
  s.other.clear();
  s.anchors.clear();
  for (size_t j = 0; j < m; ++j) {
    s.rows[j] = g.code(b[j]);
    __builtin_prefetch(&terms_[b[j]]);
  }
  kernels().sq8_dots_rows(s.q.data(), s.rows.data(), m, bytes, s.dots.data());
  // Rows anchored elsewhere (or not at all, when a is): <c_a, r_b>, and
  // their anchors' <r_a, c_b> and <c_a, c_b>, once per anchor.
  s.which.clear();
  for (size_t j = 0; j < m; ++j) {
    const uint32_t B = terms_[b[j]].anchor;
    if (B == A) continue;
    s.other.push_back(static_cast<uint32_t>(j));
    uint32_t i = kNoAnchor;
    if (B != kNoAnchor) {
      // The last few anchors first: neighbours share them in runs.
      i = static_cast<uint32_t>(std::find(s.anchors.rbegin(), s.anchors.rend(), B).base() - s.anchors.begin()) - 1;
      if (i == kNoAnchor) {
        i = static_cast<uint32_t>(s.anchors.size());
        s.anchors.push_back(B);
      }
    }
    s.which.push_back(i);
  }
  const size_t k = s.anchors.size();
  s.anchor_dots.assign(2 * k, 0);
  if (A != kNoAnchor) {
    shifted(g.code(A), bytes, s.qa);
    s.adots.resize(s.other.size());
    for (size_t i = 0; i < s.other.size(); ++i) s.rows[i] = g.code(b[s.other[i]]);
    kernels().sq8_dots_rows(s.qa.data(), s.rows.data(), s.other.size(), bytes, s.adots.data());
  }
  if (k > 0) {
    for (size_t i = 0; i < k; ++i) s.rows[i] = g.code(s.anchors[i]);
    kernels().sq8_dots_rows(s.q.data(), s.rows.data(), k, bytes, s.anchor_dots.data());
    if (A != kNoAnchor) kernels().sq8_dots_rows(s.qa.data(), s.rows.data(), k, bytes, s.anchor_dots.data() + k);
  }
  const Terms* tA = A != kNoAnchor ? &terms_[A] : nullptr;
  size_t o = 0;  // the next of s.other
  for (size_t j = 0; j < m; ++j) {
    const Terms& tb = terms_[b[j]];
    double xy = decoded(ta, tb, s.dots[j]);  // <r_a, r_b>
    if (tb.anchor == A) {
      if (tA) xy += ta.cr + tb.cr + tA->norm;  // the same anchor c: <r_a, c> + <c, r_b> + |c|^2
    } else {
      if (tA) xy += decoded(*tA, tb, s.adots[o]);  // <c_a, r_b>
      const uint32_t i = s.which[o++];
      if (i != kNoAnchor) {
        const Terms& tB = terms_[tb.anchor];
        xy += decoded(ta, tB, s.anchor_dots[i]);            // <r_a, c_b>
        if (tA) xy += decoded(*tA, tB, s.anchor_dots[k + i]);  // <c_a, c_b>
      }
    }
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
