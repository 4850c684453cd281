#include "output.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mailjournal/time_util.h"

namespace mailjournal {

Output::~Output() {
  if (file_ != nullptr && file_ != stdout) {
    fclose(file_);
    unlink(tmp_path_.c_str());
  }
}

Status Output::Open(const std::string& path) {
  if (path.empty() || path == "-") {
    file_ = stdout;
    return Status::OK();
  }
  path_ = path;
  tmp_path_ = path + ".tmp." + std::to_string(getpid());
  file_ = fopen(tmp_path_.c_str(), "wbx");
  if (file_ == nullptr) {
    return Status::IOError("cannot create " + tmp_path_ + ": " + std::strerror(errno));
  }
  return Status::OK();
}

Status Output::Write(std::string_view bytes) {
  if (bytes.empty()) return Status::OK();
  if (fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    return Status::IOError((path_.empty() ? "standard output" : tmp_path_) + ": " +
                           std::strerror(errno));
  }
  return Status::OK();
}

Status Output::Commit() {
  if (file_ == stdout) {
    if (fflush(stdout) != 0)
      return Status::IOError(std::string("standard output: ") + std::strerror(errno));
    return Status::OK();
  }
  FILE* f = file_;
  file_ = nullptr;
  bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
  int err = errno;
  ok = (fclose(f) == 0) && ok;
  // link() never replaces an existing file: an export does not overwrite evidence.
  if (ok && link(tmp_path_.c_str(), path_.c_str()) == 0) {
    unlink(tmp_path_.c_str());
    return Status::OK();
  }
  if (ok) err = errno;
  unlink(tmp_path_.c_str());
  if (err == EEXIST) return Status::IOError(path_ + ": already exists; not overwritten");
  return Status::IOError("cannot write " + path_ + ": " + std::strerror(err));
}

Status MboxrdWriter::Begin(const std::string& sender, int64_t time_us) {
  at_line_start_ = true;
  pending_cr_ = false;
  last_was_lf_ = true;
  pending_.clear();
  std::string from = sender.empty() ? "MAILER-DAEMON" : sender;
  for (char& c : from) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') c = '_';
  }
  return out_->Write("From " + from + " " + FormatAsctimeUtc(time_us) + "\n");
}

Status MboxrdWriter::Emit(std::string_view bytes) {
  if (!bytes.empty()) last_was_lf_ = bytes.back() == '\n';
  return out_->Write(bytes);
}

Status MboxrdWriter::FlushPending(bool quote) {
  Status s;
  if (quote) s = Emit(">");
  if (s.ok()) s = Emit(pending_);
  pending_.clear();
  return s;
}

Status MboxrdWriter::Write(std::string_view bytes) {
  static constexpr std::string_view kFrom = "From ";
  Status s;
  for (char c : bytes) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (c != '\n') {
        // A bare CR is content: keep it.
        if (at_line_start_) {
          pending_.push_back('\r');
        } else {
          s = Emit("\r");
        }
        if (!s.ok()) return s;
        if (at_line_start_) {
          at_line_start_ = false;
          s = FlushPending(false);
          if (!s.ok()) return s;
        }
      }
    }
    if (c == '\r') {
      pending_cr_ = true;
      continue;
    }
    if (at_line_start_) {
      // Is pending_ + c still a prefix of ">*From "?
      pending_.push_back(c);
      size_t gt = pending_.find_first_not_of('>');
      std::string_view rest =
          std::string_view(pending_).substr(gt == std::string::npos ? pending_.size() : gt);
      if (rest.size() <= kFrom.size() && kFrom.substr(0, rest.size()) == rest) {
        if (rest.size() == kFrom.size()) {
          at_line_start_ = false;
          s = FlushPending(true);
        }
      } else {
        at_line_start_ = false;
        s = FlushPending(false);
      }
      if (!s.ok()) return s;
      if (c == '\n') at_line_start_ = true;
      continue;
    }
    char ch = c;
    s = Emit(std::string_view(&ch, 1));
    if (!s.ok()) return s;
    if (c == '\n') at_line_start_ = true;
  }
  return s;
}

Status MboxrdWriter::End() {
  Status s;
  if (pending_cr_) {
    pending_cr_ = false;
    pending_.push_back('\r');
  }
  if (!pending_.empty()) s = FlushPending(false);
  if (s.ok() && !last_was_lf_) s = Emit("\n");
  if (s.ok()) s = Emit("\n");
  return s;
}

}  // namespace mailjournal
