#include "thread_pool.h"

#include <atomic>
#include <exception>

namespace semvec {

struct ThreadPool::Job {
  const std::function<void(size_t)>* fn;
  size_t n;
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::mutex mutex;
  std::condition_variable finished;
  std::exception_ptr error;
};

size_t hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

ThreadPool& ThreadPool::global() {
  static ThreadPool pool(hardware_threads());
  return pool;
}

ThreadPool::ThreadPool(size_t threads) {
  threads_ = threads == 0 ? 1 : threads;
  start_workers(threads_ - 1);
}

ThreadPool::~ThreadPool() { stop_workers(); }

size_t ThreadPool::threads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return threads_;
}

void ThreadPool::set_threads(size_t threads) {
  if (threads == 0) threads = 1;
  stop_workers();
  std::lock_guard<std::mutex> lock(mutex_);
  threads_ = threads;
  stopping_ = false;
  for (size_t i = 0; i + 1 < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

void ThreadPool::start_workers(size_t count) {
  std::lock_guard<std::mutex> lock(mutex_);
  stopping_ = false;
  for (size_t i = 0; i < count; ++i) workers_.emplace_back([this] { worker_loop(); });
}

void ThreadPool::stop_workers() {
  std::vector<std::thread> old;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    old.swap(workers_);
  }
  wake_.notify_all();
  for (auto& t : old) t.join();
}

void ThreadPool::run_tasks(Job& job) {
  for (;;) {
    size_t task = job.next.fetch_add(1);
    if (task >= job.n) return;
    try {
      (*job.fn)(task);
    } catch (...) {
      std::lock_guard<std::mutex> lock(job.mutex);
      if (!job.error) job.error = std::current_exception();
    }
    if (job.done.fetch_add(1) + 1 == job.n) {
      std::lock_guard<std::mutex> lock(job.mutex);
      job.finished.notify_all();
    }
  }
}

void ThreadPool::worker_loop() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = queue_.front();
      if (job->next.load() >= job->n) {
        queue_.pop_front();
        continue;
      }
    }
    run_tasks(*job);
  }
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->n = n;
  if (n > 1) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!workers_.empty()) {
      queue_.push_back(job);
      wake_.notify_all();
    }
  }
  run_tasks(*job);
  {
    std::unique_lock<std::mutex> lock(job->mutex);
    job->finished.wait(lock, [&] { return job->done.load() == job->n; });
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = queue_.begin(); it != queue_.end(); ++it)
      if (*it == job) {
        queue_.erase(it);
        break;
      }
  }
  if (job->error) std::rethrow_exception(job->error);
}

}  // namespace semvec
