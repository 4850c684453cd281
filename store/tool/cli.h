// Helpers shared by the mailjournal tool's commands.
#ifndef MAILJOURNAL_TOOL_CLI_H_
#define MAILJOURNAL_TOOL_CLI_H_

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "channel.h"
#include "mailjournal/status.h"

namespace mailjournal {

// The sysexits.h code for a status (mailjournal(8), EXIT STATUS).
int ExitCode(const Status& s);
// Prints "mailjournal: MESSAGE" on standard error and returns ExitCode(s).
int Fail(const Status& s);
// The same, with another exit code (e.g. EX_CANTCREAT for an output file).
int FailWith(int exit_code, const Status& s);
// A payload sink for requests that have none.
Status NoPayload(std::string_view);
// One JSON object on one line of standard output.
void PrintJson(const nlohmann::json& j);
// {"v":1,"op":op}
nlohmann::json Request(const char* op);
// Who holds a key, from JSON with "escrow" and "department": "department=NAME" or "escrow".
std::string KeyHolderText(const nlohmann::json& key);
// Parses "N" or "N-M" (1 <= N <= M, decimal) into the inclusive range (N, N) or (N, M).
// InvalidArgument naming the text otherwise; *range is then unchanged.
Status ParseSeqRange(const std::string& text, std::pair<uint64_t, uint64_t>* range);
// The same, appending every number of the range to *seqs. InvalidArgument also for a range
// of more than a million numbers.
Status ParseSeqRange(const std::string& text, std::vector<uint64_t>* seqs);
// The strings of a JSON array joined with sep: ["a","b"] -> "a, b" for sep ", ".
std::string JoinStrings(const nlohmann::json& array, const char* sep);
// The whole content of the file at `path`. NotFound "PATH: cannot read" when it cannot be
// opened or read.
Status ReadWholeFile(const std::string& path, std::string* content);
// "key: value" with the key padded to `width`.
void PrintField(const char* key, const std::string& value, int width = 12);

// Sends `request`, an operation that answers {"entries":[...],"more":BOOL} and pages with
// "after"/"before" and "limit" like "list" (list, audit), page after page in the direction
// of its "reverse", and prints each entry as it arrives: its EntryLine (format "text") or
// its JSON object on one line ("json"); at most `limit` entries (0: every one). Returns the
// exit status (mailjournal(8), EXIT STATUS); an error answer stops the printing.
// `edit`, when set, may change each entry before it is printed.
int PrintEntries(Channel* channel, nlohmann::json request, uint64_t limit,
                 const std::string& format,
                 const std::function<void(nlohmann::json* entry)>& edit = nullptr);

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_CLI_H_
