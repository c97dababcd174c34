#include "vectors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "api_limits.h"
#include "distances.h"
#include "errors.h"

namespace semvec {

size_t check_dim(size_t dim) {
  if (dim == 0 || dim > kMaxDim)
    throw Error(ErrorCode::InvalidArgument, "dim must be an integer in 1.." + std::to_string(kMaxDim) +
                                                "; received " + std::to_string(dim));
  return dim;
}

float score_in_double(const float* q, const float* x, size_t d, bool l2) {
  double ip = 0.0, xx = 0.0;
  for (size_t i = 0; i < d; ++i) {
    ip += static_cast<double>(q[i]) * x[i];
    xx += static_cast<double>(x[i]) * x[i];
  }
  const double s = l2 ? 2.0 * ip - xx : ip;
  constexpr double kMax = std::numeric_limits<float>::max();
  return static_cast<float>(std::clamp(s, -kMax, kMax));
}

double fvec_norm_L2(const float* x, size_t d) {
  const float sq = kernels().inner_product(x, x, d);
  // Below 1e-18 products of small components may have underflowed; an
  // infinity is an overflow.
  if (sq >= 1e-18f && sq <= std::numeric_limits<float>::max()) return std::sqrt(static_cast<double>(sq));
  double wide = 0.0;
  for (size_t i = 0; i < d; ++i) wide += static_cast<double>(x[i]) * x[i];
  return std::sqrt(wide);
}

size_t fvec_normalized_L2(const float* x, size_t n, size_t d, float* out) {
  size_t zeros = 0;
  for (size_t i = 0; i < n; ++i) {
    const float* xi = x + i * d;
    float* oi = out + i * d;
    const double norm = fvec_norm_L2(xi, d);
    if (norm == 0.0) {
      ++zeros;
      if (oi != xi) std::memcpy(oi, xi, d * sizeof(float));
      continue;
    }
    const float inv = static_cast<float>(1.0 / norm);
    if (std::isnormal(inv)) {
      for (size_t j = 0; j < d; ++j) oi[j] = xi[j] * inv;
    } else {  // 1 / norm is not a normal float: scale in double
      for (size_t j = 0; j < d; ++j) oi[j] = static_cast<float>(xi[j] / norm);
    }
  }
  return zeros;
}

size_t fvec_renorm_L2(float* x, size_t n, size_t d) { return fvec_normalized_L2(x, n, d, x); }

// A NaN or an infinity has all exponent bits set. Written over integer bits
// so that the compiler vectorises it.
bool all_finite(const float* x, size_t n) {
  uint32_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof(bits));
    bad |= static_cast<uint32_t>((bits & 0x7F800000u) == 0x7F800000u);
  }
  return bad == 0;
}

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
