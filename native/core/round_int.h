// Rounding of a clamped double to int, and clamping of a double to the
// float range, shared by the 8-bit and RaBitQ-style code builders, query
// preparations and estimates.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

namespace semvec {

// Round to nearest (halves away from zero) without a libm call: this runs
// once per component of every probe and every stored vector. Callers clamp
// v to a small range first; a NaN passes a clamp (a query so large that a
// subtraction or rotation overflowed to inf - inf, or a centroid of an
// unverified damaged file) and becomes 0 here, so that no NaN is ever
// converted to int (undefined behaviour).
inline int round_int(double v) { return std::isnan(v) ? 0 : static_cast<int>(v + (v < 0.0 ? -0.5 : 0.5)); }

// v clamped to the finite float range.
inline float clamp_to_float(double v) {
  constexpr double kMax = std::numeric_limits<float>::max();
  return static_cast<float>(std::clamp(v, -kMax, kMax));
}

}  // namespace semvec
