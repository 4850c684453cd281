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
#ifndef MAILJOURNAL_ADMIN_PROTOCOL_H_
#define MAILJOURNAL_ADMIN_PROTOCOL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

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

// {"v":1,"ok":false,"error":{"code":...,"message":...}} for a failed status.
nlohmann::json ErrorResponse(const Status& status);
// The status a response stands for: OK for "ok":true, else the error it carries.
Status StatusFromResponse(const nlohmann::json& response);

// JSON text of one protocol object on one line (invalid UTF-8 in data replaced by U+FFFD).
std::string ToJsonLine(const nlohmann::json& object);

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
// {"v":1,"ok":true}, to which an operation adds its results.
nlohmann::json OkResponse();

class AdminHandler {
 public:
  // REQUIRES: journal outlives the handler.
  AdminHandler(Journal* journal, ServerInfo info) : journal_(journal), info_(std::move(info)) {}

  // An operation served by another module (e.g. the policy's). It answers through `out`
  // and returns out's first error, like Handle().
  using Operation = std::function<Status(const nlohmann::json& request, ResponseWriter* out)>;
  // REQUIRES: called before the handler serves requests; `op` is not a built-in name.
  void AddOperation(const std::string& op, Operation fn) { extra_[op] = std::move(fn); }

  // Answers one request. Returns the first error of `out` (the peer went away), else OK;
  // errors of the request itself are answered, not returned.
  Status Handle(const nlohmann::json& request, ResponseWriter* out);

 private:
  Status Status_(const nlohmann::json& request, ResponseWriter* out);
  Status List(const nlohmann::json& request, ResponseWriter* out);
  Status Show(const nlohmann::json& request, ResponseWriter* out);
  Status Export(const nlohmann::json& request, ResponseWriter* out);

  Journal* const journal_;
  const ServerInfo info_;
  std::map<std::string, Operation> extra_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_ADMIN_PROTOCOL_H_
