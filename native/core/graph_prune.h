// The neighbour selection heuristic of the graph index: which of the
// candidates found for a slot become its links.
//
// The rule is Vamana's RobustPrune (HNSW's heuristic when alpha = 1): the
// candidates are taken nearest first, and a candidate c is kept unless a
// neighbour s kept before it is so much nearer to it than the slot p is
// that alpha * d(c, s) <= d(p, c). With alpha = 1 a link to c is dropped
// when c can be reached through s; alpha > 1 keeps some longer links,
// which shortens walks across the data. At most `degree` are kept. With
// few links (the default 32) alpha > 1 can fill a row with the nearest
// candidates and leave no way out of a neighbourhood: on overlapping
// isotropic clusters, 20k x 384, alpha 1.2 gave recall@10 0.12 at ef 320
// where alpha 1 gave 0.96; so the default is 1.
//
// Distances are squared L2 for every metric: for cosine (unit vectors) it
// orders as 1 - <x, y> does, and the rule is invariant to the factor of 2;
// for ip, linking by L2 among the candidates the inner-product walk found
// keeps the graph a proximity graph even when norms differ (measured:
// recall@10 at ef 128 rose from 0.80 to 0.996 on un-normalised clustered
// data against 1 - <x, y>).
//
// They are the distances of the decoded 8-bit codes (graph_codes.h), not of
// the floats: the heuristic compares distances among a slot's neighbours
// and candidates, tens of thousands per inserted slot, and a code row is a
// quarter of a float row to read. A row decodes to x = c + r, its anchor's
// decoded code c (none: 0) plus its residual r = lo + step * code, so
//   ||x - y||^2 = |x|^2 + |y|^2 - 2 <x, y>,
//   <x, y> = <r_x, r_y> + <r_x, c_y> + <c_x, r_y> + <c_x, c_y>
// where every term is a dot product of two decoded rows u, v:
//   <u, v> = d lo_u lo_v + lo_u step_v S_v + lo_v step_u S_u
//            + step_u step_v <code_u, code_v>
// with S a row's sum of codes; |x|^2 and <c_x, r_x> are kept per slot.
// Rows with the same anchor (most of a slot's neighbours) need one
// <code, code> of their residuals: <x, y> = <r_x, r_y> + <c, r_x> +
// <c, r_y> + |c|^2. Others need up to three more (the anchors' codes).
// <code_u, code_v> is exact int32 arithmetic (the graph walk's kernel,
// with code_u shifted to signed bytes), and the rest is computed in double
// in a fixed order, so a distance is the same at every SIMD level and on
// every thread. (Measured on 50k real-text vectors, before anchors: the
// build's CPU time fell from 16.5 s to 12.6 s against float distances,
// with the same recall@10 at ef 32, 64 and 128 to within 0.001.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "graph_store.h"

namespace semvec {

class ThreadPool;

struct PruneCandidate {
  float dist;
  uint32_t slot;
};

// The heuristic's distances between stored slots, with the per-slot terms
// they need (derived from the codes: not saved, computed when first needed).
class PruneDistances {
 public:
  // Computes the terms of the slots of g that have none yet (on pool, may
  // be null). Call before any concurrent use, whenever slots were added.
  void update(const GraphStore& g, ThreadPool* pool);
  // Computes the terms of one slot again, after its code changed (its
  // anchor): safe beside readers of other slots.
  void refresh(const GraphStore& g, size_t slot);
  // Forgets the terms of slots from `size` on (slots dropped or renumbered
  // from there, or anchors renumbered: the next update computes them again).
  void truncate(size_t size);

  // The distance of slots a and b (both updated). Never NaN: an overflow
  // is +infinity.
  float operator()(const GraphStore& g, uint32_t a, uint32_t b) const;
  // The distances of slot a to slots b[0..m) into out.
  void many(const GraphStore& g, uint32_t a, const uint32_t* b, size_t m, float* out) const;

  size_t memory_usage() const { return terms_.capacity() * sizeof(Terms); }

  // Working memory of many(), one per thread.
  struct Scratch {
    std::vector<int8_t> q, qa;
    std::vector<const uint8_t*> rows;
    std::vector<int32_t> dots, adots;
    std::vector<uint32_t> other;  // positions of b whose anchor differs from a's
    std::vector<uint32_t> which;  // per other: its anchor's place in `anchors`, or kNoAnchor
    std::vector<uint32_t> anchors;       // distinct anchors of b (not a's)
    std::vector<int32_t> anchor_dots;    // <a, B> and <A, B> per anchor
    std::vector<uint32_t> rest, at;
    std::vector<float> to_rest;
  };
  static Scratch& scratch();
  void many(const GraphStore& g, uint32_t a, const uint32_t* b, size_t m, float* out, Scratch& s) const;

 private:
  struct Terms {
    double norm;      // |x|^2 of the decoded row (anchor included)
    double sum;       // sum of the row's codes
    double cr;        // <c, r>: the decoded anchor and residual (0 without an anchor)
    float lo, step;   // the row's range (graph_codes.h), kept here to spare a cache line
    uint32_t anchor;  // kNoAnchor for none
  };
  Terms compute(const GraphStore& g, size_t slot) const;
  std::vector<Terms> terms_;
};

// Sorts candidates nearest first (ties: lower slot) and drops repeats.
void sort_candidates(std::vector<PruneCandidate>& c);

// Writes the kept candidates (c: sorted by sort_candidates, distances to
// the slot being linked) to out (at most `degree`), returns how many.
size_t select_neighbours(const GraphStore& g, const PruneDistances& dist, const PruneCandidate* c, size_t n,
                         float alpha, size_t degree, uint32_t* out);

}  // namespace semvec
