#include "cli.h"

#include <sysexits.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include "entry_text.h"
#include "mailjournal/admin_protocol.h"

namespace mailjournal {

int ExitCode(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk:
      return EX_OK;
    case Status::Code::kNotFound:
      return EX_NOINPUT;
    case Status::Code::kCorruption:
      return EX_DATAERR;
    case Status::Code::kIOError:
      return EX_IOERR;
    case Status::Code::kInvalidArgument:
      return EX_USAGE;
    case Status::Code::kBusy:
      return EX_TEMPFAIL;
    case Status::Code::kUnavailable:
      return EX_UNAVAILABLE;
    case Status::Code::kInternal:
      return EX_SOFTWARE;
    case Status::Code::kPermissionDenied:
      return EX_NOPERM;
  }
  return EX_SOFTWARE;
}

int Fail(const Status& s) { return FailWith(ExitCode(s), s); }

int FailWith(int exit_code, const Status& s) {
  std::cerr << "mailjournal: " << s.message() << "\n";
  return exit_code;
}

Status NoPayload(std::string_view) {
  return Status::Internal("admin protocol: unexpected payload");
}

void PrintJson(const nlohmann::json& j) { std::fputs(ToJsonLine(j).c_str(), stdout); }

nlohmann::json Request(const char* op) {
  return nlohmann::json{{"v", kAdminProtocolVersion}, {"op", op}};
}

void PrintField(const char* key, const std::string& value, int width) {
  std::printf("%-*s %s\n", width, (std::string(key) + ":").c_str(), value.c_str());
}

Status ParseSeqRange(const std::string& text, std::pair<uint64_t, uint64_t>* range) {
  auto parse = [](const std::string& t, uint64_t* v) {
    if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos || t.size() > 19) {
      return false;
    }
    *v = std::stoull(t);
    return *v > 0;
  };
  Status bad =
      Status::InvalidArgument("'" + text + "': expected a sequence number N or a range N-M");
  size_t dash = text.find('-');
  uint64_t a, b;
  if (dash == std::string::npos) {
    if (!parse(text, &a)) return bad;
    b = a;
  } else if (!parse(text.substr(0, dash), &a) || !parse(text.substr(dash + 1), &b) || b < a) {
    return bad;
  }
  *range = {a, b};
  return Status::OK();
}

Status ParseSeqRange(const std::string& text, std::vector<uint64_t>* seqs) {
  std::pair<uint64_t, uint64_t> range;
  Status s = ParseSeqRange(text, &range);
  if (!s.ok()) return s;
  if (range.second - range.first >= 1000000) {
    return Status::InvalidArgument("'" + text + "': range too large");
  }
  for (uint64_t i = range.first; i <= range.second; ++i) seqs->push_back(i);
  return Status::OK();
}

std::string JoinStrings(const nlohmann::json& array, const char* sep) {
  std::string out;
  for (const auto& v : array) out += (out.empty() ? "" : sep) + v.get<std::string>();
  return out;
}

Status ReadWholeFile(const std::string& path, std::string* content) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot read");
  content->assign(std::istreambuf_iterator<char>(in), {});
  return Status::OK();
}

std::string KeyHolderText(const nlohmann::json& key) {
  return key["escrow"].get<bool>() ? "escrow"
                                   : "department=" + key["department"].get<std::string>();
}

int PrintEntries(Channel* channel, nlohmann::json request, uint64_t limit,
                 const std::string& format,
                 const std::function<void(nlohmann::json* entry)>& edit) {
  const bool reverse = request.value("reverse", false);
  uint64_t printed = 0;
  for (;;) {
    request["limit"] = limit == 0 ? kMaxListLimit : std::min(kMaxListLimit, limit - printed);
    nlohmann::json resp;
    Status s = channel->Call(request, &resp, NoPayload);
    if (!s.ok()) return Fail(s);
    for (nlohmann::json& e : resp["entries"]) {
      if (edit) edit(&e);
      if (format == "json") {
        PrintJson(e);
      } else {
        std::printf("%s\n", EntryLine(e).c_str());
      }
      ++printed;
      request[reverse ? "before" : "after"] = e["seq"];
    }
    if (!resp.value("more", false) || (limit != 0 && printed >= limit)) break;
  }
  if (std::fflush(stdout) != 0) return Fail(Status::IOError("standard output: write failed"));
  return EX_OK;
}

}  // namespace mailjournal
