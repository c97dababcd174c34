#include "ivf_index.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>

#include "distances.h"
#include "errors.h"
#include "scan.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

namespace {

uint64_t pack_where(size_t list, size_t slot) { return (uint64_t(list) << 32) | uint64_t(slot); }
size_t where_list(uint64_t w) { return static_cast<size_t>(w >> 32); }
size_t where_slot(uint64_t w) { return static_cast<size_t>(w & 0xFFFFFFFFu); }

constexpr size_t kMaxNlist = 1u << 20;

}  // namespace

size_t suggest_nlist(size_t n) {
  if (n == 0) return 1;
  size_t s = static_cast<size_t>(std::lround(4.0 * std::sqrt(static_cast<double>(n))));
  s = std::min(s, std::max<size_t>(1, n / 39));
  if (s > 64) s = (s + 8) / 16 * 16;
  return std::max<size_t>(1, std::min(s, kMaxNlist));
}

IvfIndex::IvfIndex(size_t dim, Metric metric, size_t nlist, size_t nprobe)
    : dim_(check_dim(dim)),
      metric_(check_metric(metric)),
      nlist_(nlist),
      nprobe_(nprobe),
      centroids_(dim, metric == Metric::L2) {
  if (nlist == 0 || nlist > kMaxNlist)
    throw Error(ErrorCode::InvalidArgument, "nlist must be an integer from 1 to " +
                                                std::to_string(kMaxNlist) + "; received " +
                                                std::to_string(nlist));
  check_nprobe(nprobe);
  lists_.reserve(nlist);
  for (size_t l = 0; l < nlist; ++l) lists_.emplace_back(dim, metric == Metric::L2);
}

size_t IvfIndex::check_nprobe(size_t nprobe) const {
  if (nprobe < 1 || nprobe > nlist_)
    throw Error(ErrorCode::InvalidArgument, "nprobe must be an integer from 1 to nlist (" +
                                                std::to_string(nlist_) + "); received " +
                                                std::to_string(nprobe));
  return nprobe;
}

size_t IvfIndex::nprobe() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return nprobe_;
}

void IvfIndex::set_nprobe(size_t nprobe) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  nprobe_ = check_nprobe(nprobe);
}

bool IvfIndex::is_trained() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return trained_;
}

size_t IvfIndex::size() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return size_;
}

uint64_t IvfIndex::next_id() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return next_id_;
}

bool IvfIndex::contains(uint64_t id) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return where_.count(id) != 0;
}

size_t IvfIndex::memory_usage() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  size_t bytes = sizeof(*this) + centroids_.memory_usage() + hash_map_bytes(where_) +
                 lists_.capacity() * sizeof(PackedStore);
  for (const PackedStore& l : lists_) bytes += l.memory_usage();
  return bytes;
}

std::vector<size_t> IvfIndex::list_sizes() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  std::vector<size_t> out(nlist_);
  for (size_t l = 0; l < nlist_; ++l) out[l] = lists_[l].size();
  return out;
}

std::vector<float> IvfIndex::centroids() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  std::vector<float> out(trained_ ? nlist_ * dim_ : 0);
  if (trained_) centroids_.unpack_rows(0, nlist_, out.data());
  return out;
}

void IvfIndex::set_centroids_locked(const float* c) {
  PackedStore packed(dim_, metric_ == Metric::L2);
  std::vector<uint64_t> ids(nlist_);
  for (size_t l = 0; l < nlist_; ++l) ids[l] = l;
  packed.append(c, nlist_, ids.data(), false, nullptr);
  centroids_ = std::move(packed);
  trained_ = true;
}

KMeansResult IvfIndex::train(const float* x, size_t n, KMeansParams params) {
  check_finite(x, n, dim_, "training vectors");
  if (n < nlist_)
    throw Error(ErrorCode::InvalidArgument, "training needs at least nlist (" + std::to_string(nlist_) +
                                                ") vectors; received " + std::to_string(n));
  {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    if (size_ > 0)
      throw Error(ErrorCode::InvalidArgument,
                  "this index already holds vectors; train a new index instead of retraining");
  }
  params.k = nlist_;
  // Inner product and cosine train spherical k-means (unit centroids), as
  // FAISS does for inner product: unnormalised centroids of different norms
  // would pull vectors into a few lists under inner-product assignment.
  params.spherical = metric_ != Metric::L2;
  params.assign_all = false;
  // k-means runs without the lock: searches and adds go on meanwhile.
  KMeansResult res = kmeans(x, n, dim_, params);
  std::unique_lock<std::shared_mutex> lock(mutex_);
  if (size_ > 0)
    throw Error(ErrorCode::InvalidArgument, "vectors were added while training; nothing was changed");
  set_centroids_locked(res.centroids.data());
  return res;
}

// Coarse assignment of x (already normalised for Cosine) to lists.
void IvfIndex::assign_lists(const float* x, size_t n, uint32_t* lists) const {
  std::vector<float> score(n);
  assign_best(x, n, dim_, centroids_.run(), lists, score.data());
}

void IvfIndex::add(const float* x, size_t n, const uint64_t* ids) {
  if (n == 0) return;
  check_finite(x, n, dim_, "vectors");
  std::vector<float> xbuf;
  const float* xs = prepare_queries(x, n, dim_, metric_, xbuf);  // unit vectors for Cosine
  std::unique_lock<std::shared_mutex> lock(mutex_);
  if (!trained_)
    throw Error(ErrorCode::NotTrained, "the IVF index must be trained before adding vectors: call train(), "
                                       "or set autoTrain to train on the first add");
  check_capacity(size_, n);
  std::vector<uint64_t> assigned = assign_ids(ids, n, next_id_, where_);
  std::vector<uint32_t> list_of(n);
  assign_lists(xs, n, list_of.data());

  // Group rows by list, then reserve everything before changing anything.
  std::vector<size_t> count(nlist_, 0);
  for (uint32_t l : list_of) count[l]++;
  for (size_t l = 0; l < nlist_; ++l)
    if (count[l]) lists_[l].reserve(lists_[l].size() + count[l]);
  where_.reserve(where_.size() + n);

  std::vector<size_t> start(nlist_ + 1, 0);
  for (size_t l = 0; l < nlist_; ++l) start[l + 1] = start[l] + count[l];
  std::vector<uint32_t> order(n);
  {
    std::vector<size_t> fill(start.begin(), start.end() - 1);
    for (size_t i = 0; i < n; ++i) order[fill[list_of[i]]++] = static_cast<uint32_t>(i);
  }
  ThreadPool& pool = ThreadPool::global();
  std::atomic<size_t> next{0};
  std::vector<size_t> first_slot(nlist_);
  for (size_t l = 0; l < nlist_; ++l) first_slot[l] = lists_[l].size();
  pool.parallel_for(pool.threads(), [&](size_t) {
    std::vector<float> rows;
    std::vector<uint64_t> row_ids;
    for (size_t l = next++; l < nlist_; l = next++) {
      const size_t m = count[l];
      if (m == 0) continue;
      rows.resize(m * dim_);
      row_ids.resize(m);
      for (size_t j = 0; j < m; ++j) {
        const size_t i = order[start[l] + j];
        std::copy(xs + i * dim_, xs + (i + 1) * dim_, rows.begin() + j * dim_);
        row_ids[j] = assigned[i];
      }
      // Already unit vectors for Cosine: no second normalisation.
      lists_[l].append(rows.data(), m, row_ids.data(), false, nullptr);
    }
  });
  for (size_t l = 0; l < nlist_; ++l)
    for (size_t j = 0; j < count[l]; ++j)
      where_.emplace(assigned[order[start[l] + j]], pack_where(l, first_slot[l] + j));
  size_ += n;
  next_id_ = std::max(next_id_, *std::max_element(assigned.begin(), assigned.end()) + 1);
}

SearchResults IvfIndex::search(const float* q, size_t nq, size_t k, size_t nprobe,
                               const uint64_t* allow, size_t n_allow) const {
  if (k == 0) throw Error(ErrorCode::InvalidArgument, "k must be >= 1; received 0");
  check_finite(q, nq, dim_, "queries");
  std::vector<float> qbuf;
  const float* qs = prepare_queries(q, nq, dim_, metric_, qbuf);
  const size_t d = dim_;

  std::shared_lock<std::shared_mutex> lock(mutex_);
  if (!trained_)
    throw Error(ErrorCode::NotTrained, "the IVF index must be trained before searching");
  const size_t np = check_nprobe(nprobe == 0 ? nprobe_ : nprobe);
  SearchResults res;
  res.nq = nq;
  // Allow-list: lane masks per list, and how many allowed vectors each holds.
  std::vector<std::vector<uint16_t>> masks;
  std::vector<size_t> allowed_in(allow ? nlist_ : 0, 0);
  size_t candidates = size_;
  if (allow != nullptr) {
    masks.resize(nlist_);
    candidates = 0;
    for (size_t i = 0; i < n_allow; ++i) {
      auto it = where_.find(allow[i]);
      if (it == where_.end()) continue;
      const size_t l = where_list(it->second), slot = where_slot(it->second);
      std::vector<uint16_t>& m = masks[l];
      if (m.empty()) m.assign((lists_[l].size() + kBlock - 1) / kBlock, 0);
      const uint16_t bit = static_cast<uint16_t>(1u << (slot % kBlock));
      if (!(m[slot / kBlock] & bit)) {
        ++candidates;
        ++allowed_in[l];
      }
      m[slot / kBlock] |= bit;
    }
  }
  res.k = std::min(k, candidates);
  res.counts.assign(nq, 0);
  if (res.k == 0 || nq == 0) {
    res.k = 0;
    return res;
  }

  // 1. The lists each query probes: its nprobe best; with an allow-list, its
  // nprobe best among lists holding allowed vectors, then more until k
  // allowed vectors are covered.
  std::vector<std::vector<uint32_t>> by_list(nlist_);
  {
    std::vector<TopK> coarse(nq, TopK(allow ? nlist_ : np));
    scan_packed(qs, nq, d, centroids_.run(), coarse.data());
    for (size_t i = 0; i < nq; ++i) {
      size_t taken = 0, covered = 0;
      for (const Hit& h : coarse[i].take_sorted()) {
        if (allow) {
          if (allowed_in[h.id] == 0) continue;
          if (taken >= np && covered >= res.k) break;
          covered += allowed_in[h.id];
        }
        by_list[h.id].push_back(static_cast<uint32_t>(i));
        ++taken;
      }
    }
  }
  std::vector<uint32_t> probed;
  for (size_t l = 0; l < nlist_; ++l)
    if (!by_list[l].empty() && lists_[l].size() > 0) probed.push_back(static_cast<uint32_t>(l));

  // 2. Each probed list scanned once, by whichever thread claims it, for all
  // the queries that probe it.
  ThreadPool& pool = ThreadPool::global();
  size_t work = 0;
  for (uint32_t l : probed) work += lists_[l].size() * by_list[l].size();
  const size_t tasks = std::max<size_t>(1, std::min(pool.threads(), work / 4096));
  std::vector<std::vector<TopK>> partial(tasks);
  std::atomic<size_t> next{0};
  pool.parallel_for(tasks, [&](size_t t) {
    partial[t].assign(nq, TopK(res.k));
    std::vector<float> group;
    for (size_t p = next++; p < probed.size(); p = next++) {
      const uint32_t l = probed[p];
      const std::vector<uint32_t>& qs_of = by_list[l];
      const float* qptr;
      if (qs_of.size() == 1) {
        qptr = qs + size_t(qs_of[0]) * d;
      } else {
        group.resize(qs_of.size() * d);
        for (size_t j = 0; j < qs_of.size(); ++j)
          std::copy(qs + size_t(qs_of[j]) * d, qs + size_t(qs_of[j] + 1) * d, group.begin() + j * d);
        qptr = group.data();
      }
      PackedRun run = lists_[l].run();
      if (allow) run.masks = masks[l].data();
      scan_packed(qptr, qs_of.size(), d, run, partial[t].data(), qs_of.data());
    }
  });
  for (size_t i = 0; i < nq; ++i)
    for (size_t t = 1; t < tasks; ++t) partial[0][i].merge(partial[t][i]);
  finish_results(partial[0].data(), qs, nq, d, metric_, res);
  return res;
}

size_t IvfIndex::remove(const uint64_t* ids, size_t n) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  for (size_t i = 0; i < n; ++i)
    if (!where_.count(ids[i]))
      throw Error(ErrorCode::NotFound, "id " + std::to_string(ids[i]) +
                                           " is not in the index; nothing was removed");
  size_t removed = 0;
  for (size_t i = 0; i < n; ++i) {
    auto it = where_.find(ids[i]);
    if (it == where_.end()) continue;
    const size_t l = where_list(it->second), slot = where_slot(it->second);
    const bool moves = slot + 1 != lists_[l].size();
    where_.erase(it);
    uint64_t moved = lists_[l].remove_slot(slot);
    if (moves) where_[moved] = pack_where(l, slot);
    --size_;
    ++removed;
  }
  return removed;
}

void IvfIndex::reconstruct(uint64_t id, float* out) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = where_.find(id);
  if (it == where_.end()) throw Error(ErrorCode::NotFound, "id " + std::to_string(id) + " is not in the index");
  lists_[where_list(it->second)].unpack_rows(where_slot(it->second), 1, out);
}

// ---- persistence ----
// Payload of kind Ivf, format 1.0:
//   u64 next_id
//   u32 nlist, u32 nprobe, u32 trained (0 or 1), u32 reserved (0)
//   if trained:
//     f32 centroids[nlist * dim], row-major
//     u64 list_sizes[nlist]
//     per list: u64 ids[size], f32 vectors[size * dim] (unit vectors for Cosine)

size_t IvfIndex::payload_bytes_locked() const {
  size_t bytes = sizeof(uint64_t) + 4 * sizeof(uint32_t);
  if (trained_)
    bytes += nlist_ * dim_ * sizeof(float) + nlist_ * sizeof(uint64_t) +
             size_ * (sizeof(uint64_t) + dim_ * sizeof(float));
  return bytes;
}

void IvfIndex::write_locked(Writer& w) const {
  FileHeader h;
  h.kind = IndexKind::Ivf;
  h.metric = metric_;
  h.dim = static_cast<uint32_t>(dim_);
  h.count = size_;
  h.payload_bytes = payload_bytes_locked();
  w.write_header(h);
  w.write_pod<uint64_t>(next_id_);
  w.write_pod<uint32_t>(static_cast<uint32_t>(nlist_));
  w.write_pod<uint32_t>(static_cast<uint32_t>(nprobe_));
  w.write_pod<uint32_t>(trained_ ? 1 : 0);
  w.write_pod<uint32_t>(0);
  if (!trained_) {
    w.write_trailer();
    return;
  }
  write_vectors(w, centroids_);
  for (const PackedStore& l : lists_) w.write_pod<uint64_t>(l.size());
  for (const PackedStore& l : lists_) {
    write_ids(w, l);
    write_vectors(w, l);
  }
  w.write_trailer();
}

void IvfIndex::save(const std::string& path) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  FileWriter w(path);
  write_locked(w);
  w.commit();
}

void IvfIndex::serialize(const std::function<void*(size_t)>& alloc) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  size_t total = kHeaderBytes + payload_bytes_locked() + kTrailerBytes;
  MemoryWriter w(alloc(total), total);
  write_locked(w);
}

std::unique_ptr<IvfIndex> IvfIndex::read(Reader& r) {
  FileHeader h = r.read_header();
  expect_kind(h, IndexKind::Ivf);
  auto corrupt = [](const std::string& why) {
    return Error(ErrorCode::CorruptFile, "corrupt semvec index file: " + why);
  };
  if (h.count > kMaxVectors) throw corrupt("count out of range");
  const uint64_t next_id = r.read_pod<uint64_t>();
  const uint32_t nlist = r.read_pod<uint32_t>(), nprobe = r.read_pod<uint32_t>();
  const uint32_t trained = r.read_pod<uint32_t>(), reserved = r.read_pod<uint32_t>();
  if (nlist == 0 || nlist > kMaxNlist) throw corrupt("nlist " + std::to_string(nlist) + " out of range");
  if (nprobe == 0 || nprobe > nlist) throw corrupt("nprobe " + std::to_string(nprobe) + " out of range");
  if (trained > 1 || reserved != 0) throw corrupt("bad flags");
  const uint64_t d = h.dim;
  const uint64_t expect = sizeof(uint64_t) + 16 +
                          (trained ? nlist * d * 4 + nlist * 8ull + h.count * (8 + d * 4) : 0);
  if (h.payload_bytes != expect || (!trained && h.count != 0))
    throw corrupt("payload size does not match count, dim and nlist");
  auto index = std::make_unique<IvfIndex>(h.dim, h.metric, nlist, nprobe);
  IvfIndex& ix = *index;
  if (trained) {
    std::vector<uint64_t> cids(nlist);
    for (size_t l = 0; l < nlist; ++l) cids[l] = l;
    PackedStore tmp(h.dim, false);
    read_vectors(r, nlist, h.dim, cids.data(), tmp);
    std::vector<float> c(nlist * d);
    tmp.unpack_rows(0, nlist, c.data());
    ix.set_centroids_locked(c.data());
    std::vector<uint64_t> sizes(nlist);
    r.read(sizes.data(), nlist * sizeof(uint64_t));
    uint64_t total = 0;
    for (uint64_t s : sizes) {
      if (s > h.count) throw corrupt("list size out of range");
      total += s;
    }
    if (total != h.count) throw corrupt("list sizes do not add up to the count");
    std::vector<uint64_t> all_ids;
    all_ids.reserve(h.count);
    ix.where_.reserve(h.count);
    for (size_t l = 0; l < nlist; ++l) {
      std::vector<uint64_t> ids(sizes[l]);
      r.read(ids.data(), ids.size() * sizeof(uint64_t));
      for (size_t j = 0; j < ids.size(); ++j)
        if (!ix.where_.emplace(ids[j], pack_where(l, j)).second)
          throw corrupt("id " + std::to_string(ids[j]) + " appears twice");
      read_vectors(r, ids.size(), h.dim, ids.data(), ix.lists_[l]);
      all_ids.insert(all_ids.end(), ids.begin(), ids.end());
    }
    check_next_id(next_id, all_ids);
    ix.size_ = h.count;
  }
  r.read_trailer();
  ix.next_id_ = next_id;
  return index;
}

std::unique_ptr<IvfIndex> IvfIndex::load(const std::string& path) {
  FileReader r(path);
  return read(r);
}

std::unique_ptr<IvfIndex> IvfIndex::deserialize(const void* data, size_t size) {
  MemoryReader r(data, size);
  return read(r);
}

}  // namespace semvec
