#include "graph_filter.h"

namespace semvec {

bool graph_scan_allowed(size_t allowed, size_t live, size_t ef, double factor) {
  const double a = static_cast<double>(allowed);
  return a * a <= factor * static_cast<double>(ef) * static_cast<double>(live);
}

SlotFilter GraphFilter::slot_filter(const GraphStore& g) const {
  SlotFilter f;
  f.deleted = g.tombstone_flags();
  if (active && !scan) f.allowed = mask.data();
  return f;
}

}  // namespace semvec
