#include "file_format.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "crc32c.h"
#include "errors.h"
#include "temp_files.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "semvec files are little-endian");

namespace semvec {
namespace {

constexpr char kMagic[8] = {'S', 'E', 'M', 'V', 'E', 'C', 'I', 'X'};
constexpr char kEndMagic[4] = {'X', 'E', 'N', 'D'};

template <typename T>
void put_le(unsigned char* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}
template <typename T>
T get_le(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

std::string errno_text(int err) { return std::string(std::strerror(err)); }

[[noreturn]] void io_error(const std::string& what, const std::string& path, int err) {
  throw Error(ErrorCode::Io, what + " '" + path + "': " + errno_text(err));
}

[[noreturn]] void corrupt(const std::string& why) {
  throw Error(ErrorCode::CorruptFile, "corrupt semvec index file: " + why);
}

[[noreturn]] void not_regular_file(const std::string& path, mode_t mode) {
  const char* kind = S_ISDIR(mode)    ? "a directory"
                     : S_ISFIFO(mode) ? "a FIFO"
                     : S_ISSOCK(mode) ? "a socket"
                     : S_ISCHR(mode)  ? "a character device"
                     : S_ISBLK(mode)  ? "a block device"
                                      : "of an unknown type";
  throw Error(ErrorCode::Io, "index path '" + path + "' is not a regular file (" + kind + ")");
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

const char* index_kind_name(IndexKind kind) {
  switch (kind) {
    case IndexKind::Flat: return "flat";
    case IndexKind::Ivf: return "ivf";
    case IndexKind::Graph: return "graph";
  }
  return "unknown";
}

// ---- Writer ----

void Writer::write_header(const FileHeader& h) {
  unsigned char b[kHeaderBytes] = {};
  std::memcpy(b, kMagic, 8);
  put_le<uint16_t>(b + 8, h.major);
  put_le<uint16_t>(b + 10, h.minor);
  put_le<uint32_t>(b + 12, static_cast<uint32_t>(h.kind));
  put_le<uint32_t>(b + 16, static_cast<uint32_t>(h.metric));
  put_le<uint32_t>(b + 20, h.dim);
  put_le<uint64_t>(b + 24, h.count);
  put_le<uint64_t>(b + 32, h.payload_bytes);
  put_le<uint32_t>(b + 60, crc32c(b, 60));
  put(b, kHeaderBytes);
}

void Writer::write(const void* data, size_t n) {
  if (n == 0) return;  // data may be null (an empty vector): never memcpy from it
  crc_ = crc32c_extend(crc_, data, n);
  put(data, n);
}

void Writer::write_trailer() {
  unsigned char b[kTrailerBytes];
  put_le<uint32_t>(b, crc_);
  std::memcpy(b + 4, kEndMagic, 4);
  put(b, kTrailerBytes);
}

FileWriter::FileWriter(const std::string& path) : path_(path), buf_(1 << 22) {
  remove_stale_temp_files(path);  // left by writers killed mid-save
  tmp_ = temp_path_for(path);
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) io_error("cannot write index file", path_, errno);
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void FileWriter::flush() {
  size_t off = 0;
  while (off < used_) {
    ssize_t w = ::write(fd_, buf_.data() + off, used_ - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      io_error("cannot write index file", path_, errno);
    }
    off += static_cast<size_t>(w);
  }
  used_ = 0;
}

void FileWriter::put(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    size_t take = std::min(n, buf_.size() - used_);
    std::memcpy(buf_.data() + used_, p, take);
    used_ += take;
    p += take;
    n -= take;
    if (used_ == buf_.size()) flush();
  }
}

void FileWriter::commit() {
  flush();
  if (::fsync(fd_) != 0) io_error("cannot sync index file", path_, errno);
  if (::close(fd_) != 0) {
    fd_ = -1;
    ::unlink(tmp_.c_str());
    io_error("cannot close index file", path_, errno);
  }
  fd_ = -1;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_.c_str());
    io_error("cannot move index file into place at", path_, err);
  }
  // Make the rename itself durable.
  int dfd = ::open(parent_dir(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void MemoryWriter::put(const void* data, size_t n) {
  if (n > cap_ - used_) throw Error(ErrorCode::Internal, "serialised size exceeds the buffer");
  std::memcpy(data_ + used_, data, n);
  used_ += n;
}

// ---- Reader ----

FileHeader Reader::read_header() {
  const uint64_t total = total_size();
  if (total < kHeaderBytes + kTrailerBytes)
    corrupt("file is truncated: " + std::to_string(total) + " bytes, a valid file has at least " +
            std::to_string(kHeaderBytes + kTrailerBytes));
  unsigned char b[kHeaderBytes];
  get(b, kHeaderBytes);
  if (std::memcmp(b, kMagic, 8) != 0) corrupt("bad magic (not a semvec index file)");
  FileHeader h;
  h.major = get_le<uint16_t>(b + 8);
  h.minor = get_le<uint16_t>(b + 10);
  if (h.major > kFormatMajor)
    throw Error(ErrorCode::UnsupportedVersion,
                "index file format " + std::to_string(h.major) + "." + std::to_string(h.minor) +
                    " is newer than this semvec reads (" + std::to_string(kFormatMajor) +
                    ".x); upgrade semvec to load it");
  if (get_le<uint32_t>(b + 60) != crc32c(b, 60)) corrupt("header checksum mismatch");
  if (h.major == 0) corrupt("format major version 0 does not exist");
  uint32_t kind = get_le<uint32_t>(b + 12);
  if (kind < 1 || kind > 3) corrupt("unknown index kind " + std::to_string(kind));
  h.kind = static_cast<IndexKind>(kind);
  uint32_t metric = get_le<uint32_t>(b + 16);
  if (metric > 2) corrupt("unknown metric " + std::to_string(metric));
  h.metric = static_cast<Metric>(metric);
  h.dim = get_le<uint32_t>(b + 20);
  if (h.dim == 0 || h.dim > kMaxDim)
    corrupt("dim " + std::to_string(h.dim) + " outside 1.." + std::to_string(kMaxDim));
  h.count = get_le<uint64_t>(b + 24);
  h.payload_bytes = get_le<uint64_t>(b + 32);
  if (h.payload_bytes != total - kHeaderBytes - kTrailerBytes)
    corrupt("file size " + std::to_string(total) + " does not match its header (expected " +
            std::to_string(kHeaderBytes + h.payload_bytes + kTrailerBytes) +
            " bytes): truncated or extended");
  payload_left_ = h.payload_bytes;
  crc_ = 0;
  return h;
}

void Reader::read(void* data, size_t n) {
  if (n == 0) return;  // data may be null (an empty vector): never memcpy to it
  if (n > payload_left_) corrupt("payload is shorter than its contents require");
  get(data, n);
  payload_left_ -= n;
  crc_ = crc32c_extend(crc_, data, n);
}

void Reader::read_trailer() {
  if (payload_left_ != 0)
    corrupt(std::to_string(payload_left_) + " unexpected bytes at the end of the payload");
  unsigned char b[kTrailerBytes];
  get(b, kTrailerBytes);
  if (std::memcmp(b + 4, kEndMagic, 4) != 0) corrupt("bad end marker");
  if (get_le<uint32_t>(b) != crc_) corrupt("payload checksum mismatch");
}

int open_index_file(const std::string& path, uint64_t* size) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer. Only a regular
  // file is read, and it is read blocking.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) throw Error(ErrorCode::NotFound, "index file not found: '" + path + "'");
    // A socket cannot be opened at all: say what it is.
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) not_regular_file(path, st.st_mode);
    io_error("cannot open index file", path, err);
  }
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    io_error("cannot stat index file", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    not_regular_file(path, st.st_mode);
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    int err = errno;
    ::close(fd);
    io_error("cannot open index file", path, err);
  }
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

void check_image_trailer(const unsigned char* image, size_t size, bool verify_crc) {
  const unsigned char* t = image + size - kTrailerBytes;
  if (std::memcmp(t + 4, kEndMagic, 4) != 0) corrupt("bad end marker");
  if (verify_crc &&
      get_le<uint32_t>(t) != crc32c(image + kHeaderBytes, size - kHeaderBytes - kTrailerBytes))
    corrupt("payload checksum mismatch");
}

FileReader::FileReader(const std::string& path) : path_(path) {
  int fd = open_index_file(path, &size_);
  if ((f_ = ::fdopen(fd, "rb")) == nullptr) {
    int err = errno;
    ::close(fd);
    io_error("cannot open index file", path, err);
  }
}

FileReader::~FileReader() {
  if (f_ != nullptr) std::fclose(f_);
}

void FileReader::get(void* data, size_t n) {
  if (std::fread(data, 1, n, f_) != n) {
    if (std::ferror(f_)) io_error("cannot read index file", path_, errno);
    corrupt("file ended early");
  }
}

void MemoryReader::get(void* data, size_t n) {
  if (n > size_ - pos_) corrupt("buffer ended early");
  std::memcpy(data, data_ + pos_, n);
  pos_ += n;
}

}  // namespace semvec
