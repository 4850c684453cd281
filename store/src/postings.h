// PostingStore: the search postings inside the LevelDB journal (mailjournal-format(5),
// SEARCH POSTINGS). Private to store/.
//
// Key layout (integers big-endian):
//   't' u64 seq u64 key_id          -> the message's terms under that key: LEB128 count,
//                                      then per term u64 hash, u8 fields (sorted by hash)
//   'u' u64 seq u64 key_id          -> "" while that 't' record is not merged into blocks
//   'i' u64 key_id u64 hash u64 block -> one block of postings of the term: LEB128 count,
//                                      then per posting LEB128 seq delta (from 0, then
//                                      from the previous seq), u8 fields (sorted by seq)
//   'm' "mindexblock"               -> u64, the next block number
// A message's 't' records are written in the batch that commits it, under its own
// (increasing) sequence number, so capture writes nothing scattered. The 't' records not
// yet merged are also held in memory, in arrival order (appending is all the group commit
// pays; search_bench measured 340 us per message for a map by term); a merge sorts them
// by term, writes one 'i' block per term and deletes the 'u' markers, in one batch; the
// 't' records stay, so that a message's terms can be listed (ReadTerms: segments carry
// them) until the message is disposed of (DeleteTermsOf) or its key dropped (Drop).
// Journals of format "2" and before have no markers: every 't' record they hold was
// unmerged then (merges deleted them), so MarkAllUnmerged gives each one its marker.
// Readers scan the memory before LevelDB, so that a merge running meanwhile can only make
// them see a posting twice (they deduplicate), never miss one.
//
// Thread-safety: every method may be called from any thread; Merge and Drop serialise with
// each other. The caller holds the database (it is not reopened meanwhile).
#ifndef MAILJOURNAL_STORE_SRC_POSTINGS_H_
#define MAILJOURNAL_STORE_SRC_POSTINGS_H_

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <utility>
#include <vector>

#include "mailjournal/journal.h"
#include "mailjournal/status.h"

namespace mailjournal {

class PostingStore {
 public:
  // Adds the 't' records of message `seq` to batch.
  static void AddToBatch(uint64_t seq, const std::vector<TermSet>& terms,
                         leveldb::WriteBatch* batch);
  // Takes the terms of a batch that was written into the in-memory tail.
  void Added(uint64_t seq, const std::vector<TermSet>& terms);

  // Loads the unmerged 't' records (those with a 'u' marker) and the block counter (at
  // open; forgets what was held).
  Status Load(leveldb::DB* db);

  // Adds a 'u' marker for every 't' record to batch (upgrading a journal written before
  // the markers, when every 't' record was unmerged).
  static Status MarkAllUnmerged(leveldb::DB* db, leveldb::WriteBatch* batch);

  // Appends message seq's term sets (one per key id, in key id order) from its 't' records.
  static Status ReadTerms(leveldb::DB* db, uint64_t seq, std::vector<TermSet>* out);

  // Adds the deletion of message seq's 't' records and markers to batch (its disposal).
  static Status DeleteTermsOf(leveldb::DB* db, uint64_t seq, leveldb::WriteBatch* batch);
  // Forgets the unmerged postings of message seq held in memory (after its disposal was
  // written). Those a running merge already took still reach the blocks.
  void Forget(uint64_t seq);

  // Whether at least `threshold` postings wait for a merge.
  bool NeedsMerge(size_t threshold) const;
  // Writes the waiting postings as blocks and deletes their 'u' markers (one batch, not
  // synced: a crash before the next synced write leaves the markers to merge again).
  Status Merge(leveldb::DB* db);

  // Appends the postings of (key_id, hash), sorted by seq, one per seq.
  Status Read(leveldb::DB* db, uint64_t key_id, uint64_t hash, std::vector<Posting>* out) const;

  // Deletes every block, 't' record and 'u' marker of key_id.
  Status Drop(leveldb::DB* db, uint64_t key_id);

 private:
  struct TailPosting {
    uint64_t key_id;
    uint64_t hash;
    uint64_t seq;
    uint8_t fields;
  };
  // Postings not yet in blocks, in arrival order, and the 't' records they came from.
  struct Tail {
    std::vector<TailPosting> postings;
    std::vector<std::pair<uint64_t, uint64_t>> records;  // (seq, key_id)
  };
  static void AddToTail(uint64_t seq, const TermSet& set, Tail* tail);
  static void CollectTail(const Tail& tail, uint64_t key_id, uint64_t hash,
                          std::vector<Posting>* out);

  std::mutex merge_mu_;  // serialises Merge and Drop; taken before mu_
  // Guards the members below; readers scan the tail under a shared lock.
  mutable std::shared_mutex mu_;
  Tail tail_;     // written since the last merge
  Tail merging_;  // being written by Merge: still read from here until it is done
  uint64_t next_block_ = 0;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_STORE_SRC_POSTINGS_H_
