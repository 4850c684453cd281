// JournalEnv: the leveldb::Env the journal runs LevelDB on, over another Env. It closes two
// gaps between LevelDB's behaviour and the journal's promise that a committed message is
// durable and the journal readable after any failure:
//  - A log file (NAME.log) is synced before it is closed. LevelDB switches to a new log
//    without syncing the old one, but the journal stages chunks unsynced: they must be on
//    disk once a commit written to the next log has been synced.
//  - After a failed append, flush or sync of a file, every later one on it fails. LevelDB
//    would otherwise go on writing its log at offsets that no longer match the file, which
//    makes the log, and so the journal, unreadable; failing makes LevelDB stop writing and
//    the journal reopen its database (Journal, RecoverIfFailed).
// Thread-safety: as the Env it wraps; each file is used by one thread at a time.
#ifndef MAILJOURNAL_STORE_SRC_JOURNAL_ENV_H_
#define MAILJOURNAL_STORE_SRC_JOURNAL_ENV_H_

#include <leveldb/env.h>

#include <string>

namespace mailjournal {

class JournalEnv : public leveldb::EnvWrapper {
 public:
  // REQUIRES: target outlives this Env.
  explicit JournalEnv(leveldb::Env* target) : leveldb::EnvWrapper(target) {}

  leveldb::Status NewWritableFile(const std::string& name, leveldb::WritableFile** result) override;
  leveldb::Status NewAppendableFile(const std::string& name,
                                    leveldb::WritableFile** result) override;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_STORE_SRC_JOURNAL_ENV_H_
