#include "mailjournal/status.h"

#include <cstring>

namespace mailjournal {

namespace {
struct CodeNameEntry {
  Status::Code code;
  const char* name;
};
constexpr CodeNameEntry kCodeNames[] = {
    {Status::Code::kOk, "ok"},
    {Status::Code::kNotFound, "not_found"},
    {Status::Code::kCorruption, "corrupt"},
    {Status::Code::kIOError, "io_error"},
    {Status::Code::kInvalidArgument, "bad_request"},
    {Status::Code::kBusy, "busy"},
    {Status::Code::kUnavailable, "unavailable"},
    {Status::Code::kInternal, "internal"},
    {Status::Code::kPermissionDenied, "permission_denied"},
};
}  // namespace

const char* Status::CodeName() const {
  for (const auto& e : kCodeNames) {
    if (e.code == code_) return e.name;
  }
  return "internal";
}

Status::Code Status::CodeFromName(const std::string& name) {
  for (const auto& e : kCodeNames) {
    if (name == e.name) return e.code;
  }
  return Code::kInternal;
}

}  // namespace mailjournal
