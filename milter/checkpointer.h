// Checkpointer: makes the journal's signed checkpoints (mailjournal/checkpoint.h).
//
// Every `interval` seconds, and when stopped, if entries were committed since its last
// checkpoint, it appends a checkpoint entry of the tree as it stands (Journal::
// AppendCheckpoint) and, when a directory is configured, writes the same signed note to
// DIR/checkpoint.SIZE (SIZE zero-padded to 20 digits, so names sort by size) atomically:
// written to a temporary name, synced, linked to its name, and the directory synced. An
// existing file is never replaced (a different one of the same size means the journal was
// rolled back: that evidence is kept and the failure logged). That directory
// is meant to be another machine's mount or a replicated directory: a copy the MTA host
// cannot rewrite is what lets `mailjournal verify --checkpoints` detect a rolled-back or
// rewritten journal. Failures are logged; a checkpoint that could not be appended is made
// at the next interval, a copy that could not be written is tried again then. Neither
// affects mail.
//
// Thread-safety: Start and Stop are called by one thread; the work runs on its own thread.
#ifndef MAILJOURNAL_MILTER_CHECKPOINTER_H_
#define MAILJOURNAL_MILTER_CHECKPOINTER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "mailjournal/checkpoint.h"
#include "mailjournal/journal.h"

namespace mailjournal {

class Checkpointer {
 public:
  // REQUIRES: journal outlives the checkpointer; interval_s >= 1. `on_checkpoint`, when
  // set, is called after each checkpoint entry is appended (by the checkpointer's thread,
  // or Stop's); it must not block (e.g. Shipper::Wake).
  Checkpointer(Journal* journal, std::unique_ptr<NoteSigner> signer, int interval_s,
               std::string dir, std::function<void()> on_checkpoint = nullptr);
  ~Checkpointer();

  // Removes temporary files a killed daemon left in the directory, writes the copy of the
  // journal's newest checkpoint entry if it is missing (a copy interrupted by a crash),
  // then starts the thread.
  void Start();
  // Stops the thread, then makes a last checkpoint if the journal grew. Idempotent.
  void Stop();

  // Makes a checkpoint now if the journal grew since the last one. Sets *seq to the new
  // entry's number (0 when nothing was due).
  Status CheckpointIfGrown(uint64_t* seq);

  // Asks the thread for a checkpoint now, made even when the only entry since the last
  // checkpoint is that checkpoint's own entry (which no checkpoint covers yet): the
  // shipper's way to close a segment on an idle journal (shipper.h). Any thread; does not
  // block.
  void RequestCheckpoint();

  // The newest checkpoint whose copy is in the directory (written, or found in place at
  // Start): its tree size and commit time. False when none is known (or no directory).
  // May be called from any thread.
  bool LastCopy(uint64_t* tree_size, int64_t* checkpoint_time_us) const;

 private:
  struct Copy {
    uint64_t tree_size;
    int64_t time_us;  // the checkpoint entry's commit time
    std::string note;
  };
  void Run();
  // CheckpointIfGrown, or with `own_entry` also when only the last checkpoint's own entry
  // is uncovered.
  Status MakeCheckpoint(bool own_entry, uint64_t* seq);
  void RepairDirectory();
  // Writes the copy of a checkpoint; an identical existing copy counts as written.
  Status WriteFile(uint64_t size, const std::string& note);
  // WriteFile, remembering a copy written for LastCopy() and one that failed for a retry.
  Status WriteCopy(Copy copy);

  Journal* const journal_;
  const std::unique_ptr<NoteSigner> signer_;
  const int interval_s_;
  const std::string dir_;
  const std::function<void()> on_checkpoint_;
  uint64_t covered_ = 0;         // the journal's size right after the last checkpoint entry
  std::vector<Copy> unwritten_;  // copies to try again
  mutable std::mutex copy_mu_;
  uint64_t copied_tree_size_ = 0;  // GUARDED_BY(copy_mu_); 0: none yet
  int64_t copied_time_us_ = 0;     // GUARDED_BY(copy_mu_)
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;   // GUARDED_BY(mu_)
  bool requested_ = false;  // GUARDED_BY(mu_): RequestCheckpoint() was called
  std::thread thread_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_CHECKPOINTER_H_
