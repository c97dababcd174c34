// Loaded files are held to the limits of the API: a file with valid
// checksums still cannot carry a value that the API would have refused.
#include <limits>

#include "file_util.h"
#include "legacy_files.h"
#include "flat_index.h"
#include "harness.h"
#include "ivf_index.h"
#include "api_limits.h"
#include "util.h"

using namespace semvec;
using testutil::bytes_of;
using testutil::with_field;

namespace {

// Payload offsets of the IVF fields (docs/file-format.md).
constexpr size_t kIvfNextId = 0, kIvfNlist = 8, kIvfNprobe = 12, kIvfRerank = 24;

// A trained IVF index with one list holding ids 1, 2, 3.
std::unique_ptr<IvfIndex> small_ivf(IvfEncoding encoding, size_t d) {
  auto ix = std::make_unique<IvfIndex>(d, Metric::L2, 1, 1, encoding);
  auto x = testutil::random_vectors(3, d, 7);
  ix->train(x.data(), 3, KMeansParams());
  std::vector<uint64_t> ids = {1, 2, 3};
  ix->add(x.data(), 3, ids.data());
  return ix;
}

// Offset in the payload of the first id of a one-list IVF index.
size_t ivf_first_id(IvfEncoding encoding, size_t d) {
  return (encoding == IvfEncoding::Sq8 ? 32 : 24) + d * sizeof(float) + sizeof(uint64_t);
}

}  // namespace

TEST("file limits: an sq8 file's rerank above the API maximum is ERR_CORRUPT_FILE naming rerank") {
  const size_t d = 5;
  for (bool trained : {false, true}) {
    std::unique_ptr<IvfIndex> ix = trained ? small_ivf(IvfEncoding::Sq8, d)
                                           : std::make_unique<IvfIndex>(d, Metric::L2, 4, 2, IvfEncoding::Sq8);
    const auto good = bytes_of(*ix);
    for (uint32_t bad : {uint32_t(kMaxRerank + 1), std::numeric_limits<uint32_t>::max()}) {
      auto b = with_field<uint32_t>(good, kIvfRerank, bad);
      CHECK_THROWS_MSG(IvfIndex::deserialize(b.data(), b.size()), ErrorCode::CorruptFile, "rerank");
    }
    auto at_limit = with_field<uint32_t>(good, kIvfRerank, uint32_t(kMaxRerank));
    auto back = IvfIndex::deserialize(at_limit.data(), at_limit.size());
    CHECK_EQ(back->rerank(), kMaxRerank);
    if (trained) {
      auto x = testutil::random_vectors(1, d, 8);
      CHECK_EQ(back->search(x.data(), 1, 3).k, size_t(3));
    }
  }
}

TEST("file limits: nlist and nprobe outside the API's ranges are ERR_CORRUPT_FILE naming them") {
  IvfIndex ix(4, Metric::InnerProduct, 8, 2);
  const auto good = bytes_of(ix);
  for (uint32_t nlist : {uint32_t(0), uint32_t(kMaxNlist + 1)}) {
    auto b = with_field<uint32_t>(good, kIvfNlist, nlist);
    CHECK_THROWS_MSG(IvfIndex::deserialize(b.data(), b.size()), ErrorCode::CorruptFile, "nlist");
  }
  for (uint32_t nprobe : {uint32_t(0), uint32_t(9)}) {
    auto b = with_field<uint32_t>(good, kIvfNprobe, nprobe);
    CHECK_THROWS_MSG(IvfIndex::deserialize(b.data(), b.size()), ErrorCode::CorruptFile, "nprobe");
  }
}

TEST("file limits: stored ids above 2^53-1 are ERR_CORRUPT_FILE, flat and IVF, formats 1.0 and 2.0") {
  const size_t d = 3;
  FlatIndex flat(d, Metric::Cosine);
  auto x = testutil::random_vectors(3, d, 9);
  std::vector<uint64_t> ids = {1, 2, 3};
  flat.add(x.data(), 3, ids.data());
  {
    const auto v1 = testutil::legacy_flat(bytes_of(flat));
    auto b = with_field<uint64_t>(v1, 0, kMaxNextId + 1);  // next id, so that only the id is wrong
    b = with_field<uint64_t>(b, 8, kMaxId + 1);
    CHECK_THROWS_MSG(FlatIndex::deserialize(b.data(), b.size()), ErrorCode::CorruptFile, "id 9007199254740992");
    // The largest id the API allows loads, and its own bytes load again.
    auto ok = with_field<uint64_t>(with_field<uint64_t>(v1, 0, kMaxNextId), 8, kMaxId);
    auto back = FlatIndex::deserialize(ok.data(), ok.size());
    CHECK(back->contains(kMaxId));
    auto again = bytes_of(*back);
    CHECK(FlatIndex::deserialize(again.data(), again.size())->contains(kMaxId));
  }
  for (IvfEncoding e : {IvfEncoding::F32, IvfEncoding::Sq8}) {
    auto ix = small_ivf(e, d);
    const auto legacy = testutil::legacy_ivf(bytes_of(*ix));
    const size_t at = ivf_first_id(e, d);
    CHECK_EQ(testutil::get<uint64_t>(legacy, kHeaderBytes + at), uint64_t(1));
    auto b = with_field<uint64_t>(with_field<uint64_t>(legacy, kIvfNextId, kMaxNextId), at, kMaxId + 1);
    CHECK_THROWS_MSG(IvfIndex::deserialize(b.data(), b.size()), ErrorCode::CorruptFile, "id 9007199254740992");
    auto ok = with_field<uint64_t>(with_field<uint64_t>(legacy, kIvfNextId, kMaxNextId), at, kMaxId);
    auto back = IvfIndex::deserialize(ok.data(), ok.size());
    CHECK(back->contains(kMaxId));
    auto again = bytes_of(*back);
    CHECK(IvfIndex::deserialize(again.data(), again.size())->contains(kMaxId));
  }
}

TEST("file limits: stored ids above 2^53-1 are ERR_CORRUPT_FILE in format 3.0, loaded or mapped with verify") {
  const size_t d = 3;
  FlatIndex flat(d, Metric::Cosine);
  auto x = testutil::random_vectors(3, d, 9);
  std::vector<uint64_t> ids = {1, 2, 3};
  flat.add(x.data(), 3, ids.data());
  auto ivf = small_ivf(IvfEncoding::Sq8, d);
  for (auto good : {bytes_of(flat), bytes_of(*ivf)}) {
    const bool is_flat = testutil::get<uint32_t>(good, 12) == 1;
    // The id in its store and in the id table, with a next id beyond it.
    const uint64_t store = testutil::section_at(good, is_flat ? SectionTag::Ids : SectionTag::ListIds);
    CHECK(testutil::get<uint64_t>(good, store) == 1);
    auto b = with_field<uint64_t>(good, 0, kMaxNextId);
    testutil::put<uint64_t>(b, store, kMaxId + 1);
    testutil::put<uint64_t>(b, testutil::id_entry_at(b, 1), kMaxId + 1);
    testutil::reseal(b);
    if (is_flat) {
      CHECK_THROWS_MSG(FlatIndex::deserialize(b.data(), b.size()), ErrorCode::CorruptFile, "id 9007199254740992");
      CHECK_THROWS_MSG(FlatIndex::open_image(FileMapping::borrow(b.data(), b.size())), ErrorCode::CorruptFile,
                       "id 9007199254740992");
    } else {
      CHECK_THROWS_MSG(IvfIndex::deserialize(b.data(), b.size()), ErrorCode::CorruptFile, "id 9007199254740992");
      CHECK_THROWS_MSG(IvfIndex::open_image(FileMapping::borrow(b.data(), b.size())), ErrorCode::CorruptFile,
                       "id 9007199254740992");
    }
  }
}

TEST("file limits: a next id above 2^53 is ERR_CORRUPT_FILE naming it, flat and IVF, untrained too") {
  const size_t d = 3;
  FlatIndex flat(d, Metric::L2);
  FlatIndex empty_flat(d, Metric::L2);
  auto x = testutil::random_vectors(2, d, 10);
  flat.add(x.data(), 2, nullptr);
  IvfIndex untrained(d, Metric::L2, 4, 1);
  std::vector<std::vector<unsigned char>> files = {bytes_of(flat), bytes_of(empty_flat), bytes_of(untrained),
                                                   bytes_of(*small_ivf(IvfEncoding::F32, d)),
                                                   bytes_of(*small_ivf(IvfEncoding::Sq8, d))};
  for (size_t i = 0; i < files.size(); ++i) {
    const bool is_flat = i < 2;
    for (uint64_t bad : {kMaxNextId + 1, std::numeric_limits<uint64_t>::max()}) {
      auto b = with_field<uint64_t>(files[i], 0, bad);
      if (is_flat)
        CHECK_THROWS_MSG(FlatIndex::deserialize(b.data(), b.size()), ErrorCode::CorruptFile, "next id");
      else
        CHECK_THROWS_MSG(IvfIndex::deserialize(b.data(), b.size()), ErrorCode::CorruptFile, "next id");
    }
    auto ok = with_field<uint64_t>(files[i], 0, kMaxNextId);
    if (is_flat)
      CHECK_EQ(FlatIndex::deserialize(ok.data(), ok.size())->next_id(), kMaxNextId);
    else
      CHECK_EQ(IvfIndex::deserialize(ok.data(), ok.size())->next_id(), kMaxNextId);
  }
}

TEST("limits: the core API refuses what the loader refuses") {
  const size_t d = 3;
  CHECK_THROWS_CODE(IvfIndex(d, Metric::L2, 4, 1, IvfEncoding::Sq8, kMaxRerank + 1), ErrorCode::InvalidArgument);
  CHECK_THROWS_CODE(IvfIndex(d, Metric::L2, kMaxNlist + 1, 1), ErrorCode::InvalidArgument);
  auto ix = small_ivf(IvfEncoding::Sq8, d);
  CHECK_THROWS_CODE(ix->set_rerank(kMaxRerank + 1), ErrorCode::InvalidArgument);
  CHECK_EQ(ix->rerank(), kDefaultRerank);
  auto x = testutil::random_vectors(1, d, 11);
  CHECK_THROWS_CODE(ix->search(x.data(), 1, 1, IvfSearchParams{std::nullopt, kMaxRerank + 1, nullptr, 0}), ErrorCode::InvalidArgument);
  const uint64_t too_big = kMaxId + 1;
  CHECK_THROWS_CODE(ix->add(x.data(), 1, &too_big), ErrorCode::InvalidArgument);
  FlatIndex flat(d, Metric::L2);
  CHECK_THROWS_CODE(flat.add(x.data(), 1, &too_big), ErrorCode::InvalidArgument);
  CHECK_EQ(flat.size(), size_t(0));
  const uint64_t largest = kMaxId;
  flat.add(x.data(), 1, &largest);
  CHECK_EQ(flat.next_id(), kMaxNextId);
}

TEST("ivf: nlist costs no memory until vectors arrive: 96- and 104-byte files with nlist 2^20 load small") {
  for (IvfEncoding e : {IvfEncoding::F32, IvfEncoding::Sq8}) {
    IvfIndex small(4, Metric::L2, 1, 1, e);
    auto b = with_field<uint32_t>(testutil::legacy_ivf(bytes_of(small)), kIvfNlist, uint32_t(kMaxNlist));
    CHECK_EQ(b.size(), size_t(e == IvfEncoding::F32 ? 96 : 104));
    auto ix = IvfIndex::deserialize(b.data(), b.size());
    CHECK_EQ(ix->nlist(), kMaxNlist);
    // Building every list took 120 MiB (f32) and 280 MiB (sq8).
    CHECK(ix->memory_usage() < 4096);
    CHECK(testutil::legacy_ivf(bytes_of(*ix)) == b);
    auto x = testutil::random_vectors(1, 4, 12);
    CHECK_THROWS_CODE(ix->search(x.data(), 1, 1), ErrorCode::NotTrained);
    CHECK(IvfIndex(4, Metric::Cosine, kMaxNlist, 1, e).memory_usage() < 4096);
  }
}

TEST("ivf: an untrained format-3 file with nlist 2^20 is 456 bytes and loads and maps small") {
  for (IvfEncoding e : {IvfEncoding::F32, IvfEncoding::Sq8}) {
    IvfIndex small(4, Metric::L2, 1, 1, e);
    auto b = with_field<uint32_t>(bytes_of(small), kIvfNlist, uint32_t(kMaxNlist));
    CHECK_EQ(b.size(), size_t(456));
    auto loaded = IvfIndex::deserialize(b.data(), b.size());
    auto mapped = IvfIndex::open_image(FileMapping::borrow(b.data(), b.size()));
    for (IvfIndex* ix : {loaded.get(), mapped.get()}) {
      CHECK_EQ(ix->nlist(), kMaxNlist);
      CHECK(ix->memory_usage() < 4096);
      CHECK(bytes_of(*ix) == b);
    }
  }
}

TEST("ivf: lists are made by their first vector and survive remove, save and load") {
  const size_t d = 6, n = 300, nlist = 64;
  for (IvfEncoding e : {IvfEncoding::F32, IvfEncoding::Sq8}) {
    IvfIndex ix(d, Metric::L2, nlist, nlist, e);
    auto x = testutil::random_vectors(n, d, 13);
    ix.train(x.data(), n, KMeansParams());
    const size_t trained_bytes = ix.memory_usage();
    ix.add(x.data(), 5, nullptr);  // at most five lists get vectors
    size_t used = 0;
    for (size_t s : ix.list_sizes()) used += s > 0;
    CHECK(used >= 1 && used <= 5);
    std::vector<uint64_t> all = {0, 1, 2, 3, 4};
    ix.remove(all.data(), all.size());
    ix.add(x.data(), n, nullptr);
    auto b = bytes_of(ix);
    auto back = IvfIndex::deserialize(b.data(), b.size());
    CHECK(back->list_sizes() == ix.list_sizes());
    CHECK(bytes_of(*back) == b);
    auto r1 = ix.search(x.data(), 4, 5), r2 = back->search(x.data(), 4, 5);
    CHECK(r1.ids == r2.ids && r1.scores == r2.scores);
    CHECK(ix.memory_usage() > trained_bytes);
  }
}
