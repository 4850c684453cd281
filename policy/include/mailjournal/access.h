// Access roles (mailjournal.yaml(5), ACCESS): what a caller of the admin protocol may do
// under the policy in force.
//
// A role applies to a caller whose user name it lists, or one of whose groups (the primary
// group and the supplementary groups the kernel reports for the connection) it lists by
// name. The caller gets the union of the operations and departments of the roles that
// apply. Root and the journal's owner (the daemon's user, which can read the journal's files
// anyway) are granted everything; their requests are audited like everyone else's.
//
// Thread-safety: the returned objects are immutable.
#ifndef MAILJOURNAL_ACCESS_H_
#define MAILJOURNAL_ACCESS_H_

#include <sys/types.h>

#include <memory>

#include "mailjournal/admin_protocol.h"
#include "mailjournal/policy.h"
#include "mailjournal/policy_holder.h"

namespace mailjournal {

// The caller's permissions under `policy` (null: no policy in force, nothing is granted
// except to root and `owner`).
std::shared_ptr<const Permissions> PermissionsUnder(const Policy* policy, const Caller& caller,
                                                    uid_t owner);

// Permissions from the roles of the policy active in `holder` when the request arrives.
// REQUIRES: holder outlives the source.
PermissionsSource RolePermissions(const PolicyHolder* holder, uid_t owner);

// The caller of the current process (the offline tool): its uid, gid, groups and name.
Caller ProcessCaller();

// Fills caller->user from the user database (left empty when the uid has no account).
void LookUpUserName(Caller* caller);

}  // namespace mailjournal

#endif  // MAILJOURNAL_ACCESS_H_
