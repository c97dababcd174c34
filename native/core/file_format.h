// The semvec index file format and the readers/writers behind it.
//
// Layout (all integers little-endian):
//   header, 64 bytes:
//     0  char[8]  magic "SEMVECIX"
//     8  u16      format major (at most kFormatMajor); a reader rejects newer majors
//     10 u16      format minor; newer minors are readable
//     12 u32      index kind (IndexKind)
//     16 u32      metric (Metric)
//     20 u32      dim
//     24 u64      count (vectors)
//     32 u64      payload bytes
//     40 u8[20]   reserved, zero
//     60 u32      CRC-32C of bytes 0..59
//   payload (kind-specific: format 3.0 in flat_index_io.cpp,
//   ivf_index_v3.cpp and graph_index_io.cpp over the sections of
//   file_sections.h; formats 1.0 and 2.0, read only, in flat_index_io.cpp
//   and ivf_index_io.cpp; shared pieces
//   in file_payload.h)
//   trailer, 8 bytes:
//     u32 CRC-32C of the payload, then char[4] "XEND"
//
// Files are written to a temporary name beside the target, fsynced, renamed
// into place and the directory fsynced: a reader sees the old file or the
// new one, never a mix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "api_limits.h"
#include "metric.h"

namespace semvec {

// The newest format this code reads, and the one it writes: 3.0, whose
// payload holds the in-memory arrays (file_sections.h) so that a file can be
// mapped and searched in place. Formats 1.0 (flat, f32 IVF) and 2.0 (sq8
// IVF) are still read.
constexpr uint16_t kFormatMajor = 5;
// The oldest format an index can be mapped from (FileMapping, open()).
constexpr uint16_t kMappableMajor = 3;
constexpr uint16_t kFormatMinor = 0;
constexpr size_t kHeaderBytes = 64;
constexpr size_t kTrailerBytes = 8;

// The kind of index a file holds (the header's kind field).
enum class IndexKind : uint32_t { Flat = 1, Ivf = 2, Graph = 3 };

const char* index_kind_name(IndexKind kind);

struct FileHeader {
  uint16_t major = 1;
  uint16_t minor = 0;
  IndexKind kind = IndexKind::Flat;
  Metric metric = Metric::InnerProduct;
  uint32_t dim = 0;
  uint64_t count = 0;
  uint64_t payload_bytes = 0;
};

// Byte sink with a running CRC-32C of the payload.
class Writer {
 public:
  virtual ~Writer() = default;
  void write_header(const FileHeader& h);
  void write(const void* data, size_t n);  // payload bytes; n == 0 does nothing
  void write_trailer();
  template <typename T>
  void write_pod(const T& v) {
    write(&v, sizeof(T));
  }

 protected:
  virtual void put(const void* data, size_t n) = 0;

 private:
  uint32_t crc_ = 0;
};

// Writes `path` atomically: commit() makes the file appear; destroying an
// uncommitted writer removes the temporary file.
class FileWriter : public Writer {
 public:
  explicit FileWriter(const std::string& path);
  ~FileWriter() override;
  void commit();

 protected:
  void put(const void* data, size_t n) override;

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  std::vector<char> buf_;
  size_t used_ = 0;
  void flush();
};

// Writes into caller-owned memory of a known size.
class MemoryWriter : public Writer {
 public:
  MemoryWriter(void* data, size_t capacity) : data_(static_cast<char*>(data)), cap_(capacity) {}
  size_t written() const { return used_; }

 protected:
  void put(const void* data, size_t n) override;

 private:
  char* data_;
  size_t cap_;
  size_t used_ = 0;
};

// Byte source with a running CRC-32C of the payload. Every read is checked
// against the sizes the header announced.
class Reader {
 public:
  virtual ~Reader() = default;
  // Reads and validates the header: magic, CRC, version, field ranges, and
  // that the source holds exactly header + payload + trailer bytes.
  FileHeader read_header();
  void read(void* data, size_t n);  // payload bytes; n == 0 does nothing
  template <typename T>
  T read_pod() {
    T v;
    read(&v, sizeof(T));
    return v;
  }
  // Checks that the payload was consumed exactly and its CRC matches.
  void read_trailer();

 protected:
  virtual void get(void* data, size_t n) = 0;
  virtual uint64_t total_size() const = 0;

 private:
  uint32_t crc_ = 0;
  uint64_t payload_left_ = 0;
};

// Checks the trailer of a whole file image of `size` bytes whose header
// was read (so size >= header + trailer): its end marker, and with
// `verify_crc` the CRC-32C of its payload (ERR_CORRUPT_FILE otherwise).
void check_image_trailer(const unsigned char* image, size_t size, bool verify_crc);

// Opens `path` for reading and returns a blocking descriptor of it, its
// size in *size. Only a regular file is opened: a missing file is
// ERR_NOT_FOUND; a FIFO, socket, device or directory is ERR_IO naming what
// it is (without waiting on a FIFO).
int open_index_file(const std::string& path, uint64_t* size);

class FileReader : public Reader {
 public:
  explicit FileReader(const std::string& path);
  ~FileReader() override;

 protected:
  void get(void* data, size_t n) override;
  uint64_t total_size() const override { return size_; }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  uint64_t size_ = 0;
};

class MemoryReader : public Reader {
 public:
  MemoryReader(const void* data, size_t size) : data_(static_cast<const char*>(data)), size_(size) {}

 protected:
  void get(void* data, size_t n) override;
  uint64_t total_size() const override { return size_; }

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace semvec
