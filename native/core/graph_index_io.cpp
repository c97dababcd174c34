// GraphIndex persistence: the graph payload of the index file format
// (docs/file-format.md), format 4.0 (file_sections.h): the index's arrays
// as they are in memory (graph_store.h), so that a mapped file is walked in
// place. save and toBuffer write it; load and fromBuffer read it into
// owned arrays; open maps it.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include "api_limits.h"
#include "errors.h"
#include "file_payload.h"
#include "file_sections.h"
#include "graph_codes.h"
#include "graph_index.h"
#include "temp_files.h"
#include "vectors.h"

namespace semvec {

// Payload of kind Graph, format 5.0 with a partition, else 4.0 (read: 3.1,
// no anchors; 3.0, no layers). A partition adds sections, which a reader of
// 4.0 cannot skip, so it is a new major that such a reader refuses by name:
//   fields, 64 bytes: u64 next_id, u64 slots, u32 degree, u32 build_ef,
//     f32 alpha, u32 ef, u32 rerank, u32 entries, u64 seed,
//     u64 id table capacity, u64 id table max probe
//   3.1: 64 more bytes: u64 layer words, 56 bytes reserved (zeros)
//   4.0: 64 more bytes: u64 layer words, u32 code stride, 52 bytes reserved
//     (zeros); the code rows name their anchors (graph_codes.h).
//   5.0: of those 52 bytes, u32 partition groups, u64 slots the partition
//     was trained over, 40 reserved (zeros; in 4.0 all 52 are). The
//     stride is graph_code_stride(dim), or graph_code_stride_v3(dim) for an
//     index read from a format 3 file and saved again.
//   section table (12 sections; 4.0 and 3.1: 10; 3.0: 9), then at 64-byte
//   aligned offsets:
//   GraphSum      f64[dim]             the live vectors' sum (the entry's mean)
//   GraphEntries  u32[entries]         the slots walks start from without layers
//   GraphLayers   u32[layer words]     3.1: the upper layers (graph_layers.h)
//   Vectors       f32[slots * dim]     row-major (unit vectors for cosine)
//   SqNorms       f32[slots]           l2 only (else 0 bytes)
//   GraphCodes    u8[slots * stride]   code rows (graph_codes.h; 3.x: stride v3, no anchors)
//   GraphLinks    u32[slots * degree]  neighbour slots, kNoLink after the last
//   Ids           u64[slots]
//   Tombstones    u8[slots]            1 for a removed vector
//   IdTable       IdEntry[capacity]    (id_table.h): live id -> slot
//   GraphCentroids f32[groups * dim]   5.0: the partition's centroids (graph_partition.h)
//   GraphGroups   u32[slots]           5.0: each slot's group
// The header's count is the live vectors.
struct GraphIndex::Fields3 {
  uint64_t next_id = 0, slots = 0;
  uint32_t degree = 0, build_ef = 0;
  float alpha = 0;
  uint32_t ef = 0, rerank = 0, entries = 0;
  uint64_t seed = 0, capacity = 0, max_probe = 0;
  uint64_t layer_words = 0;  // 3.1; 3.0: none (no section)
  bool layers = false;       // whether the file has the section (3.1 on)
  uint32_t code_stride = 0;  // 4.0; 3.x: graph_code_stride_v3(dim)
  bool anchors = false;      // whether code rows may name anchors (4.0 on)
  bool partition = false;    // whether the file has the partition's sections (5.0)
  uint32_t groups = 0;       // 5.0: the partition's groups
  uint64_t trained = 0;      // 5.0: the slots it was trained over
  SectionLayout layout{0, 0};
};

namespace {

constexpr uint64_t kGraphFieldsBytes = 64;
constexpr uint64_t kGraphFields1Bytes = 128;  // 3.1
constexpr uint16_t kGraphMajor = 4, kGraphPartitionMajor = 5;
constexpr size_t kMaxEntries = 64;

// layers: the 3.1 layout with layer_words words of layers; else 3.0's.
// partition: 5.0's, with `groups` groups.
SectionLayout graph_layout(uint64_t dim, uint64_t slots, uint64_t degree, uint64_t entries, bool l2,
                           uint64_t capacity, bool layers, uint64_t layer_words, uint64_t code_stride,
                           bool partition, uint64_t groups) {
  SectionLayout l(kHeaderBytes + (layers ? kGraphFields1Bytes : kGraphFieldsBytes), partition ? 12 : layers ? 10 : 9);
  l.add(SectionTag::GraphSum, dim * sizeof(double));
  l.add(SectionTag::GraphEntries, entries * sizeof(uint32_t));
  if (layers) l.add(SectionTag::GraphLayers, layer_words * sizeof(uint32_t));
  l.add(SectionTag::Vectors, slots * dim * sizeof(float));
  l.add(SectionTag::SqNorms, l2 ? slots * sizeof(float) : 0);
  l.add(SectionTag::GraphCodes, slots * code_stride);
  l.add(SectionTag::GraphLinks, slots * degree * sizeof(uint32_t));
  l.add(SectionTag::Ids, slots * sizeof(uint64_t));
  l.add(SectionTag::Tombstones, slots);
  l.add(SectionTag::IdTable, capacity * sizeof(IdEntry));
  if (partition) {
    l.add(SectionTag::GraphCentroids, groups * dim * sizeof(float));
    l.add(SectionTag::GraphGroups, slots * sizeof(uint32_t));
  }
  return l;
}

void outside(const char* field, uint64_t v, uint64_t lo, uint64_t hi) {
  corrupt_file(std::string(field) + " " + std::to_string(v) + " is outside " + std::to_string(lo) + ".." +
               std::to_string(hi));
}

}  // namespace

// The partition a file keeps: none when it is stale (the next search
// trains it again).
const GraphPartition* GraphIndex::partition_to_save_locked() const {
  return partition_ && !partition_->stale(store_.size()) ? partition_.get() : nullptr;
}

size_t GraphIndex::payload_bytes_locked(const GraphPartition* part) const {
  const size_t n = slot_of_.size();
  return payload_bytes_of(graph_layout(dim_, store_.size(), params_.degree, entry_.slots.size(),
                                       metric_ == Metric::L2, 2 * n, true, entry_.layers.word_count(),
                                       store_.code_stride(), part != nullptr, part ? part->groups() : 0));
}

void GraphIndex::write_locked(Writer& w, const GraphPartition* part) const {
  const size_t slots = store_.size(), groups = part ? part->groups() : 0;
  const bool l2 = metric_ == Metric::L2;
  size_t live = 0;
  const IdTable table = IdTable::build(slot_of_.size(), [&](size_t, uint64_t* id, uint64_t* where) {
    while (store_.deleted(live)) ++live;
    *id = store_.id(live);
    *where = live++;
  });
  std::vector<uint32_t> layers(entry_.layers.word_count());
  entry_.layers.to_words(layers.data());
  const SectionLayout l =
      graph_layout(dim_, slots, params_.degree, entry_.slots.size(), l2, table.capacity(), true, layers.size(),
                   store_.code_stride(), part != nullptr, groups);
  FileHeader h;
  h.major = part ? kGraphPartitionMajor : kGraphMajor;
  h.minor = 0;
  h.kind = IndexKind::Graph;
  h.metric = metric_;
  h.dim = static_cast<uint32_t>(dim_);
  h.count = slot_of_.size();
  h.payload_bytes = payload_bytes_of(l);
  w.write_header(h);
  w.write_pod<uint64_t>(next_id_);
  w.write_pod<uint64_t>(slots);
  w.write_pod<uint32_t>(static_cast<uint32_t>(params_.degree));
  w.write_pod<uint32_t>(static_cast<uint32_t>(params_.build_ef));
  w.write_pod<float>(params_.alpha);
  w.write_pod<uint32_t>(static_cast<uint32_t>(params_.ef));
  w.write_pod<uint32_t>(static_cast<uint32_t>(params_.rerank));
  w.write_pod<uint32_t>(static_cast<uint32_t>(entry_.slots.size()));
  w.write_pod<uint64_t>(params_.seed);
  w.write_pod<uint64_t>(table.capacity());
  w.write_pod<uint64_t>(table.max_probe());
  w.write_pod<uint64_t>(layers.size());
  w.write_pod<uint32_t>(static_cast<uint32_t>(store_.code_stride()));
  w.write_pod<uint32_t>(static_cast<uint32_t>(groups));
  w.write_pod<uint64_t>(part ? part->trained() : 0);
  for (int i = 0; i < 5; ++i) w.write_pod<uint64_t>(0);
  write_section_table(w, l);
  std::vector<double> sum = entry_.sum;
  sum.resize(dim_, 0.0);
  SectionWriter out(w, l.table_end());
  out.put(l[SectionTag::GraphSum].offset, sum.data(), dim_ * sizeof(double));
  out.put(l[SectionTag::GraphEntries].offset, entry_.slots.data(), entry_.slots.size() * sizeof(uint32_t));
  out.put(l[SectionTag::GraphLayers].offset, layers.data(), layers.size() * sizeof(uint32_t));
  out.put(l[SectionTag::Vectors].offset, store_.vectors(), slots * dim_ * sizeof(float));
  if (l2) out.put(l[SectionTag::SqNorms].offset, store_.sqnorms(), slots * sizeof(float));
  out.put(l[SectionTag::GraphCodes].offset, store_.codes(), slots * store_.code_stride());
  out.put(l[SectionTag::GraphLinks].offset, store_.all_links(), slots * params_.degree * sizeof(uint32_t));
  out.put(l[SectionTag::Ids].offset, store_.ids(), slots * sizeof(uint64_t));
  out.put(l[SectionTag::Tombstones].offset, store_.deleted_flags(), slots);
  out.put(l[SectionTag::IdTable].offset, table.entries(), table.capacity() * sizeof(IdEntry));
  if (part) {
    std::vector<uint32_t> group(slots, 0);
    part->groups_of(slots, group.data());
    out.put(l[SectionTag::GraphCentroids].offset, part->centroids().data(), groups * dim_ * sizeof(float));
    out.put(l[SectionTag::GraphGroups].offset, group.data(), slots * sizeof(uint32_t));
  }
  out.finish(l.end());
  w.write_trailer();
}

void GraphIndex::save(const std::string& path) const {
  std::shared_lock<RwLock> lock(mutex_);
  std::lock_guard<std::mutex> part(partition_mutex_);  // not trained meanwhile
  FileWriter w(path);
  write_locked(w, partition_to_save_locked());
  w.commit();
}

void GraphIndex::serialize(const std::function<void*(size_t)>& alloc) const {
  std::shared_lock<RwLock> lock(mutex_);
  std::lock_guard<std::mutex> part(partition_mutex_);  // the same partition sized and written
  const GraphPartition* keep = partition_to_save_locked();
  const size_t total = kHeaderBytes + payload_bytes_locked(keep) + kTrailerBytes;
  MemoryWriter w(alloc(total), total);
  write_locked(w, keep);
}

namespace {

// The fields and section table of a graph file, every field held to the
// API's limits and every section to the layout they imply.
template <typename Fields>
Fields read_graph_fields(Reader& r, const FileHeader& h) {
  if (h.major < 3) corrupt_file("a graph index is stored in format 3 or later, not " + std::to_string(h.major));
  Fields f;
  f.next_id = r.read_pod<uint64_t>();
  f.slots = r.read_pod<uint64_t>();
  f.degree = r.read_pod<uint32_t>();
  f.build_ef = r.read_pod<uint32_t>();
  f.alpha = r.read_pod<float>();
  f.ef = r.read_pod<uint32_t>();
  f.rerank = r.read_pod<uint32_t>();
  f.entries = r.read_pod<uint32_t>();
  f.seed = r.read_pod<uint64_t>();
  f.capacity = r.read_pod<uint64_t>();
  f.max_probe = r.read_pod<uint64_t>();
  f.layers = h.major >= 4 || h.minor >= 1;
  f.anchors = h.major >= 4;
  f.partition = h.major >= kGraphPartitionMajor;
  f.code_stride = static_cast<uint32_t>(graph_code_stride_v3(h.dim));
  if (f.layers) {
    f.layer_words = r.read_pod<uint64_t>();
    int reserved = 7;
    if (f.anchors) {
      f.code_stride = r.read_pod<uint32_t>();
      const uint32_t groups = r.read_pod<uint32_t>();
      const uint64_t trained = r.read_pod<uint64_t>();
      if (f.partition) {
        f.groups = groups;
        f.trained = trained;
      }
      reserved = 5;
    }
    for (int i = 0; i < reserved; ++i) r.read_pod<uint64_t>();  // reserved
  }
  if (f.code_stride != graph_code_stride(h.dim) && f.code_stride != graph_code_stride_v3(h.dim))
    corrupt_file("code stride " + std::to_string(f.code_stride) + " is not " + std::to_string(graph_code_stride(h.dim)) +
                 " or " + std::to_string(graph_code_stride_v3(h.dim)) + " for dim " + std::to_string(h.dim));
  if (f.next_id > kMaxNextId) corrupt_file("next id " + std::to_string(f.next_id) + " is outside 0..2^53");
  if (f.slots > std::min<uint64_t>(kMaxGraphSlots, kMaxVectors)) outside("slots", f.slots, 0, kMaxGraphSlots);
  if (h.count > f.slots) outside("count", h.count, 0, f.slots);
  if (f.degree < kMinGraphDegree || f.degree > kMaxGraphDegree)
    outside("degree", f.degree, kMinGraphDegree, kMaxGraphDegree);
  if (f.build_ef < 1 || f.build_ef > kMaxEf) outside("build ef", f.build_ef, 1, kMaxEf);
  if (f.ef < 1 || f.ef > kMaxEf) outside("ef", f.ef, 1, kMaxEf);
  if (f.rerank > kAutoRerank) outside("rerank", f.rerank, 0, kAutoRerank);
  if (!(f.alpha >= 1.0f && f.alpha <= 2.0f)) corrupt_file("alpha " + std::to_string(f.alpha) + " is outside 1..2");
  if (f.seed > kMaxId) outside("seed", f.seed, 0, kMaxId);
  const uint64_t max_entries = std::min<uint64_t>(kMaxEntries, f.slots);
  if (f.entries > max_entries) outside("entries", f.entries, 0, max_entries);
  if (h.count > 0 && f.entries == 0) corrupt_file("a graph holding vectors has no entry");
  if (f.capacity < h.count || f.capacity > 2 * uint64_t(kMaxVectors))
    corrupt_file("id table capacity " + std::to_string(f.capacity) + " is outside count.." +
                 std::to_string(2 * uint64_t(kMaxVectors)));
  if (f.max_probe > f.capacity) corrupt_file("id table max probe " + std::to_string(f.max_probe) + " exceeds its capacity");
  // Each member takes at least 2 + 2 words (links >= 2), and a layer holds at most all slots.
  const uint64_t max_words = 1 + GraphLayers::kMaxLayers * (1 + f.slots * (2 + kMaxGraphDegree));
  if (f.layers && (f.layer_words < 1 || f.layer_words > max_words)) outside("layer words", f.layer_words, 1, max_words);
  if (f.partition && (f.groups < 1 || f.groups > f.slots)) outside("partition groups", f.groups, 1, f.slots);
  if (f.partition && (f.trained < f.groups || f.trained > f.slots)) outside("partition trained", f.trained, f.groups, f.slots);
  f.layout = graph_layout(h.dim, f.slots, f.degree, f.entries, h.metric == Metric::L2, f.capacity, f.layers,
                          f.layer_words, f.code_stride, f.partition, f.groups);
  if (payload_bytes_of(f.layout) != h.payload_bytes)
    corrupt_file("payload size does not match count, dim, slots and degree");
  expect_sections(read_section_table(r), f.layout);
  return f;
}

}  // namespace

// The structure every reader checks, even open() without verify, because a
// walk follows it: every entry and every link names a slot (or is
// kNoLink). O(slots * degree) for the links, which is why open() without
// verify checks them too: a walk must never leave the mapping.
template <typename Source>
std::unique_ptr<GraphIndex> GraphIndex::assemble(const FileHeader& h, const Fields3& f, Source& src, bool verify) {
  GraphParams p;
  p.degree = f.degree;
  p.build_ef = f.build_ef;
  p.alpha = f.alpha;
  p.ef = f.ef;
  p.rerank = f.rerank;
  p.seed = f.seed;
  auto index = std::make_unique<GraphIndex>(h.dim, h.metric, p);
  GraphIndex& ix = *index;
  const SectionLayout& l = f.layout;
  const size_t dim = h.dim, slots = f.slots;
  const bool l2 = h.metric == Metric::L2;
  auto sum = src.template take<double>(l[SectionTag::GraphSum].offset, dim);
  auto entries = src.template take<uint32_t>(l[SectionTag::GraphEntries].offset, f.entries);
  auto layers = f.layers ? src.template take<uint32_t>(l[SectionTag::GraphLayers].offset, f.layer_words)
                         : PodStorage<uint32_t>();
  auto vectors = src.template take<float>(l[SectionTag::Vectors].offset, slots * dim);
  auto norms = l2 ? src.template take<float>(l[SectionTag::SqNorms].offset, slots) : PodStorage<float>();
  auto codes = src.template take<uint8_t>(l[SectionTag::GraphCodes].offset, slots * f.code_stride);
  auto links = src.template take<uint32_t>(l[SectionTag::GraphLinks].offset, slots * f.degree);
  auto ids = src.template take<uint64_t>(l[SectionTag::Ids].offset, slots);
  auto tombstones = src.template take<uint8_t>(l[SectionTag::Tombstones].offset, slots);
  auto table = src.template take<IdEntry>(l[SectionTag::IdTable].offset, f.capacity);
  auto centroids = f.groups ? src.template take<float>(l[SectionTag::GraphCentroids].offset, size_t(f.groups) * dim)
                            : PodStorage<float>();
  auto groups = f.groups ? src.template take<uint32_t>(l[SectionTag::GraphGroups].offset, slots) : PodStorage<uint32_t>();
  src.finish(l.end());
  ix.entry_.sum.assign(sum.data(), sum.data() + dim);
  ix.entry_.slots.assign(entries.data(), entries.data() + f.entries);
  ix.entry_.live = h.count;
  for (uint32_t e : ix.entry_.slots)
    if (e >= slots) outside("entry slot", e, 0, slots - 1);
  // The layers are copied even from a mapped file: about 5 bytes per slot.
  if (f.layers)
    ix.entry_.layers = GraphLayers::from_words(layers.data(), f.layer_words, GraphLayers::links_for(f.degree), slots);
  const uint32_t* link = links.data();
  for (size_t i = 0, n = slots * f.degree; i < n; ++i)
    if (link[i] >= slots && link[i] != kNoLink)
      corrupt_file("link to slot " + std::to_string(link[i]) + " of " + std::to_string(slots));
  // Anchors, which a search follows too: a slot without an anchor of its
  // own, or none (always none in a format 3 file).
  if (graph_code_has_anchor(dim, f.code_stride)) {
    const uint8_t* rows = codes.data();
    for (size_t i = 0; i < slots; ++i) {
      const uint32_t a = graph_code_anchor(rows + i * f.code_stride, dim);
      if (a == kNoAnchor) continue;
      if (!f.anchors) corrupt_file("slot " + std::to_string(i) + " of a format 3 graph names an anchor");
      if (a >= slots || graph_code_anchor(rows + size_t(a) * f.code_stride, dim) != kNoAnchor)
        corrupt_file("slot " + std::to_string(i) + " names anchor " + std::to_string(a) +
                     ", which is not a slot without an anchor");
    }
  }
  // The partition, which a search follows too: every slot in a group. It
  // is copied even from a mapped file (4 bytes per slot, and its centroids).
  if (f.groups > 0) {
    const uint32_t* group = groups.data();
    for (size_t i = 0; i < slots; ++i)
      if (group[i] >= f.groups) corrupt_file("slot " + std::to_string(i) + " is in partition group " + std::to_string(group[i]) + " of " + std::to_string(f.groups));
    ix.partition_ = std::make_unique<GraphPartition>(dim, h.metric, f.trained,
                                                     std::vector<float>(centroids.data(), centroids.data() + size_t(f.groups) * dim),
                                                     group, slots);
  }
  (void)verify;
  ix.store_ = GraphStore(dim, f.degree, l2, slots, f.code_stride, std::move(vectors), std::move(norms), std::move(codes),
                         std::move(links), std::move(ids), std::move(tombstones));
  ix.slot_of_ = table.borrowed() ? IdTable::view(table.data(), f.capacity, h.count, f.max_probe)
                                 : IdTable::adopt(std::move(table.owned()), h.count, f.max_probe);
  ix.deleted_ = slots - h.count;
  ix.next_id_ = f.next_id;
  return index;
}

// What load() checks beyond the structure, and open() with verify: finite
// vectors, norms, sums and code ranges; tombstone flags 0 or 1, as many
// live slots as the count; an id table holding each live slot's id (each
// at most 2^53-1, none twice) at its slot, below the next id.
void GraphIndex::check_contents_locked() const {
  const size_t slots = store_.size();
  check_stored_finite(store_.vectors(), slots * dim_, "vector");
  if (metric_ == Metric::L2) check_stored_finite(store_.sqnorms(), slots, "norm");
  for (double v : entry_.sum)
    if (!std::isfinite(v)) corrupt_file("the sum of the vectors is not finite");
  if (partition_) check_stored_finite(partition_->centroids().data(), partition_->centroids().size(), "partition centroid");
  for (size_t s = 0; s < slots; ++s) {
    const Sq8Range r = graph_code_range(store_.code(s), dim_);
    if (!std::isfinite(r.lo) || !std::isfinite(r.bias) || !std::isfinite(r.step) || !(r.step > 0.0f))
      corrupt_file("the code range of slot " + std::to_string(s) + " is not finite and positive");
  }
  const uint8_t* flags = store_.deleted_flags();
  size_t live = 0;
  for (size_t s = 0; s < slots; ++s) {
    if (flags[s] > 1) outside("tombstone flag", flags[s], 0, 1);
    live += flags[s] == 0;
  }
  if (live != slot_of_.size()) corrupt_file("the tombstones do not match the count");
  const uint64_t largest = slot_of_.check(live, [&](uint64_t where, uint64_t* id) {
    if (where >= slots || flags[where] != 0) return false;
    *id = store_.id(where);
    return true;
  });
  check_next_id(next_id_, live > 0, largest);
}

std::unique_ptr<GraphIndex> GraphIndex::read(Reader& r) {
  const FileHeader h = r.read_header();
  expect_kind(h, IndexKind::Graph);
  const Fields3 f = read_graph_fields<Fields3>(r, h);
  StreamSections src(r, f.layout.table_end());
  auto index = assemble(h, f, src, true);
  r.read_trailer();
  index->check_contents_locked();
  return index;
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

std::unique_ptr<GraphIndex> GraphIndex::open(const std::string& path, bool verify) {
  remove_stale_temp_files(path);  // left by writers killed mid-save
  return open_image(FileMapping::map(path), verify);
}

std::unique_ptr<GraphIndex> GraphIndex::open_image(std::shared_ptr<const FileMapping> image, bool verify) {
  MemoryReader r(image->data(), image->size());
  const FileHeader h = r.read_header();
  expect_kind(h, IndexKind::Graph);
  expect_mappable(h);
  const Fields3 f = read_graph_fields<Fields3>(r, h);
  check_image_trailer(image->data(), image->size(), verify);
  MappedSections src(image->data(), image->size(), f.layout.table_end(), verify);
  auto index = assemble(h, f, src, verify);
  if (verify) index->check_contents_locked();
  index->mapping_ = std::move(image);
  return index;
}

}  // namespace semvec
