// Fuzz target: a collection snapshot, loaded as the collection layer loads
// it: from a file, as a flat index, then as an IVF index if the file holds
// another kind (src/collection/client.ts). What loads is searched, saved
// back to the same path (an atomic save over the snapshot) and loaded again.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "fuzz_common.h"

namespace {

std::string snapshot_path() {
  // tmpfs where there is one: a save fsyncs.
  const char* base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(base) + "/semvec-fuzz-snapshot-" + std::to_string(::getpid()) + ".svx";
}

template <typename Index>
void save_and_reload(const Index& ix, const std::string& path) {
  ix.save(path);
  auto back = Index::load(path);
  if (semvec_fuzz::bytes_of(*back) != semvec_fuzz::bytes_of(ix)) semvec_fuzz::finding("snapshot: save/load differs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = snapshot_path();
  const std::vector<uint8_t> file = semvec_fuzz::as_file(data, size);
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    if (!file.empty()) std::fwrite(file.data(), 1, file.size(), f);
    std::fclose(f);
  } else {
    return 0;
  }
  try {
    try {
      auto flat = semvec::FlatIndex::load(path);
      semvec_fuzz::exercise(*flat);
      save_and_reload(*flat, path);
    } catch (const semvec::Error& e) {
      if (e.code() != semvec::ErrorCode::WrongKind) throw;
      auto ivf = semvec::IvfIndex::load(path);
      semvec_fuzz::exercise(*ivf);
      save_and_reload(*ivf, path);
    }
  } catch (const semvec::Error&) {
    // refused with a coded error: fine
  }
  std::remove(path.c_str());
  return 0;
}
