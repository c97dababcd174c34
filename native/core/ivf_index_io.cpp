// IvfIndex persistence: the IVF payload of the index file format.
#include <atomic>
#include <mutex>
#include <shared_mutex>

#include "errors.h"
#include "file_payload.h"
#include "ivf_index.h"
#include "temp_files.h"
#include "thread_pool.h"

namespace semvec {

// Payload of kind Ivf (format 1.0 for F32, 2.0 for Sq8):
//   u64 next_id
//   u32 nlist, u32 nprobe, u32 trained (0 or 1), u32 encoding (0 F32, 1 Sq8;
//   a reserved 0 in format 1)
//   if Sq8: u32 rerank, u32 reserved (0)
//   if trained:
//     f32 centroids[nlist * dim], row-major
//     u64 list_sizes[nlist]
//     per list: u64 ids[size], f32 vectors[size * dim] (unit vectors for Cosine)
// Sq8 codes are not stored: they are encoded again from the vectors and
// centroids on load.

size_t IvfIndex::payload_bytes_locked() const {
  const bool sq8 = encoding_ == IvfEncoding::Sq8;
  size_t bytes = sizeof(uint64_t) + 4 * sizeof(uint32_t) + (sq8 ? 2 * sizeof(uint32_t) : 0);
  if (trained_)
    bytes += nlist_ * dim_ * sizeof(float) + nlist_ * sizeof(uint64_t) +
             size_ * (sizeof(uint64_t) + dim_ * sizeof(float));
  return bytes;
}

void IvfIndex::write_locked(Writer& w) const {
  FileHeader h;
  h.kind = IndexKind::Ivf;
  if (encoding_ == IvfEncoding::Sq8) h.major = 2;
  h.metric = metric_;
  h.dim = static_cast<uint32_t>(dim_);
  h.count = size_;
  h.payload_bytes = payload_bytes_locked();
  w.write_header(h);
  w.write_pod<uint64_t>(next_id_);
  w.write_pod<uint32_t>(static_cast<uint32_t>(nlist_));
  w.write_pod<uint32_t>(static_cast<uint32_t>(nprobe_));
  w.write_pod<uint32_t>(trained_ ? 1 : 0);
  w.write_pod<uint32_t>(static_cast<uint32_t>(encoding_));
  if (encoding_ == IvfEncoding::Sq8) {
    w.write_pod<uint32_t>(static_cast<uint32_t>(rerank_));
    w.write_pod<uint32_t>(0);
  }
  if (!trained_) {
    w.write_trailer();
    return;
  }
  write_vectors(w, nlist_, dim_, [&](size_t first, size_t count, float* out) {
    centroids_.unpack_rows(first, count, out);
  });
  for (size_t l = 0; l < nlist_; ++l) w.write_pod<uint64_t>(list_size(l));
  for (const auto& l : lists_) {
    if (!l) continue;
    write_ids(w, l->ids(), l->size());
    write_vectors(w, l->size(), dim_, [&](size_t first, size_t count, float* out) {
      l->unpack_rows(first, count, out);
    });
  }
  w.write_trailer();
}

void IvfIndex::save(const std::string& path) const {
  std::shared_lock<RwLock> lock(mutex_);
  FileWriter w(path);
  write_locked(w);
  w.commit();
}

void IvfIndex::serialize(const std::function<void*(size_t)>& alloc) const {
  std::shared_lock<RwLock> lock(mutex_);
  size_t total = kHeaderBytes + payload_bytes_locked() + kTrailerBytes;
  MemoryWriter w(alloc(total), total);
  write_locked(w);
}

namespace {

Error corrupt(const std::string& why) { return Error(ErrorCode::CorruptFile, "corrupt semvec index file: " + why); }

// Every field is held to the range the API allows.
Error outside(const char* field, uint64_t v, uint64_t lo, uint64_t hi) {
  return corrupt(std::string(field) + " " + std::to_string(v) + " is outside " + std::to_string(lo) + ".." +
                 std::to_string(hi));
}

}  // namespace

std::unique_ptr<IvfIndex> IvfIndex::read(Reader& r) {
  FileHeader h = r.read_header();
  expect_kind(h, IndexKind::Ivf);
  if (h.count > kMaxVectors) throw outside("count", h.count, 0, kMaxVectors);
  const uint64_t next_id = r.read_pod<uint64_t>();
  const uint32_t nlist = r.read_pod<uint32_t>(), nprobe = r.read_pod<uint32_t>();
  const uint32_t trained = r.read_pod<uint32_t>(), encoding = r.read_pod<uint32_t>();
  if (nlist == 0 || nlist > kMaxNlist) throw outside("nlist", nlist, 1, kMaxNlist);
  if (nprobe == 0 || nprobe > nlist) throw outside("nprobe", nprobe, 1, nlist);
  if (trained > 1) throw outside("trained flag", trained, 0, 1);
  if (encoding > (h.major >= 2 ? 1u : 0u)) throw outside("encoding", encoding, 0, h.major >= 2 ? 1 : 0);
  check_next_id(next_id, {});
  const bool sq8 = encoding == static_cast<uint32_t>(IvfEncoding::Sq8);
  uint32_t rerank = 0;
  if (sq8) {
    rerank = r.read_pod<uint32_t>();
    if (rerank > kMaxRerank) throw outside("rerank", rerank, 0, kMaxRerank);
    const uint32_t reserved = r.read_pod<uint32_t>();
    if (reserved != 0) throw outside("reserved field", reserved, 0, 0);
  }
  const uint64_t d = h.dim;
  const uint64_t expect = sizeof(uint64_t) + 16 + (sq8 ? 8 : 0) +
                          (trained ? nlist * d * 4 + nlist * 8ull + h.count * (8 + d * 4) : 0);
  if (h.payload_bytes != expect || (!trained && h.count != 0))
    throw corrupt("payload size does not match count, dim and nlist");
  auto index = std::make_unique<IvfIndex>(h.dim, h.metric, nlist, nprobe,
                                          static_cast<IvfEncoding>(encoding), rerank);
  if (trained) index->read_trained_locked(r, h.count, next_id);
  r.read_trailer();
  index->next_id_ = next_id;
  return index;
}

// The payload of a trained index after its fields: centroids, list sizes,
// then each list's ids and vectors (`count` in all).
void IvfIndex::read_trained_locked(Reader& r, uint64_t count, uint64_t next_id) {
  std::vector<float> c(nlist_ * dim_);
  read_vectors(r, nlist_, dim_, [&](const float* rows, size_t m, size_t first) {
    std::copy(rows, rows + m * dim_, c.begin() + first * dim_);
  });
  set_centroids_locked(c.data());
  std::vector<uint64_t> sizes(nlist_);
  r.read(sizes.data(), nlist_ * sizeof(uint64_t));
  uint64_t total = 0;
  for (uint64_t s : sizes) {
    if (s > count) throw corrupt("list size out of range");
    total += s;
  }
  if (total != count) throw corrupt("list sizes do not add up to the count");
  std::vector<uint64_t> all_ids;
  all_ids.reserve(count);
  where_.reserve(count);
  for (size_t l = 0; l < nlist_; ++l) {
    std::vector<uint64_t> ids(sizes[l]);
    r.read(ids.data(), ids.size() * sizeof(uint64_t));
    for (size_t j = 0; j < ids.size(); ++j) {
      check_stored_id(ids[j]);
      if (where_.count(ids[j]) != 0) throw corrupt("id " + std::to_string(ids[j]) + " appears twice");
      where_.insert(ids[j], pack_where(l, j));
    }
    if (!ids.empty()) {
      IvfList& list = make_list(l);
      list.reserve(ids.size());
      read_vectors(r, ids.size(), dim_, [&](const float* rows, size_t m, size_t first) {
        list.append_floats(rows, m, ids.data() + first, &ThreadPool::global());
      });
    }
    all_ids.insert(all_ids.end(), ids.begin(), ids.end());
  }
  check_next_id(next_id, all_ids);
  size_ = count;
  if (encoding_ == IvfEncoding::Sq8) encode_all_locked();
}

void IvfIndex::encode_all_locked() {
  ThreadPool& pool = ThreadPool::global();
  std::atomic<size_t> next{0};
  pool.parallel_for(pool.threads(), [&](size_t) {
    for (size_t l = next++; l < nlist_; l = next++)
      if (lists_[l]) lists_[l]->encode(centroid_rows_.data() + l * dim_);
  });
}

std::unique_ptr<IvfIndex> IvfIndex::load(const std::string& path) {
  remove_stale_temp_files(path);  // left by writers killed mid-save
  FileReader r(path);
  return read(r);
}

std::unique_ptr<IvfIndex> IvfIndex::deserialize(const void* data, size_t size) {
  MemoryReader r(data, size);
  return read(r);
}

}  // namespace semvec
