#include "scan.h"

#include <algorithm>
#include <atomic>
#include <limits>

#include "distances.h"
#include "thread_pool.h"

namespace semvec {

namespace {
// Queries scored together: a multiple of every level's register tile (12, 6).
constexpr size_t kQueryTile = 48;
// Bytes of packed vectors scored per step: stays in a 1 MiB L2 while the
// query tiles stream past it.
constexpr size_t kChunkBytes = 256 * 1024;
}  // namespace

void scan_packed(const float* q, size_t nq, size_t d, const PackedRun& run, TopK* heaps,
                 const uint32_t* heap_of) {
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

  // Scores runs of consecutive blocks [b0, b0 + nb) that contain allowed
  // vectors (all blocks when there is no allow-list).
  auto score_run = [&](size_t b0, size_t nb) {
    const size_t first = b0 * kBlock;
    const size_t valid = std::min(nb * kBlock, run.count - first);
    const size_t ldo = nb * kBlock;
    for (size_t i0 = 0; i0 < nq; i0 += qtile) {
      const size_t nqt = std::min(qtile, nq - i0);
      kn.scores_packed(q + i0 * d, nqt, run.blocks + b0 * kBlock * d, nb, d,
                       run.sqnorms ? run.sqnorms + first : nullptr, scores.data(), ldo);
      for (size_t i = 0; i < nqt; ++i) {
        TopK& heap = heaps[heap_of ? heap_of[i0 + i] : i0 + i];
        const float* row = scores.data() + i * ldo;
        size_t m = kn.select_at_least(row, valid, heap.threshold(), picked.data());
        for (size_t j = 0; j < m; ++j) {
          const size_t col = picked[j];
          if (run.masks && !((run.masks[b0 + col / kBlock] >> (col % kBlock)) & 1u)) continue;
          heap.push(row[col], run.ids[first + col]);
        }
      }
    }
  };
  for (size_t b0 = 0; b0 < nblocks; b0 += chunk_blocks) {
    const size_t end = std::min(nblocks, b0 + chunk_blocks);
    if (run.masks == nullptr) {
      score_run(b0, end - b0);
      continue;
    }
    for (size_t b = b0; b < end;) {
      if (run.masks[b] == 0) {
        ++b;
        continue;
      }
      size_t e = b + 1;
      while (e < end && run.masks[e] != 0) ++e;
      score_run(b, e - b);
      b = e;
    }
  }
}

}  // namespace semvec

namespace semvec {

void assign_best(const float* x, size_t n, size_t d, const PackedRun& run, uint32_t* best,
                 float* score) {
  if (n == 0 || run.count == 0) return;
  const Kernels& kn = kernels();
  const size_t block_bytes = kBlock * d * sizeof(float);
  const size_t chunk_blocks = std::max<size_t>(1, kChunkBytes / block_bytes);
  const size_t nblocks = (run.count + kBlock - 1) / kBlock;
  ThreadPool& pool = ThreadPool::global();
  const size_t ntiles = (n + kQueryTile - 1) / kQueryTile;
  const size_t tasks = std::min(ntiles, pool.threads());
  std::atomic<size_t> next_tile{0};
  pool.parallel_for(tasks, [&](size_t) {
    std::vector<float> scores(kQueryTile * chunk_blocks * kBlock);
    for (size_t tile = next_tile++; tile < ntiles; tile = next_tile++) {
      const size_t i0 = tile * kQueryTile, nqt = std::min(kQueryTile, n - i0);
      for (size_t i = 0; i < nqt; ++i) {
        best[i0 + i] = 0;
        score[i0 + i] = -std::numeric_limits<float>::infinity();
      }
      for (size_t b0 = 0; b0 < nblocks; b0 += chunk_blocks) {
        const size_t nb = std::min(chunk_blocks, nblocks - b0);
        const size_t first = b0 * kBlock, valid = std::min(nb * kBlock, run.count - first);
        const size_t ldo = nb * kBlock;
        kn.scores_packed(x + i0 * d, nqt, run.blocks + b0 * kBlock * d, nb, d,
                         run.sqnorms ? run.sqnorms + first : nullptr, scores.data(), ldo);
        for (size_t i = 0; i < nqt; ++i) {
          const float* row = scores.data() + i * ldo;
          float b = score[i0 + i];
          uint32_t arg = best[i0 + i];
          for (size_t j = 0; j < valid; ++j)
            if (row[j] > b) {
              b = row[j];
              arg = static_cast<uint32_t>(first + j);
            }
          score[i0 + i] = b;
          best[i0 + i] = arg;
        }
      }
    }
  });
}

void score_all(const float* q, size_t nq, size_t d, const PackedRun& run, float* out) {
  if (nq == 0 || run.count == 0) return;
  const Kernels& kn = kernels();
  const size_t chunk_blocks = std::max<size_t>(1, kChunkBytes / (kBlock * d * sizeof(float)));
  const size_t nblocks = (run.count + kBlock - 1) / kBlock;
  const size_t ntiles = (nq + kQueryTile - 1) / kQueryTile;
  ThreadPool& pool = ThreadPool::global();
  std::atomic<size_t> next_tile{0};
  pool.parallel_for(std::min(ntiles, pool.threads()), [&](size_t) {
    std::vector<float> scores(kQueryTile * chunk_blocks * kBlock);
    for (size_t tile = next_tile++; tile < ntiles; tile = next_tile++) {
      const size_t i0 = tile * kQueryTile, nqt = std::min(kQueryTile, nq - i0);
      for (size_t b0 = 0; b0 < nblocks; b0 += chunk_blocks) {
        const size_t nb = std::min(chunk_blocks, nblocks - b0);
        const size_t first = b0 * kBlock, valid = std::min(nb * kBlock, run.count - first);
        kn.scores_packed(q + i0 * d, nqt, run.blocks + b0 * kBlock * d, nb, d,
                         run.sqnorms ? run.sqnorms + first : nullptr, scores.data(), nb * kBlock);
        for (size_t i = 0; i < nqt; ++i)
          std::copy(scores.data() + i * nb * kBlock, scores.data() + i * nb * kBlock + valid,
                    out + (i0 + i) * run.count + first);
      }
    }
  });
}

}  // namespace semvec
