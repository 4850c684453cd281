// Time stamps as the journal shows them: ISO 8601, UTC. Thread-safe.
#ifndef MAILJOURNAL_TIME_UTIL_H_
#define MAILJOURNAL_TIME_UTIL_H_

#include <cstdint>
#include <string>

#include "mailjournal/status.h"

namespace mailjournal {

// The current time (CLOCK_REALTIME), microseconds since the epoch.
int64_t NowMicros();

// "2026-11-27T10:00:00.123456Z" for microseconds since the epoch.
std::string FormatTimeUtc(int64_t time_us);

// Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.frac]]" followed by "Z", "+HH:MM", "-HH:MM"
// or nothing (UTC). A space may stand for the "T". On success sets *time_us; otherwise
// returns InvalidArgument naming the text.
Status ParseTime(const std::string& text, int64_t* time_us);

// asctime-style UTC time for mbox "From " lines: "Fri Nov 27 10:00:00 2026".
std::string FormatAsctimeUtc(int64_t time_us);

}  // namespace mailjournal

#endif  // MAILJOURNAL_TIME_UTIL_H_
