// RaBitQ-style codes (rq4, rq1): the rotation, the error of the estimates,
// code storage, and IVF indexes that use them.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <cstdio>

#include "distances.h"
#include "file_util.h"
#include "flat_index.h"
#include "harness.h"
#include "ivf_index.h"
#include "rabitq.h"
#include "util.h"

using namespace semvec;

namespace {

double dot(const float* a, const float* b, size_t d) {
  double s = 0;
  for (size_t i = 0; i < d; ++i) s += double(a[i]) * b[i];
  return s;
}

// Mean |estimate - exact| of <t, r> over all (query, vector) pairs, relative
// to ||t|| ||r||, for codes of `bits` bits (ip scores, bias removed).
double mean_relative_error(unsigned bits, size_t d) {
  const size_t n = 200, nq = 20;
  auto x = testutil::random_vectors(n, d, 3);
  auto q = testutil::random_vectors(nq, d, 4);
  auto c = testutil::random_vectors(1, d, 5);
  for (float& v : c) v *= 0.5f;
  Rotation rot(d, 11);
  std::vector<float> xr(n * d), qr(nq * d), cr(d);
  rot.apply(x.data(), n, xr.data());
  rot.apply(q.data(), nq, qr.data());
  rot.apply(c.data(), 1, cr.data());
  RqCodeStore store(d, bits, false);
  store.append(x.data(), xr.data(), n, c.data(), cr.data());
  const size_t nb = (n + kBlock - 1) / kBlock;
  std::vector<int32_t> dots(nb * kBlock);
  std::vector<float> est(nb * kBlock);
  double err = 0;
  for (size_t i = 0; i < nq; ++i) {
    RqProbe p;
    const double qc = dot(q.data() + i * d, c.data(), d);
    p.prepare(qr.data() + i * d, cr.data(), qc, d, bits, false);
    if (bits == 4)
      kernels().rq4_dots(p.w.data(), store.codes(), nb, rq4_pairs(d), dots.data());
    else
      kernels().rq1_dots(p.planes.data(), reinterpret_cast<const uint64_t*>(store.codes()), nb, rq1_words(d),
                         dots.data());
    rq_scores(p, dots.data(), store, n, est.data());
    for (size_t j = 0; j < n; ++j) {
      double tr = 0, tt = 0, rr = 0;
      for (size_t k = 0; k < d; ++k) {
        const double t = double(q[i * d + k]) - c[k], r = double(x[j * d + k]) - c[k];
        tr += t * r, tt += t * t, rr += r * r;
      }
      const double exact = qc + tr + store.bias()[j];
      err += std::abs(double(est[j]) - exact) / std::sqrt(tt * rr);
    }
  }
  return err / double(n * nq);
}

// Recall@k of `got` against `want` (nq * k ids each).
double recall(const std::vector<uint64_t>& got, const std::vector<uint64_t>& want, size_t nq, size_t k) {
  size_t hit = 0;
  for (size_t i = 0; i < nq; ++i) {
    std::set<uint64_t> w(want.begin() + i * k, want.begin() + (i + 1) * k);
    for (size_t j = 0; j < k; ++j) hit += w.count(got[i * k + j]);
  }
  return double(hit) / double(nq * k);
}

std::unique_ptr<IvfIndex> trained(IvfEncoding e, Metric m, size_t d, const std::vector<float>& x, size_t n) {
  auto ix = std::make_unique<IvfIndex>(d, m, 8, 8, e, 64);
  ix->train(x.data(), n, IvfIndex::training_defaults());
  ix->add(x.data(), n, nullptr);
  return ix;
}

}  // namespace

TEST("rabitq: the rotation keeps norms and inner products") {
  for (size_t d : {1, 7, 64, 384}) {
    auto x = testutil::random_vectors(4, d, 9);
    std::vector<float> y(4 * d);
    Rotation(d, 1).apply(x.data(), 4, y.data());
    for (size_t i = 0; i < 4; ++i)
      for (size_t j = 0; j < 4; ++j)
        CHECK_NEAR(dot(y.data() + i * d, y.data() + j * d, d), dot(x.data() + i * d, x.data() + j * d, d),
                   1e-3 * (1 + std::abs(dot(x.data() + i * d, x.data() + j * d, d))));
  }
}

TEST("rabitq: estimates of 4-bit codes err by < 2% of |t||r| and 1-bit codes by < 8% at d = 384") {
  const double e4 = mean_relative_error(4, 384), e1 = mean_relative_error(1, 384);
  std::printf("    rq4 mean relative error %.4f, rq1 %.4f\n", e4, e1);
  CHECK(e4 < 0.02);
  CHECK(e1 < 0.08);
  CHECK(e4 < e1);
  // Dims that leave 3 and 1 components to the scalar tail of the rounding.
  const double e4_387 = mean_relative_error(4, 387), e4_9 = mean_relative_error(4, 9);
  std::printf("    rq4 at d = 387 %.4f, at d = 9 %.4f\n", e4_387, e4_9);
  CHECK(e4_387 < 0.02);
  CHECK(e4_9 < 0.05);
}

TEST("rabitq: removing a slot keeps the other codes and their factors") {
  for (unsigned bits : {4u, 1u}) {
    const size_t d = 70, n = 40;
    auto x = testutil::random_vectors(n, d, 12);
    std::vector<float> c(d, 0.0f), cr(d, 0.0f), xr(n * d);
    Rotation rot(d, 2);
    rot.apply(x.data(), n, xr.data());
    RqCodeStore a(d, bits, true), b(d, bits, true);
    a.append(x.data(), xr.data(), n, c.data(), cr.data());
    a.remove_slot(5);  // the last one moves to 5
    std::vector<float> y(x), yr(xr);
    std::copy(x.begin() + (n - 1) * d, x.end(), y.begin() + 5 * d);
    std::copy(xr.begin() + (n - 1) * d, xr.end(), yr.begin() + 5 * d);
    b.append(y.data(), yr.data(), n - 1, c.data(), cr.data());
    CHECK_EQ(a.size(), n - 1);
    const size_t bytes = (n + kBlock - 1) / kBlock * rq_block_bytes(d, bits);
    CHECK(std::equal(a.codes(), a.codes() + bytes, b.codes()));
    for (size_t j = 0; j < n - 1; ++j) {
      CHECK_EQ(a.scale()[j], b.scale()[j]);
      CHECK_EQ(a.bias()[j], b.bias()[j]);
    }
  }
}

TEST("rabitq: rq4 and rq1 IVF indexes with re-ranking find the exact neighbours, every metric, allow-lists too") {
  const size_t d = 48, n = 2000, nq = 20, k = 10;
  auto x = testutil::random_vectors(n, d, 21);
  auto q = testutil::random_vectors(nq, d, 22);
  for (Metric m : {Metric::L2, Metric::InnerProduct, Metric::Cosine}) {
    FlatIndex flat(d, m);
    flat.add(x.data(), n, nullptr);
    const SearchResults want = flat.search(q.data(), nq, k);
    for (IvfEncoding e : {IvfEncoding::Rq4, IvfEncoding::Rq1}) {
      auto ix = trained(e, m, d, x, n);
      IvfSearchParams all;
      all.nprobe = 8;
      // Random vectors are the hard case for 1-bit codes: rq1 re-ranks half.
      all.rerank = e == IvfEncoding::Rq4 ? 400 : 1000;
      const SearchResults got = ix->search(q.data(), nq, k, all);
      const double r = recall(got.ids, want.ids, nq, k);
      if (r < 0.97) std::printf("    %s %s recall %.3f\n", ivf_encoding_name(e), metric_name(m), r);
      CHECK(r >= 0.97);
      for (size_t j = 0; j < nq * k; ++j) CHECK(got.ids[j] < n);
      // Without re-ranking, scores are estimates; recall is lower, not zero.
      IvfSearchParams est = all;
      est.rerank = 0;
      const double r0 = recall(ix->search(q.data(), nq, k, est).ids, want.ids, nq, k);
      std::printf("    %s %s estimates only: recall %.3f\n", ivf_encoding_name(e), metric_name(m), r0);
      CHECK(r0 > (e == IvfEncoding::Rq4 ? 0.5 : 0.1));
      CHECK(r0 <= r);
      // An allow-list: only the even ids.
      std::vector<uint64_t> even;
      for (uint64_t i = 0; i < n; i += 2) even.push_back(i);
      IvfSearchParams filtered = all;
      filtered.allow = even.data();
      filtered.n_allow = even.size();
      const SearchResults f = ix->search(q.data(), nq, k, filtered);
      CHECK_EQ(f.k, k);
      for (uint64_t id : f.ids) CHECK(id % 2 == 0);
    }
  }
}

TEST("rabitq: removed vectors are gone and every other one is still found by a search for itself") {
  const size_t d = 33, n = 600;
  auto x = testutil::random_vectors(n, d, 31);
  for (IvfEncoding e : {IvfEncoding::Rq4, IvfEncoding::Rq1}) {
    auto ix = trained(e, Metric::L2, d, x, n);
    std::vector<uint64_t> gone;
    for (uint64_t i = 0; i < n; i += 3) gone.push_back(i);
    CHECK_EQ(ix->remove(gone.data(), gone.size()), gone.size());
    CHECK_EQ(ix->size(), n - gone.size());
    IvfSearchParams p;
    p.nprobe = 8;
    const SearchResults r = ix->search(x.data(), n, 1, p);
    for (size_t i = 0; i < n; ++i)
      if (i % 3 != 0) CHECK_EQ(r.ids[i], uint64_t(i));
      else CHECK(r.ids[i] != uint64_t(i));
  }
}

TEST("rabitq: rq indexes refuse dims above kMaxRqDim") {
  CHECK_THROWS_CODE(IvfIndex(kMaxRqDim + 1, Metric::L2, 4, 1, IvfEncoding::Rq4), ErrorCode::InvalidArgument);
  CHECK_THROWS_CODE(IvfIndex(kMaxRqDim + 1, Metric::L2, 4, 1, IvfEncoding::Rq1), ErrorCode::InvalidArgument);
}

TEST("rabitq: rq indexes saved as format 4.0 load and open to the same results, and 3.0 stays for f32 and sq8") {
  const size_t d = 40, n = 700, nq = 12, k = 5;
  auto x = testutil::random_vectors(n, d, 51);
  auto q = testutil::random_vectors(nq, d, 52);
  for (IvfEncoding e : {IvfEncoding::Rq4, IvfEncoding::Rq1})
    for (Metric m : {Metric::L2, Metric::Cosine}) {
      auto ix = trained(e, m, d, x, n);
      std::vector<uint64_t> gone = {3, 5, 100};
      ix->remove(gone.data(), gone.size());
      const std::string path = testutil::temp_path("rq.svx");
      ix->save(path);
      auto loaded = IvfIndex::load(path);
      auto mapped = IvfIndex::open(path);
      CHECK(mapped->read_only());
      CHECK(loaded->encoding() == e);
      for (size_t rerank : {size_t(0), size_t(50)}) {
        IvfSearchParams p;
        p.nprobe = 3;
        p.rerank = rerank;
        const SearchResults a = ix->search(q.data(), nq, k, p);
        const SearchResults b = loaded->search(q.data(), nq, k, p);
        const SearchResults c = mapped->search(q.data(), nq, k, p);
        CHECK(a.ids == b.ids);
        CHECK(a.ids == c.ids);
        CHECK(a.scores == b.scores);
        CHECK(a.scores == c.scores);
      }
      // A writable companion scores new vectors as the original would.
      auto companion = mapped->empty_like();
      companion->add(x.data(), 50, nullptr);
      CHECK_EQ(companion->size(), size_t(50));
      const std::vector<unsigned char> b = testutil::bytes_of(*ix);
      CHECK_EQ(testutil::get<uint16_t>(b, 8), uint16_t(4));
      std::remove(path.c_str());
    }
  auto f32 = trained(IvfEncoding::F32, Metric::L2, d, x, n);
  auto sq8 = trained(IvfEncoding::Sq8, Metric::L2, d, x, n);
  CHECK_EQ(testutil::get<uint16_t>(testutil::bytes_of(*f32), 8), uint16_t(3));
  CHECK_EQ(testutil::get<uint16_t>(testutil::bytes_of(*sq8), 8), uint16_t(3));
}

TEST("codes-only: a mapped sq8 or rq index keeps codes, ids and centroids in memory and reads floats from the file") {
  const size_t d = 32, n = 900, nq = 10, k = 5;
  auto x = testutil::random_vectors(n, d, 61);
  auto q = testutil::random_vectors(nq, d, 62);
  for (IvfEncoding e : {IvfEncoding::Sq8, IvfEncoding::Rq4, IvfEncoding::Rq1}) {
    auto ix = trained(e, Metric::L2, d, x, n);
    const std::string path = testutil::temp_path("codes-only.svx");
    ix->save(path);
    auto mapped = IvfIndex::open(path);
    const IvfIndex::MemoryParts before = mapped->memory_parts();
    CHECK_EQ(before.codes, size_t(0));
    mapped->keep_codes_in_memory();
    const IvfIndex::MemoryParts p = mapped->memory_parts(), full = ix->memory_parts();
    CHECK(p.codes > 0);
    CHECK(p.ids > 0);
    CHECK_EQ(p.floats, size_t(0));
    CHECK_EQ(p.floats_mapped, n * d * sizeof(float));
    CHECK(full.floats >= n * d * sizeof(float));
    CHECK_EQ(full.floats_mapped, size_t(0));
    CHECK(mapped->read_only());
    IvfSearchParams sp;
    sp.nprobe = 4;
    CHECK(mapped->search(q.data(), nq, k, sp).ids == ix->search(q.data(), nq, k, sp).ids);
    std::remove(path.c_str());
  }
  auto f32 = trained(IvfEncoding::F32, Metric::L2, d, x, n);
  CHECK_THROWS_CODE(f32->keep_codes_in_memory(), ErrorCode::InvalidArgument);  // not mapped
  const std::string path = testutil::temp_path("codes-only-f32.svx");
  f32->save(path);
  CHECK_THROWS_CODE(IvfIndex::open(path)->keep_codes_in_memory(), ErrorCode::InvalidArgument);  // f32
  std::remove(path.c_str());
}

TEST("rabitq: a format-3 file claiming an rq encoding, a 4.0 file claiming f32, and damaged rq sections are ERR_CORRUPT_FILE") {
  const size_t d = 16;
  auto x = testutil::random_vectors(200, d, 71);
  auto rq = trained(IvfEncoding::Rq1, Metric::L2, d, x, 200);
  const std::vector<unsigned char> b = testutil::bytes_of(*rq);
  CHECK(IvfIndex::deserialize(b.data(), b.size())->size() == 200);
  // Encoding field (payload offset 20): f32 in a 4.0 file.
  auto f32 = testutil::with_field<uint32_t>(b, 20, 0);
  CHECK_THROWS_CODE(IvfIndex::deserialize(f32.data(), f32.size()), ErrorCode::CorruptFile);
  // Major 3 with an rq encoding.
  auto v3 = b;
  testutil::put<uint16_t>(v3, 8, 3);
  testutil::reseal(v3);
  CHECK_THROWS_CODE(IvfIndex::deserialize(v3.data(), v3.size()), ErrorCode::CorruptFile);
  // A NaN scale: load refuses it.
  auto nan = b;
  testutil::put<float>(nan, testutil::section_at(nan, SectionTag::RqScale), std::nanf(""));
  testutil::reseal(nan);
  CHECK_THROWS_MSG(IvfIndex::deserialize(nan.data(), nan.size()), ErrorCode::CorruptFile, "rq scale");
  // Truncated.
  CHECK_THROWS_CODE(IvfIndex::deserialize(b.data(), b.size() - 9), ErrorCode::CorruptFile);
}

TEST("format 4.0: a flat index claiming format 4.0 is ERR_CORRUPT_FILE (4.0 holds only rq IVF indexes)") {
  FlatIndex flat(4, Metric::L2);
  auto x = testutil::random_vectors(10, 4, 81);
  flat.add(x.data(), 10, nullptr);
  auto b = testutil::bytes_of(flat);
  testutil::put<uint16_t>(b, 8, 4);
  testutil::reseal(b);
  CHECK_THROWS_MSG(FlatIndex::deserialize(b.data(), b.size()), ErrorCode::CorruptFile, "flat indexes are 3.0");
}

TEST("rabitq: a query so large that its rotation overflows searches without undefined behaviour (checked under UBSan)") {
  const size_t d = 40, n = 300;
  auto x = testutil::random_vectors(n, d, 37);
  for (IvfEncoding e : {IvfEncoding::Rq4, IvfEncoding::Rq1})
    for (Metric m : {Metric::L2, Metric::InnerProduct}) {
      auto ix = trained(e, m, d, x, n);
      std::vector<float> q(d, std::numeric_limits<float>::max());
      for (size_t c = 1; c < d; c += 2) q[c] = -std::numeric_limits<float>::max();
      IvfSearchParams p;
      p.nprobe = 8;
      const SearchResults r = ix->search(q.data(), 1, 5, p);
      CHECK(r.ids.size() <= 5);
    }
}
