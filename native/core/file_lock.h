// Advisory whole-file locks (flock(2)): a lock belongs to one open file
// description, so a second lock on the same file conflicts whether it comes
// from another process or from this one; closing the descriptor, or the
// death of the process, releases it. Collections use an exclusive lock for
// their one writer.
#pragma once

#include <string>

namespace semvec {

class FileLock {
 public:
  // Tries to lock `path` (created if missing), without waiting. Returns the
  // descriptor holding the lock, or -1 when another holder conflicts.
  // Throws Error(Io) when the file cannot be opened or locked otherwise.
  static int try_lock(const std::string& path, bool exclusive);
  // Releases a lock taken by try_lock (closes its descriptor).
  static void unlock(int fd);
};

}  // namespace semvec
