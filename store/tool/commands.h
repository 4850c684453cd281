// The mailjournal tool's commands that live outside main.cc.
#ifndef MAILJOURNAL_TOOL_COMMANDS_H_
#define MAILJOURNAL_TOOL_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "channel.h"
#include "keygen.h"

namespace CLI {
class App;
}  // namespace CLI

namespace mailjournal {

struct DaemonConfig;  // milter/config.h

// The private keys that may open sealed messages, and their passphrase.
struct KeyOptions {
  std::vector<std::string> files;
  std::string passphrase_file;  // "": OpenSSL prompts when a key is encrypted
  // Adds --key (repeatable) and --passphrase-file to a command.
  void AddTo(CLI::App* command);
};

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

// export --bundle DIR SEQ...: the evidence bundle (mailjournal(8), EVIDENCE BUNDLE).
struct BundleOptions {
  std::string dir;                     // the bundle: a new directory, or an empty one
  std::vector<std::string> key_files;  // private keys that may open sealed messages
  std::string passphrase_file;         // their passphrase ("": OpenSSL prompts)
  std::string verifier_key_file;       // the checkpoint verifier key ("": none); copied in
};

struct BundleSummary {
  size_t messages = 0;
  size_t opened = 0;                  // with message.eml
  size_t disposed = 0;                // content disposed of: entry, proof and audit trail only
  uint64_t tree_size = 0;             // of the checkpoint every message is proven against
  std::vector<std::string> warnings;  // one per sealed message that was not opened, and why
};

// OK when `dir` does not exist but its parent directory does, or is an empty directory;
// otherwise InvalidArgument saying why: a bundle is never written over other files.
Status CheckBundleDir(const std::string& dir);

// Writes the evidence bundle of the messages `seqs` (in any order, repeats ignored) into
// options.dir, which must pass CheckBundleDir; it is created (mode 0700) when missing.
// Everything about a message is fetched and checked before any file of it is written:
// its entry, its stored bytes (the "export" request, which the daemon checks against the
// caller's export grant and records), the captured bytes opened with the keys given, its
// inclusion proof against the journal's newest checkpoint (one for the whole bundle, its
// signature checked when a verifier key is given), and the access entries about it, read
// last so that they include this bundle's own requests. Files appear complete, each under
// its final name, and nothing is overwritten; README.txt, the index, is written last. On
// any error, everything written is removed again and options.dir is left as it was; the
// error is the first one met: PermissionDenied when the caller may not show, export, prove
// or audit a message; NotFound for an entry that is not a message, or a journal without a
// checkpoint; Busy when a message is newer than the newest checkpoint; Corruption when a
// message, a proof or the checkpoint does not check; IOError when a file cannot be written.
// A sealed message that no key given opens is written unopened, with a warning.
Status WriteBundle(Channel* channel, const std::vector<uint64_t>& seqs,
                   const BundleOptions& options, BundleSummary* summary);

// export --bundle: WriteBundle, then a summary line. Exit 0; 73 when DIR is not new or
// empty; otherwise the exit status of WriteBundle's error (mailjournal(8), EXIT STATUS).
int CmdExportBundle(Channel* channel, const std::vector<uint64_t>& seqs,
                    const BundleOptions& options);

struct ExportOptions {
  std::string format = "eml";  // eml or mbox
  std::string out_path;
  bool sealed = false;  // write sealed messages as stored (CMS), not opened
  KeyOptions keys;
  BundleOptions bundle;  // with bundle.dir: the evidence bundle instead
};

// One message to export: the channel that holds it, its sequence number there, and the
// name of its file (DIR/STEM.eml) when several are written as eml.
struct ExportItem {
  Channel* channel;
  uint64_t seq;
  std::string stem;  // may contain '/': the directories are made
};

// Writes the messages, in the order given, as one eml (-o FILE or standard output), one
// eml per message into the existing directory o.out_path, or one mbox (mboxrd); sealed
// messages opened with o.keys and checked (fetch.h) unless o.sealed. Exit 0; 64 for bad
// options or no message; 73 when a file exists or cannot be written; the fetch's error's
// code otherwise (mailjournal(8), EXIT STATUS).
int WriteExport(const std::vector<ExportItem>& items, const ExportOptions& o);

// export SEQ... from the journal: WriteExport, each eml named SEQ.eml, or the evidence
// bundle with o.bundle.dir.
int CmdExport(Channel* channel, const std::vector<std::string>& ranges, const ExportOptions& o);

struct AuditOptions {
  std::string since, until;  // ISO 8601; "": unbounded
  std::string user;          // a user name or a uid; "": any
  std::string operation;     // e.g. "export"; "": any
  uint64_t seq = 0;          // the entries about this entry; 0: any
  uint64_t limit = 0;        // 0: no limit
  bool reverse = false;      // newest first
  std::string format = "text";
  KeyOptions keys;  // open the sealed queries of searches
};

// audit: the access entries of the audit trail, through the "audit" operation, one line
// (or JSON object) per entry, paged like list. A search's sealed query is shown as
// "query" when a key given opens it, else as "(sealed)" in text. 77 when no role grants
// "audit".
int CmdAudit(Channel* channel, const AuditOptions& options);

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
// segment list | write | verify (mailjournal(8), SEGMENTS): the journal cut into
// self-contained, verifiable segments (mailjournal-format(5), SEGMENTS). list and write go
// through the channel ("segment_list", "segment"); verify needs no journal.
class SegmentCommands {
 public:
  // Adds the "segment" command with list, write and verify to app.
  // REQUIRES: this outlives the parsing of app's command line.
  void AddTo(CLI::App* app);
  bool Selected() const;
  // Whether the command named needs no journal (verify). REQUIRES: Selected().
  bool Offline() const;
  // Runs verify. Exit 0 when every file verifies, 65 when one does not (each file's
  // outcome on standard output), 66 when a file or the key cannot be read.
  int RunOffline() const;
  // Runs list or write. write: 0; 73 when a file exists already (--range) or cannot be
  // written; 75 when no checkpoint covers the range yet.
  int Run(Channel* channel) const;

 private:
  CLI::App* list_ = nullptr;
  CLI::App* write_ = nullptr;
  CLI::App* verify_ = nullptr;
  uint64_t entries_ = 10000;
  uint64_t seconds_ = 3600;
  uint64_t bytes_ = 64ULL * 1024 * 1024;
  std::string range_, output_;
  bool all_ = false;
  std::vector<std::string> files_;
  std::string verifier_key_file_;
  std::string format_ = "text";
};

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

struct ReviewQueueOptions {
  std::string department;             // "": every department the caller reviews
  std::string severity;               // the least severity; "": any (also sampled only)
  std::string status = "unreviewed";  // or reviewed, escalated, closed, any
  uint64_t limit = 0;                 // 0: every message
  std::string format = "text";
};

struct ReviewMarkOptions {
  uint64_t seq = 0;
  std::string status;  // reviewed, escalated, closed
  std::string note;    // "": none
  std::string note_file;
};

struct ReviewShowOptions {
  uint64_t seq = 0;
  std::string format = "text";
  KeyOptions keys;  // open the sealed notes
};

// review queue | mark | show and tag add | remove (mailjournal-review(8)). Exit 0; 64 for a
// bad argument, a tag already there or a note with no key to seal it to; 66 for an entry
// that is not a message, a tag not there to remove or a note while no policy is in force;
// 77 without the "review" grant on the message's departments.
class ReviewCommands {
 public:
  // Adds the "review" (queue, mark, show) and "tag" (add, remove) commands to app.
  // REQUIRES: this outlives the parsing of app's command line.
  void AddTo(CLI::App* app);
  // Whether the command line named one of them. REQUIRES: AddTo, then app parsed.
  bool Selected() const;
  // Runs the one named. REQUIRES: Selected().
  int Run(Channel* channel) const;

 private:
  CLI::App* review_ = nullptr;
  CLI::App* queue_ = nullptr;
  CLI::App* mark_ = nullptr;
  CLI::App* show_ = nullptr;
  CLI::App* tag_ = nullptr;
  CLI::App* tag_add_ = nullptr;
  CLI::App* tag_remove_ = nullptr;
  ReviewQueueOptions queue_options_;
  ReviewMarkOptions mark_options_;
  ReviewShowOptions show_options_;
  uint64_t tag_seq_ = 0;
  std::string tag_name_;
};

struct SearchCliOptions {
  std::vector<std::string> query;  // the words of the query, joined with spaces
  std::vector<std::string> departments;
  std::string since, until;  // ISO 8601; "": unbounded
  uint64_t limit = 20;
  uint64_t offset = 0;
  std::string format = "text";
  KeyOptions keys;  // none: the daemon's candidates, unconfirmed where inexact
};

struct ReindexCliOptions {
  std::string department;
  std::string format = "text";
  KeyOptions keys;
};

// search and reindex (mailjournal-search(8)). Exit 0 (also for no hits); 64 for a bad query
// or argument; 77 without the grant; 65 when a message does not open to what was captured.
class SearchCommands {
 public:
  // Adds the "search" and "reindex" commands to app.
  // REQUIRES: this outlives the parsing of app's command line.
  void AddTo(CLI::App* app);
  // Whether the command line named one of them. REQUIRES: AddTo, then app parsed.
  bool Selected() const;
  // Runs the one named. REQUIRES: Selected().
  int Run(Channel* channel) const;
  // The search command and its options (for search --bucket). REQUIRES: AddTo.
  CLI::App* search_command() const { return search_; }
  const SearchCliOptions& search_options() const { return search_options_; }

 private:
  CLI::App* search_ = nullptr;
  CLI::App* reindex_ = nullptr;
  SearchCliOptions search_options_;
  ReindexCliOptions reindex_options_;
};

// --bucket (mailjournal(8), BUCKET): verify, export and search read the segments shipped
// to an S3 Object Lock bucket (mailjournal-format(5), BUCKET) instead of a journal.
struct BucketOptions {
  bool bucket = false;
  std::string config_file = "/etc/mailjournal/mailjournald.conf";  // its s3_* settings
  std::vector<std::string> prefixes;            // none: every prefix that holds segments
  std::vector<std::string> verifier_key_files;  // one per MTA (checkpoint origin)
  bool open_all = false;  // search: open every message, not only the term sets' candidates
  // Adds --bucket, -c/--config, --prefix and --vkey to a command.
  void AddTo(CLI::App* command);
};

// verify --bucket: each prefix's segments fetched, verified with the verifier key named
// as their origin, chained (mailjournal/segment_chain.h), their Object Lock and versions
// checked; one report per prefix. With `local` (the journal, through the daemon or
// --journal), the prefix of the journal's origin is compared with it. Exit 0 when all is
// well, 65 naming the first problem of each prefix otherwise; 64/66/69/77 when the bucket
// or a key cannot be read.
int CmdVerifyBucket(const BucketOptions& options, const std::string& format, Channel* local);

// export --bucket PREFIX:SEQ... or --search QUERY: the messages from the verified segments,
// written by WriteExport (eml files DIR/PREFIX/SEQ.eml when from several prefixes), after
// an access record is written to the bucket (nothing is output when it cannot be).
int CmdExportBucket(const BucketOptions& options, const std::vector<std::string>& args,
                    const std::string& search_query, const ExportOptions& export_options);

// search --bucket: the messages of the verified segments that the query matches, exactly
// (search_query.h) on their opened text, after an access record is written; the segments'
// term sets (under the index keys the keys open) narrow what is opened unless open_all.
int CmdSearchBucket(const BucketOptions& options, const SearchCliOptions& search_options);

struct ConfigCliOptions {
  bool defaults = false;           // the built-in defaults, not the file's
  bool changed = false;            // only what the file changes
  std::string file;                // "": /etc/mailjournal/mailjournald.conf, if it exists
  std::vector<std::string> names;  // these settings only; none: all
};

struct CheckPostfixOptions {
  std::string postfix_dir;  // postconf -c DIR; "": Postfix's default
  std::string milter;       // the journal milter as main.cf names it; "": from config_file
  std::string config_file;  // mailjournald's; "": /etc/mailjournal/mailjournald.conf
};

// Commands about the installation, which need no journal (mailjournal(8)):
//   config: mailjournald's settings as "name = value" lines (like postconf -d / -n); exit 0,
//     64 for an unknown setting, 78 when the configuration file has errors (they go to
//     stderr, the settings still to stdout).
//   check-postfix: the ways Postfix's configuration lets mail past the journal
//     (postfix_check.h); exit 0 when there are none, 1 when there are (one "warning:" line
//     each), 69 when postconf fails, 78 when the journal milter cannot be named.
//   help [CMD [SUBCMD]]: the command's man page (mailjournal(8), HELP); exit 0, 64 for an unknown
//     command, 69 when no page or no formatter is found.
// Reads mailjournald's configuration file into *config: `file`, or the default file when
// `file` is "" and it exists. Problems are appended to *errors.
void ReadDaemonConfig(const std::string& file, DaemonConfig* config,
                      std::vector<std::string>* errors);

// ship create-bucket (mailjournal(8), SHIPPING TO S3): creates the S3 bucket the daemon's
// configuration names (its s3_* settings and credentials file), with Object Lock enabled.
// Needs no journal. Exit 0 when the bucket was created (or is the caller's already, where S3
// says so without an error); 78 for a configuration without s3_bucket, with errors, or whose
// credentials file cannot be read; 77 when S3 refuses (HTTP 403); 69 when S3 cannot be
// reached; 64 for another refusal (e.g. the name is taken: 409 BucketAlreadyExists).
class ShipCommands {
 public:
  // REQUIRES: this outlives the parsing of app's command line.
  void AddTo(CLI::App* app);
  bool Selected() const;
  int Run() const;

 private:
  CLI::App* create_bucket_ = nullptr;
  std::string config_file_;
};

class SetupCommands {
 public:
  // REQUIRES: this outlives the parsing of app's command line.
  void AddTo(CLI::App* app);
  // Whether the command line named one of them. REQUIRES: AddTo, then app parsed.
  bool Selected() const;
  // Runs the one named. REQUIRES: Selected().
  int Run() const;

 private:
  CLI::App* app_ = nullptr;
  CLI::App* config_ = nullptr;
  CLI::App* check_postfix_ = nullptr;
  CLI::App* help_ = nullptr;
  ConfigCliOptions config_options_;
  CheckPostfixOptions check_postfix_options_;
  std::vector<std::string> help_command_;  // "policy", "check": policy check
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_COMMANDS_H_
