// Verifying a journal: an intact one verifies; each kind of damage or tampering on a real
// journal directory is found, and the first entry that does not verify is named.
#include "mailjournal/verify.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "mailjournal/checkpoint.h"
#include "mailjournal/merkle.h"
#include "mailjournal/time_util.h"
#include "test_util.h"

namespace mailjournal {
namespace {

struct Keys {
  Keys() {
    BOOST_REQUIRE(GenerateNoteKey("mail.example/journal", &signer_text, &verifier_text).ok());
    BOOST_REQUIRE(NoteSigner::Create(signer_text, &signer).ok());
    BOOST_REQUIRE(NoteVerifier::Create(verifier_text, &verifier).ok());
  }
  std::string signer_text, verifier_text;
  std::unique_ptr<NoteSigner> signer;
  std::unique_ptr<NoteVerifier> verifier;
};

const Keys& TestNoteKeys() {
  static Keys* keys = new Keys;
  return *keys;
}

// Appends a checkpoint entry signed with the test key; returns its signed note.
std::string AppendSignedCheckpoint(Journal* journal) {
  std::string note;
  uint64_t seq;
  Status s = journal->AppendCheckpoint(
      [&](uint64_t size, const Sha256Digest& root, int64_t time_us, Entry* e) {
        Checkpoint c{"mail.example/journal", size, root, time_us};
        Status st = TestNoteKeys().signer->Sign(FormatCheckpoint(c), &note);
        e->checkpoint.note = note;
        return st;
      },
      &seq);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return note;
}

// 70,000 bytes that do not compress (LevelDB compresses its tables).
std::string Noise(uint32_t seed) {
  std::string s(70000, '\0');
  for (char& c : s) c = static_cast<char>((seed = seed * 1103515245 + 12345) >> 23);
  return s;
}

// A journal of 12 entries: messages 1-5, a checkpoint (6), messages 7-11 of 70 kB, a
// checkpoint (12).
struct TestJournal {
  TestJournal() {
    auto j = OpenTestJournal(dir.path());
    for (int i = 1; i <= 5; ++i) CommitBytes(j.get(), "message " + std::to_string(i), "a@x");
    AppendSignedCheckpoint(j.get());
    for (int i = 7; i <= 11; ++i) {
      CommitBytes(j.get(), "message " + std::to_string(i) + Noise(i), "a@x");
    }
    latest = AppendSignedCheckpoint(j.get());
  }
  VerifyReport Verify(std::vector<OffHostCheckpoint> off_host = {}) {
    auto j = OpenTestJournal(dir.path());
    VerifyOptions o;
    o.verifier = TestNoteKeys().verifier.get();
    o.checkpoints = std::move(off_host);
    VerifyReport r;
    Status s = VerifyJournal(j.get(), o, &r);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    return r;
  }
  std::string Raw(const std::string& key) {
    auto j = OpenTestJournal(dir.path());
    std::string bytes;
    uint64_t seq = 0;
    for (int i = 1; i <= 8; ++i) seq = seq << 8 | static_cast<uint8_t>(key[i]);
    BOOST_REQUIRE(j->ReadEntryBytes(seq, &bytes).ok());
    return bytes;
  }
  TempDir dir;
  std::string latest;  // the note of checkpoint entry 12
};

std::string LeafKey(uint64_t seq) {
  std::string k = RawEntryKey(seq);
  k[0] = 'h';
  return k;
}

BOOST_AUTO_TEST_SUITE(verify)

BOOST_AUTO_TEST_CASE(an_intact_journal_verifies_with_its_checkpoints) {
  TestJournal t;
  VerifyReport r = t.Verify({{"off-host/12", t.latest}});
  BOOST_TEST(r.intact, r.problem);
  BOOST_TEST(r.entries == 12u);
  BOOST_TEST(r.messages == 10u);
  BOOST_TEST(r.checkpoints == 2u);
  BOOST_TEST(r.signatures == 3u);
  BOOST_TEST(r.off_host == 1u);  // entry 12's note covers 11 entries
  BOOST_TEST(r.tree_size == 12u);
  BOOST_TEST(r.content_bytes > 5u * 70000u);
}

BOOST_AUTO_TEST_CASE(a_flipped_byte_in_an_entry_names_that_entry) {
  TestJournal t;
  std::string e = t.Raw(RawEntryKey(4));
  e[e.size() - 3] ^= 0x01;
  RawPut(t.dir.path(), RawEntryKey(4), e);
  VerifyReport r = t.Verify();
  BOOST_TEST(!r.intact);
  BOOST_TEST(r.first_bad_seq == 4u);
}

BOOST_AUTO_TEST_CASE(a_flipped_byte_in_a_content_chunk_names_its_message) {
  TestJournal t;
  MessageEntry m;
  {
    auto j = OpenTestJournal(t.dir.path());
    BOOST_REQUIRE(j->ReadMessage(8, &m).ok());
  }
  std::string chunk = std::string("message 8") + Noise(8);
  chunk = chunk.substr(0, 65536);
  chunk[100] ^= 0x01;
  RawPut(t.dir.path(), RawChunkKey(m.content.txn, 0), chunk);
  VerifyReport r = t.Verify();
  BOOST_TEST(!r.intact);
  BOOST_TEST(r.first_bad_seq == 8u);
  BOOST_TEST(r.problem.find("SHA-256") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_deleted_entry_is_named) {
  TestJournal t;
  RawDelete(t.dir.path(), RawEntryKey(3));
  VerifyReport r = t.Verify();
  BOOST_TEST(!r.intact);
  BOOST_TEST(r.first_bad_seq == 3u);
}

BOOST_AUTO_TEST_CASE(two_swapped_entries_are_found_at_the_first) {
  TestJournal t;
  std::string e2 = t.Raw(RawEntryKey(2)), e3 = t.Raw(RawEntryKey(3));
  RawPut(t.dir.path(), RawEntryKey(2), e3);
  RawPut(t.dir.path(), RawEntryKey(3), e2);
  VerifyReport r = t.Verify();
  BOOST_TEST(!r.intact);
  BOOST_TEST(r.first_bad_seq == 2u);
}

BOOST_AUTO_TEST_CASE(an_inserted_entry_is_named) {
  TestJournal t;
  RawPut(t.dir.path(), RawEntryKey(13), t.Raw(RawEntryKey(2)));
  VerifyReport r = t.Verify();
  BOOST_TEST(!r.intact);
  BOOST_TEST(r.first_bad_seq == 13u);
  // The journal is not repaired at open, and takes no more entries.
  auto j = OpenTestJournal(t.dir.path());
  uint64_t txn = 0;
  BOOST_REQUIRE(j->BeginTransaction(&txn).ok());
  MessageEntry m = TestMessage(SimpleEnvelope("a@x"));
  m.content.txn = txn;
  uint64_t seq = 0;
  Status s = j->CommitMessage(&m, "", nullptr, {}, &seq);
  BOOST_TEST(s.IsCorruption());
  BOOST_TEST(s.message().find("does not cover") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_entry_appended_with_its_leaf_hash_is_caught_by_the_stored_tree) {
  TestJournal t;
  // A copy of entry 2, dated now (so that it is not caught by its date first).
  Entry copy;
  BOOST_REQUIRE(DecodeEntry(t.Raw(RawEntryKey(2)), &copy).ok());
  copy.set_time_us(NowMicros());
  std::string e = EncodeEntry(copy);
  RawPut(t.dir.path(), RawEntryKey(13), e);
  Sha256Digest h = LeafHash(e);
  RawPut(t.dir.path(), LeafKey(13), std::string(reinterpret_cast<const char*>(h.data()), 32));
  VerifyReport r = t.Verify();
  BOOST_TEST(!r.intact);
  BOOST_TEST(r.first_bad_seq == 13u);
  BOOST_TEST(r.problem.find("covers 12 entries") != std::string::npos, r.problem);
}

// An entry appended through the journal library by a process whose clock is ahead (or
// that sets its own dates), e.g. to date a forged disposal after a retain-until date.
BOOST_AUTO_TEST_CASE(an_entry_dated_in_the_future_is_named) {
  TestJournal t;
  {
    JournalOptions options;
    options.dir = t.dir.path();
    options.clock = [] { return NowMicros() + 2 * 3600LL * 1000000; };
    std::unique_ptr<Journal> j;
    BOOST_REQUIRE(OpenJournal(options, &j).ok());
    CommitBytes(j.get(), "from the future", "a@x");
  }
  VerifyReport r = t.Verify();
  BOOST_TEST(!r.intact);
  BOOST_TEST(r.first_bad_seq == 13u);
  BOOST_TEST(r.problem.find("in the future of this machine's clock") != std::string::npos,
             r.problem);
}

BOOST_AUTO_TEST_CASE(an_entry_rewritten_with_its_leaf_hash_is_caught_by_the_next_checkpoint) {
  TestJournal t;
  std::string e = t.Raw(RawEntryKey(3));
  e[e.size() - 3] ^= 0x01;
  RawPut(t.dir.path(), RawEntryKey(3), e);
  std::string leaf;
  Sha256Digest h = LeafHash(e);
  leaf.assign(reinterpret_cast<const char*>(h.data()), 32);
  RawPut(t.dir.path(), LeafKey(3), leaf);
  VerifyReport r = t.Verify();
  BOOST_TEST(!r.intact);
  BOOST_TEST(r.first_bad_seq == 6u);  // the checkpoint over entries 1-5
  BOOST_TEST(r.problem.find("does not match the entries before it") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_altered_checkpoint_signature_is_named) {
  TestJournal t;
  Entry e;
  BOOST_REQUIRE(DecodeEntry(t.Raw(RawEntryKey(6)), &e).ok());
  std::string& note = e.checkpoint.note;
  size_t sig = note.rfind(' ') + 10;
  note[sig] = note[sig] == 'A' ? 'B' : 'A';
  std::string bytes = EncodeEntry(e);
  RawPut(t.dir.path(), RawEntryKey(6), bytes);
  Sha256Digest h = LeafHash(bytes);
  RawPut(t.dir.path(), LeafKey(6), std::string(reinterpret_cast<const char*>(h.data()), 32));
  VerifyReport r = t.Verify();
  BOOST_TEST(!r.intact);
  BOOST_TEST(r.first_bad_seq == 6u);
  BOOST_TEST(r.problem.find("does not verify") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_journal_rolled_back_behind_an_off_host_checkpoint_is_caught) {
  TestJournal t;
  TempDir old;
  std::filesystem::copy(
      t.dir.path(), old.path(),
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
  std::string newer;
  {
    auto j = OpenTestJournal(t.dir.path());
    CommitBytes(j.get(), "message 13", "a@x");
    newer = AppendSignedCheckpoint(j.get());  // entry 14, over 13 entries
  }
  // The journal directory is replaced by its older copy; the off-host copy is newer.
  std::filesystem::remove_all(t.dir.path());
  std::filesystem::copy(old.path(), t.dir.path(), std::filesystem::copy_options::recursive);
  VerifyReport r = t.Verify({{"off-host/13", newer}});
  BOOST_TEST(!r.intact);
  BOOST_TEST(r.first_bad_seq == 13u);
  BOOST_TEST(r.problem.find("rolled back") != std::string::npos);
  // Rewritten instead (same length, other history): the roots differ.
  std::string other;
  {
    TempDir rewritten;
    auto j = OpenTestJournal(rewritten.path());
    for (int i = 0; i < 12; ++i) CommitBytes(j.get(), "other " + std::to_string(i), "b@x");
    other = AppendSignedCheckpoint(j.get());  // over 12 entries
  }
  r = t.Verify({{"off-host/other", other}});
  BOOST_TEST(!r.intact);
  BOOST_TEST(r.problem.find("rewritten") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_modified_table_file_is_found) {
  TestJournal t;
  {
    auto j = OpenTestJournal(t.dir.path());  // the data goes to table files when it is reopened
  }
  std::string table;
  for (const auto& f : std::filesystem::directory_iterator(t.dir.path() + "/db")) {
    if (f.path().extension() == ".ldb" && std::filesystem::file_size(f.path()) > 100000) {
      table = f.path().string();
    }
  }
  BOOST_REQUIRE(!table.empty());
  std::fstream f(table, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(50000);
  char c;
  f.read(&c, 1);
  c ^= 0x01;
  f.seekp(50000);
  f.write(&c, 1);
  f.close();
  VerifyReport r = t.Verify();
  BOOST_TEST(!r.intact);
  // The first entry whose records share the damaged block (LevelDB's block checksum).
  BOOST_TEST(r.first_bad_seq > 0u, r.problem);
  BOOST_TEST(r.problem.find("orrupt") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
