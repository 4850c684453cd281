// PolicyHolder: loads are journaled before they take effect; offline tools rebuild the
// policy in force from the journal alone.
#include "mailjournal/policy_holder.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

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
    "departments:\n"
    "  - name: retail\n"
    "    members: [{include: hr/retail.txt}]\n"
    "    retention: r5\n"
    "  - name: default\n"
    "    retention: r7\n";

BOOST_AUTO_TEST_SUITE(policy_holder)

BOOST_AUTO_TEST_CASE(a_load_is_journaled_and_rebuilt_offline_without_the_files) {
  TempDir dir;
  std::string policy_path = dir.path() + "/etc/policy.yaml";
  Write(policy_path, kPolicy);
  Write(dir.path() + "/etc/hr/retail.txt", "ann@bank.example\n");
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
  std::string policy_path = dir.path() + "/policy.yaml";
  Write(policy_path, kPolicy);
  Write(dir.path() + "/hr/retail.txt", "ann@bank.example\n");
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
  BOOST_TEST(errors[0].line == 9);
  BOOST_TEST(holder.Active() == before);
  BOOST_TEST(holder.active_seq() == 1u);
  BOOST_TEST(journal->LastSequence() == 1u);
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
