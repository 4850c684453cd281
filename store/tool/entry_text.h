// The text forms of journal entries that `mailjournal list`, `show` and `audit` print
// (mailjournal(8), OUTPUT FORMATS), made from an entry object as the admin protocol returns
// it (EntryToJson). Entries of an unknown kind get a generic line. Thread-compatible.
#ifndef MAILJOURNAL_TOOL_ENTRY_TEXT_H_
#define MAILJOURNAL_TOOL_ENTRY_TEXT_H_

#include <nlohmann/json.hpp>
#include <string>

namespace mailjournal {

// One grep-able line per entry, without the line end: "SEQ TIME ..." (for a message:
// "SEQ TIME QUEUE_ID <FROM> -> <RCPT>,... SIZE"; other kinds name themselves after TIME).
std::string EntryLine(const nlohmann::json& entry);

// The text with each control character shown as a C escape (\n, \r, \t, \xNN), so that
// text from requests or mail (a hold's reason, a subject) can neither start a line of its
// own nor send escape sequences to the terminal.
std::string Printable(const std::string& text);

// Prints an entry as "key: value" lines on standard output (`mailjournal show`).
void PrintEntryDetails(const nlohmann::json& entry);

// Who acted, from {"uid":N,"user":NAME}: "NAME(N)", or "(N)" for a uid without a name.
std::string ActorText(const nlohmann::json& actor);

// Inclusive ranges [[a,b],...] as "a-b" and "c" (a range of one number is the number)
// separated by `sep`; `none` when there are none.
std::string RangesText(const nlohmann::json& ranges, const char* sep = ",", const char* none = "-");

// The criteria a hold's scope names (HoldScopeToJson), on one line:
// "departments=a,b addresses=x@y since=T until=T seqs=1-5,9".
std::string ScopeText(const nlohmann::json& scope);

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_ENTRY_TEXT_H_
