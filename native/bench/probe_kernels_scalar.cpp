// Scalar probe kernels, and the choice of a table by SIMD level. Built with
// the baseline target flags only.
#include "probe_kernels.h"

namespace semvec_bench {
namespace {

double fma_probe_scalar(size_t iters) {
  float a[8];
  for (int j = 0; j < 8; ++j) a[j] = 1.0f + 0.001f * static_cast<float>(j);
  for (size_t it = 0; it < iters; ++it)
    for (int j = 0; j < 8; ++j) a[j] = a[j] * 0.999999f + 1e-7f;
  float s = 0.0f;
  for (int j = 0; j < 8; ++j) s += a[j];
  volatile float sink = s;
  (void)sink;
  return static_cast<double>(iters) * 8.0 * 2.0;
}

float read_probe_scalar(const float* x, size_t n) {
  float s = 0.0f;
  for (size_t i = 0; i < n; ++i) s += x[i];
  return s;
}

}  // namespace

const ProbeKernels kScalarProbes = {fma_probe_scalar, read_probe_scalar};

const ProbeKernels& probe_kernels() {
  switch (semvec::kernels().level) {
    case semvec::SimdLevel::Avx512: return kAvx512Probes;
    case semvec::SimdLevel::Avx2: return kAvx2Probes;
    case semvec::SimdLevel::Scalar: break;
  }
  return kScalarProbes;
}

}  // namespace semvec_bench
