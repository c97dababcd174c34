#include "file_payload.h"

#include <algorithm>
#include <string>

#include "errors.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

void expect_kind(const FileHeader& h, IndexKind kind) {
  if (h.kind != kind)
    throw Error(ErrorCode::WrongKind, std::string("expected a ") + index_kind_name(kind) +
                                          " index file; this file holds a " + index_kind_name(h.kind) +
                                          " index");
}

void write_ids(Writer& w, const PackedStore& store) {
  std::vector<uint64_t> ids(store.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = store.id_at(i);
  w.write(ids.data(), ids.size() * sizeof(uint64_t));
}

void write_vectors(Writer& w, const PackedStore& store) {
  const size_t step = kBlock * 64, d = store.dim();
  std::vector<float> rows(step * d);
  for (size_t s = 0; s < store.size(); s += step) {
    const size_t m = std::min(step, store.size() - s);
    store.unpack_rows(s, m, rows.data());
    w.write(rows.data(), m * d * sizeof(float));
  }
}

void read_vectors(Reader& r, size_t n, size_t dim, const uint64_t* ids, PackedStore& store) {
  // About 16 MiB per read (a multiple of the block), packed on all threads.
  const size_t step = std::max<size_t>(kBlock, (size_t(16) << 20) / (dim * sizeof(float)) / kBlock * kBlock);
  std::vector<float> rows(std::min(step, n) * dim);
  store.reserve(store.size() + n);
  for (size_t s = 0; s < n; s += step) {
    const size_t m = std::min(step, n - s);
    r.read(rows.data(), m * dim * sizeof(float));
    try {
      check_finite(rows.data(), m, dim, "stored vectors");
    } catch (const Error&) {
      throw Error(ErrorCode::CorruptFile, "corrupt semvec index file: a stored vector is not finite");
    }
    store.append(rows.data(), m, ids + s, false, &ThreadPool::global());
  }
}

void check_stored_id(uint64_t id) {
  if (id > kMaxId)
    throw Error(ErrorCode::CorruptFile, "corrupt semvec index file: id " + std::to_string(id) +
                                            " is outside 0..2^53-1");
}

void check_next_id(uint64_t next_id, const std::vector<uint64_t>& ids) {
  if (next_id > kMaxNextId)
    throw Error(ErrorCode::CorruptFile, "corrupt semvec index file: next id " + std::to_string(next_id) +
                                            " is outside 0..2^53");
  if (ids.empty()) return;
  const uint64_t max_id = *std::max_element(ids.begin(), ids.end());
  if (next_id <= max_id)
    throw Error(ErrorCode::CorruptFile, "corrupt semvec index file: next id " + std::to_string(next_id) +
                                            " is not above the largest id " + std::to_string(max_id));
}

}  // namespace semvec
