#include "buffer.h"

#include <sys/mman.h>  // mmap, mremap (g++ defines _GNU_SOURCE)

#include <cstdint>
#include <cstdlib>

namespace semvec {
namespace detail {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kMapThreshold = size_t(1) << 20;
}  // namespace

// Small buffers come from the heap (mapped_bytes records the usable size
// with the low bit set); large ones are mapped, 2 MiB aligned, with
// MADV_HUGEPAGE.
void* buffer_allocate(size_t bytes, size_t* mapped_bytes) {
  if (bytes == 0) bytes = 64;
  if (bytes < kMapThreshold) {
    size_t rounded = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    if (p == nullptr) throw std::bad_alloc();
    std::memset(p, 0, rounded);
    *mapped_bytes = rounded | 1;
    return p;
  }
  size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  // Over-map by one huge page so the start can be aligned to it.
  size_t span = rounded + kHugePage;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  uintptr_t start = (reinterpret_cast<uintptr_t>(raw) + kHugePage - 1) / kHugePage * kHugePage;
  size_t head = start - reinterpret_cast<uintptr_t>(raw);
  if (head > 0) ::munmap(raw, head);
  size_t tail = span - head - rounded;
  if (tail > 0) ::munmap(reinterpret_cast<void*>(start + rounded), tail);
  void* p = reinterpret_cast<void*>(start);
#ifdef MADV_HUGEPAGE
  ::madvise(p, rounded, MADV_HUGEPAGE);
#endif
  *mapped_bytes = rounded;
  return p;
}

void* buffer_grow(void* p, size_t mapped_bytes, size_t used, size_t bytes, size_t* new_mapped) {
#ifdef MREMAP_MAYMOVE
  if (p != nullptr && !(mapped_bytes & 1) && bytes >= kMapThreshold) {
    size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* q = ::mremap(p, mapped_bytes, rounded, MREMAP_MAYMOVE);
    if (q == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    ::madvise(q, rounded, MADV_HUGEPAGE);
#endif
    *new_mapped = rounded;
    return q;  // the new pages are zero, as the fresh mapping's would be
  }
#endif
  void* q = buffer_allocate(bytes, new_mapped);
  if (used > 0) std::memcpy(q, p, used);
  buffer_free(p, mapped_bytes);
  return q;
}

void buffer_free(void* p, size_t mapped_bytes) {
  if (p == nullptr) return;
  if (mapped_bytes & 1) {
    std::free(p);
  } else {
    ::munmap(p, mapped_bytes);
  }
}

}  // namespace detail
}  // namespace semvec
