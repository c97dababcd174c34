#include "ivf_index.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <shared_mutex>

#include "errors.h"
#include "file_payload.h"
#include "id_assignment.h"
#include "query_preparation.h"
#include "scan.h"
#include "thread_pool.h"
#include "vectors.h"

namespace semvec {

size_t suggest_nlist(size_t n) {
  if (n == 0) return 1;
  size_t s = static_cast<size_t>(std::lround(4.0 * std::sqrt(static_cast<double>(n))));
  s = std::min(s, std::max<size_t>(1, n / 39));
  if (s > 64) s = (s + 8) / 16 * 16;
  return std::max<size_t>(1, std::min(s, kMaxNlist));
}

IvfIndex::IvfIndex(size_t dim, Metric metric, size_t nlist, size_t nprobe, IvfEncoding encoding,
                   size_t rerank)
    : IvfIndex(dim, metric, nlist, nprobe, encoding, rerank, RotationGiven{}) {
  if (is_rq(encoding)) rotation_ = Rotation(dim, kRqRotationSeed);
}

IvfIndex::IvfIndex(size_t dim, Metric metric, size_t nlist, size_t nprobe, IvfEncoding encoding,
                   size_t rerank, RotationGiven)
    : dim_(check_dim(dim)),
      metric_(check_metric(metric)),
      nlist_(nlist),
      nprobe_(nprobe),
      encoding_(encoding),
      rerank_(rerank),
      centroids_(dim, metric == Metric::L2) {
  if (encoding != IvfEncoding::F32 && encoding != IvfEncoding::Sq8 && !is_rq(encoding))
    throw Error(ErrorCode::InvalidArgument, "unknown IVF encoding " +
                                                std::to_string(static_cast<uint32_t>(encoding)));
  if (is_rq(encoding) && dim > kMaxRqDim)
    throw Error(ErrorCode::InvalidArgument, std::string("encoding '") + ivf_encoding_name(encoding) +
                                                "' takes dim from 1 to " + std::to_string(kMaxRqDim) +
                                                "; received " + std::to_string(dim) + " (use 'sq8' or 'f32')");
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

bool IvfIndex::locate_locked(uint64_t id, size_t* list, size_t* slot) const {
  uint64_t where = 0;
  if (!where_.find(id, &where)) return false;
  *list = where_list(where);
  *slot = where_slot(where);
  // A table mapped without verification may point anywhere: never past a list.
  return *list < nlist_ && *slot < list_size(*list);
}

size_t IvfIndex::memory_usage() const {
  std::shared_lock<RwLock> lock(mutex_);
  size_t bytes = sizeof(*this) + centroids_.memory_usage() + where_.memory_usage() +
                 lists_.capacity() * sizeof(lists_[0]);
  for (const auto& l : lists_)
    if (l) bytes += sizeof(IvfList) + l->memory_usage();
  bytes += centroid_rows_.heap_bytes() + centroid_rot_.heap_bytes() + rotation_.memory_usage();
  return bytes;
}

IvfIndex::MemoryParts IvfIndex::memory_parts() const {
  std::shared_lock<RwLock> lock(mutex_);
  MemoryParts p;
  p.centroids = centroids_.memory_usage() + centroid_rows_.heap_bytes() + centroid_rot_.heap_bytes() +
                rotation_.memory_usage();
  p.ids = where_.memory_usage();
  for (const auto& l : lists_) {
    if (!l) continue;
    p.codes += l->codes_heap_bytes();
    p.ids += l->ids_heap_bytes();
    p.floats += l->floats_heap_bytes();
    if (mapping_) p.floats_mapped += l->floats_bytes() - l->floats_heap_bytes();
  }
  p.other = sizeof(*this) + lists_.capacity() * sizeof(lists_[0]);
  for (const auto& l : lists_)
    if (l) p.other += sizeof(IvfList);
  return p;
}

void IvfIndex::keep_codes_in_memory() {
  std::unique_lock<RwLock> lock(mutex_);
  if (!mapping_)
    throw Error(ErrorCode::InvalidArgument, "codes-only needs an index opened from a file (open)");
  if (encoding_ == IvfEncoding::F32)
    throw Error(ErrorCode::InvalidArgument,
                "codes-only needs an encoded index ('sq8', 'rq4' or 'rq1'); this one is 'f32', whose lists are the floats");
  centroids_ = centroids_.copy();
  centroid_rows_ = centroid_rows_.copy();
  // The id table stays in the file: searches do not read it (filters,
  // contains and reconstruct do, through the page cache).
  for (auto& l : lists_)
    if (l) l->own_codes();
  // The open's checksum pass and the copies above read the file through
  // the mapping, and each page read stays in this process's resident set:
  // at 10M x 384 that was the whole 17 GB file. Only the floats a re-rank
  // reads should be resident, so drop the mapping's pages; they come back
  // from the page cache as searches touch them.
  mapping_->release();
}

size_t IvfIndex::mapped_bytes() const { return mapping_ ? mapping_->size() : 0; }

void IvfIndex::check_writable() const {
  if (mapping_)
    throw Error(ErrorCode::ReadOnly,
                "this index is mapped from a file and is read-only: load() the file (or fromBuffer(toBuffer())) "
                "for a copy in memory that can change, or add to an emptyLike() companion");
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
  if (encoding_ == IvfEncoding::Sq8 || is_rq(encoding_)) {
    PodBuffer<float> rows;
    rows.resize(nlist_ * dim_);
    std::copy(c, c + nlist_ * dim_, rows.data());
    centroid_rows_ = PodStorage<float>(std::move(rows));
  }
  // A reader sets the rotation after the centroids (set_rotation_locked
  // rotates them then).
  if (is_rq(encoding_) && rotation_.dim() == dim_) {
    PodBuffer<float> rot;
    rot.resize(nlist_ * dim_);
    rotation_.apply(c, nlist_, rot.data());
    centroid_rot_ = PodStorage<float>(std::move(rot));
  }
  lists_.clear();
  lists_.resize(nlist_);
  trained_ = true;
}

void IvfIndex::set_rotation_locked(const float* rows) {
  check_stored_finite(rows, dim_ * dim_, "rotation");
  rotation_ = Rotation(dim_, rows);
  if (centroid_rows_.size() == nlist_ * dim_) {
    PodBuffer<float> rot;
    rot.resize(nlist_ * dim_);
    rotation_.apply(centroid_rows_.data(), nlist_, rot.data());
    centroid_rot_ = PodStorage<float>(std::move(rot));
  }
}

KMeansParams IvfIndex::training_defaults() {
  KMeansParams p;
  p.iterations = 10;
  p.max_points_per_centroid = 64;
  p.init = KMeansInit::Random;
  return p;
}

KMeansResult IvfIndex::train(const float* x, size_t n, KMeansParams params) {
  check_writable();
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
  check_writable();
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
    std::vector<float> rows, rotated;
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
      const float* centroid = centroid_rows_.size() == 0 ? nullptr : centroid_rows_.data() + l * dim_;
      if (is_rq(encoding_)) {
        rotated.resize(m * dim_);
        rotation_.apply(rows.data(), m, rotated.data());
        lists_[l]->append_rq(rows.data(), rotated.data(), m, row_ids.data(), centroid, centroid_rot_.data() + l * dim_);
      } else {
        lists_[l]->append(rows.data(), m, row_ids.data(), centroid, nullptr);
      }
    }
  });
  for (size_t l = 0; l < nlist_; ++l)
    for (size_t j = 0; j < count[l]; ++j)
      where_.insert(assigned[order[start[l] + j]], pack_where(l, first_slot[l] + j));
  size_ += n;
  next_id_ = std::max(next_id_, *std::max_element(assigned.begin(), assigned.end()) + 1);
}

size_t IvfIndex::remove(const uint64_t* ids, size_t n) {
  check_writable();
  std::unique_lock<RwLock> lock(mutex_);
  for (size_t i = 0; i < n; ++i)
    if (!where_.count(ids[i]))
      throw Error(ErrorCode::NotFound, "id " + std::to_string(ids[i]) +
                                           " is not in the index; nothing was removed");
  size_t removed = 0;
  for (size_t i = 0; i < n; ++i) {
    uint64_t where = 0;
    if (!where_.find(ids[i], &where)) continue;  // a repeat already removed
    const size_t l = where_list(where), slot = where_slot(where);
    IvfList& list = *lists_[l];
    const bool moves = slot + 1 != list.size();
    where_.erase(ids[i]);
    uint64_t moved = list.remove_slot(slot);
    if (moves) where_.update(moved, pack_where(l, slot));
    --size_;
    ++removed;
  }
  return removed;
}

void IvfIndex::reconstruct(uint64_t id, float* out) const {
  std::shared_lock<RwLock> lock(mutex_);
  size_t list = 0, slot = 0;
  if (!locate_locked(id, &list, &slot))
    throw Error(ErrorCode::NotFound, "id " + std::to_string(id) + " is not in the index");
  lists_[list]->unpack_rows(slot, 1, out);
}

std::unique_ptr<IvfIndex> IvfIndex::empty_like() const {
  std::shared_lock<RwLock> lock(mutex_);
  std::unique_ptr<IvfIndex> out(new IvfIndex(dim_, metric_, nlist_, nprobe_, encoding_, rerank_, RotationGiven{}));
  if (is_rq(encoding_)) out->rotation_ = Rotation(dim_, rotation_.rows().data());
  if (trained_) {
    // Bit for bit, norms included, so that every vector goes to the same list.
    out->centroids_ = centroids_.copy();
    out->centroid_rows_ = centroid_rows_.copy();
    out->centroid_rot_ = centroid_rot_.copy();
    out->lists_.resize(nlist_);
    out->trained_ = true;
  }
  out->next_id_ = next_id_;
  return out;
}

}  // namespace semvec
