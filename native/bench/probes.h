// Measurements of the machine's limits, for benchmarks that report how close
// semvec gets to them (bench/lib/machine.ts). Benchmark-only: built into
// semvec_bench.node in a source checkout, never into the addon.
#pragma once

#include <cstddef>

namespace semvec_bench {

// Peak single-precision FMA rate in GFLOP/s over `threads` threads, with the
// SIMD level semvec uses, measured for about `seconds`.
double probe_fma_gflops(size_t threads, double seconds);

// Streaming-read bandwidth in GB/s (1e9 bytes/s) over `threads` threads on a
// buffer of `bytes` (make it much larger than the last-level cache); best of
// `repeats` passes.
double probe_read_gbps(size_t threads, size_t bytes, int repeats);

}  // namespace semvec_bench
