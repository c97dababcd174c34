#include "file_sections.h"

#include <algorithm>
#include <cstring>

namespace semvec {

namespace {

constexpr size_t kMaxSections = 64;

[[noreturn]] void corrupt(const std::string& why) {
  throw Error(ErrorCode::CorruptFile, "corrupt semvec index file: " + why);
}

}  // namespace

const char* section_name(SectionTag tag) {
  switch (tag) {
    case SectionTag::Vectors: return "vectors";
    case SectionTag::SqNorms: return "squared norms";
    case SectionTag::Ids: return "ids";
    case SectionTag::IdTable: return "id table";
    case SectionTag::ListSizes: return "list sizes";
    case SectionTag::Centroids: return "centroids";
    case SectionTag::CentroidSqNorms: return "centroid squared norms";
    case SectionTag::CentroidIds: return "centroid ids";
    case SectionTag::CentroidRows: return "centroid rows";
    case SectionTag::ListVectors: return "list vectors";
    case SectionTag::ListSqNorms: return "list squared norms";
    case SectionTag::ListIds: return "list ids";
    case SectionTag::Codes: return "sq8 codes";
    case SectionTag::CodeLo: return "sq8 lo";
    case SectionTag::CodeStep: return "sq8 step";
    case SectionTag::CodeBias: return "sq8 bias";
    case SectionTag::RqScale: return "rq scale";
    case SectionTag::RqBias: return "rq bias";
    case SectionTag::RqOnes: return "rq ones";
    case SectionTag::Rotation: return "rq rotation";
    case SectionTag::GraphSum: return "sum of the vectors";
    case SectionTag::GraphEntries: return "entry slots";
    case SectionTag::GraphCodes: return "graph codes";
    case SectionTag::GraphLinks: return "links";
    case SectionTag::Tombstones: return "tombstones";
    case SectionTag::GraphLayers: return "graph layers";
    case SectionTag::GraphCentroids: return "graph partition centroids";
    case SectionTag::GraphGroups: return "graph partition groups";
  }
  return "unknown";
}

SectionLayout::SectionLayout(uint64_t table_offset, size_t sections)
    : table_offset_(table_offset), count_(sections), end_(table_end()) {
  sections_.reserve(sections);
}

uint64_t SectionLayout::table_end() const { return table_offset_ + 8 + 24 * uint64_t(count_); }

void SectionLayout::add(SectionTag tag, uint64_t bytes) {
  if (sections_.size() == count_) throw Error(ErrorCode::Internal, "more sections than the table lists");
  const uint64_t offset = align_section(end_);
  sections_.push_back(Section{tag, offset, bytes});
  end_ = offset + bytes;
}

const Section& SectionLayout::operator[](SectionTag tag) const {
  for (const Section& s : sections_)
    if (s.tag == tag) return s;
  throw Error(ErrorCode::Internal, std::string("no section ") + section_name(tag));
}

void write_section_table(Writer& w, const SectionLayout& layout) {
  w.write_pod<uint32_t>(static_cast<uint32_t>(layout.sections().size()));
  w.write_pod<uint32_t>(0);
  for (const Section& s : layout.sections()) {
    w.write_pod<uint32_t>(static_cast<uint32_t>(s.tag));
    w.write_pod<uint32_t>(0);
    w.write_pod<uint64_t>(s.offset);
    w.write_pod<uint64_t>(s.bytes);
  }
}

std::vector<Section> read_section_table(Reader& r) {
  const uint32_t count = r.read_pod<uint32_t>();
  const uint32_t reserved = r.read_pod<uint32_t>();
  if (count > kMaxSections) corrupt("section count " + std::to_string(count) + " is outside 0..64");
  if (reserved != 0) corrupt("the section table's reserved field is not zero");
  std::vector<Section> out(count);
  for (Section& s : out) {
    s.tag = static_cast<SectionTag>(r.read_pod<uint32_t>());
    if (r.read_pod<uint32_t>() != 0) corrupt("a section's reserved field is not zero");
    s.offset = r.read_pod<uint64_t>();
    s.bytes = r.read_pod<uint64_t>();
  }
  return out;
}

void expect_sections(const std::vector<Section>& found, const SectionLayout& expected, size_t prefix) {
  const std::vector<Section>& want = expected.sections();
  const size_t n = prefix ? std::min(prefix, want.size()) : want.size();
  // The count first, even when only a prefix is compared: where the
  // sections start depends on it.
  if (found.size() != want.size())
    corrupt("the section table lists " + std::to_string(found.size()) + " sections; this index has " +
            std::to_string(want.size()));
  for (size_t i = 0; i < n; ++i) {
    if (i >= found.size() || found[i].tag != want[i].tag)
      corrupt("section " + std::to_string(i) + " should be the " + section_name(want[i].tag));
    if (found[i].offset != want[i].offset || found[i].bytes != want[i].bytes)
      corrupt(std::string("the ") + section_name(want[i].tag) + " section is at " +
              std::to_string(found[i].offset) + " (" + std::to_string(found[i].bytes) +
              " bytes); the index's fields put it at " + std::to_string(want[i].offset) + " (" +
              std::to_string(want[i].bytes) + " bytes)");
  }
}

void SectionWriter::zeros_to(uint64_t offset) {
  static const unsigned char zeros[kSectionAlign * 16] = {};
  if (offset < pos_) throw Error(ErrorCode::Internal, "sections written out of order");
  while (pos_ < offset) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof(zeros), offset - pos_));
    w_.write(zeros, n);
    pos_ += n;
  }
}

void SectionWriter::put(uint64_t offset, const void* data, size_t n) {
  zeros_to(offset);
  w_.write(data, n);
  pos_ += n;
}

void SectionWriter::finish(uint64_t end) { zeros_to(end); }

void MappedSections::advance(uint64_t offset, uint64_t bytes) {
  // The layout was checked against the file size: this only guards against
  // a bug in the order of the reader's requests.
  if (offset < pos_ || offset > size_ || bytes > size_ - offset)
    throw Error(ErrorCode::Internal, "mapped array outside its file or out of order");
  if (verify_ && offset > pos_) gaps_.emplace_back(pos_, offset);
  pos_ = offset + bytes;
}

void MappedSections::finish(uint64_t end) {
  advance(end, 0);
  for (const auto& [from, to] : gaps_)
    for (uint64_t i = from; i < to; ++i)
      if (image_[i] != 0) corrupt("padding between arrays is not zero");
}

void StreamSections::skip_to(uint64_t offset) {
  if (offset < pos_) throw Error(ErrorCode::Internal, "arrays read out of order");
  unsigned char buf[4096];
  while (pos_ < offset) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof(buf), offset - pos_));
    r_.read(buf, n);
    for (size_t i = 0; i < n; ++i)
      if (buf[i] != 0) corrupt("padding between arrays is not zero");
    pos_ += n;
  }
}

}  // namespace semvec
