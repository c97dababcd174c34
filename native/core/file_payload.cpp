#include "file_payload.h"

#include <algorithm>
#include <string>

#include "distances.h"
#include "errors.h"
#include "vectors.h"

namespace semvec {

void expect_kind(const FileHeader& h, IndexKind kind) {
  if (h.kind != kind)
    throw Error(ErrorCode::WrongKind, std::string("expected a ") + index_kind_name(kind) +
                                          " index file; this file holds a " + index_kind_name(h.kind) +
                                          " index");
}

void expect_mappable(const FileHeader& h) {
  if (h.major >= kMappableMajor) return;
  const std::string v = std::to_string(h.major) + "." + std::to_string(h.minor);
  const std::string m = std::to_string(kMappableMajor) + ".0";
  throw Error(ErrorCode::UnsupportedVersion, "index file format " + v + " cannot be mapped (format " + m +
                                                 " and later can): load() it instead, or load() it and save() it "
                                                 "again to write format " + m);
}

void read_vectors(Reader& r, size_t n, size_t dim, const AddRows& add) {
  const size_t step = std::max<size_t>(kBlock, (size_t(16) << 20) / (dim * sizeof(float)) / kBlock * kBlock);
  std::vector<float> rows(std::min(step, n) * dim);
  for (size_t s = 0; s < n; s += step) {
    const size_t m = std::min(step, n - s);
    r.read(rows.data(), m * dim * sizeof(float));
    try {
      check_finite(rows.data(), m, dim, "stored vectors");
    } catch (const Error&) {
      throw Error(ErrorCode::CorruptFile, "corrupt semvec index file: a stored vector is not finite");
    }
    add(rows.data(), m, s);
  }
}

void check_stored_id(uint64_t id) {
  if (id > kMaxId)
    throw Error(ErrorCode::CorruptFile, "corrupt semvec index file: id " + std::to_string(id) +
                                            " is outside 0..2^53-1");
}

void check_next_id(uint64_t next_id, const std::vector<uint64_t>& ids) {
  check_next_id(next_id, !ids.empty(), ids.empty() ? 0 : *std::max_element(ids.begin(), ids.end()));
}

void check_next_id(uint64_t next_id, bool any, uint64_t largest) {
  if (next_id > kMaxNextId)
    corrupt_file("next id " + std::to_string(next_id) + " is outside 0..2^53");
  if (any && next_id <= largest)
    corrupt_file("next id " + std::to_string(next_id) + " is not above the largest id " + std::to_string(largest));
}

void check_stored_finite(const float* x, size_t n, const char* what) {
  try {
    check_finite(x, n, 1, what);
  } catch (const Error&) {
    corrupt_file(std::string("a stored ") + what + " value is not finite");
  }
}

void corrupt_file(const std::string& why) {
  throw Error(ErrorCode::CorruptFile, "corrupt semvec index file: " + why);
}

}  // namespace semvec
