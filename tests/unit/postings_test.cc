// Search postings in the journal: written with their message, read back per key and hash
// before and after the merge into blocks, across a reopen, added later (reindex), dropped
// per key; each message's term sets (ReadTerms) kept after the merge, gone with its
// disposal and its key, and a format "2" journal (no unmerged markers) upgraded.
#include <sys/stat.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "mailjournal/index_keys.h"
#include "mailjournal/journal.h"
#include "mailjournal/message_writer.h"
#include "mailjournal/search_index.h"
#include "test_util.h"

namespace mailjournal {
namespace {

constexpr uint64_t kKeyA = 0xaaaa, kKeyB = 0xbbbb;

uint64_t CommitWithTerms(Journal* journal, std::vector<TermSet> terms) {
  MessageWriter w(journal);
  BOOST_REQUIRE(w.Append("Subject: x\r\n\r\nbody\r\n").ok());
  w.SetTerms(std::move(terms));
  uint64_t seq = 0;
  Status s = w.Commit(TestMessage(SimpleEnvelope("a@example.com")), nullptr, &seq, nullptr);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return seq;
}

TermSet Terms(uint64_t key_id, std::vector<KeyedTerm> terms) { return TermSet{key_id, terms}; }

std::vector<uint64_t> Seqs(Journal* journal, uint64_t key_id, uint64_t hash) {
  std::vector<Posting> postings;
  Status s = journal->ReadPostings(key_id, hash, &postings);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::vector<uint64_t> seqs;
  for (const Posting& p : postings) seqs.push_back(p.seq);
  return seqs;
}

BOOST_AUTO_TEST_SUITE(postings)

BOOST_AUTO_TEST_CASE(postings_are_found_before_and_after_the_merge_and_after_a_reopen) {
  TempDir dir;
  uint64_t m1, m2, m3;
  {
    auto j = OpenTestJournal(dir.path());
    m1 = CommitWithTerms(j.get(), {Terms(kKeyA, {{1, kFieldBody}, {2, kFieldSubject}})});
    m2 = CommitWithTerms(j.get(), {Terms(kKeyA, {{1, kFieldSubject}}), Terms(kKeyB, {{1, 1}})});
    BOOST_TEST(Seqs(j.get(), kKeyA, 1) == (std::vector<uint64_t>{m1, m2}));
    BOOST_TEST(Seqs(j.get(), kKeyB, 1) == (std::vector<uint64_t>{m2}));
    BOOST_TEST(Seqs(j.get(), kKeyB, 2).empty());
    BOOST_REQUIRE(j->MergePostings().ok());
    m3 = CommitWithTerms(j.get(), {Terms(kKeyA, {{1, kFieldBody}})});
    BOOST_TEST(Seqs(j.get(), kKeyA, 1) == (std::vector<uint64_t>{m1, m2, m3}));
    std::vector<Posting> postings;
    BOOST_REQUIRE(j->ReadPostings(kKeyA, 2, &postings).ok());
    BOOST_REQUIRE(postings.size() == 1u);
    BOOST_TEST(postings[0].fields == kFieldSubject);
  }
  // The merged block and the unmerged 't' record of m3 both survive a reopen.
  auto j = OpenTestJournal(dir.path());
  BOOST_TEST(Seqs(j.get(), kKeyA, 1) == (std::vector<uint64_t>{m1, m2, m3}));
  BOOST_REQUIRE(j->MergePostings().ok());
  BOOST_TEST(Seqs(j.get(), kKeyA, 1) == (std::vector<uint64_t>{m1, m2, m3}));
}

BOOST_AUTO_TEST_CASE(terms_added_later_are_found_and_a_dropped_key_finds_nothing) {
  TempDir dir;
  auto j = OpenTestJournal(dir.path());
  uint64_t m1 = CommitWithTerms(j.get(), {Terms(kKeyA, {{7, kFieldBody}})});
  BOOST_REQUIRE(j->MergePostings().ok());
  BOOST_REQUIRE(j->AddTerms(m1, {Terms(kKeyB, {{7, kFieldBody}})}).ok());
  BOOST_TEST(Seqs(j.get(), kKeyB, 7) == (std::vector<uint64_t>{m1}));
  BOOST_TEST(j->AddTerms(m1 + 100, {Terms(kKeyB, {{7, 1}})}).IsNotFound());
  BOOST_REQUIRE(j->DropIndexKey(kKeyA).ok());
  BOOST_TEST(Seqs(j.get(), kKeyA, 7).empty());
  BOOST_TEST(Seqs(j.get(), kKeyB, 7) == (std::vector<uint64_t>{m1}));
  j.reset();
  BOOST_TEST(CountKeys(dir.path(), 'i') == 0);  // B's posting is still a 't' record
  BOOST_TEST(CountKeys(dir.path(), 't') == 1);
}

// The term sets ReadTerms gives for seq, as (key id, hashes).
std::vector<std::pair<uint64_t, std::vector<uint64_t>>> TermsOf(Journal* journal, uint64_t seq) {
  std::vector<TermSet> sets;
  Status s = journal->ReadTerms(seq, &sets);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::vector<std::pair<uint64_t, std::vector<uint64_t>>> out;
  for (const TermSet& set : sets) {
    out.emplace_back(set.key_id, std::vector<uint64_t>());
    for (const KeyedTerm& t : set.terms) out.back().second.push_back(t.hash);
  }
  return out;
}

using KeyHashes = std::vector<std::pair<uint64_t, std::vector<uint64_t>>>;

BOOST_AUTO_TEST_CASE(term_sets_survive_the_merge_and_a_reopen_and_are_merged_once) {
  TempDir dir;
  uint64_t m1, m2;
  {
    auto j = OpenTestJournal(dir.path());
    m1 =
        CommitWithTerms(j.get(), {Terms(kKeyB, {{5, kFieldBody}}), Terms(kKeyA, {{3, 1}, {9, 2}})});
    m2 = CommitWithTerms(j.get(), {});
    BOOST_TEST(TermsOf(j.get(), m1) == (KeyHashes{{kKeyA, {3, 9}}, {kKeyB, {5}}}));
    BOOST_REQUIRE(j->MergePostings().ok());
    BOOST_TEST(TermsOf(j.get(), m1) == (KeyHashes{{kKeyA, {3, 9}}, {kKeyB, {5}}}));
    BOOST_TEST(TermsOf(j.get(), m2).empty());
    BOOST_TEST(TermsOf(j.get(), m2 + 1).empty());
  }
  BOOST_TEST(CountKeys(dir.path(), 't') == 2);  // kept
  BOOST_TEST(CountKeys(dir.path(), 'u') == 0);  // merged: no marker left
  BOOST_TEST(CountKeys(dir.path(), 'i') == 3);
  // Reopened, the merged records are not loaded as unmerged again: a merge adds no block.
  auto j = OpenTestJournal(dir.path());
  BOOST_TEST(TermsOf(j.get(), m1) == (KeyHashes{{kKeyA, {3, 9}}, {kKeyB, {5}}}));
  BOOST_REQUIRE(j->MergePostings().ok());
  BOOST_TEST(Seqs(j.get(), kKeyA, 9) == (std::vector<uint64_t>{m1}));
  j.reset();
  BOOST_TEST(CountKeys(dir.path(), 'i') == 3);
}

BOOST_AUTO_TEST_CASE(a_disposal_and_a_dropped_key_take_the_term_sets_with_them) {
  TempDir dir;
  auto j = OpenTestJournal(dir.path());
  uint64_t merged = CommitWithTerms(j.get(), {Terms(kKeyA, {{1, 1}}), Terms(kKeyB, {{1, 1}})});
  BOOST_REQUIRE(j->MergePostings().ok());
  uint64_t waiting = CommitWithTerms(j.get(), {Terms(kKeyA, {{1, 1}, {2, 1}})});
  uint64_t kept = CommitWithTerms(j.get(), {Terms(kKeyA, {{1, 1}}), Terms(kKeyB, {{2, 1}})});
  std::vector<Entry> disposals;
  for (uint64_t seq : {merged, waiting}) {
    MessageEntry m;
    BOOST_REQUIRE(j->ReadMessage(seq, &m).ok());
    disposals.push_back(DisposalOf(seq, m));
  }
  uint64_t first = 0;
  BOOST_REQUIRE(j->DisposeMessages(&disposals, &first).ok());
  BOOST_REQUIRE(j->CompactDisposed().ok());
  BOOST_TEST(TermsOf(j.get(), merged).empty());
  BOOST_TEST(TermsOf(j.get(), waiting).empty());
  BOOST_TEST(TermsOf(j.get(), kept) == (KeyHashes{{kKeyA, {1}}, {kKeyB, {2}}}));
  // The unmerged postings of the disposed message are gone from memory too; the block of
  // the one merged before stays.
  BOOST_TEST(Seqs(j.get(), kKeyA, 2).empty());
  BOOST_TEST(Seqs(j.get(), kKeyA, 1) == (std::vector<uint64_t>{merged, kept}));
  BOOST_REQUIRE(j->DropIndexKey(kKeyB).ok());
  BOOST_TEST(TermsOf(j.get(), kept) == (KeyHashes{{kKeyA, {1}}}));
  j.reset();
  BOOST_TEST(CountKeys(dir.path(), 't') == 1);  // kept's under A
  BOOST_TEST(CountKeys(dir.path(), 'u') == 1);  // not merged yet
  // Reopened: what is left loads, and nothing of the disposed message comes back.
  j = OpenTestJournal(dir.path());
  BOOST_TEST(Seqs(j.get(), kKeyA, 1) == (std::vector<uint64_t>{merged, kept}));
  BOOST_TEST(Seqs(j.get(), kKeyA, 2).empty());
}

BOOST_AUTO_TEST_CASE(a_format_2_journal_gets_a_marker_for_each_term_record) {
  TempDir dir;
  uint64_t m1, m2;
  {
    auto j = OpenTestJournal(dir.path());
    m1 = CommitWithTerms(j.get(), {Terms(kKeyA, {{4, 1}})});
    BOOST_REQUIRE(j->MergePostings().ok());
    m2 = CommitWithTerms(j.get(), {Terms(kKeyA, {{4, 1}, {6, 1}})});
  }
  // As format "2" left it: merges deleted the 't' records, the unmerged ones had no marker.
  std::string t1("t"), u2("u");
  for (int i = 7; i >= 0; --i) t1.push_back(static_cast<char>((m1 >> (8 * i)) & 0xff));
  for (int i = 7; i >= 0; --i) u2.push_back(static_cast<char>((m2 >> (8 * i)) & 0xff));
  for (int i = 7; i >= 0; --i) {
    t1.push_back(static_cast<char>((kKeyA >> (8 * i)) & 0xff));
    u2.push_back(static_cast<char>((kKeyA >> (8 * i)) & 0xff));
  }
  RawDelete(dir.path(), t1);
  RawDelete(dir.path(), u2);
  RawPut(dir.path(), "mformat", "2");
  BOOST_REQUIRE(CountKeys(dir.path(), 'u') == 0);
  {
    auto j = OpenTestJournal(dir.path());
    BOOST_TEST(Seqs(j.get(), kKeyA, 6) == (std::vector<uint64_t>{m2}));  // unmerged, loaded
    BOOST_TEST(Seqs(j.get(), kKeyA, 4) == (std::vector<uint64_t>{m1, m2}));
    BOOST_TEST(TermsOf(j.get(), m2) == (KeyHashes{{kKeyA, {4, 6}}}));
    BOOST_TEST(TermsOf(j.get(), m1).empty());  // merged before the upgrade: not listable
    BOOST_REQUIRE(j->MergePostings().ok());
    BOOST_TEST(Seqs(j.get(), kKeyA, 6) == (std::vector<uint64_t>{m2}));
  }
  BOOST_TEST(CountKeys(dir.path(), 'u') == 0);
  BOOST_TEST(CountKeys(dir.path(), 't') == 1);
}

BOOST_AUTO_TEST_CASE(background_merges_lose_no_posting_while_readers_read) {
  TempDir dir;
  JournalOptions options;
  options.dir = dir.path();
  options.merge_postings = 50;  // a merge every few messages
  std::unique_ptr<Journal> j;
  BOOST_REQUIRE(OpenJournal(options, &j).ok());
  std::vector<uint64_t> committed;
  std::atomic<bool> done{false};
  std::atomic<int> bad_reads{0};
  std::thread reader([&] {
    while (!done) {
      // Every commit so far must be seen, whichever side of a merge it is on.
      uint64_t last = j->LastSequence();
      std::vector<uint64_t> seen = Seqs(j.get(), kKeyA, 42);
      if (!seen.empty() && seen.back() < last) ++bad_reads;
    }
  });
  for (int i = 0; i < 300; ++i) {
    std::vector<KeyedTerm> terms{{42, kFieldBody}};
    for (uint64_t h = 100; h < 120; ++h) terms.push_back({h + i, kFieldBody});
    committed.push_back(CommitWithTerms(j.get(), {Terms(kKeyA, terms)}));
  }
  done = true;
  reader.join();
  BOOST_TEST(bad_reads.load() == 0);
  BOOST_TEST(Seqs(j.get(), kKeyA, 42) == committed);
  j.reset();
  BOOST_TEST(CountKeys(dir.path(), 'i') > 0);  // merges happened
}

BOOST_AUTO_TEST_CASE(index_keys_hash_deterministically_and_differ_per_key) {
  std::array<uint8_t, 32> a{}, b{};
  b[0] = 1;
  IndexKey ka = MakeIndexKey(a), kb = MakeIndexKey(b);
  BOOST_TEST(ka.id != kb.id);
  TermHasher ha(ka), hb(kb), ha2(ka);
  BOOST_TEST(ha.Hash("保本") == ha2.Hash("保本"));
  BOOST_TEST(ha.Hash("保本") != hb.Hash("保本"));
  BOOST_TEST(ha.Hash("保本") != ha.Hash("本保"));
  // HMAC-SHA-256 with a 32-byte zero key over "abc", first 8 bytes (openssl dgst -sha256
  // -mac HMAC -macopt hexkey:00..00).
  BOOST_TEST(ha.Hash("abc") == 0xfd7adb152c05ef80ull);
}

BOOST_AUTO_TEST_CASE(the_key_store_creates_rotates_and_retires_keys) {
  TempDir dir;
  IndexKeyStore store(dir.path() + "/keys");
  std::vector<IndexKey> keys;
  BOOST_TEST(store.Keys("sales", false, &keys).IsNotFound());
  BOOST_REQUIRE(store.Keys("sales", true, &keys).ok());
  BOOST_REQUIRE(keys.size() == 1u);
  uint64_t first = keys[0].id;
  IndexKeyStore reread(dir.path() + "/keys");
  BOOST_REQUIRE(reread.Keys("sales", false, &keys).ok());
  BOOST_TEST(keys[0].id == first);
  IndexKey rotated;
  BOOST_REQUIRE(reread.Rotate("sales", &rotated).ok());
  BOOST_REQUIRE(reread.Keys("sales", false, &keys).ok());
  BOOST_REQUIRE(keys.size() == 2u);
  BOOST_TEST(keys[0].id == rotated.id);
  BOOST_TEST(keys[1].id == first);
  BOOST_REQUIRE(reread.RetireOld("sales").ok());
  BOOST_REQUIRE(IndexKeyStore(dir.path() + "/keys").Keys("sales", false, &keys).ok());
  BOOST_TEST(keys.size() == 1u);
  std::vector<std::string> departments;
  BOOST_REQUIRE(store.Departments(&departments).ok());
  BOOST_TEST(departments == std::vector<std::string>{"sales"});
  struct stat st;
  BOOST_REQUIRE(stat((dir.path() + "/keys/sales.key").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
