#include "vectors.h"

#include <cmath>
#include <cstring>
#include <string>

#include "distances.h"
#include "errors.h"

namespace semvec {

size_t fvec_normalized_L2(const float* x, size_t n, size_t d, float* out) {
  const Kernels& k = kernels();
  size_t zeros = 0;
  for (size_t i = 0; i < n; ++i) {
    const float* xi = x + i * d;
    float* oi = out + i * d;
    double norm = std::sqrt(static_cast<double>(k.inner_product(xi, xi, d)));
    if (norm == 0.0) {
      ++zeros;
      if (oi != xi) std::memcpy(oi, xi, d * sizeof(float));
      continue;
    }
    float inv = static_cast<float>(1.0 / norm);
    for (size_t j = 0; j < d; ++j) oi[j] = xi[j] * inv;
  }
  return zeros;
}

size_t fvec_renorm_L2(float* x, size_t n, size_t d) { return fvec_normalized_L2(x, n, d, x); }

namespace {
// True when every value is finite: a NaN or an infinity has all exponent
// bits set. Written over integer bits so that the compiler vectorises it.
bool all_finite(const float* x, size_t n) {
  uint32_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof(bits));
    bad |= static_cast<uint32_t>((bits & 0x7F800000u) == 0x7F800000u);
  }
  return bad == 0;
}
}  // namespace

void check_finite(const float* x, size_t n, size_t d, const char* what) {
  const size_t total = n * d;
  if (all_finite(x, total)) return;
  for (size_t i = 0; i < total; ++i) {
    if (std::isfinite(x[i])) continue;
    throw Error(ErrorCode::InvalidArgument,
                std::string(what) + " must contain only finite numbers; received " +
                    (std::isnan(x[i]) ? "NaN" : "Infinity") + " at vector " +
                    std::to_string(i / d) + ", component " + std::to_string(i % d));
  }
}

}  // namespace semvec
