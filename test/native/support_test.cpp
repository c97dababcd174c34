// CRC-32C, top-k selection, normalisation and the thread pool.
#include <atomic>
#include <cstring>
#include <random>
#include <stdexcept>

#include "buffer.h"
#include "crc32c.h"
#include "harness.h"
#include "thread_pool.h"
#include "topk.h"
#include "util.h"
#include "vectors.h"

using namespace semvec;

TEST("crc32c: known value and hardware path equals table path") {
  const char* s = "123456789";
  CHECK_EQ(crc32c(s, 9), 0xE3069283u);
  CHECK_EQ(crc32c_extend_portable(0, s, 9), 0xE3069283u);
  std::mt19937 rng(5);
  std::vector<unsigned char> buf(10007);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  for (size_t n : {0, 1, 7, 8, 9, 63, 1000, 10007}) {
    CHECK_EQ(crc32c(buf.data(), n), crc32c_extend_portable(0, buf.data(), n));
    // Extending in two pieces equals one pass.
    uint32_t two = crc32c_extend(crc32c(buf.data(), n / 3), buf.data() + n / 3, n - n / 3);
    CHECK_EQ(two, crc32c(buf.data(), n));
  }
}

TEST("topk: best first, ties broken by lower id, never padded") {
  TopK t(3);
  t.push(1.0f, 9);
  t.push(2.0f, 5);
  t.push(2.0f, 4);
  t.push(2.0f, 7);
  t.push(0.5f, 1);
  auto hits = t.take_sorted();
  CHECK_EQ(hits.size(), size_t(3));
  CHECK_EQ(hits[0].id, uint64_t(4));
  CHECK_EQ(hits[1].id, uint64_t(5));
  CHECK_EQ(hits[2].id, uint64_t(7));
  TopK small(10);
  small.push(1.0f, 1);
  CHECK_EQ(small.take_sorted().size(), size_t(1));
}

TEST("topk: merging partial selections equals one selection") {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> score(0, 20);  // many ties
  TopK all(7), a(7), b(7);
  for (uint64_t id = 0; id < 200; ++id) {
    float s = static_cast<float>(score(rng));
    all.push(s, id);
    (id % 2 ? a : b).push(s, id);
  }
  a.merge(b);
  auto x = all.take_sorted(), y = a.take_sorted();
  CHECK_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    CHECK_EQ(x[i].id, y[i].id);
    CHECK_EQ(x[i].score, y[i].score);
  }
}

TEST("vectors: renorm gives unit norms and leaves zero vectors as zeros") {
  const size_t d = 33;
  auto x = testutil::random_vectors(4, d, 9);
  std::fill(x.begin() + d, x.begin() + 2 * d, 0.0f);
  CHECK_EQ(fvec_renorm_L2(x.data(), 4, d), size_t(1));
  for (size_t i = 0; i < 4; ++i) {
    double s = 0;
    for (size_t c = 0; c < d; ++c) {
      CHECK(!std::isnan(x[i * d + c]));
      s += double(x[i * d + c]) * x[i * d + c];
    }
    CHECK_NEAR(s, i == 1 ? 0.0 : 1.0, 1e-5);
  }
}

TEST("vectors: check_finite names the first bad component") {
  std::vector<float> x(10, 1.0f);
  check_finite(x.data(), 2, 5, "vectors");
  x[7] = std::nanf("");
  try {
    check_finite(x.data(), 2, 5, "vectors");
    CHECK(false);
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::InvalidArgument);
    CHECK(std::string(e.what()).find("NaN at vector 1, component 2") != std::string::npos);
  }
}

TEST("thread_pool: runs every task once, from concurrent callers") {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(1000);
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&, c] {
      pool.parallel_for(250, [&](size_t t) { hits[c * 250 + t].fetch_add(1); });
    });
  for (auto& t : callers) t.join();
  for (auto& h : hits) CHECK_EQ(h.load(), 1);
}

TEST("thread_pool: rethrows a task's exception and survives resizing") {
  ThreadPool pool(2);
  bool threw = false;
  try {
    pool.parallel_for(8, [](size_t t) {
      if (t == 5) throw std::runtime_error("task 5");
    });
  } catch (const std::runtime_error& e) {
    threw = std::string(e.what()) == "task 5";
  }
  CHECK(threw);
  pool.set_threads(1);
  CHECK_EQ(pool.threads(), size_t(1));
  std::atomic<int> n{0};
  pool.parallel_for(10, [&](size_t) { n++; });
  CHECK_EQ(n.load(), 10);
  pool.set_threads(4);
  pool.parallel_for(10, [&](size_t) { n++; });
  CHECK_EQ(n.load(), 20);
}

TEST("buffer: mapped buffers below 32 MiB are rounded to pages, larger ones to 2 MiB huge pages") {
  // An IVF list of 1.2 MB (800 x 384 floats) must not hold a 2 MiB huge
  // page: at 10M vectors, ~12,600 such lists held 1.7x their floats.
  PodBuffer<float> list;
  list.resize(800 * 384);
  const size_t bytes = 800 * 384 * sizeof(float);
  CHECK(list.capacity() * sizeof(float) >= bytes);
  CHECK(list.capacity() * sizeof(float) < bytes + 4096);
  list.reserve(1200 * 384);  // grown by remapping: still whole pages only
  CHECK(list.capacity() * sizeof(float) < 1200 * 384 * sizeof(float) + 4096);
  CHECK_EQ(list[800 * 384 - 1], 0.0f);
  PodBuffer<float> big;
  big.resize((size_t(40) << 20) / sizeof(float) + 1);
  CHECK_EQ(big.capacity() * sizeof(float) % (size_t(2) << 20), size_t(0));
  CHECK(big.capacity() * sizeof(float) <= (size_t(42) << 20));
}

TEST("buffer: growth keeps contents and new elements are zero, small and mapped") {
  PodBuffer<uint32_t> b;
  for (size_t n : {10, 1000, 300000, 2000000, 5000000}) {  // crosses the mapping threshold
    size_t old = b.size();
    b.resize(n);
    for (size_t i = 0; i < old; ++i) CHECK_EQ(b[i], uint32_t(i * 7));
    for (size_t i = old; i < n; ++i) CHECK_EQ(b[i], 0u);
    for (size_t i = old; i < n; ++i) b[i] = uint32_t(i * 7);
  }
  b.resize(100);  // shrinking zeroes the tail, so growing again shows zeros
  b.resize(200);
  for (size_t i = 100; i < 200; ++i) CHECK_EQ(b[i], 0u);
  PodBuffer<uint32_t> moved(std::move(b));
  CHECK_EQ(moved.size(), size_t(200));
  CHECK_EQ(moved[99], uint32_t(99 * 7));
}
