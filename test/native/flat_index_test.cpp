// FlatIndex against a brute-force reference, plus its file format.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "flat_index.h"
#include "harness.h"
#include "file_format.h"
#include "util.h"

using namespace semvec;

namespace {

struct Ref {
  float score;
  uint64_t id;
};

// Brute force in double precision: best first (ties by lower id).
std::vector<Ref> brute(const std::vector<float>& x, const std::vector<uint64_t>& ids,
                       const float* q, size_t d, Metric m, size_t k) {
  std::vector<Ref> all;
  double qn = 0;
  for (size_t c = 0; c < d; ++c) qn += double(q[c]) * q[c];
  for (size_t i = 0; i < ids.size(); ++i) {
    double ip = 0, xn = 0, l2 = 0;
    for (size_t c = 0; c < d; ++c) {
      ip += double(q[c]) * x[i * d + c];
      xn += double(x[i * d + c]) * x[i * d + c];
      l2 += (double(q[c]) - x[i * d + c]) * (double(q[c]) - x[i * d + c]);
    }
    double s = m == Metric::InnerProduct ? ip : m == Metric::Cosine ? ip / std::sqrt(qn * xn) : l2;
    all.push_back({float(s), ids[i]});
  }
  bool asc = m == Metric::L2;
  std::sort(all.begin(), all.end(), [&](const Ref& a, const Ref& b) {
    if (a.score != b.score) return asc ? a.score < b.score : a.score > b.score;
    return a.id < b.id;
  });
  all.resize(std::min(k, all.size()));
  return all;
}

std::string temp_path(const char* name) {
  return "/tmp/semvec-core-test-" + std::to_string(::getpid()) + "-" + name;
}

std::vector<char> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST("flat: search equals brute force for every metric, single and batch") {
  for (Metric m : {Metric::InnerProduct, Metric::Cosine, Metric::L2})
    for (size_t d : {3, 17, 64}) {
      const size_t n = 2100, nq = 30, k = 10;  // n not a multiple of the block
      auto x = testutil::random_vectors(n, d, 21 + d);
      auto q = testutil::random_vectors(nq, d, 22 + d);
      std::vector<uint64_t> ids(n);
      for (size_t i = 0; i < n; ++i) ids[i] = 1000 + 7 * i;
      FlatIndex ix(d, m);
      ix.add(x.data(), n / 2, ids.data());
      ix.add(x.data() + (n / 2) * d, n - n / 2, ids.data() + n / 2);
      SearchResults batch = ix.search(q.data(), nq, k);
      CHECK_EQ(batch.k, k);
      for (size_t i = 0; i < nq; ++i) {
        auto want = brute(x, ids, &q[i * d], d, m, k);
        SearchResults one = ix.search(&q[i * d], 1, k);
        for (size_t j = 0; j < k; ++j) {
          CHECK_EQ(batch.ids[i * k + j], want[j].id);
          CHECK_NEAR(batch.scores[i * k + j], want[j].score, 1e-4);
          CHECK_EQ(one.ids[j], batch.ids[i * k + j]);
          CHECK_EQ(one.scores[j], batch.scores[i * k + j]);  // same kernel order: bit-equal
        }
      }
    }
}

TEST("flat: k above size returns size results, ties by lower id") {
  FlatIndex ix(4, Metric::InnerProduct);
  std::vector<float> x = {1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0};
  std::vector<uint64_t> ids = {9, 3, 5};
  ix.add(x.data(), 3, ids.data());
  std::vector<float> q = {1, 0, 0, 0};
  auto r = ix.search(q.data(), 1, 50);
  CHECK_EQ(r.k, size_t(3));
  CHECK_EQ(r.ids[0], uint64_t(3));  // equal scores: lower id first
  CHECK_EQ(r.ids[1], uint64_t(9));
  CHECK_EQ(r.ids[2], uint64_t(5));
  FlatIndex empty(4, Metric::L2);
  CHECK_EQ(empty.search(q.data(), 1, 5).k, size_t(0));
  CHECK_THROWS_CODE(ix.search(q.data(), 1, 0), ErrorCode::InvalidArgument);
}

TEST("flat: automatic ids never pass 2^53 - 1; an add that would is refused whole") {
  FlatIndex ix(2, Metric::L2);
  std::vector<float> x = {1, 2, 3, 4, 5, 6};
  std::vector<uint64_t> near_max = {kMaxId - 2};
  ix.add(x.data(), 1, near_max.data());
  CHECK_THROWS_CODE(ix.add(x.data(), 3, nullptr), ErrorCode::InvalidArgument);
  CHECK_EQ(ix.size(), size_t(1));
  ix.add(x.data(), 2, nullptr);  // kMaxId - 1 and kMaxId
  CHECK(ix.contains(kMaxId));
  CHECK_EQ(ix.next_id(), kMaxId + 1);
  CHECK_THROWS_CODE(ix.add(x.data(), 1, nullptr), ErrorCode::InvalidArgument);
  std::vector<uint64_t> too_big = {kMaxId + 1};
  CHECK_THROWS_CODE(ix.add(x.data(), 1, too_big.data()), ErrorCode::InvalidArgument);
  CHECK_EQ(ix.size(), size_t(3));
  std::vector<uint64_t> free_id = {7};
  ix.add(x.data(), 1, free_id.data());  // explicit ids still work
  CHECK_EQ(ix.size(), size_t(4));
}

TEST("flat: add is all or nothing on duplicates and non-finite values") {
  FlatIndex ix(2, Metric::L2);
  std::vector<float> x = {1, 2, 3, 4};
  std::vector<uint64_t> ids = {1, 2};
  ix.add(x.data(), 2, ids.data());
  std::vector<uint64_t> dup_in_batch = {7, 7};
  CHECK_THROWS_CODE(ix.add(x.data(), 2, dup_in_batch.data()), ErrorCode::DuplicateId);
  std::vector<uint64_t> existing = {8, 2};
  CHECK_THROWS_CODE(ix.add(x.data(), 2, existing.data()), ErrorCode::DuplicateId);
  std::vector<float> bad = {1, INFINITY};
  CHECK_THROWS_CODE(ix.add(bad.data(), 1, nullptr), ErrorCode::InvalidArgument);
  CHECK_EQ(ix.size(), size_t(2));
  CHECK(!ix.contains(7) && !ix.contains(8));
  ix.add(x.data(), 1, nullptr);  // sequential ids continue after the largest
  CHECK(ix.contains(3));
  CHECK_EQ(ix.next_id(), uint64_t(4));
}

TEST("flat: remove keeps results exact and is all or nothing") {
  const size_t n = 500, d = 9;
  auto x = testutil::random_vectors(n, d, 31);
  FlatIndex ix(d, Metric::L2);
  ix.add(x.data(), n, nullptr);
  std::vector<uint64_t> missing = {3, 100000};
  CHECK_THROWS_CODE(ix.remove(missing.data(), 2), ErrorCode::NotFound);
  CHECK_EQ(ix.size(), n);
  std::vector<uint64_t> gone;
  for (uint64_t i = 0; i < n; i += 3) gone.push_back(i);
  gone.push_back(0);  // a repeat is fine
  CHECK_EQ(ix.remove(gone.data(), gone.size()), (n + 2) / 3);
  std::vector<float> kept;
  std::vector<uint64_t> kept_ids;
  for (uint64_t i = 0; i < n; ++i)
    if (i % 3) {
      kept.insert(kept.end(), &x[i * d], &x[i * d] + d);
      kept_ids.push_back(i);
    }
  auto q = testutil::random_vectors(5, d, 32);
  auto r = ix.search(q.data(), 5, 20);
  for (size_t i = 0; i < 5; ++i) {
    auto want = brute(kept, kept_ids, &q[i * d], d, Metric::L2, 20);
    for (size_t j = 0; j < 20; ++j) CHECK_EQ(r.ids[i * 20 + j], want[j].id);
  }
  std::vector<float> back(d);
  ix.reconstruct(1, back.data());
  for (size_t c = 0; c < d; ++c) CHECK_EQ(back[c], x[d + c]);
  CHECK_THROWS_CODE(ix.reconstruct(0, back.data()), ErrorCode::NotFound);
}

TEST("flat: save and load round trip, in files and in memory") {
  for (Metric m : {Metric::InnerProduct, Metric::Cosine, Metric::L2}) {
    const size_t n = 300, d = 31;
    auto x = testutil::random_vectors(n, d, 41);
    FlatIndex ix(d, m);
    ix.add(x.data(), n, nullptr);
    std::vector<uint64_t> drop = {5, 6};
    ix.remove(drop.data(), 2);
    std::string path = temp_path("roundtrip.svx");
    ix.save(path);
    auto loaded = FlatIndex::load(path);
    std::vector<char> mem;
    ix.serialize([&](size_t sz) {
      mem.resize(sz);
      return static_cast<void*>(mem.data());
    });
    CHECK(mem == read_all(path));
    auto from_mem = FlatIndex::deserialize(mem.data(), mem.size());
    std::remove(path.c_str());
    CHECK_EQ(loaded->size(), ix.size());
    CHECK(loaded->metric() == m);
    CHECK_EQ(loaded->next_id(), ix.next_id());
    auto q = testutil::random_vectors(3, d, 42);
    auto a = ix.search(q.data(), 3, 15), b = loaded->search(q.data(), 3, 15),
         c = from_mem->search(q.data(), 3, 15);
    CHECK(a.ids == b.ids && a.scores == b.scores);
    CHECK(a.ids == c.ids && a.scores == c.scores);
  }
}

TEST("io: zero-byte payload pieces never reach the byte sink; an empty index round-trips in memory") {
  // An empty index's ids and vectors are zero-byte pieces whose pointers may
  // be null (an empty vector's data()); memcpy from or to null is undefined
  // even for zero bytes.
  struct Sink : Writer {
    size_t null_puts = 0;
    void put(const void* data, size_t) override { null_puts += data == nullptr; }
  } sink;
  sink.write(nullptr, 0);
  CHECK_EQ(sink.null_puts, size_t(0));
  struct Source : Reader {
    size_t null_gets = 0;
    void get(void* data, size_t) override { null_gets += data == nullptr; }
    uint64_t total_size() const override { return 0; }
  } source;
  source.read(nullptr, 0);
  CHECK_EQ(source.null_gets, size_t(0));

  for (Metric m : {Metric::InnerProduct, Metric::L2}) {
    FlatIndex empty(3, m);
    std::vector<char> mem;
    empty.serialize([&](size_t sz) {
      mem.resize(sz);
      return static_cast<void*>(mem.data());
    });
    auto back = FlatIndex::deserialize(mem.data(), mem.size());
    CHECK_EQ(back->size(), size_t(0));
    CHECK_EQ(back->next_id(), uint64_t(0));
  }
}

TEST("flat: truncated, bit-flipped and foreign files are rejected with codes") {
  const size_t n = 40, d = 8;
  auto x = testutil::random_vectors(n, d, 51);
  FlatIndex ix(d, Metric::Cosine);
  ix.add(x.data(), n, nullptr);
  std::vector<char> good;
  ix.serialize([&](size_t sz) {
    good.resize(sz);
    return static_cast<void*>(good.data());
  });
  for (size_t cut = 0; cut < good.size(); cut += 37)
    CHECK_THROWS_CODE(FlatIndex::deserialize(good.data(), cut), ErrorCode::CorruptFile);
  for (size_t byte = 0; byte < good.size(); byte += 13) {
    if (byte >= 8 && byte < 10) continue;  // the major version: its own code
    auto bad = good;
    bad[byte] ^= 0x10;
    CHECK_THROWS_CODE(FlatIndex::deserialize(bad.data(), bad.size()), ErrorCode::CorruptFile);
  }
  auto newer = good;
  newer[8] = 4;  // format 4.0
  CHECK_THROWS_CODE(FlatIndex::deserialize(newer.data(), newer.size()),
                    ErrorCode::UnsupportedVersion);
  CHECK_THROWS_CODE(FlatIndex::load(temp_path("does-not-exist")), ErrorCode::NotFound);
  CHECK_THROWS_CODE(ix.save("/nonexistent-dir/x.svx"), ErrorCode::Io);
}

TEST("flat: a failed save leaves the previous file intact") {
  const size_t d = 4;
  auto x = testutil::random_vectors(10, d, 61);
  FlatIndex ix(d, Metric::InnerProduct);
  ix.add(x.data(), 10, nullptr);
  std::string path = temp_path("atomic.svx");
  ix.save(path);
  auto before = read_all(path);
  {
    FileWriter w(path);  // an abandoned writer: never committed
    w.write("garbage", 7);
  }
  CHECK(read_all(path) == before);
  ix.add(x.data(), 10, nullptr);
  ix.save(path);
  CHECK(read_all(path) != before);
  CHECK_EQ(FlatIndex::load(path)->size(), size_t(20));
  std::remove(path.c_str());
}

TEST("flat: cosine turns vectors with extreme finite components into unit vectors") {
  const size_t d = 5;
  const float big = std::numeric_limits<float>::max();
  std::vector<float> x = {big, -big, big, 1, 0,         // squares overflow a float
                          3e-39f, -1e-38f, 0, 0, 2e-45f,  // squares underflow
                          1e38f, 1e-38f, 1, -1e37f, 0,    // mixed scales
                          0, 0, 0, 0, 0};
  const size_t n = x.size() / d;
  FlatIndex ix(d, Metric::Cosine);
  ix.add(x.data(), n, nullptr);
  for (size_t i = 0; i < n; ++i) {
    std::vector<float> v(d);
    ix.reconstruct(i, v.data());
    double norm = 0;
    for (float c : v) norm += double(c) * c;
    CHECK_NEAR(norm, i + 1 == n ? 0.0 : 1.0, 1e-5);
    if (i + 1 == n) continue;
    SearchResults r = ix.search(&x[i * d], 1, 1);
    CHECK_EQ(r.ids[0], uint64_t(i));
    CHECK_NEAR(r.scores[0], 1.0, 1e-5);
  }
}
