// TempfailReason: why mailjournald answered a message with 451 4.3.0 (tempfail), as a
// stable name for the metrics' "reason" label and `mailjournal status` (mailjournald(8),
// METRICS). New reasons may be added; a name never changes meaning.
#ifndef MAILJOURNAL_MILTER_TEMPFAIL_REASON_H_
#define MAILJOURNAL_MILTER_TEMPFAIL_REASON_H_

#include <cstddef>

#include "mailjournal/status.h"

namespace mailjournal {

enum class TempfailReason {
  kShuttingDown,        // "shutting_down": the daemon is stopping, the journal is closed
  kMtaNotByteExact,     // "mta_not_byte_exact": the MTA did not negotiate SMFIP_HDR_LEADSPC
  kNoPolicy,            // "no_policy": no policy is in force
  kPolicyIncomplete,    // "policy_incomplete": no key or retention class for the message
  kSealFailed,          // "seal_failed": the message could not be sealed
  kJournalWriteFailed,  // "journal_write_failed": a transaction or chunk was not written
  kCommitFailed,        // "commit_failed": the message's synced commit failed
  kDiskFull,            // "disk_full": a journal write failed for lack of space
  kInternalError,       // "internal_error": an exception or a broken invariant
};
constexpr size_t kTempfailReasonCount = static_cast<size_t>(TempfailReason::kInternalError) + 1;

// The stable name ("commit_failed", ...).
const char* TempfailReasonName(TempfailReason reason);

// The reason for a failed journal write: kDiskFull when the error says the disk is full
// (ENOSPC), else `otherwise`.
TempfailReason JournalFailureReason(const Status& failure, TempfailReason otherwise);

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_TEMPFAIL_REASON_H_
