// The readers-writer lock of an index: searches and saves share it, add,
// remove and training's final step take it alone.
//
// std::shared_mutex gives no fairness guarantee, and glibc's prefers
// readers: with searches overlapping without pause, a writer could wait
// forever. This lock is phase-fair instead:
//   - a reader that arrives while a writer holds or waits for the lock
//     waits, so a waiting writer gets in once the readers it found finish;
//   - when a writer releases the lock, every reader waiting at that moment
//     gets in before the next writer.
// So neither side starves the other. It is not recursive: a thread holding
// the lock shared must not take it again (that would deadlock behind a
// waiting writer). It meets the Lockable requirements of std::unique_lock
// (lock, unlock) and std::shared_lock (lock_shared, unlock_shared).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace semvec {

class RwLock {
 public:
  RwLock() = default;
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  void lock();
  void unlock();
  void lock_shared();
  void unlock_shared();

  // Threads waiting, for tests and diagnostics.
  size_t readers_waiting() const;
  size_t writers_waiting() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable readers_cv_, writers_cv_;
  size_t readers_ = 0;          // holding the lock shared (or admitted to)
  size_t readers_waiting_ = 0;  // waiting for the current write phase to end
  size_t writers_waiting_ = 0;
  bool writer_ = false;
  uint64_t phase_ = 0;  // write phases ended; a waiting reader is admitted when it changes
};

}  // namespace semvec
