// The upper layers of a graph index: HNSW's hierarchy, which routes every
// walk to the query's region before the walk on the full graph starts.
//
// Why: a walk on the full graph that starts far from the query has to cross
// the data to reach it. On separated clusters few links join them, and a
// narrow walk from one fixed entry stays in the wrong cluster (100k x 384,
// 1,000 flat clusters, recall@10 at ef 10: 0.61 from the medoid, 0.87 from
// the query's exact nearest node).
//
// What: layer 1 holds a sample of the slots, layer 2 a sample of layer 1,
// and so on, each `links` times sparser than the one below; each layer is a
// proximity graph of its own with at most `links` links per member. A route
// starts at the top layer's first member and walks each layer (a beam
// search, graph_search.h, keeping kRouteWidth members), each layer's result
// the starts of the next, down to layer 1; the walk on the full graph
// starts from layer 1's best kRouteWidth members. The layers hold
// about 1 / (links - 1) of the slots (1/15 at the default degree 32, whose
// layers have 16 links), links + 2 u32 each: 5 bytes per vector.
//
// A slot's level is a function of its id and the seed (level >= l with
// probability links^-l), and slots are inserted in the order the caller
// gives, so the layers depend on nothing the threads do. Inserting a slot
// is HNSW's: greedy down to the slot's level, then in each of its layers a
// beam search of build_ef members and the neighbour heuristic of
// graph_prune.h, with links back (a full row chooses again). The build
// inserts each batch of the full graph's together (insert_batch), its
// walks on all threads over the layers as they were before it. Removed slots
// stay in the layers as stepping stones; a repair, which renumbers the
// slots, builds the layers again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "graph_prune.h"
#include "graph_store.h"

namespace semvec {

struct GraphScratch;
class ThreadPool;

// One upper layer. Members are numbered in the order they were inserted.
struct GraphLayer {
  std::vector<uint32_t> slots;  // member -> its slot
  std::vector<uint32_t> down;   // member -> its member number in the layer below (layer 1: its slot)
  std::vector<uint32_t> links;  // members * links: member numbers, kNoLink after the last
};

// A layer as a graph for beam_search (graph_search.h): nodes are members.
struct LayerView {
  const GraphStore& g;
  const GraphLayer& layer;
  size_t m;
  size_t size() const { return layer.slots.size(); }
  size_t degree() const { return m; }
  size_t code_stride() const { return g.code_stride(); }
  const uint32_t* links(size_t member) const { return layer.links.data() + member * m; }
  const uint8_t* code(size_t member) const { return g.code(layer.slots[member]); }
};

class GraphLayers {
 public:
  static constexpr size_t kMaxLayers = 16;
  // Members a route keeps in every layer: the walk in each layer starts
  // from the places below of the best kRouteWidth of the layer above, and
  // the walk on the full graph from the best of layer 1. HNSW keeps one
  // above layer 1. recall@10 at ef 10 / 20 / 40 (100k x 384, the build
  // routed the same way, one member above layer 1): real text 0.778 /
  // 0.868 / 0.927 with one in layer 1, 0.813 / 0.891 / 0.942 with 16;
  // flat separated clusters 0.823 / 0.916 / 0.953 with one, 0.865 / 0.951
  // / 0.972 with 16. At 1M vectors in 1,000 flat clusters one member
  // above layer 1 strands walks in the wrong cluster: recall@10 at ef 40 /
  // 80 / 160 was 0.913 / 0.950 / 0.969 with one, 0.942 / 0.970 / 0.981
  // with 4, 0.953 / 0.980 / 0.988 with 16 and 0.954 / 0.981 / 0.989 with
  // 32 (builds 66, 62, 67 and 76 s; anchored codes whose anchor terms came
  // from the query's floats, graph_codes.h; with today's terms, 16 gives
  // 0.980 / 0.989 / 0.992).
  static constexpr size_t kRouteWidth = 16;

  // The links per member of a graph of the given degree: half, as HNSW's M
  // against its 2M in the bottom layer.
  static size_t links_for(size_t degree) { return degree / 2 < 2 ? 2 : degree / 2; }

  explicit GraphLayers(size_t links = 16) : m_(links) {}

  size_t links() const { return m_; }
  size_t count() const { return layers_.size(); }
  bool empty() const { return layers_.empty(); }
  const GraphLayer& layer(size_t i) const { return layers_[i]; }  // i = 0: layer 1

  // The level of a slot with this id: 0 (the full graph only) or the top
  // layer it joins.
  static size_t level(uint64_t id, uint64_t seed, size_t links);

  // The layer whose members anchor the codes of other slots (graph_codes.h):
  // layer 2, about one slot in links^2 (256 at the default degree).
  static constexpr size_t kAnchorLayer = 1;
  // Whether a slot of this level anchors others (and so has no anchor).
  static bool anchors(size_t level) { return level > kAnchorLayer; }

  // The slots where a walk on the full graph starts (into entries), for
  // the query s.probe is prepared for (not empty()). Uses s's visited set
  // and layer hits. anchor (may be null): the slot of the best member the
  // route met in layer 2, or kNoAnchor without one.
  void route(const GraphStore& g, GraphScratch& s, std::vector<uint32_t>& entries, uint32_t* anchor = nullptr) const;

  // Inserts a slot of level >= 1 into its layers. dist: updated for g.
  void insert(const GraphStore& g, const PruneDistances& dist, uint32_t slot, size_t level, size_t build_ef,
              float alpha);
  // Inserts the slots of a batch (n of them, in the batch's order; levels:
  // each one's level, 0 for none) into their layers. When every layer
  // already holds at least as many members as the batch adds to it, on all
  // threads: each slot's walks and links are chosen over the layers as
  // they were before the batch (so the batch's new members link to old
  // ones only, as in the full graph, graph_build.h), the members are
  // appended in the batch's order, and the links back are given one
  // target member per task (a full row chooses again among its old links
  // and all the new ones). Otherwise (the first slots of a graph, or a
  // slot that opens a new layer) one by one with insert(). Either way the
  // layers depend on the batch and not on the threads.
  void insert_batch(const GraphStore& g, const PruneDistances& dist, const uint32_t* slots, const size_t* levels,
                    size_t n, size_t build_ef, float alpha, ThreadPool& pool);
  // Inserts every live slot of g before `end`, in slot order: after a
  // repair, and before the first add to a graph read from a file without
  // layers (format 3.0).
  void rebuild(const GraphStore& g, const PruneDistances& dist, size_t end, uint64_t seed, size_t build_ef,
               float alpha);
  void clear() { layers_.clear(); }

  size_t memory_usage() const;

  // The layers as u32 words, as a file holds them (docs/file-format.md):
  //   count, then each layer's size, then each layer's slots, down and
  //   links in turn.
  size_t word_count() const;
  void to_words(uint32_t* out) const;
  // The layers of a graph of `slots` slots from words (n of them), every
  // member, down link and link checked (ERR_CORRUPT_FILE).
  static GraphLayers from_words(const uint32_t* words, size_t n, size_t links, size_t slots);

 private:
  void link_back(const GraphStore& g, const PruneDistances& dist, GraphLayer& layer, uint32_t member, uint32_t from,
                 float alpha);
  // The members a slot of `level` (at most count()) links to in each of
  // its layers, walked and chosen over the layers as they are: layer i's
  // into rows[i * links() ..], counts[i] of them. Reads the layers only.
  void choose(const GraphStore& g, const PruneDistances& dist, uint32_t slot, size_t level, size_t build_ef,
              float alpha, uint32_t* rows, uint32_t* counts) const;
  // Appends the slot as the last member of its first `level` layers, with
  // the links chosen (no links back).
  void append(uint32_t slot, size_t level, const uint32_t* rows, const uint32_t* counts);
  // Gives `member` of `layer` links back from n new members: appended while
  // the row has room, else chosen again among its old links and them.
  void link_back_many(const GraphStore& g, const PruneDistances& dist, GraphLayer& layer, uint32_t member,
                      const uint32_t* from, size_t n, float alpha);

  size_t m_;
  std::vector<GraphLayer> layers_;
};

}  // namespace semvec
