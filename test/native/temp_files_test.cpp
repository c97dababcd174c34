// Temporary files left by writers killed mid-save are removed by the next
// save or load of their target; nothing else is.
#include <dirent.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>

#include "file_util.h"
#include "flat_index.h"
#include "harness.h"
#include "ivf_index.h"
#include "temp_files.h"
#include "util.h"

using namespace semvec;

namespace {

// A pid that no process has: a child that has exited and been reaped.
// A pid no process can have: above the kernel's pid_max. (The pid of a child
// that has exited can be reused at once on a busy machine.)
pid_t dead_pid() {
  long max = 4194304;  // the largest pid_max Linux allows
  std::ifstream("/proc/sys/kernel/pid_max") >> max;
  return static_cast<pid_t>(max + 1);
}

void plant(const std::string& path, double age_seconds) {
  std::ofstream(path) << "partial index";
  struct timeval times[2];
  ::gettimeofday(&times[0], nullptr);
  times[0].tv_sec -= static_cast<time_t>(age_seconds);
  times[1] = times[0];
  ::utimes(path.c_str(), times);
}

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') out.insert(e->d_name);
  ::closedir(d);
  return out;
}

}  // namespace

TEST("temp files: stale temp files of dead writers go on the next save and load; live, fresh and foreign ones stay") {
  char tmpl[] = "/tmp/semvec-temp-files-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string path = dir + "/index.svx";
  const std::string dead = std::to_string(dead_pid()), self = std::to_string(::getpid());
  const std::string live = std::to_string(::getppid());
  const std::string stale = "index.svx.tmp-" + dead + "-123";
  const std::set<std::string> kept = {
      "index.svx.tmp-" + dead + "-456",  // too fresh: its writer may be in another pid namespace
      "index.svx.tmp-" + live + "-1",    // a live process
      "index.svx.tmp-" + self + "-2",    // this process: a concurrent save
      "other.svx.tmp-" + dead + "-3",    // another target
      "index.svx.tmp-" + dead + "-x3",   // not a name semvec writes
      "index.svx.tmp-" + dead,
      "index.svx.tmp--1-3",
      "index.svx.tmp-" + dead + "-3-4",
      "xindex.svx.tmp-" + dead + "-3",
  };
  plant(dir + "/" + stale, 120);
  // Fresh files are planted 1 s old, not 0: remove_stale_temp_files reads
  // the time in whole seconds from the coarse clock, which can still be in
  // the second before the one the fine clock stamped the file with.
  for (const std::string& k : kept) plant(dir + "/" + k, k == "index.svx.tmp-" + dead + "-456" ? 1 : 120);
  ::mkdir((dir + "/index.svx.tmp-" + dead + "-9").c_str(), 0755);  // not a regular file

  FlatIndex ix(3, Metric::L2);
  auto x = testutil::random_vectors(4, 3, 1);
  ix.add(x.data(), 4, nullptr);
  ix.save(path);
  std::set<std::string> want = kept;
  want.insert("index.svx");
  want.insert("index.svx.tmp-" + dead + "-9");
  CHECK(entries(dir) == want);

  // A load of the path cleans too, for either index kind.
  plant(dir + "/" + stale, 120);
  CHECK_EQ(FlatIndex::load(path)->size(), size_t(4));
  CHECK(entries(dir) == want);
  plant(dir + "/" + stale, 120);
  CHECK_THROWS_CODE(IvfIndex::load(path), ErrorCode::WrongKind);
  CHECK(entries(dir) == want);
  // A file younger than the threshold stays; with no threshold it goes
  // (with the fresh one planted above).
  plant(dir + "/" + stale, 1);
  CHECK_EQ(remove_stale_temp_files(path), size_t(0));
  CHECK_EQ(remove_stale_temp_files(path, 0), size_t(2));
  CHECK_EQ(remove_stale_temp_files(dir + "/missing-dir/x.svx"), size_t(0));

  for (const std::string& e : entries(dir)) {
    std::remove((dir + "/" + e).c_str());
    ::rmdir((dir + "/" + e).c_str());
  }
  ::rmdir(dir.c_str());
}

TEST("temp files: temp_path_for names a file beside the target with this process's pid") {
  const std::string t = temp_path_for("/a/b/index.svx");
  const std::string prefix = "/a/b/index.svx.tmp-" + std::to_string(::getpid()) + "-";
  CHECK(t.compare(0, prefix.size(), prefix) == 0);
  CHECK(t.size() > prefix.size());
  CHECK(temp_path_for("/a/b/index.svx") != t || temp_path_for("/a/b/index.svx") != t);
}
