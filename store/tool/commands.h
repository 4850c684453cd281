// The mailjournal tool's commands that live outside main.cc.
#ifndef MAILJOURNAL_TOOL_COMMANDS_H_
#define MAILJOURNAL_TOOL_COMMANDS_H_

#include <string>
#include <vector>

#include "channel.h"
#include "keygen.h"

namespace CLI {
class App;
}  // namespace CLI

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

struct VerifyCliOptions {
  std::string verifier_key_file;  // "": signatures are not checked
  std::string checkpoint_dir;     // off-host checkpoints: every file in it
  std::string since_file;         // start from this trusted checkpoint
  std::string format = "text";
};

// verify: 0 when the journal is intact, 65 (EX_DATAERR) when it is not, naming the first
// entry that does not verify; 69/74/66 when it could not be checked.
int CmdVerify(Channel* channel, const VerifyCliOptions& options);

struct ProofCliOptions {
  uint64_t inclusion = 0;       // SEQ for an inclusion proof
  uint64_t old_size = 0;        // for a consistency proof OLD_SIZE -> new_size
  uint64_t new_size = 0;        // 0: the size of the checkpoint (given or the newest)
  std::string checkpoint_file;  // prove against this checkpoint
  std::string format = "text";
};

// proof: prints an inclusion or consistency proof with the checkpoint it is for, after
// checking it. 65 when the journal gives a proof that does not verify or a root that is
// not the checkpoint's.
int CmdProof(Channel* channel, const ProofCliOptions& options);

// keygen --signing ORIGIN -o DIR: writes DIR/checkpoint.key and DIR/checkpoint.vkey.
int CmdKeygenSigning(const std::string& origin, const std::string& dir, const std::string& format);

struct HoldAddOptions {
  std::string case_id;
  std::string reason;
  std::vector<std::string> departments;
  std::vector<std::string> addresses;  // the sender or a recipient
  std::string since, until;            // ISO 8601; "": no bound
  std::vector<std::string> seqs;       // "N" or "N-M"
  std::string format = "text";
};

struct PurgeCliOptions {
  bool dry_run = false;
  uint64_t limit = 0;  // 0: no limit
  std::string format = "text";
};

// hold add | release | list and purge (mailjournal-hold(8), mailjournal-purge(8)): their
// command-line options, and the request each one sends. Exit 0 on success; on a refusal or
// error, the daemon's message on stderr and its sysexits code (mailjournal(8), EXIT STATUS):
// 64 for a bad argument, a case already held or a policy hold to release, 66 for a case
// not held, 77 without the grant, 69 when no policy is in force.
class RetentionCommands {
 public:
  // Adds the "hold" command (with add, release, list) and the "purge" command to app.
  // REQUIRES: this outlives the parsing of app's command line.
  void AddTo(CLI::App* app);
  // Whether the command line named one of them. REQUIRES: AddTo, then app parsed.
  bool Selected() const;
  // Runs the one named. REQUIRES: Selected().
  int Run(Channel* channel) const;

 private:
  CLI::App* hold_ = nullptr;
  CLI::App* hold_add_ = nullptr;
  CLI::App* hold_release_ = nullptr;
  CLI::App* hold_list_ = nullptr;
  CLI::App* purge_ = nullptr;
  HoldAddOptions add_;
  std::string release_case_, release_reason_;
  std::string list_format_ = "text";
  PurgeCliOptions purge_options_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_COMMANDS_H_
