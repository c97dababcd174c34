// Building the graph: linking new slots into it, in parallel and
// deterministically.
//
// New slots are inserted in batches (prefix doubling, as ParlayANN builds
// Vamana and HNSW): a batch is never larger than the graph it goes into,
// nor than a fiftieth of the slots the add ends with, so the first slots go
// in one, two, four at a time and most of a large add in batches of 2%.
// Within a batch every slot, on any thread:
//   1. walks the graph as it was before the batch (beam search on the codes
//      with ef = build_ef, from where the upper layers route it, or the
//      entry slots while there are none) for its nearest live slots, and
//      its code becomes its residual from the layer-2 member the route met
//      (its anchor, graph_codes.h), unless it is to be one;
//   2. selects its links among them with the heuristic of graph_prune.h
//      (distances of 8-bit codes, exact integer arithmetic).
// The batch's slots are routed first, then walk in the order of their
// routes (layer-2 member, then first slot), each thread taking runs of 8,
// so that walks through one region follow each other while its code rows
// are in cache (300k hard-mixture vectors: 23.3 s against 25.1 s, the same
// graph byte for byte; at 1M, with the bit visited set of graph_search.h,
// the linking took 83.3 s against 101.5 s).
// Then, serially in slot order, the batch is committed: each slot gets its
// links, and each slot linked to gets a link back; a slot whose row would
// overflow chooses again among its old links and the new ones (the same
// heuristic), on all threads, one slot per task. Last, the batch's slots
// that have a level join the upper layers the same way, on all threads
// (GraphLayers::insert_batch: 300k hard-mixture vectors built in 23.4 s
// against 26.3 s one by one, recall@10 as before).
//
// Because each walk only reads the graph as it was before its batch, and
// every choice is a function of its inputs (ties broken by slot), the graph
// depends on the vectors, the ids' order, the seed and how the adds were
// split, and never on the number of threads or their timing. Within an add
// the new slots are inserted in a seeded random order, so sorted input does
// not make a chain of the graph.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "graph_layers.h"
#include "graph_prune.h"
#include "graph_store.h"

namespace semvec {

class ThreadPool;
struct GraphScratch;

struct GraphBuildParams {
  size_t build_ef = 0;  // candidates each insertion walk keeps
  float alpha = 1.0f;   // the heuristic's alpha (graph_prune.h)
  uint64_t seed = 0;    // insertion order within an add
};

// What the build keeps between adds: the upper layers that route every
// walk, the entry slots of walks while there are no layers (a graph of a
// few slots), and the sum of the live vectors (their mean picks the entry).
struct GraphEntry {
  GraphLayers layers;
  std::vector<uint32_t> slots;
  std::vector<double> sum;  // dim values
  size_t live = 0;          // vectors in the sum
};

// Links slots [first, first + n) of g (appended, without links) into the
// graph of the slots before them, and updates `entry`; `dist` is brought up
// to the new slots.
void link_new_slots(GraphStore& g, size_t first, size_t n, const GraphBuildParams& p, GraphEntry& entry,
                    PruneDistances& dist, ThreadPool& pool);

// The live slot nearest to the mean of the live vectors (a walk from the
// current entry), as the new entry; none when the graph holds no live slot.
void choose_entry(const GraphStore& g, size_t build_ef, GraphEntry& entry);

// Where a walk for the query s.probe is prepared for starts: the slots the
// upper layers route it to (kept in `routed`), or the entry slots.
// anchor (may be null): the route's layer-2 member (GraphLayers::route).
struct WalkStart {
  const uint32_t* slots;
  size_t n;
};
WalkStart walk_start(const GraphStore& g, const GraphEntry& entry, GraphScratch& s, std::vector<uint32_t>& routed,
                     uint32_t* anchor = nullptr);

// Adds (sign 1) or subtracts (-1) the vectors of the given slots to the
// sum; on `pool` (may be null) for large batches, with the same result.
void add_to_sum(const GraphStore& g, const uint32_t* slots, size_t n, int sign, GraphEntry& entry,
                ThreadPool* pool = nullptr);

}  // namespace semvec
