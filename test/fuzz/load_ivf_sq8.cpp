// Fuzz target: IvfIndex::deserialize of sq8 files (the encoding fields are
// forced to sq8 so that every input exercises that reader).
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> file(data, data + size);
  semvec_fuzz::force_ivf_encoding(file, semvec::IvfEncoding::Sq8);
  file = semvec_fuzz::as_file(file.data(), file.size());
  std::unique_ptr<semvec::IvfIndex> ix;
  try {
    ix = semvec::IvfIndex::deserialize(file.data(), file.size());
  } catch (const semvec::Error&) {
    return 0;  // refused with a coded error: fine
  }
  semvec_fuzz::exercise(*ix);
  return 0;
}
