// PolicyHolder: the policy in force, and how it changes.
//
// The daemon loads its policy file at start and on every reload; each successful load is
// journaled as a policy entry before it takes effect, so the policy in force at any time is
// provable. A failed load changes nothing: the running policy stays. Offline tools make the
// journal's newest policy entry active instead of reading a file.
//
// Thread-safety: all methods may be called concurrently. Active() returns a snapshot that
// stays valid (and unchanged) for as long as the caller holds it, whatever reloads happen.
#ifndef MAILJOURNAL_POLICY_HOLDER_H_
#define MAILJOURNAL_POLICY_HOLDER_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mailjournal/journal.h"
#include "mailjournal/policy.h"
#include "mailjournal/status.h"

namespace mailjournal {

// The status of a request that needs a policy when none is in force (NotFound).
Status NoPolicyInForce();

// Rebuilds the policy of a policy entry (number `seq`, for messages) from the files it
// recorded. Corruption when they no longer load or do not give its digest.
Status PolicyFromEntry(const PolicyEntry& entry, uint64_t seq,
                       std::shared_ptr<const Policy>* policy);

class PolicyHolder {
 public:
  // REQUIRES: journal outlives the holder. `path` may be "" for a holder that only loads
  // from the journal.
  PolicyHolder(const std::string& path, Journal* journal)
      : path_(path.empty() ? path : CanonicalPolicyPath(path)), journal_(journal) {}

  // Further checks a loaded policy must pass before it is journaled (e.g. against the holds
  // placed with the tool); each problem is appended to *errors.
  using PolicyCheck = std::function<void(const Policy& policy, std::vector<PolicyError>* errors)>;

  // Loads the policy file. On success appends a policy entry (with `reason`) and, in the
  // same write, a key entry for every key it adds to or removes from a holder compared with
  // the policy in force before (the journal's newest after a restart), makes the policy
  // active and sets *seq to the policy entry's sequence number. Otherwise returns
  // InvalidArgument with every problem in *errors (or the journal's error), and the active
  // policy stays.
  // A problem found by `check` (if set) refuses the policy like an error in the file.
  Status Load(const std::string& reason, std::vector<PolicyError>* errors, uint64_t* seq,
              const PolicyCheck& check = nullptr);

  // Makes the journal's newest policy entry active, rebuilt from the files it recorded.
  // NotFound when the journal has none; Corruption when it no longer loads or its digest
  // does not match.
  Status LoadFromJournal();

  // The active policy (null before the first successful load) and its entry's sequence
  // number.
  std::shared_ptr<const Policy> Active() const;
  uint64_t active_seq() const;

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  Journal* const journal_;
  std::mutex load_mu_;  // one load at a time, so entries are in the order policies apply
  mutable std::mutex mu_;
  std::shared_ptr<const Policy> active_;  // GUARDED_BY(mu_)
  uint64_t active_seq_ = 0;               // GUARDED_BY(mu_)
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_POLICY_HOLDER_H_
