// Logging for mailjournald: syslog (facility mail) or, with --foreground, standard error.
// Thread-safe. Priorities are syslog's (LOG_INFO, LOG_WARNING, LOG_ERR, ...).
#ifndef MAILJOURNAL_MILTER_LOG_H_
#define MAILJOURNAL_MILTER_LOG_H_

#include <syslog.h>

namespace mailjournal {

// REQUIRES: called once, before any thread logs.
void LogInit(const char* ident, bool to_stderr);

void Log(int priority, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_LOG_H_
