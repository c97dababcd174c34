// IvfIndex persistence: the IVF payload's fields (every format), formats
// 1.0 and 2.0 read into memory, and the entry points (save, load, open).
// Format 3.0, which every save writes, is in ivf_index_v3.cpp.
#include <atomic>
#include <mutex>
#include <shared_mutex>

#include "errors.h"
#include "file_payload.h"
#include "ivf_index.h"
#include "temp_files.h"
#include "thread_pool.h"

namespace semvec {

// Payload of kind Ivf, formats 1.0 (F32) and 2.0 (Sq8):
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

namespace {

// Every field is held to the range the API allows.
[[noreturn]] void outside(const char* field, uint64_t v, uint64_t lo, uint64_t hi) {
  corrupt_file(std::string(field) + " " + std::to_string(v) + " is outside " + std::to_string(lo) + ".." +
               std::to_string(hi));
}

}  // namespace

IvfIndex::Fields IvfIndex::read_fields(Reader& r, const FileHeader& h) {
  Fields f;
  if (h.major > 4) corrupt_file("an IVF index in a format " + std::to_string(h.major) + " file (IVF indexes are 1.0 to 4.0)");
  if (h.count > kMaxVectors) outside("count", h.count, 0, kMaxVectors);
  f.next_id = r.read_pod<uint64_t>();
  f.nlist = r.read_pod<uint32_t>();
  f.nprobe = r.read_pod<uint32_t>();
  const uint32_t trained = r.read_pod<uint32_t>(), encoding = r.read_pod<uint32_t>();
  if (f.nlist == 0 || f.nlist > kMaxNlist) outside("nlist", f.nlist, 1, kMaxNlist);
  if (f.nprobe == 0 || f.nprobe > f.nlist) outside("nprobe", f.nprobe, 1, f.nlist);
  if (trained > 1) outside("trained flag", trained, 0, 1);
  const uint32_t max_encoding = h.major >= 4 ? 3 : h.major >= 2 ? 1 : 0;
  if (encoding > max_encoding) outside("encoding", encoding, 0, max_encoding);
  if (f.next_id > kMaxNextId) outside("next id", f.next_id, 0, kMaxNextId);
  f.trained = trained == 1;
  f.encoding = static_cast<IvfEncoding>(encoding);
  // Format 3 stores rerank for both encodings; 2.0 for Sq8 only (1.0 files
  // get the default the API gives every index).
  f.rerank = kDefaultRerank;
  if (h.major >= 3 || f.encoding == IvfEncoding::Sq8) {
    f.rerank = r.read_pod<uint32_t>();
    if (f.rerank > kMaxRerank) outside("rerank", f.rerank, 0, kMaxRerank);
    const uint32_t reserved = r.read_pod<uint32_t>();
    if (reserved != 0) outside("reserved field", reserved, 0, 0);
  }
  if (h.major >= 3) {
    f.capacity = r.read_pod<uint64_t>();
    f.max_probe = r.read_pod<uint64_t>();
    if (f.capacity < h.count || f.capacity > 2 * uint64_t(kMaxVectors))
      corrupt_file("id table capacity " + std::to_string(f.capacity) + " is outside count.." +
                   std::to_string(2 * uint64_t(kMaxVectors)));
    if (f.max_probe > f.capacity)
      corrupt_file("id table max probe " + std::to_string(f.max_probe) + " exceeds its capacity");
  }
  if (!f.trained && h.count != 0) corrupt_file("an untrained index holds vectors");
  return f;
}

std::unique_ptr<IvfIndex> IvfIndex::read(Reader& r) {
  const FileHeader h = r.read_header();
  expect_kind(h, IndexKind::Ivf);
  const Fields f = read_fields(r, h);
  return h.major >= 3 ? read_v3(r, h, f) : read_legacy(r, h, f);
}

std::unique_ptr<IvfIndex> IvfIndex::read_legacy(Reader& r, const FileHeader& h, const Fields& f) {
  const bool sq8 = f.encoding == IvfEncoding::Sq8;
  const uint64_t d = h.dim, nlist = f.nlist;
  const uint64_t expect = sizeof(uint64_t) + 16 + (sq8 ? 8 : 0) +
                          (f.trained ? nlist * d * 4 + nlist * 8ull + h.count * (8 + d * 4) : 0);
  if (h.payload_bytes != expect) corrupt_file("payload size does not match count, dim and nlist");
  auto index = std::make_unique<IvfIndex>(h.dim, h.metric, f.nlist, f.nprobe, f.encoding, f.rerank);
  if (f.trained) index->read_trained_locked(r, h.count, f.next_id);
  r.read_trailer();
  index->next_id_ = f.next_id;
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
    if (s > count) corrupt_file("list size out of range");
    total += s;
  }
  if (total != count) corrupt_file("list sizes do not add up to the count");
  std::vector<uint64_t> all_ids;
  all_ids.reserve(count);
  where_.reserve(count);
  for (size_t l = 0; l < nlist_; ++l) {
    std::vector<uint64_t> ids(sizes[l]);
    r.read(ids.data(), ids.size() * sizeof(uint64_t));
    for (size_t j = 0; j < ids.size(); ++j) {
      check_stored_id(ids[j]);
      if (where_.count(ids[j]) != 0) corrupt_file("id " + std::to_string(ids[j]) + " appears twice");
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

std::unique_ptr<IvfIndex> IvfIndex::load(const std::string& path) {
  remove_stale_temp_files(path);  // left by writers killed mid-save
  FileReader r(path);
  return read(r);
}

std::unique_ptr<IvfIndex> IvfIndex::deserialize(const void* data, size_t size) {
  MemoryReader r(data, size);
  return read(r);
}

std::unique_ptr<IvfIndex> IvfIndex::open(const std::string& path, bool verify) {
  remove_stale_temp_files(path);  // left by writers killed mid-save
  return open_image(FileMapping::map(path), verify);
}

}  // namespace semvec
