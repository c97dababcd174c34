// Scanning packed vectors with a batch of queries into per-query top-k
// selections: the inner loop shared by every index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "topk.h"

namespace semvec {

// A run of packed vectors (see distances.h): `count` vectors starting at a
// block boundary.
struct PackedRun {
  const float* blocks;    // ceil(count / kBlock) blocks
  const float* sqnorms;   // count squared norms (padded to blocks), or nullptr for <q, x>
  const uint64_t* ids;    // count ids
  size_t count;
  // Optional allow-list: one 16-bit lane mask per block (bit l set: vector
  // l of the block may be returned). Blocks with an empty mask are skipped.
  const uint16_t* masks = nullptr;
};

// Scores queries q (nq * d) against `run` and pushes every candidate into
// heaps[0..nq), or into heaps[heap_of[i]] for query i when heap_of is given.
// With sqnorms the score is 2 <q, x> - ||x||^2.
void scan_packed(const float* q, size_t nq, size_t d, const PackedRun& run, TopK* heaps,
                 const uint32_t* heap_of = nullptr);

// For each of the n points x (n * d), the slot of the best-scoring vector of
// `run` (ties: the lower slot) and its score. With sqnorms the best is the
// nearest in L2 and score = 2 <x, c> - ||c||^2; otherwise the largest <x, c>.
// Runs on the global thread pool.
void assign_best(const float* x, size_t n, size_t d, const PackedRun& run, uint32_t* best,
                 float* score);

// out[i * run.count + j] = score of query i against vector j (the same
// scores as scan_packed), for every pair. Runs on the global thread pool.
void score_all(const float* q, size_t nq, size_t d, const PackedRun& run, float* out);

}  // namespace semvec
