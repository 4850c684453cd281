// The decisions of shipping segments to S3 that depend on nothing but their inputs
// (mailjournald(8), SHIPPING TO S3), apart from the shipper that acts on them (shipper.h):
// which entries to ship next, the Object Lock retain-until date of an object, and how long
// to wait before trying again after a failure. Plain functions; thread-safe.
#ifndef MAILJOURNAL_MILTER_SHIP_PLAN_H_
#define MAILJOURNAL_MILTER_SHIP_PLAN_H_

#include <cstdint>
#include <vector>

#include "mailjournal/segment.h"

namespace mailjournal {

// The shortest retention an object gets: one day after it is shipped. A COMPLIANCE
// retention must lie in the future, and a segment's messages may be past theirs already.
constexpr int64_t kMinimumShipRetentionUs = 86400LL * 1000000;
// The latest date an object's retention is set to (9999-12-31T23:59:59Z): S3 dates have
// four-digit years, and a policy may retain "for ever" (the largest date it can hold).
constexpr int64_t kLatestShipRetainUntilUs = 253402300799LL * 1000000;

// The next entries to ship when entries 1..shipped_through are shipped: the first range
// of `ranges` (ListSegments, in order) that ends after shipped_through, started at
// shipped_through + 1. The start differs from the range's only when the cut changed since
// the last shipment (segment_entries, segment_seconds); starting where the shipped ones
// end keeps the shipped objects without gap or overlap. False when there is none.
bool NextShipRange(const std::vector<SegmentRange>& ranges, uint64_t shipped_through,
                   uint64_t* first, uint64_t* last);

// The retain-until date of a shipped segment, rounded up to a whole second (S3 keeps
// seconds): the latest retain-until of its messages (`messages_retain_until_us`, from its
// manifest; INT64_MIN when it holds no message), or, for a segment without messages, the
// latest retain-until of the segments shipped before it (`previous_retain_until_us`, 0 for
// none), so that the entries between messages are kept as long as the messages around
// them; in both cases at least kMinimumShipRetentionUs after `now_us` and at most
// kLatestShipRetainUntilUs.
int64_t ShipRetainUntil(int64_t messages_retain_until_us, int64_t previous_retain_until_us,
                        int64_t now_us);

// Seconds to wait before the next attempt after `failures` (>= 1) failures in a row:
// after a transient failure (S3 unreachable or overloaded) 1 s, doubling each time up to
// 300 s; after any other failure (refused, misconfigured, the journal unreadable) 300 s,
// as the operator must act first.
int ShipRetryDelaySeconds(int failures, bool transient);

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_SHIP_PLAN_H_
