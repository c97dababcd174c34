// 8-bit scalar quantisation (SQ8) of IVF lists: each vector is also kept as
// one byte per component, so a probe reads a quarter of the memory. A list
// scan ranks its vectors by integer dot products (exact int32 arithmetic,
// VNNI where the CPU has it); the best candidates are then re-ranked with
// the full-precision vectors, which the index keeps.
//
// What is encoded is the residual r = x - c of a vector x in the list of
// centroid c, with a range of its own: neighbours that differ by little
// still get distinct codes in tight clusters, and no range is trained.
//   code[i] = round((r[i] - lo) / step),  lo = min r,  step = (max r - lo) / 255
// Scores (higher is better, as everywhere in the index), with t = q - c:
//   ip:  <q, x>              = <q, c> + <t, r> + <c, r>
//   l2:  2 <q, x> - ||x||^2  = 2 <q, c> + 2 <t, r> + 2 <c, r> - ||x||^2
//   <t, r> ~ lo * sum(t) + step * alpha * sum_i w[i] code[i]
// where w = round(t / alpha) holds signed bytes (alpha = max |t| / 127).
// Per vector the store keeps lo, step and `bias`, the query-independent
// rest (<c, r>, or 2 <c, r> - ||x||^2 for l2), computed in double and
// stored as floats clamped to the float range.
//
// Every finite vector gets finite codes and estimates, however extreme:
// residuals, ranges and sums are computed in double (a residual of two
// floats near +-FLT_MAX does not fit a float), and an estimate whose float
// arithmetic overflows is computed again in double and clamped, so no
// vector drops out of a scan as NaN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pod_storage.h"

namespace semvec {

// Groups of 4 components of a code (see sq8_dots in distances.h).
inline size_t sq8_groups(size_t dim) { return (dim + 3) / 4; }

// One query prepared for scoring one list.
struct Sq8Probe {
  std::vector<int8_t> w;  // sq8_groups(dim) * 4, zero past dim
  std::vector<double> t;  // q - c (scratch)
  // The query's terms of the estimate, in double: with any finite q and c
  // none of them overflows (|t| < 2^129, sums of d < 2^17 terms).
  double alpha = 1.0;   // max |t| / 127
  double tsum = 0.0;    // sum of t
  double base = 0.0;    // <q, c>, or 2 <q, c> for l2
  double factor = 1.0;  // 1, or 2 for l2
  // The same in float, for the fast path (may be infinite).
  float alpha_f = 1.0f, tsum_f = 0.0f, base_f = 0.0f, factor_f = 1.0f;

  // q and the list's centroid c, both of size dim.
  void prepare(const float* q, const float* c, size_t dim, bool l2);
  // The estimate of one code in double, clamped to the float range: always
  // finite.
  float score(int32_t dot, float lo, float step, float bias) const;
};

// The range a code is decoded with: component i of the residual is about
// lo + step * code[i]; bias is the query-independent rest of the estimate
// (<c, r>, or 2 <c, r> - ||x||^2 for l2; see above).
struct Sq8Range {
  float lo = 0.0f, step = 1.0f, bias = 0.0f;
};

// Encodes one vector x (dim values) as the code of its residual r = x - c
// from c (dim values, or nullptr for the origin: r = x) into code[0..dim),
// one byte per component, and returns its range. `scratch` is reused
// between calls. Never fails: every finite x gets finite codes and range.
Sq8Range sq8_encode(const float* x, const float* c, size_t dim, bool l2, uint8_t* code,
                    std::vector<double>& scratch);

class CodeStore;

// Estimates of the first n codes of `codes` (dots: their sq8_dots with
// probe.w) into out. Computed in float where that cannot overflow, else in
// double: every estimate is finite, whatever the (finite) vectors.
void sq8_scores(const Sq8Probe& probe, const int32_t* dots, const CodeStore& codes, size_t n, float* out);

// The codes of one IVF list, slot for slot beside its vectors, in the sq8
// block layout of distances.h (padding lanes hold zeros). The arrays are
// owned, or borrowed from a mapped file (pod_storage.h): then read-only.
class CodeStore {
 public:
  CodeStore(size_t dim, bool l2) : dim_(dim), l2_(l2), block_bytes_(sq8_block_bytes(dim)) {}
  // A store of `size` codes over existing arrays (read from or mapped onto
  // a file): codes ceil(size / kBlock) blocks of sq8_block_bytes(dim); lo,
  // step and bias at least size floats each (owned ones are cut to size).
  // Wrong sizes: ERR_INTERNAL.
  CodeStore(size_t dim, bool l2, size_t size, PodStorage<uint8_t> codes, PodStorage<float> lo,
            PodStorage<float> step, PodStorage<float> bias);
  CodeStore(CodeStore&&) noexcept = default;
  CodeStore& operator=(CodeStore&&) noexcept = default;

  // Bytes of one block of kBlock codes.
  static size_t sq8_block_bytes(size_t dim) { return sq8_groups(dim) * 64; }

  size_t size() const { return size_; }
  const uint8_t* codes() const { return codes_.data(); }
  const float* lo() const { return lo_.data(); }
  const float* step() const { return step_.data(); }
  const float* bias() const { return bias_.data(); }
  // Heap bytes held (borrowed arrays cost none).
  size_t memory_usage() const {
    return codes_.heap_bytes() + lo_.heap_bytes() + step_.heap_bytes() + bias_.heap_bytes();
  }

  // Copies borrowed arrays into memory.
  void own() {
    codes_ = codes_.copy();
    lo_ = lo_.copy();
    step_ = step_.copy();
    bias_ = bias_.copy();
  }

  void reserve(size_t n);
  // Appends the codes of n rows x (n * dim) of the list of centroid c (call
  // reserve(size() + n) first: then this allocates nothing, cannot fail).
  void append(const float* x, size_t n, const float* c);
  // Moves the last code into `slot` and shrinks by one, as PackedStore does.
  void remove_slot(size_t slot);

 private:
  uint8_t* byte(size_t slot, size_t i) {
    return codes_.owned().data() + (slot / 16) * block_bytes_ + (i / 4) * 64 + (slot % 16) * 4 + i % 4;
  }

  size_t dim_;
  bool l2_;
  size_t block_bytes_;
  size_t size_ = 0;
  PodStorage<uint8_t> codes_;
  PodStorage<float> lo_, step_, bias_;
};

}  // namespace semvec
