// mailjournal check-postfix: the ways a Postfix configuration lets mail past the journal
// milter (mailjournal(8), CHECK-POSTFIX; mailjournald(8), POSTFIX).
//
// The analysis works on postconf's output only, so it is tested without running Postfix:
// `postconf -x` (every main.cf parameter, defaults included, $names expanded), `postconf
// -M` (the master.cf services) and `postconf -Px` (each service's -o overrides).
#ifndef MAILJOURNAL_TOOL_POSTFIX_CHECK_H_
#define MAILJOURNAL_TOOL_POSTFIX_CHECK_H_

#include <map>
#include <string>
#include <vector>

namespace mailjournal {

// One master.cf service and the parameters its -o options override.
struct PostfixService {
  std::string name;     // "submission", "127.0.0.1:10025"
  std::string type;     // "inet", "unix", ...
  std::string command;  // "smtpd", "pickup", "cleanup", ...
  std::map<std::string, std::string> overrides;
  std::string Label() const { return name + "/" + type; }
};

struct PostfixSettings {
  std::map<std::string, std::string> main;  // parameter -> value
  std::vector<PostfixService> services;
};

// "name = value" lines (postconf, postconf -x) into *params; other lines are ignored.
void ParsePostconfParameters(const std::string& text, std::map<std::string, std::string>* params);
// postconf -M (one service a line: name type private unpriv chroot wakeup maxproc command
// args) and postconf -P ("name/type/parameter = value" lines) into *services.
void ParseMasterServices(const std::string& services_text, const std::string& overrides_text,
                         std::vector<PostfixService>* services);

// One milter of a Postfix milter list: its socket and its per-milter settings
// ("{ inet:host:port, default_action=accept }" gives "default_action" -> "accept").
struct PostfixMilter {
  std::string socket;
  std::map<std::string, std::string> settings;
};
// Splits a milter list (separated by commas or white space; per-milter settings in braces).
std::vector<PostfixMilter> ParseMilterList(const std::string& value);

// The journal milter as Postfix names it, normalised for comparison: "unix:/ABSOLUTE/PATH"
// (a relative Postfix path is under queue_directory) or "inet:HOST:PORT".
std::string NormalizePostfixMilter(const std::string& socket, const std::string& queue_directory);
// mailjournald's milter_socket (libmilter spelling: unix:/path, local:/path, inet:PORT@HOST)
// normalised the same way. "" for a spelling that cannot be compared (a relative path).
std::string NormalizeDaemonMilter(const std::string& spec);

// Every way `settings` lets mail past the journal milter, whose normalised socket is
// `journal` (either function above), one sentence each, in the order of the checks of
// mailjournal(8), CHECK-POSTFIX. Empty for a configuration that journals all mail.
// *notes gets what is worth knowing but not a bypass the configuration could close
// (mail Postfix makes itself), when not null.
std::vector<std::string> FindJournalBypasses(const PostfixSettings& settings,
                                             const std::string& journal,
                                             std::vector<std::string>* notes);

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_POSTFIX_CHECK_H_
