// RaBitQ-style codes of IVF lists (encodings rq4 and rq1): each vector's
// residual r = x - c from its list's centroid c is rotated by a fixed random
// orthogonal matrix P (seeded, one per index) and quantised per component to
// B bits (B = 4 or 1) on a grid of odd integers u[i] = 2 code[i] - L,
// L = 2^B - 1. For B = 1 that is the sign of each component; for B = 4 the
// grid step is chosen per vector, among a few candidates, to maximise the
// cosine between u and P r (the criterion of extended RaBitQ).
//
// The estimator of <t, r> for a query residual t = q - c is RaBitQ's:
//   <t, r> = <P t, P r> ~ <P t, u> * ||r||^2 / <P r, u>
// (unbiased under the random rotation). Per vector the store keeps
// scale = ||r||^2 / <P r, u>, and `bias`, the query-independent rest as in
// sq8.h (<c, r>, or 2 <c, r> - ||x||^2 for l2). With s = P t:
//   <s, u> = 2 <s, code> - L * sum(s)
// and <s, code> comes from integer kernels (distances.h): for B = 4 the
// query is s ~ alpha * w with w signed bytes (rq4_dots); for B = 1 it is
// s ~ lo + delta * w with w in 0..15 as four bit planes (rq1_dots), so
//   <s, code> ~ lo * popcount(code) + delta * rq1_dots
// and the store also keeps popcount(code) per vector (`ones`).
// Scores (higher is better): ip: <q, c> + <t, r> + bias;
// l2: 2 <q, c> + 2 <t, r> + bias.
//
// Bytes per vector: rq4 d / 2 + 8, rq1 d / 8 + 12 (d = 384: 200 and 60,
// against 1536 for the floats).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "packed_store.h"
#include "pod_storage.h"

namespace semvec {

// Groups of 8 components of an rq4 code; 64-bit words of an rq1 code.
inline size_t rq4_pairs(size_t dim) { return (dim + 7) / 8; }
inline size_t rq1_words(size_t dim) { return (dim + 63) / 64; }

// Bytes of one block of kBlock codes of `bits` (4 or 1) bits per component.
inline size_t rq_block_bytes(size_t dim, unsigned bits) {
  return bits == 4 ? rq4_pairs(dim) * 64 : rq1_words(dim) * 8 * 16;
}

// A random orthogonal dim x dim matrix (Gram-Schmidt of seeded gaussian
// rows, in double), applied to many vectors at once with the packed
// kernels: its rows are stored as the vectors of a PackedStore.
class Rotation {
 public:
  Rotation() : packed_(0, false) {}
  Rotation(size_t dim, uint64_t seed);
  // The rotation of these rows (dim * dim, row-major), as rows() returns.
  Rotation(size_t dim, const float* rows);
  size_t dim() const { return dim_; }
  // The matrix, row-major (dim * dim).
  std::vector<float> rows() const;
  // out (n * dim) = P x for the n rows of x (n * dim).
  void apply(const float* x, size_t n, float* out) const;
  size_t memory_usage() const { return packed_.memory_usage(); }

 private:
  size_t dim_ = 0;
  PackedStore packed_;
};

// One query prepared for scoring the codes of one list.
struct RqProbe {
  std::vector<int8_t> w;        // rq4: rq4_pairs(dim) * 8, zero past dim
  std::vector<uint64_t> planes; // rq1: 4 * rq1_words(dim) bit planes
  float lo = 0.0f, delta = 1.0f;  // s[i] ~ lo + delta * w[i] (rq4: lo = 0)
  float ssum = 0.0f;            // sum of s
  float base = 0.0f;            // <q, c>, or 2 <q, c> for l2
  float factor = 1.0f;          // 1, or 2 for l2

  // qr = P q, cr = P c (dim each); qc = <q, c>.
  void prepare(const float* qr, const float* cr, double qc, size_t dim, unsigned bits, bool l2);
};

class RqCodeStore;

// Estimates of the first n codes of `codes` (dots: their kernel sums with
// the probe) into out.
void rq_scores(const RqProbe& probe, const int32_t* dots, const RqCodeStore& codes, size_t n, float* out);

// The codes of one IVF list, slot for slot, in the block layouts of
// distances.h (rq4_dots, rq1_dots; padding zero).
class RqCodeStore {
 public:
  RqCodeStore(size_t dim, unsigned bits, bool l2)
      : dim_(dim), bits_(bits), l2_(l2), block_bytes_(rq_block_bytes(dim, bits)) {}
  // A store of `size` codes over existing arrays (read from or mapped onto
  // a file): codes ceil(size / kBlock) blocks; scale, bias (and for 1 bit,
  // ones) at least size floats each. Wrong sizes: ERR_INTERNAL.
  RqCodeStore(size_t dim, unsigned bits, bool l2, size_t size, PodStorage<uint8_t> codes, PodStorage<float> scale,
              PodStorage<float> bias, PodStorage<float> ones);
  RqCodeStore(RqCodeStore&&) noexcept = default;
  RqCodeStore& operator=(RqCodeStore&&) noexcept = default;

  size_t size() const { return size_; }
  unsigned bits() const { return bits_; }
  const uint8_t* codes() const { return codes_.data(); }
  const float* scale() const { return scale_.data(); }
  const float* bias() const { return bias_.data(); }
  const float* ones() const { return ones_.data(); }  // rq1: popcount of each code
  size_t memory_usage() const {
    return codes_.heap_bytes() + scale_.heap_bytes() + bias_.heap_bytes() + ones_.heap_bytes();
  }

  // Copies borrowed arrays into memory.
  void own() {
    codes_ = codes_.copy();
    scale_ = scale_.copy();
    bias_ = bias_.copy();
    ones_ = ones_.copy();
  }

  void reserve(size_t n);
  // Appends the codes of n vectors: x (n * dim) as stored, xr = their
  // rotations P x, of the list of centroid c with rotation cr = P c.
  void append(const float* x, const float* xr, size_t n, const float* c, const float* cr);
  void remove_slot(size_t slot);

 private:
  void set_code(size_t slot, size_t i, unsigned v);
  unsigned get_code(size_t slot, size_t i) const;

  size_t dim_;
  unsigned bits_;
  bool l2_;
  size_t block_bytes_;
  size_t size_ = 0;
  PodStorage<uint8_t> codes_;
  PodStorage<float> scale_, bias_, ones_;
};

}  // namespace semvec
