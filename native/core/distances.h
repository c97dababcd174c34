// Distance kernels: one table of function pointers per SIMD level, chosen
// once at load (see dispatch.cpp). Each level lives in its own translation
// unit compiled with its own target flags; the scalar reference is always
// built.
//
// Packed layout. Stored vectors are kept in blocks of kBlock vectors,
// transposed inside the block so that one SIMD load reads the same component
// of 16 consecutive vectors:
//   element (vector v, component c) of block b is at
//   blocks[b * kBlock * d + c * kBlock + (v % kBlock)]
// A query then needs no horizontal reductions: one broadcast of q[c] and one
// fused multiply-add per component give 16 scores at once, for one query
// (memory-bound) or a register tile of queries (compute-bound, like GEMM).
#pragma once

#include <cstddef>
#include <cstdint>

namespace semvec {

constexpr size_t kBlock = 16;

enum class SimdLevel : int { Scalar = 0, Avx2 = 1, Avx512 = 2 };

const char* simd_level_name(SimdLevel level);

struct Kernels {
  SimdLevel level;

  // <x, y> for x, y of size d.
  float (*inner_product)(const float* x, const float* y, size_t d);

  // ||x - y||^2 for x, y of size d.
  float (*l2sqr)(const float* x, const float* y, size_t d);

  // Scores of nq queries against nb packed blocks (nb * kBlock vectors).
  //   q:      nq * d, row-major
  //   blocks: nb * kBlock * d, packed layout above
  //   sqnorm: nb * kBlock squared norms, or nullptr
  //   out:    nq rows of stride ldo (ldo >= nb * kBlock)
  // out[i][j] = <q_i, x_j>, or 2 <q_i, x_j> - sqnorm[j] when sqnorm is given
  // (larger is nearer in L2: ||q - x||^2 = ||q||^2 - out[i][j]).
  void (*scores_packed)(const float* q, size_t nq, const float* blocks, size_t nb, size_t d,
                        const float* sqnorm, float* out, size_t ldo);

  // Writes the indices i < n with s[i] >= threshold to idx, in increasing
  // order; returns how many.
  size_t (*select_at_least)(const float* s, size_t n, float threshold, uint32_t* idx);

  // Integer scores of one 8-bit query against nb blocks of 8-bit codes (the
  // scan of an sq8-encoded IVF list; see sq8.h). Codes use a packed layout
  // of their own: groups = ceil(d / 4) groups of 4 components, and
  //   byte (vector v, component c) of block b is at
  //   codes[b * groups * 64 + (c / 4) * 64 + (v % kBlock) * 4 + c % 4]
  // so that one 64-byte load holds 4 components of 16 vectors (the operand
  // of one AVX-512 VNNI vpdpbusd).
  //   q:   groups * 4 signed bytes (zero past d)
  //   out: nb * kBlock sums, out[j] = sum over c of codes(j, c) * q[c]
  // The sums are exact (no saturation), so every level returns the same.
  void (*sq8_dots)(const int8_t* q, const uint8_t* codes, size_t nb, size_t groups, int32_t* out);

  // Integer scores of one 8-bit query against nb blocks of 4-bit codes (the
  // scan of an rq4-encoded IVF list; see rabitq.h). pairs = ceil(d / 8)
  // groups of 8 components, 64 bytes each per block; byte (v % kBlock) * 4 + j
  // of group p holds component 8p + j in its low nibble and 8p + 4 + j in
  // its high nibble:
  //   codes[b * pairs * 64 + p * 64 + (v % kBlock) * 4 + j]
  //   q:   pairs * 8 signed bytes (zero past d)
  //   out: nb * kBlock sums, out[v] = sum over c of code(v, c) * q[c]
  // Exact (no saturation: |sum| < 15 * 128 * d), the same at every level.
  void (*rq4_dots)(const int8_t* q, const uint8_t* codes, size_t nb, size_t pairs, int32_t* out);

  // Integer scores of one 4-bit query against nb blocks of 1-bit codes (the
  // scan of an rq1-encoded IVF list; see rabitq.h). words = ceil(d / 64);
  // the bits of vector v, component c are bit c % 64 of
  //   codes[b * words * kBlock + (c / 64) * kBlock + (v % kBlock)]
  //   planes: 4 * words words, bit plane j of the query (value
  //           sum_j 2^j bit_j) at planes[j * words + w]; zero past d
  //   out:    nb * kBlock sums, out[v] = sum over c of bit(v, c) * q[c]
  void (*rq1_dots)(const uint64_t* planes, const uint64_t* codes, size_t nb, size_t words, int32_t* out);

  // Integer scores of one 8-bit query against m 8-bit codes kept row-major
  // at scattered places (the neighbours a graph search visits; see
  // graph_codes.h): rows[j] points at the `bytes` code bytes of one vector
  // (bytes a multiple of 4; codes and query zero past the vector's dim).
  //   q:   bytes signed bytes
  //   out: m sums, out[j] = sum over c of rows[j][c] * q[c]
  // Exact int32 arithmetic, so every level returns the same.
  void (*sq8_dots_rows)(const int8_t* q, const uint8_t* const* rows, size_t m, size_t bytes, int32_t* out);
};

extern const Kernels kScalarKernels;
extern const Kernels kAvx2Kernels;
extern const Kernels kAvx512Kernels;
extern const Kernels kAvx512VnniKernels;  // kAvx512Kernels with the VNNI sq8_dots

struct CpuFeatures {
  bool avx2_fma = false;
  bool avx512 = false;  // F + BW + DQ + VL, with OS support
  bool avx512_vnni = false;
  bool avx_vnni = false;  // VEX-coded VNNI (AVX2 CPUs from Alder Lake and Zen 5 on)
};

CpuFeatures detect_cpu();

// The level to use given the value of SEMVEC_SIMD (nullptr or empty: the best
// the CPU has). Throws Error(Unsupported) for an unknown name or a level the
// CPU lacks.
SimdLevel resolve_simd_level(const char* requested, const CpuFeatures& cpu);

// The kernels chosen at load from the CPU and SEMVEC_SIMD. The first call
// throws if SEMVEC_SIMD is invalid.
const Kernels& kernels();

// The kernels of one level, or nullptr when this CPU cannot run them.
const Kernels* kernels_for(SimdLevel level);

}  // namespace semvec
