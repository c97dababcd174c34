// Helpers for tests of the file format: index bytes, hand-edited fields and
// checksums made valid again, as a crafted file would have them.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "crc32c.h"
#include "file_format.h"
#include "file_sections.h"

namespace testutil {

// The bytes serialize() produces for `index`.
template <typename Index>
std::vector<unsigned char> bytes_of(const Index& index) {
  std::vector<unsigned char> out;
  index.serialize([&](size_t size) {
    out.resize(size);
    return static_cast<void*>(out.data());
  });
  return out;
}

template <typename T>
void put(std::vector<unsigned char>& b, size_t offset, T v) {
  std::memcpy(b.data() + offset, &v, sizeof(T));
}

template <typename T>
T get(const std::vector<unsigned char>& b, size_t offset) {
  T v;
  std::memcpy(&v, b.data() + offset, sizeof(T));
  return v;
}

// Recomputes the header and payload checksums of a whole file.
inline void reseal(std::vector<unsigned char>& b) {
  put<uint32_t>(b, 60, semvec::crc32c(b.data(), 60));
  const size_t payload = b.size() - semvec::kHeaderBytes - semvec::kTrailerBytes;
  put<uint32_t>(b, semvec::kHeaderBytes + payload, semvec::crc32c(b.data() + semvec::kHeaderBytes, payload));
}

// A payload field (offset from the start of the payload) set to v, with
// valid checksums.
template <typename T>
std::vector<unsigned char> with_field(std::vector<unsigned char> b, size_t payload_offset, T v) {
  put<T>(b, semvec::kHeaderBytes + payload_offset, v);
  reseal(b);
  return b;
}

// The file offset of section `tag` of a format-3 file, from its table.
inline uint64_t section_at(const std::vector<unsigned char>& b, semvec::SectionTag tag) {
  const uint32_t kind = get<uint32_t>(b, 12);
  const uint16_t major = get<uint16_t>(b, 8), minor = get<uint16_t>(b, 10);
  // The fields before the section table: flat, IVF, graph (3.1 and 4.0: 128 bytes).
  const uint64_t table =
      semvec::kHeaderBytes + (kind == 1 ? 24 : kind == 2 ? 48 : major >= 4 || minor >= 1 ? 128 : 64);
  const uint32_t count = get<uint32_t>(b, table);
  for (uint32_t i = 0; i < count; ++i) {
    const size_t e = table + 8 + 24 * size_t(i);
    if (get<uint32_t>(b, e) == static_cast<uint32_t>(tag)) return get<uint64_t>(b, e + 8);
  }
  return 0;
}

// The file offset of the id table entry holding `id` (0 when none does).
inline uint64_t id_entry_at(const std::vector<unsigned char>& b, uint64_t id) {
  const uint64_t table = section_at(b, semvec::SectionTag::IdTable);
  for (uint64_t at = table; at + 16 <= b.size() - semvec::kTrailerBytes; at += 16)
    if (get<uint64_t>(b, at) == id) return at;
  return 0;
}

inline std::string temp_path(const std::string& name) {
  return "/tmp/semvec-core-test-" + std::to_string(::getpid()) + "-" + name;
}

}  // namespace testutil
