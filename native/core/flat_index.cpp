#include "flat_index.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_set>

#include "distances.h"
#include "errors.h"
#include "scan.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

namespace {

constexpr size_t kMaxSize = 0xFFFFFFFFu;

size_t blocks_for(size_t n) { return (n + kBlock - 1) / kBlock; }

void check_dim(size_t dim) {
  if (dim == 0 || dim > kMaxDim)
    throw Error(ErrorCode::InvalidArgument,
                "dim must be an integer in 1.." + std::to_string(kMaxDim) + "; received " +
                    std::to_string(dim));
}

}  // namespace

FlatIndex::FlatIndex(size_t dim, Metric metric) : dim_(dim), metric_(metric) {
  check_dim(dim);
  if (static_cast<uint32_t>(metric) > 2)
    throw Error(ErrorCode::InvalidArgument, "unknown metric");
}

size_t FlatIndex::size() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return size_;
}

uint64_t FlatIndex::next_id() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return next_id_;
}

bool FlatIndex::contains(uint64_t id) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return slot_of_.count(id) != 0;
}

size_t FlatIndex::memory_usage() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  // unordered_map: one bucket pointer per bucket, one node (next, key, value)
  // per entry.
  const size_t node = sizeof(void*) + sizeof(uint64_t) + sizeof(uint32_t) + 4;
  return sizeof(*this) + blocks_.capacity() * sizeof(float) +
         sqnorms_.capacity() * sizeof(float) + ids_.capacity() * sizeof(uint64_t) +
         slot_of_.bucket_count() * sizeof(void*) + slot_of_.size() * node;
}

void FlatIndex::reserve_locked(size_t n) {
  const size_t nb = blocks_for(n);
  if (nb * kBlock * dim_ > blocks_.capacity()) {
    // Grow geometrically so that many small adds stay linear overall.
    size_t want = std::max(nb, blocks_for(size_) + blocks_for(size_) / 2);
    blocks_.reserve(want * kBlock * dim_);
    if (metric_ == Metric::L2) sqnorms_.reserve(want * kBlock);
    ids_.reserve(want * kBlock);
  }
  blocks_.reserve(nb * kBlock * dim_);
  if (metric_ == Metric::L2) sqnorms_.reserve(nb * kBlock);
  ids_.reserve(n);
  slot_of_.reserve(n);
}

// Writes x (n rows) into slots first_slot.. of the packed storage, which
// must already be sized. Normalises for Cosine; fills sqnorms for L2.
void FlatIndex::pack_locked(const float* x, size_t n, size_t first_slot) {
  const size_t d = dim_;
  const Kernels& kn = kernels();
  ThreadPool& pool = ThreadPool::global();
  // Tasks cover whole destination blocks so no two write the same block.
  const size_t first_block = first_slot / kBlock;
  const size_t last_block = blocks_for(first_slot + n);
  const size_t nblocks = last_block - first_block;
  const size_t tasks = std::min(nblocks, pool.threads() * 4);
  pool.parallel_for(tasks, [&](size_t t) {
    size_t b_begin = first_block + nblocks * t / tasks;
    size_t b_end = first_block + nblocks * (t + 1) / tasks;
    size_t s_begin = std::max(first_slot, b_begin * kBlock);
    size_t s_end = std::min(first_slot + n, b_end * kBlock);
    for (size_t s = s_begin; s < s_end; ++s) {
      const float* row = x + (s - first_slot) * d;
      float* dst = blocks_.data() + (s / kBlock) * kBlock * d + (s % kBlock);
      float scale = 1.0f;
      float sq = kn.inner_product(row, row, d);
      if (metric_ == Metric::Cosine && sq > 0.0f) {
        scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(sq)));
      }
      for (size_t c = 0; c < d; ++c) dst[c * kBlock] = row[c] * scale;
      if (metric_ == Metric::L2) sqnorms_[s] = sq;
    }
  });
}

void FlatIndex::add(const float* x, size_t n, const uint64_t* ids) {
  if (n == 0) return;
  if (x == nullptr) throw Error(ErrorCode::InvalidArgument, "vectors must not be null");
  check_finite(x, n, dim_, "vectors");
  std::unique_lock<std::shared_mutex> lock(mutex_);
  if (n > kMaxSize - size_)
    throw Error(ErrorCode::InvalidArgument,
                "an index holds at most " + std::to_string(kMaxSize) + " vectors");
  if (ids != nullptr) {
    std::unordered_set<uint64_t> seen;
    seen.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (!seen.insert(ids[i]).second)
        throw Error(ErrorCode::DuplicateId, "id " + std::to_string(ids[i]) +
                                                " appears more than once in this add (at " +
                                                std::to_string(i) + ")");
      if (slot_of_.count(ids[i]))
        throw Error(ErrorCode::DuplicateId,
                    "id " + std::to_string(ids[i]) + " is already in the index");
    }
  }
  const size_t old = size_;
  reserve_locked(old + n);
  // Nothing below allocates beyond the reservations, so nothing can fail
  // half-way.
  blocks_.resize(blocks_for(old + n) * kBlock * dim_);
  if (metric_ == Metric::L2) sqnorms_.resize(blocks_for(old + n) * kBlock);
  ids_.resize(old + n);
  pack_locked(x, n, old);
  for (size_t i = 0; i < n; ++i) {
    uint64_t id = ids ? ids[i] : next_id_ + i;
    ids_[old + i] = id;
    slot_of_.emplace(id, static_cast<uint32_t>(old + i));
  }
  uint64_t max_id = ids ? *std::max_element(ids, ids + n) : next_id_ + n - 1;
  next_id_ = std::max(next_id_, max_id + 1);
  size_ = old + n;
}

SearchResults FlatIndex::search(const float* q, size_t nq, size_t k) const {
  if (k == 0) throw Error(ErrorCode::InvalidArgument, "k must be >= 1; received 0");
  check_finite(q, nq, dim_, "queries");
  const size_t d = dim_;
  // Queries are normalised for Cosine; for L2 their norms turn scores back
  // into distances.
  std::vector<float> qbuf;
  const float* qs = q;
  if (metric_ == Metric::Cosine) {
    qbuf.resize(nq * d);
    fvec_normalized_L2(q, nq, d, qbuf.data());
    qs = qbuf.data();
  }

  std::shared_lock<std::shared_mutex> lock(mutex_);
  SearchResults res;
  res.nq = nq;
  res.k = std::min(k, size_);
  if (res.k == 0 || nq == 0) return res;

  ThreadPool& pool = ThreadPool::global();
  const size_t nblocks = blocks_for(size_);
  // Split the stored vectors among threads (each reads its share once for
  // all queries); at least 64 blocks per task so small indexes stay serial.
  const size_t tasks = std::max<size_t>(1, std::min(pool.threads(), nblocks / 64));
  std::vector<std::vector<TopK>> partial(tasks);
  pool.parallel_for(tasks, [&](size_t t) {
    size_t b0 = nblocks * t / tasks, b1 = nblocks * (t + 1) / tasks;
    PackedRun run;
    run.blocks = blocks_.data() + b0 * kBlock * d;
    run.sqnorms = metric_ == Metric::L2 ? sqnorms_.data() + b0 * kBlock : nullptr;
    run.ids = ids_.data() + b0 * kBlock;
    run.count = std::min(b1 * kBlock, size_) - b0 * kBlock;
    partial[t].assign(nq, TopK(res.k));
    scan_packed(qs, nq, d, run, partial[t].data());
  });

  res.scores.resize(nq * res.k);
  res.ids.resize(nq * res.k);
  const Kernels& kn = kernels();
  for (size_t i = 0; i < nq; ++i) {
    TopK& heap = partial[0][i];
    for (size_t t = 1; t < tasks; ++t) heap.merge(partial[t][i]);
    std::vector<Hit> hits = heap.take_sorted();
    float qsq = metric_ == Metric::L2 ? kn.inner_product(qs + i * d, qs + i * d, d) : 0.0f;
    for (size_t j = 0; j < res.k; ++j) {
      float s = hits[j].score;
      // ||q - x||^2 = ||q||^2 - (2 <q, x> - ||x||^2), clamped against rounding.
      if (metric_ == Metric::L2) s = std::max(0.0f, qsq - s);
      res.scores[i * res.k + j] = s;
      res.ids[i * res.k + j] = hits[j].id;
    }
  }
  return res;
}

void FlatIndex::move_slot(size_t from, size_t to) {
  const size_t d = dim_;
  const float* src = blocks_.data() + (from / kBlock) * kBlock * d + (from % kBlock);
  float* dst = blocks_.data() + (to / kBlock) * kBlock * d + (to % kBlock);
  for (size_t c = 0; c < d; ++c) dst[c * kBlock] = src[c * kBlock];
  if (metric_ == Metric::L2) sqnorms_[to] = sqnorms_[from];
  ids_[to] = ids_[from];
  slot_of_[ids_[to]] = static_cast<uint32_t>(to);
}

size_t FlatIndex::remove(const uint64_t* ids, size_t n) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  for (size_t i = 0; i < n; ++i)
    if (!slot_of_.count(ids[i]))
      throw Error(ErrorCode::NotFound, "id " + std::to_string(ids[i]) +
                                           " is not in the index; nothing was removed");
  size_t removed = 0;
  const size_t d = dim_;
  for (size_t i = 0; i < n; ++i) {
    auto it = slot_of_.find(ids[i]);
    if (it == slot_of_.end()) continue;  // a repeat already removed
    size_t slot = it->second, last = size_ - 1;
    slot_of_.erase(it);
    if (slot != last) move_slot(last, slot);
    // Clear the vacated lane so padding lanes always hold zeros.
    float* lane = blocks_.data() + (last / kBlock) * kBlock * d + (last % kBlock);
    for (size_t c = 0; c < d; ++c) lane[c * kBlock] = 0.0f;
    if (metric_ == Metric::L2) sqnorms_[last] = 0.0f;
    --size_;
    ++removed;
  }
  ids_.resize(size_);
  blocks_.resize(blocks_for(size_) * kBlock * d);
  if (metric_ == Metric::L2) sqnorms_.resize(blocks_for(size_) * kBlock);
  return removed;
}

void FlatIndex::unpack_rows(size_t first, size_t count, float* out) const {
  const size_t d = dim_;
  for (size_t i = 0; i < count; ++i) {
    size_t s = first + i;
    const float* src = blocks_.data() + (s / kBlock) * kBlock * d + (s % kBlock);
    for (size_t c = 0; c < d; ++c) out[i * d + c] = src[c * kBlock];
  }
}

void FlatIndex::reconstruct(uint64_t id, float* out) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = slot_of_.find(id);
  if (it == slot_of_.end())
    throw Error(ErrorCode::NotFound, "id " + std::to_string(id) + " is not in the index");
  unpack_rows(it->second, 1, out);
}

// ---- persistence ----
// Payload of kind Flat, format 1.0:
//   u64 next_id
//   u64 ids[count]
//   f32 vectors[count * dim], row-major (normalised already for Cosine)

size_t FlatIndex::payload_bytes_locked() const {
  return sizeof(uint64_t) + size_ * sizeof(uint64_t) + size_ * dim_ * sizeof(float);
}

void FlatIndex::write_locked(Writer& w) const {
  FileHeader h;
  h.kind = IndexKind::Flat;
  h.metric = metric_;
  h.dim = static_cast<uint32_t>(dim_);
  h.count = size_;
  h.payload_bytes = payload_bytes_locked();
  w.write_header(h);
  w.write_pod<uint64_t>(next_id_);
  w.write(ids_.data(), size_ * sizeof(uint64_t));
  std::vector<float> rows(kBlock * 64 * dim_);
  const size_t step = kBlock * 64;
  for (size_t s = 0; s < size_; s += step) {
    size_t m = std::min(step, size_ - s);
    unpack_rows(s, m, rows.data());
    w.write(rows.data(), m * dim_ * sizeof(float));
  }
  w.write_trailer();
}

void FlatIndex::save(const std::string& path) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  FileWriter w(path);
  write_locked(w);
  w.commit();
}

void FlatIndex::serialize(const std::function<void*(size_t)>& alloc) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  size_t total = kHeaderBytes + payload_bytes_locked() + kTrailerBytes;
  MemoryWriter w(alloc(total), total);
  write_locked(w);
}

std::unique_ptr<FlatIndex> FlatIndex::read(Reader& r) {
  FileHeader h = r.read_header();
  if (h.kind != IndexKind::Flat)
    throw Error(ErrorCode::WrongKind, std::string("expected a flat index file; this file holds a ") +
                                          index_kind_name(h.kind) + " index");
  const uint64_t per_vector = sizeof(uint64_t) + uint64_t(h.dim) * sizeof(float);
  if (h.count > kMaxSize || h.payload_bytes != sizeof(uint64_t) + h.count * per_vector)
    throw Error(ErrorCode::CorruptFile,
                "corrupt semvec index file: payload size does not match count " +
                    std::to_string(h.count) + " and dim " + std::to_string(h.dim));
  auto index = std::make_unique<FlatIndex>(h.dim, h.metric);
  FlatIndex& ix = *index;
  const size_t n = h.count, d = h.dim;
  uint64_t next_id = r.read_pod<uint64_t>();
  ix.ids_.resize(n);
  r.read(ix.ids_.data(), n * sizeof(uint64_t));
  ix.blocks_.resize(blocks_for(n) * kBlock * d);
  if (ix.metric_ == Metric::L2) ix.sqnorms_.resize(blocks_for(n) * kBlock);
  const size_t step = kBlock * 64;
  std::vector<float> rows(step * d);
  for (size_t s = 0; s < n; s += step) {
    size_t m = std::min(step, n - s);
    r.read(rows.data(), m * d * sizeof(float));
    for (size_t i = 0; i < m * d; ++i)
      if (!std::isfinite(rows[i]))
        throw Error(ErrorCode::CorruptFile, "corrupt semvec index file: stored vector " +
                                                std::to_string(s + i / d) + " is not finite");
    // Stored vectors are already normalised for Cosine: pack them as they are.
    const Kernels& kn = kernels();
    for (size_t i = 0; i < m; ++i) {
      size_t slot = s + i;
      float* dst = ix.blocks_.data() + (slot / kBlock) * kBlock * d + (slot % kBlock);
      const float* row = rows.data() + i * d;
      for (size_t c = 0; c < d; ++c) dst[c * kBlock] = row[c];
      if (ix.metric_ == Metric::L2) ix.sqnorms_[slot] = kn.inner_product(row, row, d);
    }
  }
  r.read_trailer();
  ix.slot_of_.reserve(n);
  uint64_t max_id = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!ix.slot_of_.emplace(ix.ids_[i], static_cast<uint32_t>(i)).second)
      throw Error(ErrorCode::CorruptFile,
                  "corrupt semvec index file: id " + std::to_string(ix.ids_[i]) + " appears twice");
    max_id = std::max(max_id, ix.ids_[i]);
  }
  if (n > 0 && next_id <= max_id)
    throw Error(ErrorCode::CorruptFile, "corrupt semvec index file: next id " +
                                            std::to_string(next_id) + " is not above the largest id " +
                                            std::to_string(max_id));
  ix.next_id_ = next_id;
  ix.size_ = n;
  return index;
}

std::unique_ptr<FlatIndex> FlatIndex::load(const std::string& path) {
  FileReader r(path);
  return read(r);
}

std::unique_ptr<FlatIndex> FlatIndex::deserialize(const void* data, size_t size) {
  MemoryReader r(data, size);
  return read(r);
}

}  // namespace semvec
