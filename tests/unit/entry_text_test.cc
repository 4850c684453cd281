// The text lines of `mailjournal list --all` and `mailjournal audit` for the entries of
// issue 7 (hold, release, dispose, access) and index_key, made from the admin protocol's JSON.
#include "entry_text.h"

#include <boost/test/unit_test.hpp>

#include "mailjournal/admin_protocol.h"
#include "mailjournal/time_util.h"
#include "test_util.h"

namespace mailjournal {
namespace {

Entry Access(bool allowed, const std::string& user, const std::string& outcome) {
  Entry e;
  e.kind = EntryKind::kAccess;
  e.access.time_us = Time("2026-11-27T10:00:00Z");
  e.access.actor = {1001, user};
  e.access.operation = "export";
  e.access.arguments = R"({"purpose":"read","seq":12})";
  e.access.allowed = allowed;
  e.access.outcome = outcome;
  if (allowed && outcome.empty()) e.access.seqs = {{12, 12}, {14, 16}};
  return e;
}

BOOST_AUTO_TEST_SUITE(entry_text)

BOOST_AUTO_TEST_CASE(an_access_line_names_who_what_whether_allowed_and_what_was_returned) {
  BOOST_TEST(EntryLine(EntryToJson(57, Access(true, "alice", ""))) ==
             "57 2026-11-27T10:00:00.000000Z access alice(1001) export allowed "
             R"({"purpose":"read","seq":12} seqs=12,14-16)");
  BOOST_TEST(EntryLine(EntryToJson(58, Access(false, "", "uid 1001 may not export message 12"))) ==
             "58 2026-11-27T10:00:00.000000Z access (1001) export REFUSED "
             R"({"purpose":"read","seq":12} seqs=- outcome=uid 1001 may not export message 12)");
}

BOOST_AUTO_TEST_CASE(an_index_key_line_names_department_key_id_reason_and_recipients) {
  Entry e;
  e.kind = EntryKind::kIndexKey;
  e.index_key.time_us = Time("2026-11-27T10:00:00Z");
  e.index_key.department = "sales";
  e.index_key.key_id = 0xb64004c86af718c0ULL;
  e.index_key.sealed = "cms";
  e.index_key.recipients.resize(2);
  e.index_key.reason = "keys changed";
  nlohmann::json j = EntryToJson(60, e);
  BOOST_TEST(EntryLine(j) ==
             "60 2026-11-27T10:00:00.000000Z index_key sales b64004c86af718c0 keys changed "
             "recipients=2");
  BOOST_TEST(j["sealed"] == "Y21z");  // base64 of the sealed bytes, for openssl cms
}

BOOST_AUTO_TEST_CASE(text_from_requests_cannot_start_a_line_of_its_own) {
  std::string line = EntryLine(
      EntryToJson(59, Access(true, "alice", "entry 1: gone\n60 2026-11-27T10:00:00Z access")));
  BOOST_TEST(line.find('\n') == std::string::npos);
  BOOST_TEST(line.find(R"(outcome=entry 1: gone\n60 2026)") != std::string::npos);
  Entry hold;
  hold.kind = EntryKind::kRelease;
  hold.hold.time_us = Time("2026-11-27T10:00:00Z");
  hold.hold.case_id = "C-1";
  hold.hold.reason = "closed\r\x01";
  hold.hold.actor = {0, "root"};
  BOOST_TEST(EntryLine(EntryToJson(7, hold)) ==
             R"(7 2026-11-27T10:00:00.000000Z release C-1 root(0) reason=closed\r\x01)");
}

BOOST_AUTO_TEST_CASE(hold_and_dispose_lines_name_the_case_scope_and_rule) {
  Entry hold;
  hold.kind = EntryKind::kHold;
  hold.hold.time_us = Time("2026-11-27T10:00:00Z");
  hold.hold.case_id = "CSRC-2026-0117";
  hold.hold.reason = "CSRC inquiry";
  hold.hold.actor = {1002, "legal.wang"};
  hold.hold.scope.departments = {"brokerage", "retail"};
  hold.hold.scope.since_us = Time("2026-01-01");
  hold.hold.scope.seqs = {{5, 9}};
  BOOST_TEST(EntryLine(EntryToJson(20, hold)) ==
             "20 2026-11-27T10:00:00.000000Z hold CSRC-2026-0117 legal.wang(1002) "
             "departments=brokerage,retail since=2026-01-01T00:00:00.000000Z seqs=5-9 "
             "reason=CSRC inquiry");
  Entry dispose;
  dispose.kind = EntryKind::kDispose;
  dispose.dispose.time_us = Time("2033-01-02T00:00:00Z");
  dispose.dispose.message = 12;
  dispose.dispose.retention = "retail-5y";
  dispose.dispose.retain_until_us = Time("2031-11-27T10:00:00Z");
  dispose.dispose.actor = {110, "mailjournal"};
  BOOST_TEST(EntryLine(EntryToJson(21, dispose)) ==
             "21 2033-01-02T00:00:00.000000Z dispose message=12 mailjournal(110) "
             "retention=retail-5y retain_until=2031-11-27T10:00:00.000000Z");
}

BOOST_AUTO_TEST_CASE(ranges_of_one_number_are_the_number) {
  BOOST_TEST(RangesText(nlohmann::json::array()) == "-");
  BOOST_TEST(RangesText(nlohmann::json::parse("[[3,3],[5,7]]")) == "3,5-7");
  BOOST_TEST(ActorText({{"uid", 7}, {"user", ""}}) == "(7)");
}

BOOST_AUTO_TEST_CASE(a_ship_line_names_the_object_range_retention_and_legal_hold) {
  Entry e;
  e.kind = EntryKind::kShip;
  e.ship.time_us = Time("2026-11-27T10:00:00Z");
  e.ship.object = "mta1/segments/00000000000000000001-00000000000000000005.seg";
  e.ship.version_id = "v1";
  e.ship.size = 2048;
  e.ship.first = 1;
  e.ship.last = 5;
  e.ship.retain_until_us = Time("2036-11-27T10:00:00Z");
  e.ship.legal_hold = true;
  BOOST_TEST(EntryLine(EntryToJson(9, e)) ==
             "9 2026-11-27T10:00:00.000000Z ship upload "
             "mta1/segments/00000000000000000001-00000000000000000005.seg seqs=1-5 "
             "retain_until=2036-11-27T10:00:00.000000Z legal_hold=on");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
