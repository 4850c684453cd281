// JournalSummary: the figures about a journal that `mailjournal status` shows and that
// mailjournald exports as metrics (mailjournald(8), METRICS): its size on disk, its tree and
// its newest checkpoint. Read from the journal alone, so the daemon and the offline tool
// report the same.
//
// Thread-safety: as the journal's (SummarizeJournal only reads).
#ifndef MAILJOURNAL_JOURNAL_SUMMARY_H_
#define MAILJOURNAL_JOURNAL_SUMMARY_H_

#include <cstdint>
#include <string>

#include "mailjournal/journal.h"
#include "mailjournal/status.h"

namespace mailjournal {

struct JournalSummary {
  uint64_t tree_size = 0;   // entries in the Merkle tree (= the last sequence number)
  uint64_t disk_bytes = 0;  // the bytes of the files under the journal directory
  // The newest checkpoint entry; checkpoint_seq 0 when the journal has none.
  uint64_t checkpoint_seq = 0;
  uint64_t checkpoint_tree_size = 0;  // the tree it signs (checkpoint_seq - 1)
  int64_t checkpoint_time_us = 0;     // when it was committed
};

// Sums the sizes of the regular files in `dir` and its subdirectories (as du would, in
// apparent bytes; symbolic links are not followed; what cannot be read below is left out).
// IOError naming the directory when it cannot be read; *bytes is then 0.
Status DirectoryBytes(const std::string& dir, uint64_t* bytes);

// Fills *summary from `journal`, whose directory is `dir`. Returns the first error (the
// disk usage or the checkpoint could not be read); the fields that could be read are set.
Status SummarizeJournal(Journal* journal, const std::string& dir, JournalSummary* summary);

}  // namespace mailjournal

#endif  // MAILJOURNAL_JOURNAL_SUMMARY_H_
