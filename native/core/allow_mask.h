// An allow-list (the ids a search may return) turned into the form the
// scans take: 16-lane masks, one uint16_t per block of kBlock slots of a
// store, bit l set when slot block * kBlock + l may be returned
// (PackedRun::masks in scan.h; the sq8 list scan). An index has one store
// (flat) or one per inverted list (IVF); each gets its masks when the first
// of its vectors is allowed. Ids the index does not hold are ignored;
// repeated ids count once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace semvec {

class AllowMasks {
 public:
  // stores: how many stores the index has.
  explicit AllowMasks(size_t stores) : masks_(stores), allowed_in_(stores, 0) {}

  // Builds the masks of ids[0..n). locate(id, store, slot) sets where the
  // index holds id and returns true, or returns false when it does not;
  // store_size(store) is the number of vectors in that store.
  template <typename Locate, typename StoreSize>
  void allow_all(const uint64_t* ids, size_t n, Locate locate, StoreSize store_size) {
    for (size_t i = 0; i < n; ++i) {
      size_t store = 0, slot = 0;
      if (locate(ids[i], store, slot)) allow(store, slot, store_size(store));
    }
  }

  // Allows `slot` of `store` (which holds store_size vectors).
  void allow(size_t store, size_t slot, size_t store_size);

  // Distinct allowed vectors in all, and in one store.
  size_t allowed() const { return allowed_; }
  size_t allowed_in(size_t store) const { return allowed_in_[store]; }
  // The masks of a store (ceil(store_size / kBlock) of them), or nullptr
  // when none of its vectors is allowed.
  const uint16_t* masks(size_t store) const { return masks_[store].empty() ? nullptr : masks_[store].data(); }

 private:
  std::vector<std::vector<uint16_t>> masks_;
  std::vector<size_t> allowed_in_;
  size_t allowed_ = 0;
};

}  // namespace semvec
