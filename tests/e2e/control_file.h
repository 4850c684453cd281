/* control_file.h: what the LD_PRELOAD shims of the e2e tests (slow_sync.c, fake_clock.c)
 * share: reading the number a test writes into a control file to steer them while the
 * daemon runs. Header-only: each shim is its own shared object.
 */
#ifndef MAILJOURNAL_TESTS_E2E_CONTROL_FILE_H_
#define MAILJOURNAL_TESTS_E2E_CONTROL_FILE_H_

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* The decimal integer at the start of the file `path`; 0 when the file is missing, empty,
 * unreadable or does not start with a number. Read afresh at every call. */
static long long read_control_number(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[32];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char* end = NULL;
  long long v = strtoll(buf, &end, 10);
  return end == buf ? 0 : v;
}

#endif /* MAILJOURNAL_TESTS_E2E_CONTROL_FILE_H_ */
