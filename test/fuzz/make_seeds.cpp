// Writes small seed files for the fuzz targets: make_seeds <dir> writes
// <dir>/flat/*, <dir>/ivf_f32/*, <dir>/ivf_sq8/*, <dir>/graph/* (the snapshot and mapped
// targets use all three), each index in format 3 and in the older format
// of its kind (1.0, or 2.0 for sq8; names ending in -v1, -v2). Together
// with the golden files of test/fixtures they cover every kind, encoding,
// metric and format, empty and untrained indexes included.
#include <sys/stat.h>

#include <cstdio>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "../native/legacy_files.h"
#include "flat_index.h"
#include "graph_index.h"
#include "ivf_index.h"

using namespace semvec;

namespace {

void write_bytes(const std::vector<unsigned char>& b, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::fwrite(b.data(), 1, b.size(), f);
  std::fclose(f);
}

// The index in format 3 at path, and in its kind's older format beside it.
template <typename Index>
void write(const Index& ix, const std::string& path) {
  std::vector<unsigned char> b;
  ix.serialize([&](size_t size) {
    b.resize(size);
    return static_cast<void*>(b.data());
  });
  write_bytes(b, path);
  if constexpr (std::is_same_v<Index, FlatIndex>) {
    write_bytes(testutil::legacy_flat(b), path + "-v1");
  } else if constexpr (std::is_same_v<Index, GraphIndex>) {
    // format 3 only
  } else {
    write_bytes(testutil::legacy_ivf(b), path + (ix.encoding() == IvfEncoding::Sq8 ? "-v2" : "-v1"));
  }
}

std::vector<float> vectors(size_t n, size_t d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> x(n * d);
  for (float& v : x) v = g(rng);
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds <dir>\n");
    return 2;
  }
  const std::string dir = argv[1];
  for (const char* sub : {"", "/flat", "/ivf_f32", "/ivf_sq8", "/graph"}) ::mkdir((dir + sub).c_str(), 0755);
  const Metric metrics[] = {Metric::InnerProduct, Metric::Cosine, Metric::L2};
  unsigned seed = 1;
  for (Metric m : metrics)
    for (size_t d : {1, 3, 8})
      for (size_t n : {0, 1, 5, 20}) {
        FlatIndex ix(d, m);
        auto x = vectors(n, d, ++seed);
        std::vector<uint64_t> ids(n);
        for (size_t i = 0; i < n; ++i) ids[i] = 3 * i + (n % 2);
        ix.add(x.data(), n, n ? ids.data() : nullptr);
        write(ix, dir + "/flat/" + metric_name(m) + "-d" + std::to_string(d) + "-n" + std::to_string(n));
      }
  for (IvfEncoding e : {IvfEncoding::F32, IvfEncoding::Sq8}) {
    const std::string sub = dir + (e == IvfEncoding::F32 ? "/ivf_f32/" : "/ivf_sq8/");
    for (Metric m : metrics)
      for (size_t d : {2, 5})
        for (size_t nlist : {1, 3}) {
          IvfIndex untrained(d, m, nlist, 1, e, 7);
          write(untrained, sub + metric_name(m) + "-untrained-d" + std::to_string(d) + "-l" + std::to_string(nlist));
          for (size_t n : {size_t(0), size_t(12)}) {
            IvfIndex ix(d, m, nlist, nlist, e, 5);
            auto x = vectors(24, d, ++seed);
            ix.train(x.data(), 24, KMeansParams());
            ix.add(x.data(), n, nullptr);
            if (n > 2) {
              const uint64_t gone = 1;
              ix.remove(&gone, 1);
            }
            write(ix, sub + metric_name(m) + "-d" + std::to_string(d) + "-l" + std::to_string(nlist) + "-n" +
                          std::to_string(n));
          }
        }
  }
  // Graphs: small degrees keep the files under the fuzzer's length limit;
  // some hold tombstones.
  for (Metric m : metrics)
    for (size_t d : {1, 3, 8})
      for (size_t n : {0, 1, 5, 40}) {
        GraphParams p;
        p.degree = 4;
        p.build_ef = 8;
        GraphIndex ix(d, m, p);
        auto x = vectors(n, d, ++seed);
        ix.add(x.data(), n, nullptr);
        if (n == 40) {
          const uint64_t gone[] = {3, 7};
          ix.remove(gone, 2);
        }
        write(ix, dir + "/graph/" + metric_name(m) + "-d" + std::to_string(d) + "-n" + std::to_string(n));
        if (n > 0) {  // with a trained partition: format 5.0
          GraphSearchParams probe;
          probe.nprobe = 1;
          ix.search(x.data(), 1, 1, probe);
          write(ix, dir + "/graph/" + metric_name(m) + "-d" + std::to_string(d) + "-n" + std::to_string(n) + "-partition");
        }
      }
  return 0;
}
