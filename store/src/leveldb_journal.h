// Internal to store/ and its tests: the LevelDB journal opened on a given leveldb::Env, so
// that tests can inject faults (dropped unsynced writes, failing writes and syncs, a slow
// disk) under it. The public OpenJournal (mailjournal/journal.h) is this with the default
// Env; JournalOptions stays free of LevelDB types.
#ifndef MAILJOURNAL_STORE_SRC_LEVELDB_JOURNAL_H_
#define MAILJOURNAL_STORE_SRC_LEVELDB_JOURNAL_H_

#include <memory>

#include "mailjournal/journal.h"

namespace leveldb {
class Env;
}  // namespace leveldb

namespace mailjournal {

// As OpenJournal, with every file of the database accessed through `env` (nullptr:
// leveldb::Env::Default()), also when the journal reopens its database after a failed
// write. REQUIRES: env, if given, outlives the journal.
Status OpenLevelDbJournal(const JournalOptions& options, leveldb::Env* env,
                          std::unique_ptr<Journal>* journal);

}  // namespace mailjournal

#endif  // MAILJOURNAL_STORE_SRC_LEVELDB_JOURNAL_H_
