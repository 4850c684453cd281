// IndexKeyJournal: journals the departments' search index keys as index_key entries
// (mailjournal/entry.h IndexKeyEntry), each sealed to the keys that the department's mail is
// sealed to under the policy in force (its keys and the escrow keys: SealingRecipients), so
// that those officers can search the journal's segments without the daemon's key directory
// (mailjournal-search(8), SEARCHING SEGMENTS).
//
// An entry is appended when the daemon makes a key (Record: "created", "rotated") and, after
// every policy load, for each key whose recipients are no longer those of its latest entry
// ("keys changed") or that has no entry yet ("created": made before keys were journaled,
// or its entry could not be appended then). A department whose mail is sealed to no key
// gets no entry: there is nobody to seal to.
//
// Thread-safety: thread-safe; one Record or Sync at a time.
#ifndef MAILJOURNAL_INDEX_KEY_JOURNAL_H_
#define MAILJOURNAL_INDEX_KEY_JOURNAL_H_

#include <mutex>
#include <string>

#include "mailjournal/index_keys.h"
#include "mailjournal/journal.h"
#include "mailjournal/policy_holder.h"
#include "mailjournal/status.h"

namespace mailjournal {

class IndexKeyJournal {
 public:
  // REQUIRES: all three outlive this object.
  IndexKeyJournal(Journal* journal, const PolicyHolder* policies, IndexKeyStore* keys)
      : journal_(journal), policies_(policies), keys_(keys) {}

  // Appends an index_key entry for `key` of `department`, sealed to the recipients of the
  // active policy. OK without appending when there is none to seal to.
  Status Record(const std::string& department, const IndexKey& key, const std::string& reason);

  // Appends the entries the active policy calls for (see above), in one write. Sets
  // *appended (may be null) to their number.
  Status Sync(size_t* appended = nullptr);

 private:
  Journal* const journal_;
  const PolicyHolder* const policies_;
  IndexKeyStore* const keys_;
  std::mutex mu_;  // one Record or Sync at a time, so Sync sees every entry Record made
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_INDEX_KEY_JOURNAL_H_
