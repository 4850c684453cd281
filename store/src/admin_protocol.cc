#include "mailjournal/admin_protocol.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "mailjournal/checkpoint.h"
#include "mailjournal/journal_summary.h"
#include "mailjournal/openssl_util.h"
#include "mailjournal/sha256.h"
#include "mailjournal/time_util.h"

namespace mailjournal {

using nlohmann::json;

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool ContainsFolded(const std::string& haystack, const std::string& folded_needle) {
  return Lower(haystack).find(folded_needle) != std::string::npos;
}

Status RequiredSeq(const json& req, uint64_t* seq) {
  *seq = 0;
  Status s = RequestUnsigned(req, "seq", seq);
  if (s.ok() && *seq == 0) s = Status::InvalidArgument("seq: expected a sequence number >= 1");
  return s;
}

struct ListQuery {
  EntryWindow window;
  std::string from;  // case-folded
  std::string rcpt;  // case-folded
  bool all = false;  // every kind of entry, not only messages
  // Only entries of this kind (other than message), through the journal's index of kinds.
  bool one_kind = false;
  EntryKind kind = EntryKind::kMessage;

  Status Parse(const json& req) {
    Status s = window.Parse(req);
    if (s.ok()) s = RequestString(req, "from", &from);
    if (s.ok()) s = RequestString(req, "rcpt", &rcpt);
    if (s.ok()) s = RequestBool(req, "all", &all);
    std::string kind_name;
    if (s.ok()) s = RequestString(req, "kind", &kind_name);
    if (s.ok() && !kind_name.empty()) {
      for (int k = 2; k <= static_cast<int>(EntryKind::kTag) && !one_kind; ++k) {
        one_kind = kind_name == EntryKindName(static_cast<EntryKind>(k));
        if (one_kind) kind = static_cast<EntryKind>(k);
      }
      if (!one_kind) s = Status::InvalidArgument("kind: '" + kind_name + "' is not an entry kind");
      all = true;
    }
    from = Lower(from);
    rcpt = Lower(rcpt);
    return s;
  }

  bool Matches(const Entry& entry) const {
    if (entry.kind != EntryKind::kMessage) return all && from.empty() && rcpt.empty();
    const MessageEntry& e = entry.message;
    if (!from.empty() && !ContainsFolded(BareAddress(e.envelope.mail), from)) return false;
    if (!rcpt.empty()) {
      bool any = false;
      for (const auto& r : e.envelope.rcpt) any = any || ContainsFolded(BareAddress(r), rcpt);
      if (!any) return false;
    }
    return true;
  }
};

json MessageToJson(uint64_t seq, const MessageEntry& entry) {
  const Envelope& env = entry.envelope;
  json rcpt = json::array(), rcpt_params = json::array();
  for (const auto& r : env.rcpt) {
    rcpt.push_back(BareAddress(r));
    rcpt_params.push_back(r.size() > 1 ? json(std::vector<std::string>(r.begin() + 1, r.end()))
                                       : json::array());
  }
  json mail_params = json::array();
  for (size_t i = 1; i < env.mail.size(); ++i) mail_params.push_back(env.mail[i]);
  const Sha256Digest& d = entry.content.sha256;
  json out{
      {"seq", seq},
      {"kind", "message"},
      {"time", FormatTimeUtc(entry.time_us)},
      {"queue_id", env.queue_id},
      {"mail_from", BareAddress(env.mail)},
      {"mail_params", mail_params},
      {"rcpt", rcpt},
      {"rcpt_params", rcpt_params},
      {"client_addr", env.client_addr},
      {"client_port", env.client_port},
      {"client_name", env.client_name},
      {"helo", env.helo},
      {"auth", env.auth},
      {"daemon", env.daemon},
      {"size", entry.content.size},
      {"sha256", DigestToJson(d)},
      {"departments", entry.classification.departments},
      {"retention", entry.classification.retention},
      {"retain_until", FormatTimeUtc(entry.classification.retain_until_us)},
      {"policy", DigestToJson(entry.classification.policy_digest)},
      {"sealed", entry.sealing.sealed},
  };
  if (entry.sealing.sealed) {
    const Sealing& seal = entry.sealing;
    json recipients = json::array();
    for (const auto& r : seal.recipients) recipients.push_back(DigestToJson(r));
    out["seal"] = {
        {"plain_size", seal.plain_size},
        {"salt", HexEncode(std::string_view(reinterpret_cast<const char*>(seal.salt.data()),
                                            seal.salt.size()))},
        {"plain_digest", DigestToJson(seal.plain_digest)},
        {"scheme", seal.scheme},
        {"recipients", recipients}};
  }
  json flags = json::array();
  for (const auto& f : entry.flags) {
    flags.push_back({{"lexicon", f.lexicon}, {"severity", SeverityName(f.severity)}});
  }
  out["flags"] = std::move(flags);
  out["sampled"] = entry.sampled;
  return out;
}

json PolicyToJson(uint64_t seq, const PolicyEntry& entry) {
  json files = json::array();
  for (const auto& [path, bytes] : entry.files) {
    files.push_back(
        {{"path", path}, {"size", bytes.size()}, {"sha256", DigestToJson(Sha256::Of(bytes))}});
  }
  return json{{"seq", seq},
              {"kind", "policy"},
              {"time", FormatTimeUtc(entry.time_us)},
              {"digest", DigestToJson(entry.digest)},
              {"reason", entry.reason},
              {"files", files}};
}

json KeyToJson(uint64_t seq, const KeyEntry& entry) {
  return json{{"seq", seq},
              {"kind", "key"},
              {"time", FormatTimeUtc(entry.time_us)},
              {"action", KeyActionName(entry.action)},
              {"department", entry.department},
              {"escrow", entry.department.empty()},
              {"fingerprint", DigestToJson(entry.fingerprint)},
              {"file", entry.file},
              {"policy", DigestToJson(entry.policy_digest)}};
}

json ActorToJson(const Actor& actor) { return json{{"uid", actor.uid}, {"user", actor.user}}; }

json HoldToJson(uint64_t seq, EntryKind kind, const HoldEntry& entry) {
  json out{{"seq", seq},
           {"kind", EntryKindName(kind)},
           {"time", FormatTimeUtc(entry.time_us)},
           {"case", entry.case_id},
           {"reason", entry.reason},
           {"by", ActorToJson(entry.actor)}};
  if (kind == EntryKind::kHold) out["scope"] = HoldScopeToJson(entry.scope);
  return out;
}

json DisposeToJson(uint64_t seq, const DisposeEntry& entry) {
  return json{{"seq", seq},
              {"kind", "dispose"},
              {"time", FormatTimeUtc(entry.time_us)},
              {"message", entry.message},
              {"retention", entry.retention},
              {"retain_until", FormatTimeUtc(entry.retain_until_us)},
              {"policy", DigestToJson(entry.policy_digest)},
              {"by", ActorToJson(entry.actor)}};
}

json ReviewToJson(uint64_t seq, const ReviewEntry& entry) {
  json out{{"seq", seq},
           {"kind", "review"},
           {"time", FormatTimeUtc(entry.time_us)},
           {"message", entry.message},
           {"status", ReviewStatusName(entry.status)},
           {"by", ActorToJson(entry.actor)}};
  if (!entry.note_sealed.empty()) {
    json recipients = json::array();
    for (const auto& r : entry.note_recipients) recipients.push_back(DigestToJson(r));
    out["note_sealed"] = Base64Encode(entry.note_sealed);
    out["note_recipients"] = std::move(recipients);
  }
  return out;
}

json TagToJson(uint64_t seq, const TagEntry& entry) {
  return json{{"seq", seq},
              {"kind", "tag"},
              {"time", FormatTimeUtc(entry.time_us)},
              {"message", entry.message},
              {"action", TagActionName(entry.action)},
              {"tag", entry.tag},
              {"by", ActorToJson(entry.actor)}};
}

json AccessToJson(uint64_t seq, const AccessEntry& entry) {
  json arguments = json::parse(entry.arguments, nullptr, false);
  if (arguments.is_discarded()) arguments = entry.arguments;
  return json{{"seq", seq},
              {"kind", "access"},
              {"time", FormatTimeUtc(entry.time_us)},
              {"by", ActorToJson(entry.actor)},
              {"operation", entry.operation},
              {"arguments", arguments},
              {"allowed", entry.allowed},
              {"outcome", entry.outcome},
              {"seqs", RangesToJson(entry.seqs)}};
}

json ShipToJson(uint64_t seq, const ShipEntry& entry) {
  return json{{"seq", seq},
              {"kind", "ship"},
              {"time", FormatTimeUtc(entry.time_us)},
              {"action", ShipActionName(entry.action)},
              {"object", entry.object},
              {"version_id", entry.version_id},
              {"size", entry.size},
              {"sha256", DigestToJson(entry.sha256)},
              {"first", entry.first},
              {"last", entry.last},
              {"retain_until", FormatTimeUtc(entry.retain_until_us)},
              {"legal_hold", entry.legal_hold}};
}

// The most bytes of a request's arguments an access entry records.
constexpr size_t kMaxAuditArguments = 64 * 1024;

// Writes the access entry of a request before its response (AdminHandler's contract).
class AuditingWriter : public ResponseWriter {
 public:
  // `fail_closed`: when the access entry cannot be written, the request is refused;
  // otherwise it is answered with "audit_error" saying why it was not recorded.
  AuditingWriter(Journal* journal, const std::string& op, const json& request,
                 const AdminCall* call, bool fail_closed, ResponseWriter* out)
      : journal_(journal),
        op_(op),
        request_(request),
        call_(call),
        fail_closed_(fail_closed),
        out_(out) {}

  bool answered() const { return answered_; }

  Status Header(const json& response) override {
    answered_ = true;
    Status outcome = StatusFromResponse(response);
    Entry e;
    e.kind = EntryKind::kAccess;
    AccessEntry& a = e.access;
    a.actor = call_->caller.actor();
    a.operation = op_;
    json args = call_->audit_arguments.value_or(request_);
    args.erase("v");
    args.erase("op");
    a.arguments = args.dump(-1, ' ', false, json::error_handler_t::replace);
    if (a.arguments.size() > kMaxAuditArguments) {
      a.arguments = a.arguments.substr(0, kMaxAuditArguments) + "...(truncated)";
    }
    a.allowed = outcome.code() != Status::Code::kPermissionDenied;
    a.outcome = outcome.ok() ? "" : outcome.message();
    if (outcome.ok()) a.seqs = ToRanges(call_->returned);
    std::vector<Entry> entries{std::move(e)};
    uint64_t seq = 0;
    Status s = journal_->AppendEntries(&entries, &seq);
    if (!s.ok() && !fail_closed_) {
      json noted = response;
      noted["audit_error"] = "audit trail: the access could not be recorded: " + s.message();
      return out_->Header(noted);
    }
    if (!s.ok()) {
      Status refused = Status::IOError(
          "audit trail: the access cannot be recorded, so it is refused: " + s.message());
      Status sent = out_->Header(ErrorResponse(refused));
      return sent.ok() ? refused : sent;
    }
    return out_->Header(response);
  }
  Status Payload(std::string_view bytes) override { return out_->Payload(bytes); }
  Status Trailer(const json& trailer) override { return out_->Trailer(trailer); }

 private:
  Journal* const journal_;
  const std::string& op_;
  const json& request_;
  const AdminCall* const call_;
  const bool fail_closed_;
  ResponseWriter* const out_;
  bool answered_ = false;
};

class AllowAll : public Permissions {
 public:
  bool Allows(const std::string&, const std::string&) const override { return true; }
  bool AllowsSome(const std::string&) const override { return true; }
  bool AllowsAll(const std::string&) const override { return true; }
};

}  // namespace

json RangesToJson(const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  json out = json::array();
  for (const auto& [a, b] : ranges) out.push_back(json::array({a, b}));
  return out;
}

json HoldScopeToJson(const HoldScope& scope) {
  json out = json::object();
  if (!scope.departments.empty()) out["departments"] = scope.departments;
  if (!scope.addresses.empty()) out["addresses"] = scope.addresses;
  if (scope.since_us != INT64_MIN) out["since"] = FormatTimeUtc(scope.since_us);
  if (scope.until_us != INT64_MAX) out["until"] = FormatTimeUtc(scope.until_us);
  if (!scope.seqs.empty()) out["seqs"] = RangesToJson(scope.seqs);
  return out;
}

std::string Caller::Describe() const {
  std::string uid_text = "uid " + std::to_string(uid);
  return user.empty() ? uid_text : "user " + user + " (" + uid_text + ")";
}

bool Permissions::AllowsAny(const std::string& op,
                            const std::vector<std::string>& departments) const {
  for (const auto& d : departments) {
    if (Allows(op, d)) return true;
  }
  return false;
}

std::shared_ptr<const Permissions> AllPermissions() {
  static const auto all = std::make_shared<AllowAll>();
  return all;
}

Status AdminCall::Refuse(const std::string& what) const {
  return Status::PermissionDenied(caller.Describe() + " may not " + what +
                                  ": no access role of the policy grants it");
}

Status RequestString(const json& req, const char* name, std::string* out) {
  auto it = req.find(name);
  if (it == req.end() || it->is_null()) return Status::OK();
  if (!it->is_string()) return Status::InvalidArgument(std::string(name) + ": expected a string");
  *out = it->get<std::string>();
  return Status::OK();
}

Status RequestUnsigned(const json& req, const char* name, uint64_t* out) {
  auto it = req.find(name);
  if (it == req.end() || it->is_null()) return Status::OK();
  // JSON has no unsigned type: accept any integer that is not negative.
  if (!it->is_number_integer() || (!it->is_number_unsigned() && it->get<int64_t>() < 0)) {
    return Status::InvalidArgument(std::string(name) + ": expected a non-negative integer");
  }
  *out = it->get<uint64_t>();
  return Status::OK();
}

Status RequestBool(const json& req, const char* name, bool* out) {
  auto it = req.find(name);
  if (it == req.end() || it->is_null()) return Status::OK();
  if (!it->is_boolean()) {
    return Status::InvalidArgument(std::string(name) + ": expected true or false");
  }
  *out = it->get<bool>();
  return Status::OK();
}

Status RequestStrings(const json& req, const char* name, std::vector<std::string>* out) {
  auto it = req.find(name);
  if (it == req.end() || it->is_null()) return Status::OK();
  Status bad = Status::InvalidArgument(std::string(name) + ": expected an array of strings");
  if (!it->is_array()) return bad;
  for (const auto& v : *it) {
    if (!v.is_string()) return bad;
    out->push_back(v.get<std::string>());
  }
  return Status::OK();
}

Status EntryWindow::Parse(const json& req) {
  std::string since, until;
  Status s = RequestString(req, "since", &since);
  if (s.ok()) s = RequestString(req, "until", &until);
  if (s.ok()) s = RequestUnsigned(req, "after", &after);
  if (s.ok()) s = RequestUnsigned(req, "before", &before);
  if (s.ok()) s = RequestUnsigned(req, "limit", &limit);
  if (s.ok()) s = RequestBool(req, "reverse", &reverse);
  if (s.ok() && !since.empty()) s = ParseTime(since, &since_us);
  if (s.ok() && !until.empty()) s = ParseTime(until, &until_us);
  limit = std::min(limit, kMaxListLimit);
  return s;
}

bool EntryWindow::Contains(uint64_t seq, int64_t time_us) const {
  return seq > after && (before == 0 || seq < before) && time_us >= since_us && time_us < until_us;
}

bool EntryWindow::Past(uint64_t seq, int64_t time_us) const {
  if (reverse) return seq <= after || time_us < since_us;
  return (before != 0 && seq >= before) || time_us >= until_us;
}

uint64_t EntryWindow::ScanStart() const {
  return reverse ? (before > 0 ? before - 1 : 0) : after + 1;
}

Status AnswerEntryPage(const EntryWindow& w,
                       const std::function<Status(const Journal::Visitor& visit)>& scan,
                       const std::function<bool(uint64_t seq, const Entry& entry)>& wanted,
                       AdminCall* call, ResponseWriter* out) {
  json entries = json::array();
  bool more = false;
  Status s;
  if (!w.Empty()) {
    s = scan([&](uint64_t seq, const Entry& e) {
      if (w.Past(seq, e.time_us())) return false;
      if (!w.Contains(seq, e.time_us()) || !wanted(seq, e)) return true;
      if (entries.size() >= w.limit) {
        more = true;
        return false;
      }
      entries.push_back(EntryToJson(seq, e));
      call->returned.push_back(seq);
      return true;
    });
  }
  if (!s.ok()) return AnswerError(s, out);
  json resp = OkResponse();
  resp["entries"] = std::move(entries);
  resp["more"] = more;
  return out->Header(resp);
}

json OkResponse() { return json{{"v", kAdminProtocolVersion}, {"ok", true}}; }

json DigestToJson(const Sha256Digest& d) {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

json IndexKeyToJson(uint64_t seq, const IndexKeyEntry& entry) {
  char id[17];
  snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(entry.key_id));
  json recipients = json::array();
  for (const auto& r : entry.recipients) recipients.push_back(DigestToJson(r));
  return json{{"seq", seq},
              {"kind", "index_key"},
              {"time", FormatTimeUtc(entry.time_us)},
              {"department", entry.department},
              {"key_id", id},
              {"reason", entry.reason},
              {"recipients", recipients},
              {"sealed", Base64Encode(entry.sealed)}};
}

json EntryToJson(uint64_t seq, const Entry& entry) {
  switch (entry.kind) {
    case EntryKind::kPolicy:
      return PolicyToJson(seq, entry.policy);
    case EntryKind::kKey:
      return KeyToJson(seq, entry.key);
    case EntryKind::kCheckpoint: {
      json out{{"seq", seq},
               {"kind", "checkpoint"},
               {"time", FormatTimeUtc(entry.checkpoint.time_us)},
               {"note", entry.checkpoint.note}};
      // What the note says, unverified (mailjournal verify checks it).
      std::string text;
      Checkpoint c;
      if (NoteText(entry.checkpoint.note, &text).ok() && ParseCheckpoint(text, &c).ok()) {
        out["origin"] = c.origin;
        out["tree_size"] = c.size;
        out["root"] = DigestToJson(c.root);
      }
      return out;
    }
    case EntryKind::kHold:
    case EntryKind::kRelease:
      return HoldToJson(seq, entry.kind, entry.hold);
    case EntryKind::kDispose:
      return DisposeToJson(seq, entry.dispose);
    case EntryKind::kAccess:
      return AccessToJson(seq, entry.access);
    case EntryKind::kIndexKey:
      return IndexKeyToJson(seq, entry.index_key);
    case EntryKind::kShip:
      return ShipToJson(seq, entry.ship);
    case EntryKind::kReview:
      return ReviewToJson(seq, entry.review);
    case EntryKind::kTag:
      return TagToJson(seq, entry.tag);
    case EntryKind::kMessage:
      break;
  }
  return MessageToJson(seq, entry.message);
}

json ErrorResponse(const Status& status) {
  return json{{"v", kAdminProtocolVersion},
              {"ok", false},
              {"error", {{"code", status.CodeName()}, {"message", status.message()}}}};
}

Status StatusFromResponse(const json& response) {
  if (!response.is_object()) return Status::Internal("admin protocol: response is not an object");
  auto ok = response.find("ok");
  if (ok != response.end() && ok->is_boolean() && ok->get<bool>()) return Status::OK();
  auto err = response.find("error");
  if (err == response.end() || !err->is_object()) {
    return Status::Internal("admin protocol: failed response without an error");
  }
  std::string code = err->value("code", "internal");
  std::string message = err->value("message", "unknown error");
  return Status::FromCode(Status::CodeFromName(code), message);
}

std::string ToJsonLine(const json& object) {
  return object.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Status AdminHandler::Handle(const json& request, const Caller& caller, ResponseWriter* out) {
  std::string op;
  try {
    if (!request.is_object()) {
      return out->Header(ErrorResponse(Status::InvalidArgument("request: expected a JSON object")));
    }
    auto v = request.find("v");
    if (v == request.end() || !v->is_number_integer() || v->get<int>() != kAdminProtocolVersion) {
      return out->Header(ErrorResponse(Status::InvalidArgument(
          "request: unsupported protocol version (this server speaks v=1)")));
    }
    op = request.value("op", "");
    if (op == "status") return Status_(request, out);
    if (op != "list" && op != "show" && op != "export" && extra_.count(op) == 0) {
      return out->Header(
          ErrorResponse(Status::InvalidArgument("request: unknown op '" + op + "'")));
    }
  } catch (const std::exception& e) {
    return out->Header(ErrorResponse(Status::Internal(std::string("request: ") + e.what())));
  }
  AdminCall call{caller, permissions_(caller), {}, std::nullopt};
  // Checking the journal reveals no mail and must stay possible when the journal cannot be
  // written (it refuses entries once it is found corrupt): only those requests are answered
  // when their access entry cannot be recorded.
  bool fail_closed = op != "verify" && op != "proof";
  AuditingWriter audited(journal_, op, request, &call, fail_closed, out);
  try {
    return Dispatch(op, request, &call, &audited);
  } catch (const std::exception& e) {
    if (audited.answered()) return Status::Internal(std::string("request: ") + e.what());
    return audited.Header(ErrorResponse(Status::Internal(std::string("request: ") + e.what())));
  }
}

Status AdminHandler::Dispatch(const std::string& op, const json& request, AdminCall* call,
                              ResponseWriter* out) {
  if (op == "list") return List(request, call, out);
  if (op == "show") return Show(request, call, out);
  if (op == "export") return Export(request, call, out);
  const Extra& extra = extra_.at(op);
  if (!extra.requires.empty() && !call->permissions->AllowsSome(extra.requires)) {
    return AnswerError(call->Refuse(extra.requires + " (operation " + op + ")"), out);
  }
  return extra.fn(request, call, out);
}

Status AdminHandler::Status_(const json&, ResponseWriter* out) {
  json st{{"mode", info_.mode},
          {"journal", info_.journal_dir},
          {"last_seq", journal_->LastSequence()},
          {"pid", static_cast<int64_t>(getpid())},
          {"version", MAILJOURNAL_VERSION}};
  int64_t now = NowMicros();
  if (info_.start_time_us != 0) {
    st["started"] = FormatTimeUtc(info_.start_time_us);
    st["uptime_s"] = (now - info_.start_time_us) / 1000000;
  }
  // What the journal itself says, the same through the daemon and offline; a figure that
  // cannot be read is null and the reason in "problems".
  json problems = json::array();
  JournalSummary sum;
  Status s = SummarizeJournal(journal_, info_.journal_dir, &sum);
  if (!s.ok()) problems.push_back(s.message());
  st["tree_size"] = sum.tree_size;
  st["journal_bytes"] = s.ok() || sum.disk_bytes != 0 ? json(sum.disk_bytes) : json();
  st["last_checkpoint"] = json();
  if (sum.checkpoint_seq != 0) {
    st["last_checkpoint"] = {{"seq", sum.checkpoint_seq},
                             {"tree_size", sum.checkpoint_tree_size},
                             {"time", FormatTimeUtc(sum.checkpoint_time_us)},
                             {"age_s", (now - sum.checkpoint_time_us) / 1000000}};
  }
  uint64_t policy_seq = 0;
  PolicyEntry policy;
  s = journal_->LatestPolicy(&policy_seq, &policy);
  st["policy"] = json();
  if (s.ok()) {
    st["policy"] = {{"seq", policy_seq},
                    {"digest", DigestToJson(policy.digest)},
                    {"loaded", FormatTimeUtc(policy.time_us)},
                    {"reason", policy.reason}};
  } else if (!s.IsNotFound()) {
    problems.push_back(s.message());
  }
  st["problems"] = problems;
  st["daemon"] = json();  // the daemon's own figures, which its extension sets
  for (const StatusExtension& extend : status_extensions_) extend(&st);
  json resp = OkResponse();
  resp["status"] = st;
  return out->Header(resp);
}

Status AdminHandler::List(const json& request, AdminCall* call, ResponseWriter* out) {
  const Permissions& may = *call->permissions;
  if (!may.AllowsSome("search")) return AnswerError(call->Refuse("search messages"), out);
  // Messages of the departments the caller may search; other entries to auditors.
  bool audit = may.AllowsSome("audit");
  auto visible = [&](const Entry& e) {
    if (e.kind != EntryKind::kMessage) return audit;
    return may.AllowsAny("search", e.message.classification.departments);
  };
  ListQuery q;
  Status s = q.Parse(request);
  if (!s.ok()) return out->Header(ErrorResponse(s));
  const EntryWindow& w = q.window;
  return AnswerEntryPage(
      w,
      [&](const Journal::Visitor& visit) {
        if (q.one_kind) return journal_->ScanKind(q.kind, w.ScanStart(), w.reverse, visit);
        return journal_->Scan(w.ScanStart(), w.reverse, visit);  // 0 reverse: from the newest
      },
      [&](uint64_t, const Entry& e) { return q.Matches(e) && visible(e); }, call, out);
}

Status AdminHandler::Show(const json& request, AdminCall* call, ResponseWriter* out) {
  uint64_t seq;
  Entry e;
  Status s = RequiredSeq(request, &seq);
  if (s.ok()) s = journal_->ReadEntry(seq, &e);
  if (!s.ok()) return out->Header(ErrorResponse(s));
  const Permissions& may = *call->permissions;
  if (e.kind == EntryKind::kMessage) {
    // The metadata: what a search shows, and what reading or exporting the content needs.
    const std::vector<std::string>& departments = e.message.classification.departments;
    if (!may.AllowsAny("search", departments) && !may.AllowsAny("read", departments) &&
        !may.AllowsAny("export", departments)) {
      return AnswerError(call->Refuse("read message " + std::to_string(seq)), out);
    }
  } else if (!may.AllowsSome("audit")) {
    return AnswerError(
        call->Refuse("see entry " + std::to_string(seq) + " (" + EntryKindName(e.kind) + ")"), out);
  }
  call->returned.push_back(seq);
  json resp = OkResponse();
  resp["entry"] = EntryToJson(seq, e);
  uint64_t disposal = 0;
  if (e.kind == EntryKind::kMessage && journal_->FindDisposal(seq, &disposal).ok()) {
    resp["disposal"] = disposal;  // its content is gone; this dispose entry says why
  }
  return out->Header(resp);
}

Status AdminHandler::Export(const json& request, AdminCall* call, ResponseWriter* out) {
  uint64_t seq;
  MessageEntry e;
  // "purpose":"read" when the content is shown (mailjournal show --body), not exported.
  std::string purpose = "export";
  Status s = RequiredSeq(request, &seq);
  if (s.ok()) s = RequestString(request, "purpose", &purpose);
  if (s.ok() && purpose != "export" && purpose != "read") {
    s = Status::InvalidArgument("purpose: expected \"export\" or \"read\"");
  }
  if (s.ok()) s = journal_->ReadMessage(seq, &e);
  if (!s.ok()) return out->Header(ErrorResponse(s));
  if (!call->permissions->AllowsAny(purpose, e.classification.departments)) {
    return AnswerError(call->Refuse(purpose + " message " + std::to_string(seq)), out);
  }
  uint64_t disposal = 0;
  if (journal_->FindDisposal(seq, &disposal).ok()) {
    return AnswerError(
        Status::NotFound("message " + std::to_string(seq) +
                         ": its content was disposed of (entry " + std::to_string(disposal) + ")"),
        out);
  }
  call->returned.push_back(seq);
  json resp = OkResponse();
  resp["entry"] = MessageToJson(seq, e);
  resp["size"] = e.content.size;
  s = out->Header(resp);
  if (!s.ok()) return s;
  Status sink_error;
  uint64_t sent = 0;
  Status read = journal_->ReadContent(e.content, [&](std::string_view bytes) {
    // Never send more than announced, even from a corrupt journal.
    if (sent + bytes.size() > e.content.size) bytes = bytes.substr(0, e.content.size - sent);
    sent += bytes.size();
    sink_error = out->Payload(bytes);
    return sink_error;
  });
  if (!sink_error.ok()) return sink_error;
  if (sent < e.content.size) {
    // Keep the framing: pad to the announced size; the trailer says the payload is bad.
    std::string zeros(std::min<uint64_t>(e.content.size - sent, kMaxChunkSize), '\0');
    while (sent < e.content.size) {
      size_t n = std::min<uint64_t>(zeros.size(), e.content.size - sent);
      s = out->Payload(std::string_view(zeros.data(), n));
      if (!s.ok()) return s;
      sent += n;
    }
  }
  return out->Trailer(read.ok() ? OkResponse() : ErrorResponse(read));
}

}  // namespace mailjournal
