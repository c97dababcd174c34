// Files of formats 1.0 and 2.0, which semvec reads but no longer writes,
// made from the format-3 bytes of the same index (found through the
// file's own section table): for tests and fuzz seeds of the old readers.
// Flat: format 1.0. IVF: 1.0 for f32, 2.0 for sq8.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "crc32c.h"
#include "distances.h"
#include "file_format.h"
#include "file_sections.h"

namespace testutil {

namespace legacy_detail {

using Bytes = std::vector<unsigned char>;

template <typename T>
T at(const Bytes& b, size_t offset) {
  T v;
  std::memcpy(&v, b.data() + offset, sizeof(T));
  return v;
}

template <typename T>
void append(Bytes& out, const T* p, size_t n) {
  const auto* c = reinterpret_cast<const unsigned char*>(p);
  out.insert(out.end(), c, c + n * sizeof(T));
}

template <typename T>
void append_pod(Bytes& out, T v) {
  append(out, &v, 1);
}

// The offset of the section `tag` in a format-3 file whose table starts at
// table_offset.
inline uint64_t section(const Bytes& b, uint64_t table_offset, semvec::SectionTag tag) {
  const uint32_t count = at<uint32_t>(b, table_offset);
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t e = table_offset + 8 + 24 * uint64_t(i);
    if (at<uint32_t>(b, e) == static_cast<uint32_t>(tag)) return at<uint64_t>(b, e + 8);
  }
  return 0;
}

// Row `slot` of packed blocks at `base` (dim components).
inline void unpack(const Bytes& b, uint64_t base, size_t slot, size_t dim, float* out) {
  const size_t k = semvec::kBlock;
  for (size_t c = 0; c < dim; ++c)
    out[c] = at<float>(b, base + 4 * ((slot / k) * k * dim + c * k + slot % k));
}

// The frame around a payload: header of the given major, trailer.
inline Bytes frame(const Bytes& v3, uint16_t major, const Bytes& payload) {
  Bytes out(v3.begin(), v3.begin() + semvec::kHeaderBytes);
  std::memcpy(out.data() + 8, &major, 2);
  const uint64_t size = payload.size();
  std::memcpy(out.data() + 32, &size, 8);
  const uint32_t hcrc = semvec::crc32c(out.data(), 60);
  std::memcpy(out.data() + 60, &hcrc, 4);
  out.insert(out.end(), payload.begin(), payload.end());
  append_pod<uint32_t>(out, semvec::crc32c(payload.data(), payload.size()));
  out.insert(out.end(), {'X', 'E', 'N', 'D'});
  return out;
}

}  // namespace legacy_detail

// The format-1.0 bytes of the flat index whose format-3 bytes are v3.
inline std::vector<unsigned char> legacy_flat(const std::vector<unsigned char>& v3) {
  using namespace legacy_detail;
  using semvec::SectionTag;
  const size_t dim = at<uint32_t>(v3, 20), n = at<uint64_t>(v3, 24);
  const uint64_t table = semvec::kHeaderBytes + 24;
  const uint64_t vectors = section(v3, table, SectionTag::Vectors), ids = section(v3, table, SectionTag::Ids);
  Bytes p;
  append_pod<uint64_t>(p, at<uint64_t>(v3, semvec::kHeaderBytes));
  for (size_t i = 0; i < n; ++i) append_pod<uint64_t>(p, at<uint64_t>(v3, ids + 8 * i));
  std::vector<float> row(dim);
  for (size_t i = 0; i < n; ++i) {
    unpack(v3, vectors, i, dim, row.data());
    append(p, row.data(), dim);
  }
  return frame(v3, 1, p);
}

// The format-1.0 (f32) or 2.0 (sq8) bytes of the IVF index whose format-3
// bytes are v3.
inline std::vector<unsigned char> legacy_ivf(const std::vector<unsigned char>& v3) {
  using namespace legacy_detail;
  using semvec::SectionTag;
  const size_t dim = at<uint32_t>(v3, 20);
  const uint64_t f = semvec::kHeaderBytes, table = f + 48;
  const uint32_t nlist = at<uint32_t>(v3, f + 8), trained = at<uint32_t>(v3, f + 16), encoding = at<uint32_t>(v3, f + 20);
  Bytes p;
  append_pod<uint64_t>(p, at<uint64_t>(v3, f));
  for (size_t i = 0; i < 4; ++i) append_pod<uint32_t>(p, at<uint32_t>(v3, f + 8 + 4 * i));
  if (encoding == 1) {
    append_pod<uint32_t>(p, at<uint32_t>(v3, f + 24));
    append_pod<uint32_t>(p, 0);
  }
  if (trained) {
    const uint64_t centroids = section(v3, table, SectionTag::Centroids);
    const uint64_t sizes = section(v3, table, SectionTag::ListSizes);
    const uint64_t vectors = section(v3, table, SectionTag::ListVectors), ids = section(v3, table, SectionTag::ListIds);
    std::vector<float> row(dim);
    for (size_t l = 0; l < nlist; ++l) {
      unpack(v3, centroids, l, dim, row.data());
      append(p, row.data(), dim);
    }
    for (size_t l = 0; l < nlist; ++l) append_pod<uint64_t>(p, at<uint64_t>(v3, sizes + 8 * l));
    uint64_t first = 0;  // the list's first slot in the list sections
    for (size_t l = 0; l < nlist; ++l) {
      const uint64_t n = at<uint64_t>(v3, sizes + 8 * l);
      for (uint64_t j = 0; j < n; ++j) append_pod<uint64_t>(p, at<uint64_t>(v3, ids + 8 * (first + j)));
      for (uint64_t j = 0; j < n; ++j) {
        if (encoding == 1) {
          for (size_t c = 0; c < dim; ++c) row[c] = at<float>(v3, vectors + 4 * ((first + j) * dim + c));
        } else {
          unpack(v3, vectors + 4 * first * dim, j, dim, row.data());
        }
        append(p, row.data(), dim);
      }
      first += (n + semvec::kBlock - 1) / semvec::kBlock * semvec::kBlock;
    }
  }
  return frame(v3, encoding == 1 ? 2 : 1, p);
}

}  // namespace testutil
