// PolicyHolder: loads are journaled before they take effect; offline tools rebuild the
// policy in force from the journal alone.
#include "mailjournal/policy_holder.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "mailjournal/seal.h"
#include "test_util.h"

namespace mailjournal {
namespace {

void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::trunc) << text;
}

const char kPolicy[] =
    "version: 1\n"
    "retention: {r5: 5y, r7: 7y}\n"
    "escrow: [keys/escrow.pem]\n"
    "departments:\n"
    "  - name: retail\n"
    "    members: [{include: hr/retail.txt}]\n"
    "    keys: [keys/retail.pem]\n"
    "    retention: r5\n"
    "  - name: default\n"
    "    retention: r7\n";

// Writes the test key certificates into DIR/keys.
void WriteKeys(const std::string& dir) {
  for (const char* name : {"retail", "brokerage", "insurance", "escrow"}) {
    std::string file = std::string("keys/") + name + ".pem";
    Write(dir + "/" + file, ReadCaseFile(file));
  }
}

// Writes kPolicy as DIR/policy.yaml with its member list and keys; returns its path.
std::string WritePolicyFiles(const std::string& dir) {
  Write(dir + "/policy.yaml", kPolicy);
  Write(dir + "/hr/retail.txt", "ann@bank.example\n");
  WriteKeys(dir);
  return dir + "/policy.yaml";
}

Sha256Digest FingerprintOf(const std::string& case_file) {
  Sha256Digest d;
  BOOST_REQUIRE(CertificateKeyFingerprint(ReadCaseFile(case_file), &d).ok());
  return d;
}

// "added retail keys/retail.pem" for each key entry after `from`.
std::vector<std::string> KeyEntriesAfter(Journal* journal, uint64_t from, const std::string& dir) {
  std::vector<std::string> out;
  BOOST_REQUIRE(journal
                    ->Scan(from + 1, false,
                           [&](uint64_t, const Entry& e) {
                             if (e.kind != EntryKind::kKey) return true;
                             std::string file = e.key.file.substr(dir.size() + 1);
                             BOOST_TEST((e.key.fingerprint == FingerprintOf(file)));
                             out.push_back(
                                 std::string(KeyActionName(e.key.action)) + " " +
                                 (e.key.department.empty() ? "escrow" : e.key.department) + " " +
                                 file);
                             return true;
                           })
                    .ok());
  return out;
}

BOOST_AUTO_TEST_SUITE(policy_holder)

BOOST_AUTO_TEST_CASE(a_load_is_journaled_and_rebuilt_offline_without_the_files) {
  TempDir dir;
  std::string policy_path = WritePolicyFiles(dir.path() + "/etc");
  Sha256Digest digest;
  {
    auto journal = OpenTestJournal(dir.path() + "/journal");
    PolicyHolder holder(policy_path, journal.get());
    BOOST_TEST(holder.Active() == nullptr);
    std::vector<PolicyError> errors;
    uint64_t seq = 0;
    BOOST_REQUIRE(holder.Load("start", &errors, &seq).ok());
    BOOST_TEST(seq == 1u);
    BOOST_TEST(holder.active_seq() == 1u);
    digest = holder.Active()->digest();
  }
  std::filesystem::remove_all(dir.path() + "/etc");  // an auditor's machine has no files
  auto journal = OpenTestJournal(dir.path() + "/journal");
  PolicyHolder offline("", journal.get());
  BOOST_REQUIRE(offline.LoadFromJournal().ok());
  BOOST_TEST((offline.Active()->digest() == digest));
  BOOST_TEST(offline.Active()->MatchAddress("ann@bank.example").departments ==
             std::vector<std::string>{"retail"});
}

BOOST_AUTO_TEST_CASE(a_refused_load_keeps_the_running_policy_and_journals_nothing) {
  TempDir dir;
  std::string policy_path = WritePolicyFiles(dir.path());
  auto journal = OpenTestJournal(dir.path() + "/journal");
  PolicyHolder holder(policy_path, journal.get());
  std::vector<PolicyError> errors;
  uint64_t seq = 0;
  BOOST_REQUIRE(holder.Load("start", &errors, &seq).ok());
  std::shared_ptr<const Policy> before = holder.Active();
  Write(policy_path, std::string(kPolicy) + "    index: maybe\n");
  Status s = holder.Load("reload (test)", &errors, &seq);
  BOOST_TEST(!s.ok());
  BOOST_TEST(s.message().find("the running policy stays in force") != std::string::npos);
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].line == 11);
  BOOST_TEST(holder.Active() == before);
  BOOST_TEST(holder.active_seq() == 1u);
  BOOST_TEST(journal->LastSequence() == 3u);  // the policy and its two key entries
}

BOOST_AUTO_TEST_CASE(key_changes_are_journaled_with_the_policy_that_makes_them) {
  TempDir dir;
  std::string etc = dir.path() + "/etc";
  std::string policy_path = WritePolicyFiles(etc);
  std::vector<PolicyError> errors;
  uint64_t seq = 0;
  {
    auto journal = OpenTestJournal(dir.path() + "/journal");
    PolicyHolder holder(policy_path, journal.get());
    // The first load adds every key, in the same write as the policy entry.
    BOOST_REQUIRE(holder.Load("start", &errors, &seq).ok());
    BOOST_TEST(seq == 1u);
    BOOST_TEST(journal->LastSequence() == 3u);
    BOOST_TEST(KeyEntriesAfter(journal.get(), 0, etc) ==
                   (std::vector<std::string>{"added retail keys/retail.pem",
                                             "added escrow keys/escrow.pem"}),
               boost::test_tools::per_element());
    Entry key;
    BOOST_REQUIRE(journal->ReadEntry(2, &key).ok());
    BOOST_TEST((key.key.policy_digest == holder.Active()->digest()));
    // Rotation: retail gains a key, default gets its own, the escrow key goes.
    Write(policy_path,
          "version: 1\n"
          "retention: {r5: 5y, r7: 7y}\n"
          "departments:\n"
          "  - name: retail\n"
          "    members: [{include: hr/retail.txt}]\n"
          "    keys: [keys/brokerage.pem, keys/retail.pem]\n"
          "    retention: r5\n"
          "  - name: default\n"
          "    keys: [keys/insurance.pem]\n"
          "    retention: r7\n");
    BOOST_REQUIRE(holder.Load("reload (test)", &errors, &seq).ok());
    BOOST_TEST(seq == 4u);
    BOOST_TEST(KeyEntriesAfter(journal.get(), 3, etc) ==
                   (std::vector<std::string>{"added retail keys/brokerage.pem",
                                             "added default keys/insurance.pem",
                                             "removed escrow keys/escrow.pem"}),
               boost::test_tools::per_element());
    BOOST_TEST(journal->LastSequence() == 7u);
  }
  // After a restart the keys are compared with the journal's policy: nothing changed.
  auto journal = OpenTestJournal(dir.path() + "/journal");
  PolicyHolder holder(policy_path, journal.get());
  BOOST_REQUIRE(holder.Load("start", &errors, &seq).ok());
  BOOST_TEST(seq == 8u);
  BOOST_TEST(journal->LastSequence() == 8u);
  // The same key moving to another department is a change of holder: removed and added.
  std::string text = ReadFile(policy_path);
  text.replace(text.find("keys/insurance.pem"), 18, "keys/retail.pem");
  Write(policy_path, text);
  BOOST_REQUIRE(holder.Load("reload (test)", &errors, &seq).ok());
  BOOST_TEST(KeyEntriesAfter(journal.get(), 9, etc) ==
                 (std::vector<std::string>{"added default keys/retail.pem",
                                           "removed default keys/insurance.pem"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_previous_policy_that_no_longer_loads_does_not_stop_the_start) {
  TempDir dir;
  std::string policy_path = WritePolicyFiles(dir.path());
  auto journal = OpenTestJournal(dir.path() + "/journal");
  // A policy entry written under older rules: its department has no key.
  std::vector<Entry> old(1);
  old[0].kind = EntryKind::kPolicy;
  old[0].policy.files = {{policy_path,
                          "version: 1\nretention: {r: 1y}\ndepartments:\n"
                          "  - {name: default, retention: r}\n"}};
  old[0].policy.reason = "start";
  uint64_t seq = 0;
  BOOST_REQUIRE(journal->AppendEntries(&old, &seq).ok());
  PolicyHolder holder(policy_path, journal.get());
  std::vector<PolicyError> errors;
  BOOST_REQUIRE(holder.Load("start", &errors, &seq).ok());
  Entry entry;
  BOOST_REQUIRE(journal->ReadEntry(seq, &entry).ok());
  BOOST_TEST(entry.policy.reason.find("start; keys not compared with the previous policy "
                                      "(policy entry 1 no longer loads") == 0u);
  BOOST_TEST(KeyEntriesAfter(journal.get(), seq, dir.path()) ==
                 (std::vector<std::string>{"added retail keys/retail.pem",
                                           "added escrow keys/escrow.pem"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(offline_without_any_policy_entry_is_not_found) {
  TempDir dir;
  auto journal = OpenTestJournal(dir.path());
  PolicyHolder offline("", journal.get());
  BOOST_TEST(offline.LoadFromJournal().IsNotFound());
  BOOST_TEST(offline.Active() == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
