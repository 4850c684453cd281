// Journal: the durable, append-only sequence of entries, numbered densely from 1.
//
// This interface is all that the milter and the tools know of storage; the LevelDB
// implementation is private to store/. One process at a time may open a journal directory
// (an exclusive lock is held while it is open).
//
// Capture works in transactions: a message's bytes are staged as chunks while they arrive
// (unsynced), and CommitMessage() makes them part of the journal together with the
// message's entry in one synced write. Staged chunks of a transaction that is aborted, or
// that was in progress when the process died, are removed (at the latest when the journal
// is next opened).
//
// Thread-safety: all methods may be called concurrently from any thread. Concurrent
// CommitMessage() calls are grouped into one synced write (group commit); sequence numbers
// are assigned in commit order.
#ifndef MAILJOURNAL_JOURNAL_H_
#define MAILJOURNAL_JOURNAL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mailjournal/entry.h"
#include "mailjournal/status.h"

namespace mailjournal {

// The largest chunk StageChunk() and CommitMessage() accept.
constexpr size_t kMaxChunkSize = 64 * 1024;

// Search postings (mailjournal-search(8)). A message's tokens are stored only as keyed
// hashes: under each index key that applies to it (one per department that indexes), the
// 64-bit hash of every distinct token and the fields it occurs in (mailjournal/search_query.h
// SearchField bits). The journal stores them with the message and answers, per key and
// hash, which messages hold it; it never sees a token.
struct KeyedTerm {
  uint64_t hash = 0;
  uint8_t fields = 0;
};
// The terms of one message under one index key.
struct TermSet {
  uint64_t key_id = 0;  // names the index key (IndexKey::id, mailjournal/index_keys.h)
  std::vector<KeyedTerm> terms;
};
// One message that holds a term: its sequence number and the fields the term is in.
struct Posting {
  uint64_t seq = 0;
  uint8_t fields = 0;
};

// Sorts postings by sequence number and merges those of one message (fields or-ed).
void NormalizePostings(std::vector<Posting>* postings);

struct JournalOptions {
  std::string dir;                   // journal directory; created (mode 0750) if missing
  bool create_if_missing = true;     // false: NotFound when dir holds no journal
  size_t max_group_bytes = 8 << 20;  // a group commit stops collecting past this many bytes
  // The clock that stamps entries (microseconds since the epoch); null: NowMicros(). Tests
  // of retention inject one.
  std::function<int64_t()> clock;
  // Postings are written with their message under the message's own key (sequential), and
  // moved into per-term blocks in the background once this many have gathered: one key per
  // term per block rather than per message keeps LevelDB's compactions cheap
  // (mailjournal-format(5), SEARCH POSTINGS).
  size_t merge_postings = 256 * 1024;
  // Called after every synced group write (group commit) with the number of commits it
  // carried (messages and other appends), by the thread that wrote it; null: not called.
  // For statistics (mailjournald's metrics): must be cheap, must not block or touch the
  // journal.
  std::function<void(size_t commits)> on_group_commit;
};

// Where a scan of messages by retain-until date (Journal::ScanRetention) stopped.
struct RetentionCursor {
  int64_t retain_until_us = INT64_MIN;
  uint64_t seq = 0;
};

class Journal {
 public:
  virtual ~Journal() = default;

  // Sets *txn to a new transaction id, unique for the life of the journal (across
  // restarts). Fails only when a new generation must be recorded and cannot be.
  virtual Status BeginTransaction(uint64_t* txn) = 0;

  // Stages chunk number `index` (0-based, consecutive) of transaction txn, unsynced.
  // REQUIRES: data.size() <= kMaxChunkSize; txn from BeginTransaction(), not yet committed.
  virtual Status StageChunk(uint64_t txn, uint32_t index, std::string_view data) = 0;

  // Removes the first `staged_chunks` chunks of an uncommitted transaction. Idempotent.
  virtual Status AbortTransaction(uint64_t txn, uint32_t staged_chunks) = 0;

  // Called by CommitMessage once the entry's commit time is set and before it is encoded,
  // so that fields derived from the time (retain-until) are computed from the time the
  // entry records. Must not block.
  using Finalizer = std::function<void(MessageEntry* entry)>;

  // Appends a message entry durably. `final_chunk`, if not empty, becomes chunk number
  // entry->content.chunks - 1 of transaction entry->content.txn and is written in the same
  // batch. Blocks until the write is synced to disk. On success sets entry->time_us, applies
  // `finalize` (if set) and sets *seq. On error no sequence number is reported and the staged
  // chunks remain until aborted; the entry is not in the journal, except after a failed sync:
  // the write may then have reached the disk anyway and the entry appear when the journal's
  // database is next opened (the sender, told to retry, makes it journaled twice: nothing is
  // lost).
  // REQUIRES: final_chunk.size() <= kMaxChunkSize.
  // `terms` (may be empty) are the message's search postings, written in the same batch.
  virtual Status CommitMessage(MessageEntry* entry, std::string_view final_chunk,
                               const Finalizer& finalize, const std::vector<TermSet>& terms,
                               uint64_t* seq) = 0;

  // Appends entries of kinds other than message durably, in one write with consecutive
  // sequence numbers (same guarantees as CommitMessage: all or none); sets each entry's
  // time and *first_seq to the first one's sequence number.
  // REQUIRES: entries is not empty and holds no message entry.
  virtual Status AppendEntries(std::vector<Entry>* entries, uint64_t* first_seq) = 0;

  // Appends a checkpoint entry of the tree as it stands just before it. `make` is called,
  // within the commit, with that tree's size (the entry's sequence number minus one), root
  // and the commit time, and fills *entry (kind checkpoint); it must not block. Its error is
  // returned and nothing is appended. Otherwise the same guarantees as AppendEntries.
  using CheckpointMaker =
      std::function<Status(uint64_t size, const Sha256Digest& root, int64_t time_us, Entry* entry)>;
  virtual Status AppendCheckpoint(const CheckpointMaker& make, uint64_t* seq) = 0;

  // The highest committed sequence number, 0 for an empty journal.
  virtual uint64_t LastSequence() const = 0;

  // The tree head: the number of entries and the root of the Merkle tree over them
  // (mailjournal/merkle.h), taken together. Each commit extends the tree in O(log n).
  virtual void TreeHead(uint64_t* size, Sha256Digest* root) const = 0;

  // The leaf hash stored with entry `seq` when it was committed. NotFound as ReadEntry;
  // Corruption when it is missing or malformed.
  virtual Status ReadLeafHash(uint64_t seq, Sha256Digest* hash) = 0;

  // The bytes of entry `seq` as stored (its canonical encoding, when intact).
  virtual Status ReadEntryBytes(uint64_t seq, std::string* bytes) = 0;

  // Reads entry `seq`. NotFound if seq is 0 or above LastSequence(); Corruption if the
  // stored entry is missing (a gap) or does not decode.
  virtual Status ReadEntry(uint64_t seq, Entry* entry) = 0;
  // Like ReadEntry, for a message; NotFound when entry `seq` is of another kind.
  Status ReadMessage(uint64_t seq, MessageEntry* message);

  // Finds the newest policy entry. NotFound when the journal has none.
  virtual Status LatestPolicy(uint64_t* seq, PolicyEntry* entry) = 0;

  // Calls visit(seq, entry) for entries starting at `from` and moving forward (or backward
  // when `reverse`), until visit returns false or the journal ends. Stops with Corruption
  // at the first entry that does not decode or at a gap.
  using Visitor = std::function<bool(uint64_t seq, const Entry& entry)>;
  virtual Status Scan(uint64_t from, bool reverse, const Visitor& visit) = 0;

  // Streams the captured bytes of a message to sink, chunk by chunk, checking that every
  // chunk is present and that size and SHA-256 match the entry. Returns NotFound when no
  // chunk is stored at all (the content was disposed of, or lost), Corruption when some are
  // missing or size and SHA-256 do not match (after some bytes may have been passed to
  // sink), or the first error of sink.
  using ChunkSink = std::function<Status(std::string_view bytes)>;
  virtual Status ReadContent(const ContentRef& content, const ChunkSink& sink) = 0;

  // Calls visit(seq, entry) for the entries of one kind other than message, in sequence
  // order (backward when `reverse`) starting at `from` (0: the first, or with `reverse` the
  // last), until visit returns false. Uses an index: the cost does not depend on the number
  // of other entries.
  virtual Status ScanKind(EntryKind kind, uint64_t from, bool reverse, const Visitor& visit) = 0;

  // Calls visit(seq, entry) for the supervised messages: the message entries with flags or
  // sampled (MessageEntry::flags, ::sampled), in sequence order (backward when `reverse`)
  // starting at `from` (0: the first, or with `reverse` the last), until visit returns false.
  // Uses an index written with each such message in its commit; a message disposed of stays
  // in it (its entry and flags stay; only its content is gone). The cost depends on the
  // number of supervised messages only. Corruption as ScanKind.
  virtual Status ScanSupervised(uint64_t from, bool reverse, const Visitor& visit) = 0;

  // Calls visit(seq, retain_until_us) for the messages that still have their content and
  // whose retain-until date is at or before `until_us`, in (retain-until, seq) order,
  // starting after *cursor, until visit returns false; *cursor then names the last message
  // visited. Uses an index kept with the messages.
  using RetentionVisitor = std::function<bool(uint64_t seq, int64_t retain_until_us)>;
  virtual Status ScanRetention(int64_t until_us, RetentionCursor* cursor,
                               const RetentionVisitor& visit) = 0;

  // Disposes of messages: appends the dispose entries (same guarantees as AppendEntries)
  // and, in the same synced write, deletes the content of the message each one names (for a
  // sealed message its ciphertext and the wrapped keys inside it), its search terms
  // (ReadTerms; postings already merged into per-term blocks stay) and takes it out of the
  // retention index. The message entries and their digests stay, so the tree still
  // verifies; reading a disposed message's content gives NotFound. Call CompactDisposed()
  // afterwards so that no table or log file of the journal keeps the deleted bytes.
  // REQUIRES: every entry is of kind dispose and names a message entry that has not been
  // disposed of; callers serialise disposals of the same message.
  virtual Status DisposeMessages(std::vector<Entry>* disposals, uint64_t* first_seq) = 0;

  // Rewrites the tables that held content deleted by DisposeMessages and not yet compacted
  // (also before a crash: the range is recorded with the dispose entries), so that the bytes
  // are gone from the journal's files (copies made before, in backups, are out of reach).
  // May take long; mail keeps flowing meanwhile.
  virtual Status CompactDisposed() = 0;

  // The sequence number of the dispose entry that names message `seq`; NotFound when none.
  virtual Status FindDisposal(uint64_t seq, uint64_t* dispose_seq) = 0;

  // Appends to *out the messages that hold term `hash` under index key `key_id`, sorted by
  // sequence number, one posting per message (its fields or-ed together). Postings of
  // messages disposed of since may be included (their content is gone; what was merged
  // into per-term blocks before the disposal stays there).
  virtual Status ReadPostings(uint64_t key_id, uint64_t hash, std::vector<Posting>* out) = 0;

  // Appends to *out the term sets of message `seq`, one per index key id it was indexed
  // under, in key id order (none for a message not indexed, disposed of, or whose key was
  // dropped). What a segment carries for the message (mailjournal-format(5), SEGMENTS).
  virtual Status ReadTerms(uint64_t seq, std::vector<TermSet>* out) = 0;

  // Adds postings for message `seq`, already in the journal (reindexing under a new key).
  // Durable when it returns. Postings already there for the same key are not removed: add
  // each message once per key (DropIndexKey starts over).
  // REQUIRES: seq names a message entry.
  virtual Status AddTerms(uint64_t seq, const std::vector<TermSet>& terms) = 0;

  // Removes every posting made under index key `key_id` (after its department's index was
  // rebuilt under a new key). May take long; commits go on meanwhile.
  virtual Status DropIndexKey(uint64_t key_id) = 0;

  // Moves the postings gathered since the last merge into per-term blocks now (normally
  // done in the background once JournalOptions::merge_postings have gathered).
  virtual Status MergePostings() = 0;

  // Approximate bytes on disk of the search postings and of the whole journal.
  virtual void ApproximateSizes(uint64_t* postings_bytes, uint64_t* journal_bytes) = 0;
};

// Opens (or creates) the journal in options.dir. Busy if another process holds it; the
// message then names the holder's pid when known. On start-up removes the staged chunks of
// transactions that were never committed.
Status OpenJournal(const JournalOptions& options, std::unique_ptr<Journal>* journal);

}  // namespace mailjournal

#endif  // MAILJOURNAL_JOURNAL_H_
