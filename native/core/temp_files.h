// Temporary files of atomic saves. A save writes `<path>.tmp-<pid>-<random>`
// beside its target and renames it into place; a writer that is killed
// mid-save leaves that file behind. remove_stale_temp_files() removes such
// leftovers of one target: files named exactly so, regular files, whose
// writer process no longer exists (kill(pid, 0) fails with ESRCH) and that
// nobody has written to for kStaleTempSeconds. A live writer's file is
// never removed: its pid exists (in this pid namespace), and a writer in
// another namespace or on another host sharing the directory keeps its
// file's modification time fresh while it writes.
#pragma once

#include <cstddef>
#include <string>

namespace semvec {

// Age (since the last write) after which a dead writer's file is removed.
constexpr double kStaleTempSeconds = 60.0;

// A fresh temporary name for a save of `path`: `<path>.tmp-<pid>-<random>`.
std::string temp_path_for(const std::string& path);

// Removes the stale temporary files of `path`; returns how many. Best
// effort: never throws, and leaves alone anything it cannot check.
size_t remove_stale_temp_files(const std::string& path, double min_age_seconds = kStaleTempSeconds);

}  // namespace semvec
