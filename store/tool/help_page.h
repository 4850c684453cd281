// mailjournal help CMD: which man page documents a command, where it is, and the command
// that shows it (mailjournal(8), HELP).
#ifndef MAILJOURNAL_TOOL_HELP_PAGE_H_
#define MAILJOURNAL_TOOL_HELP_PAGE_H_

#include <string>
#include <vector>

namespace mailjournal {

// The man page that documents a command of mailjournal, and the command to look for in it:
// {"mailjournal-search", ""} for "search" (a page of its own), {"mailjournal-hold", ""} for
// "hold add", {"mailjournal", "list"} for "list" and {"mailjournal", "policy check"} for
// "policy check" (mailjournal(8)'s COMMANDS), {"mailjournal", ""} for "".
struct HelpPage {
  std::string page;     // a section 8 page
  std::string command;  // "": the page's top
};
HelpPage FindHelpPage(const std::string& command);

// The page's source file in `man_dir` (e.g. the source tree's man/ directory, known at build
// time) when it exists there, else "" (show the installed page by name).
std::string HelpPageFile(const HelpPage& page, const std::string& man_dir);

// One way to show a page: a program's arguments, and whether its output is backspace
// overstrike (mandoc's bold and underline) that RemoveOverstrike must turn into plain text.
struct HelpCommand {
  std::vector<std::string> argv;
  bool overstrike = false;
};

// The ways to try, in order, to show the page: man(1) first, then mandoc(1) (file only). On
// a terminal `man` pages it, through less(1) positioned at the command when there is one;
// otherwise the page is printed as plain text.
std::vector<HelpCommand> HelpCommands(const HelpPage& page, const std::string& file, bool terminal);

// Text without backspace overstrike: each backspace is removed with the character (a whole
// UTF-8 sequence) before it ("N\bNA\bA" -> "NA", "_\bx" -> "x"), as col -b does.
std::string RemoveOverstrike(const std::string& text);

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_HELP_PAGE_H_
