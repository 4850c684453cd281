#include "mailjournal/retention_admin.h"

#include "mailjournal/time_util.h"

namespace mailjournal {

using nlohmann::json;

namespace {

// The "hold" grant a scope needs: on each department it names, or on all when it names none.
Status CheckHoldGrant(const AdminCall& call, const HoldScope& scope, const std::string& what) {
  const Permissions& may = *call.permissions;
  if (scope.departments.empty()) {
    if (!may.AllowsAll("hold")) {
      return call.Refuse(what + " not limited to departments (it would cover every department)");
    }
    return Status::OK();
  }
  for (const std::string& d : scope.departments) {
    if (!may.Allows("hold", d)) return call.Refuse(what + " on department " + d);
  }
  return Status::OK();
}

Status ParseScope(const Policy& policy, const json& request, HoldScope* scope) {
  std::vector<std::string> addresses, seqs;
  std::string since, until;
  Status s = RequestStrings(request, "departments", &scope->departments);
  if (s.ok()) s = RequestStrings(request, "addresses", &addresses);
  if (s.ok()) s = RequestString(request, "since", &since);
  if (s.ok()) s = RequestString(request, "until", &until);
  if (s.ok() && !since.empty()) s = ParseTime(since, &scope->since_us);
  if (s.ok() && !until.empty()) s = ParseTime(until, &scope->until_us);
  if (!s.ok()) return s;
  for (const std::string& d : scope->departments) {
    if (policy.FindDepartment(d) == nullptr) {
      return Status::InvalidArgument("department '" + d + "': not in the policy in force");
    }
  }
  for (const std::string& a : addresses) {
    std::string n = policy.Normalise(a);
    if (n.find('@') == std::string::npos || n.front() == '@' || n.back() == '@') {
      return Status::InvalidArgument("address '" + a + "': expected local@domain");
    }
    scope->addresses.push_back(n);
  }
  auto ranges = request.find("seqs");
  if (ranges != request.end() && !ranges->is_null()) {
    Status bad =
        Status::InvalidArgument("seqs: expected [[first,last],...] with 1 <= first <= last");
    if (!ranges->is_array()) return bad;
    for (const json& r : *ranges) {
      if (!r.is_array() || r.size() != 2 || !r[0].is_number_unsigned() ||
          !r[1].is_number_unsigned() || r[0].get<uint64_t>() == 0 ||
          r[1].get<uint64_t>() < r[0].get<uint64_t>()) {
        return bad;
      }
      scope->seqs.emplace_back(r[0].get<uint64_t>(), r[1].get<uint64_t>());
    }
  }
  return Status::OK();
}

json HoldJson(const HoldInForce& h) {
  json out{{"case", h.case_id},
           {"reason", h.reason},
           {"placed_by", h.placed_by},
           {"source", h.from_policy ? "policy" : "journal"},
           {"seq", h.seq},
           {"scope", HoldScopeToJson(h.scope)}};
  if (!h.from_policy) out["time"] = FormatTimeUtc(h.time_us);
  return out;
}

Status HoldAdd(Retention* retention, PolicyHolder* holder, const json& request, AdminCall* call,
               ResponseWriter* out) {
  std::shared_ptr<const Policy> policy = holder->Active();
  if (policy == nullptr) return AnswerError(NoPolicyInForce(), out);
  HoldEntry hold;
  hold.actor = call->caller.actor();
  Status s = RequestString(request, "case", &hold.case_id);
  if (s.ok()) s = RequestString(request, "reason", &hold.reason);
  if (s.ok()) s = ParseScope(*policy, request, &hold.scope);
  if (s.ok()) s = CheckHoldGrant(*call, hold.scope, "place a hold");
  uint64_t seq = 0;
  if (s.ok()) s = retention->PlaceHold(std::move(hold), &seq);
  if (!s.ok()) return AnswerError(s, out);
  call->returned.push_back(seq);
  json resp = OkResponse();
  resp["seq"] = seq;
  return out->Header(resp);
}

Status HoldRelease(Retention* retention, const json& request, AdminCall* call,
                   ResponseWriter* out) {
  std::string case_id, reason;
  Status s = RequestString(request, "case", &case_id);
  if (s.ok()) s = RequestString(request, "reason", &reason);
  HoldInForce hold;
  if (s.ok() && retention->FindHold(case_id, &hold)) {
    s = CheckHoldGrant(*call, hold.scope, "release hold " + case_id);
  }
  uint64_t seq = 0;
  if (s.ok()) s = retention->ReleaseHold(case_id, reason, call->caller.actor(), &seq);
  if (!s.ok()) return AnswerError(s, out);
  call->returned.push_back(seq);
  json resp = OkResponse();
  resp["seq"] = seq;
  return out->Header(resp);
}

Status HoldList(Retention* retention, AdminCall* call, ResponseWriter* out) {
  const Permissions& may = *call->permissions;
  if (!may.AllowsSome("hold") && !may.AllowsSome("audit")) {
    return AnswerError(call->Refuse("list the holds"), out);
  }
  json holds = json::array();
  for (const HoldInForce& h : retention->Holds()) {
    holds.push_back(HoldJson(h));
    if (!h.from_policy) call->returned.push_back(h.seq);
  }
  json resp = OkResponse();
  resp["holds"] = holds;
  return out->Header(resp);
}

Status Purge(Retention* retention, const json& request, AdminCall* call, ResponseWriter* out) {
  const Permissions& may = *call->permissions;
  if (!may.AllowsSome("purge")) return AnswerError(call->Refuse("purge messages"), out);
  PurgeOptions options;
  Status s = RequestBool(request, "dry_run", &options.dry_run);
  if (s.ok()) s = RequestUnsigned(request, "limit", &options.limit);
  if (!s.ok()) return AnswerError(s, out);
  options.actor = call->caller.actor();
  if (!may.AllowsAll("purge")) {
    options.permitted = [&may](const MessageEntry& m) {
      for (const std::string& d : m.classification.departments) {
        if (!may.Allows("purge", d)) return false;
      }
      return true;
    };
  }
  PurgeReport r;
  s = retention->Purge(options, &r);
  if (!s.ok()) return AnswerError(s, out);
  for (const auto& [a, b] : r.entry_seqs) {
    for (uint64_t seq = a; seq <= b; ++seq) call->returned.push_back(seq);
  }
  json held_by = json::object();
  for (const auto& [c, n] : r.held_by) held_by[c] = n;
  json resp = OkResponse();
  resp["report"] = {{"dry_run", options.dry_run},
                    {"expired", r.expired},
                    {"disposed", r.disposed},
                    {"held", r.held},
                    {"not_permitted", r.not_permitted},
                    {"held_by", held_by},
                    {"messages", RangesToJson(r.disposed_seqs)},
                    {"entries", RangesToJson(r.entry_seqs)}};
  return out->Header(resp);
}

}  // namespace

void AddRetentionOperations(Retention* retention, PolicyHolder* holder, AdminHandler* handler) {
  handler->AddOperation(
      "hold_add", "hold",
      [retention, holder](const json& request, AdminCall* call, ResponseWriter* out) {
        return HoldAdd(retention, holder, request, call, out);
      });
  handler->AddOperation("hold_release", "hold",
                        [retention](const json& request, AdminCall* call, ResponseWriter* out) {
                          return HoldRelease(retention, request, call, out);
                        });
  handler->AddOperation("hold_list", "",
                        [retention](const json&, AdminCall* call, ResponseWriter* out) {
                          return HoldList(retention, call, out);
                        });
  handler->AddOperation("purge", "purge",
                        [retention](const json& request, AdminCall* call, ResponseWriter* out) {
                          return Purge(retention, request, call, out);
                        });
}

}  // namespace mailjournal
