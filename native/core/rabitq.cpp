#include "rabitq.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <limits>

#include "distances.h"
#include "errors.h"
#include "round_int.h"
#include "rng.h"
#include "vectors.h"

namespace semvec {

namespace {

size_t blocks_for(size_t n) { return (n + kBlock - 1) / kBlock; }

// Candidate grid steps of an rq4 code, as fractions of max |r| / 8: the
// best of these by cosine (extended RaBitQ searches the same criterion).
constexpr double kRq4Fractions[] = {0.40, 0.46, 0.52, 0.58, 0.64, 0.70, 0.76, 0.82, 0.88, 0.94, 1.0};

// The rq4 code of a rotated residual r at one grid step (inv = 1 / step,
// centre = (levels + 1) / 2): code[i] = clamp(floor(r[i] inv + centre), 0,
// levels), taken as the clamp then truncation (the same for every finite
// value; a NaN becomes 0). Returns <u, r> and <u, u> of the centred values
// u = 2 code - levels, summed in four chains (component i in chain i % 4)
// so that the SSE2 loop (in every x86-64; two chains per register) and the
// scalar one give the same sums. This runs eleven times per vector: it was
// most of an rq4 add, the libm floor and one chain of sums.
struct RqRound {
  double ru, uu;
};
RqRound rq_round(const double* r, size_t dim, double inv, double centre, unsigned levels, unsigned* code) {
  const double top = levels;
  double ru[4] = {0, 0, 0, 0}, uu[4] = {0, 0, 0, 0};
  size_t i = 0;
#if defined(__SSE2__)
  const __m128d vinv = _mm_set1_pd(inv), vcentre = _mm_set1_pd(centre), vtop = _mm_set1_pd(top);
  const __m128d zero = _mm_setzero_pd(), two = _mm_set1_pd(2.0);
  __m128d ru01 = zero, ru23 = zero, uu01 = zero, uu23 = zero;
  auto lanes = [&](size_t at, __m128d& ru_acc, __m128d& uu_acc) {
    const __m128d x = _mm_loadu_pd(r + at);
    const __m128d v = _mm_min_pd(_mm_max_pd(_mm_add_pd(_mm_mul_pd(x, vinv), vcentre), zero), vtop);
    const __m128i k = _mm_cvttpd_epi32(v);
    code[at] = static_cast<unsigned>(_mm_cvtsi128_si32(k));
    code[at + 1] = static_cast<unsigned>(_mm_cvtsi128_si32(_mm_srli_si128(k, 4)));
    const __m128d u = _mm_sub_pd(_mm_mul_pd(two, _mm_cvtepi32_pd(k)), vtop);
    ru_acc = _mm_add_pd(ru_acc, _mm_mul_pd(u, x));
    uu_acc = _mm_add_pd(uu_acc, _mm_mul_pd(u, u));
  };
  for (; i + 4 <= dim; i += 4) {
    lanes(i, ru01, uu01);
    lanes(i + 2, ru23, uu23);
  }
  _mm_storeu_pd(ru, ru01);
  _mm_storeu_pd(ru + 2, ru23);
  _mm_storeu_pd(uu, uu01);
  _mm_storeu_pd(uu + 2, uu23);
#endif
  for (; i < dim; ++i) {
    double v = r[i] * inv + centre;
    v = v > 0.0 ? v : 0.0;
    v = v < top ? v : top;
    code[i] = static_cast<unsigned>(static_cast<int>(v));
    const double u = 2.0 * code[i] - top;
    ru[i % 4] += u * r[i];
    uu[i % 4] += u * u;
  }
  return {(ru[0] + ru[1]) + (ru[2] + ru[3]), (uu[0] + uu[1]) + (uu[2] + uu[3])};
}

}  // namespace

Rotation::Rotation(size_t dim, uint64_t seed) : dim_(dim), packed_(dim, false) {
  Rng rng(seed);
  std::vector<double> m(dim * dim);
  for (size_t i = 0; i < dim * dim; i += 2) {
    // Box-Muller: two gaussians from two uniforms in (0, 1].
    const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();
    const double rad = std::sqrt(-2.0 * std::log(u1));
    m[i] = rad * std::cos(2.0 * M_PI * u2);
    if (i + 1 < dim * dim) m[i + 1] = rad * std::sin(2.0 * M_PI * u2);
  }
  // Modified Gram-Schmidt on the rows.
  for (size_t i = 0; i < dim; ++i) {
    double* row = m.data() + i * dim;
    for (size_t j = 0; j < i; ++j) {
      const double* prev = m.data() + j * dim;
      double dot = 0.0;
      for (size_t c = 0; c < dim; ++c) dot += row[c] * prev[c];
      for (size_t c = 0; c < dim; ++c) row[c] -= dot * prev[c];
    }
    double norm = 0.0;
    for (size_t c = 0; c < dim; ++c) norm += row[c] * row[c];
    norm = std::sqrt(norm);
    for (size_t c = 0; c < dim; ++c) row[c] /= norm;
  }
  std::vector<float> rows(m.begin(), m.end());
  std::vector<uint64_t> ids(dim);
  for (size_t i = 0; i < dim; ++i) ids[i] = i;
  packed_.reserve(dim);
  packed_.append(rows.data(), dim, ids.data(), false, nullptr);
}

Rotation::Rotation(size_t dim, const float* rows) : dim_(dim), packed_(dim, false) {
  std::vector<uint64_t> ids(dim);
  for (size_t i = 0; i < dim; ++i) ids[i] = i;
  packed_.reserve(dim);
  packed_.append(rows, dim, ids.data(), false, nullptr);
}

std::vector<float> Rotation::rows() const {
  std::vector<float> out(dim_ * dim_);
  if (dim_ > 0) packed_.unpack_rows(0, dim_, out.data());
  return out;
}

void Rotation::apply(const float* x, size_t n, float* out) const {
  const Kernels& k = kernels();
  const size_t nb = blocks_for(dim_), ld = nb * kBlock;
  constexpr size_t kChunk = 64;
  std::vector<float> tmp(std::min(n, kChunk) * ld);
  for (size_t i = 0; i < n; i += kChunk) {
    const size_t m = std::min(kChunk, n - i);
    k.scores_packed(x + i * dim_, m, packed_.blocks(), nb, dim_, nullptr, tmp.data(), ld);
    for (size_t j = 0; j < m; ++j) std::copy(tmp.data() + j * ld, tmp.data() + j * ld + dim_, out + (i + j) * dim_);
  }
}

void RqProbe::prepare(const float* qr, const float* cr, double qc, size_t dim, unsigned bits, bool l2) {
  double lo_d = std::numeric_limits<double>::infinity(), hi_d = -lo_d, sum = 0.0, most = 0.0;
  thread_local std::vector<double> s;
  s.resize(dim);
  for (size_t i = 0; i < dim; ++i) {
    s[i] = static_cast<double>(qr[i]) - cr[i];
    sum += s[i];
    lo_d = std::min(lo_d, s[i]);
    hi_d = std::max(hi_d, s[i]);
    most = std::max(most, std::abs(s[i]));
  }
  factor = l2 ? 2.0f : 1.0f;
  base = clamp_to_float(factor * qc);
  ssum = clamp_to_float(sum);
  if (bits == 4) {
    const double alpha = most > 0.0 ? most / 127.0 : 1.0, inv = 1.0 / alpha;
    w.assign(rq4_pairs(dim) * 8, 0);
    for (size_t i = 0; i < dim; ++i) w[i] = static_cast<int8_t>(round_int(std::clamp(s[i] * inv, -127.0, 127.0)));
    lo = 0.0f;
    delta = clamp_to_float(alpha);
  } else {
    const size_t words = rq1_words(dim);
    const double step = hi_d > lo_d ? (hi_d - lo_d) / 15.0 : 1.0, inv = 1.0 / step;
    planes.assign(4 * words, 0);
    for (size_t i = 0; i < dim; ++i) {
      const int v = round_int(std::clamp((s[i] - lo_d) * inv, 0.0, 15.0));
      for (unsigned j = 0; j < 4; ++j)
        if ((v >> j) & 1) planes[j * words + i / 64] |= uint64_t(1) << (i % 64);
    }
    lo = clamp_to_float(lo_d);
    delta = clamp_to_float(step);
  }
}

void rq_scores(const RqProbe& p, const int32_t* dots, const RqCodeStore& codes, size_t n, float* out) {
  const float* scale = codes.scale();
  const float* bias = codes.bias();
  const float levels = codes.bits() == 4 ? 15.0f : 1.0f;
  const float tail = levels * p.ssum;
  if (codes.bits() == 4) {
    for (size_t j = 0; j < n; ++j)
      out[j] = p.base + p.factor * scale[j] * (2.0f * p.delta * static_cast<float>(dots[j]) - tail) + bias[j];
  } else {
    const float* ones = codes.ones();
    for (size_t j = 0; j < n; ++j)
      out[j] = p.base +
               p.factor * scale[j] * (2.0f * (p.lo * ones[j] + p.delta * static_cast<float>(dots[j])) - tail) +
               bias[j];
  }
  // An overflow (extreme vectors) must not drop a vector from the scan.
  for (size_t j = 0; j < n; ++j)
    if (!std::isfinite(out[j])) out[j] = std::isnan(out[j]) ? -std::numeric_limits<float>::max()
                                                           : clamp_to_float(static_cast<double>(out[j]));
}

RqCodeStore::RqCodeStore(size_t dim, unsigned bits, bool l2, size_t size, PodStorage<uint8_t> codes,
                         PodStorage<float> scale, PodStorage<float> bias, PodStorage<float> ones)
    : dim_(dim), bits_(bits), l2_(l2), block_bytes_(rq_block_bytes(dim, bits)), size_(size),
      codes_(std::move(codes)), scale_(std::move(scale)), bias_(std::move(bias)), ones_(std::move(ones)) {
  if (codes_.size() != blocks_for(size) * block_bytes_ || scale_.size() < size || bias_.size() < size ||
      (bits == 1 && ones_.size() < size))
    throw Error(ErrorCode::Internal, "rq code arrays do not match the list size");
}

void RqCodeStore::reserve(size_t n) {
  const size_t nb = blocks_for(n);
  PodBuffer<uint8_t>& codes = codes_.owned();
  if (nb * block_bytes_ <= codes.capacity()) return;
  const size_t want = std::max(nb, blocks_for(size_) + blocks_for(size_) / 2);
  codes.reserve(want * block_bytes_);
  scale_.owned().reserve(want * kBlock);
  bias_.owned().reserve(want * kBlock);
  if (bits_ == 1) ones_.owned().reserve(want * kBlock);
}

void RqCodeStore::set_code(size_t slot, size_t i, unsigned v) {
  uint8_t* blk = codes_.owned().data() + (slot / kBlock) * block_bytes_;
  const size_t lane = slot % kBlock;
  if (bits_ == 4) {
    uint8_t& b = blk[(i / 8) * 64 + lane * 4 + i % 4];
    const unsigned shift = (i % 8) < 4 ? 0 : 4;
    b = static_cast<uint8_t>((b & ~(0x0Fu << shift)) | ((v & 0x0Fu) << shift));
  } else {
    uint64_t* words = reinterpret_cast<uint64_t*>(blk);
    uint64_t& wd = words[(i / 64) * kBlock + lane];
    const uint64_t bit = uint64_t(1) << (i % 64);
    wd = v ? (wd | bit) : (wd & ~bit);
  }
}

unsigned RqCodeStore::get_code(size_t slot, size_t i) const {
  const uint8_t* blk = codes_.data() + (slot / kBlock) * block_bytes_;
  const size_t lane = slot % kBlock;
  if (bits_ == 4) return (blk[(i / 8) * 64 + lane * 4 + i % 4] >> ((i % 8) < 4 ? 0 : 4)) & 0x0Fu;
  const uint64_t* words = reinterpret_cast<const uint64_t*>(blk);
  return (words[(i / 64) * kBlock + lane] >> (i % 64)) & 1u;
}

void RqCodeStore::append(const float* x, const float* xr, size_t n, const float* c, const float* cr) {
  if (n == 0) return;
  reserve(size_ + n);
  codes_.owned().resize(blocks_for(size_ + n) * block_bytes_);
  scale_.owned().resize(size_ + n);
  bias_.owned().resize(size_ + n);
  if (bits_ == 1) ones_.owned().resize(size_ + n);
  const unsigned levels = (1u << bits_) - 1;
  std::vector<double> r(dim_);
  std::vector<unsigned> code(dim_), best(dim_);
  for (size_t j = 0; j < n; ++j) {
    const float* row = x + j * dim_;
    const float* rrow = xr + j * dim_;
    const size_t slot = size_ + j;
    double cres = 0.0, xx = 0.0, rr2 = 0.0, most = 0.0;
    for (size_t i = 0; i < dim_; ++i) {
      const double res = static_cast<double>(row[i]) - c[i];
      cres += static_cast<double>(c[i]) * res;
      xx += static_cast<double>(row[i]) * row[i];
      r[i] = static_cast<double>(rrow[i]) - cr[i];
      rr2 += r[i] * r[i];
      most = std::max(most, std::abs(r[i]));
    }
    double dot_ru = 0.0;  // <P r, u> of the chosen code
    if (bits_ == 1) {
      double ones = 0.0;
      for (size_t i = 0; i < dim_; ++i) {
        best[i] = r[i] >= 0.0 ? 1u : 0u;
        dot_ru += std::abs(r[i]);
        ones += best[i];
      }
      ones_.owned()[slot] = static_cast<float>(ones);
    } else {
      double best_cos = -1.0;
      for (double f : kRq4Fractions) {
        if (most == 0.0) break;
        const double step = 2.0 * most * f / (levels + 1), inv = 1.0 / step;
        const auto [ru, uu] = rq_round(r.data(), dim_, inv, (levels + 1) / 2.0, levels, code.data());
        const double cosv = ru / std::sqrt(uu);
        if (cosv > best_cos) {
          best_cos = cosv;
          best = code;
          dot_ru = ru;
        }
      }
      if (most == 0.0) std::fill(best.begin(), best.end(), levels / 2);
    }
    for (size_t i = 0; i < dim_; ++i) set_code(slot, i, best[i]);
    scale_.owned()[slot] = dot_ru > 0.0 ? clamp_to_float(rr2 / dot_ru) : 0.0f;
    bias_.owned()[slot] = clamp_to_float(l2_ ? 2.0 * cres - xx : cres);
  }
  size_ += n;
}

void RqCodeStore::remove_slot(size_t slot) {
  const size_t last = size_ - 1;
  for (size_t i = 0; i < dim_; ++i) {
    if (slot != last) set_code(slot, i, get_code(last, i));
    set_code(last, i, 0);
  }
  for (PodStorage<float>* a : {&scale_, &bias_, &ones_}) {
    if (a->size() == 0) continue;
    PodBuffer<float>& v = a->owned();
    v[slot] = v[last];
    v.resize(last);
  }
  size_ = last;
  codes_.owned().resize(blocks_for(size_) * block_bytes_);
}

}  // namespace semvec
