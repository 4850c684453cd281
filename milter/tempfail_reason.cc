#include "tempfail_reason.h"

#include <cerrno>
#include <cstring>

namespace mailjournal {

const char* TempfailReasonName(TempfailReason reason) {
  switch (reason) {
    case TempfailReason::kShuttingDown:
      return "shutting_down";
    case TempfailReason::kMtaNotByteExact:
      return "mta_not_byte_exact";
    case TempfailReason::kNoPolicy:
      return "no_policy";
    case TempfailReason::kPolicyIncomplete:
      return "policy_incomplete";
    case TempfailReason::kSealFailed:
      return "seal_failed";
    case TempfailReason::kJournalWriteFailed:
      return "journal_write_failed";
    case TempfailReason::kCommitFailed:
      return "commit_failed";
    case TempfailReason::kDiskFull:
      return "disk_full";
    case TempfailReason::kInternalError:
      return "internal_error";
  }
  return "internal_error";
}

TempfailReason JournalFailureReason(const Status& failure, TempfailReason otherwise) {
  // LevelDB reports the operating system's error as strerror's text.
  if (failure.message().find(std::strerror(ENOSPC)) != std::string::npos) {
    return TempfailReason::kDiskFull;
  }
  return otherwise;
}

}  // namespace mailjournal
