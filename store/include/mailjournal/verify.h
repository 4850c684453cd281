// Verification of a whole journal (mailjournal verify, mailjournal-format(5) "VERIFYING A
// JOURNAL"): every entry is read back and decoded, its leaf hash recomputed from the stored
// bytes and compared with the one stored at commit, the Merkle tree rebuilt, every message's
// content chunks checked against the size and SHA-256 its entry records (content that is
// gone must be accounted for by a dispose entry, itself checked: made after the message's
// retain-until date and, with a DisposalChecker, while no hold covered it), every checkpoint
// entry checked against the rebuilt tree (and its signature, given the verifier key), every
// review and tag entry checked to name an earlier message entry, and
// the off-host checkpoints given checked against the tree at their size: a journal rolled
// back, rewritten or truncated behind one of them is reported.
//
// Thread-safety: VerifyJournal only reads; the journal may be written meanwhile (entries
// committed after it starts are not covered).
#ifndef MAILJOURNAL_VERIFY_H_
#define MAILJOURNAL_VERIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "mailjournal/checkpoint.h"
#include "mailjournal/journal.h"

namespace mailjournal {

struct OffHostCheckpoint {
  std::string name;  // where it came from (a file name), for reports
  std::string note;  // the signed note
};

// Checks the disposals that the tree cannot: that the rules in force allowed each one
// (retain-until passed, no hold covered the message). mailjournal/retention.h has the
// implementation, which knows the policy.
class DisposalChecker {
 public:
  virtual ~DisposalChecker() = default;
  // Learns the rules in force just before entry `first_seq` (verification may start after
  // entry 1) from the journal's indexes.
  virtual Status Start(Journal* journal, uint64_t first_seq) = 0;
  // Called with every entry, in sequence order, once its bytes are verified; for a dispose
  // entry `message` is the message it names. Returns "" when the entry is fine, else why
  // it is not.
  virtual std::string Check(uint64_t seq, const Entry& entry, const MessageEntry* message) = 0;
};

struct VerifyOptions {
  const NoteVerifier* verifier = nullptr;  // null: signatures are not checked
  std::vector<OffHostCheckpoint> checkpoints;
  // Start from this trusted checkpoint (a signed note) instead of entry 1: the tree up to
  // its size is rebuilt from the stored leaf hashes and must have its root; entries after it
  // are checked in full.
  std::string since;
  DisposalChecker* disposals = nullptr;  // null: disposals are checked structurally only
};

struct VerifyReport {
  bool intact = true;
  uint64_t first_bad_seq = 0;  // the first entry that does not verify (0: none, or none known)
  std::string problem;         // why, when not intact
  uint64_t entries = 0;        // entries checked in full
  uint64_t messages = 0;
  uint64_t disposals = 0;      // dispose entries checked
  uint64_t content_bytes = 0;  // stored content bytes read and checked
  uint64_t checkpoints = 0;    // checkpoint entries checked
  uint64_t signatures = 0;     // checkpoint signatures verified (entries and off-host)
  uint64_t off_host = 0;       // off-host checkpoints matched against the tree
  uint64_t tree_size = 0;      // the tree rebuilt
  Sha256Digest root{};
};

// Verifies the journal. Returns OK with report->intact false and the first problem when the
// journal does not verify; returns an error only when the check could not be made (an I/O
// error, an unreadable --since checkpoint).
Status VerifyJournal(Journal* journal, const VerifyOptions& options, VerifyReport* report);

}  // namespace mailjournal

#endif  // MAILJOURNAL_VERIFY_H_
