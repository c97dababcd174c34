// Repairing a graph after removals (FreshDiskANN's consolidation of
// deletes): every live node linked to a tombstone chooses its links again
// among its live links and the live links of those tombstones, with the
// neighbour heuristic (graph_prune.h); then nothing live links to a
// tombstone, and the tombstones can be dropped (GraphStore::compact).
//
// Each task writes only its own node's row and reads only rows of
// tombstones (which no task writes), so the repair runs on all threads and
// its result does not depend on their number. Cost: one selection per
// affected node, over at most degree * (1 + its tombstone links)
// candidates.
#pragma once

#include <cstddef>

#include "graph_prune.h"
#include "graph_store.h"

namespace semvec {

class ThreadPool;

// Repairs every live node of g linked to a deleted one; returns how many.
// `dist` is brought up to g's slots.
size_t repair_tombstone_links(GraphStore& g, float alpha, PruneDistances& dist, ThreadPool& pool);

}  // namespace semvec
