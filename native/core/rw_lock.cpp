#include "rw_lock.h"

namespace semvec {

void RwLock::lock_shared() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!writer_ && writers_waiting_ == 0) {
    ++readers_;
    return;
  }
  // Wait for the end of the next write phase; the writer that ends it
  // counts this reader in readers_ before any other writer can enter.
  const uint64_t arrived = phase_;
  ++readers_waiting_;
  readers_cv_.wait(lock, [&] { return phase_ != arrived; });
}

void RwLock::unlock_shared() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (--readers_ == 0 && writers_waiting_ > 0) writers_cv_.notify_one();
}

void RwLock::lock() {
  std::unique_lock<std::mutex> lock(mutex_);
  ++writers_waiting_;
  writers_cv_.wait(lock, [&] { return !writer_ && readers_ == 0; });
  --writers_waiting_;
  writer_ = true;
}

void RwLock::unlock() {
  std::lock_guard<std::mutex> lock(mutex_);
  writer_ = false;
  if (readers_waiting_ > 0) {
    // Admit every waiting reader at once, ahead of any waiting writer.
    readers_ += readers_waiting_;
    readers_waiting_ = 0;
    ++phase_;
    readers_cv_.notify_all();
  } else if (writers_waiting_ > 0) {
    writers_cv_.notify_one();
  }
}

size_t RwLock::readers_waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return readers_waiting_;
}

size_t RwLock::writers_waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return writers_waiting_;
}

}  // namespace semvec
