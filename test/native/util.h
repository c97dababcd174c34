// Shared helpers for the core tests.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "distances.h"

namespace testutil {

inline std::vector<float> random_vectors(size_t n, size_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> v(n * d);
  for (auto& x : v) x = g(rng);
  return v;
}

// Row-major rows -> packed blocks (see distances.h).
inline std::vector<float> pack(const std::vector<float>& rows, size_t n, size_t d) {
  size_t nb = (n + semvec::kBlock - 1) / semvec::kBlock;
  std::vector<float> out(nb * semvec::kBlock * d, 0.0f);
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < d; ++c)
      out[(i / semvec::kBlock) * semvec::kBlock * d + c * semvec::kBlock + i % semvec::kBlock] =
          rows[i * d + c];
  return out;
}

// The SIMD levels this CPU can run.
inline std::vector<const semvec::Kernels*> available_levels() {
  std::vector<const semvec::Kernels*> out;
  for (auto level : {semvec::SimdLevel::Scalar, semvec::SimdLevel::Avx2, semvec::SimdLevel::Avx512})
    if (auto* k = semvec::kernels_for(level)) out.push_back(k);
  return out;
}

}  // namespace testutil
