// The LevelDB journal: commit, read back, group commit, staging and its cleanup, locking.
#include "mailjournal/journal.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "mailjournal/merkle.h"
#include "mailjournal/message_writer.h"
#include "test_util.h"

namespace mailjournal {
namespace {

std::string Pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed * 7 + (i >> 9)) & 0xff);
  return s;
}

BOOST_AUTO_TEST_SUITE(journal)

BOOST_AUTO_TEST_CASE(sequence_numbers_start_at_one_and_survive_reopen) {
  TempDir dir;
  {
    auto j = OpenTestJournal(dir.path());
    BOOST_TEST(j->LastSequence() == 0u);
    BOOST_TEST(CommitBytes(j.get(), "a", "x@y") == 1u);
    BOOST_TEST(CommitBytes(j.get(), "b", "x@y") == 2u);
  }
  auto j = OpenTestJournal(dir.path());
  BOOST_TEST(j->LastSequence() == 2u);
  BOOST_TEST(CommitBytes(j.get(), "c", "x@y") == 3u);
  BOOST_TEST(ReadAll(j.get(), 1) == "a");
  BOOST_TEST(ReadAll(j.get(), 3) == "c");
}

BOOST_AUTO_TEST_CASE(content_of_every_size_around_chunk_boundaries_reads_back_exactly) {
  TempDir dir;
  auto j = OpenTestJournal(dir.path());
  for (size_t size : {size_t{0}, size_t{1}, kMaxChunkSize - 1, kMaxChunkSize, kMaxChunkSize + 1,
                      3 * kMaxChunkSize, size_t{1} << 20}) {
    std::string bytes = Pattern(size, static_cast<unsigned>(size));
    uint64_t seq = CommitBytes(j.get(), bytes, "size@test");
    BOOST_TEST_CONTEXT("size " << size) {
      BOOST_TEST(ReadAll(j.get(), seq) == bytes);
      MessageEntry e;
      BOOST_REQUIRE(j->ReadMessage(seq, &e).ok());
      BOOST_TEST(e.content.size == size);
      BOOST_TEST(e.content.chunks == (size + kMaxChunkSize - 1) / kMaxChunkSize);
    }
  }
}

BOOST_AUTO_TEST_CASE(appends_in_small_pieces_equal_one_append) {
  TempDir dir;
  auto j = OpenTestJournal(dir.path());
  std::string bytes = Pattern(200000, 5);
  MessageWriter w(j.get());
  for (size_t off = 0; off < bytes.size(); off += 777) {
    BOOST_REQUIRE(w.Append(std::string_view(bytes).substr(off, 777)).ok());
  }
  uint64_t seq;
  BOOST_REQUIRE(w.Commit(TestMessage(SimpleEnvelope("p@q")), nullptr, &seq, nullptr).ok());
  BOOST_TEST(ReadAll(j.get(), seq) == bytes);
}

BOOST_AUTO_TEST_CASE(reading_a_missing_entry_is_not_found) {
  TempDir dir;
  auto j = OpenTestJournal(dir.path());
  MessageEntry e;
  BOOST_TEST(j->ReadMessage(0, &e).IsNotFound());
  BOOST_TEST(j->ReadMessage(1, &e).IsNotFound());
}

BOOST_AUTO_TEST_CASE(group_commit_gives_dense_sequence_numbers_in_commit_order) {
  TempDir dir;
  auto j = OpenTestJournal(dir.path());
  constexpr int kThreads = 16, kPerThread = 50;
  std::mutex mu;
  std::vector<std::pair<uint64_t, std::string>> committed;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string from = "t" + std::to_string(t) + "m" + std::to_string(i) + "@x";
        std::string body = Pattern(20000 + t, t * 1000 + i);
        MessageWriter w(j.get());
        uint64_t seq = 0;
        if (!w.Append(body).ok() ||
            !w.Commit(TestMessage(SimpleEnvelope(from)), nullptr, &seq, nullptr).ok()) {
          return;
        }
        std::lock_guard<std::mutex> l(mu);
        committed.emplace_back(seq, from);
      }
    });
  }
  for (auto& t : threads) t.join();
  BOOST_REQUIRE(committed.size() == size_t{kThreads * kPerThread});
  BOOST_TEST(j->LastSequence() == uint64_t{kThreads * kPerThread});
  std::vector<bool> seen(kThreads * kPerThread + 1, false);
  for (const auto& [seq, from] : committed) {
    BOOST_REQUIRE(seq >= 1 && seq <= uint64_t{kThreads * kPerThread});
    BOOST_TEST(!seen[seq]);
    seen[seq] = true;
    MessageEntry e;
    BOOST_REQUIRE(j->ReadMessage(seq, &e).ok());
    BOOST_TEST(BareAddress(e.envelope.mail) == from);  // each caller got its own number
  }
  // Commit times never go backwards along the sequence, and one thread's messages are in
  // the order it committed them.
  int64_t last_time = 0;
  std::vector<int> next_of_thread(kThreads, 0);
  Status s = j->Scan(1, false, [&](uint64_t, const Entry& entry) {
    const MessageEntry& e = entry.message;
    BOOST_TEST(e.time_us >= last_time);
    last_time = e.time_us;
    std::string from = BareAddress(e.envelope.mail);
    int t = std::stoi(from.substr(1));
    int i = std::stoi(from.substr(from.find('m') + 1));
    BOOST_TEST(i == next_of_thread[t]);
    next_of_thread[t] = i + 1;
    return true;
  });
  BOOST_TEST(s.ok());
}

BOOST_AUTO_TEST_CASE(aborted_transaction_leaves_no_staged_chunks) {
  TempDir dir;
  {
    auto j = OpenTestJournal(dir.path());
    MessageWriter w(j.get());
    BOOST_REQUIRE(w.Append(Pattern(5 * kMaxChunkSize, 1)).ok());
    w.Abort();
    BOOST_TEST(j->LastSequence() == 0u);
  }
  BOOST_TEST(CountKeys(dir.path(), 'c') == 0);
  BOOST_TEST(CountKeys(dir.path(), 'p') == 0);
}

BOOST_AUTO_TEST_CASE(staged_chunks_of_a_crashed_transaction_are_removed_at_open) {
  TempDir dir;
  {
    auto j = OpenTestJournal(dir.path());
    CommitBytes(j.get(), Pattern(3 * kMaxChunkSize, 2), "kept@x");
    MessageWriter w(j.get());
    BOOST_REQUIRE(w.Append(Pattern(4 * kMaxChunkSize, 3)).ok());
    w.Abandon();  // as if the process died mid-message
  }
  BOOST_TEST(CountKeys(dir.path(), 'p') == 1);
  BOOST_TEST(CountKeys(dir.path(), 'c') == 3 + 3);  // the committed 3 + 3 staged
  {
    auto j = OpenTestJournal(dir.path());
    BOOST_TEST(ReadAll(j.get(), 1) == Pattern(3 * kMaxChunkSize, 2));
  }
  BOOST_TEST(CountKeys(dir.path(), 'p') == 0);
  BOOST_TEST(CountKeys(dir.path(), 'c') == 3);
}

BOOST_AUTO_TEST_CASE(transaction_ids_differ_across_reopen) {
  TempDir dir;
  uint64_t first;
  {
    auto j = OpenTestJournal(dir.path());
    BOOST_REQUIRE(j->BeginTransaction(&first).ok());
  }
  auto j = OpenTestJournal(dir.path());
  uint64_t second;
  BOOST_REQUIRE(j->BeginTransaction(&second).ok());
  BOOST_TEST(second != first);
  BOOST_TEST((second >> 32) == (first >> 32) + 1);  // a new generation per open
}

BOOST_AUTO_TEST_CASE(second_open_of_the_same_directory_is_busy) {
  TempDir dir;
  auto j = OpenTestJournal(dir.path());
  // flock locks belong to the open file description, so a second open in this process
  // conflicts just as another process would.
  JournalOptions options;
  options.dir = dir.path();
  std::unique_ptr<Journal> second;
  Status s = OpenJournal(options, &second);
  BOOST_TEST(s.IsBusy());
  BOOST_TEST(s.message().find("in use by process") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_directory_without_create_is_not_found) {
  TempDir dir;
  JournalOptions options;
  options.dir = dir.path() + "/absent";
  options.create_if_missing = false;
  std::unique_ptr<Journal> j;
  BOOST_TEST(OpenJournal(options, &j).IsNotFound());
}

BOOST_AUTO_TEST_CASE(scan_backwards_and_from_the_middle) {
  TempDir dir;
  auto j = OpenTestJournal(dir.path());
  for (int i = 0; i < 5; ++i) CommitBytes(j.get(), "m", "s" + std::to_string(i) + "@x");
  std::vector<uint64_t> seqs;
  BOOST_REQUIRE(j->Scan(0, true, [&](uint64_t seq, const Entry&) {
                   seqs.push_back(seq);
                   return true;
                 }).ok());
  BOOST_TEST(seqs == (std::vector<uint64_t>{5, 4, 3, 2, 1}));
  seqs.clear();
  BOOST_REQUIRE(j->Scan(3, false, [&](uint64_t seq, const Entry&) {
                   seqs.push_back(seq);
                   return seq < 4;
                 }).ok());
  BOOST_TEST(seqs == (std::vector<uint64_t>{3, 4}));
}

BOOST_AUTO_TEST_CASE(finalizer_sees_the_commit_time) {
  TempDir dir;
  auto j = OpenTestJournal(dir.path());
  MessageWriter w(j.get());
  BOOST_REQUIRE(w.Append("x").ok());
  uint64_t seq;
  MessageEntry stored;
  BOOST_REQUIRE(w.Commit(
                     TestMessage(SimpleEnvelope("f@x")),
                     [](MessageEntry* m) { m->classification.retain_until_us = m->time_us + 1000; },
                     &seq, &stored)
                    .ok());
  MessageEntry read;
  BOOST_REQUIRE(j->ReadMessage(seq, &read).ok());
  BOOST_TEST(read.time_us > 0);
  BOOST_TEST(read.classification.retain_until_us == read.time_us + 1000);
  BOOST_TEST(stored.classification.retain_until_us == read.classification.retain_until_us);
}

BOOST_AUTO_TEST_CASE(policy_entries_interleave_and_the_latest_is_found) {
  TempDir dir;
  {
    auto j = OpenTestJournal(dir.path());
    uint64_t seq;
    PolicyEntry none;
    BOOST_TEST(j->LatestPolicy(&seq, &none).IsNotFound());
    std::vector<Entry> p1(1);
    p1[0].kind = EntryKind::kPolicy;
    p1[0].policy.files = {{"/p.yaml", "version: 1 # first"}};
    p1[0].policy.reason = "start";
    BOOST_REQUIRE(j->AppendEntries(&p1, &seq).ok());
    BOOST_TEST(seq == 1u);
    BOOST_TEST(p1[0].time_us() > 0);
    CommitBytes(j.get(), "m", "a@x");
    // A policy and the key entries its load made, in one write.
    std::vector<Entry> p2(3);
    p2[0].kind = EntryKind::kPolicy;
    p2[0].policy.files = {{"/p.yaml", "version: 1 # second"}};
    p2[0].policy.reason = "reload (SIGUSR1)";
    p2[1].kind = p2[2].kind = EntryKind::kKey;
    p2[1].key.file = p2[2].key.file = "/k.crt";
    p2[2].key.action = KeyAction::kRemoved;
    BOOST_REQUIRE(j->AppendEntries(&p2, &seq).ok());
    BOOST_TEST(seq == 3u);
    BOOST_TEST(p2[2].time_us() == p2[0].time_us());
    CommitBytes(j.get(), "m", "b@x");
    std::vector<Entry> none_given, message(1);
    BOOST_TEST((j->AppendEntries(&none_given, &seq).code() == Status::Code::kInvalidArgument));
    BOOST_TEST((j->AppendEntries(&message, &seq).code() == Status::Code::kInvalidArgument));
  }
  auto j = OpenTestJournal(dir.path());
  uint64_t seq = 0;
  PolicyEntry latest;
  BOOST_REQUIRE(j->LatestPolicy(&seq, &latest).ok());
  BOOST_TEST(seq == 3u);
  BOOST_TEST(latest.reason == "reload (SIGUSR1)");
  BOOST_TEST(latest.files[0].second == "version: 1 # second");
  MessageEntry m;
  BOOST_TEST(j->ReadMessage(3, &m).IsNotFound());  // a policy entry is not a message
  BOOST_TEST(j->ReadMessage(6, &m).ok());
  std::vector<EntryKind> kinds;
  BOOST_REQUIRE(j->Scan(1, false, [&](uint64_t, const Entry& e) {
                   kinds.push_back(e.kind);
                   return true;
                 }).ok());
  BOOST_TEST(
      (kinds == std::vector<EntryKind>{EntryKind::kPolicy, EntryKind::kMessage, EntryKind::kPolicy,
                                       EntryKind::kKey, EntryKind::kKey, EntryKind::kMessage}));
}

// True when some regular file under `dir` contains `needle`.
bool AnyFileContains(const std::string& dir, const std::string& needle) {
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (f.is_regular_file() && ReadFile(f.path().string()).find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// A disposal whose compaction did not happen (the process died) is compacted by the next
// CompactDisposed after the journal is opened again.
BOOST_AUTO_TEST_CASE(a_disposal_not_yet_compacted_is_compacted_after_a_restart) {
  TempDir dir;
  {
    auto j = OpenTestJournal(dir.path());
    BOOST_REQUIRE(CommitBytes(j.get(), "DoomedMarker-" + Pattern(2 * kMaxChunkSize, 3), "a@x") ==
                  1u);
  }
  {
    auto j = OpenTestJournal(dir.path());  // the first message is in a table now
    MessageEntry m;
    BOOST_REQUIRE(j->ReadMessage(1, &m).ok());
    std::vector<Entry> disposals{DisposalOf(1, m)};
    uint64_t seq = 0;
    BOOST_REQUIRE(j->DisposeMessages(&disposals, &seq).ok());
  }  // closed without CompactDisposed
  BOOST_REQUIRE(AnyFileContains(dir.path(), "DoomedMarker-"));
  {
    auto j = OpenTestJournal(dir.path());
    BOOST_REQUIRE(j->CompactDisposed().ok());
  }
  BOOST_TEST(!AnyFileContains(dir.path(), "DoomedMarker-"));
}

BOOST_AUTO_TEST_CASE(disposed_content_leaves_no_file_and_keeps_the_entry) {
  TempDir dir;
  // Two distinctive messages of several chunks each, written and flushed to tables in
  // between, then one destroyed while the journal is open.
  const std::string doomed = "DoomedMarker-" + Pattern(3 * kMaxChunkSize, 1) + "-DoomedEnd";
  const std::string kept = "KeptMarker-" + Pattern(2 * kMaxChunkSize, 2);
  MessageEntry before;
  {
    auto j = OpenTestJournal(dir.path());
    BOOST_REQUIRE(CommitBytes(j.get(), doomed, "a@x") == 1u);
    BOOST_REQUIRE(CommitBytes(j.get(), kept, "b@x") == 2u);
  }
  BOOST_REQUIRE(AnyFileContains(dir.path(), "DoomedMarker-"));
  {
    auto j = OpenTestJournal(dir.path());
    BOOST_REQUIRE(CommitBytes(j.get(), "third", "c@x") == 3u);
    BOOST_REQUIRE(j->ReadMessage(1, &before).ok());
    std::vector<Entry> disposals{DisposalOf(1, before)};
    uint64_t seq = 0, found = 0;
    BOOST_REQUIRE(j->DisposeMessages(&disposals, &seq).ok());
    BOOST_TEST(seq == 4u);
    BOOST_REQUIRE(j->CompactDisposed().ok());
    BOOST_TEST(j->FindDisposal(1, &found).ok());
    BOOST_TEST(found == 4u);
    BOOST_TEST(j->FindDisposal(2, &found).IsNotFound());
    Status s = j->ReadContent(before.content, [](std::string_view) { return Status::OK(); });
    BOOST_TEST(s.IsNotFound());
    // Disposed of: out of the retention index; the others stay in it.
    std::vector<uint64_t> indexed;
    RetentionCursor cursor;
    BOOST_REQUIRE(j->ScanRetention(INT64_MAX, &cursor, [&](uint64_t q, int64_t) {
                     indexed.push_back(q);
                     return true;
                   }).ok());
    BOOST_TEST(indexed == (std::vector<uint64_t>{2, 3}), boost::test_tools::per_element());
    std::vector<uint64_t> kinds;
    BOOST_REQUIRE(j->ScanKind(EntryKind::kDispose, 0, true, [&](uint64_t q, const Entry& e) {
                     kinds.push_back(q);
                     return e.dispose.message == 1;
                   }).ok());
    BOOST_TEST(kinds == (std::vector<uint64_t>{4}), boost::test_tools::per_element());
    BOOST_TEST(ReadAll(j.get(), 2) == kept);
  }
  BOOST_TEST(!AnyFileContains(dir.path(), "DoomedMarker-"));
  BOOST_TEST(!AnyFileContains(dir.path(), "-DoomedEnd"));
  BOOST_TEST(AnyFileContains(dir.path(), "KeptMarker-"));
  auto j = OpenTestJournal(dir.path());
  MessageEntry after;
  BOOST_REQUIRE(j->ReadMessage(1, &after).ok());  // the entry and its digests stay
  BOOST_TEST((after.content.sha256 == before.content.sha256));
  BOOST_TEST(after.content.size == doomed.size());
  BOOST_TEST(ReadAll(j.get(), 3) == "third");
  j.reset();
  BOOST_TEST(CountKeys(dir.path(), 'c') == 3 + 1);  // the kept message's chunks and the third's
}

BOOST_AUTO_TEST_CASE(every_commit_extends_the_merkle_tree_over_the_entry_encodings) {
  TempDir dir;
  Sha256Digest root;
  uint64_t size = 0;
  {
    auto j = OpenTestJournal(dir.path());
    j->TreeHead(&size, &root);
    BOOST_TEST(size == 0u);
    BOOST_TEST((root == EmptyRoot()));
    for (int i = 0; i < 5; ++i) CommitBytes(j.get(), "m" + std::to_string(i), "a@x");
    std::vector<Entry> policy(1);
    policy[0].kind = EntryKind::kPolicy;
    policy[0].policy.files = {{"/p.yaml", "version: 1"}};
    uint64_t seq;
    BOOST_REQUIRE(j->AppendEntries(&policy, &seq).ok());
    j->TreeHead(&size, &root);
    BOOST_TEST(size == 6u);
    // The root is RFC 9162's over the leaf hashes of the stored encodings.
    CompactRange expected;
    for (uint64_t s = 1; s <= 6; ++s) {
      std::string bytes;
      BOOST_REQUIRE(j->ReadEntryBytes(s, &bytes).ok());
      Sha256Digest stored;
      BOOST_REQUIRE(j->ReadLeafHash(s, &stored).ok());
      BOOST_TEST((stored == LeafHash(bytes)));
      expected.Append(LeafHash(bytes));
    }
    BOOST_TEST((root == expected.Root()));
    Sha256Digest h;
    BOOST_TEST(j->ReadLeafHash(7, &h).IsNotFound());
  }
  {
    auto j = OpenTestJournal(dir.path());  // reopened: the same head, and it goes on
    Sha256Digest again;
    j->TreeHead(&size, &again);
    BOOST_TEST(size == 6u);
    BOOST_TEST((again == root));
    CommitBytes(j.get(), "m6", "a@x");
    j->TreeHead(&size, &root);
    BOOST_TEST(size == 7u);
  }
  // A journal without the tree's records (written before they existed) gets them at open.
  RawDelete(dir.path(), "mtree");
  for (uint64_t s = 1; s <= 7; ++s) {
    std::string key = RawEntryKey(s);
    key[0] = 'h';
    RawDelete(dir.path(), key);
  }
  auto j = OpenTestJournal(dir.path());
  Sha256Digest rebuilt;
  j->TreeHead(&size, &rebuilt);
  BOOST_TEST(size == 7u);
  BOOST_TEST((rebuilt == root));
  Sha256Digest h;
  BOOST_TEST(j->ReadLeafHash(3, &h).ok());
}

BOOST_AUTO_TEST_CASE(a_checkpoint_covers_the_tree_just_before_its_entry) {
  TempDir dir;
  auto j = OpenTestJournal(dir.path());
  for (int i = 0; i < 3; ++i) CommitBytes(j.get(), "m" + std::to_string(i), "a@x");
  uint64_t size_before = 0, seen_size = 0, seq = 0;
  Sha256Digest root_before, seen_root;
  j->TreeHead(&size_before, &root_before);
  auto make = [&](uint64_t size, const Sha256Digest& root, int64_t time_us, Entry* e) {
    seen_size = size;
    seen_root = root;
    e->checkpoint.note = "note for " + std::to_string(size) + "\n";
    BOOST_TEST(time_us > 0);
    return Status::OK();
  };
  BOOST_REQUIRE(j->AppendCheckpoint(make, &seq).ok());
  BOOST_TEST(seq == 4u);
  BOOST_TEST(seen_size == 3u);
  BOOST_TEST((seen_root == root_before));
  Entry e;
  BOOST_REQUIRE(j->ReadEntry(4, &e).ok());
  BOOST_TEST((e.kind == EntryKind::kCheckpoint));
  BOOST_TEST(e.checkpoint.note == "note for 3\n");
  BOOST_TEST(e.time_us() > 0);
  // A maker that fails appends nothing and its error is returned.
  Status s = j->AppendCheckpoint(
      [](uint64_t, const Sha256Digest&, int64_t, Entry*) { return Status::Internal("no key"); },
      &seq);
  BOOST_TEST(s.message() == "no key");
  BOOST_TEST(j->LastSequence() == 4u);
  BOOST_TEST(CommitBytes(j.get(), "after", "a@x") == 5u);
}

BOOST_AUTO_TEST_CASE(a_changed_chunk_is_reported_as_corruption) {
  TempDir dir;
  MessageEntry e;
  {
    auto j = OpenTestJournal(dir.path());
    CommitBytes(j.get(), Pattern(2 * kMaxChunkSize, 9), "c@x");
    BOOST_REQUIRE(j->ReadMessage(1, &e).ok());
  }
  std::string changed = Pattern(kMaxChunkSize, 9);
  changed[100] ^= 1;
  RawPut(dir.path(), RawChunkKey(e.content.txn, 1), changed);
  auto j = OpenTestJournal(dir.path());
  Status s = j->ReadContent(e.content, [](std::string_view) { return Status::OK(); });
  BOOST_TEST(s.IsCorruption());
  BOOST_TEST(s.message().find("SHA-256 does not match") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_chunk_is_reported_as_corruption) {
  TempDir dir;
  MessageEntry e;
  {
    auto j = OpenTestJournal(dir.path());
    CommitBytes(j.get(), Pattern(3 * kMaxChunkSize, 4), "c@x");
    BOOST_REQUIRE(j->ReadMessage(1, &e).ok());
  }
  RawDelete(dir.path(), RawChunkKey(e.content.txn, 1));
  auto j = OpenTestJournal(dir.path());
  Status s = j->ReadContent(e.content, [](std::string_view) { return Status::OK(); });
  BOOST_TEST(s.message().find("chunk 1 is missing") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_gap_in_the_sequence_stops_a_scan_with_corruption) {
  TempDir dir;
  {
    auto j = OpenTestJournal(dir.path());
    for (int i = 0; i < 4; ++i) CommitBytes(j.get(), "m", "g@x");
  }
  RawDelete(dir.path(), RawEntryKey(2));
  auto j = OpenTestJournal(dir.path());
  std::vector<uint64_t> seqs;
  Status s = j->Scan(1, false, [&](uint64_t seq, const Entry&) {
    seqs.push_back(seq);
    return true;
  });
  BOOST_TEST(s.IsCorruption());
  BOOST_TEST(s.message().find("entry 2: missing") != std::string::npos);
  BOOST_TEST(seqs == std::vector<uint64_t>{1});
  MessageEntry e;
  BOOST_TEST(j->ReadMessage(2, &e).IsCorruption());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
