#include "mailjournal/audit_admin.h"

#include "mailjournal/time_util.h"

namespace mailjournal {

using nlohmann::json;

namespace {

struct AuditQuery {
  EntryWindow window;
  std::string user;  // a name, or a uid in digits
  std::string operation;
  uint64_t seq = 0;  // entries about this entry; 0: any

  Status Parse(const json& req) {
    Status s = window.Parse(req);
    if (s.ok()) s = RequestString(req, "user", &user);
    if (s.ok()) s = RequestString(req, "operation", &operation);
    if (s.ok()) s = RequestUnsigned(req, "seq", &seq);
    return s;
  }

  bool Matches(const AccessEntry& a) const {
    if (!user.empty() && user != a.actor.user && user != std::to_string(a.actor.uid)) {
      return false;
    }
    if (!operation.empty() && operation != a.operation) return false;
    return seq == 0 || AccessConcerns(a, seq);
  }
};

Status Audit(Journal* journal, const json& request, AdminCall* call, ResponseWriter* out) {
  AuditQuery q;
  Status s = q.Parse(request);
  if (!s.ok()) return AnswerError(s, out);
  const EntryWindow& w = q.window;
  return AnswerEntryPage(
      w,
      [&](const Journal::Visitor& visit) {
        return journal->ScanKind(EntryKind::kAccess, w.ScanStart(), w.reverse, visit);
      },
      [&](uint64_t, const Entry& e) { return q.Matches(e.access); }, call, out);
}

}  // namespace

bool AccessConcerns(const AccessEntry& access, uint64_t seq) {
  for (const auto& [a, b] : access.seqs) {
    if (seq >= a && seq <= b) return true;
  }
  json args = json::parse(access.arguments, nullptr, false);
  if (!args.is_object()) return false;
  auto named = args.find("seq");
  if (named != args.end() && named->is_number_unsigned() && named->get<uint64_t>() == seq) {
    return true;
  }
  auto list = args.find("seqs");
  if (list != args.end() && list->is_array()) {
    for (const json& v : *list) {
      if (v.is_number_unsigned() && v.get<uint64_t>() == seq) return true;
      if (v.is_array() && v.size() == 2 && v[0].is_number_unsigned() && v[1].is_number_unsigned() &&
          seq >= v[0].get<uint64_t>() && seq <= v[1].get<uint64_t>()) {
        return true;
      }
    }
  }
  return false;
}

void AddAuditOperations(Journal* journal, AdminHandler* handler) {
  handler->AddOperation("audit", "audit",
                        [journal](const json& request, AdminCall* call, ResponseWriter* out) {
                          return Audit(journal, request, call, out);
                        });
}

}  // namespace mailjournal
