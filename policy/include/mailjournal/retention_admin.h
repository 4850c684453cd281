// The retention's admin-protocol operations (mailjournald(8), "ADMIN SOCKET PROTOCOL"):
//   hold_add      place a legal hold: case, reason, and scope criteria
//   hold_release  release a hold placed with hold_add: case, reason
//   hold_list     the holds in force, the policy's and the journal's
//   purge         dispose of expired messages no hold covers (dry_run, limit)
// Placing or releasing a hold needs the "hold" grant on every department its scope names,
// or on all departments when it names none; purge disposes only of messages all of whose
// departments the caller may purge.
#ifndef MAILJOURNAL_RETENTION_ADMIN_H_
#define MAILJOURNAL_RETENTION_ADMIN_H_

#include "mailjournal/admin_protocol.h"
#include "mailjournal/retention.h"

namespace mailjournal {

// REQUIRES: retention and holder outlive handler.
void AddRetentionOperations(Retention* retention, PolicyHolder* holder, AdminHandler* handler);

}  // namespace mailjournal

#endif  // MAILJOURNAL_RETENTION_ADMIN_H_
