#include "file_mapping.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "errors.h"
#include "file_format.h"

namespace semvec {

std::shared_ptr<const FileMapping> FileMapping::map(const std::string& path) {
  uint64_t size = 0;
  const int fd = open_index_file(path, &size);
  void* p = nullptr;
  // An empty file maps nothing (mmap refuses a length of 0): the format
  // reader then reports it truncated.
  if (size > 0) p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the file open
  if (p == MAP_FAILED)
    throw Error(ErrorCode::Io, "cannot map index file '" + path + "': " + std::string(std::strerror(err)));
  return std::shared_ptr<const FileMapping>(new FileMapping(static_cast<const unsigned char*>(p), size, size > 0));
}

std::shared_ptr<const FileMapping> FileMapping::borrow(const void* data, size_t size) {
  return std::shared_ptr<const FileMapping>(new FileMapping(static_cast<const unsigned char*>(data), size, false));
}

FileMapping::~FileMapping() {
  if (mapped_) ::munmap(const_cast<unsigned char*>(data_), size_);
}

void FileMapping::advise(uint64_t offset, uint64_t bytes, int advice) const {
  if (!mapped_ || bytes == 0 || offset >= size_) return;
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t first = offset / page * page;
  const uint64_t last = std::min<uint64_t>(size_, offset + bytes);
  // Advice is a hint: a refusal changes nothing the index relies on.
  ::madvise(const_cast<unsigned char*>(data_) + first, last - first, advice);
}

void FileMapping::advise_random(uint64_t offset, uint64_t bytes) const { advise(offset, bytes, MADV_RANDOM); }

void FileMapping::advise_willneed(uint64_t offset, uint64_t bytes) const { advise(offset, bytes, MADV_WILLNEED); }

void FileMapping::release() const { advise(0, size_, MADV_DONTNEED); }

}  // namespace semvec
