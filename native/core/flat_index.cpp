#include "flat_index.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>

#include "distances.h"
#include "errors.h"
#include "file_payload.h"
#include "id_assignment.h"
#include "query_preparation.h"
#include "scan.h"
#include "temp_files.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

FlatIndex::FlatIndex(size_t dim, Metric metric)
    : dim_(check_dim(dim)), metric_(check_metric(metric)), store_(dim, metric == Metric::L2) {}

size_t FlatIndex::size() const {
  std::shared_lock<RwLock> lock(mutex_);
  return store_.size();
}

uint64_t FlatIndex::next_id() const {
  std::shared_lock<RwLock> lock(mutex_);
  return next_id_;
}

bool FlatIndex::contains(uint64_t id) const {
  std::shared_lock<RwLock> lock(mutex_);
  size_t slot = 0;
  return locate_locked(id, &slot);
}

bool FlatIndex::locate_locked(uint64_t id, size_t* slot) const {
  uint64_t where = 0;
  // A table mapped without verification may point anywhere: never past the store.
  if (!slot_of_.find(id, &where) || where >= store_.size()) return false;
  *slot = static_cast<size_t>(where);
  return true;
}

size_t FlatIndex::memory_usage() const {
  std::shared_lock<RwLock> lock(mutex_);
  return sizeof(*this) + store_.memory_usage() + slot_of_.memory_usage();
}

size_t FlatIndex::mapped_bytes() const { return mapping_ ? mapping_->size() : 0; }

void FlatIndex::check_writable() const {
  if (mapping_)
    throw Error(ErrorCode::ReadOnly,
                "this index is mapped from a file and is read-only: load() the file (or fromBuffer(toBuffer())) "
                "for a copy in memory that can change");
}

void FlatIndex::add(const float* x, size_t n, const uint64_t* ids) {
  check_writable();
  if (n == 0) return;
  check_finite(x, n, dim_, "vectors");
  check_ids(ids, n);
  std::unique_lock<RwLock> lock(mutex_);
  check_capacity(store_.size(), n);
  std::vector<uint64_t> assigned = assign_ids(ids, n, next_id_, slot_of_);
  // Reserve everything first: nothing below can fail half-way.
  store_.reserve(store_.size() + n);
  slot_of_.reserve(slot_of_.size() + n);
  const size_t first = store_.size();
  store_.append(x, n, assigned.data(), metric_ == Metric::Cosine, &ThreadPool::global());
  for (size_t i = 0; i < n; ++i) slot_of_.insert(assigned[i], first + i);
  next_id_ = std::max(next_id_, *std::max_element(assigned.begin(), assigned.end()) + 1);
}

AllowMasks FlatIndex::allow_masks_locked(const uint64_t* allow, size_t n_allow) const {
  AllowMasks out(1);  // one store
  out.allow_all(
      allow, n_allow,
      [&](uint64_t id, size_t&, size_t& slot) { return locate_locked(id, &slot); },
      [&](size_t) { return store_.size(); });
  return out;
}

SearchResults FlatIndex::search(const float* q, size_t nq, size_t k, const uint64_t* allow,
                                size_t n_allow) const {
  if (k == 0) throw Error(ErrorCode::InvalidArgument, "k must be >= 1; received 0");
  check_finite(q, nq, dim_, "queries");
  const size_t d = dim_;
  std::vector<float> qbuf;
  const float* qs = prepare_queries(q, nq, d, metric_, qbuf);

  std::shared_lock<RwLock> lock(mutex_);
  const size_t n = store_.size();
  SearchResults res;
  res.nq = nq;
  const size_t nblocks = (n + kBlock - 1) / kBlock;
  std::optional<AllowMasks> allowed;
  if (allow != nullptr) allowed = allow_masks_locked(allow, n_allow);
  const uint16_t* masks = allowed ? allowed->masks(0) : nullptr;
  res.k = std::min(k, allowed ? allowed->allowed() : n);
  if (res.k == 0 || nq == 0) {
    res.k = 0;
    return res;
  }

  ThreadPool& pool = ThreadPool::global();
  // Split the stored vectors among threads (each reads its share once for
  // all queries); at least 64 blocks per task so small indexes stay serial.
  const size_t tasks = std::max<size_t>(1, std::min(pool.threads(), nblocks / 64));
  std::vector<std::vector<TopK>> partial(tasks);
  pool.parallel_for(tasks, [&](size_t t) {
    size_t b0 = nblocks * t / tasks, b1 = nblocks * (t + 1) / tasks;
    partial[t].assign(nq, TopK(res.k));
    PackedRun run = store_.run(b0 * kBlock, std::min(b1 * kBlock, n));
    if (masks != nullptr) run.masks = masks + b0;
    scan_packed(qs, nq, d, run, partial[t].data());
  });
  for (size_t i = 0; i < nq; ++i)
    for (size_t t = 1; t < tasks; ++t) partial[0][i].merge(partial[t][i]);
  finish_results(partial[0].data(), qs, nq, d, metric_, res);
  return res;
}

size_t FlatIndex::remove(const uint64_t* ids, size_t n) {
  check_writable();
  std::unique_lock<RwLock> lock(mutex_);
  for (size_t i = 0; i < n; ++i)
    if (!slot_of_.count(ids[i]))
      throw Error(ErrorCode::NotFound, "id " + std::to_string(ids[i]) +
                                           " is not in the index; nothing was removed");
  size_t removed = 0;
  for (size_t i = 0; i < n; ++i) {
    uint64_t where = 0;
    if (!slot_of_.find(ids[i], &where)) continue;  // a repeat already removed
    const size_t slot = static_cast<size_t>(where);
    const bool moves = slot + 1 != store_.size();
    slot_of_.erase(ids[i]);
    uint64_t moved = store_.remove_slot(slot);
    if (moves) slot_of_.update(moved, slot);
    ++removed;
  }
  return removed;
}

void FlatIndex::reconstruct(uint64_t id, float* out) const {
  std::shared_lock<RwLock> lock(mutex_);
  size_t slot = 0;
  if (!locate_locked(id, &slot)) throw Error(ErrorCode::NotFound, "id " + std::to_string(id) + " is not in the index");
  store_.unpack_rows(slot, 1, out);
}

}  // namespace semvec
