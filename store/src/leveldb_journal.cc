// The LevelDB implementation of Journal. Key layout (mailjournal-format(5)):
//   'e' u64 seq            -> encoded entry
//   'c' u64 txn u32 index  -> content chunk
//   'p' u64 txn            -> "" while txn has staged chunks and is not committed
//   'h' u64 seq            -> the entry's Merkle leaf hash (mailjournal/merkle.h)
//   'm' name               -> metadata ("mformat", "mgeneration", "mpolicy", "mtree",
//                             "mcompact")
//   'k' u8 kind u64 seq    -> "" for every entry of a kind other than message
//   'x' u64 until u64 seq  -> "" for every message whose content is stored; until is its
//                             retain-until time with the sign bit flipped (so it sorts)
//   'd' u64 message seq    -> u64 seq of the dispose entry that names the message
//   's' u64 seq            -> "" for every message entry with flags or sampled (supervised)
//   't', 'u', 'i', "mindexblock" -> search postings (postings.h)
// All integers big-endian, so appends are sequential in LevelDB's key order. Format "1"
// journals (before 'k', 'x' and 'd') get the indexes when first opened; format "2" ones
// (before the 'u' markers, when merges deleted the 't' records) a marker for each 't'.
#include "leveldb_journal.h"

#include <fcntl.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "coding.h"
#include "journal_env.h"
#include "mailjournal/journal.h"
#include "mailjournal/merkle.h"
#include "mailjournal/sha256.h"
#include "mailjournal/time_util.h"
#include "postings.h"

namespace mailjournal {

namespace {

constexpr char kFormat[] = "3";
constexpr char kFormatWithoutMarkers[] = "2";
constexpr char kFormatWithoutIndexes[] = "1";
constexpr char kLatestPolicyKey[] = "mpolicy";
constexpr char kTreeKey[] = "mtree";  // the Merkle tree's compact range after the last entry
// The range of transactions whose content was disposed of and not yet compacted away
// (u64 first, u64 last), then the range of those messages' sequence numbers, whose search
// terms went with them (u64 first, u64 last; absent in records written before), written
// with the dispose entries, removed after the compaction: a crash in between leaves the
// compaction to the next CompactDisposed.
constexpr char kCompactKey[] = "mcompact";

// What DisposeMessages deleted and CompactDisposed has not compacted yet; empty when
// max_txn is 0.
struct DisposedRange {
  uint64_t min_txn = UINT64_MAX, max_txn = 0;
  uint64_t min_seq = UINT64_MAX, max_seq = 0;
  void Add(const DisposedRange& o) {
    min_txn = std::min(min_txn, o.min_txn);
    max_txn = std::max(max_txn, o.max_txn);
    min_seq = std::min(min_seq, o.min_seq);
    max_seq = std::max(max_seq, o.max_seq);
  }
  std::string Encode() const {
    std::string v;
    for (uint64_t x : {min_txn, max_txn, min_seq, max_seq}) AppendBE(&v, x, 8);
    return v;
  }
  bool Decode(const std::string& v) {
    if (v.size() != 16 && v.size() != 32) return false;
    min_txn = ReadBE(v.data(), 8);
    max_txn = ReadBE(v.data() + 8, 8);
    if (v.size() == 32) {
      min_seq = ReadBE(v.data() + 16, 8);
      max_seq = ReadBE(v.data() + 24, 8);
    }
    return true;
  }
};

std::string EntryKey(uint64_t seq) {
  std::string k("e");
  AppendBE(&k, seq, 8);
  return k;
}

std::string ChunkPrefix(uint64_t txn) {
  std::string k("c");
  AppendBE(&k, txn, 8);
  return k;
}

std::string ChunkKey(uint64_t txn, uint32_t index) {
  std::string k = ChunkPrefix(txn);
  AppendBE(&k, index, 4);
  return k;
}

std::string PendingKey(uint64_t txn) {
  std::string k("p");
  AppendBE(&k, txn, 8);
  return k;
}

bool IsEntryKey(const leveldb::Slice& k) { return k.size() == 9 && k[0] == 'e'; }

std::string LeafHashKey(uint64_t seq) {
  std::string k = "h";
  AppendBE(&k, seq, 8);
  return k;
}

std::string KindKey(EntryKind kind, uint64_t seq) {
  std::string k = "k";
  k.push_back(static_cast<char>(kind));
  AppendBE(&k, seq, 8);
  return k;
}

std::string RetentionKey(int64_t retain_until_us, uint64_t seq) {
  std::string k = "x";
  AppendBE(&k, static_cast<uint64_t>(retain_until_us) ^ (uint64_t{1} << 63), 8);
  AppendBE(&k, seq, 8);
  return k;
}

std::string SupervisedKey(uint64_t seq) {
  std::string k = "s";
  AppendBE(&k, seq, 8);
  return k;
}

std::string DisposalKey(uint64_t message_seq) {
  std::string k = "d";
  AppendBE(&k, message_seq, 8);
  return k;
}

leveldb::Slice DigestSlice(const Sha256Digest& d) {
  return leveldb::Slice(reinterpret_cast<const char*>(d.data()), d.size());
}

Status FromLevelDb(const leveldb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound(what + ": " + s.ToString());
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

// Holds an exclusive flock on DIR/mailjournal.lock, which records the holder's pid.
class DirLock {
 public:
  ~DirLock() {
    if (fd_ >= 0) close(fd_);  // releases the lock
  }
  Status Acquire(const std::string& dir) {
    std::string path = dir + "/mailjournal.lock";
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd_ < 0) return Status::IOError(path + ": " + std::strerror(errno));
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      if (err == EWOULDBLOCK) {
        char buf[32] = {0};
        ssize_t n = pread(fd_, buf, sizeof buf - 1, 0);
        std::string holder = n > 0 ? std::string(buf, strcspn(buf, "\n")) : "unknown";
        return Status::Busy("journal " + dir + " is in use by process " + holder);
      }
      return Status::IOError(path + ": " + std::strerror(err));
    }
    std::string pid = std::to_string(getpid()) + "\n";
    if (ftruncate(fd_, 0) != 0 || pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
      return Status::IOError(path + ": " + std::strerror(errno));
    }
    return Status::OK();
  }

 private:
  int fd_ = -1;
};

class LevelDbJournal : public Journal {
 public:
  LevelDbJournal(JournalOptions options, leveldb::Env* env)
      : options_(std::move(options)),
        journal_env_(env != nullptr ? env : leveldb::Env::Default()) {}
  ~LevelDbJournal() override { StopMerger(); }

  Status Open();

  Status BeginTransaction(uint64_t* txn) override {
    Status s = RecoverIfFailed();
    if (!s.ok()) return s;
    std::shared_lock<std::shared_mutex> dl(db_mu_);
    if (db_ == nullptr) return Unusable();
    std::lock_guard<std::mutex> l(txn_mu_);
    if (next_txn_ > kMaxTxnCounter) {
      // The counter is 32 bits: start a new generation rather than reuse an id.
      Status s = WriteGeneration(generation_ + 1);
      if (!s.ok()) return s;
      next_txn_ = 1;
    }
    *txn = (generation_ << 32) | next_txn_++;
    return Status::OK();
  }

  Status StageChunk(uint64_t txn, uint32_t index, std::string_view data) override {
    if (data.size() > kMaxChunkSize) return Status::InvalidArgument("chunk too large");
    std::shared_lock<std::shared_mutex> dl(db_mu_);
    if (db_ == nullptr) return Unusable();
    Status s = CheckCurrent(txn);
    if (!s.ok()) return s;
    leveldb::WriteBatch batch;
    if (index == 0) batch.Put(PendingKey(txn), "");
    batch.Put(ChunkKey(txn, index), leveldb::Slice(data.data(), data.size()));
    return Written(db_->Write(leveldb::WriteOptions(), &batch), "journal: stage chunk");
  }

  Status AbortTransaction(uint64_t txn, uint32_t staged_chunks) override {
    std::shared_lock<std::shared_mutex> dl(db_mu_);
    if (db_ == nullptr) return Unusable();
    leveldb::WriteBatch batch;
    for (uint32_t i = 0; i < staged_chunks; ++i) batch.Delete(ChunkKey(txn, i));
    batch.Delete(PendingKey(txn));
    return Written(db_->Write(leveldb::WriteOptions(), &batch), "journal: abort");
  }

  Status CommitMessage(MessageEntry* message, std::string_view final_chunk,
                       const Finalizer& finalize, const std::vector<TermSet>& terms,
                       uint64_t* seq) override {
    if (final_chunk.size() > kMaxChunkSize) return Status::InvalidArgument("chunk too large");
    Entry entry;
    entry.kind = EntryKind::kMessage;
    entry.message = std::move(*message);
    Status s = Append(&entry, 1, final_chunk, finalize ? &finalize : nullptr, nullptr, seq, nullptr,
                      nullptr, &terms);
    *message = std::move(entry.message);
    return s;
  }

  Status AppendEntries(std::vector<Entry>* entries, uint64_t* first_seq) override {
    if (entries->empty()) return Status::InvalidArgument("journal: no entries to append");
    for (const Entry& e : *entries) {
      if (e.kind == EntryKind::kMessage) {
        return Status::InvalidArgument("journal: messages are appended with CommitMessage");
      }
    }
    return Append(entries->data(), entries->size(), {}, nullptr, nullptr, first_seq);
  }

  Status AppendCheckpoint(const CheckpointMaker& make, uint64_t* seq) override {
    Entry entry;
    entry.kind = EntryKind::kCheckpoint;
    return Append(&entry, 1, {}, nullptr, &make, seq);
  }

  Status LatestPolicy(uint64_t* seq, PolicyEntry* policy) override {
    std::string value;
    leveldb::Status ls;
    {
      std::shared_lock<std::shared_mutex> dl(db_mu_);
      if (db_ == nullptr) return Unusable();
      ls = db_->Get(leveldb::ReadOptions(), kLatestPolicyKey, &value);
    }
    if (ls.IsNotFound()) return Status::NotFound("journal: no policy entry");
    if (!ls.ok()) return FromLevelDb(ls, "journal: latest policy");
    if (value.size() != 8) return Status::Corruption("journal: bad latest-policy record");
    Entry entry;
    Status s = ReadEntry(ReadBE(value.data(), 8), &entry);
    if (s.ok() && entry.kind != EntryKind::kPolicy) {
      s = Status::Corruption("journal: the latest-policy record names a " +
                             std::string(EntryKindName(entry.kind)) + " entry");
    }
    if (!s.ok()) return s;
    *seq = ReadBE(value.data(), 8);
    *policy = std::move(entry.policy);
    return Status::OK();
  }

  uint64_t LastSequence() const override {
    std::lock_guard<std::mutex> l(mu_);
    return last_seq_;
  }

  Status ReadEntry(uint64_t seq, Entry* entry) override {
    std::string value;
    Status s = ReadEntryBytes(seq, &value);
    return s.ok() ? Decode(seq, value, entry) : s;
  }

  Status ReadEntryBytes(uint64_t seq, std::string* bytes) override {
    return ReadRecord(seq, EntryKey(seq), "", bytes);
  }

  Status ReadLeafHash(uint64_t seq, Sha256Digest* hash) override {
    std::string value;
    Status s = ReadRecord(seq, LeafHashKey(seq), "leaf hash ", &value);
    if (s.ok() && value.size() != hash->size()) {
      s = Status::Corruption("entry " + std::to_string(seq) + ": malformed leaf hash");
    }
    if (s.ok()) std::copy(value.begin(), value.end(), hash->begin());
    return s;
  }

  void TreeHead(uint64_t* size, Sha256Digest* root) const override {
    std::lock_guard<std::mutex> l(mu_);
    *size = tree_.size();
    *root = tree_.Root();
  }

  Status Scan(uint64_t from, bool reverse, const Visitor& visit) override;
  Status ReadContent(const ContentRef& content, const ChunkSink& sink) override;

  Status ScanKind(EntryKind kind, uint64_t from, bool reverse, const Visitor& visit) override;
  Status ScanSupervised(uint64_t from, bool reverse, const Visitor& visit) override;
  Status ScanRetention(int64_t until_us, RetentionCursor* cursor,
                       const RetentionVisitor& visit) override;
  Status DisposeMessages(std::vector<Entry>* disposals, uint64_t* first_seq) override;
  Status CompactDisposed() override;

  Status FindDisposal(uint64_t seq, uint64_t* dispose_seq) override {
    std::string value;
    leveldb::Status ls;
    {
      std::shared_lock<std::shared_mutex> dl(db_mu_);
      if (db_ == nullptr) return Unusable();
      ls = db_->Get(leveldb::ReadOptions(), DisposalKey(seq), &value);
    }
    if (ls.IsNotFound()) {
      return Status::NotFound("message " + std::to_string(seq) + ": no dispose entry");
    }
    if (!ls.ok()) return FromLevelDb(ls, "journal: disposal of " + std::to_string(seq));
    if (value.size() != 8) return Status::Corruption("journal: bad disposal record");
    *dispose_seq = ReadBE(value.data(), 8);
    return Status::OK();
  }

  Status ReadPostings(uint64_t key_id, uint64_t hash, std::vector<Posting>* out) override {
    std::shared_lock<std::shared_mutex> dl(db_mu_);
    if (db_ == nullptr) return Unusable();
    return postings_.Read(db_.get(), key_id, hash, out);
  }

  Status AddTerms(uint64_t seq, const std::vector<TermSet>& terms) override {
    std::shared_lock<std::shared_mutex> dl(db_mu_);
    if (db_ == nullptr) return Unusable();
    if (seq == 0 || seq > LastSequence()) {
      return Status::NotFound("entry " + std::to_string(seq) + ": no such entry");
    }
    leveldb::WriteBatch batch;
    PostingStore::AddToBatch(seq, terms, &batch);
    leveldb::WriteOptions wo;
    wo.sync = true;
    Status s = Written(db_->Write(wo, &batch), "journal: add search terms");
    if (s.ok()) postings_.Added(seq, terms);
    if (s.ok() && postings_.NeedsMerge(options_.merge_postings)) WakeMerger();
    return s;
  }

  Status ReadTerms(uint64_t seq, std::vector<TermSet>* out) override {
    std::shared_lock<std::shared_mutex> dl(db_mu_);
    if (db_ == nullptr) return Unusable();
    return PostingStore::ReadTerms(db_.get(), seq, out);
  }

  Status DropIndexKey(uint64_t key_id) override {
    std::shared_lock<std::shared_mutex> dl(db_mu_);
    if (db_ == nullptr) return Unusable();
    return postings_.Drop(db_.get(), key_id);
  }

  Status MergePostings() override {
    std::shared_lock<std::shared_mutex> dl(db_mu_);
    if (db_ == nullptr) return Unusable();
    return postings_.Merge(db_.get());
  }

  void ApproximateSizes(uint64_t* postings_bytes, uint64_t* journal_bytes) override {
    *postings_bytes = *journal_bytes = 0;
    std::shared_lock<std::shared_mutex> dl(db_mu_);
    if (db_ == nullptr) return;
    // 'i', 't' and 'u' are adjacent to nothing else of the index: "i".."j" and "t".."v".
    leveldb::Range ranges[3] = {{"i", "j"}, {"t", "v"}, {"", "\xff"}};
    uint64_t sizes[3] = {0, 0, 0};
    db_->GetApproximateSizes(ranges, 3, sizes);
    *postings_bytes = sizes[0] + sizes[1];
    *journal_bytes = sizes[2];
  }

 private:
  void WakeMerger() {
    std::lock_guard<std::mutex> l(merger_mu_);
    merge_wanted_ = true;
    if (!merger_.joinable()) merger_ = std::thread([this] { RunMerger(); });
    merger_cv_.notify_one();
  }
  // Merges postings whenever woken, until stopped. A failed merge is retried at the next
  // wake-up (its 't' records stay).
  void RunMerger() {
    std::unique_lock<std::mutex> l(merger_mu_);
    while (true) {
      merger_cv_.wait(l, [this] { return merge_wanted_ || merger_stop_; });
      if (merger_stop_) return;
      merge_wanted_ = false;
      l.unlock();
      MergePostings();
      l.lock();
    }
  }
  void StopMerger() {
    {
      std::lock_guard<std::mutex> l(merger_mu_);
      merger_stop_ = true;
      merger_cv_.notify_one();
    }
    if (merger_.joinable()) merger_.join();
  }

  struct Writer {
    Entry* entries;  // written with consecutive sequence numbers
    size_t count;
    std::string_view final_chunk;
    const Finalizer* finalize = nullptr;
    const CheckpointMaker* make = nullptr;        // fills the (single) entry from the tree head
    const MessageEntry* disposed = nullptr;       // per dispose entry, the message it names
    const std::string* compact_range = nullptr;   // the new kCompactKey value, if any
    const std::vector<TermSet>* terms = nullptr;  // a message's search postings
    const leveldb::WriteBatch* also = nullptr;    // more to write with the entries
    Status status;
    uint64_t seq = 0;
    bool done = false;
    std::condition_variable cv;
  };

  // Reads the record `key` of entry `seq`: NotFound beyond the journal, Corruption if gone.
  Status ReadRecord(uint64_t seq, const std::string& key, const std::string& what,
                    std::string* value) {
    std::string where = "entry " + std::to_string(seq);
    if (seq == 0 || seq > LastSequence()) return Status::NotFound(where + ": no such entry");
    leveldb::ReadOptions ro;
    ro.verify_checksums = true;
    std::shared_lock<std::shared_mutex> dl(db_mu_);
    if (db_ == nullptr) return Unusable();
    leveldb::Status s = db_->Get(ro, key, value);
    if (s.IsNotFound()) return Status::Corruption(where + ": " + what + "missing from the journal");
    return FromLevelDb(s, where);
  }

  static Status Decode(uint64_t seq, const std::string& value, Entry* entry) {
    Status s = DecodeEntry(value, entry);
    if (!s.ok()) return Status::Corruption("entry " + std::to_string(seq) + ": " + s.message());
    return s;
  }

  // Group commit: queues the entry, and the thread at the head of the queue writes every
  // queued entry in one synced batch.
  Status Append(Entry* entries, size_t count, std::string_view final_chunk,
                const Finalizer* finalize, const CheckpointMaker* make, uint64_t* seq,
                const MessageEntry* disposed = nullptr, const std::string* compact_range = nullptr,
                const std::vector<TermSet>* terms = nullptr,
                const leveldb::WriteBatch* also = nullptr);
  // Adds the index records of entry `seq` (and, for a dispose entry, the deletions of its
  // message's content) to batch.
  void IndexEntry(const Entry& entry, uint64_t seq, const MessageEntry* disposed,
                  leveldb::WriteBatch* batch);
  // Builds the 'k' and 'x' indexes of a format "1" journal. REQUIRES: as OpenDatabase.
  Status BuildIndexes();
  // ScanKind and ScanSupervised: the entries of kind `kind` whose sequence numbers are the
  // keys `prefix` u64 seq, in the order and with the contract of ScanKind.
  Status ScanIndex(const std::string& prefix, EntryKind kind, const char* what, uint64_t from,
                   bool reverse, const Visitor& visit);
  // Marks every 't' record of a format "2" journal unmerged. REQUIRES: as OpenDatabase.
  Status AddUnmergedMarkers();
  // Loads the range of disposed content not yet compacted (kCompactKey).
  Status LoadCompactRange();
  int64_t Now() const { return options_.clock ? options_.clock() : NowMicros(); }
  // Opens the LevelDB database and loads the journal's state from it. REQUIRES: no other
  // thread uses db_ (at open, or under an exclusive db_mu_).
  Status OpenDatabase();
  // After a failed write LevelDB may refuse every later write (its background error is
  // sticky) and its log may end in a partial record, so the database is closed and opened
  // again before the journal takes more: at most once a second, when a transaction begins.
  // Transactions begun before take no more chunks or commits (a new generation).
  Status RecoverIfFailed();
  // Remembers a failed write for RecoverIfFailed; returns the status.
  Status Written(const leveldb::Status& s, const std::string& what);
  // IOError for a transaction begun before the last recovery. REQUIRES: db_mu_ held.
  Status CheckCurrent(uint64_t txn);
  // Why there is no database: its reopening failed (RecoverIfFailed tries again).
  Status Unusable();
  Status RemoveUncommittedTransactions();
  Status InitMetadata();
  // Loads the tree's compact range, rebuilding it (and any missing leaf hash) from the
  // entries when it does not cover them all (a journal written before the tree existed).
  Status LoadTree();
  // Records `generation` durably and makes it current.
  Status WriteGeneration(uint64_t generation);

  const JournalOptions options_;
  JournalEnv journal_env_;  // over env_: what LevelDB uses (declared before db_)
  DirLock lock_;
  // Shared by every use of db_, exclusive while the database is reopened; taken before mu_
  // and txn_mu_.
  mutable std::shared_mutex db_mu_;
  std::unique_ptr<leveldb::DB> db_;
  std::mutex failure_mu_;         // taken last: no other lock is taken while it is held
  Status write_failure_;          // GUARDED_BY(failure_mu_): set by a failed write
  int64_t last_recovery_us_ = 0;  // GUARDED_BY(failure_mu_)
  static constexpr uint64_t kMaxTxnCounter = 0xffffffff;
  // Free space needed before the database is reopened after a write failure: a full write
  // buffer turned into a table, twice over.
  static constexpr uint64_t kRecoverySpace = 16 << 20;
  std::mutex txn_mu_;
  uint64_t generation_ = 0;  // GUARDED_BY(txn_mu_) once open
  uint64_t next_txn_ = 1;    // GUARDED_BY(txn_mu_)

  mutable std::mutex mu_;
  std::deque<Writer*> writers_;  // GUARDED_BY(mu_); front is the group leader
  uint64_t last_seq_ = 0;        // GUARDED_BY(mu_)
  CompactRange tree_;            // GUARDED_BY(mu_); over entries 1..last_seq_
  Status tree_error_;            // set at open when the stored tree does not cover the entries
  int64_t last_time_us_ = 0;     // GUARDED_BY(mu_); commit times never go backwards
  bool needs_indexes_ = false;   // a format "1" journal, until BuildIndexes()
  bool needs_markers_ = false;   // a format "1" or "2" journal, until AddUnmergedMarkers()

  PostingStore postings_;
  // The background merge of postings (MergePostings), woken by commits.
  std::thread merger_;
  std::mutex merger_mu_;
  std::condition_variable merger_cv_;
  bool merge_wanted_ = false;  // GUARDED_BY(merger_mu_)
  bool merger_stop_ = false;   // GUARDED_BY(merger_mu_)

  std::mutex disposed_mu_;
  DisposedRange disposed_;  // GUARDED_BY(disposed_mu_): not yet compacted
};

Status LevelDbJournal::Open() {
  const std::string& dir = options_.dir;
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT || !options_.create_if_missing) {
      return errno == ENOENT ? Status::NotFound("journal " + dir + ": no such directory")
                             : Status::IOError("journal " + dir + ": " + std::strerror(errno));
    }
    if (mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
      return Status::IOError("journal " + dir + ": cannot create: " + std::strerror(errno));
    }
  } else if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("journal " + dir + ": not a directory");
  } else if (!options_.create_if_missing && stat((dir + "/db/CURRENT").c_str(), &st) != 0) {
    return Status::NotFound("journal " + dir + ": no journal in this directory");
  }
  Status s = lock_.Acquire(dir);
  if (!s.ok()) return s;
  return OpenDatabase();
}

Status LevelDbJournal::OpenDatabase() {
  const std::string& dir = options_.dir;
  leveldb::Options opts;
  opts.create_if_missing = options_.create_if_missing;
  opts.paranoid_checks = true;
  opts.env = &journal_env_;
  // The memtable holds staged chunks until it is flushed to a table, so its size bounds
  // the daemon's memory for large messages (about twice this, while one is flushed; the
  // e2e test holds one 25 MB message to 16 MiB of growth). 16 MiB committed about 10% more
  // messages/s (commit_bench: 4,508 against 4,114), but one 25 MB message then grew the
  // daemon by 19 MiB; 8 MiB gains nothing.
  opts.write_buffer_size = 4 << 20;
  // Nearly every byte stored is sealed (AES-GCM ciphertext): Snappy would only spend CPU.
  opts.compression = leveldb::kNoCompression;
  leveldb::DB* db = nullptr;
  Status s = FromLevelDb(leveldb::DB::Open(opts, dir + "/db", &db), "journal " + dir);
  if (!s.ok()) return s;
  db_.reset(db);
  last_seq_ = 0;
  last_time_us_ = 0;
  tree_ = CompactRange();
  tree_error_ = Status::OK();
  s = InitMetadata();
  if (s.ok()) s = RemoveUncommittedTransactions();
  if (!s.ok()) return s;

  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  // The last key before "f" is the last entry, if there is any entry at all.
  it->Seek("f");
  if (it->Valid()) {
    it->Prev();
  } else {
    it->SeekToLast();
  }
  if (it->Valid() && IsEntryKey(it->key())) last_seq_ = ReadBE(it->key().data() + 1, 8);
  if (!it->status().ok()) return FromLevelDb(it->status(), "journal " + dir);
  if (last_seq_ > 0) {
    Entry last;
    std::string value;
    s = FromLevelDb(db_->Get(leveldb::ReadOptions(), EntryKey(last_seq_), &value),
                    "journal " + dir);
    if (s.ok()) s = Decode(last_seq_, value, &last);
    if (!s.ok()) return s;
    last_time_us_ = last.time_us();
  }
  s = LoadTree();
  if (s.ok() && needs_indexes_) s = BuildIndexes();
  if (s.ok() && needs_markers_) s = AddUnmergedMarkers();
  if (s.ok()) s = LoadCompactRange();
  if (s.ok()) s = postings_.Load(db_.get());
  return s;
}

Status LevelDbJournal::LoadCompactRange() {
  std::string value;
  leveldb::Status ls = db_->Get(leveldb::ReadOptions(), kCompactKey, &value);
  if (ls.IsNotFound()) return Status::OK();
  if (!ls.ok()) return FromLevelDb(ls, "journal " + options_.dir);
  DisposedRange range;
  if (!range.Decode(value)) return Status::Corruption("journal: bad compaction record");
  std::lock_guard<std::mutex> l(disposed_mu_);
  disposed_.Add(range);
  return Status::OK();
}

Status LevelDbJournal::BuildIndexes() {
  leveldb::WriteBatch batch;
  Status s = Scan(1, false, [&](uint64_t seq, const Entry& e) {
    IndexEntry(e, seq, nullptr, &batch);
    return true;
  });
  if (!s.ok()) return s;
  batch.Put("mformat", kFormatWithoutMarkers);
  leveldb::WriteOptions wo;
  wo.sync = true;
  s = FromLevelDb(db_->Write(wo, &batch), "journal " + options_.dir + ": indexes");
  if (s.ok()) needs_indexes_ = false;
  return s;
}

Status LevelDbJournal::AddUnmergedMarkers() {
  leveldb::WriteBatch batch;
  Status s = PostingStore::MarkAllUnmerged(db_.get(), &batch);
  if (!s.ok()) return s;
  batch.Put("mformat", kFormat);
  leveldb::WriteOptions wo;
  wo.sync = true;
  s = FromLevelDb(db_->Write(wo, &batch), "journal " + options_.dir + ": search markers");
  if (s.ok()) needs_markers_ = false;
  return s;
}

void LevelDbJournal::IndexEntry(const Entry& e, uint64_t seq, const MessageEntry* disposed,
                                leveldb::WriteBatch* batch) {
  if (e.kind == EntryKind::kMessage) {
    batch->Put(RetentionKey(e.message.classification.retain_until_us, seq), "");
    if (!e.message.flags.empty() || e.message.sampled) batch->Put(SupervisedKey(seq), "");
    return;
  }
  batch->Put(KindKey(e.kind, seq), "");
  if (e.kind == EntryKind::kDispose && disposed != nullptr) {
    const ContentRef& c = disposed->content;
    for (uint32_t i = 0; i < c.chunks; ++i) batch->Delete(ChunkKey(c.txn, i));
    batch->Delete(RetentionKey(disposed->classification.retain_until_us, e.dispose.message));
    std::string value;
    AppendBE(&value, seq, 8);
    batch->Put(DisposalKey(e.dispose.message), value);
  }
}

Status LevelDbJournal::LoadTree() {
  std::string value;
  leveldb::Status ls = db_->Get(leveldb::ReadOptions(), kTreeKey, &value);
  if (!ls.ok() && !ls.IsNotFound()) return FromLevelDb(ls, "journal " + options_.dir);
  if (ls.ok()) {
    // Never repaired here: entries the tree does not cover were not committed by this
    // software. The journal stays readable (verify names the first bad entry) but takes no
    // more entries.
    if (!CompactRange::Decode(value, &tree_) || tree_.size() != last_seq_) {
      tree_error_ =
          Status::Corruption("journal " + options_.dir + ": its Merkle tree does not cover its " +
                             std::to_string(last_seq_) + " entries; run mailjournal verify");
    }
    return Status::OK();
  }
  // A journal written before the tree existed: build it once.
  leveldb::WriteBatch batch;
  for (uint64_t seq = 1; seq <= last_seq_; ++seq) {
    std::string bytes;
    Status s = ReadEntryBytes(seq, &bytes);
    if (!s.ok()) return s;
    Sha256Digest leaf = LeafHash(bytes);
    batch.Put(LeafHashKey(seq), DigestSlice(leaf));
    tree_.Append(leaf);
  }
  batch.Put(kTreeKey, tree_.Encode());
  leveldb::WriteOptions wo;
  wo.sync = true;
  return FromLevelDb(db_->Write(wo, &batch), "journal " + options_.dir + ": tree");
}

Status LevelDbJournal::Written(const leveldb::Status& s, const std::string& what) {
  Status status = FromLevelDb(s, what);
  if (!status.ok() && !s.IsNotFound()) {
    std::lock_guard<std::mutex> l(failure_mu_);
    if (write_failure_.ok()) write_failure_ = status;
  }
  return status;
}

Status LevelDbJournal::Unusable() {
  std::lock_guard<std::mutex> l(failure_mu_);
  return write_failure_.ok() ? Status::IOError("journal " + options_.dir + ": not open")
                             : write_failure_;
}

Status LevelDbJournal::CheckCurrent(uint64_t txn) {
  std::lock_guard<std::mutex> l(txn_mu_);
  if ((txn >> 32) == generation_) return Status::OK();
  return Status::IOError("journal: transaction " + std::to_string(txn) +
                         " was interrupted when the journal recovered from a write failure");
}

Status LevelDbJournal::RecoverIfFailed() {
  {
    std::lock_guard<std::mutex> fl(failure_mu_);
    if (write_failure_.ok()) return Status::OK();
    int64_t now = NowMicros();
    if (now - last_recovery_us_ < 1000000) return write_failure_;
    last_recovery_us_ = now;
    // Reopening writes the log's contents to a table first; without room for that it would
    // fail and leave no database to read from. Until there is room, the open database keeps
    // serving reads and writes keep failing.
    struct statvfs fs;
    if (statvfs(options_.dir.c_str(), &fs) == 0 &&
        static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < kRecoverySpace) {
      return write_failure_;
    }
  }
  // failure_mu_ is not held here: a thread that holds db_mu_ shared takes it when its write
  // fails (Written, Unusable).
  std::unique_lock<std::shared_mutex> dl(db_mu_);
  std::lock_guard<std::mutex> l(mu_);  // no group commit is writing: it holds db_mu_ shared
  std::lock_guard<std::mutex> tl(txn_mu_);
  {
    std::lock_guard<std::mutex> fl(failure_mu_);
    if (write_failure_.ok()) return Status::OK();  // another thread recovered meanwhile
  }
  db_.reset();
  Status s = OpenDatabase();
  std::lock_guard<std::mutex> fl(failure_mu_);
  if (!s.ok()) {
    write_failure_ = Status::IOError("journal " + options_.dir +
                                     ": still failing after a write failure: " + s.message());
    return write_failure_;
  }
  write_failure_ = Status::OK();
  return Status::OK();
}

Status LevelDbJournal::WriteGeneration(uint64_t generation) {
  std::string value;
  AppendBE(&value, generation, 8);
  leveldb::WriteOptions wo;
  wo.sync = true;
  Status s = FromLevelDb(db_->Put(wo, "mgeneration", value), "journal " + options_.dir);
  if (s.ok()) generation_ = generation;
  return s;
}

Status LevelDbJournal::InitMetadata() {
  std::string value;
  leveldb::Status ls = db_->Get(leveldb::ReadOptions(), "mformat", &value);
  if (ls.IsNotFound()) {
    leveldb::WriteOptions wo;
    wo.sync = true;
    ls = db_->Put(wo, "mformat", kFormat);
    if (!ls.ok()) return FromLevelDb(ls, "journal " + options_.dir);
  } else if (!ls.ok()) {
    return FromLevelDb(ls, "journal " + options_.dir);
  } else if (value == kFormatWithoutIndexes) {
    needs_indexes_ = true;
    needs_markers_ = true;
  } else if (value == kFormatWithoutMarkers) {
    needs_markers_ = true;
  } else if (value != kFormat) {
    return Status::Corruption("journal " + options_.dir + ": unsupported journal format '" + value +
                              "'");
  }
  ls = db_->Get(leveldb::ReadOptions(), "mgeneration", &value);
  uint64_t previous = 0;
  if (ls.ok() && value.size() == 8) {
    previous = ReadBE(value.data(), 8);
  } else if (!ls.IsNotFound()) {
    return ls.ok() ? Status::Corruption("journal " + options_.dir + ": bad generation record")
                   : FromLevelDb(ls, "journal " + options_.dir);
  }
  return WriteGeneration(previous + 1);
}

Status LevelDbJournal::RemoveUncommittedTransactions() {
  leveldb::WriteBatch batch;
  std::unique_ptr<leveldb::Iterator> pend(db_->NewIterator(leveldb::ReadOptions()));
  for (pend->Seek("p"); pend->Valid() && pend->key()[0] == 'p'; pend->Next()) {
    if (pend->key().size() != 9) continue;
    uint64_t txn = ReadBE(pend->key().data() + 1, 8);
    std::string prefix = ChunkPrefix(txn);
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      batch.Delete(it->key());
    }
    batch.Delete(pend->key());
  }
  if (!pend->status().ok()) return FromLevelDb(pend->status(), "journal " + options_.dir);
  if (batch.ApproximateSize() <= 12) return Status::OK();  // empty batch
  leveldb::WriteOptions wo;
  wo.sync = true;
  return FromLevelDb(db_->Write(wo, &batch), "journal " + options_.dir + ": cleanup");
}

Status LevelDbJournal::Append(Entry* entries, size_t count, std::string_view final_chunk,
                              const Finalizer* finalize, const CheckpointMaker* make, uint64_t* seq,
                              const MessageEntry* disposed, const std::string* compact_range,
                              const std::vector<TermSet>* terms, const leveldb::WriteBatch* also) {
  if (!tree_error_.ok()) return tree_error_;
  Writer w;
  w.terms = terms;
  w.also = also;
  w.disposed = disposed;
  w.compact_range = compact_range;
  w.entries = entries;
  w.count = count;
  w.make = make;
  w.final_chunk = final_chunk;
  w.finalize = finalize;

  std::unique_lock<std::mutex> l(mu_);
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.wait(l);
  if (w.done) {
    if (w.status.ok()) *seq = w.seq;
    return w.status;
  }
  // This thread leads: it holds the database (db_mu_ comes before mu_) before it looks at
  // the journal's state, so that a recovery cannot happen between the two.
  l.unlock();
  std::shared_lock<std::shared_mutex> dl(db_mu_);
  Status usable = db_ == nullptr ? Unusable() : Status::OK();
  l.lock();

  // This thread leads a group: everything queued now, up to max_group_bytes.
  std::vector<Writer*> group;
  size_t bytes = 0;
  for (Writer* x : writers_) {
    if (!group.empty() && bytes + x->final_chunk.size() > options_.max_group_bytes) break;
    group.push_back(x);
    bytes += x->final_chunk.size();
  }
  uint64_t first_seq = last_seq_ + 1;
  int64_t now = std::max(Now(), last_time_us_);
  CompactRange tree = tree_;  // only the group leader extends the tree
  l.unlock();

  leveldb::WriteBatch batch;
  uint64_t next = first_seq;
  for (Writer* x : group) {
    x->seq = next;
    if (x->make != nullptr) {
      // A checkpoint of the tree as it stands before its own entry; if it cannot be made,
      // this writer fails alone and takes no sequence number.
      x->status = (*x->make)(tree.size(), tree.Root(), now, &x->entries[0]);
      if (!x->status.ok()) continue;
    }
    if (x->entries[0].kind == EntryKind::kMessage) {
      // Its staged chunks are gone if the journal recovered since it began.
      x->status = CheckCurrent(x->entries[0].message.content.txn);
      if (!x->status.ok()) continue;
    }
    if (x->compact_range != nullptr) batch.Put(kCompactKey, *x->compact_range);
    if (x->also != nullptr) batch.Append(*x->also);
    for (size_t i = 0; i < x->count; ++i) {
      Entry* e = &x->entries[i];
      e->set_time_us(now);
      if (e->kind == EntryKind::kMessage) {
        MessageEntry* m = &e->message;
        if (x->finalize != nullptr) (*x->finalize)(m);
        const ContentRef& c = m->content;
        if (!x->final_chunk.empty()) {
          batch.Put(ChunkKey(c.txn, c.chunks - 1),
                    leveldb::Slice(x->final_chunk.data(), x->final_chunk.size()));
        }
        if (c.chunks > (x->final_chunk.empty() ? 0u : 1u)) batch.Delete(PendingKey(c.txn));
      } else if (e->kind == EntryKind::kPolicy) {
        std::string latest;
        AppendBE(&latest, next, 8);
        batch.Put(kLatestPolicyKey, latest);
      }
      IndexEntry(*e, next, x->disposed != nullptr ? &x->disposed[i] : nullptr, &batch);
      if (x->terms != nullptr) PostingStore::AddToBatch(next, *x->terms, &batch);
      std::string encoded = EncodeEntry(*e);
      Sha256Digest leaf = LeafHash(encoded);
      tree.Append(leaf);
      batch.Put(LeafHashKey(next), DigestSlice(leaf));
      batch.Put(EntryKey(next++), encoded);
    }
  }
  batch.Put(kTreeKey, tree.Encode());
  leveldb::WriteOptions wo;
  wo.sync = true;
  Status s = usable.ok() ? Written(db_->Write(wo, &batch), "journal: commit") : usable;
  if (s.ok() && options_.on_group_commit) options_.on_group_commit(group.size());

  bool merge = false;
  if (s.ok()) {
    for (Writer* x : group) {
      if (x->terms != nullptr && x->status.ok()) postings_.Added(x->seq, *x->terms);
    }
    merge = postings_.NeedsMerge(options_.merge_postings);
  }
  if (merge) WakeMerger();

  l.lock();
  if (s.ok()) {
    last_seq_ = next - 1;
    last_time_us_ = now;
    tree_ = std::move(tree);
  }
  for (Writer* x : group) {
    writers_.pop_front();
    if (x->status.ok()) x->status = s;  // unless its checkpoint could not be made
    x->done = true;
    if (x != &w) x->cv.notify_one();
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  if (w.status.ok()) *seq = w.seq;
  return w.status;
}

Status LevelDbJournal::Scan(uint64_t from, bool reverse, const Visitor& visit) {
  uint64_t last = LastSequence();
  if (from == 0) from = reverse ? last : 1;
  if (reverse && from > last) from = last;
  if (from == 0 || from > last) return Status::OK();
  std::shared_lock<std::shared_mutex> dl(db_mu_);
  if (db_ == nullptr) return Unusable();
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  it->Seek(EntryKey(from));
  uint64_t expected = from;
  Entry entry;
  while (expected >= 1 && expected <= last) {
    if (!it->Valid() || !IsEntryKey(it->key()) || ReadBE(it->key().data() + 1, 8) != expected) {
      if (!it->status().ok()) return FromLevelDb(it->status(), "journal scan");
      return Status::Corruption("entry " + std::to_string(expected) + ": missing from the journal");
    }
    Status s = Decode(expected, it->value().ToString(), &entry);
    if (!s.ok()) return s;
    if (!visit(expected, entry)) return Status::OK();
    if (reverse) {
      it->Prev();
      --expected;
    } else {
      it->Next();
      ++expected;
    }
  }
  return FromLevelDb(it->status(), "journal scan");
}

Status LevelDbJournal::ReadContent(const ContentRef& content, const ChunkSink& sink) {
  std::string what = "content of transaction " + std::to_string(content.txn);
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  std::shared_lock<std::shared_mutex> dl(db_mu_);
  if (db_ == nullptr) return Unusable();
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
  std::string prefix = ChunkPrefix(content.txn);
  Sha256 sha;
  uint64_t size = 0;
  it->Seek(prefix);
  for (uint32_t i = 0; i < content.chunks; ++i, it->Next()) {
    if (!it->Valid() || it->key() != leveldb::Slice(ChunkKey(content.txn, i))) {
      if (!it->status().ok()) return FromLevelDb(it->status(), what);
      if (i == 0) return Status::NotFound(what + ": no chunk is stored");
      return Status::Corruption(what + ": chunk " + std::to_string(i) + " is missing");
    }
    leveldb::Slice v = it->value();
    sha.Update(std::string_view(v.data(), v.size()));
    size += v.size();
    Status s = sink(std::string_view(v.data(), v.size()));
    if (!s.ok()) return s;
  }
  if (size != content.size) {
    return Status::Corruption(what + ": " + std::to_string(size) + " bytes stored, " +
                              std::to_string(content.size) + " recorded");
  }
  if (sha.Final() != content.sha256) {
    return Status::Corruption(what + ": SHA-256 does not match the entry");
  }
  return Status::OK();
}

Status LevelDbJournal::ScanKind(EntryKind kind, uint64_t from, bool reverse, const Visitor& visit) {
  if (kind == EntryKind::kMessage) return Status::InvalidArgument("ScanKind: not for messages");
  return ScanIndex(KindKey(kind, 0).substr(0, 2), kind, "kind index", from, reverse, visit);
}

Status LevelDbJournal::ScanSupervised(uint64_t from, bool reverse, const Visitor& visit) {
  return ScanIndex("s", EntryKind::kMessage, "supervision index", from, reverse, visit);
}

Status LevelDbJournal::ScanIndex(const std::string& prefix, EntryKind kind, const char* what,
                                 uint64_t from, bool reverse, const Visitor& visit) {
  auto key = [&prefix](uint64_t seq) {
    std::string k = prefix;
    AppendBE(&k, seq, 8);
    return k;
  };
  std::vector<uint64_t> page;
  for (;;) {
    // Collect a page of sequence numbers under the lock, then read the entries without it.
    page.clear();
    {
      std::shared_lock<std::shared_mutex> dl(db_mu_);
      if (db_ == nullptr) return Unusable();
      std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
      if (!reverse) {
        it->Seek(key(from));
      } else {
        it->Seek(key(from == 0 ? UINT64_MAX : from));
        if (!it->Valid() || !(it->key() == leveldb::Slice(key(from)))) {
          if (it->Valid()) {
            it->Prev();
          } else {
            it->SeekToLast();
          }
        }
      }
      while (it->Valid() && it->key().size() == prefix.size() + 8 &&
             it->key().starts_with(prefix) && page.size() < 256) {
        page.push_back(ReadBE(it->key().data() + prefix.size(), 8));
        if (reverse) {
          it->Prev();
        } else {
          it->Next();
        }
      }
      if (!it->status().ok()) return FromLevelDb(it->status(), std::string("journal: ") + what);
    }
    for (uint64_t seq : page) {
      Entry entry;
      Status st = ReadEntry(seq, &entry);
      if (!st.ok()) return st;
      if (entry.kind != kind) {
        return Status::Corruption("entry " + std::to_string(seq) + ": in the " + what + " as " +
                                  EntryKindName(kind) + ", is " + EntryKindName(entry.kind));
      }
      if (!visit(seq, entry)) return Status::OK();
    }
    if (page.size() < 256) return Status::OK();
    if (reverse) {
      if (page.back() <= 1) return Status::OK();
      from = page.back() - 1;
    } else {
      from = page.back() + 1;
    }
  }
}

Status LevelDbJournal::ScanRetention(int64_t until_us, RetentionCursor* cursor,
                                     const RetentionVisitor& visit) {
  std::shared_lock<std::shared_mutex> dl(db_mu_);
  if (db_ == nullptr) return Unusable();
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  it->Seek(RetentionKey(cursor->retain_until_us, cursor->seq));
  if (it->Valid() &&
      it->key() == leveldb::Slice(RetentionKey(cursor->retain_until_us, cursor->seq))) {
    it->Next();  // start after the cursor
  }
  for (; it->Valid() && it->key().size() == 17 && it->key()[0] == 'x'; it->Next()) {
    int64_t until = static_cast<int64_t>(ReadBE(it->key().data() + 1, 8) ^ (uint64_t{1} << 63));
    uint64_t seq = ReadBE(it->key().data() + 9, 8);
    if (until > until_us) break;
    cursor->retain_until_us = until;
    cursor->seq = seq;
    if (!visit(seq, until)) break;
  }
  return FromLevelDb(it->status(), "journal: retention index");
}

Status LevelDbJournal::DisposeMessages(std::vector<Entry>* disposals, uint64_t* first_seq) {
  if (disposals->empty()) return Status::InvalidArgument("journal: nothing to dispose of");
  std::vector<MessageEntry> messages(disposals->size());
  DisposedRange disposed;
  for (size_t i = 0; i < disposals->size(); ++i) {
    const Entry& d = (*disposals)[i];
    if (d.kind != EntryKind::kDispose) {
      return Status::InvalidArgument("journal: DisposeMessages takes dispose entries only");
    }
    Status s = ReadMessage(d.dispose.message, &messages[i]);
    if (!s.ok()) return s;
    if (messages[i].content.chunks > 0) {
      uint64_t txn = messages[i].content.txn, seq = d.dispose.message;
      disposed.Add(DisposedRange{txn, txn, seq, seq});
    }
  }
  // The messages' search terms go with their content.
  leveldb::WriteBatch terms;
  {
    std::shared_lock<std::shared_mutex> dl(db_mu_);
    if (db_ == nullptr) return Unusable();
    for (const Entry& d : *disposals) {
      Status s = PostingStore::DeleteTermsOf(db_.get(), d.dispose.message, &terms);
      if (!s.ok()) return s;
    }
  }
  std::string range;
  if (disposed.max_txn != 0) {
    std::lock_guard<std::mutex> l(disposed_mu_);
    DisposedRange all = disposed_;
    all.Add(disposed);
    range = all.Encode();
  }
  Status s = Append(disposals->data(), disposals->size(), {}, nullptr, nullptr, first_seq,
                    messages.data(), range.empty() ? nullptr : &range, nullptr, &terms);
  if (s.ok()) {
    for (const Entry& d : *disposals) postings_.Forget(d.dispose.message);
  }
  if (s.ok() && disposed.max_txn != 0) {
    std::lock_guard<std::mutex> l(disposed_mu_);
    disposed_.Add(disposed);
  }
  return s;
}

Status LevelDbJournal::CompactDisposed() {
  DisposedRange range;
  {
    std::lock_guard<std::mutex> l(disposed_mu_);
    range = disposed_;
    disposed_ = DisposedRange();
  }
  if (range.max_txn == 0) return Status::OK();
  std::shared_lock<std::shared_mutex> dl(db_mu_);
  if (db_ == nullptr) return Unusable();
  // Compaction rewrites the tables holding the range without the deleted values and
  // removes the old tables and the logs that still held them: the content, then the
  // messages' search terms and their markers ('t' and 'u' records keyed by seq).
  auto compact = [this](char tag, uint64_t from, uint64_t to) {
    std::string begin(1, tag), end(1, tag);
    AppendBE(&begin, from, 8);
    AppendBE(&end, to, 8);
    leveldb::Slice b(begin), e(end);
    db_->CompactRange(&b, &e);
  };
  compact('c', range.min_txn, range.max_txn + 1);
  if (range.max_seq != 0) {
    compact('t', range.min_seq, range.max_seq + 1);
    compact('u', range.min_seq, range.max_seq + 1);
  }
  leveldb::WriteOptions wo;
  wo.sync = true;
  return Written(db_->Delete(wo, kCompactKey), "journal: disposal compacted");
}

}  // namespace

Status Journal::ReadMessage(uint64_t seq, MessageEntry* message) {
  Entry entry;
  Status s = ReadEntry(seq, &entry);
  if (s.ok() && entry.kind != EntryKind::kMessage) {
    s = Status::NotFound("entry " + std::to_string(seq) + " is a " + EntryKindName(entry.kind) +
                         " entry, not a message");
  }
  if (s.ok()) *message = std::move(entry.message);
  return s;
}

Status OpenLevelDbJournal(const JournalOptions& options, leveldb::Env* env,
                          std::unique_ptr<Journal>* journal) {
  auto j = std::make_unique<LevelDbJournal>(options, env);
  Status s = j->Open();
  if (s.ok()) *journal = std::move(j);
  return s;
}

Status OpenJournal(const JournalOptions& options, std::unique_ptr<Journal>* journal) {
  return OpenLevelDbJournal(options, nullptr, journal);
}

}  // namespace mailjournal
