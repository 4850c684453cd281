// The policy evaluator: which rule an address matches, how the departments of a message
// merge into one decision, which holds cover it, and retention arithmetic.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "mailjournal/policy.h"
#include "mailjournal/time_util.h"
#include "test_util.h"

namespace mailjournal {
namespace {

// Loads `yaml` as policy.yaml with the test keys and the given member lists. Every policy
// here gets the same escrow key as its last line, so departments need no keys of their own.
std::shared_ptr<const Policy> LoadOrFail(const std::string& yaml,
                                         std::vector<PolicyFile> extra = {}) {
  std::vector<PolicyFile> files = {
      {"policy.yaml", yaml + "escrow: [keys/escrow.pem]\n"},
      {"keys/retail.pem", ReadCaseFile("keys/retail.pem")},
      {"keys/brokerage.pem", ReadCaseFile("keys/brokerage.pem")},
      {"keys/insurance.pem", ReadCaseFile("keys/insurance.pem")},
      {"keys/escrow.pem", ReadCaseFile("keys/escrow.pem")},
  };
  for (PolicyFile& f : extra) files.push_back(std::move(f));
  return LoadPolicyOrFail(std::move(files));
}

const char kRetailList[] =
    "# retail staff\n"
    "carol@bank.example\n"
    "  Dave.Smith@bank.example\n";

const char kBank[] =
    "version: 1\n"                                              // 1
    "options:\n"                                                // 2
    "  strip_subaddress: true\n"                                // 3
    "retention:\n"                                              // 4
    "  retail-5y: 5y\n"                                         // 5
    "  brokerage-20y: 20y\n"                                    // 6
    "  insurance-10y: 10y\n"                                    // 7
    "  default-7y: 7y\n"                                        // 8
    "departments:\n"                                            // 9
    "  - name: retail\n"                                        // 10
    "    members:\n"                                            // 11
    "      - \"@retail.bank.example\"\n"                        // 12
    "      - \"@*.retail.bank.example\"\n"                      // 13
    "      - Alice@Bank.Example\n"                              // 14
    "      - include: hr/retail.txt\n"                          // 15
    "    retention: retail-5y\n"                                // 16
    "    keys: [keys/retail.pem]\n"                             // 17
    "    index: false\n"                                        // 18
    "  - name: brokerage\n"                                     // 19
    "    members:\n"                                            // 20
    "      - \"*-desk@bank.example\"\n"                         // 21
    "      - \"@brokerage.bank.example\"\n"                     // 22
    "      - \"@*.bank.example\"\n"                             // 23
    "      - \"[0-9][0-9]*@ops.bank.example\"\n"                // 24
    "    retention: brokerage-20y\n"                            // 25
    "    keys: [keys/brokerage.pem, keys/retail.pem]\n"         // 26
    "  - name: insurance\n"                                     // 27
    "    members:\n"                                            // 28
    "      - \"@insurance.bank.example\"\n"                     // 29
    "      - fx-desk@bank.example\n"                            // 30
    "      - \"risk-*@bank.example\"\n"                         // 31
    "      - \"@*.east.retail.bank.example\"\n"                 // 32
    "      - \"claims-*@retail.bank.example\"\n"                // 33
    "    retention: insurance-10y\n"                            // 34
    "    keys: [keys/insurance.pem]\n"                          // 35
    "  - name: default\n"                                       // 36
    "    retention: default-7y\n"                               // 37
    "holds:\n"                                                  // 38
    "  - case: H-DEPT\n"                                        // 39
    "    reason: brokerage inquiry\n"                           // 40
    "    placed_by: jane\n"                                     // 41
    "    scope: {departments: [brokerage]}\n"                   // 42
    "  - case: H-ADDR\n"                                        // 43
    "    reason: one customer\n"                                // 44
    "    placed_by: jane\n"                                     // 45
    "    scope: {addresses: [\"Bob+x@Customer.Example\"]}\n"    // 46
    "  - case: H-DATE\n"                                        // 47
    "    reason: first half of 2026\n"                          // 48
    "    placed_by: jane\n"                                     // 49
    "    scope: {since: 2026-01-01, until: 2026-07-01}\n"       // 50
    "  - case: H-SEQ\n"                                         // 51
    "    reason: some messages\n"                               // 52
    "    placed_by: jane\n"                                     // 53
    "    scope: {seqs: [12, \"100-200\"]}\n"                    // 54
    "  - case: H-AND\n"                                         // 55
    "    reason: retail since March\n"                          // 56
    "    placed_by: jane\n"                                     // 57
    "    scope: {departments: [retail], since: 2026-03-01}\n";  // 58

std::shared_ptr<const Policy> Bank() { return LoadOrFail(kBank, {{"hr/retail.txt", kRetailList}}); }

struct MatchCase {
  const char* address;
  const char* normalised;
  std::vector<std::string> departments;
  const char* rule;
  const char* where;
};

BOOST_AUTO_TEST_SUITE(policy_eval)

BOOST_AUTO_TEST_CASE(matches_the_most_specific_rule) {
  std::shared_ptr<const Policy> policy = Bank();
  const MatchCase cases[] = {
      // Addresses, whatever the case of local part and domain, with or without brackets.
      {"alice@bank.example",
       "alice@bank.example",
       {"retail"},
       "Alice@Bank.Example",
       "policy.yaml:14:9"},
      {"<ALICE@bank.EXAMPLE>",
       "alice@bank.example",
       {"retail"},
       "Alice@Bank.Example",
       "policy.yaml:14:9"},
      // Sub-address tags are stripped (strip_subaddress: true).
      {"alice+news@bank.example",
       "alice@bank.example",
       {"retail"},
       "Alice@Bank.Example",
       "policy.yaml:14:9"},
      // Include file lines.
      {"carol@bank.example",
       "carol@bank.example",
       {"retail"},
       "carol@bank.example",
       "hr/retail.txt:2:1"},
      {"dave.smith+x@Bank.Example",
       "dave.smith@bank.example",
       {"retail"},
       "Dave.Smith@bank.example",
       "hr/retail.txt:3:3"},
      // An address beats a glob that also matches.
      {"fx-desk@bank.example",
       "fx-desk@bank.example",
       {"insurance"},
       "fx-desk@bank.example",
       "policy.yaml:30:9"},
      // Globs beat domains and subdomain wildcards.
      {"eq-desk@bank.example",
       "eq-desk@bank.example",
       {"brokerage"},
       "*-desk@bank.example",
       "policy.yaml:21:9"},
      {"42ops@ops.bank.example",
       "42ops@ops.bank.example",
       {"brokerage"},
       "[0-9][0-9]*@ops.bank.example",
       "policy.yaml:24:9"},
      // Equally specific globs in two departments: both.
      {"risk-desk@bank.example",
       "risk-desk@bank.example",
       {"brokerage", "insurance"},
       "*-desk@bank.example",
       "policy.yaml:21:9"},
      // A domain beats a subdomain wildcard of its parent.
      {"bob@retail.bank.example",
       "bob@retail.bank.example",
       {"retail"},
       "@retail.bank.example",
       "policy.yaml:12:9"},
      {"claims-7@retail.bank.example",
       "claims-7@retail.bank.example",
       {"insurance"},
       "claims-*@retail.bank.example",
       "policy.yaml:33:9"},
      {"bob@Insurance.Bank.Example",
       "bob@insurance.bank.example",
       {"insurance"},
       "@insurance.bank.example",
       "policy.yaml:29:9"},
      // Subdomain wildcards: the longest parent wins.
      {"bob@branch.retail.bank.example",
       "bob@branch.retail.bank.example",
       {"retail"},
       "@*.retail.bank.example",
       "policy.yaml:13:9"},
      {"bob@east.retail.bank.example",
       "bob@east.retail.bank.example",
       {"retail"},
       "@*.retail.bank.example",
       "policy.yaml:13:9"},
      {"bob@x.east.retail.bank.example",
       "bob@x.east.retail.bank.example",
       {"insurance"},
       "@*.east.retail.bank.example",
       "policy.yaml:32:9"},
      {"bob@it.bank.example",
       "bob@it.bank.example",
       {"brokerage"},
       "@*.bank.example",
       "policy.yaml:23:9"},
      // "@*.bank.example" does not cover bank.example itself.
      {"bob@bank.example", "bob@bank.example", {"default"}, "default", ""},
      {"nobody@elsewhere.example", "nobody@elsewhere.example", {"default"}, "default", ""},
      {"alice@bank.example.evil", "alice@bank.example.evil", {"default"}, "default", ""},
      // The null sender and a bare local part.
      {"", "", {"default"}, "default", ""},
      {"<>", "", {"default"}, "default", ""},
      {"Postmaster", "postmaster", {"default"}, "default", ""},
  };
  for (const MatchCase& c : cases) {
    BOOST_TEST_CONTEXT(c.address) {
      AddressMatch m = policy->MatchAddress(c.address);
      BOOST_TEST(m.normalised == c.normalised);
      BOOST_TEST(policy->Normalise(c.address) == c.normalised);
      BOOST_TEST(m.departments == c.departments, boost::test_tools::per_element());
      BOOST_TEST(m.rule == c.rule);
      BOOST_TEST(m.where == c.where);
    }
  }
  BOOST_TEST(policy->MatchAddress("<alice@bank.example>").address == "alice@bank.example");
}

BOOST_AUTO_TEST_CASE(case_sensitive_local_parts_and_other_separators) {
  const std::string yaml =
      "version: 1\n"
      "options:\n"
      "  case_sensitive_local_part: true\n"
      "  strip_subaddress: true\n"
      "  subaddress_separator: \"-\"\n"
      "retention: {r: 1y}\n"
      "departments:\n"
      "  - name: a\n"
      "    members: [Bob@Bank.Example, \"Desk*@bank.example\"]\n"
      "    retention: r\n"
      "  - name: default\n"
      "    retention: r\n";
  std::shared_ptr<const Policy> policy = LoadOrFail(yaml);
  BOOST_TEST(policy->departments()[0].members[0].pattern == "Bob@bank.example");
  BOOST_TEST(policy->MatchAddress("Bob@BANK.example").departments[0] == "a");
  BOOST_TEST(policy->MatchAddress("Bob-lists@bank.example").departments[0] == "a");
  BOOST_TEST(policy->Normalise("Bob-lists@BANK.example") == "Bob@bank.example");
  BOOST_TEST(policy->MatchAddress("bob@bank.example").departments[0] == "default");
  BOOST_TEST(policy->MatchAddress("BOB@bank.example").departments[0] == "default");
  BOOST_TEST(policy->MatchAddress("Bob+x@bank.example").departments[0] == "default");
  BOOST_TEST(policy->MatchAddress("Desk7@bank.example").departments[0] == "a");
  BOOST_TEST(policy->MatchAddress("desk7@bank.example").departments[0] == "default");
  // A separator that starts the local part is not a tag.
  BOOST_TEST(policy->Normalise("-Bob@bank.example") == "-Bob@bank.example");
}

BOOST_AUTO_TEST_CASE(keeps_sub_address_tags_unless_told) {
  std::shared_ptr<const Policy> policy = LoadOrFail(
      "version: 1\nretention: {r: 1y}\ndepartments:\n"
      "  - {name: a, members: [Bob@Bank.Example], retention: r}\n"
      "  - {name: b, members: [bob+lists@bank.example], retention: r}\n"
      "  - {name: default, retention: r}\n");
  BOOST_TEST(policy->MatchAddress("BOB@bank.example").departments[0] == "a");
  BOOST_TEST(policy->MatchAddress("bob+lists@bank.example").departments[0] == "b");
  BOOST_TEST(policy->MatchAddress("bob+other@bank.example").departments[0] == "default");
}

BOOST_AUTO_TEST_CASE(classifies_by_sender_and_every_recipient) {
  std::shared_ptr<const Policy> policy = Bank();
  const int64_t t = Time("2026-11-27T10:00:00Z");
  Decision d = policy->Classify("alice@bank.example", {"eq-desk@bank.example"}, t);
  BOOST_REQUIRE(d.matches.size() == 2u);
  BOOST_TEST(d.matches[0].departments == std::vector<std::string>{"retail"});
  BOOST_TEST(d.matches[1].departments == std::vector<std::string>{"brokerage"});
  BOOST_TEST((d.departments == std::vector<std::string>{"brokerage", "retail"}));
  // The longest retention wins; the keys are the union, in first-occurrence order, then the
  // escrow key.
  BOOST_TEST(d.retention == "brokerage-20y");
  BOOST_TEST(FormatTimeUtc(d.retain_until_us) == "2046-11-27T10:00:00.000000Z");
  BOOST_TEST((d.keys == std::vector<std::string>{"keys/brokerage.pem", "keys/retail.pem",
                                                 "keys/escrow.pem"}));
  BOOST_TEST(d.index);  // brokerage indexes, retail does not

  // Retail alone: no index; its own retention and key.
  d = policy->Classify("alice@bank.example", {"carol@bank.example"}, t);
  BOOST_TEST(d.departments == std::vector<std::string>{"retail"});
  BOOST_TEST(d.retention == "retail-5y");
  BOOST_TEST(FormatTimeUtc(d.retain_until_us) == "2031-11-27T10:00:00.000000Z");
  BOOST_TEST((d.keys == std::vector<std::string>{"keys/retail.pem", "keys/escrow.pem"}));
  BOOST_TEST(!d.index);

  // An outside correspondent does not add the default department: mail with a customer
  // stays retail's (5y, not default's 7y), although the customer's own match is default.
  d = policy->Classify("alice@bank.example", {"someone@elsewhere.example"}, t);
  BOOST_TEST(d.matches[1].rule == "default");
  BOOST_TEST(d.matches[1].departments == std::vector<std::string>{"default"});
  BOOST_TEST(d.departments == std::vector<std::string>{"retail"});
  BOOST_TEST(d.retention == "retail-5y");
  BOOST_TEST((d.keys == std::vector<std::string>{"keys/retail.pem", "keys/escrow.pem"}));
  BOOST_TEST(!d.index);

  // The null sender matches no rule; a recipient in three departments at once.
  d = policy->Classify("", {"risk-desk@bank.example", "<dave.smith@bank.example>"}, t);
  BOOST_REQUIRE(d.matches.size() == 3u);
  BOOST_TEST(d.matches[0].rule == "default");
  BOOST_TEST(d.matches[2].address == "dave.smith@bank.example");
  BOOST_TEST((d.departments == std::vector<std::string>{"brokerage", "insurance", "retail"}));
  BOOST_TEST(d.retention == "brokerage-20y");
  BOOST_TEST((d.keys == std::vector<std::string>{"keys/brokerage.pem", "keys/retail.pem",
                                                 "keys/insurance.pem", "keys/escrow.pem"}));

  // Nobody known: default only.
  d = policy->Classify("x@elsewhere.example", {}, t);
  BOOST_TEST(d.departments == std::vector<std::string>{"default"});
  BOOST_TEST(d.retention == "default-7y");
  BOOST_TEST(FormatTimeUtc(d.retain_until_us) == "2033-11-27T10:00:00.000000Z");
  BOOST_TEST(d.keys == std::vector<std::string>{"keys/escrow.pem"});  // default has none
  BOOST_TEST(d.index);
}

BOOST_AUTO_TEST_CASE(capture_scope_by_listed_address_or_department) {
  const int64_t t = Time("2026-11-27T10:00:00Z");
  // The default: everything.
  std::shared_ptr<const Policy> all = Bank();
  CaptureVerdict v = all->InScope(all->Classify("x@partner.example", {"y@partner.example"}, t));
  BOOST_TEST(v.captured);
  BOOST_TEST(v.entry == nullptr);
  BOOST_TEST(v.reason == "capture: all (every message is journaled)");

  std::shared_ptr<const Policy> policy = LoadOrFail(std::string(kBank) +
                                                        "capture:\n"                    // 59
                                                        "  - insurance\n"               // 60
                                                        "  - Ceo+news@Bank.Example\n",  // 61
                                                    {{"hr/retail.txt", kRetailList}});
  auto verdict = [&](const std::string& from, const std::vector<std::string>& rcpts) {
    return policy->InScope(policy->Classify(from, rcpts, t));
  };
  // A listed address, as sender (normalised: case and sub-address tag), matched by no rule.
  v = verdict("CEO+x@bank.example", {"client@partner.example"});
  BOOST_TEST(v.captured);
  BOOST_REQUIRE(v.entry != nullptr);
  BOOST_TEST(v.entry->text == "Ceo+news@Bank.Example");
  BOOST_TEST(v.match == 0);
  BOOST_TEST(v.reason == "sender CEO+x@bank.example, listed in 'capture' at policy.yaml:61:5");
  // ... or as any recipient, the last one too (a Bcc-only recipient is one of them).
  v = verdict("client@partner.example", {"a@partner.example", "ceo@bank.example"});
  BOOST_TEST(v.captured);
  BOOST_TEST(v.match == 2);
  // A recipient in a listed department; the sender's department is not listed.
  v = verdict("alice@bank.example", {"x@partner.example", "claims@insurance.bank.example"});
  BOOST_TEST(v.captured);
  BOOST_TEST(v.entry->text == "insurance");
  BOOST_TEST(v.match == 2);
  BOOST_TEST(v.reason ==
             "recipient claims@insurance.bank.example is in department insurance (rule "
             "'@insurance.bank.example' at policy.yaml:29:9), listed in 'capture' at "
             "policy.yaml:60:5");
  // The sender is checked first.
  v = verdict("fx-desk@bank.example", {"ceo@bank.example"});  // insurance, by its address
  BOOST_TEST(v.match == 0);
  BOOST_TEST(v.entry->text == "insurance");
  // Nobody listed: not captured, and the reason names the departments.
  v = verdict("alice@bank.example", {"carol@bank.example", "x@partner.example"});
  BOOST_TEST(!v.captured);
  BOOST_TEST(v.entry == nullptr);
  BOOST_TEST(v.match == -1);
  BOOST_TEST(v.reason ==
             "neither its sender nor any recipient is listed in 'capture' or belongs to a "
             "department listed there (its departments: retail)");
  // Unmatched addresses are not `default` mail unless no address matched a rule.
  v = verdict("", {"x@partner.example"});
  BOOST_TEST(!v.captured);

  std::shared_ptr<const Policy> with_default =
      LoadOrFail(std::string(kBank) + "capture: [default]\n", {{"hr/retail.txt", kRetailList}});
  Decision outside = with_default->Classify("", {"x@partner.example"}, t);
  v = with_default->InScope(outside);
  BOOST_TEST(v.captured);
  BOOST_TEST(v.match == -1);
  BOOST_TEST(v.reason ==
             "no rule matches any of its addresses (department default), listed in 'capture' "
             "at policy.yaml:59:11");
  // Retail staff writing to an outsider: retail mail, not default mail.
  BOOST_TEST(
      !with_default->InScope(with_default->Classify("alice@bank.example", {"x@partner.example"}, t))
           .captured);
}

BOOST_AUTO_TEST_CASE(compares_retention_by_the_date_it_yields) {
  // 5 years are 1827 days across two leap days, 1826 across one, 1825 across 2100.
  std::shared_ptr<const Policy> policy = LoadOrFail(
      "version: 1\n"
      "retention: {years: 5y, days: 1826d}\n"
      "departments:\n"
      "  - {name: a, members: [\"@a.example\"], retention: years}\n"
      "  - {name: b, members: [\"@b.example\"], retention: days}\n"
      "  - {name: default, retention: years}\n");
  Decision d = policy->Classify("x@a.example", {"y@b.example"}, Time("2023-06-01"));
  BOOST_TEST(d.retention == "years");  // 2028-06-01 beats 2028-05-31
  BOOST_TEST(FormatTimeUtc(d.retain_until_us) == "2028-06-01T00:00:00.000000Z");
  d = policy->Classify("x@a.example", {"y@b.example"}, Time("2097-03-01"));
  BOOST_TEST(d.retention == "days");  // 2102-03-02 beats 2102-03-01
  BOOST_TEST(FormatTimeUtc(d.retain_until_us) == "2102-03-02T00:00:00.000000Z");
  d = policy->Classify("x@a.example", {"y@b.example"}, Time("2025-01-01"));
  BOOST_TEST(d.retention == "days");  // the same date: the first class name in byte order
  BOOST_TEST(FormatTimeUtc(d.retain_until_us) == "2030-01-01T00:00:00.000000Z");
}

BOOST_AUTO_TEST_CASE(adds_calendar_years_and_exact_days) {
  auto until = [](const std::string& capture, uint32_t years, uint32_t days) {
    Period p;
    p.years = years;
    p.days = days;
    return FormatTimeUtc(RetainUntil(Time(capture), p));
  };
  BOOST_TEST(until("2026-11-27T10:00:00.123456Z", 7, 0) == "2033-11-27T10:00:00.123456Z");
  // 29 February plus whole years: 1 March when the year has no 29 February, never earlier.
  BOOST_TEST(until("2024-02-29T23:59:59Z", 1, 0) == "2025-03-01T23:59:59.000000Z");
  BOOST_TEST(until("2024-02-29T08:00:00Z", 4, 0) == "2028-02-29T08:00:00.000000Z");
  BOOST_TEST(until("2096-02-29", 4, 0) == "2100-03-01T00:00:00.000000Z");  // 2100: no leap
  BOOST_TEST(until("2096-02-29", 104, 0) == "2200-03-01T00:00:00.000000Z");
  BOOST_TEST(until("1996-02-29", 4, 0) == "2000-02-29T00:00:00.000000Z");  // 2000: leap
  BOOST_TEST(until("2024-02-28", 1, 0) == "2025-02-28T00:00:00.000000Z");
  BOOST_TEST(until("2023-12-31T23:00:00Z", 20, 0) == "2043-12-31T23:00:00.000000Z");
  // Days are 86,400 s each.
  BOOST_TEST(until("2026-01-01", 0, 180) == "2026-06-30T00:00:00.000000Z");
  BOOST_TEST(until("2024-02-28T12:00:00Z", 0, 1) == "2024-02-29T12:00:00.000000Z");
  BOOST_TEST(until("2024-01-01", 0, 366) == "2025-01-01T00:00:00.000000Z");
  // Before 1970.
  BOOST_TEST(until("1969-12-31T23:59:59.5Z", 1, 0) == "1970-12-31T23:59:59.500000Z");
  BOOST_TEST(until("1968-02-29T06:00:00Z", 1, 0) == "1969-03-01T06:00:00.000000Z");
  // Far ends saturate instead of overflowing.
  Period p;
  p.years = 1000;
  BOOST_TEST(RetainUntil(INT64_MAX, p) == INT64_MAX);
  BOOST_TEST(RetainUntil(INT64_MAX - 5, Period{0, 365000, "365000d"}) == INT64_MAX);
  BOOST_TEST(RetainUntil(INT64_MIN, Period{1, 0, "1y"}) > INT64_MIN);
}

BOOST_AUTO_TEST_CASE(holds_by_each_scope_kind) {
  std::shared_ptr<const Policy> policy = Bank();
  auto cases = [&](const std::string& from, const std::vector<std::string>& rcpts,
                   const std::string& time, uint64_t seq) {
    int64_t t = Time(time);
    std::vector<std::string> ids;
    for (const Hold* h : policy->HoldsCovering(policy->Classify(from, rcpts, t), t, seq)) {
      ids.push_back(h->case_id);
    }
    return ids;
  };
  using V = std::vector<std::string>;
  // Nothing in scope.
  BOOST_TEST(cases("x@elsewhere.example", {}, "2025-06-01", 1) == V{});
  // Department: a brokerage recipient.
  BOOST_TEST(cases("x@elsewhere.example", {"eq-desk@bank.example"}, "2025-06-01", 1) ==
             V{"H-DEPT"});
  // Address: normalised like the message's (case, sub-address), sender or any recipient.
  BOOST_TEST(cases("BOB+other@customer.example", {}, "2025-06-01", 1) == V{"H-ADDR"});
  BOOST_TEST(cases("x@elsewhere.example", {"y@elsewhere.example", "<bob@CUSTOMER.example>"},
                   "2025-06-01", 1) == V{"H-ADDR"});
  BOOST_TEST(cases("bobby@customer.example", {}, "2025-06-01", 1) == V{});
  // Date range: since inclusive, until exclusive.
  BOOST_TEST(cases("x@elsewhere.example", {}, "2026-01-01T00:00:00Z", 1) == V{"H-DATE"});
  BOOST_TEST(cases("x@elsewhere.example", {}, "2026-06-30T23:59:59.999999Z", 1) == V{"H-DATE"});
  BOOST_TEST(cases("x@elsewhere.example", {}, "2026-07-01T00:00:00Z", 1) == V{});
  BOOST_TEST(cases("x@elsewhere.example", {}, "2025-12-31T23:59:59Z", 1) == V{});
  // Sequence numbers and ranges, inclusive; 0 (not yet known) never matches.
  for (uint64_t seq : {12, 100, 150, 200}) {
    BOOST_TEST_CONTEXT("seq " << seq) {
      BOOST_TEST(cases("x@elsewhere.example", {}, "2025-06-01", seq) == V{"H-SEQ"});
    }
  }
  for (uint64_t seq : {0, 11, 13, 99, 201}) {
    BOOST_TEST_CONTEXT("seq " << seq) {
      BOOST_TEST(cases("x@elsewhere.example", {}, "2025-06-01", seq) == V{});
    }
  }
  // Every criterion of a hold must match: retail and since March 2026.
  BOOST_TEST(cases("alice@bank.example", {}, "2026-02-28", 1) == V{"H-DATE"});
  BOOST_TEST(cases("alice@bank.example", {}, "2026-03-01", 1) == (V{"H-DATE", "H-AND"}));
  BOOST_TEST(cases("alice@bank.example", {}, "2027-03-01", 1) == V{"H-AND"});
  BOOST_TEST(cases("x@elsewhere.example", {}, "2027-03-01", 1) == V{});
  // Several holds at once, in policy order.
  BOOST_TEST(cases("alice@bank.example", {"eq-desk@bank.example", "bob@customer.example"},
                   "2026-04-01", 150) == (V{"H-DEPT", "H-ADDR", "H-DATE", "H-SEQ", "H-AND"}));
}

BOOST_AUTO_TEST_CASE(digest_changes_when_an_include_file_changes) {
  std::shared_ptr<const Policy> a = LoadOrFail(kBank, {{"hr/retail.txt", kRetailList}});
  std::shared_ptr<const Policy> same = LoadOrFail(kBank, {{"hr/retail.txt", kRetailList}});
  std::shared_ptr<const Policy> changed =
      LoadOrFail(kBank, {{"hr/retail.txt", std::string(kRetailList) + "erin@bank.example\n"}});
  BOOST_TEST((a->digest() == same->digest()));
  BOOST_TEST((a->digest() != changed->digest()));
  BOOST_TEST(changed->MatchAddress("erin@bank.example").departments[0] == "retail");
  BOOST_TEST(a->MatchAddress("erin@bank.example").departments[0] == "default");
  // The policy file is covered too, even by a change in a comment.
  std::shared_ptr<const Policy> commented =
      LoadOrFail(std::string(kBank) + "# reviewed\n", {{"hr/retail.txt", kRetailList}});
  BOOST_TEST((a->digest() != commented->digest()));
  // The files are journaled as read: the policy, then the include file and the key files
  // in the order first referenced.
  BOOST_REQUIRE(changed->files().size() == 6u);
  BOOST_TEST(changed->files()[1].path == "hr/retail.txt");
  BOOST_TEST(changed->files()[2].path == "keys/retail.pem");
  BOOST_TEST(changed->files()[3].path == "keys/brokerage.pem");
  BOOST_TEST(changed->files()[4].path == "keys/insurance.pem");
  BOOST_TEST(changed->files()[1].bytes == std::string(kRetailList) + "erin@bank.example\n");
}

BOOST_AUTO_TEST_CASE(matches_internationalised_addresses) {
  std::shared_ptr<const Policy> policy = LoadOrFail(
      "version: 1\nretention: {r: 1y}\ndepartments:\n"
      "  - name: cn\n"
      "    members: [\"@\xE9\x93\xB6\xE8\xA1\x8C.example\", "
      "\"\xE5\xBC\xA0\xE4\xB8\x89@Bank.Example\"]\n"
      "    retention: r\n"
      "  - {name: default, retention: r}\n");
  BOOST_TEST(policy->MatchAddress("li@\xE9\x93\xB6\xE8\xA1\x8C.EXAMPLE").departments[0] == "cn");
  BOOST_TEST(policy->MatchAddress("\xE5\xBC\xA0\xE4\xB8\x89@bank.example").departments[0] == "cn");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
