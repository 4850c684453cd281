// mailjournal policy check | explain | show | reload
#include <sysexits.h>
#include <time.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "commands.h"
#include "mailjournal/admin_protocol.h"
#include "mailjournal/policy.h"
#include "mailjournal/policy_admin.h"
#include "mailjournal/time_util.h"

namespace mailjournal {

using nlohmann::json;

namespace {

std::string MatchText(const json& m) {
  std::string who =
      m["address"].get<std::string>().empty() ? "<>" : m["address"].get<std::string>();
  std::string rule = m["rule"].get<std::string>();
  std::string why = rule == "default" ? "no rule matched"
                                      : "rule \"" + rule + "\" at " + m["where"].get<std::string>();
  return who + " -> " + JoinStrings(m["departments"], ", ") + " (" + why + ")";
}

void PrintExplain(const json& x) {
  PrintField("policy", x["policy"].get<std::string>() +
                           (x.contains("policy_seq")
                                ? " (entry " + std::to_string(x["policy_seq"].get<uint64_t>()) + ")"
                                : ""));
  PrintField("time", x["time"].get<std::string>());
  // Absent from a daemon older than the capture scope: such a daemon captures everything.
  const json& c = x.value("capture", json::object());
  if (c.contains("captured")) {
    PrintField("capture", std::string(c["captured"].get<bool>() ? "yes" : "NO, not journaled") +
                              ": " + c["reason"].get<std::string>());
  }
  PrintField("from", MatchText(x["from"]));
  for (const auto& r : x["rcpt"]) PrintField("rcpt", MatchText(r));
  PrintField("departments", JoinStrings(x["departments"], ", "));
  PrintField("retention", x["retention"].get<std::string>() + ", retain until " +
                              x["retain_until"].get<std::string>());
  for (size_t i = 0; i < x["keys"].size(); ++i) {
    PrintField("key", x["keys"][i].get<std::string>() + " (fingerprint " +
                          x["key_fingerprints"][i].get<std::string>() + ")");
  }
  PrintField("index", x["index"].get<bool>() ? "yes" : "no");
  std::string lexicons;
  for (const auto& l : x["lexicons"]) {
    lexicons += (lexicons.empty() ? "" : ", ") + l["lexicon"].get<std::string>() + " (" +
                l["severity"].get<std::string>() + ")";
  }
  PrintField("lexicons", lexicons.empty() ? "(none)" : lexicons);
  std::ostringstream sample;
  sample << x["sample"].get<double>() * 100 << "%";
  PrintField("sample", sample.str());
  if (x["holds"].empty()) PrintField("holds", "(none by department, address or date)");
  for (const auto& h : x["holds"]) {
    PrintField("hold", h["case"].get<std::string>() + ": " + h["reason"].get<std::string>() +
                           " (placed by " + h["placed_by"].get<std::string>() + ")");
  }
}

// Loads a policy file, printing its errors; returns EX_OK or EX_CONFIG.
int LoadOrReport(const std::string& file, std::shared_ptr<const Policy>* policy) {
  std::vector<PolicyError> errors;
  if (LoadPolicy(CanonicalPolicyPath(file), DiskFileReader(), policy, &errors)) return EX_OK;
  for (const PolicyError& e : errors) std::cerr << e.ToString() << "\n";
  return EX_CONFIG;
}

}  // namespace

int CmdPolicyCheck(const std::string& file, const std::string& format) {
  std::shared_ptr<const Policy> policy;
  std::vector<PolicyError> errors;
  bool ok = LoadPolicy(CanonicalPolicyPath(file), DiskFileReader(), &policy, &errors);
  if (format == "json") {
    json out{{"file", file}, {"ok", ok}, {"errors", PolicyErrorsJson(errors)}};
    if (ok) out["digest"] = DigestToJson(policy->digest());
    PrintJson(out);
  }
  if (!ok) {
    if (format != "json") {
      for (const PolicyError& e : errors) std::cerr << e.ToString() << "\n";
    }
    return EX_CONFIG;
  }
  if (!policy->capture().all) {
    std::fprintf(stderr,
                 "%s: warning: capture scope is not all: only mail of %s is journaled; all "
                 "other mail passes unrecorded and cannot be recovered (mailjournal.yaml(5), "
                 "CAPTURE SCOPE)\n",
                 file.c_str(), DescribeCapture(policy->capture()).c_str());
  }
  if (format != "json") {
    std::printf("%s: ok: %zu departments, %zu retention classes, %zu holds, %zu roles; digest %s\n",
                file.c_str(), policy->departments().size(), policy->retention().size(),
                policy->holds().size(), policy->roles().size(),
                DigestToJson(policy->digest()).get<std::string>().c_str());
  }
  return EX_OK;
}

int CmdPolicyExplain(Channel* channel, const ExplainOptions& o) {
  json x;
  if (!o.policy_file.empty()) {
    std::shared_ptr<const Policy> policy;
    int rc = LoadOrReport(o.policy_file, &policy);
    if (rc != EX_OK) return rc;
    int64_t when = NowMicros();
    if (!o.time.empty()) {
      Status s = ParseTime(o.time, &when);
      if (!s.ok()) return Fail(s);
    }
    x = ExplainJson(*policy, o.from, o.rcpts, when);
  } else {
    json req = Request("policy_explain");
    req["from"] = o.from;
    req["rcpt"] = o.rcpts;
    if (!o.time.empty()) req["time"] = o.time;
    json resp;
    Status s = channel->Call(req, &resp, NoPayload);
    if (!s.ok()) return Fail(s);
    x = resp["explain"];
  }
  if (o.format == "json") {
    PrintJson(x);
  } else {
    PrintExplain(x);
  }
  return EX_OK;
}

int CmdPolicyShow(Channel* channel, const std::string& format) {
  json resp;
  Status s = channel->Call(Request("policy_show"), &resp, NoPayload);
  if (!s.ok()) return Fail(s);
  const json& p = resp["policy"];
  if (format == "json") {
    PrintJson(p);
    return EX_OK;
  }
  PrintField("seq", std::to_string(p["seq"].get<uint64_t>()));
  PrintField("digest", p["digest"].get<std::string>());
  for (const auto& k : p["keys"]) {
    PrintField("key", KeyHolderText(k) + " " + k["fingerprint"].get<std::string>() + " " +
                          k["file"].get<std::string>());
  }
  for (const auto& f : p["files"]) {
    std::printf("\n==> %s <==\n%s", f["path"].get<std::string>().c_str(),
                f["text"].get<std::string>().c_str());
  }
  return EX_OK;
}

int CmdPolicyReload(Channel* channel) {
  json resp;
  Status s = channel->Call(Request("policy_reload"), &resp, NoPayload);
  if (!s.ok()) {
    const json* errors = resp.contains("error") && resp["error"].contains("errors")
                             ? &resp["error"]["errors"]
                             : nullptr;
    if (errors != nullptr) {
      for (const auto& e : *errors) std::cerr << e["text"].get<std::string>() << "\n";
    }
    int rc = Fail(s);
    return errors != nullptr && !errors->empty() ? EX_CONFIG : rc;
  }
  std::printf("policy reloaded: seq=%llu digest=%s\n",
              static_cast<unsigned long long>(resp["policy"]["seq"].get<uint64_t>()),
              resp["policy"]["digest"].get<std::string>().c_str());
  return EX_OK;
}

}  // namespace mailjournal
