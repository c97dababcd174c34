// Pieces shared by the index implementations: argument checks, id
// assignment, query preparation, result finishing and payload I/O of packed
// vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "errors.h"
#include "file_format.h"
#include "api_limits.h"
#include "packed_store.h"
#include "topk.h"

namespace semvec {

struct SearchResults {
  size_t nq = 0;
  size_t k = 0;               // results per query: min(requested k, size)
  std::vector<float> scores;  // nq * k, best first per query
  std::vector<uint64_t> ids;  // nq * k
  // Results found per query (<= k; less when an approximate index finds
  // fewer candidates). Empty means k for every query.
  std::vector<uint32_t> counts;
};

size_t check_dim(size_t dim);
void check_capacity(size_t size, size_t adding);
// Caller-chosen ids (n of them, or none when null) are at most kMaxId.
void check_ids(const uint64_t* ids, size_t n);

// The ids an add will use: the given ones after checking they are at most
// kMaxId, unique in the call and absent from the index, or sequential from
// next_id, refused (InvalidArgument) if the last would pass kMaxId. Throws
// before the index changes.
template <typename Map>
std::vector<uint64_t> assign_ids(const uint64_t* ids, size_t n, uint64_t next_id, const Map& existing) {
  std::vector<uint64_t> out(n);
  if (ids == nullptr) {
    if (n > 0 && (next_id > kMaxId || n - 1 > kMaxId - next_id))
      throw Error(ErrorCode::InvalidArgument,
                  "automatic ids would pass 2^53 - 1, the largest id: nextId is " + std::to_string(next_id) +
                      " and this add has " + std::to_string(n) + (n == 1 ? " vector" : " vectors") +
                      "; give these vectors explicit ids");
    for (size_t i = 0; i < n; ++i) out[i] = next_id + i;
    return out;
  }
  std::unordered_set<uint64_t> seen;
  seen.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (ids[i] > kMaxId)
      throw Error(ErrorCode::InvalidArgument, "id " + std::to_string(ids[i]) + " (at " + std::to_string(i) +
                                                  ") is above 2^53 - 1, the largest id");
    if (!seen.insert(ids[i]).second)
      throw Error(ErrorCode::DuplicateId, "id " + std::to_string(ids[i]) +
                                              " appears more than once in this add (at " +
                                              std::to_string(i) + ")");
    if (existing.count(ids[i]))
      throw Error(ErrorCode::DuplicateId, "id " + std::to_string(ids[i]) + " is already in the index");
    out[i] = ids[i];
  }
  return out;
}

// Approximate heap bytes of an unordered_map: bucket array plus one node
// (next pointer, key, value, padding) per entry.
template <typename Map>
size_t hash_map_bytes(const Map& m) {
  using V = typename Map::value_type;
  return m.bucket_count() * sizeof(void*) + m.size() * (sizeof(void*) + (sizeof(V) + 7) / 8 * 8);
}

// Queries ready for scoring: normalised into buf for Cosine, else q itself.
const float* prepare_queries(const float* q, size_t nq, size_t d, Metric metric, std::vector<float>& buf);

// Sorts each query's hits into res (res.nq and res.k set by the caller) and,
// for L2, turns scores (2 <q, x> - ||x||^2) into distances ||q - x||^2.
void finish_results(TopK* heaps, const float* queries, size_t nq, size_t d, Metric metric,
                    SearchResults& res);

void expect_kind(const FileHeader& h, IndexKind kind);

// Payload pieces: ids (u64 each) and vectors (f32, row-major) of a store.
void write_ids(Writer& w, const PackedStore& store);
void write_vectors(Writer& w, const PackedStore& store);
// Reads n row-major vectors and appends them with `ids` to `store` as they
// are (no normalisation); non-finite values are ERR_CORRUPT_FILE.
void read_vectors(Reader& r, size_t n, size_t dim, const uint64_t* ids, PackedStore& store);
// A stored id is at most kMaxId (ERR_CORRUPT_FILE otherwise).
void check_stored_id(uint64_t id);
// A stored next id is at most kMaxNextId and exceeds every id.
void check_next_id(uint64_t next_id, const std::vector<uint64_t>& ids);

}  // namespace semvec
