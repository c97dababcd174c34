// Fuzz target: GraphIndex::deserialize (what GraphIndex.fromBuffer calls),
// and, for the same bytes, the mapped reader (GraphIndex.open): with
// verify it must accept exactly what deserialize accepts and hold the same
// graph; without it, whatever opens must search without reading outside
// the image (a walk follows links that only the structure check vouches
// for).
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> file = semvec_fuzz::as_file(data, size);
  std::unique_ptr<semvec::GraphIndex> loaded, mapped;
  try {
    loaded = semvec::GraphIndex::deserialize(file.data(), file.size());
  } catch (const semvec::Error&) {
  }
  const auto image = semvec::FileMapping::borrow(file.data(), file.size());
  try {
    mapped = semvec::GraphIndex::open_image(image, true);
  } catch (const semvec::Error&) {
  }
  if ((loaded == nullptr) != (mapped == nullptr)) semvec_fuzz::finding("graph: open with verify and load disagree");
  if (loaded) {
    if (semvec_fuzz::bytes_of(*loaded) != semvec_fuzz::bytes_of(*mapped)) semvec_fuzz::finding("graph: mapped and loaded differ");
    semvec_fuzz::exercise(*loaded);
  }
  std::unique_ptr<semvec::GraphIndex> trusted;
  try {
    trusted = semvec::GraphIndex::open_image(image, false);
  } catch (const semvec::Error&) {
    return 0;
  }
  const std::vector<float> q = semvec_fuzz::queries(trusted->dim());
  const uint64_t allow[] = {0, 1, 2, 3, trusted->next_id() > 0 ? trusted->next_id() - 1 : 0};
  semvec::GraphSearchParams p;
  p.allow = allow;
  p.n_allow = 5;
  // Trusted contents may hold NaN vectors: only the shape is checked.
  try {
    for (const semvec::SearchResults& r : {trusted->search(q.data(), 3, 10), trusted->search(q.data(), 3, 4, p)})
      if (r.nq != 3 || r.ids.size() != 3 * r.k || r.scores.size() != 3 * r.k) semvec_fuzz::finding("graph: results of the wrong shape");
  } catch (const semvec::Error&) {
    // an unverified file may refuse with a coded error
  }
  return 0;
}
