// Helpers shared by the unit tests.
#ifndef MAILJOURNAL_TESTS_TEST_UTIL_H_
#define MAILJOURNAL_TESTS_TEST_UTIL_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "mailjournal/admin_protocol.h"
#include "mailjournal/checkpoint.h"
#include "mailjournal/journal.h"
#include "mailjournal/policy.h"
#include "mailjournal/seal.h"

namespace mailjournal {

// Grants every operation on every department but the operations in `withheld`.
class Grants : public Permissions {
 public:
  explicit Grants(std::set<std::string> withheld) : withheld_(std::move(withheld)) {}
  bool Allows(const std::string& op, const std::string&) const override { return Has(op); }
  bool AllowsSome(const std::string& op) const override { return Has(op); }
  bool AllowsAll(const std::string& op) const override { return Has(op); }

 private:
  bool Has(const std::string& op) const { return withheld_.count(op) == 0; }
  std::set<std::string> withheld_;
};

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A message entry with this envelope and a fixed classification, ready for
// MessageWriter::Commit.
MessageEntry TestMessage(const Envelope& envelope);

// The time of an ISO 8601 UTC text (mailjournal/time_util.h ParseTime); the test fails
// when it does not parse.
int64_t Time(const std::string& text);

// The whole content of a file ("" when it cannot be read).
std::string ReadFile(const std::string& path);
// A file of tests/unit/policy_cases; fails the test when it cannot be read.
std::string ReadCaseFile(const std::string& name);

// Loads the policy "policy.yaml" of `files` (mailjournal/policy.h MemoryFileReader); fails
// the test, with the loader's errors, when it does not load.
std::shared_ptr<const Policy> LoadPolicyOrFail(std::vector<PolicyFile> files);

// The envelope of a message from `from` to rcpt@example.com.
Envelope SimpleEnvelope(const std::string& from);
// Commits a message of these bytes from `from` (unsealed, as the journal layer allows);
// returns its sequence number; fails the test on error.
uint64_t CommitBytes(Journal* journal, const std::string& bytes, const std::string& from);

// A dispose entry for message `seq` with the message's retention (for DisposeMessages).
Entry DisposalOf(uint64_t seq, const MessageEntry& message);

// Opens (creating) the journal in dir; fails the test on error.
std::unique_ptr<Journal> OpenTestJournal(const std::string& dir);

// Reads a message's captured bytes back; fails the test on error.
std::string ReadAll(Journal* journal, uint64_t seq);

// RSA-3072 key pairs named "retail", "escrow" and "other" (an unencrypted PEM private key
// and a self-signed certificate each), made once per test run with the openssl command.
class TestKeyPairs {
 public:
  TestKeyPairs();
  std::string Cert(const std::string& name) const;
  std::string Key(const std::string& name) const;
  // DIR/NAME.key and DIR/NAME.crt are the files.
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
};
const TestKeyPairs& TestKeys();

// PEM certificates parsed as sealing recipients; fails the test if one does not parse.
RecipientKeys ParseRecipients(const std::vector<std::string>& certificates_pem);

// Reads a sealed message's captured bytes back, opened with the named test key; fails the
// test on error.
std::string ReadOpened(Journal* journal, uint64_t seq, const std::string& key_name);

// Commits `plaintext` sealed to the named test key, as a message from sealed@example.com;
// returns its sequence number; fails the test on error.
uint64_t CommitSealedBytes(Journal* journal, const std::string& plaintext,
                           const std::string& key_name);

// Appends a checkpoint entry signed by `signer` for `origin`; returns its sequence number.
uint64_t AppendSignedCheckpoint(Journal* journal, const NoteSigner& signer,
                                const std::string& origin);

// Counts the raw LevelDB keys that start with `prefix` in a closed journal's database.
int CountKeys(const std::string& journal_dir, char prefix);

// Changes a closed journal's database behind its back, as an attacker or a bad disk would.
void RawPut(const std::string& journal_dir, const std::string& key, const std::string& value);
void RawDelete(const std::string& journal_dir, const std::string& key);

// The LevelDB keys of an entry and of a content chunk (mailjournal-format(5)).
std::string RawEntryKey(uint64_t seq);
std::string RawChunkKey(uint64_t txn, uint32_t index);

// Collects one admin-protocol response; with a journal, also its last sequence number when
// the header was written (the access entry must be in the journal by then).
class Recorder : public ResponseWriter {
 public:
  explicit Recorder(Journal* journal = nullptr) : journal_(journal) {}
  Status Header(const nlohmann::json& r) override {
    header = r;
    if (journal_ != nullptr) last_seq_at_header = journal_->LastSequence();
    return Status::OK();
  }
  Status Payload(std::string_view b) override {
    payload.append(b);
    return Status::OK();
  }
  Status Trailer(const nlohmann::json& t) override {
    trailer = t;
    return Status::OK();
  }
  nlohmann::json header, trailer;
  std::string payload;
  uint64_t last_seq_at_header = 0;

 private:
  Journal* journal_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_TESTS_TEST_UTIL_H_
