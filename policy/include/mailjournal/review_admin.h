// The supervision review's admin-protocol operations (mailjournald(8), "ADMIN SOCKET
// PROTOCOL"; mailjournal-review(8)):
//   review_queue  the supervised messages (flagged or sampled) of the departments where the
//                 caller has "review", by default those not reviewed yet: highest severity
//                 first (a message only sampled has none and comes after "low"), then oldest
//                 first; filters "status" (unreviewed, reviewed, escalated, closed, any),
//                 "department", "severity" (the least); paged with "limit" and "after"
//   review_mark   appends a review entry: "seq", "status" (reviewed, escalated, closed),
//                 optional "note", sealed to the keys of the message's departments and the
//                 escrow keys of the policy in force
//   tag           appends a tag entry: "seq", "action" (add, remove), "tag"
//   review_show   one message's review state and its review and tag entries
// Each needs the "review" grant on at least one of the departments of the message concerned
// (review_queue lists only such messages). Decisions and tags of one handler are serialised,
// so that a tag's presence is checked against the entries before it.
#ifndef MAILJOURNAL_REVIEW_ADMIN_H_
#define MAILJOURNAL_REVIEW_ADMIN_H_

#include <cstddef>
#include <string>

#include "mailjournal/admin_protocol.h"
#include "mailjournal/policy_holder.h"

namespace mailjournal {

// The largest review note, in bytes of UTF-8.
constexpr size_t kMaxReviewNoteBytes = 64 * 1024;
// The longest tag; a tag is 1 to kMaxTagLength characters of A-Z a-z 0-9 . _ -
constexpr size_t kMaxTagLength = 64;

// OK when `tag` is a valid tag name, else InvalidArgument saying why.
Status CheckTagName(const std::string& tag);

// REQUIRES: journal and holder outlive handler.
void AddReviewOperations(Journal* journal, const PolicyHolder* holder, AdminHandler* handler);

}  // namespace mailjournal

#endif  // MAILJOURNAL_REVIEW_ADMIN_H_
