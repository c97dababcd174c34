#include "allow_mask.h"

#include "distances.h"

namespace semvec {

void AllowMasks::allow(size_t store, size_t slot, size_t store_size) {
  std::vector<uint16_t>& m = masks_[store];
  if (m.empty()) m.assign((store_size + kBlock - 1) / kBlock, 0);
  const uint16_t bit = static_cast<uint16_t>(1u << (slot % kBlock));
  if (m[slot / kBlock] & bit) return;
  m[slot / kBlock] |= bit;
  ++allowed_in_[store];
  ++allowed_;
}

}  // namespace semvec
