// The kernels of the machine-limit probes, one table per SIMD level as in
// the core (distances.h): each level in its own translation unit with its
// own target flags, the scalar one always built.
#pragma once

#include <cstddef>

#include "distances.h"

namespace semvec_bench {

struct ProbeKernels {
  // Runs `iters` rounds of independent FMA chains; returns the flops done.
  double (*fma)(size_t iters);
  // Streams x (n floats, n a multiple of 64) and returns a sum (so the read
  // is not optimised away).
  float (*read)(const float* x, size_t n);
};

extern const ProbeKernels kScalarProbes;
extern const ProbeKernels kAvx2Probes;
extern const ProbeKernels kAvx512Probes;

// The probes of the level semvec searches with (semvec::kernels(): the CPU
// and SEMVEC_SIMD), so that the limits are those of the same instructions.
const ProbeKernels& probe_kernels();

}  // namespace semvec_bench
