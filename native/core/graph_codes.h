// The 8-bit codes a graph search walks on: every stored vector is also kept
// as one byte per component (the sq8 quantisation of sq8.h), so a hop reads
// a quarter of the bytes of the float vector. The final candidates are
// scored again from the floats.
//
// What a row encodes is the residual r = x - c of its vector x from an
// anchor c: the decoded code of another slot near it (a member of the
// second upper layer, about one slot in 256, graph_build.h), or the origin.
// 8 bits over the range of a residual resolve what 8 bits over the whole
// vector cannot: on 1M vectors in 1,000 tight clusters, the true top 10
// among the 300 nearest were within the 32 best estimates 86.6% of the
// time with no anchor and 99.7% with one (a one-off simulation of these
// codes). The anchor being a decoded code, every row decodes exactly to
// c + r, so distances between rows come from codes alone (graph_prune.h).
//
// Row layout (one row per stored vector, rows back to back):
//   code_bytes = round_up(dim, 4) bytes of code (zero past dim)
//   f32 lo, f32 step, f32 bias (Sq8Range)
//   u32 anchor: 0 for none, else the anchor's slot + 1
//   zero padding up to the row stride, a multiple of 64 bytes
// so that every row starts a cache line and one row is one unit of
// prefetching: 448 bytes for 384 dimensions (6 lines of code, 1 of range).
// An anchor is itself encoded without one. Files of format 3 have no anchor
// field where their stride leaves no room (graph_code_stride_v3) and none
// set where it does.
//
// The estimate of the score (higher is better, search_results.h) of a
// query q against a row, with w = round(q / alpha) (Sq8Probe, c = 0):
//   factor * (<q, c> + lo * sum(q) + step * alpha * <w, code>) + bias
// where bias is -||x||^2 for l2, else 0, and <q, c> is the anchor's own
// code scored the same way (once per query and anchor): the estimate is
// <alpha w, c + r>, all of it in the query's 8-bit form, whose rounding
// error is nearly the same for nearby rows, anchored or not, and so does
// not reorder them. (Measured, 100k x 384 in 1,000 flat clusters, ef 200,
// estimates alone: recall@10 0.912 this way, 0.890 with <q, c> in double
// from q's floats, which shifts anchored rows against the rest.) The
// integer dot products are exact and the rest is double in a fixed order,
// so a build's walks are the same at every SIMD level. Computed in float
// where that cannot overflow, else in double and clamped: every estimate
// is finite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sq8.h"

namespace semvec {

class GraphStore;
class ThreadPool;

// Code bytes of a row: the dim rounded up to a multiple of 4 (the kernels'
// groups).
inline size_t graph_code_bytes(size_t dim) { return (dim + 3) / 4 * 4; }

// Bytes from one row to the next: code, range, anchor, padding to 64 bytes.
inline size_t graph_code_stride(size_t dim) { return (graph_code_bytes(dim) + 4 * sizeof(float) + 63) / 64 * 64; }
// The stride of format 3 files: no room for the anchor when the code and
// range end 4 bytes short of a line (dim 49..52, 113..116, ...).
inline size_t graph_code_stride_v3(size_t dim) { return (graph_code_bytes(dim) + 3 * sizeof(float) + 63) / 64 * 64; }
// Whether rows of this stride hold an anchor field.
inline bool graph_code_has_anchor(size_t dim, size_t stride) { return stride >= graph_code_bytes(dim) + 16; }

constexpr uint32_t kNoAnchor = 0xFFFFFFFFu;

// The range stored in a row (after its code bytes).
Sq8Range graph_code_range(const uint8_t* row, size_t dim);
// The anchor slot of a row, or kNoAnchor (rows with an anchor field only).
uint32_t graph_code_anchor(const uint8_t* row, size_t dim);

// Names another slot as a row's anchor (the same vector renumbered).
void set_graph_code_anchor(uint8_t* row, size_t dim, uint32_t anchor);

// Encodes n vectors (x: n * dim) into rows of `stride` bytes, without
// anchors (every byte of a row written). Uses `pool` (may be null) for
// large batches.
void encode_graph_codes(const float* x, size_t n, size_t dim, bool l2, size_t stride, uint8_t* rows,
                        ThreadPool* pool);
// Encodes one vector x as its residual from the decoded code of slot
// `anchor` (its row, anchor_row, which has no anchor; or nullptr for none)
// into a row with an anchor field. With an anchor farther from x than the
// origin (||x - c|| >= ||x||) encodes without it; returns whether it used
// the anchor.
bool encode_graph_code(const float* x, const uint8_t* anchor_row, uint32_t anchor, size_t dim, bool l2,
                       size_t stride, uint8_t* row, std::vector<double>& scratch);

// One query made ready to score the code rows of one store.
class GraphProbe {
 public:
  // q: dim values, as scored (a unit vector for cosine); g: the store
  // whose rows will be scored (it must outlive the probe's use).
  void prepare(const float* q, const GraphStore& g);

  // The estimates of m rows (rows[j]: the start of a row) into out.
  void score(const uint8_t* const* rows, size_t m, float* out);

  size_t dim() const { return dim_; }

 private:
  // Makes room in the table for `want` anchors.
  void grow(size_t want);
  // The anchor terms (factor * <q, c>) of m rows: at_[j] is where row j's
  // is in the table, or kNoAnchor; anchors new to this query are scored
  // together in one call.
  void anchor_terms(const uint8_t* const* rows, size_t m);

  Sq8Probe probe_;
  std::vector<float> origin_;  // dim zeros: the codes' residuals are scored against q itself
  std::vector<int32_t> dots_;
  const GraphStore* g_ = nullptr;
  bool has_anchor_ = false;
  size_t dim_ = 0;
  size_t code_bytes_ = 0;
  // The anchor terms of this query: open addressing on the slot, kNoAnchor
  // for an empty entry, grown at half full.
  std::vector<uint32_t> keys_;
  std::vector<double> terms_;
  size_t used_ = 0;
  std::vector<uint32_t> at_, pending_;
  std::vector<const uint8_t*> anchor_rows_;
  std::vector<int32_t> anchor_dots_;
};

}  // namespace semvec
