#include "probes.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "buffer.h"
#include "probe_kernels.h"
#include "thread_pool.h"

namespace semvec_bench {

using semvec::PodBuffer;
using semvec::ThreadPool;

namespace {
double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

double probe_fma_gflops(size_t threads, double seconds) {
  const ProbeKernels& k = probe_kernels();
  threads = std::max<size_t>(1, threads);
  std::vector<double> flops(threads, 0.0);
  ThreadPool pool(threads);
  double t0 = now();
  pool.parallel_for(threads, [&](size_t t) {
    const double start = now();
    do {
      flops[t] += k.fma(1 << 20);
    } while (now() - start < seconds);
  });
  double elapsed = now() - t0;
  double total = 0;
  for (double f : flops) total += f;
  return total / elapsed / 1e9;
}

double probe_read_gbps(size_t threads, size_t bytes, int repeats) {
  const ProbeKernels& k = probe_kernels();
  threads = std::max<size_t>(1, threads);
  // Each thread reads its share as kStreams interleaved sequential streams,
  // as a scan over several packed blocks does, so the hardware prefetchers
  // reach the memory's real bandwidth.
  constexpr size_t kStreams = 4;
  const size_t unit = 64 * kStreams * threads;
  const size_t n = (bytes / sizeof(float)) / unit * unit;
  PodBuffer<float> buf;
  buf.resize(n);
  for (size_t i = 0; i < n; ++i) buf[i] = 1.0f;  // every page mapped before timing
  ThreadPool pool(threads);
  double best = 0;
  volatile float sink = 0;
  for (int r = 0; r < std::max(1, repeats); ++r) {
    std::vector<float> sums(threads);
    double t0 = now();
    pool.parallel_for(threads, [&](size_t t) {
      const size_t share = n / threads, stream = share / kStreams, step = 4096;
      const float* base = buf.data() + t * share;
      float sum = 0;
      for (size_t off = 0; off < stream; off += step)
        for (size_t s = 0; s < kStreams; ++s)
          sum += k.read(base + s * stream + off, std::min(step, stream - off));
      sums[t] = sum;
    });
    double dt = now() - t0;
    for (float s : sums) sink = sink + s;
    best = std::max(best, static_cast<double>(n * sizeof(float)) / dt / 1e9);
  }
  return best;
}

}  // namespace semvec_bench
