// The audit trail's admin operation (mailjournald(8), "ADMIN SOCKET PROTOCOL"):
//   audit  the access entries, and the review and tag entries (mailjournal-review(8): each
//          a reviewer's decision or tag), oldest first (newest first with "reverse"),
//          filtered by "since"/"until" (ISO 8601), "user" (name or uid), "operation" (a
//          review entry counts as "review_mark", a tag entry as "tag", the requests that
//          make them), and "seq": the entries about entry N (that returned it, or whose
//          arguments name it; the review and tag entries of message N); paged with
//          "after"/"before" and "limit" like "list". Needs the "audit" grant.
// Registered on the daemon's handler and the tool's offline one.
#ifndef MAILJOURNAL_AUDIT_ADMIN_H_
#define MAILJOURNAL_AUDIT_ADMIN_H_

#include "mailjournal/admin_protocol.h"
#include "mailjournal/journal.h"

namespace mailjournal {

// Whether an access entry is about entry `seq`: it returned it, or its arguments name it
// ("seq": N, or N among "seqs").
bool AccessConcerns(const AccessEntry& access, uint64_t seq);

// REQUIRES: journal outlives handler.
void AddAuditOperations(Journal* journal, AdminHandler* handler);

}  // namespace mailjournal

#endif  // MAILJOURNAL_AUDIT_ADMIN_H_
