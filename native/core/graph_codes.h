// The 8-bit codes a graph search walks on: every stored vector is also kept
// as one byte per component (the sq8 quantisation of sq8.h, of the vector
// itself: no centroid), so a hop reads a quarter of the bytes of the float
// vector. The final candidates are scored again from the floats.
//
// Row layout (one row per stored vector, rows back to back):
//   code_bytes = round_up(dim, 4) bytes of code (zero past dim)
//   f32 lo, f32 step, f32 bias (Sq8Range)
//   zero padding up to the row stride, a multiple of 64 bytes
// so that every row starts a cache line and one row is one unit of
// prefetching: 448 bytes for 384 dimensions (6 lines of code, 1 of range).
// The estimate of the score (higher is better, search_results.h) of a
// query q against a row, with w = round(q / alpha) (Sq8Probe, c = 0):
//   factor * (lo * sum(q) + step * alpha * <w, code>) + bias
// computed in float where that cannot overflow, else in double and clamped:
// every estimate is finite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sq8.h"

namespace semvec {

class ThreadPool;

// Code bytes of a row: the dim rounded up to a multiple of 4 (the kernels'
// groups).
inline size_t graph_code_bytes(size_t dim) { return (dim + 3) / 4 * 4; }

// Bytes from one row to the next: code, range, padding to 64 bytes.
inline size_t graph_code_stride(size_t dim) { return (graph_code_bytes(dim) + 3 * sizeof(float) + 63) / 64 * 64; }

// The range stored in a row (after its code bytes).
Sq8Range graph_code_range(const uint8_t* row, size_t dim);

// Encodes n vectors (x: n * dim) into rows (n * graph_code_stride(dim)
// bytes, which must be zero beyond what is written: padding is not
// written). Uses `pool` (may be null) for large batches.
void encode_graph_codes(const float* x, size_t n, size_t dim, bool l2, uint8_t* rows, ThreadPool* pool);

// One query made ready to score code rows.
class GraphProbe {
 public:
  // q: dim values, as scored (a unit vector for cosine).
  void prepare(const float* q, size_t dim, bool l2);

  // The estimates of m rows (rows[j]: the start of a row) into out.
  void score(const uint8_t* const* rows, size_t m, float* out);

  size_t dim() const { return dim_; }

 private:
  Sq8Probe probe_;
  std::vector<float> origin_;  // dim zeros: the centroid of the codes
  std::vector<int32_t> dots_;
  size_t dim_ = 0;
  size_t code_bytes_ = 0;
};

}  // namespace semvec
