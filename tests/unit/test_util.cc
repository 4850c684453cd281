#include "test_util.h"

#include <leveldb/db.h>
#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "coding.h"  // store/src: the journal's own key encoding
#include "mailjournal/message_writer.h"
#include "mailjournal/seal.h"
#include "mailjournal/sha256.h"
#include "mailjournal/time_util.h"

namespace mailjournal {

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/mailjournal-test-XXXXXX";
  char* p = mkdtemp(&tmpl[0]);
  BOOST_REQUIRE(p != nullptr);
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int64_t Time(const std::string& text) {
  int64_t t = 0;
  Status s = ParseTime(text, &t);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return t;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string ReadCaseFile(const std::string& name) {
  std::string path = std::string(MAILJOURNAL_POLICY_CASES) + "/" + name;
  BOOST_REQUIRE_MESSAGE(std::ifstream(path).good(), "cannot open test file " << name);
  return ReadFile(path);
}

std::shared_ptr<const Policy> LoadPolicyOrFail(std::vector<PolicyFile> files) {
  std::shared_ptr<const Policy> policy;
  std::vector<PolicyError> errors;
  bool ok = LoadPolicy("policy.yaml", MemoryFileReader(std::move(files)), &policy, &errors);
  for (const PolicyError& e : errors) BOOST_TEST_MESSAGE(e.ToString());
  BOOST_REQUIRE(ok);
  return policy;
}

MessageEntry TestMessage(const Envelope& envelope) {
  MessageEntry m;
  m.envelope = envelope;
  m.classification.departments = {"default"};
  m.classification.retention = "default-7y";
  return m;
}

Entry DisposalOf(uint64_t seq, const MessageEntry& message) {
  Entry e;
  e.kind = EntryKind::kDispose;
  e.dispose.message = seq;
  e.dispose.retention = message.classification.retention;
  e.dispose.retain_until_us = message.classification.retain_until_us;
  return e;
}

std::unique_ptr<Journal> OpenTestJournal(const std::string& dir) {
  JournalOptions options;
  options.dir = dir;
  std::unique_ptr<Journal> journal;
  Status s = OpenJournal(options, &journal);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return journal;
}

TestKeyPairs::TestKeyPairs() {
  for (const char* name : {"retail", "escrow", "other"}) {
    std::string base = dir_.path() + "/" + name;
    std::string cmd = "openssl req -x509 -newkey rsa:3072 -nodes -keyout " + base + ".key -out " +
                      base + ".crt -subj /CN=" + name + " -days 2 2>/dev/null";
    BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  }
}

std::string TestKeyPairs::Cert(const std::string& name) const {
  return ReadFile(dir_.path() + "/" + name + ".crt");
}

std::string TestKeyPairs::Key(const std::string& name) const {
  return ReadFile(dir_.path() + "/" + name + ".key");
}

RecipientKeys ParseRecipients(const std::vector<std::string>& certificates_pem) {
  RecipientKeys keys;
  for (const std::string& pem : certificates_pem) {
    keys.emplace_back();
    Status s = RecipientKey::Parse(pem, &keys.back());
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  return keys;
}

const TestKeyPairs& TestKeys() {
  static TestKeyPairs* keys = new TestKeyPairs;
  return *keys;
}

std::string ReadOpened(Journal* journal, uint64_t seq, const std::string& key_name) {
  std::unique_ptr<OpeningKey> key;
  Status s = OpeningKey::Load(TestKeys().Key(key_name), "", &key);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::string plaintext;
  s = key->Open(ReadAll(journal, seq), &plaintext);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return plaintext;
}

Envelope SimpleEnvelope(const std::string& from) {
  Envelope env;
  env.mail = {"<" + from + ">"};
  env.rcpt = {{"<rcpt@example.com>"}};
  return env;
}

uint64_t CommitBytes(Journal* journal, const std::string& bytes, const std::string& from) {
  MessageWriter w(journal);
  BOOST_REQUIRE(w.Append(bytes).ok());
  uint64_t seq = 0;
  MessageEntry entry;
  Status s = w.Commit(TestMessage(SimpleEnvelope(from)), nullptr, &seq, &entry);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return seq;
}

std::string ReadAll(Journal* journal, uint64_t seq) {
  MessageEntry entry;
  Status s = journal->ReadMessage(seq, &entry);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::string out;
  s = journal->ReadContent(entry.content, [&](std::string_view b) {
    out.append(b);
    return Status::OK();
  });
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return out;
}

namespace {
std::unique_ptr<leveldb::DB> OpenRaw(const std::string& journal_dir) {
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(leveldb::Options(), journal_dir + "/db", &raw);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return std::unique_ptr<leveldb::DB>(raw);
}
}  // namespace

void RawPut(const std::string& journal_dir, const std::string& key, const std::string& value) {
  BOOST_REQUIRE(OpenRaw(journal_dir)->Put(leveldb::WriteOptions(), key, value).ok());
}

void RawDelete(const std::string& journal_dir, const std::string& key) {
  BOOST_REQUIRE(OpenRaw(journal_dir)->Delete(leveldb::WriteOptions(), key).ok());
}

std::string RawEntryKey(uint64_t seq) {
  std::string k("e");
  AppendBE(&k, seq, 8);
  return k;
}

std::string RawChunkKey(uint64_t txn, uint32_t index) {
  std::string k("c");
  AppendBE(&k, txn, 8);
  AppendBE(&k, index, 4);
  return k;
}

int CountKeys(const std::string& journal_dir, char prefix) {
  auto db = OpenRaw(journal_dir);
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  int n = 0;
  for (it->Seek(std::string(1, prefix)); it->Valid() && it->key()[0] == prefix; it->Next()) ++n;
  return n;
}

uint64_t CommitSealedBytes(Journal* journal, const std::string& plaintext,
                           const std::string& key_name) {
  std::unique_ptr<Sealer> sealer;
  BOOST_REQUIRE(Sealer::Create(ParseRecipients({TestKeys().Cert(key_name)}), &sealer).ok());
  BOOST_REQUIRE(sealer->Append(plaintext).ok());
  BOOST_REQUIRE(sealer->Finish().ok());
  MessageWriter w(journal);
  BOOST_REQUIRE(w.Append(sealer->Take()).ok());
  MessageEntry e = TestMessage(SimpleEnvelope("sealed@example.com"));
  e.sealing.sealed = true;
  e.sealing.plain_size = plaintext.size();
  e.sealing.salt.fill(0x5a);
  Sha256 salted;
  salted.Update(std::string_view(reinterpret_cast<const char*>(e.sealing.salt.data()), 16));
  salted.Update(plaintext);
  e.sealing.plain_digest = salted.Final();
  e.sealing.recipients = sealer->recipients();
  uint64_t seq = 0;
  BOOST_REQUIRE(w.Commit(e, nullptr, &seq, nullptr).ok());
  return seq;
}

uint64_t AppendSignedCheckpoint(Journal* journal, const NoteSigner& signer,
                                const std::string& origin) {
  uint64_t seq = 0;
  Status s = journal->AppendCheckpoint(
      [&](uint64_t size, const Sha256Digest& root, int64_t time_us, Entry* entry) {
        Checkpoint c{origin, size, root, time_us};
        entry->kind = EntryKind::kCheckpoint;
        return signer.Sign(FormatCheckpoint(c), &entry->checkpoint.note);
      },
      &seq);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return seq;
}

}  // namespace mailjournal
