// 8-bit scalar quantisation (SQ8) for IVF lists: each component is stored
// as one byte, a quarter of a float, so a probe reads a quarter of the
// memory. A list scan ranks its vectors by integer dot products (exact
// int32 arithmetic, VNNI where the CPU has it); the best candidates are
// then re-ranked with the full-precision vectors, which the index keeps.
//
// Encoding (trained per component c on sample vectors):
//   code(x)[c] = clamp(round((x[c] - vmin[c]) / step[c]), 0, 255)
//   decode:     x[c] ~ vmin[c] + step[c] * code[c]
// Scoring a query q against a code:
//   <q, x> ~ sum_c q[c] vmin[c] + sum_c (q[c] step[c]) code[c]
//          = base + alpha * sum_c w[c] code[c]
// where w = round((q .* step) / alpha) holds signed bytes, alpha chosen so
// that max |w[c]| = 127.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "buffer.h"

namespace semvec {

class Sq8Codec {
 public:
  explicit Sq8Codec(size_t dim = 0);

  size_t dim() const { return dim_; }
  size_t groups() const { return (dim_ + 3) / 4; }
  // Bytes of one block of kBlock codes.
  size_t block_bytes() const { return groups() * 64; }
  const std::vector<float>& vmin() const { return vmin_; }
  const std::vector<float>& step() const { return step_; }

  // Per-component ranges of x (n * dim, n >= 1), of its rows scaled to unit
  // norm with `normalize`.
  void train(const float* x, size_t n, bool normalize);
  // Restores trained ranges (step > 0 and finite, as train() makes them).
  void set(const float* vmin, const float* step);

  // Writes the code of `row` into lane `lane` of the code block at `block`.
  void encode(const float* row, uint8_t* block, size_t lane) const;

  struct Query {
    std::vector<int8_t> w;  // groups() * 4, zero past dim
    float alpha = 0.0f;
    float base = 0.0f;
    float score(int32_t dot) const { return base + alpha * static_cast<float>(dot); }
  };
  void prepare(const float* q, Query& out) const;

 private:
  size_t dim_;
  std::vector<float> vmin_, step_;
};

// The codes of one IVF list, in the sq8 block layout of distances.h, slot
// for slot beside the list's PackedStore. Padding lanes hold zeros.
class CodeStore {
 public:
  explicit CodeStore(size_t block_bytes = 0) : block_bytes_(block_bytes) {}
  CodeStore(CodeStore&&) noexcept = default;
  CodeStore& operator=(CodeStore&&) noexcept = default;

  size_t size() const { return size_; }
  const uint8_t* data() const { return codes_.data(); }
  size_t memory_usage() const { return codes_.capacity(); }

  void reserve(size_t n);
  // Appends the codes of n rows (call reserve(size() + n) first: then this
  // allocates nothing and cannot fail).
  void append(const Sq8Codec& codec, const float* x, size_t n);
  // Moves the last code into `slot` and shrinks by one, as PackedStore does.
  void remove_slot(size_t slot);

 private:
  uint8_t* lane(size_t slot, size_t c) {
    return codes_.data() + (slot / 16) * block_bytes_ + (c / 4) * 64 + (slot % 16) * 4 + c % 4;
  }

  size_t block_bytes_;
  size_t size_ = 0;
  PodBuffer<uint8_t> codes_;
};

}  // namespace semvec
