#include "help_page.h"

#include <sys/stat.h>

namespace mailjournal {

HelpPage FindHelpPage(const std::string& command) {
  // The commands with a page of their own; every other one is in mailjournal(8), COMMANDS.
  static const struct {
    const char* command;
    const char* page;
  } kOwnPages[] = {
      {"search", "mailjournal-search"}, {"reindex", "mailjournal-search"},
      {"hold", "mailjournal-hold"},     {"purge", "mailjournal-purge"},
      {"audit", "mailjournal-audit"},   {"review", "mailjournal-review"},
      {"tag", "mailjournal-review"},
  };
  std::string first = command.substr(0, command.find(' '));  // "hold" of "hold add"
  for (const auto& own : kOwnPages) {
    if (first == own.command) return HelpPage{own.page, ""};
  }
  return HelpPage{"mailjournal", command};
}

std::string HelpPageFile(const HelpPage& page, const std::string& man_dir) {
  if (man_dir.empty()) return "";
  std::string file = man_dir + "/" + page.page + ".8";
  struct stat st;
  return stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) ? file : "";
}

std::vector<HelpCommand> HelpCommands(const HelpPage& page, const std::string& file,
                                      bool terminal) {
  std::vector<std::string> man = {"man"};
  if (terminal && !page.command.empty()) {
    // The command's entry starts a line, indented by five columns, in the rendered page.
    man.push_back("-P");
    man.push_back("less -p '^     " + page.command + "( |$)'");
  }
  if (file.empty()) {
    man.push_back("8");
    man.push_back(page.page);
  } else {
    man.push_back("-l");
    man.push_back(file);
  }
  std::vector<HelpCommand> commands = {{man, false}};
  if (!file.empty()) {
    // Without man(1): mandoc, which pages by itself on a terminal.
    if (terminal) {
      commands.push_back({{"mandoc", "-a", file}, false});
    } else {
      commands.push_back({{"mandoc", "-Tutf8", file}, true});
    }
  }
  return commands;
}

std::string RemoveOverstrike(const std::string& text) {
  std::string plain;
  plain.reserve(text.size());
  for (char c : text) {
    if (c != '\b') {
      plain.push_back(c);
      continue;
    }
    // Drop the last character: its continuation bytes (10xxxxxx), then its first byte.
    while (!plain.empty() && (static_cast<unsigned char>(plain.back()) & 0xC0) == 0x80) {
      plain.pop_back();
    }
    if (!plain.empty()) plain.pop_back();
  }
  return plain;
}

}  // namespace mailjournal
