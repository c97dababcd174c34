#include "sq8.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "distances.h"
#include "round_int.h"
#include "vectors.h"

namespace semvec {

namespace {
size_t blocks_for(size_t n) { return (n + kBlock - 1) / kBlock; }
}  // namespace

namespace {

// w[i] = round_int(clamp(t[i] * inv, -127, 127)) for i < n. The compiler
// leaves that loop scalar and branchy (a probe of 384 dimensions spent 70%
// of its time in it); SSE2, in every x86-64, does eight at a time with the
// same bytes: the same product, NaN to 0, the same clamp, half away from
// zero added with the value's sign, truncated.
void round_to_bytes(const double* t, size_t n, double inv, int8_t* w) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128d scale = _mm_set1_pd(inv), lo = _mm_set1_pd(-127.0), hi = _mm_set1_pd(127.0);
  const __m128d half = _mm_set1_pd(0.5), sign = _mm_set1_pd(-0.0);
  auto two = [&](size_t at) {
    __m128d v = _mm_mul_pd(_mm_loadu_pd(t + at), scale);
    v = _mm_andnot_pd(_mm_cmpunord_pd(v, v), v);
    v = _mm_min_pd(_mm_max_pd(v, lo), hi);
    v = _mm_add_pd(v, _mm_or_pd(half, _mm_and_pd(v, sign)));
    return _mm_cvttpd_epi32(v);  // two int32 in the low half
  };
  for (; i + 8 <= n; i += 8) {
    const __m128i a = _mm_unpacklo_epi64(two(i), two(i + 2)), b = _mm_unpacklo_epi64(two(i + 4), two(i + 6));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(w + i), _mm_packs_epi16(_mm_packs_epi32(a, b), _mm_setzero_si128()));
  }
#endif
  for (; i < n; ++i) w[i] = static_cast<int8_t>(round_int(std::clamp(t[i] * inv, -127.0, 127.0)));
}

}  // namespace

void Sq8Probe::prepare(const float* q, const float* c, size_t dim, bool l2) {
  w.resize(sq8_groups(dim) * 4);
  t.resize(dim);
  // Held here: a store through w (bytes) could otherwise alias the
  // vectors' own pointers, and the loops would not vectorise.
  double* tt = t.data();
  int8_t* ww = w.data();
  // In double: q - c of two floats near +-FLT_MAX does not fit a float.
  // Four running maxima and sums: independent chains the compiler vectorises.
  double top[4] = {0, 0, 0, 0}, sum[4] = {0, 0, 0, 0}, qc[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= dim; i += 4)
    for (size_t k = 0; k < 4; ++k) {
      tt[i + k] = static_cast<double>(q[i + k]) - c[i + k];
      sum[k] += tt[i + k];
      qc[k] += static_cast<double>(q[i + k]) * c[i + k];
      top[k] = std::max(top[k], std::abs(tt[i + k]));
    }
  for (; i < dim; ++i) {
    tt[i] = static_cast<double>(q[i]) - c[i];
    sum[0] += tt[i];
    qc[0] += static_cast<double>(q[i]) * c[i];
    top[0] = std::max(top[0], std::abs(tt[i]));
  }
  const double most = std::max(std::max(top[0], top[1]), std::max(top[2], top[3]));
  factor = l2 ? 2.0 : 1.0;
  base = factor * ((qc[0] + qc[1]) + (qc[2] + qc[3]));
  tsum = (sum[0] + sum[1]) + (sum[2] + sum[3]);
  alpha = most > 0.0 ? most / 127.0 : 1.0;
  const double inv = 1.0 / alpha;
  round_to_bytes(tt, dim, inv, ww);
  std::fill(w.begin() + dim, w.end(), 0);
  // Float copies for the fast path; an overflow here (an infinity) sends
  // the scores to the double path.
  alpha_f = static_cast<float>(alpha);
  tsum_f = static_cast<float>(tsum);
  base_f = static_cast<float>(base);
  factor_f = static_cast<float>(factor);
}

float Sq8Probe::score(int32_t dot, float lo, float step, float bias) const {
  return clamp_to_float(base + factor * (lo * tsum + step * alpha * static_cast<double>(dot)) + bias);
}

void sq8_scores(const Sq8Probe& p, const int32_t* dots, const CodeStore& codes, size_t n, float* out) {
  const float* lo = codes.lo();
  const float* step = codes.step();
  const float* bias = codes.bias();
  for (size_t j = 0; j < n; ++j)
    out[j] = p.base_f + p.factor_f * (lo[j] * p.tsum_f + step[j] * p.alpha_f * static_cast<float>(dots[j])) + bias[j];
  if (all_finite(out, n)) return;
  // Float overflowed somewhere (extreme vectors): those again, in double.
  for (size_t j = 0; j < n; ++j)
    if (!std::isfinite(out[j])) out[j] = p.score(dots[j], lo[j], step[j], bias[j]);
}

CodeStore::CodeStore(size_t dim, bool l2, size_t size, PodStorage<uint8_t> codes, PodStorage<float> lo,
                     PodStorage<float> step, PodStorage<float> bias)
    : dim_(dim),
      l2_(l2),
      block_bytes_(sq8_block_bytes(dim)),
      size_(size),
      codes_(std::move(codes)),
      lo_(std::move(lo)),
      step_(std::move(step)),
      bias_(std::move(bias)) {
  if (codes_.size() != blocks_for(size) * block_bytes_ || lo_.size() < size || step_.size() < size ||
      bias_.size() < size)
    throw Error(ErrorCode::Internal, "sq8 code arrays do not match their size");
  for (PodStorage<float>* a : {&lo_, &step_, &bias_})
    if (!a->borrowed()) a->owned().resize(size);
}

void CodeStore::reserve(size_t n) {
  const size_t nb = blocks_for(n);
  PodBuffer<uint8_t>& codes = codes_.owned();
  if (nb * block_bytes_ <= codes.capacity()) return;
  const size_t want = std::max(nb, blocks_for(size_) + blocks_for(size_) / 2);
  codes.reserve(want * block_bytes_);
  lo_.owned().reserve(want * kBlock);
  step_.owned().reserve(want * kBlock);
  bias_.owned().reserve(want * kBlock);
}

Sq8Range sq8_encode(const float* x, const float* c, size_t dim, bool l2, uint8_t* code,
                    std::vector<double>& r) {
  r.resize(dim);
  // In double: residuals of floats near +-FLT_MAX, their range and the sums
  // below all overflow a float.
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, cr = 0.0, xx = 0.0;
  for (size_t i = 0; i < dim; ++i) {
    const double ci = c ? c[i] : 0.0;
    r[i] = static_cast<double>(x[i]) - ci;
    lo = std::min(lo, r[i]);
    hi = std::max(hi, r[i]);
    cr += ci * r[i];
    xx += static_cast<double>(x[i]) * x[i];
  }
  // What is stored is what the codes are decoded with: lo and step as
  // floats (lo clamped to the float range: residuals below it get code 0),
  // step positive and finite.
  const float flo = clamp_to_float(lo);
  double step = (hi - flo) / 255.0;
  if (!(step > 0.0)) step = 1.0;  // a constant residual: codes 0, any positive step
  float fstep = clamp_to_float(step);
  if (fstep == 0.0f) fstep = std::numeric_limits<float>::denorm_min();  // a range too small for a float
  const double inv = 1.0 / fstep;
  for (size_t i = 0; i < dim; ++i) code[i] = static_cast<uint8_t>(round_int(std::clamp((r[i] - flo) * inv, 0.0, 255.0)));
  return {flo, fstep, clamp_to_float(l2 ? 2.0 * cr - xx : cr)};
}

void CodeStore::append(const float* x, size_t n, const float* c) {
  if (n == 0) return;
  reserve(size_ + n);
  codes_.owned().resize(blocks_for(size_ + n) * block_bytes_);
  PodBuffer<float>& lo_out = lo_.owned();
  PodBuffer<float>& step_out = step_.owned();
  PodBuffer<float>& bias_out = bias_.owned();
  lo_out.resize(size_ + n);
  step_out.resize(size_ + n);
  bias_out.resize(size_ + n);
  std::vector<double> scratch(dim_);
  std::vector<uint8_t> row(dim_);
  for (size_t j = 0; j < n; ++j) {
    const size_t slot = size_ + j;
    const Sq8Range range = sq8_encode(x + j * dim_, c, dim_, l2_, row.data(), scratch);
    for (size_t i = 0; i < dim_; ++i) *byte(slot, i) = row[i];
    lo_out[slot] = range.lo;
    step_out[slot] = range.step;
    bias_out[slot] = range.bias;
  }
  size_ += n;
}

void CodeStore::remove_slot(size_t slot) {
  const size_t last = size_ - 1;
  for (size_t i = 0; i < sq8_groups(dim_) * 4; ++i) {
    if (slot != last) *byte(slot, i) = *byte(last, i);
    *byte(last, i) = 0;
  }
  for (PodStorage<float>* a : {&lo_, &step_, &bias_}) {
    PodBuffer<float>& v = a->owned();
    v[slot] = v[last];
    v.resize(last);
  }
  size_ = last;
  codes_.owned().resize(blocks_for(size_) * block_bytes_);
}

}  // namespace semvec
