// GraphIndex persistence: the graph payload of the index file format
// (docs/file-format.md). The payload is the index's arrays as they are in
// memory (graph_store.h), each starting at a multiple of 64 bytes from the
// start of the file, so that a mapped file can be searched in place.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include "api_limits.h"
#include "errors.h"
#include "file_payload.h"
#include "graph_codes.h"
#include "graph_index.h"
#include "temp_files.h"
#include "vectors.h"

namespace semvec {

namespace {

// Payload of kind Graph (format 3.0), offsets from the start of the file:
//   64   fields, 64 bytes: u64 next_id, u64 slots, u32 degree, u32 build_ef,
//        f32 alpha, u32 ef, u32 rerank, u32 entries, u64 seed, u8[16] zero
//   128  f64 sum[dim]                       (the live vectors' sum)
//   then, each at the next multiple of 64:
//        u32 entries[entries]
//        f32 vectors[slots * dim]
//        f32 sqnorms[slots]                 (l2 only)
//        u8  codes[slots * code_stride]     (graph_codes.h)
//        u32 links[slots * degree]
//        u64 ids[slots]
//        u8  deleted[slots]
//        id table: count * (u64 id, u64 slot), ascending id: the live ids
// Padding bytes are zero. `count` (the header) is the live vectors.
constexpr uint64_t kFieldsOffset = kHeaderBytes;
constexpr uint64_t kFieldsBytes = 64;
constexpr size_t kMaxEntries = 64;

uint64_t align64(uint64_t x) { return (x + 63) / 64 * 64; }

struct Layout {
  uint64_t sum, entries, vectors, sqnorms, codes, links, ids, deleted, table, end;
};

Layout layout(uint64_t dim, uint64_t slots, uint64_t degree, uint64_t entries, uint64_t count, bool l2) {
  Layout o;
  o.sum = kFieldsOffset + kFieldsBytes;
  o.entries = align64(o.sum + dim * 8);
  o.vectors = align64(o.entries + entries * 4);
  o.sqnorms = align64(o.vectors + slots * dim * 4);
  o.codes = align64(o.sqnorms + (l2 ? slots * 4 : 0));
  o.links = align64(o.codes + slots * graph_code_stride(dim));
  o.ids = align64(o.links + slots * degree * 4);
  o.deleted = align64(o.ids + slots * 8);
  o.table = align64(o.deleted + slots);
  o.end = o.table + count * 16;
  return o;
}

Error corrupt(const std::string& why) { return Error(ErrorCode::CorruptFile, "corrupt semvec index file: " + why); }

Error outside(const char* field, uint64_t v, uint64_t lo, uint64_t hi) {
  return corrupt(std::string(field) + " " + std::to_string(v) + " is outside " + std::to_string(lo) + ".." +
                 std::to_string(hi));
}

struct Fields {
  uint64_t next_id, slots;
  uint32_t degree, build_ef;
  float alpha;
  uint32_t ef, rerank, entries;
  uint64_t seed;
  uint8_t zero[16];
};
static_assert(sizeof(Fields) == kFieldsBytes, "the fields fill 64 bytes");

// A writer that knows its offset in the file, to pad sections.
class Sections {
 public:
  explicit Sections(Writer& w) : w_(w) {}
  void at(uint64_t offset) {
    static const char zeros[64] = {};
    while (pos_ < offset) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(64, offset - pos_));
      w_.write(zeros, n);
      pos_ += n;
    }
  }
  void write(const void* p, uint64_t n) {
    w_.write(p, n);
    pos_ += n;
  }

 private:
  Writer& w_;
  uint64_t pos_ = kHeaderBytes;
};

// A reader that knows its offset, skips padding (which must be zero).
class SectionReader {
 public:
  explicit SectionReader(Reader& r) : r_(r) {}
  void at(uint64_t offset) {
    char pad[64];
    while (pos_ < offset) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(64, offset - pos_));
      r_.read(pad, n);
      pos_ += n;
      for (size_t i = 0; i < n; ++i)
        if (pad[i] != 0) throw corrupt("padding between sections is not zero");
    }
  }
  void read(void* p, uint64_t n) {
    r_.read(p, n);
    pos_ += n;
  }

 private:
  Reader& r_;
  uint64_t pos_ = kHeaderBytes;
};

void check_fields(const FileHeader& h, const Fields& f) {
  if (h.major < 3) throw corrupt("a graph index is stored in format 3 or later, not " + std::to_string(h.major));
  if (f.slots > kMaxGraphSlots) throw outside("slots", f.slots, 0, kMaxGraphSlots);
  if (h.count > f.slots) throw outside("count", h.count, 0, f.slots);
  if (f.degree < kMinGraphDegree || f.degree > kMaxGraphDegree)
    throw outside("degree", f.degree, kMinGraphDegree, kMaxGraphDegree);
  if (f.build_ef < 1 || f.build_ef > kMaxEf) throw outside("build ef", f.build_ef, 1, kMaxEf);
  if (f.ef < 1 || f.ef > kMaxEf) throw outside("ef", f.ef, 1, kMaxEf);
  if (f.rerank > kMaxRerank) throw outside("rerank", f.rerank, 0, kMaxRerank);
  if (!(f.alpha >= 1.0f && f.alpha <= 2.0f)) throw corrupt("alpha " + std::to_string(f.alpha) + " is outside 1..2");
  if (f.seed > kMaxId) throw outside("seed", f.seed, 0, kMaxId);
  if (f.entries > std::min<uint64_t>(kMaxEntries, f.slots)) throw outside("entries", f.entries, 0, std::min<uint64_t>(kMaxEntries, f.slots));
  if (h.count > 0 && f.entries == 0) throw corrupt("a graph holding vectors has no entry");
  for (uint8_t z : f.zero)
    if (z != 0) throw corrupt("reserved field is not zero");
  check_next_id(f.next_id, {});
}

// Every link names a slot, or is kNoLink.
void check_links(const uint32_t* links, uint64_t n, uint64_t slots) {
  for (uint64_t i = 0; i < n; ++i)
    if (links[i] >= slots && links[i] != kNoLink) throw corrupt("link to slot " + std::to_string(links[i]) + " of " + std::to_string(slots));
}

// Every code row's range is finite with a positive step.
void check_codes(const uint8_t* codes, uint64_t slots, size_t dim) {
  const size_t stride = graph_code_stride(dim);
  for (uint64_t s = 0; s < slots; ++s) {
    const Sq8Range r = graph_code_range(codes + s * stride, dim);
    if (!std::isfinite(r.lo) || !std::isfinite(r.bias) || !std::isfinite(r.step) || !(r.step > 0.0f))
      throw corrupt("the code range of slot " + std::to_string(s) + " is not finite and positive");
  }
}

// The id table (count pairs of id and slot), checked against the ids and
// tombstones already read: ids ascending, each naming a live slot that
// holds it; with as many entries as live slots, every live slot once.
std::vector<uint64_t> read_id_table(SectionReader& s, const GraphStore& g, uint64_t count) {
  const uint64_t slots = g.size();
  uint64_t live = 0;
  for (uint64_t i = 0; i < slots; ++i) {
    if (g.deleted_flags()[i] > 1) throw outside("tombstone flag", g.deleted_flags()[i], 0, 1);
    live += g.deleted_flags()[i] == 0;
    check_stored_id(g.id(i));
  }
  if (live != count) throw corrupt("the tombstones do not match the count");
  std::vector<uint64_t> table(2 * count);
  s.read(table.data(), count * 16);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t id = table[2 * i], slot = table[2 * i + 1];
    if (i > 0 && id <= table[2 * i - 2]) throw corrupt("the id table is not in ascending order of ids");
    if (slot >= slots || g.deleted(slot) || g.id(slot) != id)
      throw corrupt("the id table does not match the stored ids");
  }
  return table;
}

}  // namespace

size_t GraphIndex::payload_bytes_locked() const {
  const Layout o = layout(dim_, store_.size(), params_.degree, entry_.slots.size(), slot_of_.size(),
                          metric_ == Metric::L2);
  return o.end - kHeaderBytes;
}

void GraphIndex::write_locked(Writer& w) const {
  const size_t slots = store_.size(), count = slot_of_.size();
  const bool l2 = metric_ == Metric::L2;
  const Layout o = layout(dim_, slots, params_.degree, entry_.slots.size(), count, l2);
  FileHeader h;
  h.major = 3;
  h.kind = IndexKind::Graph;
  h.metric = metric_;
  h.dim = static_cast<uint32_t>(dim_);
  h.count = count;
  h.payload_bytes = o.end - kHeaderBytes;
  w.write_header(h);
  Fields f{};
  f.next_id = next_id_;
  f.slots = slots;
  f.degree = static_cast<uint32_t>(params_.degree);
  f.build_ef = static_cast<uint32_t>(params_.build_ef);
  f.alpha = params_.alpha;
  f.ef = static_cast<uint32_t>(params_.ef);
  f.rerank = static_cast<uint32_t>(params_.rerank);
  f.entries = static_cast<uint32_t>(entry_.slots.size());
  f.seed = params_.seed;
  Sections s(w);
  s.write(&f, sizeof(f));
  std::vector<double> sum = entry_.sum;
  sum.resize(dim_, 0.0);
  s.write(sum.data(), dim_ * 8);
  s.at(o.entries);
  s.write(entry_.slots.data(), entry_.slots.size() * 4);
  s.at(o.vectors);
  s.write(store_.vectors(), slots * dim_ * 4);
  s.at(o.sqnorms);
  if (l2) s.write(store_.sqnorms(), slots * 4);
  s.at(o.codes);
  s.write(store_.codes(), slots * store_.code_stride());
  s.at(o.links);
  s.write(store_.all_links(), slots * params_.degree * 4);
  s.at(o.ids);
  s.write(store_.ids(), slots * 8);
  s.at(o.deleted);
  s.write(store_.deleted_flags(), slots);
  s.at(o.table);
  std::vector<std::pair<uint64_t, uint64_t>> table(slot_of_.begin(), slot_of_.end());
  std::sort(table.begin(), table.end());
  for (const auto& [id, slot] : table) {
    const uint64_t e[2] = {id, slot};
    s.write(e, sizeof(e));
  }
  w.write_trailer();
}

void GraphIndex::save(const std::string& path) const {
  std::shared_lock<RwLock> lock(mutex_);
  FileWriter w(path);
  write_locked(w);
  w.commit();
}

void GraphIndex::serialize(const std::function<void*(size_t)>& alloc) const {
  std::shared_lock<RwLock> lock(mutex_);
  const size_t total = kHeaderBytes + payload_bytes_locked() + kTrailerBytes;
  MemoryWriter w(alloc(total), total);
  write_locked(w);
}

std::unique_ptr<GraphIndex> GraphIndex::load(const std::string& path) {
  remove_stale_temp_files(path);  // left by writers killed mid-save
  FileReader r(path);
  return read(r);
}

std::unique_ptr<GraphIndex> GraphIndex::deserialize(const void* data, size_t size) {
  MemoryReader r(data, size);
  return read(r);
}

std::unique_ptr<GraphIndex> GraphIndex::read(Reader& r) {
  const FileHeader h = r.read_header();
  expect_kind(h, IndexKind::Graph);
  Fields f;
  r.read(&f, sizeof(f));
  check_fields(h, f);
  const bool l2 = h.metric == Metric::L2;
  const Layout o = layout(h.dim, f.slots, f.degree, f.entries, h.count, l2);
  if (h.payload_bytes != o.end - kHeaderBytes) throw corrupt("payload size does not match count, dim, slots and degree");
  GraphParams p;
  p.degree = f.degree;
  p.build_ef = f.build_ef;
  p.alpha = f.alpha;
  p.ef = f.ef;
  p.rerank = f.rerank;
  p.seed = f.seed;
  auto index = std::make_unique<GraphIndex>(h.dim, h.metric, p);
  index->read_payload_locked(r, h.count, f.slots, f.entries);
  r.read_trailer();
  std::vector<uint64_t> live;
  live.reserve(index->slot_of_.size());
  for (const auto& e : index->slot_of_) live.push_back(e.first);
  check_next_id(f.next_id, live);
  index->next_id_ = f.next_id;
  return index;
}

// The sections after the fields (their sizes known from the checked fields).
void GraphIndex::read_payload_locked(Reader& r, uint64_t count, uint64_t slots, uint32_t n_entries) {
  const Layout o = layout(dim_, slots, params_.degree, n_entries, count, metric_ == Metric::L2);
  SectionReader s(r);
  s.at(o.sum);
  entry_.sum.resize(dim_);
  s.read(entry_.sum.data(), dim_ * 8);
  for (double v : entry_.sum)
    if (!std::isfinite(v)) throw corrupt("the sum of the vectors is not finite");
  entry_.live = count;
  s.at(o.entries);
  entry_.slots.resize(n_entries);
  s.read(entry_.slots.data(), n_entries * 4);
  for (uint32_t e : entry_.slots)
    if (e >= slots) throw outside("entry slot", e, 0, slots - 1);
  store_.resize(slots);
  s.at(o.vectors);
  s.read(store_.vectors_mut(), slots * dim_ * 4);
  if (!all_finite(store_.vectors(), slots * dim_)) throw corrupt("a stored vector is not finite");
  s.at(o.sqnorms);
  if (metric_ == Metric::L2) {
    s.read(store_.sqnorms_mut(), slots * 4);
    if (!all_finite(store_.sqnorms(), slots)) throw corrupt("a stored norm is not finite");
  }
  s.at(o.codes);
  s.read(store_.codes_mut(), slots * store_.code_stride());
  check_codes(store_.codes(), slots, dim_);
  s.at(o.links);
  s.read(store_.links_mut(), slots * params_.degree * 4);
  check_links(store_.all_links(), slots * params_.degree, slots);
  s.at(o.ids);
  s.read(store_.ids_mut(), slots * 8);
  s.at(o.deleted);
  s.read(store_.deleted_mut(), slots);
  s.at(o.table);
  const std::vector<uint64_t> table = read_id_table(s, store_, count);
  slot_of_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) slot_of_.emplace(table[2 * i], static_cast<uint32_t>(table[2 * i + 1]));
  deleted_ = slots - count;
}

}  // namespace semvec
