// Status: the result of an operation that can fail, as a small value type.
//
// A Status is either ok() or carries a code and a human-readable message of the form
// "object: reason" (context is attached where the failure first appears). Statuses are
// immutable values; they are safe to copy and to share between threads.
#ifndef MAILJOURNAL_STATUS_H_
#define MAILJOURNAL_STATUS_H_

#include <string>
#include <utility>

namespace mailjournal {

class Status {
 public:
  enum class Code {
    kOk,
    kNotFound,          // the named object does not exist
    kCorruption,        // stored data failed a check: the journal is not intact
    kIOError,           // the operating system or LevelDB reported an I/O failure
    kInvalidArgument,   // the caller's input is malformed
    kBusy,              // the resource is held by another process (the journal lock)
    kUnavailable,       // a peer (the daemon) cannot be reached
    kInternal,          // a broken invariant or an unexpected exception
    kPermissionDenied,  // the caller may not do this (e.g. holds no key that opens it)
  };

  Status() = default;  // ok

  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status Busy(std::string msg) { return Status(Code::kBusy, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }
  static Status PermissionDenied(std::string msg) {
    return Status(Code::kPermissionDenied, std::move(msg));
  }
  // For decoding a status that crossed a process boundary (the admin protocol).
  static Status FromCode(Code code, std::string msg) { return Status(code, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "OK" or the message prefixed by nothing: messages already name object and reason.
  std::string ToString() const { return ok() ? "OK" : message_; }

  // The short machine name used in the admin protocol ("not_found", "corrupt", ...).
  const char* CodeName() const;
  // The inverse of CodeName(); unknown names map to kInternal.
  static Code CodeFromName(const std::string& name);

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_STATUS_H_
