// Indexes mapped from format-3 files (open, open_image): the same results
// as loaded ones, read-only, checked against the file, never reading
// outside it; format 3 bytes round trip, and older formats still load.
#include <cmath>
#include <cstdio>
#include <thread>

#include "file_util.h"
#include "flat_index.h"
#include "harness.h"
#include "ivf_index.h"
#include "legacy_files.h"
#include "util.h"

using namespace semvec;
using testutil::bytes_of;

namespace {

const Metric kMetrics[] = {Metric::InnerProduct, Metric::Cosine, Metric::L2};

bool same(const SearchResults& a, const SearchResults& b) {
  return a.nq == b.nq && a.k == b.k && a.ids == b.ids && a.scores == b.scores && a.counts == b.counts;
}

std::unique_ptr<FlatIndex> flat_with(Metric m, size_t n, size_t d, uint32_t seed) {
  auto ix = std::make_unique<FlatIndex>(d, m);
  auto x = testutil::random_vectors(n, d, seed);
  std::vector<uint64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = 5 * i + 3;
  ix->add(x.data(), n, ids.data());
  std::vector<uint64_t> gone = {8, 13, 5 * (n - 1) + 3};
  ix->remove(gone.data(), gone.size());
  return ix;
}

std::unique_ptr<IvfIndex> ivf_with(Metric m, IvfEncoding e, size_t n, size_t d, uint32_t seed) {
  auto ix = std::make_unique<IvfIndex>(d, m, 16, 3, e, 20);
  auto x = testutil::random_vectors(n, d, seed);
  ix->train(x.data(), n, KMeansParams());
  std::vector<uint64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = 7 * i + 1;
  ix->add(x.data(), n, ids.data());
  std::vector<uint64_t> gone = {8, 15, 7 * (n - 1) + 1};
  ix->remove(gone.data(), gone.size());
  return ix;
}

// An allow-list: every third id, some absent ones, a repeat.
std::vector<uint64_t> allow_list(size_t n, uint64_t step, uint64_t first) {
  std::vector<uint64_t> a;
  for (size_t i = 0; i < n; i += 3) a.push_back(step * i + first);
  a.push_back(999999);
  a.push_back(first);
  return a;
}

}  // namespace

TEST("mapped: a flat index opened from a file searches exactly as the loaded one, every metric, allow-lists too") {
  const size_t n = 700, d = 19;
  const std::string path = testutil::temp_path("mapped-flat.svx");
  for (Metric m : kMetrics) {
    auto ix = flat_with(m, n, d, 3);
    ix->save(path);
    auto loaded = FlatIndex::load(path);
    for (bool verify : {true, false}) {
      auto mapped = FlatIndex::open(path, verify);
      CHECK(mapped->read_only());
      CHECK(!loaded->read_only());
      CHECK_EQ(mapped->size(), loaded->size());
      CHECK_EQ(mapped->next_id(), loaded->next_id());
      auto q = testutil::random_vectors(9, d, 4);
      const auto allow = allow_list(n, 5, 3);
      for (size_t nq : {size_t(1), size_t(9)}) {
        CHECK(same(mapped->search(q.data(), nq, 10), loaded->search(q.data(), nq, 10)));
        CHECK(same(mapped->search(q.data(), nq, 10, allow.data(), allow.size()),
                   loaded->search(q.data(), nq, 10, allow.data(), allow.size())));
        CHECK(same(mapped->search(q.data(), nq, n, nullptr, 0), ix->search(q.data(), nq, n, nullptr, 0)));
      }
      std::vector<float> a(d), b(d);
      for (uint64_t id : {uint64_t(3), uint64_t(18), uint64_t(5 * 400 + 3)}) {
        CHECK(mapped->contains(id));
        mapped->reconstruct(id, a.data());
        loaded->reconstruct(id, b.data());
        CHECK(a == b);
      }
      for (uint64_t id : {uint64_t(8), uint64_t(4), kMaxId}) CHECK(!mapped->contains(id));
      CHECK_THROWS_CODE(mapped->reconstruct(8, a.data()), ErrorCode::NotFound);
      // Saving a mapped index writes the very bytes it maps.
      CHECK(bytes_of(*mapped) == bytes_of(*loaded));
    }
  }
  std::remove(path.c_str());
}

TEST("mapped: IVF indexes (f32, sq8) opened from a file search exactly as loaded ones, every metric, allow-lists too") {
  const size_t n = 900, d = 13;
  const std::string path = testutil::temp_path("mapped-ivf.svx");
  for (IvfEncoding e : {IvfEncoding::F32, IvfEncoding::Sq8})
    for (Metric m : kMetrics) {
      ivf_with(m, e, n, d, 5)->save(path);
      auto loaded = IvfIndex::load(path);
      auto mapped = IvfIndex::open(path);
      CHECK(mapped->read_only());
      CHECK(mapped->list_sizes() == loaded->list_sizes());
      CHECK(mapped->centroids() == loaded->centroids());
      CHECK_EQ(mapped->rerank(), size_t(20));
      auto q = testutil::random_vectors(7, d, 6);
      const auto allow = allow_list(n, 7, 1);
      for (size_t nprobe : {size_t(1), size_t(3), size_t(16)})
        for (size_t rerank : {size_t(0), size_t(5), size_t(64)}) {
          IvfSearchParams p{nprobe, rerank, nullptr, 0};
          CHECK(same(mapped->search(q.data(), 7, 10, p), loaded->search(q.data(), 7, 10, p)));
          CHECK(same(mapped->search(q.data(), 1, 10, p), loaded->search(q.data(), 1, 10, p)));
          p.allow = allow.data();
          p.n_allow = allow.size();
          CHECK(same(mapped->search(q.data(), 7, 10, p), loaded->search(q.data(), 7, 10, p)));
        }
      std::vector<float> a(d), b(d);
      mapped->reconstruct(1, a.data());
      loaded->reconstruct(1, b.data());
      CHECK(a == b);
      CHECK(!mapped->contains(8));
      CHECK(bytes_of(*mapped) == bytes_of(*loaded));
    }
  std::remove(path.c_str());
}

TEST("mapped: concurrent searches from threads, and the mapping outlives the caller's last reference") {
  const size_t n = 2000, d = 24;
  const std::string path = testutil::temp_path("mapped-threads.svx");
  ivf_with(Metric::L2, IvfEncoding::Sq8, n, d, 7)->save(path);
  const auto expected = IvfIndex::load(path);
  auto q = testutil::random_vectors(16, d, 8);
  const SearchResults want = expected->search(q.data(), 16, 10);
  std::shared_ptr<IvfIndex> mapped = IvfIndex::open(path, false);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([held = mapped, &q, &want, &ok, t] {
      for (int i = 0; i < 20; ++i) ok[t] += same(held->search(q.data(), 16, 10), want);
    });
  mapped.reset();  // the threads hold the index, and the index the mapping
  std::remove(path.c_str());
  for (auto& th : threads) th.join();
  for (int v : ok) CHECK_EQ(v, 20);
}

TEST("mapped: add, remove and train are ERR_READ_ONLY and change nothing; nprobe and rerank may change") {
  const size_t n = 300, d = 6;
  const std::string path = testutil::temp_path("mapped-readonly.svx");
  auto x = testutil::random_vectors(4, d, 9);
  const uint64_t id = 3;
  flat_with(Metric::L2, n, d, 10)->save(path);
  auto flat = FlatIndex::open(path);
  CHECK_THROWS_MSG(flat->add(x.data(), 1, nullptr), ErrorCode::ReadOnly, "read-only");
  CHECK_THROWS_CODE(flat->add(x.data(), 0, nullptr), ErrorCode::ReadOnly);
  CHECK_THROWS_CODE(flat->remove(&id, 1), ErrorCode::ReadOnly);
  CHECK_EQ(flat->size(), n - 3);
  CHECK(flat->contains(3));
  ivf_with(Metric::L2, IvfEncoding::Sq8, n, d, 11)->save(path);
  auto ivf = IvfIndex::open(path);
  const uint64_t ivf_id = 1;
  CHECK_THROWS_CODE(ivf->add(x.data(), 1, nullptr), ErrorCode::ReadOnly);
  CHECK_THROWS_CODE(ivf->remove(&ivf_id, 1), ErrorCode::ReadOnly);
  CHECK_THROWS_CODE(ivf->train(x.data(), 4, KMeansParams()), ErrorCode::ReadOnly);
  CHECK_EQ(ivf->size(), n - 3);
  ivf->set_nprobe(16);
  ivf->set_rerank(0);
  CHECK_EQ(ivf->nprobe(), size_t(16));
  CHECK_EQ(ivf->search(x.data(), 1, 5).k, size_t(5));
  std::remove(path.c_str());
}

TEST("mapped: memory_usage counts heap bytes only, mapped_bytes the file") {
  const size_t n = 5000, d = 32;
  const std::string path = testutil::temp_path("mapped-memory.svx");
  auto ix = flat_with(Metric::InnerProduct, n, d, 12);
  ix->save(path);
  auto mapped = FlatIndex::open(path, false);
  const auto loaded = FlatIndex::load(path);
  const size_t file = bytes_of(*ix).size();
  CHECK_EQ(mapped->mapped_bytes(), file);
  CHECK_EQ(loaded->mapped_bytes(), size_t(0));
  CHECK(loaded->memory_usage() > n * d * sizeof(float));
  CHECK(mapped->memory_usage() < 1024);
  ivf_with(Metric::L2, IvfEncoding::Sq8, n, d, 13)->save(path);
  auto ivf = IvfIndex::open(path, false);
  CHECK(ivf->memory_usage() < 16 * 1024);  // 16 list objects, no arrays
  CHECK(ivf->mapped_bytes() > n * d * sizeof(float));
  std::remove(path.c_str());
}

TEST("mapped: a file replaced by a save keeps serving the index it held when opened") {
  const size_t n = 400, d = 8;
  const std::string path = testutil::temp_path("mapped-replaced.svx");
  flat_with(Metric::Cosine, n, d, 14)->save(path);
  auto mapped = FlatIndex::open(path);
  auto q = testutil::random_vectors(3, d, 15);
  const SearchResults before = mapped->search(q.data(), 3, 10);
  flat_with(Metric::Cosine, n, d, 16)->save(path);  // other vectors, same ids
  CHECK(same(mapped->search(q.data(), 3, 10), before));
  CHECK(!same(FlatIndex::open(path)->search(q.data(), 3, 10), before));
  std::remove(path.c_str());
  CHECK(same(mapped->search(q.data(), 3, 10), before));
}

TEST("mapped: formats 1.0 and 2.0 are ERR_UNSUPPORTED_VERSION saying to load them; load reads them as 3.0") {
  const size_t d = 5;
  auto flat = flat_with(Metric::L2, 100, d, 17);
  const auto flat3 = bytes_of(*flat), flat1 = testutil::legacy_flat(flat3);
  CHECK_EQ(testutil::get<uint16_t>(flat1, 8), uint16_t(1));
  CHECK_THROWS_MSG(FlatIndex::open_image(FileMapping::borrow(flat1.data(), flat1.size())),
                   ErrorCode::UnsupportedVersion, "format 1.0 cannot be mapped");
  CHECK(bytes_of(*FlatIndex::deserialize(flat1.data(), flat1.size())) == flat3);
  for (IvfEncoding e : {IvfEncoding::F32, IvfEncoding::Sq8}) {
    auto ivf = ivf_with(Metric::InnerProduct, e, 300, d, 18);
    const auto v3 = bytes_of(*ivf), old = testutil::legacy_ivf(v3);
    CHECK_EQ(testutil::get<uint16_t>(old, 8), uint16_t(e == IvfEncoding::Sq8 ? 2 : 1));
    CHECK_THROWS_MSG(IvfIndex::open_image(FileMapping::borrow(old.data(), old.size())), ErrorCode::UnsupportedVersion,
                     "load() it");
    auto back = IvfIndex::deserialize(old.data(), old.size());
    auto q = testutil::random_vectors(4, d, 19);
    CHECK(same(back->search(q.data(), 4, 10), ivf->search(q.data(), 4, 10)));
    // An f32 file of format 1.0 stored no rerank: it loads with the default
    // (64), not this index's 20.
    if (e == IvfEncoding::Sq8) CHECK(bytes_of(*back) == v3);
    if (e == IvfEncoding::F32) CHECK_EQ(back->rerank(), kDefaultRerank);
  }
  CHECK_THROWS_CODE(FlatIndex::open(testutil::temp_path("missing.svx")), ErrorCode::NotFound);
  CHECK_THROWS_CODE(FlatIndex::open("/tmp"), ErrorCode::Io);
  auto ivf_bytes = bytes_of(*ivf_with(Metric::L2, IvfEncoding::F32, 100, d, 20));
  CHECK_THROWS_CODE(FlatIndex::open_image(FileMapping::borrow(ivf_bytes.data(), ivf_bytes.size())),
                    ErrorCode::WrongKind);
}

TEST("mapped: every truncation and every bit flip is ERR_CORRUPT_FILE with verify; without, the structure is still checked") {
  const size_t d = 4;
  std::vector<std::vector<unsigned char>> files = {bytes_of(*flat_with(Metric::L2, 40, d, 21)),
                                                   bytes_of(*ivf_with(Metric::L2, IvfEncoding::Sq8, 60, d, 22))};
  auto open = [](const std::vector<unsigned char>& b, size_t size, bool verify) {
    if (testutil::get<uint32_t>(b, 12) == 1) {
      auto ix = FlatIndex::open_image(FileMapping::borrow(b.data(), size), verify);
      std::vector<float> q(ix->dim(), 1.0f);
      return ix->search(q.data(), 1, 5).k;
    }
    auto ix = IvfIndex::open_image(FileMapping::borrow(b.data(), size), verify);
    std::vector<float> q(ix->dim(), 1.0f);
    return ix->search(q.data(), 1, 5, IvfSearchParams{ix->nlist(), std::nullopt, nullptr, 0}).k;
  };
  for (const auto& good : files) {
    for (size_t cut = 0; cut < good.size(); cut += 5)
      for (bool verify : {true, false}) CHECK_THROWS_CODE(open(good, cut, verify), ErrorCode::CorruptFile);
    size_t structure_caught = 0, data_flips = 0;
    for (size_t byte = 0; byte < good.size(); ++byte) {
      if (byte == 8 || byte == 9) continue;  // the major version has its own code
      auto bad = good;
      bad[byte] ^= uint8_t(1u << (byte % 8));
      CHECK_THROWS_CODE(open(bad, bad.size(), true), ErrorCode::CorruptFile);
      // Without verify: refused when the flip is in the structure; else it
      // opens and searches (its contents are trusted), never past the file.
      try {
        open(bad, bad.size(), false);
        ++data_flips;
      } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::CorruptFile);
        ++structure_caught;
      }
    }
    CHECK(structure_caught > 64 && data_flips > 64);
  }
}

TEST("mapped: without verify, non-finite vectors and a damaged id table search without crashing; verify refuses them") {
  const size_t n = 200, d = 6;
  for (bool is_flat : {true, false}) {
    auto good = is_flat ? bytes_of(*flat_with(Metric::L2, n, d, 23)) : bytes_of(*ivf_with(Metric::L2, IvfEncoding::Sq8, n, d, 24));
    auto bad = good;
    const uint64_t vectors = testutil::section_at(bad, is_flat ? SectionTag::Vectors : SectionTag::ListVectors);
    for (size_t i = 0; i < 3 * d; ++i) testutil::put<float>(bad, vectors + 4 * i, i % 2 ? NAN : INFINITY);
    const uint64_t table = testutil::section_at(bad, SectionTag::IdTable);
    for (uint64_t at = table; at < table + 16 * 40; at += 16) testutil::put<uint64_t>(bad, at + 8, ~uint64_t(0) - at);
    testutil::reseal(bad);
    auto q = testutil::random_vectors(2, d, 25);
    std::vector<uint64_t> allow(n);
    for (size_t i = 0; i < n; ++i) allow[i] = i;
    const auto image = FileMapping::borrow(bad.data(), bad.size());
    if (is_flat) {
      CHECK_THROWS_CODE(FlatIndex::open_image(image, true), ErrorCode::CorruptFile);
      CHECK_THROWS_CODE(FlatIndex::deserialize(bad.data(), bad.size()), ErrorCode::CorruptFile);
      auto ix = FlatIndex::open_image(image, false);
      const SearchResults r = ix->search(q.data(), 2, n);
      for (float s : r.scores) CHECK(s == s);
      CHECK(!r.counts.empty() && r.counts[0] < n);  // NaN scores dropped, the rest not padded
      ix->search(q.data(), 2, 10, allow.data(), allow.size());
      for (uint64_t id = 0; id < 2000; ++id) ix->contains(id);
    } else {
      CHECK_THROWS_CODE(IvfIndex::open_image(image, true), ErrorCode::CorruptFile);
      CHECK_THROWS_CODE(IvfIndex::deserialize(bad.data(), bad.size()), ErrorCode::CorruptFile);
      auto ix = IvfIndex::open_image(image, false);
      for (size_t rerank : {size_t(0), size_t(50)}) {
        const SearchResults r = ix->search(q.data(), 2, n, IvfSearchParams{16, rerank, nullptr, 0});
        for (float s : r.scores) CHECK(s == s);
        ix->search(q.data(), 2, 10, IvfSearchParams{2, rerank, allow.data(), allow.size()});
      }
      for (uint64_t id = 0; id < 2000; ++id) ix->contains(id);
    }
  }
}

TEST("mapped: centroid ids other than 0..nlist-1 are refused even without verify") {
  auto b = bytes_of(*ivf_with(Metric::InnerProduct, IvfEncoding::F32, 200, 4, 26));
  const uint64_t ids = testutil::section_at(b, SectionTag::CentroidIds);
  testutil::put<uint64_t>(b, ids + 8 * 3, 1u << 20);
  testutil::reseal(b);
  CHECK_THROWS_MSG(IvfIndex::open_image(FileMapping::borrow(b.data(), b.size()), false), ErrorCode::CorruptFile,
                   "centroid ids");
}

TEST("mapped: sections that disagree with the fields, or a list size past the count, are refused without verify") {
  auto good = bytes_of(*ivf_with(Metric::L2, IvfEncoding::Sq8, 300, 5, 27));
  const uint64_t table = kHeaderBytes + 48;
  for (size_t entry = 0; entry < 13; ++entry)
    for (size_t field : {size_t(0), size_t(8), size_t(16)}) {
      auto b = good;
      const size_t at = table + 8 + 24 * entry + field;
      testutil::put<uint64_t>(b, at, testutil::get<uint64_t>(b, at) + (field == 0 ? 1 : 64));
      testutil::reseal(b);
      CHECK_THROWS_CODE(IvfIndex::open_image(FileMapping::borrow(b.data(), b.size()), false), ErrorCode::CorruptFile);
    }
  const uint64_t sizes = testutil::section_at(good, SectionTag::ListSizes);
  for (uint64_t first : {testutil::get<uint64_t>(good, sizes) + 1, uint64_t(300), ~uint64_t(0)}) {
    auto b = good;
    testutil::put<uint64_t>(b, sizes, first);
    testutil::reseal(b);
    CHECK_THROWS_MSG(IvfIndex::open_image(FileMapping::borrow(b.data(), b.size()), false), ErrorCode::CorruptFile,
                     "list size");
  }
}

TEST("ivf: empty_like keeps settings and the very centroids; its vectors go to the lists they would go to in the original") {
  const size_t n = 600, d = 10;
  const std::string path = testutil::temp_path("empty-like.svx");
  for (IvfEncoding e : {IvfEncoding::F32, IvfEncoding::Sq8}) {
    ivf_with(Metric::Cosine, e, n, d, 28)->save(path);
    auto mapped = IvfIndex::open(path);
    mapped->set_nprobe(5);
    auto delta = mapped->empty_like();
    CHECK(!delta->read_only());
    CHECK_EQ(delta->size(), size_t(0));
    CHECK_EQ(delta->nlist(), mapped->nlist());
    CHECK_EQ(delta->nprobe(), size_t(5));
    CHECK(delta->encoding() == e);
    CHECK_EQ(delta->rerank(), mapped->rerank());
    CHECK_EQ(delta->next_id(), mapped->next_id());
    CHECK(delta->is_trained());
    CHECK(delta->centroids() == mapped->centroids());
    // Added to the delta and to a loaded copy of the original, new vectors
    // land in the same lists.
    auto copy = IvfIndex::load(path);
    const auto before = copy->list_sizes();
    auto x = testutil::random_vectors(200, d, 29);
    delta->add(x.data(), 200, nullptr);
    copy->add(x.data(), 200, nullptr);
    const auto after = copy->list_sizes(), in_delta = delta->list_sizes();
    for (size_t l = 0; l < after.size(); ++l) CHECK_EQ(after[l] - before[l], in_delta[l]);
    CHECK(delta->memory_usage() > 200 * d * sizeof(float));
  }
  IvfIndex untrained(4, Metric::L2, 8, 2, IvfEncoding::Sq8, 9);
  auto like = untrained.empty_like();
  CHECK(!like->is_trained());
  CHECK_EQ(like->rerank(), size_t(9));
  std::remove(path.c_str());
}

TEST("format 3: sections are 64-byte aligned, and every saved index round-trips byte for byte, loaded and mapped") {
  std::vector<std::vector<unsigned char>> files;
  for (Metric m : kMetrics) {
    files.push_back(bytes_of(*flat_with(m, 50, 3, 30)));
    files.push_back(bytes_of(FlatIndex(7, m)));
    for (IvfEncoding e : {IvfEncoding::F32, IvfEncoding::Sq8}) {
      files.push_back(bytes_of(*ivf_with(m, e, 100, 3, 31)));
      files.push_back(bytes_of(IvfIndex(9, m, 4, 2, e)));
    }
  }
  for (const auto& b : files) {
    CHECK_EQ(testutil::get<uint16_t>(b, 8), uint16_t(3));
    const bool is_flat = testutil::get<uint32_t>(b, 12) == 1;
    const uint64_t table = kHeaderBytes + (is_flat ? 24 : 48);
    for (uint32_t i = 0; i < testutil::get<uint32_t>(b, table); ++i)
      CHECK_EQ(testutil::get<uint64_t>(b, table + 8 + 24 * i + 8) % 64, uint64_t(0));
    const auto image = FileMapping::borrow(b.data(), b.size());
    if (is_flat) {
      CHECK(bytes_of(*FlatIndex::deserialize(b.data(), b.size())) == b);
      CHECK(bytes_of(*FlatIndex::open_image(image)) == b);
    } else {
      CHECK(bytes_of(*IvfIndex::deserialize(b.data(), b.size())) == b);
      CHECK(bytes_of(*IvfIndex::open_image(image)) == b);
    }
  }
}

TEST("format 3: an index loaded from 3.0 is an ordinary one: adds, removes and saves continue") {
  const size_t n = 300, d = 7;
  auto ix = ivf_with(Metric::L2, IvfEncoding::Sq8, n, d, 32);
  const auto b = bytes_of(*ix);
  auto loaded = IvfIndex::deserialize(b.data(), b.size());
  auto x = testutil::random_vectors(500, d, 33);
  loaded->add(x.data(), 500, nullptr);
  ix->add(x.data(), 500, nullptr);
  std::vector<uint64_t> gone = {1, 22, ix->next_id() - 1};
  loaded->remove(gone.data(), gone.size());
  ix->remove(gone.data(), gone.size());
  auto q = testutil::random_vectors(5, d, 34);
  CHECK(same(loaded->search(q.data(), 5, 10, IvfSearchParams{16, std::nullopt, nullptr, 0}),
             ix->search(q.data(), 5, 10, IvfSearchParams{16, std::nullopt, nullptr, 0})));
  CHECK(bytes_of(*loaded) == bytes_of(*ix));
  auto flat = flat_with(Metric::Cosine, n, d, 35);
  const auto fb = bytes_of(*flat);
  auto fl = FlatIndex::deserialize(fb.data(), fb.size());
  fl->add(x.data(), 500, nullptr);
  flat->add(x.data(), 500, nullptr);
  CHECK(bytes_of(*fl) == bytes_of(*flat));
}
