#include "graph_index.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <shared_mutex>

#include "api_limits.h"
#include "errors.h"
#include "graph_filter.h"
#include "graph_repair.h"
#include "graph_search.h"
#include "id_assignment.h"
#include "query_preparation.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

namespace {

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorCode::InvalidArgument, what); }

void check_range(const char* name, size_t v, size_t lo, size_t hi) {
  if (v < lo || v > hi)
    bad(std::string(name) + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
        "; received " + std::to_string(v));
}

// A rerank setting: a count up to kMaxRerank, or kAutoRerank.
void check_rerank(size_t rerank) {
  if (rerank > kMaxRerank && rerank != kAutoRerank)
    bad("rerank must be an integer from 0 to " + std::to_string(kMaxRerank) + " or 'auto'; received " +
        std::to_string(rerank));
}

GraphScratch& search_scratch() {
  thread_local GraphScratch s;
  return s;
}

}  // namespace

void GraphIndex::check_params(size_t dim, const GraphParams& p) {
  check_dim(dim);
  check_range("degree", p.degree, kMinGraphDegree, kMaxGraphDegree);
  check_range("buildEf", p.build_ef, 1, kMaxEf);
  check_range("ef", p.ef, 1, kMaxEf);
  check_rerank(p.rerank);
  if (!(p.alpha >= 1.0f && p.alpha <= 2.0f))
    bad("alpha must be a number from 1 to 2; received " + std::to_string(p.alpha));
  if (p.seed > kMaxId) bad("seed must be an integer in 0..2^53-1; received " + std::to_string(p.seed));
}

GraphIndex::GraphIndex(size_t dim, Metric metric, const GraphParams& params)
    : dim_(check_dim(dim)),
      metric_(check_metric(metric)),
      params_(params),
      store_(dim, params.degree, metric == Metric::L2) {
  check_params(dim, params);
  entry_.layers = GraphLayers(GraphLayers::links_for(params.degree));
}

size_t GraphIndex::ef() const {
  std::shared_lock<RwLock> lock(mutex_);
  return params_.ef;
}

void GraphIndex::set_ef(size_t ef) {
  check_range("ef", ef, 1, kMaxEf);
  std::unique_lock<RwLock> lock(mutex_);
  params_.ef = ef;
}

size_t GraphIndex::rerank() const {
  std::shared_lock<RwLock> lock(mutex_);
  return params_.rerank;
}

void GraphIndex::set_rerank(size_t rerank) {
  check_rerank(rerank);
  std::unique_lock<RwLock> lock(mutex_);
  params_.rerank = rerank;
}

size_t GraphIndex::size() const {
  std::shared_lock<RwLock> lock(mutex_);
  return slot_of_.size();
}

size_t GraphIndex::slots() const {
  std::shared_lock<RwLock> lock(mutex_);
  return store_.size();
}

uint64_t GraphIndex::next_id() const {
  std::shared_lock<RwLock> lock(mutex_);
  return next_id_;
}

bool GraphIndex::contains(uint64_t id) const {
  std::shared_lock<RwLock> lock(mutex_);
  return slot_of_.count(id) != 0;
}

size_t GraphIndex::memory_usage() const {
  std::shared_lock<RwLock> lock(mutex_);
  return sizeof(*this) + store_.memory_usage() + slot_of_.memory_usage() +
         entry_.sum.capacity() * sizeof(double) + entry_.slots.capacity() * sizeof(uint32_t) +
         entry_.layers.memory_usage() + prune_.memory_usage() + partition_memory();
}

size_t GraphIndex::mapped_bytes() const { return mapping_ ? mapping_->size() : 0; }

void GraphIndex::check_writable() const {
  if (mapping_)
    throw Error(ErrorCode::ReadOnly,
                "this index is mapped from a file and is read-only: load() the file (or fromBuffer(toBuffer())) "
                "for a copy in memory that can change");
}

void GraphIndex::add(const float* x, size_t n, const uint64_t* ids) {
  check_writable();
  if (n == 0) return;
  check_finite(x, n, dim_, "vectors");
  check_ids(ids, n);
  std::unique_lock<RwLock> lock(mutex_);
  check_capacity(slot_of_.size(), n);
  if (n > kMaxGraphSlots - store_.size())
    bad("a graph index holds at most " + std::to_string(kMaxGraphSlots) + " vectors, removed ones included");
  std::vector<uint64_t> assigned = assign_ids(ids, n, next_id_, slot_of_);
  // Everything that can fail (allocation) happens before the index changes.
  store_.reserve(store_.size() + n);
  slot_of_.reserve(slot_of_.size() + n);
  entry_.sum.reserve(dim_);
  const size_t first = store_.size();
  ThreadPool& pool = ThreadPool::global();
  const GraphEntry before = entry_;
  try {
    store_.append(x, n, assigned.data(), metric_ == Metric::Cosine, &pool);
    GraphBuildParams bp{params_.build_ef, params_.alpha, params_.seed};
    link_new_slots(store_, first, n, bp, entry_, prune_, pool);
  } catch (...) {
    // An allocation failed while linking: the new vectors go, and every
    // link to them (compact drops links to dropped slots). Old nodes that
    // had already chosen links again keep their other links.
    std::vector<uint8_t> keep(store_.size(), 1);
    std::fill(keep.begin() + first, keep.end(), 0);
    store_.compact(keep);
    prune_.truncate(first);
    entry_ = before;
    throw;
  }
  for (size_t i = 0; i < n; ++i) slot_of_.insert(assigned[i], first + i);
  // The partition is derived: dropped (trained again when asked) when it
  // is stale, or rather than failing a done add.
  if (partition_ && partition_->stale(store_.size())) partition_.reset();
  if (partition_) try {
      partition_->append(store_, first, n);
    } catch (...) {
      partition_.reset();
    }
  next_id_ = std::max(next_id_, *std::max_element(assigned.begin(), assigned.end()) + 1);
}

GraphFilter GraphIndex::filter_locked(const uint64_t* allow, size_t n_allow, size_t ef) const {
  if (allow == nullptr) return {};
  return make_graph_filter(allow, n_allow, store_.size(), slot_of_.size(), ef, kGraphScanFactor,
                           [&](uint64_t id, uint32_t* slot) {
                             uint64_t where;
                             // A slot past the store: an unverified mapped file's id table (skipped).
                             if (!slot_of_.find(id, &where) || where >= store_.size()) return false;
                             *slot = static_cast<uint32_t>(where);
                             return true;
                           });
}

size_t GraphIndex::partition_memory() const {
  std::lock_guard<std::mutex> lock(partition_mutex_);
  return partition_ ? partition_->memory_usage() : 0;
}

const GraphPartition& GraphIndex::partition() const {
  std::lock_guard<std::mutex> lock(partition_mutex_);
  if (!partition_ || partition_->stale(store_.size()))
    partition_ = std::make_unique<GraphPartition>(store_, metric_, params_.seed);
  return *partition_;
}

void GraphIndex::search_one(const float* q, size_t k, size_t ef, size_t rerank, size_t nprobe,
                            const GraphPartition* partition, const GraphFilter& filter, TopK& heap) const {
  GraphScratch& s = search_scratch();
  thread_local std::vector<GraphHit> hits;
  thread_local std::vector<uint32_t> routed, probed;
  s.probe.prepare(q, store_);
  const size_t keep = rerank == 0 ? k : std::max(rerank, k);
  if (filter.scan) {
    TopK best(keep);
    score_slots(store_, filter.slots.data(), filter.slots.size(), s, best);
    hits.clear();
    for (const Hit& h : best.take_sorted()) hits.push_back({h.score, static_cast<uint32_t>(h.id)});
  } else {
    WalkStart start = walk_start(store_, entry_, s, routed);
    if (partition != nullptr) {  // the route's starts, then the members of the nprobe best groups
      probed.assign(start.slots, start.slots + start.n);
      partition->probe(q, nprobe, probed);
      start = {probed.data(), probed.size()};
    }
    beam_search(store_, start.slots, start.n, ef, filter.slot_filter(store_), s, hits);
  }
  if (rerank == 0) {
    for (const GraphHit& h : hits) heap.push(h.score, store_.id(h.slot));
    return;
  }
  rerank_exact(store_, q, hits.data(), std::min(hits.size(), keep), heap);
}

SearchResults GraphIndex::search(const float* q, size_t nq, size_t k, const GraphSearchParams& params) const {
  if (k == 0) bad("k must be >= 1; received 0");
  if (params.ef) check_range("ef", *params.ef, 1, kMaxEf);
  if (params.rerank) check_rerank(*params.rerank);
  check_range("nprobe", params.nprobe, 0, kMaxEf);
  check_finite(q, nq, dim_, "queries");
  std::vector<float> qbuf;
  const float* qs = prepare_queries(q, nq, dim_, metric_, qbuf);

  std::shared_lock<RwLock> lock(mutex_);
  const size_t ef = std::max(params.ef.value_or(params_.ef), std::min<size_t>(k, kMaxEf));
  const size_t rerank = effective_rerank(params.rerank.value_or(params_.rerank), ef);
  const GraphFilter filter = filter_locked(params.allow, params.n_allow, ef);
  SearchResults res;
  res.nq = nq;
  res.k = std::min(k, filter.active ? filter.allowed : slot_of_.size());
  res.counts.assign(nq, 0);
  if (res.k == 0 || nq == 0) {
    res.k = 0;
    return res;
  }
  std::vector<TopK> heaps(nq, TopK(res.k));
  const size_t nprobe = params.nprobe;
  const GraphPartition* partition = nprobe > 0 && !filter.scan ? &this->partition() : nullptr;
  ThreadPool& pool = ThreadPool::global();
  if (nq == 1) {
    search_one(qs, res.k, ef, rerank, nprobe, partition, filter, heaps[0]);
  } else {
    std::atomic<size_t> next{0};
    pool.parallel_for(std::min(pool.threads(), nq), [&](size_t) {
      for (size_t i = next++; i < nq; i = next++)
        search_one(qs + i * dim_, res.k, ef, rerank, nprobe, partition, filter, heaps[i]);
    });
  }
  finish_results(heaps.data(), qs, nq, dim_, metric_, res);
  return res;
}

size_t GraphIndex::remove(const uint64_t* ids, size_t n) {
  check_writable();
  std::unique_lock<RwLock> lock(mutex_);
  for (size_t i = 0; i < n; ++i)
    if (!slot_of_.count(ids[i]))
      throw Error(ErrorCode::NotFound, "id " + std::to_string(ids[i]) + " is not in the index; nothing was removed");
  size_t removed = 0;
  bool entry_gone = false;
  for (size_t i = 0; i < n; ++i) {
    uint64_t where;
    if (!slot_of_.find(ids[i], &where)) continue;  // a repeat already removed
    const uint32_t slot = static_cast<uint32_t>(where);
    slot_of_.erase(ids[i]);
    store_.set_deleted(slot, true);
    add_to_sum(store_, &slot, 1, -1, entry_);
    entry_gone = entry_gone || std::find(entry_.slots.begin(), entry_.slots.end(), slot) != entry_.slots.end();
    ++deleted_;
    ++removed;
  }
  if (static_cast<double>(deleted_) >= kGraphRepairFraction * static_cast<double>(store_.size())) {
    repair_locked();
  } else if (entry_gone) {
    choose_entry(store_, params_.build_ef, entry_);
  }
  return removed;
}

void GraphIndex::repair_locked() {
  partition_.reset();  // slots are renumbered (until then a tombstone stays in its group: walks skip it)
  ThreadPool& pool = ThreadPool::global();
  repair_tombstone_links(store_, params_.alpha, prune_, pool);
  std::vector<uint8_t> keep(store_.size());
  for (size_t s = 0; s < store_.size(); ++s) keep[s] = store_.deleted(s) ? 0 : 1;
  store_.compact(keep);
  // Slots were renumbered from the first deleted one on, and with them the
  // anchors that the prune terms of every slot name.
  prune_.truncate(0);
  for (size_t s = 0; s < store_.size(); ++s) slot_of_.update(store_.id(s), s);
  deleted_ = 0;
  entry_.slots.clear();
  entry_.layers.clear();
  if (store_.size() == 0) {
    entry_.sum.assign(dim_, 0.0);
    entry_.live = 0;
    return;
  }
  // A start for the walk that finds the mean's nearest node: any live slot.
  entry_.slots = {0};
  choose_entry(store_, params_.build_ef, entry_);
  // The layers named old slots: built again over the live ones.
  prune_.update(store_, &pool);
  entry_.layers.rebuild(store_, prune_, store_.size(), params_.seed, params_.build_ef, params_.alpha);
}

uint64_t GraphIndex::slot_of_locked(uint64_t id) const {
  uint64_t slot;
  if (!slot_of_.find(id, &slot)) throw Error(ErrorCode::NotFound, "id " + std::to_string(id) + " is not in the index");
  // Only an unverified mapped file's id table can point past the store.
  if (slot >= store_.size())
    throw Error(ErrorCode::CorruptFile, "the id table maps id " + std::to_string(id) + " to slot " + std::to_string(slot) +
                                            " of " + std::to_string(store_.size()) + " (open the file with verify)");
  return slot;
}

void GraphIndex::reconstruct(uint64_t id, float* out) const {
  std::shared_lock<RwLock> lock(mutex_);
  const uint64_t slot = slot_of_locked(id);
  std::copy(store_.vector(slot), store_.vector(slot) + dim_, out);
}

std::vector<uint64_t> GraphIndex::neighbours(uint64_t id) const {
  std::shared_lock<RwLock> lock(mutex_);
  const uint64_t slot = slot_of_locked(id);
  std::vector<uint64_t> out;
  const uint32_t* links = store_.links(slot);
  for (size_t j = 0; j < store_.degree() && links[j] != kNoLink; ++j)
    if (!store_.deleted(links[j])) out.push_back(store_.id(links[j]));
  return out;
}

}  // namespace semvec
