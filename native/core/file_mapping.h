// A read-only image of a whole index file, for indexes that search a file
// in place (format 3, docs/file-format.md): the file mapped into memory, or
// memory the caller keeps alive (a buffer in hand, tests, fuzzing).
//
// A file is mapped whole with PROT_READ and MAP_SHARED: its pages are the
// page cache's own, shared by every process that maps the same file, and
// nothing can write through the mapping. The mapping lives as long as the
// FileMapping (the index holding it, and every search holding the index)
// and is unmapped with it.
//
// A mapping stays valid when the file is replaced by rename (as semvec's
// saves do: the old inode lives while it is mapped). A file truncated in
// place by another program makes reads past its new end fault (SIGBUS):
// semvec never rewrites a file in place, and installs no signal handler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace semvec {

class FileMapping {
 public:
  // Maps the regular file at `path` (ERR_NOT_FOUND, ERR_IO as the readers).
  static std::shared_ptr<const FileMapping> map(const std::string& path);
  // An image of `size` bytes at `data`, which the caller keeps alive and
  // unchanged for as long as the image and anything opened from it live.
  static std::shared_ptr<const FileMapping> borrow(const void* data, size_t size);

  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;
  ~FileMapping();

  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }
  // Whether this maps a file (rather than borrowing memory).
  bool mapped() const { return mapped_; }

  // Access advice for bytes [offset, offset + bytes) of a mapped file,
  // widened to whole pages (madvise; nothing for borrowed memory):
  // random: no read-around on a page fault (for rows read one at a time);
  // willneed: start reading them into the page cache now.
  void advise_random(uint64_t offset, uint64_t bytes) const;
  void advise_willneed(uint64_t offset, uint64_t bytes) const;
  // Drops the whole mapping's pages from this process's resident set
  // (MADV_DONTNEED: the file is read-only and shared, so nothing is lost;
  // a later read faults the page back in from the page cache or the file).
  void release() const;

 private:
  FileMapping(const unsigned char* data, size_t size, bool mapped) : data_(data), size_(size), mapped_(mapped) {}
  void advise(uint64_t offset, uint64_t bytes, int advice) const;

  const unsigned char* data_;
  size_t size_;
  bool mapped_;
};

}  // namespace semvec
