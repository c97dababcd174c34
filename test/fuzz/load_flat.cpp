// Fuzz target: FlatIndex::deserialize (what FlatIndex.fromBuffer calls).
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> file = semvec_fuzz::as_file(data, size);
  std::unique_ptr<semvec::FlatIndex> ix;
  try {
    ix = semvec::FlatIndex::deserialize(file.data(), file.size());
  } catch (const semvec::Error&) {
    return 0;  // refused with a coded error: fine
  }
  semvec_fuzz::exercise(*ix);
  return 0;
}
