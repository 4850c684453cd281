// The admin protocol (version 1): how the mailjournal tool asks for journal data, whether
// it talks to mailjournald over its admin socket or opens the journal itself.
//
// A request is one JSON object {"v":1,"op":...}; its response is one JSON object
// {"v":1,"ok":true,...} or {"v":1,"ok":false,"error":{"code":...,"message":...}}. An
// "export" response is followed by exactly "size" payload bytes and a trailer object that
// says whether the payload was read and checked completely. The wire form (one object per
// line on a unix stream socket) is documented in mailjournald(8).
//
// AdminHandler answers requests from a Journal; both the daemon's socket server and the
// tool's offline mode call it, so both give the same answers. It is thread-safe when the
// journal is.
//
// Access control and the audit trail (mailjournald(8), ACCESS CONTROL): every request
// comes with its Caller; the handler asks a PermissionsSource what the caller may do (the
// policy's access roles), refuses what is not granted with PermissionDenied, and appends an
// access entry for every request but "status" — allowed or refused, with what it returned —
// durably *before* its response leaves, so no read goes unrecorded. When the entry cannot
// be written the request fails instead, except "verify" and "proof", which reveal no mail
// and must work on a journal that takes no more entries: their response then carries
// "audit_error".
#ifndef MAILJOURNAL_ADMIN_PROTOCOL_H_
#define MAILJOURNAL_ADMIN_PROTOCOL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailjournal/entry.h"
#include "mailjournal/journal.h"
#include "mailjournal/status.h"

namespace mailjournal {

constexpr int kAdminProtocolVersion = 1;
// The most entries one "list" response carries; clients page with "after"/"before".
constexpr uint64_t kMaxListLimit = 1000;

// The JSON object for one entry, as "list", "show" and "export" return it.
nlohmann::json EntryToJson(uint64_t seq, const Entry& entry);
nlohmann::json DigestToJson(const Sha256Digest& digest);  // lower-case hex
// {"departments":[...],"addresses":[...],"since":..,"until":..,"seqs":[[a,b],...]}, the
// criteria named only.
nlohmann::json HoldScopeToJson(const HoldScope& scope);
// [[first,last],...] for inclusive ranges of sequence numbers.
nlohmann::json RangesToJson(const std::vector<std::pair<uint64_t, uint64_t>>& ranges);

// {"v":1,"ok":false,"error":{"code":...,"message":...}} for a failed status.
nlohmann::json ErrorResponse(const Status& status);
// The status a response stands for: OK for "ok":true, else the error it carries.
Status StatusFromResponse(const nlohmann::json& response);

// JSON text of one protocol object on one line (invalid UTF-8 in data replaced by U+FFFD).
std::string ToJsonLine(const nlohmann::json& object);

// Who sent a request: the admin socket's peer (SO_PEERCRED, SO_PEERGROUPS) or the
// offline tool's own process.
struct Caller {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;  // supplementary groups
  int32_t pid = 0;
  std::string user;  // the account name of uid; "" when it has none
  Actor actor() const { return Actor{uid, user}; }
  // "user alice (uid 1001)" or "uid 1001".
  std::string Describe() const;
};

// What one caller may do. Operation names are those of mailjournal.yaml(5) "access":
// search, read, export, hold, purge, verify, audit, policy, review.
class Permissions {
 public:
  virtual ~Permissions() = default;
  // Whether `op` is granted on the mail of `department`.
  virtual bool Allows(const std::string& op, const std::string& department) const = 0;
  // Whether `op` is granted on at least one department (for site-wide operations such as
  // verify: whether it is granted at all).
  virtual bool AllowsSome(const std::string& op) const = 0;
  // Whether `op` is granted on every department, present and future ("*").
  virtual bool AllowsAll(const std::string& op) const = 0;
  // Whether `op` is granted on at least one of `departments`.
  bool AllowsAny(const std::string& op, const std::vector<std::string>& departments) const;
};
// Decides what a caller may do (from the policy in force). Never null.
using PermissionsSource = std::function<std::shared_ptr<const Permissions>(const Caller&)>;
// Grants everything: for callers that the site trusts with the whole journal anyway.
std::shared_ptr<const Permissions> AllPermissions();

// One request in progress: who asked, what they may do, what the audit entry will record.
struct AdminCall {
  Caller caller;
  std::shared_ptr<const Permissions> permissions;
  std::vector<uint64_t> returned;  // sequence numbers of the entries the response returns
  // What the access entry records as the request's arguments, when not the request itself:
  // set by operations whose arguments hold words of mail (a reindex's tokens), which must
  // not reach the journal in plain text.
  std::optional<nlohmann::json> audit_arguments;
  // PermissionDenied: "user alice (uid 1001) may not <what>: no access role grants it".
  Status Refuse(const std::string& what) const;
};

// Where a handler writes one response.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // The response object. For "export" with "ok":true, Payload and Trailer follow.
  virtual Status Header(const nlohmann::json& response) = 0;
  virtual Status Payload(std::string_view bytes) = 0;
  virtual Status Trailer(const nlohmann::json& trailer) = 0;
};

// Facts about the answering process that "status" reports.
struct ServerInfo {
  std::string mode;           // "daemon" or "offline"
  int64_t start_time_us = 0;  // when the daemon started (daemon mode)
  std::string journal_dir;
};

// The answer to a request that failed: writes ErrorResponse(status) and returns what the
// writer returned.
inline Status AnswerError(const Status& status, ResponseWriter* out) {
  return out->Header(ErrorResponse(status));
}
// Optional members of a request: absent or null leaves *out unchanged; another type than
// expected is InvalidArgument naming the member.
Status RequestString(const nlohmann::json& request, const char* name, std::string* out);
Status RequestUnsigned(const nlohmann::json& request, const char* name, uint64_t* out);
Status RequestBool(const nlohmann::json& request, const char* name, bool* out);
// Appends the strings of an array member to *out.
Status RequestStrings(const nlohmann::json& request, const char* name,
                      std::vector<std::string>* out);

// The window and paging of a listing request ("list", "audit"): "since"/"until" (ISO 8601,
// commit times, until exclusive), "after"/"before" (sequence numbers, exclusive), "limit"
// (at most kMaxListLimit) and "reverse" (newest first).
struct EntryWindow {
  int64_t since_us = INT64_MIN;
  int64_t until_us = INT64_MAX;
  uint64_t after = 0, before = 0, limit = kMaxListLimit;
  bool reverse = false;

  Status Parse(const nlohmann::json& request);
  // Whether entry `seq` committed at `time_us` is inside the window.
  bool Contains(uint64_t seq, int64_t time_us) const;
  // Entries are in sequence and commit-time order, so a scan can stop once it has passed
  // the window.
  bool Past(uint64_t seq, int64_t time_us) const;
  // Where a scan in the window's direction starts (0: the newest, for a reverse scan), and
  // whether there is nothing to scan ("before":1).
  uint64_t ScanStart() const;
  bool Empty() const { return before == 1; }
};

struct AdminCall;

// Answers a listing request: `scan` calls its visitor with entries in the window's direction
// from w.ScanStart(); the entries inside the window that `wanted` accepts, up to w.limit, are
// returned ({"entries":[...],"more":bool}) and recorded in call->returned.
Status AnswerEntryPage(const EntryWindow& w,
                       const std::function<Status(const Journal::Visitor& visit)>& scan,
                       const std::function<bool(uint64_t seq, const Entry& entry)>& wanted,
                       AdminCall* call, ResponseWriter* out);

// {"v":1,"ok":true}, to which an operation adds its results.
nlohmann::json OkResponse();

class AdminHandler {
 public:
  // REQUIRES: journal outlives the handler.
  AdminHandler(Journal* journal, ServerInfo info, PermissionsSource permissions)
      : journal_(journal), info_(std::move(info)), permissions_(std::move(permissions)) {}

  // An operation served by another module (e.g. the policy's). It answers through `out`
  // and returns out's first error, like Handle(); it records the entries it returns in
  // call->returned.
  using Operation =
      std::function<Status(const nlohmann::json& request, AdminCall* call, ResponseWriter* out)>;
  // Registers `op`. When `requires` is not empty the handler refuses callers to whom no role
  // grants that operation (on any department) before calling fn; operations whose grant
  // depends on the departments concerned pass "" and check call->permissions themselves.
  // REQUIRES: called before the handler serves requests; `op` is not a built-in name.
  void AddOperation(const std::string& op, const std::string& requires, Operation fn) {
    extra_[op] = {requires, std::move(fn)};
  }

  // Adds members to every "status" response (e.g. the daemon's own figures, under a key
  // of its own): `fn` is called with the status object the handler made, from any thread
  // that answers requests, concurrently; it must not fail and should be quick. Status
  // reveals no mail and is answered to everyone who can connect, unrecorded: add no mail.
  // REQUIRES: called before the handler serves requests.
  using StatusExtension = std::function<void(nlohmann::json* status)>;
  void AddStatusExtension(StatusExtension fn) { status_extensions_.push_back(std::move(fn)); }

  // Answers one request of `caller`. Returns the first error of `out` (the peer went away),
  // or, after answering it, the failure to record the request's access entry (so that the
  // server drops the connection: nothing more is sent for that request); else OK. Other
  // errors of the request itself are answered, not returned.
  Status Handle(const nlohmann::json& request, const Caller& caller, ResponseWriter* out);

 private:
  Status Status_(const nlohmann::json& request, ResponseWriter* out);
  Status List(const nlohmann::json& request, AdminCall* call, ResponseWriter* out);
  Status Show(const nlohmann::json& request, AdminCall* call, ResponseWriter* out);
  Status Export(const nlohmann::json& request, AdminCall* call, ResponseWriter* out);
  Status Dispatch(const std::string& op, const nlohmann::json& request, AdminCall* call,
                  ResponseWriter* out);

  Journal* const journal_;
  const ServerInfo info_;
  const PermissionsSource permissions_;
  struct Extra {
    std::string requires;
    Operation fn;
  };
  std::map<std::string, Extra> extra_;
  std::vector<StatusExtension> status_extensions_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_ADMIN_PROTOCOL_H_
