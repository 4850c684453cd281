// Small helpers shared by the benchmarks in tests/bench.
#ifndef MAILJOURNAL_TESTS_BENCH_BENCH_UTIL_H_
#define MAILJOURNAL_TESTS_BENCH_BENCH_UTIL_H_

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mailjournal/status.h"

namespace mailjournal {
namespace bench {

// A decimal count of at least `min`; false for anything else.
inline bool ParseCount(const char* text, uint64_t min, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min) return false;
  *out = v;
  return true;
}

// Seconds on a monotonic clock.
inline double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Prints "PROGRAM: WHAT: STATUS" and exits 1.
[[noreturn]] inline void Die(const char* program, const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s: %s\n", program, what.c_str(), s.ToString().c_str());
  std::exit(1);
}

}  // namespace bench
}  // namespace mailjournal

#endif  // MAILJOURNAL_TESTS_BENCH_BENCH_UTIL_H_
