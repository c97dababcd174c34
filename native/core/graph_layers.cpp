#include "graph_layers.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <tuple>

#include "file_payload.h"
#include "graph_codes.h"
#include "graph_search.h"
#include "rng.h"
#include "thread_pool.h"

namespace semvec {

namespace {

// Scratch of an insertion, one per thread.
struct LayerScratch {
  GraphScratch walk;
  std::vector<GraphHit> hits;
  std::vector<PruneCandidate> candidates;
  std::vector<uint32_t> slots, members, chosen, kept;
  std::vector<float> dists;
};

LayerScratch& layer_scratch() {
  thread_local LayerScratch s;
  return s;
}

// The neighbour heuristic over members (their slots' distances to `slot`)
// into s.chosen, as member numbers.
void choose_members(const GraphStore& g, const PruneDistances& dist, const GraphLayer& layer, uint32_t slot,
                    float alpha, size_t m, LayerScratch& s) {
  s.slots.clear();
  for (uint32_t member : s.members) s.slots.push_back(layer.slots[member]);
  s.dists.resize(s.slots.size());
  dist.many(g, slot, s.slots.data(), s.slots.size(), s.dists.data());
  s.candidates.clear();
  for (size_t i = 0; i < s.slots.size(); ++i) s.candidates.push_back({s.dists[i], s.slots[i]});
  sort_candidates(s.candidates);
  s.kept.resize(m);
  const size_t kept = select_neighbours(g, dist, s.candidates.data(), s.candidates.size(), alpha, m, s.kept.data());
  // Back to member numbers: a layer holds each slot once.
  s.chosen.clear();
  for (size_t i = 0; i < kept; ++i)
    for (size_t j = 0; j < s.slots.size(); ++j)
      if (s.slots[j] == s.kept[i]) {
        s.chosen.push_back(s.members[j]);
        break;
      }
}

void set_row(GraphLayer& layer, size_t m, uint32_t member, const uint32_t* to, size_t n) {
  uint32_t* row = layer.links.data() + size_t(member) * m;
  std::copy(to, to + n, row);
  std::fill(row + n, row + m, kNoLink);
}

}  // namespace

size_t GraphLayers::level(uint64_t id, uint64_t seed, size_t links) {
  Rng rng(seed ^ (id * 0xD1B54A32D192ED03ull) ^ 0x6C61796572730000ull);
  const double u = rng.uniform(), p = 1.0 / static_cast<double>(links);
  size_t l = 0;
  for (double t = p; l < kMaxLayers && u < t; t *= p) ++l;
  return l;
}

void GraphLayers::route(const GraphStore& g, GraphScratch& s, std::vector<uint32_t>& entries, uint32_t* anchor) const {
  // The members a layer's walk starts from: the top layer's first, then
  // the places below of the best kRouteWidth the layer above found.
  thread_local std::vector<uint32_t> from;
  from.assign(1, 0);
  if (anchor) *anchor = kNoAnchor;
  for (size_t i = layers_.size(); i-- > 1;) {
    const LayerView view{g, layers_[i], m_};
    beam_search(view, from.data(), from.size(), kRouteWidth, SlotFilter{}, s, s.layer_hits);
    if (s.layer_hits.empty()) {
      for (uint32_t& f : from) f = layers_[i].down[f];
      continue;
    }
    if (anchor && i == kAnchorLayer) *anchor = layers_[i].slots[s.layer_hits[0].slot];
    from.clear();
    for (const GraphHit& h : s.layer_hits) from.push_back(layers_[i].down[h.slot]);
  }
  const LayerView one{g, layers_[0], m_};
  beam_search(one, from.data(), from.size(), kRouteWidth, SlotFilter{}, s, s.layer_hits);
  entries.clear();
  for (const GraphHit& h : s.layer_hits) entries.push_back(layers_[0].slots[h.slot]);
  if (entries.empty()) entries.push_back(layers_[0].slots[from[0]]);
}

void GraphLayers::choose(const GraphStore& g, const PruneDistances& dist, uint32_t slot, size_t level,
                         size_t build_ef, float alpha, uint32_t* rows, uint32_t* counts) const {
  LayerScratch& s = layer_scratch();
  s.walk.probe.prepare(g.vector(slot), g);
  uint32_t at = 0;
  for (size_t i = layers_.size(); i-- > 0;) {
    const GraphLayer& layer = layers_[i];
    const LayerView view{g, layer, m_};
    if (i >= level) {  // above the slot's level: greedy
      beam_search(view, &at, 1, 1, SlotFilter{}, s.walk, s.hits);
      at = layer.down[s.hits.empty() ? at : s.hits[0].slot];
      continue;
    }
    beam_search(view, &at, 1, build_ef, SlotFilter{}, s.walk, s.hits);
    s.members.clear();
    for (const GraphHit& h : s.hits) s.members.push_back(h.slot);
    choose_members(g, dist, layer, slot, alpha, m_, s);
    std::copy(s.chosen.begin(), s.chosen.end(), rows + i * m_);
    counts[i] = static_cast<uint32_t>(s.chosen.size());
    at = layer.down[s.hits.empty() ? at : s.hits[0].slot];
  }
}

void GraphLayers::append(uint32_t slot, size_t level, const uint32_t* rows, const uint32_t* counts) {
  uint32_t below = slot;  // the slot's place in the layer below
  for (size_t i = 0; i < level; ++i) {
    GraphLayer& layer = layers_[i];
    const uint32_t me = static_cast<uint32_t>(layer.slots.size());
    layer.slots.push_back(slot);
    layer.down.push_back(below);
    layer.links.resize(layer.links.size() + m_);
    set_row(layer, m_, me, rows + i * m_, counts[i]);
    below = me;
  }
}

void GraphLayers::insert(const GraphStore& g, const PruneDistances& dist, uint32_t slot, size_t level,
                         size_t build_ef, float alpha) {
  if (level == 0) return;
  level = std::min(level, kMaxLayers);
  const size_t top = layers_.size(), own = std::min(level, top);
  thread_local std::vector<uint32_t> rows;
  uint32_t counts[kMaxLayers];
  rows.resize(own * m_);
  choose(g, dist, slot, level, build_ef, alpha, rows.data(), counts);
  append(slot, own, rows.data(), counts);
  for (size_t i = 0; i < own; ++i) {
    const uint32_t me = static_cast<uint32_t>(layers_[i].slots.size() - 1);
    for (size_t j = 0; j < counts[i]; ++j) link_back(g, dist, layers_[i], rows[i * m_ + j], me, alpha);
  }
  // Layers above the top so far: the slot alone, and the new top's entry.
  for (size_t i = top; i < level; ++i) {
    GraphLayer layer;
    layer.slots = {slot};
    layer.down = {i == 0 ? slot : static_cast<uint32_t>(layers_[i - 1].slots.size() - 1)};
    layer.links.assign(m_, kNoLink);
    layers_.push_back(std::move(layer));
  }
}

void GraphLayers::insert_batch(const GraphStore& g, const PruneDistances& dist, const uint32_t* slots,
                               const size_t* levels, size_t n, size_t build_ef, float alpha, ThreadPool& pool) {
  std::vector<uint32_t> join;  // places in the batch of the slots with a level
  size_t adds[kMaxLayers] = {};
  for (size_t i = 0; i < n; ++i) {
    if (levels[i] == 0) continue;
    join.push_back(static_cast<uint32_t>(i));
    for (size_t l = 0; l < std::min(levels[i], kMaxLayers); ++l) ++adds[l];
  }
  // Each layer must hold as many members as the batch adds to it: then no
  // level is above the layers' count.
  bool together = !join.empty();
  for (size_t l = 0; l < kMaxLayers && together; ++l)
    together = adds[l] <= (l < layers_.size() ? layers_[l].slots.size() : 0);
  if (!together) {
    for (uint32_t i : join) insert(g, dist, slots[i], levels[i], build_ef, alpha);
    return;
  }
  // Rows of chosen links: m_ per layer of each slot, from first[j].
  const size_t count = join.size();
  std::vector<size_t> first(count + 1, 0);
  for (size_t j = 0; j < count; ++j) first[j + 1] = first[j] + levels[join[j]];
  std::vector<uint32_t> rows(first[count] * m_), counts(first[count]);
  std::atomic<size_t> next{0};
  pool.parallel_for(std::min(pool.threads(), count), [&](size_t) {
    for (size_t j = next++; j < count; j = next++)
      choose(g, dist, slots[join[j]], levels[join[j]], build_ef, alpha, rows.data() + first[j] * m_,
             counts.data() + first[j]);
  });
  // Members in the batch's order, then the links back: (layer, target,
  // new member), one target per task.
  struct Back {
    uint32_t layer, to, from;
  };
  std::vector<Back> back;
  for (size_t j = 0; j < count; ++j) {
    const size_t level = levels[join[j]];
    const uint32_t* r = rows.data() + first[j] * m_;
    const uint32_t* c = counts.data() + first[j];
    append(slots[join[j]], level, r, c);
    for (size_t l = 0; l < level; ++l) {
      const uint32_t me = static_cast<uint32_t>(layers_[l].slots.size() - 1);
      for (size_t k = 0; k < c[l]; ++k) back.push_back({static_cast<uint32_t>(l), r[l * m_ + k], me});
    }
  }
  std::sort(back.begin(), back.end(),
            [](const Back& a, const Back& b) { return std::tie(a.layer, a.to, a.from) < std::tie(b.layer, b.to, b.from); });
  std::vector<size_t> starts;
  std::vector<uint32_t> from(back.size());
  for (size_t i = 0; i < back.size(); ++i) {
    if (i == 0 || back[i].layer != back[i - 1].layer || back[i].to != back[i - 1].to) starts.push_back(i);
    from[i] = back[i].from;
  }
  starts.push_back(back.size());
  const size_t groups = starts.size() - 1;
  next = 0;
  pool.parallel_for(std::min(pool.threads(), groups), [&](size_t) {
    for (size_t k = next++; k < groups; k = next++) {
      const Back& b = back[starts[k]];
      link_back_many(g, dist, layers_[b.layer], b.to, from.data() + starts[k], starts[k + 1] - starts[k], alpha);
    }
  });
}

void GraphLayers::link_back(const GraphStore& g, const PruneDistances& dist, GraphLayer& layer, uint32_t member,
                            uint32_t from, float alpha) {
  uint32_t* row = layer.links.data() + size_t(member) * m_;
  const size_t have = std::find(row, row + m_, kNoLink) - row;
  if (have < m_) {
    row[have] = from;
    return;
  }
  LayerScratch& s = layer_scratch();
  s.members.assign(row, row + m_);
  s.members.push_back(from);
  choose_members(g, dist, layer, layer.slots[member], alpha, m_, s);
  set_row(layer, m_, member, s.chosen.data(), s.chosen.size());
}

void GraphLayers::link_back_many(const GraphStore& g, const PruneDistances& dist, GraphLayer& layer, uint32_t member,
                                 const uint32_t* from, size_t n, float alpha) {
  uint32_t* row = layer.links.data() + size_t(member) * m_;
  const size_t have = std::find(row, row + m_, kNoLink) - row;
  if (have + n <= m_) {
    std::copy(from, from + n, row + have);
    return;
  }
  LayerScratch& s = layer_scratch();
  s.members.assign(row, row + have);
  s.members.insert(s.members.end(), from, from + n);
  choose_members(g, dist, layer, layer.slots[member], alpha, m_, s);
  set_row(layer, m_, member, s.chosen.data(), s.chosen.size());
}

void GraphLayers::rebuild(const GraphStore& g, const PruneDistances& dist, size_t end, uint64_t seed,
                          size_t build_ef, float alpha) {
  layers_.clear();
  for (size_t slot = 0; slot < end; ++slot)
    if (!g.deleted(slot))
      insert(g, dist, static_cast<uint32_t>(slot), level(g.id(slot), seed, m_), build_ef, alpha);
}

size_t GraphLayers::memory_usage() const {
  size_t bytes = layers_.capacity() * sizeof(GraphLayer);
  for (const GraphLayer& l : layers_)
    bytes += (l.slots.capacity() + l.down.capacity() + l.links.capacity()) * sizeof(uint32_t);
  return bytes;
}

size_t GraphLayers::word_count() const {
  size_t n = 1 + layers_.size();
  for (const GraphLayer& l : layers_) n += l.slots.size() * (2 + m_);
  return n;
}

void GraphLayers::to_words(uint32_t* out) const {
  *out++ = static_cast<uint32_t>(layers_.size());
  for (const GraphLayer& l : layers_) *out++ = static_cast<uint32_t>(l.slots.size());
  for (const GraphLayer& l : layers_) {
    out = std::copy(l.slots.begin(), l.slots.end(), out);
    out = std::copy(l.down.begin(), l.down.end(), out);
    out = std::copy(l.links.begin(), l.links.end(), out);
  }
}

GraphLayers GraphLayers::from_words(const uint32_t* w, size_t n, size_t links, size_t slots) {
  GraphLayers out(links);
  if (n == 0) corrupt_file("the graph's layers hold no count");
  const size_t count = w[0];
  if (count > kMaxLayers) corrupt_file("the graph has " + std::to_string(count) + " layers; at most 16");
  if (n < 1 + count) corrupt_file("the graph's layer sizes are cut short");
  size_t words = 1 + count;
  for (size_t i = 0; i < count; ++i) {
    const size_t size = w[1 + i], below = i == 0 ? slots : w[i];
    if (size == 0 || size > below)
      corrupt_file("graph layer " + std::to_string(i + 1) + " holds " + std::to_string(size) + " members; expected 1.." +
                   std::to_string(below));
    words += size * (2 + links);
  }
  if (words != n)
    corrupt_file("the graph's layers take " + std::to_string(n) + " words where their sizes make " + std::to_string(words));
  const uint32_t* p = w + 1 + count;
  out.layers_.resize(count);
  for (size_t i = 0; i < count; ++i) {
    GraphLayer& l = out.layers_[i];
    const size_t size = w[1 + i];
    l.slots.assign(p, p + size);
    l.down.assign(p + size, p + 2 * size);
    l.links.assign(p + 2 * size, p + size * (2 + links));
    p += size * (2 + links);
    for (size_t j = 0; j < size; ++j) {
      if (l.slots[j] >= slots) corrupt_file("a graph layer names slot " + std::to_string(l.slots[j]) + " of " + std::to_string(slots));
      // A member's place below is the same slot: layer 1's is the slot.
      const bool same = i == 0 ? l.down[j] == l.slots[j]
                               : l.down[j] < out.layers_[i - 1].slots.size() &&
                                     out.layers_[i - 1].slots[l.down[j]] == l.slots[j];
      if (!same) corrupt_file("graph layer " + std::to_string(i + 1) + " links member " + std::to_string(j) + " to the wrong place below");
    }
    for (uint32_t to : l.links)
      if (to >= size && to != kNoLink) corrupt_file("graph layer " + std::to_string(i + 1) + " links to member " + std::to_string(to) + " of " + std::to_string(size));
  }
  return out;
}

}  // namespace semvec
