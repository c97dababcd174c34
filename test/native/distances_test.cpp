// Every SIMD level against the scalar reference, over odd and even dims.
#include <algorithm>
#include <cmath>

#include "distances.h"
#include "harness.h"
#include "util.h"

using namespace semvec;

static const size_t kDims[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 384, 768};

// Relative error bound for sums of d products of unit-variance values.
static double tol_for(size_t d) { return 1e-5 * std::sqrt(static_cast<double>(d)) + 1e-6; }

TEST("distances: inner_product of every level matches scalar") {
  for (const Kernels* k : testutil::available_levels())
    for (size_t d : kDims) {
      auto x = testutil::random_vectors(1, d, 1 + d), y = testutil::random_vectors(1, d, 2 + d);
      double ref = 0;
      for (size_t i = 0; i < d; ++i) ref += double(x[i]) * y[i];
      CHECK_NEAR(k->inner_product(x.data(), y.data(), d), ref, tol_for(d));
      CHECK_NEAR(k->inner_product(x.data(), y.data(), d),
                 kScalarKernels.inner_product(x.data(), y.data(), d), tol_for(d));
    }
}

TEST("distances: l2sqr of every level matches scalar") {
  for (const Kernels* k : testutil::available_levels())
    for (size_t d : kDims) {
      auto x = testutil::random_vectors(1, d, 3 + d), y = testutil::random_vectors(1, d, 4 + d);
      double ref = 0;
      for (size_t i = 0; i < d; ++i) ref += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
      CHECK_NEAR(k->l2sqr(x.data(), y.data(), d), ref, tol_for(d));
      CHECK(k->l2sqr(x.data(), x.data(), d) == 0.0f);
    }
}

TEST("distances: scores_packed of every level matches a direct computation") {
  for (const Kernels* k : testutil::available_levels())
    for (size_t d : kDims)
      for (size_t nq : {1, 2, 5, 13, 49})
        for (size_t nb : {1, 2, 3}) {
          const size_t n = nb * kBlock;
          auto q = testutil::random_vectors(nq, d, 7 + d);
          auto x = testutil::random_vectors(n, d, 8 + d + nq);
          auto packed = testutil::pack(x, n, d);
          std::vector<float> sq(n);
          for (size_t j = 0; j < n; ++j)
            sq[j] = kScalarKernels.inner_product(&x[j * d], &x[j * d], d);
          const size_t ldo = n + 5;  // a stride wider than the row
          for (bool l2 : {false, true}) {
            std::vector<float> out(nq * ldo, -1.0f);
            k->scores_packed(q.data(), nq, packed.data(), nb, d, l2 ? sq.data() : nullptr,
                             out.data(), ldo);
            for (size_t i = 0; i < nq; ++i) {
              for (size_t j = 0; j < n; ++j) {
                double ip = 0;
                for (size_t c = 0; c < d; ++c) ip += double(q[i * d + c]) * x[j * d + c];
                double want = l2 ? 2 * ip - sq[j] : ip;
                CHECK_NEAR(out[i * ldo + j], want, 4 * tol_for(d) * (l2 ? std::sqrt(d) : 1));
              }
              for (size_t j = n; j < ldo; ++j) CHECK(out[i * ldo + j] == -1.0f);  // no overrun
            }
          }
        }
}

TEST("distances: select_at_least of every level matches scalar") {
  for (const Kernels* k : testutil::available_levels())
    for (size_t n : {0, 1, 7, 16, 17, 100, 1000}) {
      auto s = testutil::random_vectors(1, n == 0 ? 1 : n, 11 + n);
      if (n > 3) s[3] = 0.5f;  // an exact hit on the threshold counts
      std::vector<uint32_t> a(n + 1), b(n + 1);
      size_t ca = k->select_at_least(s.data(), n, 0.5f, a.data());
      size_t cb = kScalarKernels.select_at_least(s.data(), n, 0.5f, b.data());
      CHECK_EQ(ca, cb);
      for (size_t i = 0; i < ca; ++i) CHECK_EQ(a[i], b[i]);
      for (size_t i = 0; i < ca; ++i) CHECK(s[a[i]] >= 0.5f);
    }
}

TEST("dispatch: resolve_simd_level picks the best level and honours overrides") {
  CpuFeatures none, avx2, avx512;
  avx2.avx2_fma = true;
  avx512.avx2_fma = avx512.avx512 = true;
  CHECK(resolve_simd_level(nullptr, none) == SimdLevel::Scalar);
  CHECK(resolve_simd_level("", avx2) == SimdLevel::Avx2);
  CHECK(resolve_simd_level(nullptr, avx512) == SimdLevel::Avx512);
  CHECK(resolve_simd_level("scalar", avx512) == SimdLevel::Scalar);
  CHECK(resolve_simd_level("avx2", avx512) == SimdLevel::Avx2);
  CHECK_THROWS_CODE(resolve_simd_level("avx512", avx2), ErrorCode::Unsupported);
  CHECK_THROWS_CODE(resolve_simd_level("avx2", none), ErrorCode::Unsupported);
  CHECK_THROWS_CODE(resolve_simd_level("sse9", avx512), ErrorCode::Unsupported);
  try {
    resolve_simd_level("avx512", avx2);
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("at most 'avx2'") != std::string::npos);
  }
}

TEST("dispatch: kernels_for refuses levels the CPU lacks") {
  CpuFeatures cpu = detect_cpu();
  CHECK(kernels_for(SimdLevel::Scalar) != nullptr);
  CHECK((kernels_for(SimdLevel::Avx2) != nullptr) == cpu.avx2_fma);
  CHECK((kernels_for(SimdLevel::Avx512) != nullptr) == cpu.avx512);
}

// Every sq8_dots implementation this CPU can run: each level, plus AVX-512
// without VNNI when the CPU has VNNI (the dispatcher would pick the latter).
static std::vector<const Kernels*> sq8_implementations() {
  std::vector<const Kernels*> out = testutil::available_levels();
  if (detect_cpu().avx512_vnni) out.push_back(&kAvx512Kernels);
  return out;
}

TEST("distances: sq8_dots of every implementation is the exact integer dot product") {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> byte(0, 255);
  for (const Kernels* k : sq8_implementations())
    for (size_t d : kDims)
      for (size_t nb : {1, 2, 5}) {
        const size_t groups = (d + 3) / 4, n = nb * kBlock;
        std::vector<uint8_t> codes(nb * groups * 64, 0);
        std::vector<int8_t> q(groups * 4, 0);
        std::vector<int> rows(n * d);
        for (size_t j = 0; j < n; ++j)
          for (size_t c = 0; c < d; ++c) {
            rows[j * d + c] = byte(rng);
            codes[(j / kBlock) * groups * 64 + (c / 4) * 64 + (j % kBlock) * 4 + c % 4] =
                static_cast<uint8_t>(rows[j * d + c]);
          }
        // Extremes included: -128 and 127 against 255 must not saturate.
        for (size_t c = 0; c < d; ++c) q[c] = static_cast<int8_t>(c % 3 == 0 ? -128 : c % 3 == 1 ? 127 : byte(rng) - 128);
        std::vector<int32_t> out(n + 3, -7);
        k->sq8_dots(q.data(), codes.data(), nb, groups, out.data());
        for (size_t j = 0; j < n; ++j) {
          int64_t want = 0;
          for (size_t c = 0; c < d; ++c) want += int64_t(rows[j * d + c]) * q[c];
          CHECK_EQ(int64_t(out[j]), want);
        }
        for (size_t j = n; j < n + 3; ++j) CHECK_EQ(out[j], -7);  // no overrun
      }
}

TEST("distances: rq4_dots of every implementation is the exact dot product of 4-bit codes and 8-bit queries") {
  std::mt19937 rng(23);
  std::uniform_int_distribution<int> nibble(0, 15), byte(0, 255);
  for (const Kernels* k : sq8_implementations())
    for (size_t d : kDims)
      for (size_t nb : {1, 2, 5}) {
        const size_t pairs = (d + 7) / 8, n = nb * kBlock;
        std::vector<uint8_t> codes(nb * pairs * 64, 0);
        std::vector<int8_t> q(pairs * 8, 0);
        std::vector<int> rows(n * d);
        for (size_t j = 0; j < n; ++j)
          for (size_t c = 0; c < d; ++c) {
            rows[j * d + c] = c % 5 == 0 ? 15 : nibble(rng);
            const size_t p = c / 8, lane = c % 8;
            uint8_t& b = codes[(j / kBlock) * pairs * 64 + p * 64 + (j % kBlock) * 4 + lane % 4];
            b = static_cast<uint8_t>(b | (rows[j * d + c] << (lane < 4 ? 0 : 4)));
          }
        // Extremes included: -128 and 127 against 15 must not saturate.
        for (size_t c = 0; c < d; ++c) q[c] = static_cast<int8_t>(c % 3 == 0 ? -128 : c % 3 == 1 ? 127 : byte(rng) - 128);
        std::vector<int32_t> out(n + 3, -7);
        k->rq4_dots(q.data(), codes.data(), nb, pairs, out.data());
        for (size_t j = 0; j < n; ++j) {
          int64_t want = 0;
          for (size_t c = 0; c < d; ++c) want += int64_t(rows[j * d + c]) * q[c];
          CHECK_EQ(int64_t(out[j]), want);
        }
        for (size_t j = n; j < n + 3; ++j) CHECK_EQ(out[j], -7);  // no overrun
      }
}

TEST("distances: rq1_dots of every implementation is the exact dot product of 1-bit codes and 4-bit queries") {
  std::mt19937_64 rng(29);
  for (const Kernels* k : sq8_implementations())
    for (size_t d : kDims)
      for (size_t nb : {1, 2, 5}) {
        const size_t words = (d + 63) / 64, n = nb * kBlock;
        std::vector<uint64_t> codes(nb * words * kBlock, 0), planes(4 * words, 0);
        std::vector<int> q(d);
        for (size_t c = 0; c < d; ++c) {
          q[c] = c % 4 == 0 ? 15 : static_cast<int>(rng() % 16);
          for (size_t j = 0; j < 4; ++j)
            if ((q[c] >> j) & 1) planes[j * words + c / 64] |= uint64_t(1) << (c % 64);
        }
        std::vector<uint8_t> bits(n * d);
        for (size_t v = 0; v < n; ++v)
          for (size_t c = 0; c < d; ++c) {
            bits[v * d + c] = (v % 7 == 0) ? 1 : static_cast<uint8_t>(rng() & 1);  // some all-ones rows
            if (bits[v * d + c]) codes[(v / kBlock) * words * kBlock + (c / 64) * kBlock + v % kBlock] |= uint64_t(1) << (c % 64);
          }
        std::vector<int32_t> out(n + 3, -7);
        k->rq1_dots(planes.data(), codes.data(), nb, words, out.data());
        for (size_t v = 0; v < n; ++v) {
          int64_t want = 0;
          for (size_t c = 0; c < d; ++c) want += bits[v * d + c] * q[c];
          CHECK_EQ(int64_t(out[v]), want);
        }
        for (size_t j = n; j < n + 3; ++j) CHECK_EQ(out[j], -7);  // no overrun
      }
}

TEST("distances: sq8_dots_rows of every implementation is the exact integer dot product") {
  std::mt19937 rng(23);
  std::uniform_int_distribution<int> byte(0, 255);
  for (const Kernels* k : sq8_implementations())
    for (size_t d : kDims)
      for (size_t m : {1, 2, 3, 4, 5, 9}) {
        const size_t bytes = (d + 3) / 4 * 4;
        // Each row its own allocation of exactly `bytes` (a sanitizer build
        // catches a read past it), zero past d as the codes are.
        std::vector<std::vector<uint8_t>> rows(m, std::vector<uint8_t>(bytes, 0));
        std::vector<const uint8_t*> ptrs(m);
        for (size_t j = 0; j < m; ++j) {
          for (size_t c = 0; c < d; ++c) rows[j][c] = static_cast<uint8_t>(byte(rng));
          ptrs[j] = rows[j].data();
        }
        std::vector<int8_t> q(bytes, 0);
        for (size_t c = 0; c < d; ++c) q[c] = static_cast<int8_t>(c % 3 == 0 ? -128 : c % 3 == 1 ? 127 : byte(rng) - 128);
        std::vector<int32_t> out(m + 3, -7);
        k->sq8_dots_rows(q.data(), ptrs.data(), m, bytes, out.data());
        for (size_t j = 0; j < m; ++j) {
          int64_t want = 0;
          for (size_t c = 0; c < d; ++c) want += int64_t(rows[j][c]) * q[c];
          CHECK_EQ(int64_t(out[j]), want);
        }
        for (size_t j = m; j < m + 3; ++j) CHECK_EQ(out[j], -7);  // no overrun
      }
}
