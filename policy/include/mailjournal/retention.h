// Retention: legal holds and the disposal of expired messages (mailjournal-hold(8),
// mailjournal-purge(8), mailjournal.yaml(5) LEGAL HOLDS).
//
// The holds in force are the policy's (holds: in the policy file in force) and those placed
// in the journal with `mailjournal hold add` and not yet released. A message may be disposed
// of once its retain-until date has passed and while no hold in force covers it. Disposal
// destroys the message's content (ciphertext and wrapped keys) and appends a dispose entry
// in the same write (Journal::DisposeMessages); `verify` checks every disposal against the
// rules in force when it was made (RetentionChecker).
//
// Decisions and the changes they depend on are serialised: each batch of disposals is
// decided and written under the same lock as hold entries and policy loads (LockRules), so
// the journal's order of entries is the order in which the rules applied.
//
// Thread-safety: all methods may be called concurrently.
#ifndef MAILJOURNAL_RETENTION_H_
#define MAILJOURNAL_RETENTION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mailjournal/entry.h"
#include "mailjournal/journal.h"
#include "mailjournal/policy.h"
#include "mailjournal/policy_holder.h"
#include "mailjournal/segment.h"
#include "mailjournal/verify.h"

namespace mailjournal {

// A hold in force and where it comes from.
struct HoldInForce {
  std::string case_id;
  std::string reason;
  std::string placed_by;  // the policy's placed_by, or the user who placed it with the tool
  HoldScope scope;
  bool from_policy = false;  // in the policy file; else placed with the tool
  uint64_t seq = 0;          // the policy entry, or the hold entry
  int64_t time_us = 0;       // when that entry was made
};

// The holds placed in the journal and not released, by case, as of some entry.
class JournalHolds {
 public:
  // Applies a hold or release entry (others are ignored).
  void Apply(uint64_t seq, const Entry& entry);
  // Rebuilds the set from the journal's hold and release entries before `before_seq` (0:
  // all), using the journal's index of them.
  Status Load(Journal* journal, uint64_t before_seq);
  const std::map<std::string, std::pair<uint64_t, HoldEntry>>& active() const { return active_; }

 private:
  std::map<std::string, std::pair<uint64_t, HoldEntry>> active_;  // case -> (seq, entry)
};

// The case ids of the holds (the policy's and the journal's) that cover message `seq`.
// Addresses are compared in the policy's normal form.
std::vector<std::string> CoveringHolds(const Policy& policy, const JournalHolds& holds,
                                       uint64_t seq, const MessageEntry& message);

// For segments (mailjournal/segment.h): makes, per segment, the function that names the
// holds in force now (the active policy's and the journal's) covering a message; it
// returns null (holds unknown) when the journal's holds cannot be read or no policy
// is in force.
std::function<CoveringHoldsFn()> SegmentHoldsFactory(Journal* journal, PolicyHolder* policies);

struct PurgeOptions {
  bool dry_run = false;  // decide and report, dispose of nothing
  uint64_t limit = 0;    // dispose of at most this many (0: no limit)
  Actor actor;           // recorded in each dispose entry
  // Whether the caller may dispose of this message (its departments); null: any.
  std::function<bool(const MessageEntry&)> permitted;
  size_t batch = 1000;  // messages decided and disposed of per write
  // Asked between batches; true stops the purge early (e.g. the daemon is stopping).
  std::function<bool()> cancelled;
};

struct PurgeReport {
  uint64_t expired = 0;        // expired messages examined
  uint64_t disposed = 0;       // disposed of (with dry_run: that would be)
  uint64_t held = 0;           // expired but covered by a hold
  uint64_t not_permitted = 0;  // expired, but of departments the caller may not purge
  std::vector<std::pair<uint64_t, uint64_t>> disposed_seqs;  // messages, as ranges
  std::vector<std::pair<uint64_t, uint64_t>> entry_seqs;     // the dispose entries, as ranges
  std::map<std::string, uint64_t> held_by;                   // case -> messages it kept
};

class Retention {
 public:
  // REQUIRES: journal and policies outlive this. `clock` (null: NowMicros) decides what has
  // expired; the journal's own clock stamps the dispose entries, which must not be earlier.
  Retention(Journal* journal, PolicyHolder* policies, std::function<int64_t()> clock = nullptr);

  // Loads the journal's holds. Call once before anything else.
  Status Open();

  // Held while the holds in force change (hold entries, policy loads) and while a batch of
  // disposals is decided and written. The daemon's policy reloads take it.
  std::unique_lock<std::mutex> LockRules() { return std::unique_lock<std::mutex>(rules_mu_); }

  // Loads the policy file into the holder (PolicyHolder::Load), under the rules lock, and
  // refuses a policy with a hold whose case id is that of a hold placed with the tool.
  Status LoadPolicy(const std::string& reason, std::vector<PolicyError>* errors, uint64_t* seq);

  // Places a hold (its time is set by the journal). InvalidArgument when a hold of that case
  // is in force already or the scope names nothing; sets *seq to the hold entry.
  Status PlaceHold(HoldEntry hold, uint64_t* seq);
  // Releases the journal's hold of `case_id`. NotFound when no such hold was placed with
  // the tool (a policy hold is lifted by editing the policy: InvalidArgument says so).
  Status ReleaseHold(const std::string& case_id, const std::string& reason, const Actor& actor,
                     uint64_t* seq);
  // Every hold in force: the policy's, then the journal's, each in case order.
  std::vector<HoldInForce> Holds() const;
  // The journal's hold of `case_id`, or the policy's; false when neither exists.
  bool FindHold(const std::string& case_id, HoldInForce* hold) const;

  // Disposes of the expired messages that no hold covers, in batches, then compacts the
  // journal so that no file keeps their bytes. Mail keeps flowing meanwhile.
  Status Purge(const PurgeOptions& options, PurgeReport* report);

 private:
  bool FindHoldInPolicy(const std::string& case_id) const;

  Journal* const journal_;
  PolicyHolder* const policies_;
  const std::function<int64_t()> clock_;
  std::mutex rules_mu_;  // see LockRules
  std::mutex purge_mu_;  // one purge at a time
  mutable std::mutex holds_mu_;
  JournalHolds holds_;  // GUARDED_BY(holds_mu_); changed only under rules_mu_ too
};

// Checks, for `mailjournal verify`, that each dispose entry was allowed by the holds in
// force when it was appended: the policy then in force (rebuilt from its policy entry) and
// the journal's holds then placed and not released.
class RetentionChecker : public DisposalChecker {
 public:
  Status Start(Journal* journal, uint64_t first_seq) override;
  std::string Check(uint64_t seq, const Entry& entry, const MessageEntry* message) override;

 private:
  std::shared_ptr<const Policy> policy_;  // in force at the entry being checked
  std::string policy_problem_;            // why the policy in force could not be rebuilt
  JournalHolds holds_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_RETENTION_H_
