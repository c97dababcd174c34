// A small std::thread pool for data-parallel loops. Callers on any thread
// (the JavaScript thread or libuv workers) may run loops at the same time;
// each caller works on its own loop too, so a loop always finishes even if
// the pool is resized under it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace semvec {

class ThreadPool {
 public:
  // The process-wide pool, sized to the hardware threads on first use.
  static ThreadPool& global();

  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Threads a loop may use, the calling thread included (>= 1).
  size_t threads() const;
  void set_threads(size_t threads);

  // Calls fn(task) for every task in [0, n), spread over the pool; returns
  // when all are done. The first exception thrown by a task is rethrown here
  // after the others finish.
  void parallel_for(size_t n, const std::function<void(size_t)>& fn);

 private:
  struct Job;
  void start_workers(size_t count);
  void stop_workers();
  void worker_loop();
  static void run_tasks(Job& job);

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
  size_t threads_ = 1;
};

size_t hardware_threads();

}  // namespace semvec
