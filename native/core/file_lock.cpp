#include "file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.h"

namespace semvec {

int FileLock::try_lock(const std::string& path, bool exclusive) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    throw Error(ErrorCode::Io, "cannot open the lock file '" + path + "': " + std::strerror(errno));
  int r;
  do {
    r = ::flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
  } while (r != 0 && errno == EINTR);
  if (r == 0) return fd;
  const int err = errno;
  ::close(fd);
  if (err == EWOULDBLOCK) return -1;
  throw Error(ErrorCode::Io, "cannot lock '" + path + "': " + std::strerror(err));
}

void FileLock::unlock(int fd) {
  if (fd >= 0) ::close(fd);
}

}  // namespace semvec
