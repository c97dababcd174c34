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
};

// Scores queries q (nq * d) against `run` and pushes every candidate into
// heaps[0..nq). With sqnorms the score is 2 <q, x> - ||x||^2.
void scan_packed(const float* q, size_t nq, size_t d, const PackedRun& run, TopK* heaps);

}  // namespace semvec
