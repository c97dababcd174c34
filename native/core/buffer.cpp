#include "buffer.h"

#include <sys/mman.h>  // mmap, mremap (g++ defines _GNU_SOURCE)

#include <cstdint>
#include <cstdlib>

namespace semvec {
namespace detail {

namespace {
constexpr size_t kPage = size_t(4) << 10;
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kMapThreshold = size_t(1) << 20;
// Huge pages only where rounding up to whole ones wastes at most 1/16 of
// the buffer. A huge page is resident as soon as one byte of it is
// touched: an IVF index at 10M x 384 has ~12,600 lists of ~1.2 MB each,
// and rounding every list to 2 MiB made it hold 1.7x its floats.
constexpr size_t kHugeThreshold = 16 * kHugePage;

size_t round_up(size_t bytes, size_t unit) { return (bytes + unit - 1) / unit * unit; }

// The mapped size of a buffer of `bytes`: whole huge pages for large
// buffers, whole pages otherwise (pages never touched are not resident).
size_t mapped_size(size_t bytes) { return round_up(bytes, bytes >= kHugeThreshold ? kHugePage : kPage); }

void advise_huge(void* p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  if (bytes >= kHugeThreshold) ::madvise(p, bytes, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}
}  // namespace

// Small buffers come from the heap (mapped_bytes records the usable size
// with the low bit set); larger ones are mapped (page-aligned, so 64-byte
// aligned), and the largest are 2 MiB aligned with MADV_HUGEPAGE.
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
  const size_t rounded = mapped_size(bytes);
  if (rounded < kHugeThreshold) {
    void* p = ::mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    *mapped_bytes = rounded;
    return p;
  }
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
  advise_huge(p, rounded);
  *mapped_bytes = rounded;
  return p;
}

void* buffer_grow(void* p, size_t mapped_bytes, size_t used, size_t bytes, size_t* new_mapped) {
#ifdef MREMAP_MAYMOVE
  if (p != nullptr && !(mapped_bytes & 1) && bytes >= kMapThreshold) {
    const size_t rounded = mapped_size(bytes);
    void* q = ::mremap(p, mapped_bytes, rounded, MREMAP_MAYMOVE);
    if (q == MAP_FAILED) throw std::bad_alloc();
    advise_huge(q, rounded);
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
