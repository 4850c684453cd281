#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <mutex>

namespace mailjournal {

namespace {
bool g_stderr = false;
const char* g_ident = "mailjournald";
std::mutex g_mu;
}  // namespace

void LogInit(const char* ident, bool to_stderr) {
  g_ident = ident;
  g_stderr = to_stderr;
  if (!to_stderr) openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void Log(int priority, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  if (g_stderr) {
    char line[4096];
    vsnprintf(line, sizeof line, format, ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::lock_guard<std::mutex> l(g_mu);
    fprintf(stderr, "%s.%03ldZ %s: %s\n", stamp, ts.tv_nsec / 1000000, g_ident, line);
    fflush(stderr);
  } else {
    vsyslog(priority, format, ap);
  }
  va_end(ap);
}

}  // namespace mailjournal
