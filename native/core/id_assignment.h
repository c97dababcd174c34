// The ids of an index: which ids an add uses (the caller's, checked, or
// sequential ones), and how many vectors an index may hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "api_limits.h"
#include "errors.h"

namespace semvec {

// Throws Error(InvalidArgument) when adding `adding` vectors to `size`
// would pass kMaxVectors.
void check_capacity(size_t size, size_t adding);

// Caller-chosen ids (n of them, or none when null) are at most kMaxId.
void check_ids(const uint64_t* ids, size_t n);

// The ids an add will use: the given ones after checking they are at most
// kMaxId, unique in the call and absent from the index (`existing`: a map,
// set or IdTable keyed by id), or sequential from next_id, refused
// (InvalidArgument) if the last would pass kMaxId. Throws before the index
// changes.
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

}  // namespace semvec
