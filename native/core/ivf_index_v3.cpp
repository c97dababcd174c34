// IvfIndex persistence, format 3.0 (docs/file-format.md): the arrays of
// the centroids and of every list exactly as the index holds them, so that
// a file can be mapped and searched in place (open) or read into owned
// arrays (load) by the same code (file_sections.h).
#include <cmath>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include "errors.h"
#include "file_payload.h"
#include "file_sections.h"
#include "ivf_index.h"

namespace semvec {

// Payload of kind Ivf, format 3.0. C = nlist rounded up to whole blocks of
// kBlock. List l (size s_l) takes B_l = ceil(s_l / kBlock) blocks, from
// block F_l = B_0 + ... + B_{l-1} of every list section; P = kBlock * sum B_l.
//   u64 next_id
//   u32 nlist, u32 nprobe, u32 trained (0 or 1), u32 encoding (0 F32, 1 Sq8)
//   u32 rerank, u32 reserved (0)
//   u64 id table capacity, u64 id table max probe
//   section table (13 sections), then at 64-byte aligned offsets (a section
//   is empty when the index is untrained or does not use it):
//   ListSizes        u64[nlist]
//   Centroids        f32[C * dim], packed
//   CentroidSqNorms  f32[C] (L2)
//   CentroidIds      u64[C]: 0..nlist-1, then zeros
//   CentroidRows     f32[nlist * dim], row-major (Sq8)
//   ListVectors      f32[P * dim]: F32 lists packed, Sq8 lists row-major
//   ListSqNorms      f32[P] (L2)
//   ListIds          u64[P]
//   Codes            u8[sum B_l * sq8_block_bytes(dim)] (Sq8)
//   CodeLo, CodeStep, CodeBias  f32[P] each (Sq8)
//   IdTable          IdEntry[capacity]: id -> (list << 32) | slot
//
// Format 4.0, written for the encodings of rabitq.h (2 Rq4, 3 Rq1; 3.0
// readers refuse it as a newer major): the same fields, and 17 sections:
// those above, CentroidRows and ListVectors (row-major) and Codes
// (rq_block_bytes per block) used as by Sq8, CodeLo/Step/Bias empty, then
// before IdTable:
//   RqScale, RqBias  f32[P] each
//   RqOnes           f32[P] (Rq1)
//   Rotation         f32[dim * dim], row-major (trained or not)

namespace {

constexpr uint64_t kIvfFields3Bytes = 48;
constexpr size_t kIvfSections = 13;
constexpr size_t kIvfSections4 = 17;

uint64_t blocks_for(uint64_t n) { return PackedStore::blocks_for(n); }

SectionLayout ivf_layout(uint64_t dim, bool l2, IvfEncoding encoding, bool trained, uint64_t nlist,
                         uint64_t list_blocks, uint64_t capacity) {
  const uint64_t c = trained ? blocks_for(nlist) * kBlock : 0;
  const uint64_t p = list_blocks * kBlock;
  const bool sq8 = encoding == IvfEncoding::Sq8, rq = is_rq(encoding), rows = sq8 || rq;
  SectionLayout l(kHeaderBytes + kIvfFields3Bytes, rq ? kIvfSections4 : kIvfSections);
  l.add(SectionTag::ListSizes, trained ? nlist * sizeof(uint64_t) : 0);
  l.add(SectionTag::Centroids, c * dim * sizeof(float));
  l.add(SectionTag::CentroidSqNorms, l2 ? c * sizeof(float) : 0);
  l.add(SectionTag::CentroidIds, c * sizeof(uint64_t));
  l.add(SectionTag::CentroidRows, rows && trained ? nlist * dim * sizeof(float) : 0);
  l.add(SectionTag::ListVectors, p * dim * sizeof(float));
  l.add(SectionTag::ListSqNorms, l2 ? p * sizeof(float) : 0);
  l.add(SectionTag::ListIds, p * sizeof(uint64_t));
  l.add(SectionTag::Codes, sq8  ? list_blocks * CodeStore::sq8_block_bytes(dim)
                           : rq ? list_blocks * rq_block_bytes(dim, ivf_encoding_bits(encoding))
                                : 0);
  for (SectionTag t : {SectionTag::CodeLo, SectionTag::CodeStep, SectionTag::CodeBias})
    l.add(t, sq8 ? p * sizeof(float) : 0);
  if (rq) {
    l.add(SectionTag::RqScale, p * sizeof(float));
    l.add(SectionTag::RqBias, p * sizeof(float));
    l.add(SectionTag::RqOnes, encoding == IvfEncoding::Rq1 ? p * sizeof(float) : 0);
    l.add(SectionTag::Rotation, dim * dim * sizeof(float));
  }
  l.add(SectionTag::IdTable, capacity * sizeof(IdEntry));
  return l;
}

}  // namespace

size_t IvfIndex::payload_bytes_locked() const {
  uint64_t blocks = 0;
  for (size_t l = 0; l < lists_.size(); ++l) blocks += blocks_for(list_size(l));
  const SectionLayout l = ivf_layout(dim_, metric_ == Metric::L2, encoding_, trained_, nlist_, blocks, 2 * size_);
  return payload_bytes_of(l);
}

void IvfIndex::write_locked(Writer& w) const {
  const bool sq8 = encoding_ == IvfEncoding::Sq8, rq = is_rq(encoding_), rows = sq8 || rq;
  const bool l2 = metric_ == Metric::L2;
  size_t list = 0, slot = 0;  // the canonical table lists ids list by list, slot by slot
  const IdTable table = IdTable::build(size_, [&](size_t, uint64_t* id, uint64_t* where) {
    while (slot == list_size(list)) ++list, slot = 0;
    *id = lists_[list]->ids()[slot];
    *where = pack_where(list, slot++);
  });
  std::vector<uint64_t> sizes(trained_ ? nlist_ : 0), first(sizes.size());
  uint64_t blocks = 0;
  for (size_t l = 0; l < sizes.size(); ++l) {
    sizes[l] = list_size(l);
    first[l] = blocks;
    blocks += blocks_for(sizes[l]);
  }
  const SectionLayout lay = ivf_layout(dim_, l2, encoding_, trained_, nlist_, blocks, table.capacity());
  FileHeader h;
  h.major = rq ? 4 : 3;
  h.kind = IndexKind::Ivf;
  h.metric = metric_;
  h.dim = static_cast<uint32_t>(dim_);
  h.count = size_;
  h.payload_bytes = payload_bytes_of(lay);
  w.write_header(h);
  w.write_pod<uint64_t>(next_id_);
  for (uint32_t v : {uint32_t(nlist_), uint32_t(nprobe_), uint32_t(trained_ ? 1 : 0), uint32_t(encoding_),
                     uint32_t(rerank_), uint32_t(0)})
    w.write_pod<uint32_t>(v);
  w.write_pod<uint64_t>(table.capacity());
  w.write_pod<uint64_t>(table.max_probe());
  write_section_table(w, lay);
  SectionWriter out(w, lay.table_end());
  if (trained_) {
    const size_t c = blocks_for(nlist_) * kBlock;
    out.put(lay[SectionTag::ListSizes].offset, sizes.data(), nlist_ * sizeof(uint64_t));
    out.put(lay[SectionTag::Centroids].offset, centroids_.blocks(), c * dim_ * sizeof(float));
    if (l2) out.put(lay[SectionTag::CentroidSqNorms].offset, centroids_.sqnorms(), c * sizeof(float));
    out.put(lay[SectionTag::CentroidIds].offset, centroids_.ids(), nlist_ * sizeof(uint64_t));
    if (rows) out.put(lay[SectionTag::CentroidRows].offset, centroid_rows_.data(), nlist_ * dim_ * sizeof(float));
  }
  // Each list section in file order, each list in it in order.
  auto each = [&](SectionTag tag, uint64_t block_bytes, auto array) {
    const uint64_t at = lay[tag].offset;
    for (size_t l = 0; l < sizes.size(); ++l) {
      if (sizes[l] == 0) continue;
      const auto [data, bytes] = array(*lists_[l], sizes[l]);
      out.put(at + first[l] * block_bytes, data, bytes);
    }
  };
  using Span = std::pair<const void*, uint64_t>;
  const uint64_t d = dim_, f = sizeof(float);
  each(SectionTag::ListVectors, kBlock * d * f, [&](const IvfList& x, uint64_t n) {
    return rows ? Span(x.rows().row(0), n * d * f) : Span(x.packed().blocks(), blocks_for(n) * kBlock * d * f);
  });
  if (l2)
    each(SectionTag::ListSqNorms, kBlock * f, [&](const IvfList& x, uint64_t n) {
      return rows ? Span(x.rows().sqnorms(), n * f) : Span(x.packed().sqnorms(), blocks_for(n) * kBlock * f);
    });
  each(SectionTag::ListIds, kBlock * sizeof(uint64_t),
       [&](const IvfList& x, uint64_t n) { return Span(x.ids(), n * sizeof(uint64_t)); });
  if (sq8) {
    const uint64_t bb = CodeStore::sq8_block_bytes(d);
    each(SectionTag::Codes, bb,
         [&](const IvfList& x, uint64_t n) { return Span(x.codes().codes(), blocks_for(n) * bb); });
    each(SectionTag::CodeLo, kBlock * f, [&](const IvfList& x, uint64_t n) { return Span(x.codes().lo(), n * f); });
    each(SectionTag::CodeStep, kBlock * f, [&](const IvfList& x, uint64_t n) { return Span(x.codes().step(), n * f); });
    each(SectionTag::CodeBias, kBlock * f, [&](const IvfList& x, uint64_t n) { return Span(x.codes().bias(), n * f); });
  }
  if (rq) {
    const uint64_t bb = rq_block_bytes(d, ivf_encoding_bits(encoding_));
    each(SectionTag::Codes, bb,
         [&](const IvfList& x, uint64_t n) { return Span(x.rq_codes().codes(), blocks_for(n) * bb); });
    each(SectionTag::RqScale, kBlock * f, [&](const IvfList& x, uint64_t n) { return Span(x.rq_codes().scale(), n * f); });
    each(SectionTag::RqBias, kBlock * f, [&](const IvfList& x, uint64_t n) { return Span(x.rq_codes().bias(), n * f); });
    if (encoding_ == IvfEncoding::Rq1)
      each(SectionTag::RqOnes, kBlock * f, [&](const IvfList& x, uint64_t n) { return Span(x.rq_codes().ones(), n * f); });
    const std::vector<float> m = rotation_.rows();
    out.put(lay[SectionTag::Rotation].offset, m.data(), m.size() * sizeof(float));
  }
  out.put(lay[SectionTag::IdTable].offset, table.entries(), table.capacity() * sizeof(IdEntry));
  out.finish(lay.end());
  w.write_trailer();
}

template <typename Source>
std::unique_ptr<IvfIndex> IvfIndex::assemble(const FileHeader& h, const Fields& f, const std::vector<Section>& table,
                                             Source& src, SectionLayout* layout) {
  const bool l2 = h.metric == Metric::L2;
  if (is_rq(f.encoding) != (h.major >= 4))
    corrupt_file(std::string("encoding '") + ivf_encoding_name(f.encoding) + "' in a format " +
                 std::to_string(h.major) + " file");
  if (is_rq(f.encoding) && h.dim > kMaxRqDim) corrupt_file("dim out of range for an rq encoding");
  // The list sizes come first, at a place that does not depend on them.
  const SectionLayout head = ivf_layout(h.dim, l2, f.encoding, f.trained, f.nlist, 0, 0);
  expect_sections(table, head, 1);
  const Section& at = head[SectionTag::ListSizes];
  if (at.offset + at.bytes > kHeaderBytes + h.payload_bytes) corrupt_file("the list sizes lie past the payload");
  const PodStorage<uint64_t> sizes =
      f.trained ? src.template take<uint64_t>(at.offset, f.nlist) : PodStorage<uint64_t>();
  uint64_t total = 0, blocks = 0;
  for (size_t l = 0; l < sizes.size(); ++l) {
    if (sizes[l] > h.count) corrupt_file("list size out of range");
    total += sizes[l];
    blocks += blocks_for(sizes[l]);
  }
  if (total != h.count) corrupt_file("list sizes do not add up to the count");
  *layout = ivf_layout(h.dim, l2, f.encoding, f.trained, f.nlist, blocks, f.capacity);
  if (payload_bytes_of(*layout) != h.payload_bytes)
    corrupt_file("payload size does not match count, dim, nlist and list sizes");
  expect_sections(table, *layout);
  // Every section lies inside the file: now the arrays.
  // rq: the rotation is the file's, set after the lists (sections are read
  // in order); the centroids are rotated once, when it is set.
  std::unique_ptr<IvfIndex> index(new IvfIndex(h.dim, h.metric, f.nlist, f.nprobe, f.encoding, f.rerank, RotationGiven{}));
  if (f.trained) {
    index->assemble_centroids_locked(*layout, src);
    index->assemble_lists_locked(*layout, sizes.data(), src);
  }
  if (is_rq(f.encoding)) {
    auto m = src.template take<float>((*layout)[SectionTag::Rotation].offset, size_t(h.dim) * h.dim);
    index->set_rotation_locked(m.data());
  }
  auto entries = src.template take<IdEntry>((*layout)[SectionTag::IdTable].offset, f.capacity);
  src.finish(layout->end());
  index->where_ = entries.borrowed() ? IdTable::view(entries.data(), f.capacity, h.count, f.max_probe)
                                     : IdTable::adopt(std::move(entries.owned()), h.count, f.max_probe);
  index->size_ = h.count;
  index->next_id_ = f.next_id;
  return index;
}

template <typename Source>
void IvfIndex::assemble_centroids_locked(const SectionLayout& l, Source& src) {
  const size_t c = blocks_for(nlist_) * kBlock;
  const bool l2 = metric_ == Metric::L2;
  auto blocks = src.template take<float>(l[SectionTag::Centroids].offset, c * dim_);
  auto norms = l2 ? src.template take<float>(l[SectionTag::CentroidSqNorms].offset, c) : PodStorage<float>();
  auto ids = src.template take<uint64_t>(l[SectionTag::CentroidIds].offset, nlist_);
  // A probe finds its lists by these ids: whatever else a file may be
  // trusted with, they must be 0..nlist-1 (O(nlist)).
  for (size_t i = 0; i < nlist_; ++i)
    if (ids[i] != i) corrupt_file("centroid ids are not 0..nlist-1");
  if (encoding_ == IvfEncoding::Sq8 || is_rq(encoding_))
    centroid_rows_ = src.template take<float>(l[SectionTag::CentroidRows].offset, nlist_ * dim_);
  centroids_ = PackedStore(dim_, l2, nlist_, std::move(blocks), std::move(norms), std::move(ids));
  lists_.clear();
  lists_.resize(nlist_);
  trained_ = true;
}

template <typename Source>
void IvfIndex::assemble_lists_locked(const SectionLayout& lay, const uint64_t* sizes, Source& src) {
  const bool l2 = metric_ == Metric::L2, sq8 = encoding_ == IvfEncoding::Sq8, rq = is_rq(encoding_);
  const bool rows = sq8 || rq;
  const uint64_t d = dim_, f = sizeof(float);
  // The lists holding vectors, and the block each starts at in every list
  // section (so nothing here grows with nlist beyond the sizes).
  std::vector<uint32_t> used;
  std::vector<uint64_t> first;
  for (uint64_t l = 0, b = 0; l < nlist_; b += blocks_for(sizes[l]), ++l)
    if (sizes[l] > 0) used.push_back(static_cast<uint32_t>(l)), first.push_back(b);
  struct Parts {
    PodStorage<float> vectors, norms, lo, step, bias, scale, ones;
    PodStorage<uint64_t> ids;
    PodStorage<uint8_t> codes;
  };
  std::vector<Parts> parts(used.size());
  auto each = [&](SectionTag tag, uint64_t block_bytes, auto take) {
    const uint64_t at = lay[tag].offset;
    for (size_t i = 0; i < used.size(); ++i) take(parts[i], sizes[used[i]], at + first[i] * block_bytes);
  };
  each(SectionTag::ListVectors, kBlock * d * f, [&](Parts& p, uint64_t n, uint64_t at) {
    p.vectors = src.template take<float>(at, rows ? n * d : blocks_for(n) * kBlock * d);
  });
  if (l2)
    each(SectionTag::ListSqNorms, kBlock * f, [&](Parts& p, uint64_t n, uint64_t at) {
      p.norms = src.template take<float>(at, rows ? n : blocks_for(n) * kBlock);
    });
  each(SectionTag::ListIds, kBlock * sizeof(uint64_t),
       [&](Parts& p, uint64_t n, uint64_t at) { p.ids = src.template take<uint64_t>(at, n); });
  if (sq8) {
    const uint64_t bb = CodeStore::sq8_block_bytes(d);
    each(SectionTag::Codes, bb,
         [&](Parts& p, uint64_t n, uint64_t at) { p.codes = src.template take<uint8_t>(at, blocks_for(n) * bb); });
    each(SectionTag::CodeLo, kBlock * f, [&](Parts& p, uint64_t n, uint64_t at) { p.lo = src.template take<float>(at, n); });
    each(SectionTag::CodeStep, kBlock * f,
         [&](Parts& p, uint64_t n, uint64_t at) { p.step = src.template take<float>(at, n); });
    each(SectionTag::CodeBias, kBlock * f,
         [&](Parts& p, uint64_t n, uint64_t at) { p.bias = src.template take<float>(at, n); });
  }
  const unsigned bits = ivf_encoding_bits(encoding_);
  if (rq) {
    const uint64_t bb = rq_block_bytes(d, bits);
    each(SectionTag::Codes, bb,
         [&](Parts& p, uint64_t n, uint64_t at) { p.codes = src.template take<uint8_t>(at, blocks_for(n) * bb); });
    each(SectionTag::RqScale, kBlock * f,
         [&](Parts& p, uint64_t n, uint64_t at) { p.scale = src.template take<float>(at, n); });
    each(SectionTag::RqBias, kBlock * f,
         [&](Parts& p, uint64_t n, uint64_t at) { p.bias = src.template take<float>(at, n); });
    if (bits == 1)
      each(SectionTag::RqOnes, kBlock * f,
           [&](Parts& p, uint64_t n, uint64_t at) { p.ones = src.template take<float>(at, n); });
  }
  for (size_t i = 0; i < used.size(); ++i) {
    const size_t n = sizes[used[i]];
    Parts& p = parts[i];
    if (rq) {
      lists_[used[i]] = std::make_unique<IvfList>(
          RowStore(d, l2, n, std::move(p.vectors), std::move(p.norms), std::move(p.ids)),
          RqCodeStore(d, bits, l2, n, std::move(p.codes), std::move(p.scale), std::move(p.bias), std::move(p.ones)));
      continue;
    }
    lists_[used[i]] =
        sq8 ? std::make_unique<IvfList>(RowStore(d, l2, n, std::move(p.vectors), std::move(p.norms), std::move(p.ids)),
                                        CodeStore(d, l2, n, std::move(p.codes), std::move(p.lo), std::move(p.step),
                                                  std::move(p.bias)))
            : std::make_unique<IvfList>(PackedStore(d, l2, n, std::move(p.vectors), std::move(p.norms), std::move(p.ids)));
  }
}

// What load() checks of a format-3 file beyond its structure, and open()
// with verify: finite vectors and centroids, sq8 rows that are the
// centroids, usable sq8 ranges, and an id table holding each stored id
// (each at most 2^53-1, none twice) at its place, below the next id.
void IvfIndex::check_contents_locked() const {
  const bool sq8 = encoding_ == IvfEncoding::Sq8;
  if (trained_) {
    check_stored_finite(centroids_.blocks(), blocks_for(nlist_) * kBlock * dim_, "centroid");
    std::vector<float> row(dim_);
    for (size_t l = 0; (sq8 || is_rq(encoding_)) && l < nlist_; ++l) {
      centroids_.unpack_rows(l, 1, row.data());
      if (std::memcmp(row.data(), centroid_rows_.data() + l * dim_, dim_ * sizeof(float)) != 0)
        corrupt_file("the centroid rows differ from the centroids");
    }
  }
  for (const auto& list : lists_) {
    if (!list) continue;
    const size_t n = list->size();
    if (is_rq(encoding_)) {
      check_stored_finite(list->rows().row(0), n * dim_, "vector");
      const RqCodeStore& c = list->rq_codes();
      check_stored_finite(c.scale(), n, "rq scale");
      check_stored_finite(c.bias(), n, "rq bias");
      if (c.bits() == 1) check_stored_finite(c.ones(), n, "rq ones");
      continue;
    }
    if (!sq8) {
      check_stored_finite(list->packed().blocks(), blocks_for(n) * kBlock * dim_, "vector");
      continue;
    }
    check_stored_finite(list->rows().row(0), n * dim_, "vector");
    const CodeStore& c = list->codes();
    check_stored_finite(c.lo(), n, "sq8 lo");
    check_stored_finite(c.bias(), n, "sq8 bias");
    for (size_t j = 0; j < n; ++j)
      if (!(c.step()[j] > 0.0f) || !std::isfinite(c.step()[j])) corrupt_file("an sq8 step is not positive and finite");
  }
  const uint64_t largest = where_.check(size_, [&](uint64_t where, uint64_t* id) {
    const size_t l = where_list(where), slot = where_slot(where);
    if (l >= nlist_ || slot >= list_size(l)) return false;
    *id = lists_[l]->ids()[slot];
    return true;
  });
  check_next_id(next_id_, size_ > 0, largest);
}

std::unique_ptr<IvfIndex> IvfIndex::read_v3(Reader& r, const FileHeader& h, const Fields& f) {
  const std::vector<Section> table = read_section_table(r);
  StreamSections src(r, kHeaderBytes + kIvfFields3Bytes + 8 + 24 * table.size());
  SectionLayout layout(0, 0);
  auto index = assemble(h, f, table, src, &layout);
  r.read_trailer();
  index->check_contents_locked();
  return index;
}

std::unique_ptr<IvfIndex> IvfIndex::open_image(std::shared_ptr<const FileMapping> image, bool verify) {
  MemoryReader r(image->data(), image->size());
  const FileHeader h = r.read_header();
  expect_kind(h, IndexKind::Ivf);
  expect_mappable(h);
  const Fields f = read_fields(r, h);
  const std::vector<Section> table = read_section_table(r);
  check_image_trailer(image->data(), image->size(), verify);
  MappedSections src(image->data(), image->size(), kHeaderBytes + kIvfFields3Bytes + 8 + 24 * table.size(), verify);
  SectionLayout l(0, 0);
  auto index = assemble(h, f, table, src, &l);
  if (verify) index->check_contents_locked();
  // Every query reads all the centroids: fetch them now. Sq8 lists are
  // read row by row (re-ranking a few candidates): no read-around.
  const Section& c = l[SectionTag::Centroids];
  image->advise_willneed(c.offset, l[SectionTag::CentroidRows].offset + l[SectionTag::CentroidRows].bytes - c.offset);
  if (f.encoding == IvfEncoding::Sq8 || is_rq(f.encoding)) image->advise_random(l[SectionTag::ListVectors].offset, l[SectionTag::ListVectors].bytes);
  index->mapping_ = std::move(image);
  return index;
}

}  // namespace semvec
