#include "mailjournal/policy_admin.h"

#include <time.h>

#include <map>

#include "mailjournal/time_util.h"

namespace mailjournal {

using nlohmann::json;

namespace {

Status Show(PolicyHolder* holder, ResponseWriter* out) {
  std::shared_ptr<const Policy> policy = holder->Active();
  if (policy == nullptr) return AnswerError(NoPolicyInForce(), out);
  json files = json::array();
  for (const PolicyFile& f : policy->files()) {
    files.push_back({{"path", f.path}, {"size", f.bytes.size()}, {"text", f.bytes}});
  }
  json keys = json::array();
  for (const PolicyKey& k : policy->Keys()) {
    keys.push_back({{"department", k.department},
                    {"escrow", k.department.empty()},
                    {"file", k.file},
                    {"fingerprint", DigestToJson(k.fingerprint)}});
  }
  json resp = OkResponse();
  resp["policy"] = {{"seq", holder->active_seq()},
                    {"digest", DigestToJson(policy->digest())},
                    {"keys", keys},
                    {"files", files}};
  return out->Header(resp);
}

Status Explain(PolicyHolder* holder, const json& request, ResponseWriter* out) {
  std::shared_ptr<const Policy> policy = holder->Active();
  if (policy == nullptr) return AnswerError(NoPolicyInForce(), out);
  auto f = request.find("from");
  if (f != request.end() && !f->is_string()) {
    return AnswerError(Status::InvalidArgument("from: expected a string"), out);
  }
  std::string from = f == request.end() ? "" : f->get<std::string>();
  std::vector<std::string> rcpts;
  auto r = request.find("rcpt");
  if (r != request.end()) {
    if (!r->is_array()) return AnswerError(Status::InvalidArgument("rcpt: expected an array"), out);
    for (const auto& a : *r) {
      if (!a.is_string()) {
        return AnswerError(Status::InvalidArgument("rcpt: expected strings"), out);
      }
      rcpts.push_back(a.get<std::string>());
    }
  }
  int64_t when = NowMicros();
  std::string time = request.value("time", "");
  if (!time.empty()) {
    Status s = ParseTime(time, &when);
    if (!s.ok()) return AnswerError(s, out);
  }
  json resp = OkResponse();
  resp["explain"] = ExplainJson(*policy, from, rcpts, when);
  resp["explain"]["policy_seq"] = holder->active_seq();
  return out->Header(resp);
}

Status Reload(PolicyHolder* holder, const PolicyReloader& reload, ResponseWriter* out) {
  std::vector<PolicyError> errors;
  uint64_t seq = 0;
  Status s = reload(&errors, &seq);
  if (!s.ok()) {
    json resp = ErrorResponse(s);
    resp["error"]["errors"] = PolicyErrorsJson(errors);
    return out->Header(resp);
  }
  json resp = OkResponse();
  resp["policy"] = {{"seq", seq}, {"digest", DigestToJson(holder->Active()->digest())}};
  return out->Header(resp);
}

json MatchJson(const AddressMatch& m) {
  return {{"address", m.address},
          {"normalised", m.normalised},
          {"departments", m.departments},
          {"rule", m.rule},
          {"where", m.where}};
}

}  // namespace

json PolicyErrorsJson(const std::vector<PolicyError>& errors) {
  json out = json::array();
  for (const PolicyError& e : errors) {
    out.push_back({{"file", e.file},
                   {"line", e.line},
                   {"column", e.column},
                   {"message", e.message},
                   {"text", e.ToString()}});
  }
  return out;
}

json ExplainJson(const Policy& policy, const std::string& from,
                 const std::vector<std::string>& rcpts, int64_t capture_us) {
  Decision d = policy.Classify(from, rcpts, capture_us);
  json sender = MatchJson(d.matches.front());
  json recipients = json::array();
  for (size_t i = 1; i < d.matches.size(); ++i) recipients.push_back(MatchJson(d.matches[i]));
  json holds = json::array();
  for (const Hold* h : policy.HoldsCovering(d, capture_us, 0)) {
    holds.push_back({{"case", h->case_id}, {"reason", h->reason}, {"placed_by", h->placed_by}});
  }
  json fingerprints = json::array();
  for (const std::string& key : d.keys) {
    const Sha256Digest* f = policy.KeyFingerprint(key);
    fingerprints.push_back(f ? DigestToJson(*f) : json(""));
  }
  // Supervision: the lexicons of the departments, sorted by name, and the sample rate.
  std::map<std::string, Severity> lexicons;
  for (const std::string& name : d.departments) {
    const Department* dept = policy.FindDepartment(name);
    if (dept == nullptr) continue;
    for (const std::string& l : dept->lexicons) {
      if (const Lexicon* lexicon = policy.FindLexicon(l)) lexicons[l] = lexicon->severity;
    }
  }
  json supervision = json::array();
  for (const auto& [name, severity] : lexicons) {
    supervision.push_back({{"lexicon", name}, {"severity", SeverityName(severity)}});
  }
  CaptureVerdict verdict = policy.InScope(d);
  json capture = {{"scope", DescribeCapture(policy.capture())},
                  {"captured", verdict.captured},
                  {"entry", verdict.entry ? verdict.entry->text : ""},
                  {"where", verdict.entry ? verdict.entry->where : ""},
                  {"reason", verdict.reason}};
  return {{"policy", DigestToJson(policy.digest())},
          {"time", FormatTimeUtc(capture_us)},
          {"from", sender},
          {"rcpt", recipients},
          {"departments", d.departments},
          {"retention", d.retention},
          {"retain_until", FormatTimeUtc(d.retain_until_us)},
          {"keys", d.keys},
          {"key_fingerprints", fingerprints},
          {"index", d.index},
          {"lexicons", supervision},
          {"sample", d.sample},
          {"holds", holds},
          {"capture", capture}};
}

void AddPolicyOperations(PolicyHolder* holder, PolicyReloader reload, AdminHandler* handler) {
  handler->AddOperation(
      "policy_show", "policy",
      [holder](const json&, AdminCall*, ResponseWriter* out) { return Show(holder, out); });
  handler->AddOperation("policy_explain", "policy",
                        [holder](const json& request, AdminCall*, ResponseWriter* out) {
                          return Explain(holder, request, out);
                        });
  if (reload) {
    handler->AddOperation("policy_reload", "policy",
                          [holder, reload](const json&, AdminCall*, ResponseWriter* out) {
                            return Reload(holder, reload, out);
                          });
  }
}

}  // namespace mailjournal
