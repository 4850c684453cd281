/* slow_sync.so: an LD_PRELOAD shim that makes syncs slow, for tests/e2e/test_slowdisk.py.
 *
 * It wraps fsync(2), fdatasync(2) and sync_file_range(2) (libleveldb 1.23 calls fdatasync for
 * its log, tables, MANIFEST and directory, mailjournald fsync for checkpoint copies; nothing
 * calls msync: LevelDB maps table files read-only).  For a file descriptor whose path
 * (readlink of /proc/self/fd/N) starts with MJ_SLOW_SYNC_PREFIX, the call waits until the
 * latency has passed since it was made, then runs the real call (so the data is durable only
 * when the call returns, as on a slow device).  The latency, in milliseconds, is read from the
 * file named by MJ_SLOW_SYNC_CONTROL while the call waits (about every 10 ms): a missing,
 * empty or unreadable file, or 0, means no delay, and lowering it releases waiting calls.
 * Without MJ_SLOW_SYNC_PREFIX or MJ_SLOW_SYNC_CONTROL every call passes through untouched.
 *
 * With MJ_SLOW_SYNC_LOG, each call on a file under the prefix appends one line to that file
 * (opened O_APPEND for every line, one write(2) each: lines of concurrent calls never mix):
 *     sync START_NS END_NS DELAY_MS RC FUNCTION PATH
 * START_NS when the call was made, END_NS when the real call returned (CLOCK_MONOTONIC, the
 * clock of Python's time.monotonic()), DELAY_MS the latency in force when the call was made,
 * RC the real call's return value.  The log file must be writable by the process after it
 * drops privileges.
 *
 * Not a product hook: the daemon does not know about it.  Built by tests/CMakeLists.txt.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "control_file.h"

typedef int (*fd_fn)(int);
typedef int (*sfr_fn)(int, off64_t, off64_t, unsigned int);

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The latency in ms from the control file; 0 when it is missing, empty or not a number. */
static long read_delay_ms(const char* control) {
  long long ms = read_control_number(control);
  return ms < 0 || ms > LONG_MAX ? 0 : (long)ms;
}

/* Whether fd names a file under the prefix; its path goes to path. */
static int watched(int fd, const char* prefix, char* path, size_t size) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, size - 1);
  if (n < 0) return 0;
  path[n] = '\0';
  return strncmp(path, prefix, strlen(prefix)) == 0;
}

/* Waits until the latency (re-read every 10 ms) has passed since start; returns the latency
 * read first, the one in force when the call was made. */
static long wait_latency(const char* control, int64_t start) {
  long first = -1;
  for (;;) {
    long ms = read_delay_ms(control);
    if (first < 0) first = ms;
    int64_t left = start + (int64_t)ms * 1000000 - now_ns();
    if (left <= 0) return first;
    if (left > 10000000) left = 10000000;
    struct timespec ts = {0, (long)left};
    nanosleep(&ts, NULL);
  }
}

static void log_sync(int64_t start, int64_t end, long ms, int rc, const char* fn,
                     const char* path) {
  const char* log = getenv("MJ_SLOW_SYNC_LOG");
  if (log == NULL || *log == '\0') return;
  char line[PATH_MAX + 160];
  int n = snprintf(line, sizeof line, "sync %lld %lld %ld %d %s %s\n", (long long)start,
                   (long long)end, ms, rc, fn, path);
  if (n <= 0) return;
  if ((size_t)n >= sizeof line) n = sizeof line - 1;
  int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return;
  ssize_t ignored = write(fd, line, (size_t)n);
  (void)ignored;
  close(fd);
}

/* Runs call(fd, ...) through the latency when fd is under the prefix. */
#define SLOW(fn_name, real_call)                                      \
  do {                                                                \
    const char* prefix = getenv("MJ_SLOW_SYNC_PREFIX");               \
    const char* control = getenv("MJ_SLOW_SYNC_CONTROL");             \
    char path[PATH_MAX];                                              \
    if (prefix == NULL || *prefix == '\0' || control == NULL ||       \
        !watched(fd, prefix, path, sizeof path)) {                    \
      return real_call;                                               \
    }                                                                 \
    int saved = errno;                                                \
    int64_t start = now_ns();                                         \
    long ms = wait_latency(control, start);                           \
    errno = saved;                                                    \
    int rc = real_call;                                               \
    saved = errno;                                                    \
    log_sync(start, now_ns(), ms, rc, fn_name, path);                 \
    errno = saved;                                                    \
    return rc;                                                        \
  } while (0)

/* The next definition of name (libc's), looked up once per function; threads racing on the
 * first call store the same pointer. */
static void* next(void** cache, const char* name) {
  void* f = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
  if (f != NULL) return f;
  f = dlsym(RTLD_NEXT, name);
  if (f == NULL) {
    fprintf(stderr, "slow_sync: dlsym(%s): %s\n", name, dlerror());
    abort();
  }
  __atomic_store_n(cache, f, __ATOMIC_RELEASE);
  return f;
}

int fsync(int fd) {
  static void* cache;
  fd_fn real = (fd_fn)next(&cache, "fsync");
  SLOW("fsync", real(fd));
}

int fdatasync(int fd) {
  static void* cache;
  fd_fn real = (fd_fn)next(&cache, "fdatasync");
  SLOW("fdatasync", real(fd));
}

int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags) {
  static void* cache;
  sfr_fn real = (sfr_fn)next(&cache, "sync_file_range");
  SLOW("sync_file_range", real(fd, offset, nbytes, flags));
}
