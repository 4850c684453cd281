// The mailjournal tool's commands that live outside main.cc.
#ifndef MAILJOURNAL_TOOL_COMMANDS_H_
#define MAILJOURNAL_TOOL_COMMANDS_H_

#include <string>
#include <vector>

#include "channel.h"
#include "keygen.h"

namespace mailjournal {

struct ExplainOptions {
  std::string policy_file;  // "" : ask the journal (daemon or --journal) for the active policy
  std::string from;
  std::vector<std::string> rcpts;
  std::string time;  // ISO 8601; "" : now
  std::string format = "text";
};

// policy check FILE: 0 when the file loads, 78 (EX_CONFIG) with every error on stderr.
int CmdPolicyCheck(const std::string& file, const std::string& format);
// policy explain: with options.policy_file set, channel may be null.
int CmdPolicyExplain(Channel* channel, const ExplainOptions& options);
int CmdPolicyShow(Channel* channel, const std::string& format);
int CmdPolicyReload(Channel* channel);

// keygen: writes DIR/NAME.key and DIR/NAME.crt (GenerateDepartmentKey) and prints the
// certificate's fingerprint. The passphrase comes from the first line of passphrase_file,
// or when that is "" from a prompt, twice. Exit 0; 64 for bad arguments or passphrase;
// 66 when passphrase_file cannot be opened; 73 when a file cannot be created or written
// (an existing file is never overwritten); 70 when OpenSSL fails.
int CmdKeygen(const KeygenOptions& options, const std::string& passphrase_file,
              const std::string& format);

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_COMMANDS_H_
