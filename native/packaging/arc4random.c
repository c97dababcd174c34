/*
 * arc4random for the prebuilt addon only (native/packaging/prebuild.mjs links
 * this object in front of a static libstdc++).
 *
 * libstdc++'s std::random_device calls arc4random when the C library has it;
 * glibc added it in 2.36. Defined here (hidden, so nothing outside the addon
 * sees it), the prebuilt binary runs on glibc 2.34 and later (the floor set by
 * the pthread symbols, which moved into libc in 2.34) instead of 2.36.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

__attribute__((visibility("hidden"))) uint32_t arc4random(void) {
  uint32_t value;
  for (;;) {
    ssize_t n = getrandom(&value, sizeof value, 0);
    if (n == (ssize_t)sizeof value) return value;
    if (n < 0 && errno != EINTR) break;  /* ENOSYS on kernels before 3.17 */
  }
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, &value, sizeof value);
    close(fd);
    if (n == (ssize_t)sizeof value) return value;
  }
  /* Last resort (only seeds temporary file names): the clock, mixed. */
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t x = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
  x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33;
  return (uint32_t)x;
}
