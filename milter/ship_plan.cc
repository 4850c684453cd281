#include "ship_plan.h"

#include <algorithm>

namespace mailjournal {

namespace {
constexpr int kMaxRetryDelaySeconds = 300;
constexpr int64_t kSecondUs = 1000000;
}  // namespace

bool NextShipRange(const std::vector<SegmentRange>& ranges, uint64_t shipped_through,
                   uint64_t* first, uint64_t* last) {
  for (const SegmentRange& r : ranges) {
    if (r.last <= shipped_through) continue;
    *first = shipped_through + 1;
    *last = r.last;
    return true;
  }
  return false;
}

int64_t ShipRetainUntil(int64_t messages_retain_until_us, int64_t previous_retain_until_us,
                        int64_t now_us) {
  int64_t until =
      messages_retain_until_us != INT64_MIN ? messages_retain_until_us : previous_retain_until_us;
  until = std::max(until, now_us + kMinimumShipRetentionUs);
  until = std::min(until, kLatestShipRetainUntilUs);
  if (until % kSecondUs != 0) until += kSecondUs - until % kSecondUs;  // until > 0 here
  return until;
}

int ShipRetryDelaySeconds(int failures, bool transient) {
  if (!transient) return kMaxRetryDelaySeconds;
  int delay = 1;
  for (int i = 1; i < failures && delay < kMaxRetryDelaySeconds; ++i) delay *= 2;
  return std::min(delay, kMaxRetryDelaySeconds);
}

}  // namespace mailjournal
