// Fuzz target: the format-3 reader over a mapped image (FlatIndex and
// IvfIndex open_image, as FlatIndex.open and IVFIndex.open map files), the
// header's kind choosing the index. Every input is made a format-3 file
// with a consistent payload size and checksums.
//
// With verify, open must accept exactly the files deserialize (load)
// accepts, and then search, save and list alike. Without verify, whatever
// opens (its contents trusted, unchecked) must search, answer lookups and
// allow-lists, reconstruct and save without reading outside the image.
#include "fuzz_common.h"

namespace {

// Looks ids up and reads them back. A verified index must read back every
// id it contains; an unverified one (its contents trusted) may instead
// refuse with a typed error where its id table points outside the stores.
template <typename Index>
void lookups(const Index& ix, bool verified) {
  std::vector<float> v(ix.dim());
  for (uint64_t id : {uint64_t(0), uint64_t(1), uint64_t(2), uint64_t(3), ix.next_id(), semvec::kMaxId}) {
    if (!ix.contains(id)) continue;
    try {
      ix.reconstruct(id, v.data());
    } catch (const semvec::Error&) {
      if (verified) semvec_fuzz::finding("a contained id cannot be read back");
    }
  }
}

template <typename Index>
void differential(const std::shared_ptr<const semvec::FileMapping>& image, const std::vector<uint8_t>& file) {
  std::unique_ptr<Index> mapped, loaded;
  try {
    mapped = Index::open_image(image, true);
  } catch (const semvec::Error&) {
  }
  try {
    loaded = Index::deserialize(file.data(), file.size());
  } catch (const semvec::Error&) {
  }
  if ((mapped == nullptr) != (loaded == nullptr)) semvec_fuzz::finding("open with verify and load disagree on a file");
  if (!mapped) return;
  if (semvec_fuzz::bytes_of(*mapped) != semvec_fuzz::bytes_of(*loaded) || mapped->size() != loaded->size())
    semvec_fuzz::finding("a mapped index saves differently from the loaded one");
  semvec_fuzz::exercise(*mapped);
  lookups(*mapped, true);
}

template <typename Index>
void unverified(const std::shared_ptr<const semvec::FileMapping>& image) {
  std::unique_ptr<Index> ix;
  try {
    ix = Index::open_image(image, false);
  } catch (const semvec::Error&) {
    return;  // refused by its structure: fine
  }
  const std::vector<float> q = semvec_fuzz::queries(ix->dim());
  const uint64_t allow[] = {0, 1, 2, 3, ix->next_id() > 0 ? ix->next_id() - 1 : 0};
  try {
    if constexpr (std::is_same_v<Index, semvec::FlatIndex>) {
      semvec_fuzz::check_results(ix->search(q.data(), 3, 10), 3, ix->size());
      semvec_fuzz::check_results(ix->search(q.data(), 3, 4, allow, 5), 3, ix->size());
    } else {
      const std::optional<size_t> all = ix->nlist() <= 256 ? std::optional<size_t>(ix->nlist()) : std::nullopt;
      for (std::optional<size_t> rerank : {std::optional<size_t>(), std::optional<size_t>(0), std::optional<size_t>(500)}) {
        semvec_fuzz::check_results(ix->search(q.data(), 3, 10, semvec::IvfSearchParams{all, rerank, nullptr, 0}), 3,
                                   ix->size());
        semvec_fuzz::check_results(ix->search(q.data(), 3, 4, semvec::IvfSearchParams{1, rerank, allow, 5}), 3,
                                   ix->size());
      }
      ix->list_sizes();
      ix->centroids();
    }
  } catch (const semvec::Error& e) {
    if (e.code() != semvec::ErrorCode::NotTrained) semvec_fuzz::finding("an unverified mapped index failed a search");
  }
  lookups(*ix, false);
  semvec_fuzz::bytes_of(*ix);  // saving trusts the contents too, and never reads past them
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> file(data, data + size);
  if (file.size() >= 10) semvec_fuzz::put<uint16_t>(file, 8, 3);
  file = semvec_fuzz::as_file(file.data(), file.size());
  const auto image = semvec::FileMapping::borrow(file.data(), file.size());
  uint32_t kind = 0;
  if (file.size() >= 16) std::memcpy(&kind, file.data() + 12, 4);
  if (kind == 1) {
    differential<semvec::FlatIndex>(image, file);
    unverified<semvec::FlatIndex>(image);
  } else {
    differential<semvec::IvfIndex>(image, file);
    unverified<semvec::IvfIndex>(image);
  }
  return 0;
}
