#include "cli.h"

#include <sysexits.h>

#include <cstdio>
#include <iostream>

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

std::string KeyHolderText(const nlohmann::json& key) {
  return key["escrow"].get<bool>() ? "escrow"
                                   : "department=" + key["department"].get<std::string>();
}

}  // namespace mailjournal
