// Shared by the libFuzzer targets of test/fuzz: turning fuzz input into a
// file the readers get past the checksums of, and exercising what loads.
//
// A finding is anything a sanitizer reports, an exception other than
// semvec::Error escaping, or a broken invariant (abort): a file that loads
// must search without error and save to bytes that load to the same index.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "api_limits.h"
#include "crc32c.h"
#include "errors.h"
#include "flat_index.h"
#include "file_format.h"
#include "graph_index.h"
#include "ivf_index.h"

namespace semvec_fuzz {

// Payload offsets of the IVF fields (docs/file-format.md).
constexpr size_t kIvfEncoding = 20;

[[noreturn]] inline void finding(const char* what) {
  std::fprintf(stderr, "semvec fuzz finding: %s\n", what);
  std::abort();
}

template <typename T>
void put(std::vector<uint8_t>& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof(T));
}

// The input as a file: with a header and payload, its payload size field
// and both checksums are made consistent, so that mutations reach the
// field checks and the payload parser instead of stopping at a checksum
// (the checksum checks themselves are covered by the unit tests).
inline std::vector<uint8_t> as_file(const uint8_t* data, size_t size) {
  std::vector<uint8_t> b(data, data + size);
  constexpr size_t kFrame = semvec::kHeaderBytes + semvec::kTrailerBytes;
  if (b.size() < kFrame) return b;
  const size_t payload = b.size() - kFrame;
  put<uint64_t>(b, 32, payload);
  put<uint32_t>(b, 60, semvec::crc32c(b.data(), 60));
  put<uint32_t>(b, semvec::kHeaderBytes + payload, semvec::crc32c(b.data() + semvec::kHeaderBytes, payload));
  return b;
}

// Forces an IVF file's encoding fields (format major, encoding) to one
// encoding, so that a target keeps fuzzing the reader of that encoding: a
// file of format 3 stays 3, older ones get the major of their encoding
// (1.0 for f32, 2.0 for sq8).
inline void force_ivf_encoding(std::vector<uint8_t>& b, semvec::IvfEncoding e) {
  if (b.size() < semvec::kHeaderBytes + kIvfEncoding + 4) return;
  uint16_t major;
  std::memcpy(&major, b.data() + 8, 2);
  if (major != 3) put<uint16_t>(b, 8, e == semvec::IvfEncoding::Sq8 ? 2 : 1);
  put<uint32_t>(b, semvec::kHeaderBytes + kIvfEncoding, static_cast<uint32_t>(e));
}

template <typename Index>
std::vector<uint8_t> bytes_of(const Index& index) {
  std::vector<uint8_t> out;
  index.serialize([&](size_t size) {
    out.resize(size);
    return static_cast<void*>(out.data());
  });
  return out;
}

// A few queries of the index's dim: ordinary, zero, and extreme values.
inline std::vector<float> queries(size_t dim) {
  std::vector<float> q(3 * dim);
  for (size_t i = 0; i < dim; ++i) {
    q[i] = static_cast<float>(i % 7) - 3.0f;
    q[dim + i] = 0.0f;
    q[2 * dim + i] = (i % 2 ? -1.0f : 1.0f) * 3e38f;
  }
  return q;
}

inline void check_results(const semvec::SearchResults& r, size_t nq, size_t size) {
  if (r.nq != nq || r.k > size || r.ids.size() != nq * r.k || r.scores.size() != nq * r.k)
    finding("search results of the wrong shape");
  for (float s : r.scores)
    if (s != s) finding("a NaN score");
}

inline bool same(const semvec::SearchResults& a, const semvec::SearchResults& b) {
  return a.k == b.k && a.ids == b.ids && a.scores.size() == b.scores.size() &&
         (a.scores.empty() || std::memcmp(a.scores.data(), b.scores.data(), a.scores.size() * sizeof(float)) == 0);
}

inline void exercise(const semvec::FlatIndex& ix) {
  const size_t d = ix.dim(), n = ix.size();
  const std::vector<float> q = queries(d);
  const semvec::SearchResults r = ix.search(q.data(), 3, 10);
  check_results(r, 3, n);
  const uint64_t allow[] = {0, 1, 2, ix.next_id() > 0 ? ix.next_id() - 1 : 0};
  check_results(ix.search(q.data(), 3, 5, allow, 4), 3, n);
  // Saved bytes load to the same index, and save to the same bytes.
  const std::vector<uint8_t> saved = bytes_of(ix);
  auto back = semvec::FlatIndex::deserialize(saved.data(), saved.size());
  if (bytes_of(*back) != saved) finding("flat: saved bytes do not round-trip");
  if (back->size() != n || back->next_id() != ix.next_id()) finding("flat: reloaded index differs");
  if (!same(back->search(q.data(), 3, 10), r)) finding("flat: reloaded index searches differently");
}

inline void exercise(semvec::IvfIndex& ix) {
  const size_t d = ix.dim(), n = ix.size();
  const std::vector<float> q = queries(d);
  const std::vector<uint8_t> saved = bytes_of(ix);
  auto back = semvec::IvfIndex::deserialize(saved.data(), saved.size());
  if (bytes_of(*back) != saved) finding("ivf: saved bytes do not round-trip");
  if (back->size() != n || back->next_id() != ix.next_id() || back->nlist() != ix.nlist())
    finding("ivf: reloaded index differs");
  if (!ix.is_trained()) {
    try {
      ix.search(q.data(), 1, 1);
      finding("ivf: an untrained index searched");
    } catch (const semvec::Error&) {
    }
    return;
  }
  // Every list when there are few; the default nprobe otherwise.
  const std::optional<size_t> nprobe = ix.nlist() <= 256 ? std::optional<size_t>(ix.nlist()) : std::nullopt;
  const semvec::SearchResults r = ix.search(q.data(), 3, 10, semvec::IvfSearchParams{nprobe, std::nullopt, nullptr, 0});
  check_results(r, 3, n);
  if (!same(back->search(q.data(), 3, 10, semvec::IvfSearchParams{nprobe, std::nullopt, nullptr, 0}), r)) finding("ivf: reloaded index searches differently");
  if (ix.encoding() == semvec::IvfEncoding::Sq8) {
    check_results(ix.search(q.data(), 3, 10, semvec::IvfSearchParams{nprobe, 0, nullptr, 0}), 3, n);
    check_results(ix.search(q.data(), 3, 10, semvec::IvfSearchParams{nprobe, 1000, nullptr, 0}), 3, n);
  }
  const uint64_t allow[] = {0, 1, 2, ix.next_id() > 0 ? ix.next_id() - 1 : 0};
  check_results(ix.search(q.data(), 3, 5, semvec::IvfSearchParams{1, std::nullopt, allow, 4}), 3, n);
  // The saved centroids and lists hold what was loaded.
  if (back->list_sizes() != ix.list_sizes() || back->centroids() != ix.centroids())
    finding("ivf: reloaded lists differ");
}

// A graph that loads: searches at several breadths, with narrow (scanned)
// and wide (walked) allow-lists, saves to bytes that load to the same
// graph, and, in a copy, takes removals past the repair threshold and new
// vectors: a walk, a repair or an insertion never reads outside the store.
inline void exercise(const semvec::GraphIndex& ix) {
  const size_t d = ix.dim(), n = ix.size();
  const std::vector<float> q = queries(d);
  semvec::GraphSearchParams narrow, exact_free;
  narrow.ef = 1;
  exact_free.ef = 200;
  exact_free.rerank = 0;
  const semvec::SearchResults r = ix.search(q.data(), 3, 10);
  check_results(r, 3, n);
  check_results(ix.search(q.data(), 3, 10, narrow), 3, n);
  check_results(ix.search(q.data(), 3, 10, exact_free), 3, n);
  std::vector<uint64_t> allow;
  for (uint64_t id = 0; id < std::min<uint64_t>(ix.next_id(), 400); ++id) allow.push_back(id);
  for (size_t take : {size_t(3), allow.size()}) {
    semvec::GraphSearchParams p;
    p.allow = allow.data();
    p.n_allow = std::min(take, allow.size());
    check_results(ix.search(q.data(), 3, 5, p), 3, n);
  }
  const std::vector<uint8_t> saved = bytes_of(ix);
  auto back = semvec::GraphIndex::deserialize(saved.data(), saved.size());
  if (bytes_of(*back) != saved) finding("graph: saved bytes do not round-trip");
  if (back->size() != n || back->next_id() != ix.next_id() || back->slots() != ix.slots())
    finding("graph: reloaded index differs");
  if (!same(back->search(q.data(), 3, 10), r)) finding("graph: reloaded index searches differently");
  // Removing a fifth of what is held (ids found by their neighbours' links
  // and by trying small ids) repairs and compacts the graph.
  std::vector<uint64_t> gone;
  for (uint64_t id = 0; id < std::min<uint64_t>(ix.next_id(), 4096) && gone.size() * 5 < n + 4; ++id)
    if (back->contains(id)) gone.push_back(id);
  if (!gone.empty()) {
    if (back->remove(gone.data(), gone.size()) != gone.size()) finding("graph: remove lost count");
    if (back->size() != n - gone.size()) finding("graph: size after remove");
    check_results(back->search(q.data(), 3, 10), 3, back->size());
  }
  std::vector<float> more(8 * d);
  for (size_t i = 0; i < more.size(); ++i) more[i] = static_cast<float>((i * 37) % 11) - 5.0f;
  try {
    back->add(more.data(), 8, nullptr);
  } catch (const semvec::Error&) {
    return;  // ids exhausted (next_id near the limit): refused with a coded error
  }
  check_results(back->search(q.data(), 3, 10), 3, back->size());
}

}  // namespace semvec_fuzz
