#include "ivf_index.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <optional>
#include <shared_mutex>

#include "distances.h"
#include "errors.h"
#include "id_assignment.h"
#include "query_preparation.h"
#include "scan.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

namespace {

// The exact score of q and x (d each) computed in double and clamped to the
// float range: for vectors whose float score overflows (an infinity, or
// NaN from infinity - infinity for l2), so that none is lost in a selection.
float wide_score(const float* q, const float* x, size_t d, bool l2) {
  double ip = 0.0, xx = 0.0;
  for (size_t i = 0; i < d; ++i) {
    ip += static_cast<double>(q[i]) * x[i];
    xx += static_cast<double>(x[i]) * x[i];
  }
  const double s = l2 ? 2.0 * ip - xx : ip;
  constexpr double kMax = std::numeric_limits<float>::max();
  return static_cast<float>(std::clamp(s, -kMax, kMax));
}

}  // namespace

size_t suggest_nlist(size_t n) {
  if (n == 0) return 1;
  size_t s = static_cast<size_t>(std::lround(4.0 * std::sqrt(static_cast<double>(n))));
  s = std::min(s, std::max<size_t>(1, n / 39));
  if (s > 64) s = (s + 8) / 16 * 16;
  return std::max<size_t>(1, std::min(s, kMaxNlist));
}

IvfIndex::IvfIndex(size_t dim, Metric metric, size_t nlist, size_t nprobe, IvfEncoding encoding,
                   size_t rerank)
    : dim_(check_dim(dim)),
      metric_(check_metric(metric)),
      nlist_(nlist),
      nprobe_(nprobe),
      encoding_(encoding),
      rerank_(rerank),
      centroids_(dim, metric == Metric::L2) {
  if (encoding != IvfEncoding::F32 && encoding != IvfEncoding::Sq8)
    throw Error(ErrorCode::InvalidArgument, "unknown IVF encoding " +
                                                std::to_string(static_cast<uint32_t>(encoding)));
  if (nlist == 0 || nlist > kMaxNlist)
    throw Error(ErrorCode::InvalidArgument, "nlist must be an integer from 1 to " +
                                                std::to_string(kMaxNlist) + "; received " +
                                                std::to_string(nlist));
  check_nprobe(nprobe);
  check_rerank(rerank);
}

IvfList& IvfIndex::make_list(size_t l) {
  if (!lists_[l]) lists_[l] = std::make_unique<IvfList>(dim_, metric_ == Metric::L2, encoding_);
  return *lists_[l];
}

size_t IvfIndex::check_nprobe(size_t nprobe) const {
  if (nprobe < 1 || nprobe > nlist_)
    throw Error(ErrorCode::InvalidArgument, "nprobe must be an integer from 1 to nlist (" +
                                                std::to_string(nlist_) + "); received " +
                                                std::to_string(nprobe));
  return nprobe;
}

size_t IvfIndex::check_rerank(size_t rerank) {
  if (rerank > kMaxRerank)
    throw Error(ErrorCode::InvalidArgument, "rerank must be an integer from 0 to " + std::to_string(kMaxRerank) +
                                                "; received " + std::to_string(rerank));
  return rerank;
}

size_t IvfIndex::nprobe() const {
  std::shared_lock<RwLock> lock(mutex_);
  return nprobe_;
}

void IvfIndex::set_nprobe(size_t nprobe) {
  std::unique_lock<RwLock> lock(mutex_);
  nprobe_ = check_nprobe(nprobe);
}

size_t IvfIndex::rerank() const {
  std::shared_lock<RwLock> lock(mutex_);
  return rerank_;
}

void IvfIndex::set_rerank(size_t rerank) {
  check_rerank(rerank);
  std::unique_lock<RwLock> lock(mutex_);
  rerank_ = rerank;
}

bool IvfIndex::is_trained() const {
  std::shared_lock<RwLock> lock(mutex_);
  return trained_;
}

size_t IvfIndex::size() const {
  std::shared_lock<RwLock> lock(mutex_);
  return size_;
}

uint64_t IvfIndex::next_id() const {
  std::shared_lock<RwLock> lock(mutex_);
  return next_id_;
}

bool IvfIndex::contains(uint64_t id) const {
  std::shared_lock<RwLock> lock(mutex_);
  return where_.count(id) != 0;
}

size_t IvfIndex::memory_usage() const {
  std::shared_lock<RwLock> lock(mutex_);
  size_t bytes = sizeof(*this) + centroids_.memory_usage() + hash_map_bytes(where_) +
                 lists_.capacity() * sizeof(lists_[0]);
  for (const auto& l : lists_)
    if (l) bytes += sizeof(IvfList) + l->memory_usage();
  bytes += centroid_rows_.capacity() * sizeof(float);
  return bytes;
}

std::vector<size_t> IvfIndex::list_sizes() const {
  std::shared_lock<RwLock> lock(mutex_);
  std::vector<size_t> out(nlist_);
  for (size_t l = 0; l < nlist_; ++l) out[l] = list_size(l);
  return out;
}

std::vector<float> IvfIndex::centroids() const {
  std::shared_lock<RwLock> lock(mutex_);
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
  if (encoding_ == IvfEncoding::Sq8) centroid_rows_.assign(c, c + nlist_ * dim_);
  lists_.clear();
  lists_.resize(nlist_);
  trained_ = true;
}

KMeansResult IvfIndex::train(const float* x, size_t n, KMeansParams params) {
  check_finite(x, n, dim_, "training vectors");
  if (n < nlist_)
    throw Error(ErrorCode::InvalidArgument, "training needs at least nlist (" + std::to_string(nlist_) +
                                                ") vectors; received " + std::to_string(n));
  {
    std::shared_lock<RwLock> lock(mutex_);
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
  std::unique_lock<RwLock> lock(mutex_);
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
  check_ids(ids, n);
  std::vector<float> xbuf;
  const float* xs = prepare_queries(x, n, dim_, metric_, xbuf);  // unit vectors for Cosine
  std::unique_lock<RwLock> lock(mutex_);
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
  for (size_t l = 0; l < nlist_; ++l) {
    if (count[l] == 0) continue;
    IvfList& list = make_list(l);
    list.reserve(list.size() + count[l]);
  }
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
  for (size_t l = 0; l < nlist_; ++l) first_slot[l] = list_size(l);
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
      const float* centroid = centroid_rows_.empty() ? nullptr : centroid_rows_.data() + l * dim_;
      lists_[l]->append(rows.data(), m, row_ids.data(), centroid, nullptr);
    }
  });
  for (size_t l = 0; l < nlist_; ++l)
    for (size_t j = 0; j < count[l]; ++j)
      where_.emplace(assigned[order[start[l] + j]], pack_where(l, first_slot[l] + j));
  size_ += n;
  next_id_ = std::max(next_id_, *std::max_element(assigned.begin(), assigned.end()) + 1);
}

AllowMasks IvfIndex::allow_masks_locked(const uint64_t* allow, size_t n_allow) const {
  AllowMasks out(nlist_);  // one store per list
  out.allow_all(
      allow, n_allow,
      [&](uint64_t id, size_t& list, size_t& slot) {
        auto it = where_.find(id);
        if (it == where_.end()) return false;
        list = where_list(it->second);
        slot = where_slot(it->second);
        return true;
      },
      [&](size_t list) { return list_size(list); });
  return out;
}

SearchResults IvfIndex::search(const float* q, size_t nq, size_t k, size_t nprobe,
                               const uint64_t* allow, size_t n_allow, size_t rerank) const {
  if (k == 0) throw Error(ErrorCode::InvalidArgument, "k must be >= 1; received 0");
  if (rerank != kDefault) check_rerank(rerank);
  check_finite(q, nq, dim_, "queries");
  std::vector<float> qbuf;
  const float* qs = prepare_queries(q, nq, dim_, metric_, qbuf);
  const size_t d = dim_;

  std::shared_lock<RwLock> lock(mutex_);
  if (!trained_)
    throw Error(ErrorCode::NotTrained, "the IVF index must be trained before searching");
  const size_t np = check_nprobe(nprobe == 0 ? nprobe_ : nprobe);
  SearchResults res;
  res.nq = nq;
  // Allow-list: lane masks per list, and how many allowed vectors each holds.
  std::optional<AllowMasks> allowed;
  if (allow != nullptr) allowed = allow_masks_locked(allow, n_allow);
  res.k = std::min(k, allowed ? allowed->allowed() : size_);
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
    scan_centroids_locked(qs, nq, coarse.data());
    for (size_t i = 0; i < nq; ++i) {
      size_t taken = 0, covered = 0;
      for (const Hit& h : coarse_hits_locked(coarse[i], qs + i * d)) {
        if (allowed) {
          if (allowed->allowed_in(h.id) == 0) continue;
          if (taken >= np && covered >= res.k) break;
          covered += allowed->allowed_in(h.id);
        }
        by_list[h.id].push_back(static_cast<uint32_t>(i));
        ++taken;
      }
    }
  }
  std::vector<uint32_t> probed;
  size_t work = 0;  // vector-query pairs to score
  for (size_t l = 0; l < nlist_; ++l) {
    if (by_list[l].empty() || list_size(l) == 0) continue;
    probed.push_back(static_cast<uint32_t>(l));
    work += list_size(l) * by_list[l].size();
  }

  // 2. Each probed list scanned once, for all the queries that probe it, on
  // as many threads as the work is worth (the same for both encodings: an
  // sq8 pair reads fewer bytes but also prepares its query and scores codes).
  const size_t tasks = work / 4096;
  std::vector<TopK> heaps(nq, TopK(res.k));
  if (encoding_ == IvfEncoding::Sq8) {
    scan_sq8_locked(qs, nq, rerank == kDefault ? rerank_ : rerank, tasks, probed, by_list, allowed ? &*allowed : nullptr, heaps.data());
  } else {
    scan_f32_locked(qs, nq, tasks, probed, by_list, allowed ? &*allowed : nullptr, heaps.data());
  }
  finish_results(heaps.data(), qs, nq, d, metric_, res);
  return res;
}

// The probe order of one query from its coarse selection. Scores that
// overflowed a float (extreme vectors: NaN scores are dropped by the scan,
// infinite ones tie) are computed again in double, so that every list can
// still be probed, best first.
std::vector<Hit> IvfIndex::coarse_hits_locked(TopK& heap, const float* q) const {
  std::vector<Hit> hits = heap.take_sorted();
  bool finite = hits.size() == std::min(heap.k(), nlist_);
  for (const Hit& h : hits) finite = finite && std::isfinite(h.score);
  if (finite) return hits;
  TopK wide(heap.k());
  std::vector<float> c(dim_);
  for (size_t l = 0; l < nlist_; ++l) {
    centroids_.unpack_rows(l, 1, c.data());
    wide.push(wide_score(q, c.data(), dim_, metric_ == Metric::L2), l);
  }
  return wide.take_sorted();
}

// Few queries are split across the pool by ranges of centroids, many by
// ranges of queries; small jobs stay on the calling thread.
void IvfIndex::scan_centroids_locked(const float* qs, size_t nq, TopK* heaps) const {
  ThreadPool& pool = ThreadPool::global();
  const size_t threads = pool.threads();
  const size_t tasks = std::min(threads, nq * nlist_ * dim_ / (size_t(1) << 18));
  if (tasks <= 1) {
    scan_packed(qs, nq, dim_, centroids_.run(), heaps);
  } else if (nq >= 2 * threads) {
    pool.parallel_for(tasks, [&](size_t t) {
      const size_t i0 = nq * t / tasks, i1 = nq * (t + 1) / tasks;
      scan_packed(qs + i0 * dim_, i1 - i0, dim_, centroids_.run(), heaps + i0);
    });
  } else {
    const size_t nblocks = (nlist_ + kBlock - 1) / kBlock;
    std::vector<std::vector<TopK>> part(tasks, std::vector<TopK>(nq, TopK(heaps[0].k())));
    pool.parallel_for(tasks, [&](size_t t) {
      const size_t first = nblocks * t / tasks * kBlock;
      const size_t last = std::min(nlist_, nblocks * (t + 1) / tasks * kBlock);
      scan_packed(qs, nq, dim_, centroids_.run(first, last), part[t].data());
    });
    for (size_t i = 0; i < nq; ++i)
      for (size_t t = 0; t < tasks; ++t) heaps[i].merge(part[t][i]);
  }
}

namespace {

// Runs scan(t, p) for the probed lists p on up to `tasks` threads, each
// claiming lists in turn, with one selection per query per thread; merges
// them into heaps.
template <typename Scan>
void scan_lists(size_t tasks, size_t nprobed, size_t nq, TopK* heaps, Scan scan) {
  ThreadPool& pool = ThreadPool::global();
  tasks = std::max<size_t>(1, std::min(pool.threads(), tasks));
  std::vector<std::vector<TopK>> partial(tasks);
  std::atomic<size_t> next{0};
  pool.parallel_for(tasks, [&](size_t t) {
    partial[t].assign(nq, TopK(heaps[0].k()));
    for (size_t p = next++; p < nprobed; p = next++) scan(partial[t].data(), p);
  });
  for (size_t i = 0; i < nq; ++i)
    for (size_t t = 0; t < tasks; ++t) heaps[i].merge(partial[t][i]);
}

}  // namespace

void IvfIndex::scan_f32_locked(const float* qs, size_t nq, size_t tasks, const std::vector<uint32_t>& probed,
                               const std::vector<std::vector<uint32_t>>& by_list,
                               const AllowMasks* allowed, TopK* heaps) const {
  const size_t d = dim_;
  scan_lists(tasks, probed.size(), nq, heaps, [&](TopK* partial, size_t p) {
    thread_local std::vector<float> group;
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
    PackedRun run = lists_[l]->packed().run();
    if (allowed) run.masks = allowed->masks(l);
    scan_packed(qptr, qs_of.size(), d, run, partial, qs_of.data());
  });
}

// Selects candidates by their 8-bit scores (with the list and slot as id),
// then, with rerank > 0, scores them again from the float vectors.
void IvfIndex::scan_sq8_locked(const float* qs, size_t nq, size_t rerank, size_t tasks,
                               const std::vector<uint32_t>& probed,
                               const std::vector<std::vector<uint32_t>>& by_list,
                               const AllowMasks* allowed, TopK* heaps) const {
  const Kernels& kn = kernels();
  const size_t d = dim_, groups = sq8_groups(d);
  const bool l2 = metric_ == Metric::L2;
  const size_t k = heaps[0].k();
  std::vector<TopK> candidates(nq, TopK(rerank == 0 ? k : std::max(rerank, k)));
  scan_lists(tasks, probed.size(), nq, candidates.data(), [&](TopK* partial, size_t p) {
    thread_local std::vector<int32_t> dots;
    thread_local std::vector<float> scores;
    thread_local std::vector<uint32_t> picked;
    thread_local Sq8Probe probe;
    const uint32_t l = probed[p];
    const size_t count = lists_[l]->size();
    const CodeStore& cs = lists_[l]->codes();
    const size_t nb = (count + kBlock - 1) / kBlock;
    dots.resize(nb * kBlock);
    scores.resize(nb * kBlock);
    picked.resize(nb * kBlock);
    const uint16_t* mask = allowed ? allowed->masks(l) : nullptr;
    for (uint32_t i : by_list[l]) {
      probe.prepare(qs + size_t(i) * d, centroid_rows_.data() + size_t(l) * d, d, l2);
      kn.sq8_dots(probe.w.data(), cs.codes(), nb, groups, dots.data());
      sq8_scores(probe, dots.data(), cs, count, scores.data());
      TopK& heap = partial[i];
      const size_t m = kn.select_at_least(scores.data(), count, heap.threshold(), picked.data());
      for (size_t j = 0; j < m; ++j) {
        const size_t slot = picked[j];
        if (mask && !((mask[slot / kBlock] >> (slot % kBlock)) & 1u)) continue;
        heap.push(scores[slot], pack_where(l, slot));
      }
    }
  });

  // Candidates to results: exact scores (rerank) or the estimates, with ids.
  auto finish = [&](size_t i) {
    const std::vector<Hit> hits = candidates[i].take_sorted();
    // Vectors are read whole from scattered places: fetch a few ahead.
    constexpr size_t kAhead = 4;
    auto prefetch = [&](const Hit& h) {
      if (rerank == 0) return;
      const char* p = reinterpret_cast<const char*>(lists_[where_list(h.id)]->rows().row(where_slot(h.id)));
      for (size_t b = 0; b < d * sizeof(float); b += 64) __builtin_prefetch(p + b);
    };
    for (size_t j = 0; j < std::min(kAhead, hits.size()); ++j) prefetch(hits[j]);
    for (size_t j = 0; j < hits.size(); ++j) {
      const Hit& h = hits[j];
      if (j + kAhead < hits.size()) prefetch(hits[j + kAhead]);
      const size_t l = where_list(h.id), slot = where_slot(h.id);
      const RowStore& rows = lists_[l]->rows();
      float score = h.score;
      if (rerank > 0) {
        const float* row = rows.row(slot);
        const float ip = kn.inner_product(qs + i * d, row, d);
        score = rows.sqnorms() ? 2.0f * ip - rows.sqnorms()[slot] : ip;
        if (!std::isfinite(score)) score = wide_score(qs + i * d, row, d, rows.sqnorms() != nullptr);
      }
      heaps[i].push(score, rows.ids()[slot]);
    }
  };
  ThreadPool& pool = ThreadPool::global();
  if (nq == 1 || rerank == 0) {
    for (size_t i = 0; i < nq; ++i) finish(i);
  } else {
    std::atomic<size_t> next{0};
    pool.parallel_for(std::min(pool.threads(), nq), [&](size_t) {
      for (size_t i = next++; i < nq; i = next++) finish(i);
    });
  }
}

size_t IvfIndex::remove(const uint64_t* ids, size_t n) {
  std::unique_lock<RwLock> lock(mutex_);
  for (size_t i = 0; i < n; ++i)
    if (!where_.count(ids[i]))
      throw Error(ErrorCode::NotFound, "id " + std::to_string(ids[i]) +
                                           " is not in the index; nothing was removed");
  size_t removed = 0;
  for (size_t i = 0; i < n; ++i) {
    auto it = where_.find(ids[i]);
    if (it == where_.end()) continue;
    const size_t l = where_list(it->second), slot = where_slot(it->second);
    IvfList& list = *lists_[l];
    const bool moves = slot + 1 != list.size();
    where_.erase(it);
    uint64_t moved = list.remove_slot(slot);
    if (moves) where_[moved] = pack_where(l, slot);
    --size_;
    ++removed;
  }
  return removed;
}

void IvfIndex::reconstruct(uint64_t id, float* out) const {
  std::shared_lock<RwLock> lock(mutex_);
  auto it = where_.find(id);
  if (it == where_.end()) throw Error(ErrorCode::NotFound, "id " + std::to_string(id) + " is not in the index");
  lists_[where_list(it->second)]->unpack_rows(where_slot(it->second), 1, out);
}

}  // namespace semvec
