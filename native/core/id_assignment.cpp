#include "id_assignment.h"

namespace semvec {

void check_capacity(size_t size, size_t adding) {
  if (adding > kMaxVectors - size)
    throw Error(ErrorCode::InvalidArgument,
                "an index holds at most " + std::to_string(kMaxVectors) + " vectors");
}

void check_ids(const uint64_t* ids, size_t n) {
  if (ids == nullptr) return;
  for (size_t i = 0; i < n; ++i)
    if (ids[i] > kMaxId)
      throw Error(ErrorCode::InvalidArgument, "ids must be integers in 0..2^53-1; received " +
                                                  std::to_string(ids[i]) + " at position " + std::to_string(i));
}

}  // namespace semvec
