// Policy: the per-department rules of one strict, versioned YAML file (mailjournal.yaml(5)).
//
// LoadPolicy() parses and validates a policy file and the member lists it includes, and
// reports every problem at once as FILE:LINE:COL (1-based). A loaded Policy is immutable
// and thread-safe; the daemon shares it with shared_ptr<const Policy> and swaps it on
// reload, so a message in progress keeps the policy it started with.
//
// Classification: a message belongs to the departments of its sender and of each of its
// recipients. Each address belongs to the department(s) of its most specific matching
// member rule (address > glob > domain > subdomain wildcard, the longer suffix winning among
// subdomain wildcards); equally specific matches in several departments put the address in
// all of them. A message none of whose addresses any rule matches belongs to the `default`
// department (an unmatched correspondent does not add `default` to a department's mail).
// The message gets the longest retention of its departments (compared by the retain-until
// date it yields) and is sealed to the union of their keys and the escrow keys. Every
// message is sealed: a policy must give every department a key or name an escrow key.
//
// Capture scope (mailjournal.yaml(5), CAPTURE SCOPE): `capture: all` (the default) journals
// every message; a list of departments and addresses journals only the messages whose
// sender or any recipient is a listed address or belongs to a listed department, by the
// message's classification (Decision::departments: listing `default` captures the mail none
// of whose addresses any rule matches). Policy::InScope decides, and says why.
#ifndef MAILJOURNAL_POLICY_H_
#define MAILJOURNAL_POLICY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mailjournal/entry.h"
#include "mailjournal/lexicon_matcher.h"
#include "mailjournal/seal.h"

namespace mailjournal {

// One problem in a policy file: "FILE:LINE:COL: message" (line and column 1-based; 0 when
// the problem has no position, e.g. an unreadable file).
struct PolicyError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;
  std::string ToString() const;
};

// One file a policy was loaded from, with its exact bytes: the policy file first, then each
// included member list and each key file in the order first referenced. Paths are as the
// loader opened them.
struct PolicyFile {
  std::string path;
  std::string bytes;
};

// Reads a whole file. Returns false (and sets *error to the reason) when it cannot.
using FileReader =
    std::function<bool(const std::string& path, std::string* bytes, std::string* error)>;
// Reads from the file system.
FileReader DiskFileReader();
// Serves the given files only (e.g. those journaled in a policy entry).
FileReader MemoryFileReader(std::vector<PolicyFile> files);

// A key that messages are sealed to, with its holder.
struct PolicyKey {
  std::string department;  // "" for an escrow key
  std::string file;        // resolved path; the file is one of the policy's files()
  Sha256Digest fingerprint{};
};

// The operations access roles grant (mailjournal.yaml(5), "access").
// kReview: the supervision review queue, review decisions and tags (mailjournal-review(8)).
enum class Operation { kSearch, kRead, kExport, kHold, kPurge, kVerify, kAudit, kPolicy, kReview };
const char* OperationName(Operation op);
// False for an unknown name.
bool ParseOperation(const std::string& name, Operation* op);

// A retention period: a number of calendar years or of days ("7y", "180d").
struct Period {
  uint32_t years = 0;
  uint32_t days = 0;
  std::string text;  // as written
};
// The capture time plus the period: calendar years (29 February + 1y = 1 March, never
// shorter), days as 86,400 s each.
int64_t RetainUntil(int64_t capture_us, const Period& period);

struct RetentionClass {
  std::string name;
  Period period;
};

enum class MatchKind {
  kAddress,     // "alice@bank.example" (also every line of an include file)
  kGlob,        // "*-desk@bank.example": fnmatch(3) pattern over the normalised address
  kDomain,      // "@bank.example": exactly that domain
  kSubdomains,  // "@*.bank.example": any subdomain of bank.example, not bank.example itself
};

struct MemberRule {
  MatchKind kind;
  std::string pattern;  // normalised: domain lower case; local part per the options
  std::string where;    // "FILE:LINE:COL" of the rule (the include file's line for includes)
  std::string text;     // as written (the include file's line, trimmed, for includes)
};

// A supervision lexicon (mailjournal.yaml(5), SUPERVISION): words and phrases matched as
// literals, and Hyperscan patterns (mailjournal/lexicon_matcher.h).
struct Lexicon {
  std::string name;
  Severity severity = Severity::kLow;
  std::vector<std::string> terms;     // as written, each non-blank
  std::vector<std::string> patterns;  // each compiles
};

struct Department {
  std::string name;
  std::vector<MemberRule> members;
  std::string retention;          // a RetentionClass name
  std::vector<std::string> keys;  // public key / certificate files, resolved paths
  bool index = true;
  // Supervision: the lexicons applied to its mail (names, as listed; the policy's
  // lexicon_matcher() holds them), and the fraction of its mail sampled for review (0 to 1).
  std::vector<std::string> lexicons;
  double sample = 0;
};

// A legal hold. It covers a message when every scope criterion it names matches.
struct Hold {
  std::string case_id;
  std::string reason;
  std::string placed_by;
  HoldScope scope;
};

struct Role {
  std::string name;
  std::vector<std::string> users;
  std::vector<std::string> groups;
  std::vector<std::string> departments;  // names, or {"*"} for all
  std::set<Operation> operations;
};

struct PolicyOptions {
  bool case_sensitive_local_part = false;
  bool strip_subaddress = false;  // "user+tag@d" counts as "user@d"
  char subaddress_separator = '+';
};

// How one address was classified.
struct AddressMatch {
  std::string address;     // as given (angle brackets removed)
  std::string normalised;  // as compared
  std::vector<std::string> departments;
  std::string rule;   // the matching rule as written in the policy, or "default"
  std::string where;  // the rule's FILE:LINE:COL, "" for default
};

// One entry of a `capture` list: a department of the policy or an address.
struct CaptureEntry {
  bool department = false;  // true: a department name; false: an address
  std::string value;        // the department name, or the address normalised (options)
  std::string text;         // as written
  std::string where;        // FILE:LINE:COL of the entry
};

// Which mail is journaled. `all` (the default, also when the key is absent) or the entries
// listed (never empty then), in the order written.
struct CaptureScope {
  bool all = true;
  std::vector<CaptureEntry> entries;
};

// Whether a message is in the capture scope, and why.
struct CaptureVerdict {
  bool captured = true;
  // The entry that put it in scope (null: `capture: all`, or not captured).
  const CaptureEntry* entry = nullptr;
  // The index into Decision::matches of the address that did (-1: none, or the message is
  // in scope as `default` mail, which no single address decides).
  int match = -1;
  // One sentence, e.g. "recipient bob@bank.example is in department sales (rule
  // '@sales.bank.example' at FILE:LINE:COL), listed in 'capture' at FILE:LINE:COL".
  std::string reason;
};

// What the policy decides for one message.
struct Decision {
  std::vector<AddressMatch> matches;     // the sender first, then each recipient in order
  std::vector<std::string> departments;  // sorted, unique
  std::string retention;                 // the class with the longest retain-until
  int64_t retain_until_us = 0;
  // The files of the keys to seal it to: the union of the departments' keys in first
  // occurrence order, then the escrow keys. Never empty for a loaded policy.
  std::vector<std::string> keys;
  bool index = false;  // true if any department indexes
  // Supervision: true if any department applies lexicons; the highest sample rate of the
  // departments (0 to 1).
  bool supervised = false;
  double sample = 0;
};

class Policy {
 public:
  const PolicyOptions& options() const { return options_; }
  const std::vector<RetentionClass>& retention() const { return retention_; }
  const std::vector<Department>& departments() const { return departments_; }
  const std::vector<Hold>& holds() const { return holds_; }
  const std::vector<Role>& roles() const { return roles_; }
  // The supervision lexicons, as listed.
  const std::vector<Lexicon>& lexicons() const { return lexicons_; }
  // Every lexicon of lexicons() compiled into one database (lexicon i is lexicons()[i]):
  // a message's text is scanned once, whatever the number of its departments. Null when no
  // department applies a lexicon.
  const std::shared_ptr<const LexiconMatcher>& lexicon_matcher() const { return lexicon_matcher_; }
  // Which mail is journaled (mailjournal.yaml(5), CAPTURE SCOPE).
  const CaptureScope& capture() const { return capture_; }
  // The escrow key files (resolved paths): every message is sealed to them as well.
  const std::vector<std::string>& escrow() const { return escrow_; }
  // Every key with its holder: each department's keys in order, then the escrow keys.
  std::vector<PolicyKey> Keys() const;
  // The fingerprint of a key file the policy names; null for any other path.
  const Sha256Digest* KeyFingerprint(const std::string& file) const;
  // A key file the policy names, parsed for sealing once when the policy loaded; null for
  // any other path.
  std::shared_ptr<const RecipientKey> FindRecipientKey(const std::string& file) const;
  // The bytes of one of files(); null for any other path.
  const std::string* FileBytes(const std::string& path) const;
  // The policy file, included member lists and key files, exactly as read (journaled).
  const std::vector<PolicyFile>& files() const { return files_; }
  // SHA-256 over the files: for each file in order, u32 big-endian path length, path,
  // u64 big-endian byte count, bytes.
  const Sha256Digest& digest() const { return digest_; }

  // Null when there is no such department / class.
  const Department* FindDepartment(const std::string& name) const;
  const RetentionClass* FindRetention(const std::string& name) const;
  const Lexicon* FindLexicon(const std::string& name) const;

  // The flags of a message of these departments whose decoded text (subject and body,
  // mailjournal/text_extract.h) is `texts`: the lexicons of the departments that occur in
  // any text, with their severity, sorted by name, unique. On a matcher error returns it
  // (Internal) and sets *flags to the hits found up to then.
  Status MatchLexicons(const std::vector<std::string>& departments,
                       const std::vector<std::string_view>& texts,
                       std::vector<LexiconHit>* flags) const;

  // The normalised form of an address ("" for the null sender).
  std::string Normalise(const std::string& address) const;
  AddressMatch MatchAddress(const std::string& address) const;
  // Addresses without angle brackets; the null sender is "".
  Decision Classify(const std::string& from, const std::vector<std::string>& rcpts,
                    int64_t capture_us) const;
  // Whether a message with this decision (of this policy's Classify) is journaled: always
  // with `capture: all`; otherwise when its sender or a recipient, in that order, is a
  // listed address or matched a rule of a listed department, or when its only department
  // is `default` and `default` is listed. The verdict points into this policy.
  CaptureVerdict InScope(const Decision& decision) const;
  // The holds that cover a message with this decision, capture time and sequence number
  // (seq 0: not yet known, sequence scopes never match).
  std::vector<const Hold*> HoldsCovering(const Decision& decision, int64_t capture_us,
                                         uint64_t seq) const;

 private:
  friend class PolicyLoader;
  PolicyOptions options_;
  std::vector<RetentionClass> retention_;
  std::vector<Department> departments_;
  std::vector<Hold> holds_;
  std::vector<Role> roles_;
  std::vector<Lexicon> lexicons_;
  std::shared_ptr<const LexiconMatcher> lexicon_matcher_;
  CaptureScope capture_;
  std::vector<std::string> escrow_;
  std::map<std::string, std::shared_ptr<const RecipientKey>> recipient_keys_;  // by key file
  std::vector<PolicyFile> files_;
  Sha256Digest digest_{};

  // The member rules indexed for matching; built once by the loader.
  struct RuleRef {
    size_t department;  // index into departments_
    size_t rule;        // index into that department's members
  };
  void BuildIndex();
  std::unordered_map<std::string, std::vector<RuleRef>> by_address_;    // normalised address
  std::unordered_map<std::string, std::vector<RuleRef>> by_domain_;     // domain
  std::unordered_map<std::string, std::vector<RuleRef>> by_subdomain_;  // parent domain
  std::vector<RuleRef> globs_;
  size_t default_department_ = 0;
};

// Whether a hold's scope covers a message of these departments, normalised addresses
// (sender and recipients), capture time and sequence number (0: not known yet, so a scope
// naming sequence numbers does not cover it). See mailjournal.yaml(5), LEGAL HOLDS.
bool ScopeCovers(const HoldScope& scope, const std::vector<std::string>& departments,
                 const std::vector<std::string>& normalised_addresses, int64_t capture_us,
                 uint64_t seq);

// The scope in words: "all", or e.g. "departments brokerage, wealth; addresses
// ceo@bank.example" (the entries as written, in order).
std::string DescribeCapture(const CaptureScope& capture);

// True for a name of a department, retention class or role: [a-z0-9] then [a-z0-9_.-]*.
// Such a name is also a safe file name.
bool IsValidPolicyName(const std::string& name);

// The spelling of a policy file's path that loaders should use: absolute and lexically
// normal ("policy.yaml" in /etc/mailjournal -> "/etc/mailjournal/policy.yaml"). The digest
// covers the paths, so the same file then always has the same digest.
std::string CanonicalPolicyPath(const std::string& path);

// Loads the policy at `path` (include and key paths are relative to its directory). On
// success returns true and sets *policy; otherwise returns false, leaves *policy unchanged
// and appends every problem found to *errors (the loader goes on after an error so that
// one run reports them all).
bool LoadPolicy(const std::string& path, const FileReader& reader,
                std::shared_ptr<const Policy>* policy, std::vector<PolicyError>* errors);

}  // namespace mailjournal

#endif  // MAILJOURNAL_POLICY_H_
