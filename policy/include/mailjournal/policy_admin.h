// The policy's admin-protocol operations (mailjournald(8), "ADMIN SOCKET PROTOCOL"):
//   policy_show     the active policy: its entry's seq, digest and files
//   policy_explain  how the active policy classifies a message (from, rcpt, time)
//   policy_reload   load the policy file again (daemon only)
#ifndef MAILJOURNAL_POLICY_ADMIN_H_
#define MAILJOURNAL_POLICY_ADMIN_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mailjournal/admin_protocol.h"
#include "mailjournal/policy.h"
#include "mailjournal/policy_holder.h"

namespace mailjournal {

// Reloads the policy file (and logs the outcome); as PolicyHolder::Load.
using PolicyReloader = std::function<Status(std::vector<PolicyError>* errors, uint64_t* seq)>;

// REQUIRES: holder outlives the handler. A null `reload` leaves policy_reload out (offline
// tools cannot reload the daemon's policy).
void AddPolicyOperations(PolicyHolder* holder, PolicyReloader reload, AdminHandler* handler);

// What "policy explain" reports for a message from `from` to `rcpts` captured at
// `capture_us`: every address's departments and matching rule, the merged departments,
// retention, retain-until, keys, the holds that would cover it, and whether it would be
// journaled at all ("capture": scope, captured, entry, where, reason; Policy::InScope).
nlohmann::json ExplainJson(const Policy& policy, const std::string& from,
                           const std::vector<std::string>& rcpts, int64_t capture_us);

// {"file":..,"line":..,"column":..,"message":..,"text":"FILE:LINE:COL: message"} per error.
nlohmann::json PolicyErrorsJson(const std::vector<PolicyError>& errors);

}  // namespace mailjournal

#endif  // MAILJOURNAL_POLICY_ADMIN_H_
