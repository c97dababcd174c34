// Format 3 of the index file (docs/file-format.md): after the frame's
// header and the kind's fixed fields, a table of sections, then the
// sections, each at a 64-byte aligned file offset, holding the arrays of
// the index's stores exactly as the index uses them in memory. A file can
// so be searched in place (mapped: FileMapping, MappedSections) or read
// into owned arrays (StreamSections) by the same code, which asks a source
// for each array in file order.
//
// Section table: u32 count, u32 reserved (0), then per section u32 tag,
// u32 reserved (0), u64 file offset, u64 bytes. A reader computes the
// layout the index's fields imply (SectionLayout) and accepts only a table
// equal to it, so every array lies inside the file before any pointer to
// it is formed. The bytes between arrays (alignment, padding of lists to
// whole blocks) are zero.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "errors.h"
#include "file_format.h"
#include "pod_storage.h"

namespace semvec {

// Every section starts at a multiple of this file offset: the cache line,
// the widest SIMD load, and the alignment of owned buffers (buffer.h), so
// the kernels see the same alignment whether an index is mapped or owned.
constexpr uint64_t kSectionAlign = 64;

// What a section holds. Flat (kind 1): Vectors, SqNorms, Ids, IdTable.
// IVF (kind 2): ListSizes, Centroids, CentroidSqNorms, CentroidIds,
// CentroidRows, ListVectors, ListSqNorms, ListIds, Codes, CodeLo,
// CodeStep, CodeBias, IdTable. Graph (kind 3): GraphSum, GraphEntries,
// Vectors, SqNorms, GraphCodes, GraphLinks, Ids, Tombstones, IdTable. A
// section an index does not use has 0 bytes.
enum class SectionTag : uint32_t {
  Vectors = 1,
  SqNorms = 2,
  Ids = 3,
  IdTable = 4,
  ListSizes = 5,
  Centroids = 6,
  CentroidSqNorms = 7,
  CentroidIds = 8,
  CentroidRows = 9,
  ListVectors = 10,
  ListSqNorms = 11,
  ListIds = 12,
  Codes = 13,
  CodeLo = 14,
  CodeStep = 15,
  CodeBias = 16,
  RqScale = 17,
  RqBias = 18,
  RqOnes = 19,
  Rotation = 20,
  GraphSum = 21,
  GraphEntries = 22,
  GraphCodes = 23,
  GraphLinks = 24,
  Tombstones = 25,
  GraphLayers = 26,
  GraphCentroids = 27,
  GraphGroups = 28,
};

const char* section_name(SectionTag tag);

struct Section {
  SectionTag tag;
  uint64_t offset;  // from the start of the file
  uint64_t bytes;
};

// The sections of a payload in file order, the first after the table.
class SectionLayout {
 public:
  // table_offset: the file offset of the section table; sections: how many
  // the table lists.
  SectionLayout(uint64_t table_offset, size_t sections);
  // Appends a section at the next aligned offset.
  void add(SectionTag tag, uint64_t bytes);
  const Section& operator[](SectionTag tag) const;
  const std::vector<Section>& sections() const { return sections_; }
  uint64_t table_offset() const { return table_offset_; }
  uint64_t table_end() const;
  // The file offset where the last section ends (the payload's end).
  uint64_t end() const { return end_; }

 private:
  uint64_t table_offset_;
  size_t count_;
  uint64_t end_;
  std::vector<Section> sections_;
};

inline uint64_t align_section(uint64_t offset) { return (offset + kSectionAlign - 1) / kSectionAlign * kSectionAlign; }

// The payload bytes of a file whose sections end at `end`.
inline uint64_t payload_bytes_of(const SectionLayout& l) { return l.end() - kHeaderBytes; }

void write_section_table(Writer& w, const SectionLayout& layout);
// Reads a table of at most 64 sections (ERR_CORRUPT_FILE otherwise).
std::vector<Section> read_section_table(Reader& r);
// Checks that `found` lists as many sections as `expected` and the same
// ones from the first on (all of them unless `prefix`): ERR_CORRUPT_FILE
// naming the first that differs.
void expect_sections(const std::vector<Section>& found, const SectionLayout& expected, size_t prefix = 0);

// Writes the sections of a layout in order: zeros up to each array.
class SectionWriter {
 public:
  // position: the file offset the writer has reached (the table's end).
  SectionWriter(Writer& w, uint64_t position) : w_(w), pos_(position) {}
  // Zeros up to `offset`, then n bytes of data.
  void put(uint64_t offset, const void* data, size_t n);
  // Zeros up to `end` (the end of the last section).
  void finish(uint64_t end);

 private:
  void zeros_to(uint64_t offset);
  Writer& w_;
  uint64_t pos_;
};

// The arrays of a file as read-only views into its image: no copy. Asked
// in file order; with `verify`, finish() checks that the bytes between the
// arrays are zero (as StreamSections does while reading).
class MappedSections {
 public:
  MappedSections(const unsigned char* image, uint64_t size, uint64_t position, bool verify)
      : image_(image), size_(size), pos_(position), verify_(verify) {}

  template <typename T>
  PodStorage<T> take(uint64_t offset, size_t count) {
    const uint64_t bytes = uint64_t(count) * sizeof(T);
    advance(offset, bytes);
    return PodStorage<T>::view(reinterpret_cast<const T*>(image_ + offset), count);
  }
  void finish(uint64_t end);

 private:
  void advance(uint64_t offset, uint64_t bytes);
  const unsigned char* image_;
  uint64_t size_;
  uint64_t pos_;
  bool verify_;
  std::vector<std::pair<uint64_t, uint64_t>> gaps_;  // [from, to) between arrays, with verify
};

// The arrays of a file read in file order into owned buffers (load,
// fromBuffer); the bytes between them must be zero.
class StreamSections {
 public:
  StreamSections(Reader& r, uint64_t position) : r_(r), pos_(position) {}

  template <typename T>
  PodStorage<T> take(uint64_t offset, size_t count) {
    skip_to(offset);
    PodBuffer<T> out;
    out.resize(count);
    r_.read(out.data(), count * sizeof(T));
    pos_ += uint64_t(count) * sizeof(T);
    return PodStorage<T>(std::move(out));
  }
  void finish(uint64_t end) { skip_to(end); }

 private:
  void skip_to(uint64_t offset);
  Reader& r_;
  uint64_t pos_;
};

}  // namespace semvec
