// The index lock: readers share it, a writer excludes everyone, and a writer
// waiting for it is not starved by readers that never pause.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "flat_index.h"
#include "harness.h"
#include "ivf_index.h"
#include "rw_lock.h"
#include "util.h"

using namespace semvec;

namespace {

// Runs `readers` threads calling search() without pause while one writer
// calls add() `adds` times; readers stop once the writer is done, or after
// 30 s, so the test ends either way. Returns the adds done.
template <typename Search, typename Add>
size_t adds_under_search_load(size_t readers, size_t adds, Search search, Add add) {
  std::atomic<bool> stop{false};
  std::atomic<size_t> searches{0};
  std::vector<std::thread> threads;
  for (size_t r = 0; r < readers; ++r)
    threads.emplace_back([&] {
      while (!stop.load()) {
        search();
        searches.fetch_add(1);
      }
    });
  // The writer starts once every reader is under way.
  while (searches.load() < readers * 2) std::this_thread::yield();
  std::mutex m;
  std::condition_variable cv;
  size_t done = 0;
  std::thread writer([&] {
    for (size_t i = 0; i < adds && !stop.load(); ++i) {
      add(i);
      std::lock_guard<std::mutex> lock(m);
      ++done;
      cv.notify_all();
    }
  });
  {
    std::unique_lock<std::mutex> lock(m);
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return done == adds; });
  }
  size_t finished;
  {
    std::lock_guard<std::mutex> lock(m);
    finished = done;
  }
  stop = true;
  writer.join();
  for (auto& t : threads) t.join();
  return finished;
}

}  // namespace

TEST("index lock: a writer is not starved by readers searching without pause (flat and IVF)") {
  const size_t d = 64, n = 20000, readers = 4, adds = 20;
  auto x = testutil::random_vectors(n, d, 3);
  auto q = testutil::random_vectors(8, d, 4);
  {
    FlatIndex ix(d, Metric::L2);
    ix.add(x.data(), n, nullptr);
    const size_t done = adds_under_search_load(
        readers, adds, [&] { ix.search(q.data(), 8, 10); }, [&](size_t i) { ix.add(x.data() + i * d, 1, nullptr); });
    CHECK_EQ(done, adds);
    CHECK_EQ(ix.size(), n + adds);
  }
  {
    IvfIndex ix(d, Metric::InnerProduct, 16, 16);
    ix.train(x.data(), n, KMeansParams());
    ix.add(x.data(), n, nullptr);
    const size_t done = adds_under_search_load(
        readers, adds, [&] { ix.search(q.data(), 8, 10); }, [&](size_t i) { ix.add(x.data() + i * d, 1, nullptr); });
    CHECK_EQ(done, adds);
    CHECK_EQ(ix.size(), n + adds);
  }
}

namespace {

void wait_until(const std::function<bool()>& ready) {
  while (!ready()) std::this_thread::yield();
}

}  // namespace

TEST("rw_lock: readers share it; a writer waiting blocks new readers; readers it held back go before the next writer") {
  RwLock lock;
  std::mutex order_mutex;
  std::vector<std::string> order;
  auto note = [&](const char* who) {
    std::lock_guard<std::mutex> g(order_mutex);
    order.push_back(who);
  };
  // Readers share: two shared holders at once.
  lock.lock_shared();
  std::thread second([&] {
    lock.lock_shared();
    note("second reader");
    lock.unlock_shared();
  });
  second.join();
  // A writer waits for the first reader; a reader arriving after it waits too.
  std::thread writer([&] {
    lock.lock();
    note("writer");
    lock.unlock();
  });
  wait_until([&] { return lock.writers_waiting() == 1; });
  std::thread late_reader([&] {
    lock.lock_shared();
    note("late reader");
    lock.unlock_shared();
  });
  wait_until([&] { return lock.readers_waiting() == 1; });
  lock.unlock_shared();
  writer.join();
  late_reader.join();
  CHECK((order == std::vector<std::string>{"second reader", "writer", "late reader"}));

  // Phase fairness: a reader held back by one writer goes before the next one.
  order.clear();
  lock.lock();
  std::thread reader([&] {
    lock.lock_shared();
    note("reader");
    lock.unlock_shared();
  });
  wait_until([&] { return lock.readers_waiting() == 1; });
  std::thread next_writer([&] {
    lock.lock();
    note("next writer");
    lock.unlock();
  });
  wait_until([&] { return lock.writers_waiting() == 1; });
  lock.unlock();
  reader.join();
  next_writer.join();
  CHECK((order == std::vector<std::string>{"reader", "next writer"}));
}

TEST("rw_lock: writers exclude readers and each other under contention") {
  RwLock lock;
  long a = 0, b = 0;  // equal whenever the lock is free
  std::atomic<bool> torn{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (t % 2 == 0) {
          std::unique_lock<RwLock> w(lock);
          ++a;
          std::this_thread::yield();
          ++b;
        } else {
          std::shared_lock<RwLock> r(lock);
          if (a != b) torn = true;
        }
      }
    });
  for (auto& th : threads) th.join();
  CHECK(!torn.load());
  CHECK_EQ(a, 3L * 2000);
  CHECK_EQ(b, a);
}
