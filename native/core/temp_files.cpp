#include "temp_files.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <random>

namespace semvec {

namespace {

constexpr char kTempInfix[] = ".tmp-";

// Parses a run of decimal digits of s from i (at least one, at most 18);
// moves i past them.
bool parse_digits(const std::string& s, size_t& i, unsigned long long& out) {
  const size_t start = i;
  out = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 18) out = out * 10 + (s[i++] - '0');
  return i > start && (i == s.size() || s[i] < '0' || s[i] > '9');
}

// The writer pid of `name` if it is `<base>.tmp-<pid>-<random>`, else 0.
pid_t writer_of(const std::string& name, const std::string& base) {
  const std::string prefix = base + kTempInfix;
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return 0;
  size_t i = prefix.size();
  unsigned long long pid = 0, random = 0;
  if (!parse_digits(name, i, pid) || i >= name.size() || name[i] != '-') return 0;
  ++i;
  if (!parse_digits(name, i, random) || i != name.size()) return 0;
  if (pid == 0 || pid > static_cast<unsigned long long>(INT_MAX)) return 0;
  return static_cast<pid_t>(pid);
}

bool process_is_gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

}  // namespace

std::string temp_path_for(const std::string& path) {
  std::random_device rd;
  return path + kTempInfix + std::to_string(::getpid()) + "-" + std::to_string(rd());
}

size_t remove_stale_temp_files(const std::string& path, double min_age_seconds) {
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty()) return 0;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  const pid_t self = ::getpid();
  const double now = static_cast<double>(std::time(nullptr));
  size_t removed = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    const pid_t pid = writer_of(name, base);
    if (pid == 0 || pid == self || !process_is_gone(pid)) continue;
    const std::string full = dir + "/" + name;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (now - static_cast<double>(st.st_mtime) < min_age_seconds) continue;
    if (::unlink(full.c_str()) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

}  // namespace semvec
