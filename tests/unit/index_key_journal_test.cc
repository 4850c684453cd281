// IndexKeyJournal: a department's index key is journaled sealed to the department's and the
// escrow keys when it is made or rotated, again when those keys change with a policy load,
// and once for a key made while nothing journaled it; an unchanged policy appends nothing.
#include "mailjournal/index_key_journal.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "mailjournal/seal.h"
#include "test_util.h"

namespace mailjournal {
namespace {

void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::trunc) << text;
}

std::string PolicyText(const std::string& retail_keys) {
  return "version: 1\n"
         "retention: {r5: 5y}\n"
         "escrow: [keys/escrow.pem]\n"
         "departments:\n"
         "  - name: retail\n"
         "    members: [ann@bank.example]\n"
         "    keys: [" +
         retail_keys +
         "]\n"
         "    retention: r5\n"
         "  - name: default\n"
         "    retention: r5\n";
}

std::set<Sha256Digest> Fingerprints(const std::vector<std::string>& names) {
  std::set<Sha256Digest> out;
  for (const std::string& name : names) {
    Sha256Digest d;
    BOOST_REQUIRE(CertificateKeyFingerprint(ReadCaseFile("keys/" + name + ".pem"), &d).ok());
    out.insert(d);
  }
  return out;
}

struct Fixture {
  Fixture() : journal(OpenTestJournal(dir.path() + "/journal")) {
    for (const char* name : {"retail", "brokerage", "escrow"}) {
      std::string file = std::string("keys/") + name + ".pem";
      Write(dir.path() + "/etc/" + file, ReadCaseFile(file));
    }
    LoadPolicy("keys/retail.pem");
    keys.SetNewKeyObserver(
        [this](const std::string& department, const IndexKey& key, const std::string& reason) {
          BOOST_REQUIRE(recorder.Record(department, key, reason).ok());
        });
  }
  void LoadPolicy(const std::string& retail_keys) {
    Write(dir.path() + "/etc/policy.yaml", PolicyText(retail_keys));
    std::vector<PolicyError> errors;
    uint64_t seq = 0;
    Status s = policies.Load("test", &errors, &seq);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  // The index_key entries after `from`.
  std::vector<IndexKeyEntry> EntriesAfter(uint64_t from) {
    std::vector<IndexKeyEntry> out;
    BOOST_REQUIRE(journal
                      ->ScanKind(EntryKind::kIndexKey, from + 1, false,
                                 [&](uint64_t, const Entry& e) {
                                   out.push_back(e.index_key);
                                   return true;
                                 })
                      .ok());
    return out;
  }

  TempDir dir;
  std::unique_ptr<Journal> journal;
  PolicyHolder policies{dir.path() + "/etc/policy.yaml", journal.get()};
  IndexKeyStore keys{dir.path() + "/index_keys"};
  IndexKeyJournal recorder{journal.get(), &policies, &keys};
};

BOOST_AUTO_TEST_SUITE(index_key_journal)

BOOST_FIXTURE_TEST_CASE(keys_are_journaled_when_made_and_when_their_recipients_change, Fixture) {
  size_t appended = 99;
  BOOST_REQUIRE(recorder.Sync(&appended).ok());
  BOOST_TEST(appended == 0u);  // no key yet
  std::vector<IndexKey> retail;
  BOOST_REQUIRE(keys.Keys("retail", true, &retail).ok());
  std::vector<IndexKeyEntry> made = EntriesAfter(0);
  BOOST_REQUIRE(made.size() == 1u);
  BOOST_TEST(made[0].department == "retail");
  BOOST_TEST(made[0].key_id == retail[0].id);
  BOOST_TEST(made[0].reason == "created");
  BOOST_TEST((std::set<Sha256Digest>(made[0].recipients.begin(), made[0].recipients.end()) ==
              Fingerprints({"retail", "escrow"})));
  BOOST_REQUIRE(keys.Keys("retail", true, &retail).ok());  // exists: no entry
  BOOST_REQUIRE(recorder.Sync(&appended).ok());
  BOOST_TEST(appended == 0u);
  uint64_t mark = journal->LastSequence();

  IndexKey rotated;
  BOOST_REQUIRE(keys.Rotate("retail", &rotated).ok());
  std::vector<IndexKeyEntry> after = EntriesAfter(mark);
  BOOST_REQUIRE(after.size() == 1u);
  BOOST_TEST(after[0].reason == "rotated");
  BOOST_TEST(after[0].key_id == rotated.id);
  mark = journal->LastSequence();

  // Retail's mail is now sealed to brokerage too: both keys are sealed again.
  LoadPolicy("keys/brokerage.pem, keys/retail.pem");
  BOOST_REQUIRE(recorder.Sync(&appended).ok());
  BOOST_TEST(appended == 2u);
  after = EntriesAfter(mark);
  BOOST_REQUIRE(after.size() == 2u);
  std::set<uint64_t> ids;
  for (const IndexKeyEntry& e : after) {
    BOOST_TEST(e.reason == "keys changed");
    ids.insert(e.key_id);
    BOOST_TEST((std::set<Sha256Digest>(e.recipients.begin(), e.recipients.end()) ==
                Fingerprints({"brokerage", "retail", "escrow"})));
  }
  BOOST_TEST((ids == std::set<uint64_t>{retail[0].id, rotated.id}));
  BOOST_REQUIRE(recorder.Sync(&appended).ok());
  BOOST_TEST(appended == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_key_made_while_nothing_journaled_it_is_journaled_once, Fixture) {
  std::vector<IndexKey> made;
  IndexKeyStore unobserved(dir.path() + "/index_keys");  // as before index_key entries
  BOOST_REQUIRE(unobserved.Keys("default", true, &made).ok());
  BOOST_TEST(EntriesAfter(0).empty());
  size_t appended = 0;
  BOOST_REQUIRE(recorder.Sync(&appended).ok());
  BOOST_TEST(appended == 1u);
  std::vector<IndexKeyEntry> entries = EntriesAfter(0);
  BOOST_REQUIRE(entries.size() == 1u);
  BOOST_TEST(entries[0].department == "default");
  BOOST_TEST(entries[0].reason == "created");
  // Default has no key of its own: its mail, and its index key, are sealed to the escrow.
  BOOST_TEST((std::set<Sha256Digest>(entries[0].recipients.begin(), entries[0].recipients.end()) ==
              Fingerprints({"escrow"})));
  BOOST_REQUIRE(recorder.Sync(&appended).ok());
  BOOST_TEST(appended == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
