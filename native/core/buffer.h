// A growable buffer of trivially copyable values for large vector storage.
//
// Buffers of 1 MiB and more are mapped directly, so capacity never touched
// is never resident and growth is a remap, not a copy. Those of 32 MiB and
// more are advised to use transparent huge pages: on virtual machines a
// 4 KiB page fault can cost microseconds, so a 1.5 GB index fills ~30x
// faster, and scans take fewer TLB misses; below that, rounding up to whole
// 2 MiB pages would cost more memory than it saves time. New elements are
// always zero.
#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace semvec {

namespace detail {
void* buffer_allocate(size_t bytes, size_t* mapped_bytes);  // zeroed; 64-byte aligned
void buffer_free(void* p, size_t mapped_bytes);
// Grows a buffer to at least `bytes`, keeping the first `used` bytes. Large
// buffers are remapped in place by the kernel (no copy); the rest are copied.
void* buffer_grow(void* p, size_t mapped_bytes, size_t used, size_t bytes, size_t* new_mapped);
}  // namespace detail

template <typename T>
class PodBuffer {
  static_assert(std::is_trivially_copyable<T>::value, "PodBuffer holds plain values");

 public:
  PodBuffer() = default;
  PodBuffer(const PodBuffer&) = delete;
  PodBuffer& operator=(const PodBuffer&) = delete;
  PodBuffer(PodBuffer&& o) noexcept { swap(o); }
  PodBuffer& operator=(PodBuffer&& o) noexcept {
    swap(o);
    return *this;
  }
  ~PodBuffer() { detail::buffer_free(data_, mapped_); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

  // Makes room for n elements; may throw std::bad_alloc (contents kept).
  void reserve(size_t n) {
    if (n <= capacity_) return;
    size_t mapped = 0;
    T* p = static_cast<T*>(detail::buffer_grow(data_, mapped_, size_ * sizeof(T), n * sizeof(T), &mapped));
    data_ = p;
    mapped_ = mapped;
    capacity_ = (mapped & ~size_t(1)) / sizeof(T);
  }

  // Grows (new elements zero) or shrinks. Everything past size() is kept
  // zero, so growing never writes: fresh pages are first touched by whoever
  // fills them (in parallel, for the indexes).
  void resize(size_t n) {
    if (n > capacity_) reserve(n);
    if (n < size_) std::memset(static_cast<void*>(data_ + n), 0, (size_ - n) * sizeof(T));
    size_ = n;
  }

  void swap(PodBuffer& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
    std::swap(mapped_, o.mapped_);
  }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  size_t mapped_ = 0;
};

}  // namespace semvec
