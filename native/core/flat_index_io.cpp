// FlatIndex persistence: the flat payloads of the index file format
// (docs/file-format.md). Writes format 3.0; reads 1.0 and 3.0 into memory
// (load, deserialize); maps 3.0 (open).
#include <mutex>
#include <shared_mutex>

#include "errors.h"
#include "file_payload.h"
#include "file_sections.h"
#include "flat_index.h"
#include "temp_files.h"
#include "thread_pool.h"

namespace semvec {

// Payload of kind Flat, format 1.0:
//   u64 next_id
//   u64 ids[count]
//   f32 vectors[count * dim], row-major (normalised already for Cosine)
//
// Payload of kind Flat, format 3.0 (file_sections.h), P = the count
// rounded up to whole blocks of kBlock:
//   u64 next_id, u64 id table capacity, u64 id table max probe
//   section table (4 sections), then at 64-byte aligned offsets:
//   Vectors  f32[P * dim]    the packed blocks (PackedStore)
//   SqNorms  f32[P]          L2 only (else 0 bytes)
//   Ids      u64[P]          count ids, then zeros
//   IdTable  IdEntry[capacity] (id_table.h): id -> slot

struct FlatIndex::Fields3 {
  uint64_t next_id = 0;
  uint64_t capacity = 0;
  uint64_t max_probe = 0;
  SectionLayout layout{0, 0};
};

namespace {

constexpr uint64_t kFlatFields3Bytes = 24;

SectionLayout flat_layout(uint64_t dim, uint64_t count, bool l2, uint64_t capacity) {
  const uint64_t padded = PackedStore::blocks_for(count) * kBlock;
  SectionLayout l(kHeaderBytes + kFlatFields3Bytes, 4);
  l.add(SectionTag::Vectors, padded * dim * sizeof(float));
  l.add(SectionTag::SqNorms, l2 ? padded * sizeof(float) : 0);
  l.add(SectionTag::Ids, padded * sizeof(uint64_t));
  l.add(SectionTag::IdTable, capacity * sizeof(IdEntry));
  return l;
}

// The id table capacity a writer uses for n ids (IdTable::build).
uint64_t canonical_capacity(uint64_t n) { return 2 * n; }

}  // namespace

size_t FlatIndex::payload_bytes_locked() const {
  const size_t n = store_.size();
  return payload_bytes_of(flat_layout(dim_, n, metric_ == Metric::L2, canonical_capacity(n)));
}

void FlatIndex::write_locked(Writer& w) const {
  const size_t n = store_.size(), padded = PackedStore::blocks_for(n) * kBlock;
  const uint64_t* ids = store_.ids();
  const IdTable table = IdTable::build(n, [&](size_t i, uint64_t* id, uint64_t* where) {
    *id = ids[i];
    *where = i;
  });
  const SectionLayout l = flat_layout(dim_, n, metric_ == Metric::L2, table.capacity());
  FileHeader h;
  h.major = 3;
  h.kind = IndexKind::Flat;
  h.metric = metric_;
  h.dim = static_cast<uint32_t>(dim_);
  h.count = n;
  h.payload_bytes = payload_bytes_of(l);
  w.write_header(h);
  w.write_pod<uint64_t>(next_id_);
  w.write_pod<uint64_t>(table.capacity());
  w.write_pod<uint64_t>(table.max_probe());
  write_section_table(w, l);
  SectionWriter out(w, l.table_end());
  out.put(l[SectionTag::Vectors].offset, store_.blocks(), padded * dim_ * sizeof(float));
  if (store_.with_norms()) out.put(l[SectionTag::SqNorms].offset, store_.sqnorms(), padded * sizeof(float));
  out.put(l[SectionTag::Ids].offset, ids, n * sizeof(uint64_t));
  out.put(l[SectionTag::IdTable].offset, table.entries(), table.capacity() * sizeof(IdEntry));
  out.finish(l.end());
  w.write_trailer();
}

void FlatIndex::save(const std::string& path) const {
  std::shared_lock<RwLock> lock(mutex_);
  FileWriter w(path);
  write_locked(w);
  w.commit();
}

void FlatIndex::serialize(const std::function<void*(size_t)>& alloc) const {
  std::shared_lock<RwLock> lock(mutex_);
  size_t total = kHeaderBytes + payload_bytes_locked() + kTrailerBytes;
  MemoryWriter w(alloc(total), total);
  write_locked(w);
}

std::unique_ptr<FlatIndex> FlatIndex::read(Reader& r) {
  FileHeader h = r.read_header();
  expect_kind(h, IndexKind::Flat);
  if (h.count > kMaxVectors)
    corrupt_file("count " + std::to_string(h.count) + " is outside 0.." + std::to_string(kMaxVectors));
  return h.major >= 3 ? read_v3(r, h) : read_v1(r, h);
}

std::unique_ptr<FlatIndex> FlatIndex::read_v1(Reader& r, const FileHeader& h) {
  const uint64_t per_vector = sizeof(uint64_t) + uint64_t(h.dim) * sizeof(float);
  if (h.payload_bytes != sizeof(uint64_t) + h.count * per_vector)
    corrupt_file("payload size does not match count " + std::to_string(h.count) + " and dim " + std::to_string(h.dim));
  auto index = std::make_unique<FlatIndex>(h.dim, h.metric);
  FlatIndex& ix = *index;
  const size_t n = h.count;
  const uint64_t next_id = r.read_pod<uint64_t>();
  std::vector<uint64_t> ids(n);
  r.read(ids.data(), n * sizeof(uint64_t));
  ix.slot_of_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    check_stored_id(ids[i]);
    if (ix.slot_of_.count(ids[i]) != 0) corrupt_file("id " + std::to_string(ids[i]) + " appears twice");
    ix.slot_of_.insert(ids[i], i);
  }
  // Stored vectors are already normalised for Cosine: pack them as they
  // are, on all threads.
  ix.store_.reserve(n);
  read_vectors(r, n, h.dim, [&](const float* rows, size_t count, size_t first) {
    ix.store_.append(rows, count, ids.data() + first, false, &ThreadPool::global());
  });
  r.read_trailer();
  check_next_id(next_id, ids);
  ix.next_id_ = next_id;
  return index;
}

namespace {

// The fields and section table of a format-3 flat file, every field held
// to the API's limits and every section to the layout they imply, which
// must end where the payload does (so every section lies in the file).
template <typename Fields>
Fields read_fields3(Reader& r, const FileHeader& h) {
  Fields f;
  f.next_id = r.read_pod<uint64_t>();
  f.capacity = r.read_pod<uint64_t>();
  f.max_probe = r.read_pod<uint64_t>();
  if (f.next_id > kMaxNextId) corrupt_file("next id " + std::to_string(f.next_id) + " is outside 0..2^53");
  if (f.capacity < h.count || f.capacity > 2 * uint64_t(kMaxVectors))
    corrupt_file("id table capacity " + std::to_string(f.capacity) + " is outside count.." +
                 std::to_string(2 * uint64_t(kMaxVectors)));
  if (f.max_probe > f.capacity) corrupt_file("id table max probe " + std::to_string(f.max_probe) + " exceeds its capacity");
  f.layout = flat_layout(h.dim, h.count, h.metric == Metric::L2, f.capacity);
  if (payload_bytes_of(f.layout) != h.payload_bytes)
    corrupt_file("payload size does not match count " + std::to_string(h.count) + " and dim " + std::to_string(h.dim));
  expect_sections(read_section_table(r), f.layout);
  return f;
}

}  // namespace

template <typename Source>
std::unique_ptr<FlatIndex> FlatIndex::assemble(const FileHeader& h, const Fields3& f, Source& src) {
  auto index = std::make_unique<FlatIndex>(h.dim, h.metric);
  const SectionLayout& l = f.layout;
  const size_t n = h.count, padded = PackedStore::blocks_for(n) * kBlock;
  const bool l2 = h.metric == Metric::L2;
  auto blocks = src.template take<float>(l[SectionTag::Vectors].offset, padded * h.dim);
  auto norms = l2 ? src.template take<float>(l[SectionTag::SqNorms].offset, padded) : PodStorage<float>();
  auto ids = src.template take<uint64_t>(l[SectionTag::Ids].offset, n);
  auto table = src.template take<IdEntry>(l[SectionTag::IdTable].offset, f.capacity);
  src.finish(l.end());
  index->store_ = PackedStore(h.dim, l2, n, std::move(blocks), std::move(norms), std::move(ids));
  index->slot_of_ = table.borrowed() ? IdTable::view(table.data(), f.capacity, n, f.max_probe)
                                     : IdTable::adopt(std::move(table.owned()), n, f.max_probe);
  index->next_id_ = f.next_id;
  return index;
}

// What load() checks of a format-3 file beyond its structure, and open()
// with verify: finite vectors, and an id table holding each stored id
// (each at most 2^53-1, none twice) at its slot, below the next id.
void FlatIndex::check_contents_locked() const {
  const size_t n = store_.size(), padded = PackedStore::blocks_for(n) * kBlock;
  check_stored_finite(store_.blocks(), padded * dim_, "vector");
  const uint64_t* ids = store_.ids();
  const uint64_t largest = slot_of_.check(n, [&](uint64_t where, uint64_t* id) {
    if (where >= n) return false;
    *id = ids[where];
    return true;
  });
  check_next_id(next_id_, n > 0, largest);
}

std::unique_ptr<FlatIndex> FlatIndex::read_v3(Reader& r, const FileHeader& h) {
  const Fields3 f = read_fields3<Fields3>(r, h);
  StreamSections src(r, f.layout.table_end());
  auto index = assemble(h, f, src);
  r.read_trailer();
  index->check_contents_locked();
  return index;
}

std::unique_ptr<FlatIndex> FlatIndex::load(const std::string& path) {
  remove_stale_temp_files(path);  // left by writers killed mid-save
  FileReader r(path);
  return read(r);
}

std::unique_ptr<FlatIndex> FlatIndex::deserialize(const void* data, size_t size) {
  MemoryReader r(data, size);
  return read(r);
}

std::unique_ptr<FlatIndex> FlatIndex::open(const std::string& path, bool verify) {
  remove_stale_temp_files(path);  // left by writers killed mid-save
  return open_image(FileMapping::map(path), verify);
}

std::unique_ptr<FlatIndex> FlatIndex::open_image(std::shared_ptr<const FileMapping> image, bool verify) {
  MemoryReader r(image->data(), image->size());
  const FileHeader h = r.read_header();
  expect_kind(h, IndexKind::Flat);
  expect_mappable(h);
  if (h.count > kMaxVectors)
    corrupt_file("count " + std::to_string(h.count) + " is outside 0.." + std::to_string(kMaxVectors));
  const Fields3 f = read_fields3<Fields3>(r, h);
  check_image_trailer(image->data(), image->size(), verify);
  MappedSections src(image->data(), image->size(), f.layout.table_end(), verify);
  auto index = assemble(h, f, src);
  if (verify) index->check_contents_locked();
  index->mapping_ = std::move(image);
  return index;
}

}  // namespace semvec
