// Output helpers for the mailjournal tool: files written atomically, and the mboxrd writer.
#ifndef MAILJOURNAL_TOOL_OUTPUT_H_
#define MAILJOURNAL_TOOL_OUTPUT_H_

#include <cstdio>
#include <string>
#include <string_view>

#include "mailjournal/status.h"

namespace mailjournal {

// An output stream: standard output, or a file that appears under its name only when
// Commit() succeeds (written to NAME.tmp.PID first, then linked into place; an existing
// file is never overwritten). Destroying an output without Commit() removes the temporary
// file.
class Output {
 public:
  Output() = default;
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  // path "" or "-": standard output.
  Status Open(const std::string& path);
  Status Write(std::string_view bytes);
  // Flushes (and for a file: fsyncs, closes and renames into place).
  Status Commit();

 private:
  FILE* file_ = nullptr;
  std::string path_, tmp_path_;
};

// Converts one message at a time to mboxrd: a "From " line, CRLF -> LF, lines matching
// ">*From " quoted with one more '>', and a blank line after the message.
class MboxrdWriter {
 public:
  explicit MboxrdWriter(Output* out) : out_(out) {}
  Status Begin(const std::string& sender, int64_t time_us);
  Status Write(std::string_view bytes);
  Status End();

 private:
  Status Emit(std::string_view bytes);
  Status FlushPending(bool quote);

  Output* out_;
  bool at_line_start_ = true;
  bool pending_cr_ = false;
  bool last_was_lf_ = true;
  std::string pending_;  // a line's start that may still turn out to be ">*From "
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_OUTPUT_H_
