// Pieces of the index payloads of the file format (file_format.h) shared by
// the index kinds: the kind and version checks, vectors in (formats 1.0 and
// 2.0), and the checks every loaded vector, id and next id must pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "file_format.h"

namespace semvec {

// Throws Error(WrongKind) unless the file holds an index of `kind`.
void expect_kind(const FileHeader& h, IndexKind kind);
// Throws Error(UnsupportedVersion) unless the file's format can be mapped
// (kMappableMajor or later), saying to load it or save it again.
void expect_mappable(const FileHeader& h);

// Reads n vectors (dim f32 each, row-major) in pieces of about 16 MiB (a
// multiple of kBlock vectors) and hands each to add(rows, count, first)
// once checked: a non-finite value is ERR_CORRUPT_FILE.
using AddRows = std::function<void(const float* rows, size_t count, size_t first)>;
void read_vectors(Reader& r, size_t n, size_t dim, const AddRows& add);
// A stored id is at most kMaxId (ERR_CORRUPT_FILE otherwise).
void check_stored_id(uint64_t id);
// A stored next id is at most kMaxNextId and exceeds every id.
void check_next_id(uint64_t next_id, const std::vector<uint64_t>& ids);
// The same given the largest stored id (any: whether there is one).
void check_next_id(uint64_t next_id, bool any, uint64_t largest);
// n stored floats are finite (ERR_CORRUPT_FILE naming `what` otherwise).
void check_stored_finite(const float* x, size_t n, const char* what);
// Throws ERR_CORRUPT_FILE: "corrupt semvec index file: <why>".
[[noreturn]] void corrupt_file(const std::string& why);

}  // namespace semvec
