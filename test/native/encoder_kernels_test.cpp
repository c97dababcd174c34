// The encoder kernels of every SIMD level against exact and double-precision
// references: the int8 GEMM's integer sums must be identical everywhere.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "encoder_kernels.h"
#include "harness.h"
#include "quantized_linear.h"

using namespace semvec;

namespace {

std::vector<const EncoderKernels*> encoder_levels() {
  std::vector<const EncoderKernels*> out;
  for (auto level : {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512})
    if (auto* k = encoder_kernels_for(level)) out.push_back(k);
  // Both AVX-512 GEMMs when the CPU has VNNI (the other one runs too).
  if (encoder_kernels_for(SimdLevel::Avx512) == &kAvx512VnniEncoderKernels) out.push_back(&kAvx512EncoderKernels);
  return out;
}

struct GemmCase {
  size_t rows, k, n;
  int mode;  // 0 random, 1 extremes (255 against -128/127), 2 zeros and 255
};

struct GemmData {
  size_t rows, k, n, ldq;
  std::vector<uint8_t> q;
  std::vector<float> qscale;
  std::vector<int32_t> qzp, qsum;
  std::vector<int8_t> w;
  std::vector<float> wscale, bias;
  std::vector<int32_t> wzp;
  QuantizedLinear linear;
  GemmRows rows_view() const { return {q.data(), ldq, qscale.data(), qzp.data(), qsum.data()}; }
};

GemmData make_gemm(const GemmCase& c, uint32_t seed, bool per_tensor) {
  std::mt19937 rng(seed);
  GemmData d;
  d.rows = c.rows, d.k = c.k, d.n = c.n;
  d.ldq = (c.k + 3) / 4 * 4 + 4 * (seed % 3);  // sometimes wider than needed
  d.q.assign(c.rows * d.ldq, 0);
  d.qscale.resize(c.rows), d.qzp.resize(c.rows), d.qsum.resize(c.rows);
  std::uniform_int_distribution<int> u8(0, 255), i8(-128, 127), bit(0, 1);
  std::uniform_real_distribution<float> sc(0.001f, 0.1f), bs(-1.0f, 1.0f);
  for (size_t r = 0; r < c.rows; ++r) {
    int32_t s = 0;
    for (size_t i = 0; i < c.k; ++i) {
      int v = c.mode == 0 ? u8(rng) : c.mode == 1 ? 255 : (bit(rng) ? 255 : 0);
      d.q[r * d.ldq + i] = static_cast<uint8_t>(v);
      s += v;
    }
    d.qsum[r] = s;
    d.qscale[r] = sc(rng);
    d.qzp[r] = c.mode == 1 ? (r % 2 ? 0 : 255) : u8(rng);
  }
  d.w.resize(c.k * c.n);
  for (size_t i = 0; i < d.w.size(); ++i)
    d.w[i] = static_cast<int8_t>(c.mode == 0 ? i8(rng) : (bit(rng) ? 127 : -128));
  const size_t nq = per_tensor ? 1 : c.n;
  d.wscale.resize(nq), d.wzp.resize(nq), d.bias.resize(c.n);
  for (size_t j = 0; j < nq; ++j) {
    d.wscale[j] = sc(rng);
    d.wzp[j] = c.mode == 1 ? (j % 2 ? 127 : -128) : (j % 3 == 0 ? 0 : i8(rng));
  }
  for (auto& b : d.bias) b = bs(rng);
  LinearPart p;
  p.weight = d.w.data(), p.n = c.n, p.scale = d.wscale.data(), p.scale_length = nq;
  p.zero_point = d.wzp.data(), p.zero_point_length = nq, p.bias = d.bias.data();
  d.linear = QuantizedLinear(c.k, {p});
  return d;
}

int64_t exact_sum(const GemmData& d, size_t r, size_t j) {
  const int64_t zw = d.wzp[d.wzp.size() == 1 ? 0 : j];
  int64_t s = 0;
  for (size_t i = 0; i < d.k; ++i)
    s += (int64_t(d.q[r * d.ldq + i]) - d.qzp[r]) * (int64_t(d.w[i * d.n + j]) - zw);
  return s;
}

const GemmCase kGemmCases[] = {
    {1, 1, 1, 0},    {3, 5, 17, 0},   {9, 13, 33, 0},  {17, 64, 48, 0},  {20, 383, 50, 0},
    {8, 384, 96, 0}, {13, 100, 7, 0}, {25, 7, 160, 0}, {11, 383, 47, 1}, {9, 1536, 19, 1},
    {10, 66, 35, 2},
};

}  // namespace

TEST("encoder: gemm sums of every level equal the exact int64 sums") {
  for (const EncoderKernels* kern : encoder_levels())
    for (const GemmCase& c : kGemmCases)
      for (bool per_tensor : {false, true}) {
        GemmData d = make_gemm(c, static_cast<uint32_t>(c.rows * 131 + c.k * 7 + c.n + per_tensor), per_tensor);
        const GemmWeights w = d.linear.weights();
        const size_t ldo = c.n + 3;
        std::vector<int32_t> sums(c.rows * ldo, -7);
        GemmOut o;
        o.epilogue = GemmEpilogue::Sums;
        o.sums = sums.data();
        o.ldo = ldo;
        // In two row ranges and two column ranges, as tasks split it.
        const size_t rh = c.rows / 2, bh = w.blocks / 2;
        kern->gemm(d.rows_view(), w, o, 0, rh, 0, bh);
        kern->gemm(d.rows_view(), w, o, 0, rh, bh, w.blocks);
        kern->gemm(d.rows_view(), w, o, rh, c.rows, 0, w.blocks);
        for (size_t r = 0; r < c.rows; ++r) {
          for (size_t j = 0; j < c.n; ++j)
            if (sums[r * ldo + j] != exact_sum(d, r, j))
              harness::fail(__FILE__, __LINE__, kern->name, " rows ", c.rows, " k ", c.k, " n ", c.n, " mode ",
                            c.mode, ": sum[", r, "][", j, "] = ", sums[r * ldo + j], ", exact ", exact_sum(d, r, j));
          for (size_t j = c.n; j < ldo; ++j) CHECK_EQ(sums[r * ldo + j], -7);  // past n: untouched
        }
      }
}

TEST("encoder: gemm epilogues of every level match a double reference") {
  for (const EncoderKernels* kern : encoder_levels())
    for (const GemmCase& c : kGemmCases) {
      GemmData d = make_gemm(c, static_cast<uint32_t>(c.rows + c.k + c.n), false);
      const GemmWeights w = d.linear.weights();
      const size_t ldo = c.n + 1;
      std::vector<float> residual(c.rows * ldo);
      std::mt19937 rng(5);
      std::normal_distribution<float> g;
      for (auto& x : residual) x = g(rng);
      for (GemmEpilogue e : {GemmEpilogue::Bias, GemmEpilogue::BiasResidual, GemmEpilogue::BiasGeluErf,
                             GemmEpilogue::BiasGeluTanh}) {
        std::vector<float> out(c.rows * ldo, 123.0f);
        GemmOut o;
        o.epilogue = e;
        o.out = out.data();
        o.ldo = ldo;
        o.residual = residual.data();
        o.ldr = ldo;
        kern->gemm(d.rows_view(), w, o, 0, c.rows, 0, w.blocks);
        for (size_t r = 0; r < c.rows; ++r)
          for (size_t j = 0; j < c.n; ++j) {
            double y = double(exact_sum(d, r, j)) * d.wscale[j] * d.qscale[r] + d.bias[j];
            if (e == GemmEpilogue::BiasResidual) y += residual[r * ldo + j];
            if (e == GemmEpilogue::BiasGeluErf) y = 0.5 * y * (1 + std::erf(y / std::sqrt(2.0)));
            if (e == GemmEpilogue::BiasGeluTanh)
              y = 0.5 * y * (1 + std::tanh(std::sqrt(2 / M_PI) * (y + 0.044715 * y * y * y)));
            // float rounding of the sum, the scales and the erf approximation
            const double tol = 1e-6 * (std::fabs(double(exact_sum(d, r, j))) * d.wscale[j] * d.qscale[r] + 1) + 1e-6 * std::fabs(y);
            if (!(std::fabs(out[r * ldo + j] - y) <= tol + 1e-6))
              harness::fail(__FILE__, __LINE__, kern->name, " epilogue ", int(e), " rows ", c.rows, " k ", c.k,
                            " n ", c.n, ": out[", r, "][", j, "] = ", out[r * ldo + j], ", want ", y);
          }
        for (size_t r = 0; r < c.rows; ++r) CHECK_EQ(out[r * ldo + c.n], 123.0f);
      }
    }
}

TEST("encoder: quantize_rows of every level equals scalar and follows the dynamic rule") {
  std::mt19937 rng(11);
  std::normal_distribution<float> g(0.3f, 2.0f);
  for (size_t k : {1, 3, 15, 16, 17, 64, 383, 1536}) {
    const size_t rows = 5, ldx = k + 2, ldq = (k + 3) / 4 * 4 + 8;
    std::vector<float> x(rows * ldx);
    for (auto& v : x) v = g(rng);
    for (size_t i = 0; i < k; ++i) x[1 * ldx + i] = 0.0f;         // a zero row
    for (size_t i = 0; i < k; ++i) x[2 * ldx + i] = 1.5f + i;     // all positive
    for (size_t i = 0; i < k; ++i) x[3 * ldx + i] = -0.25f * (i + 1);  // all negative
    std::vector<uint8_t> q0(rows * ldq, 77);
    std::vector<float> s0(rows);
    std::vector<int32_t> z0(rows), sum0(rows);
    kScalarEncoderKernels.quantize_rows(x.data(), ldx, rows, k, q0.data(), ldq, s0.data(), z0.data(), sum0.data());
    for (size_t r = 0; r < rows; ++r) {
      float lo = 0, hi = 0;
      for (size_t i = 0; i < k; ++i) lo = std::min(lo, x[r * ldx + i]), hi = std::max(hi, x[r * ldx + i]);
      CHECK_EQ(s0[r], hi == lo ? 1.0f : (hi - lo) / 255.0f);
      CHECK_EQ(z0[r], static_cast<int32_t>(std::nearbyint(-lo / s0[r])));
      int32_t sum = 0;
      for (size_t i = 0; i < k; ++i) {
        const uint8_t qv = q0[r * ldq + i];
        sum += qv;
        CHECK(std::fabs((qv - z0[r]) * s0[r] - x[r * ldx + i]) <= 0.5001f * s0[r]);
      }
      CHECK_EQ(sum0[r], sum);
      for (size_t i = k; i < (k + 3) / 4 * 4; ++i) CHECK_EQ(int(q0[r * ldq + i]), 0);  // the padding
      for (size_t i = (k + 3) / 4 * 4; i < ldq; ++i) CHECK_EQ(int(q0[r * ldq + i]), 77);  // untouched
    }
    CHECK_EQ(s0[1], 1.0f);
    CHECK_EQ(z0[1], 0);
    CHECK_EQ(z0[2], 0);
    CHECK_EQ(z0[3], 255);
    for (const EncoderKernels* kern : encoder_levels()) {
      std::vector<uint8_t> q(rows * ldq, 77);
      std::vector<float> s(rows);
      std::vector<int32_t> z(rows), sum(rows);
      kern->quantize_rows(x.data(), ldx, rows, k, q.data(), ldq, s.data(), z.data(), sum.data());
      CHECK(q == q0);
      CHECK(s == s0);
      CHECK(z == z0);
      CHECK(sum == sum0);
    }
  }
}

TEST("encoder: layer_norm_rows of every level matches a double reference") {
  std::mt19937 rng(12);
  std::normal_distribution<float> g(1.0f, 3.0f);
  for (const EncoderKernels* kern : encoder_levels())
    for (size_t n : {1, 7, 16, 33, 64, 384}) {
      const size_t rows = 3;
      std::vector<float> x(rows * n), gamma(n), beta(n), out(rows * n);
      for (auto& v : x) v = g(rng);
      for (auto& v : gamma) v = g(rng);
      for (auto& v : beta) v = g(rng);
      kern->layer_norm_rows(x.data(), n, rows, n, gamma.data(), beta.data(), 1e-5f, out.data(), n);
      for (size_t r = 0; r < rows; ++r) {
        double mean = 0, var = 0;
        for (size_t i = 0; i < n; ++i) mean += x[r * n + i];
        mean /= n;
        for (size_t i = 0; i < n; ++i) var += (x[r * n + i] - mean) * (x[r * n + i] - mean);
        var /= n;
        for (size_t i = 0; i < n; ++i) {
          double want = (x[r * n + i] - mean) / std::sqrt(var + 1e-5) * gamma[i] + beta[i];
          CHECK_NEAR(out[r * n + i], want, 1e-4);
        }
      }
    }
}

TEST("encoder: attention of every level matches a double reference") {
  std::mt19937 rng(13);
  std::normal_distribution<float> g(0.0f, 1.5f);
  for (const EncoderKernels* kern : encoder_levels())
    for (size_t s : {1, 2, 3, 5, 16, 17, 40, 129})
      for (size_t dh : {8, 16, 24, 32, 64}) {
        const size_t ld = 3 * dh + 5;
        std::vector<float> qkv(s * ld), out(s * dh, -1.0f), scratch(attention_scratch(s, dh));
        for (auto& v : qkv) v = g(rng);
        const float* q = qkv.data();
        const float* k = qkv.data() + dh;
        const float* v = qkv.data() + 2 * dh;
        kern->attention(q, k, v, ld, s, dh, out.data(), dh, scratch.data());
        for (size_t i = 0; i < s; ++i) {
          std::vector<double> p(s);
          double mx = -1e300, total = 0;
          for (size_t j = 0; j < s; ++j) {
            double dot = 0;
            for (size_t d = 0; d < dh; ++d) dot += double(q[i * ld + d]) * k[j * ld + d];
            p[j] = dot;
            mx = std::max(mx, dot);
          }
          for (size_t j = 0; j < s; ++j) total += p[j] = std::exp(p[j] - mx);
          for (size_t d = 0; d < dh; ++d) {
            double want = 0;
            for (size_t j = 0; j < s; ++j) want += p[j] / total * v[j * ld + d];
            if (!(std::fabs(out[i * dh + d] - want) <= 1e-4 * (1 + std::fabs(want))))
              harness::fail(__FILE__, __LINE__, kern->name, " s ", s, " dh ", dh, ": out[", i, "][", d,
                            "] = ", out[i * dh + d], ", want ", want);
          }
        }
      }
}
