#include "scan.h"

#include <algorithm>

#include "distances.h"

namespace semvec {

namespace {
// Queries scored together: a multiple of every level's register tile (12, 6).
constexpr size_t kQueryTile = 48;
// Bytes of packed vectors scored per step: stays in a 1 MiB L2 while the
// query tiles stream past it.
constexpr size_t kChunkBytes = 256 * 1024;
}  // namespace

void scan_packed(const float* q, size_t nq, size_t d, const PackedRun& run, TopK* heaps) {
  if (run.count == 0 || nq == 0) return;
  const Kernels& kn = kernels();
  const size_t block_bytes = kBlock * d * sizeof(float);
  // A lone query has no reuse to win from L2 blocking: take longer strides.
  const size_t chunk_blocks =
      std::max<size_t>(1, (nq <= 2 ? 4 * kChunkBytes : kChunkBytes) / block_bytes);
  const size_t nblocks = (run.count + kBlock - 1) / kBlock;
  const size_t qtile = std::min(nq, kQueryTile);
  std::vector<float> scores(qtile * chunk_blocks * kBlock);
  std::vector<uint32_t> picked(chunk_blocks * kBlock);

  for (size_t b0 = 0; b0 < nblocks; b0 += chunk_blocks) {
    const size_t nb = std::min(chunk_blocks, nblocks - b0);
    const size_t first = b0 * kBlock;
    const size_t valid = std::min(nb * kBlock, run.count - first);
    const size_t ldo = nb * kBlock;
    for (size_t i0 = 0; i0 < nq; i0 += qtile) {
      const size_t nqt = std::min(qtile, nq - i0);
      kn.scores_packed(q + i0 * d, nqt, run.blocks + b0 * kBlock * d, nb, d,
                       run.sqnorms ? run.sqnorms + first : nullptr, scores.data(), ldo);
      for (size_t i = 0; i < nqt; ++i) {
        TopK& heap = heaps[i0 + i];
        const float* row = scores.data() + i * ldo;
        size_t m = kn.select_at_least(row, valid, heap.threshold(), picked.data());
        for (size_t j = 0; j < m; ++j) heap.push(row[picked[j]], run.ids[first + picked[j]]);
      }
    }
  }
}

}  // namespace semvec
