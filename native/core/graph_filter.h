// An allow-list made ready for a graph search, and the choice between its
// two strategies (graph_index.h): scan the allowed vectors, or walk the
// graph with a mask of the allowed slots.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "graph_search.h"
#include "graph_store.h"

namespace semvec {

// Whether a search allowed `allowed` of `live` vectors, keeping ef
// candidates, scans them rather than walks: allowed^2 <= factor * ef * live.
// A walk visits about ef / selectivity codes, a scan `allowed` codes
// (sequentially, so each costs less).
bool graph_scan_allowed(size_t allowed, size_t live, size_t ef, double factor);

struct GraphFilter {
  bool active = false;         // an allow-list was given
  bool scan = false;           // scan `slots` rather than walk
  size_t allowed = 0;          // distinct allowed live vectors
  std::vector<uint32_t> slots;  // scan: the allowed slots, ascending
  std::vector<uint8_t> mask;    // walk: 1 for each allowed slot

  // The filter of a walk over g.
  SlotFilter slot_filter(const GraphStore& g) const;
};

// The filter of ids[0..n): find(id, &slot) is true for a live id. Ids the
// index does not hold are ignored; repeats count once.
template <typename Find>
GraphFilter make_graph_filter(const uint64_t* ids, size_t n, size_t slots, size_t live, size_t ef, double factor,
                              Find find) {
  GraphFilter f;
  f.active = true;
  f.slots.reserve(n < slots ? n : slots);
  for (size_t i = 0; i < n; ++i) {
    uint32_t slot;
    if (find(ids[i], &slot)) f.slots.push_back(slot);
  }
  std::sort(f.slots.begin(), f.slots.end());
  f.slots.erase(std::unique(f.slots.begin(), f.slots.end()), f.slots.end());
  f.allowed = f.slots.size();
  f.scan = graph_scan_allowed(f.allowed, live, ef, factor);
  if (!f.scan) {
    f.mask.assign(slots, 0);
    for (uint32_t s : f.slots) f.mask[s] = 1;
    f.slots.clear();
    f.slots.shrink_to_fit();
  }
  return f;
}

}  // namespace semvec
