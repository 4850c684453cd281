/* fake_clock.so: an LD_PRELOAD shim that moves the wall clock, for the retention tests
 * (tests/e2e/test_retention.py, tests/e2e/test_purge_load.py): retention periods are days
 * and years, so the tests make the daemon (and the tool) live in the future.
 *
 * It wraps clock_gettime(2) for CLOCK_REALTIME and CLOCK_REALTIME_COARSE, gettimeofday(2) and
 * time(2), adding the offset in seconds (a decimal integer, may be negative) read from the
 * file named by MJ_FAKE_CLOCK_FILE at every call: a test moves the clock by rewriting the
 * file. A missing, empty or unreadable file means no offset. Monotonic clocks are left alone,
 * so timeouts and condition variables behave. The file must be readable by the process after
 * it drops privileges.
 *
 * Not a product hook: the daemon does not know about it. Built by tests/CMakeLists.txt.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "control_file.h"

typedef int (*clock_gettime_fn)(clockid_t, struct timespec*);

static long long offset_seconds(void) {
  const char* file = getenv("MJ_FAKE_CLOCK_FILE");
  return file == NULL ? 0 : read_control_number(file);
}

static int real_clock_gettime(clockid_t id, struct timespec* ts) {
  static clock_gettime_fn real = NULL;
  if (real == NULL) real = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
  return real(id, ts);
}

int clock_gettime(clockid_t id, struct timespec* ts) {
  int rc = real_clock_gettime(id, ts);
  if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
    ts->tv_sec += offset_seconds();
  }
  return rc;
}

int gettimeofday(struct timeval* tv, void* tz) {
  (void)tz;
  struct timespec ts;
  int rc = clock_gettime(CLOCK_REALTIME, &ts);
  if (rc == 0) {
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  return rc;
}

time_t time(time_t* out) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (out != NULL) *out = ts.tv_sec;
  return ts.tv_sec;
}
