// Pieces of the index payloads of the file format (file_format.h) shared by
// the index kinds: the kind check, ids and vectors in and out, and the
// checks every loaded id and next id must pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "file_format.h"
#include "packed_store.h"

namespace semvec {

// Throws Error(WrongKind) unless the file holds an index of `kind`.
void expect_kind(const FileHeader& h, IndexKind kind);

// Ids (u64 each) and vectors (f32, row-major) of a store.
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
