// The limits of the index API, defined once: the core checks its arguments
// against them, the binding reads them from here, and the file readers hold
// every field of a loaded file to the same ranges, so a file can never carry
// a value that the API would have refused.
#pragma once

#include <cstddef>
#include <cstdint>

namespace semvec {

// Components of a vector.
constexpr uint32_t kMaxDim = 1u << 16;

// Vectors one index may hold (slots are 32-bit).
constexpr size_t kMaxVectors = 0xFFFFFFFFu;

// Ids are exact JavaScript numbers: integers in 0..2^53-1.
constexpr uint64_t kMaxId = (uint64_t(1) << 53) - 1;
// The id the next add without ids starts from: at most one past the
// largest id.
constexpr uint64_t kMaxNextId = kMaxId + 1;

// Inverted lists of an IVF index; nprobe is at most nlist.
constexpr size_t kMaxNlist = size_t(1) << 20;

// Candidates an sq8 IVF index re-ranks exactly per query.
constexpr size_t kMaxRerank = size_t(1) << 20;

// Links per node of a graph index.
constexpr size_t kMinGraphDegree = 4;
constexpr size_t kMaxGraphDegree = 256;

// Candidates a graph walk keeps (ef, and the build's ef).
constexpr size_t kMaxEf = size_t(1) << 16;

// Slots of a graph index, tombstones included (slot 2^32 - 1 marks "no
// link").
constexpr size_t kMaxGraphSlots = 0xFFFFFFFEu;

// k of a search: any id count. A larger k than the candidates means "all
// of them"; the core clamps it.
constexpr size_t kMaxK = kMaxId;

}  // namespace semvec
