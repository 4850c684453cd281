// forge_review: forges review entries in a stopped daemon's journal, as an insider with write
// access to its files could. For tests/e2e/test_review.py: `mailjournal verify` must catch
// each and name the entry.
//
//   forge_review JOURNAL_DIR raw MESSAGE_SEQ    a review entry ("closed", by "forger") for the
//                                               message, written straight into the LevelDB
//                                               database as the next entry (the entry key and
//                                               its kind key, nothing else); prints its seq
//   forge_review JOURNAL_DIR status SEQ STATUS  rewrites review entry SEQ in the database with
//                                               another status, the rest unchanged
//   forge_review JOURNAL_DIR names SEQ          appends, through the journal library (tree and
//                                               leaf hash consistent), a review entry naming
//                                               entry SEQ whatever it is; prints its seq
#include <leveldb/db.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "mailjournal/entry.h"
#include "mailjournal/journal.h"
#include "mailjournal/time_util.h"

namespace {

using namespace mailjournal;

std::string Key(char prefix, uint64_t seq, int kind = -1) {
  std::string k(1, prefix);
  if (kind >= 0) k.push_back(static_cast<char>(kind));
  for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>((seq >> (8 * i)) & 0xff));
  return k;
}

int Failed(const std::string& why) {
  std::fprintf(stderr, "forge_review: %s\n", why.c_str());
  return 1;
}

// The database of a journal directory, opened behind the journal's back.
std::unique_ptr<leveldb::DB> OpenRaw(const std::string& dir, std::string* error) {
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(leveldb::Options(), dir + "/db", &db);
  if (!s.ok()) *error = s.ToString();
  return std::unique_ptr<leveldb::DB>(db);
}

int Raw(const std::string& dir, uint64_t message) {
  std::string error;
  std::unique_ptr<leveldb::DB> db = OpenRaw(dir, &error);
  if (db == nullptr) return Failed(error);
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  it->Seek(Key('e', UINT64_MAX));
  it->Prev();
  if (!it->Valid() || it->key().size() != 9 || it->key()[0] != 'e') return Failed("no entry");
  uint64_t last = 0;
  for (int i = 1; i <= 8; ++i) last = (last << 8) | static_cast<uint8_t>(it->key()[i]);
  Entry last_entry;
  if (!DecodeEntry(it->value().ToString(), &last_entry).ok()) return Failed("last entry");
  Entry e;
  e.kind = EntryKind::kReview;
  e.review.time_us = last_entry.time_us() + 1;
  e.review.actor = Actor{0, "forger"};
  e.review.message = message;
  e.review.status = ReviewStatus::kClosed;
  leveldb::WriteOptions wo;
  wo.sync = true;
  leveldb::Status s = db->Put(wo, Key('e', last + 1), EncodeEntry(e));
  if (s.ok()) s = db->Put(wo, Key('k', last + 1, static_cast<int>(EntryKind::kReview)), "");
  if (!s.ok()) return Failed(s.ToString());
  std::printf("%llu\n", static_cast<unsigned long long>(last + 1));
  return 0;
}

int ChangeStatus(const std::string& dir, uint64_t seq, const char* status) {
  std::string error, bytes;
  std::unique_ptr<leveldb::DB> db = OpenRaw(dir, &error);
  if (db == nullptr) return Failed(error);
  leveldb::Status s = db->Get(leveldb::ReadOptions(), Key('e', seq), &bytes);
  if (!s.ok()) return Failed(s.ToString());
  Entry e;
  if (!DecodeEntry(bytes, &e).ok() || e.kind != EntryKind::kReview) {
    return Failed("entry " + std::to_string(seq) + " is not a review entry");
  }
  if (!ParseReviewStatus(status, &e.review.status)) return Failed("status");
  std::string changed = EncodeEntry(e);
  if (changed == bytes) return Failed("the entry has that status already");
  leveldb::WriteOptions wo;
  wo.sync = true;
  s = db->Put(wo, Key('e', seq), changed);
  if (!s.ok()) return Failed(s.ToString());
  return 0;
}

int Names(const std::string& dir, uint64_t named) {
  JournalOptions options;
  options.dir = dir;
  options.create_if_missing = false;
  std::unique_ptr<Journal> journal;
  Status s = OpenJournal(options, &journal);
  std::vector<Entry> entries(1);
  entries[0].kind = EntryKind::kReview;
  entries[0].review.actor = Actor{0, "forger"};
  entries[0].review.message = named;
  uint64_t seq = 0;
  if (s.ok()) s = journal->AppendEntries(&entries, &seq);
  if (!s.ok()) return Failed(s.message());
  std::printf("%llu\n", static_cast<unsigned long long>(seq));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[2], "raw") == 0) {
    return Raw(argv[1], std::strtoull(argv[3], nullptr, 10));
  }
  if (argc == 5 && std::strcmp(argv[2], "status") == 0) {
    return ChangeStatus(argv[1], std::strtoull(argv[3], nullptr, 10), argv[4]);
  }
  if (argc == 4 && std::strcmp(argv[2], "names") == 0) {
    return Names(argv[1], std::strtoull(argv[3], nullptr, 10));
  }
  std::fprintf(stderr,
               "usage: forge_review JOURNAL_DIR raw MESSAGE_SEQ | status SEQ STATUS | "
               "names SEQ\n");
  return 64;
}
