// Retention with an injected clock: messages are disposed of exactly after their own
// retain-until dates, never while a hold covers them, and verify accounts for every
// disposal (and catches content gone without one, or disposed of against the rules).
#include "mailjournal/retention.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "mailjournal/time_util.h"
#include "mailjournal/verify.h"
#include "session.h"
#include "test_util.h"

namespace mailjournal {
namespace {

constexpr int64_t kDay = 86400LL * 1000000;

int64_t T0() {
  int64_t t = 0;
  BOOST_REQUIRE(ParseTime("2026-01-01T00:00:00Z", &t).ok());
  return t;
}

// Retail mail is kept 10 days, brokerage mail 30, everything else 20; sealed to the test
// key "escrow". `extra` is appended to the policy (e.g. holds).
std::string PolicyText(const std::string& extra = "") {
  return "version: 1\n"
         "retention: {r10: 10d, r20: 20d, r30: 30d}\n"
         "escrow: [escrow.crt]\n"
         "departments:\n"
         "  - name: retail\n"
         "    members: ['@retail.example']\n"
         "    retention: r10\n"
         "  - name: brokerage\n"
         "    members: ['@broker.example']\n"
         "    retention: r30\n"
         "  - name: default\n"
         "    retention: r20\n" +
         extra;
}

// A journal whose clock (and the retention's) is `now`, with a policy in force.
struct Fixture {
  explicit Fixture(const std::string& policy = PolicyText()) : now(T0()) {
    std::ofstream(dir.path() + "/escrow.crt") << TestKeys().Cert("escrow");
    Open();
    LoadPolicy(policy);
  }

  void Open() {
    JournalOptions options;
    options.dir = dir.path() + "/journal";
    options.clock = [this] { return now; };
    BOOST_REQUIRE(OpenJournal(options, &journal).ok());
    policies = std::make_unique<PolicyHolder>(dir.path() + "/policy.yaml", journal.get());
    retention = std::make_unique<Retention>(journal.get(), policies.get(), [this] { return now; });
    BOOST_REQUIRE(retention->Open().ok());
  }

  // Closes and opens the journal again (the policy in force comes from the journal).
  void Reopen() {
    retention.reset();
    policies.reset();
    journal.reset();
    Open();
    BOOST_REQUIRE(policies->LoadFromJournal().ok());
  }

  void LoadPolicy(const std::string& text) {
    std::ofstream(dir.path() + "/policy.yaml", std::ios::trunc) << text;
    std::vector<PolicyError> errors;
    uint64_t seq = 0;
    Status s = retention->LoadPolicy("test", &errors, &seq);
    BOOST_REQUIRE_MESSAGE(s.ok(),
                          s.ToString() + (errors.empty() ? "" : ": " + errors[0].ToString()));
  }

  // Captures a message from `from` to `rcpts` now; returns its sequence number.
  uint64_t Send(const std::string& from, const std::vector<std::string>& rcpts) {
    Session s(journal.get(), policies.get());
    struct sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    s.Connect("client.example", reinterpret_cast<struct sockaddr*>(&addr), "smtpd");
    BOOST_REQUIRE(s.MailFrom({"<" + from + ">"}, "").ok());
    for (const auto& r : rcpts) s.Rcpt({"<" + r + ">"});
    BOOST_REQUIRE(s.Header("Subject", " retention test").ok());
    BOOST_REQUIRE(s.EndOfHeaders().ok());
    BOOST_REQUIRE(s.Body("body of a message from " + from + "\r\n").ok());
    uint64_t seq = 0;
    MessageEntry entry;
    BOOST_REQUIRE(s.EndOfMessage(&seq, &entry).ok());
    return seq;
  }

  PurgeReport Purge(PurgeOptions options = PurgeOptions()) {
    options.actor = Actor{1234, "records"};
    PurgeReport report;
    Status s = retention->Purge(options, &report);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    return report;
  }

  // Whether the message's content is still stored.
  bool Stored(uint64_t seq) {
    MessageEntry m;
    BOOST_REQUIRE(journal->ReadMessage(seq, &m).ok());
    Status s = journal->ReadContent(m.content, [](std::string_view) { return Status::OK(); });
    BOOST_REQUIRE_MESSAGE(s.ok() || s.IsNotFound(), s.ToString());
    return s.ok();
  }

  VerifyReport Verify() {
    RetentionChecker checker;
    VerifyOptions options;
    options.disposals = &checker;
    VerifyReport report;
    BOOST_REQUIRE(VerifyJournal(journal.get(), options, &report).ok());
    return report;
  }

  HoldEntry Hold(const std::string& case_id) {
    HoldEntry h;
    h.case_id = case_id;
    h.reason = "test case " + case_id;
    h.actor = Actor{1001, "legal"};
    return h;
  }

  // Appends a dispose entry for `seq` directly, as an insider with the library could,
  // bypassing the retention's checks.
  void ForgeDisposal(uint64_t seq) {
    MessageEntry m;
    BOOST_REQUIRE(journal->ReadMessage(seq, &m).ok());
    std::vector<Entry> d{DisposalOf(seq, m)};
    d[0].dispose.policy_digest = policies->Active()->digest();
    uint64_t first = 0;
    BOOST_REQUIRE(journal->DisposeMessages(&d, &first).ok());
  }

  TempDir dir;
  int64_t now;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<PolicyHolder> policies;
  std::unique_ptr<Retention> retention;
};

BOOST_AUTO_TEST_SUITE(retention)

BOOST_AUTO_TEST_CASE(messages_are_disposed_of_exactly_after_their_own_dates) {
  Fixture f;
  uint64_t retail = f.Send("ann@retail.example", {"client@outside.example"});
  uint64_t broker = f.Send("bob@broker.example", {"client@outside.example"});
  uint64_t both = f.Send("ann@retail.example", {"bob@broker.example"});  // the longest: 30d
  uint64_t other = f.Send("x@outside.example", {"y@outside.example"});   // default: 20d
  MessageEntry m;
  BOOST_REQUIRE(f.journal->ReadMessage(both, &m).ok());
  BOOST_TEST(m.classification.retention == "r30");
  BOOST_TEST(m.classification.retain_until_us == T0() + 30 * kDay);

  struct Step {
    int64_t at;
    std::vector<uint64_t> stored;
    uint64_t disposed;
  };
  const Step steps[] = {
      {T0() + 10 * kDay - 1, {retail, broker, both, other}, 0},
      {T0() + 10 * kDay, {broker, both, other}, 1},
      {T0() + 20 * kDay - 1, {broker, both, other}, 0},
      {T0() + 20 * kDay, {broker, both}, 1},
      {T0() + 30 * kDay - 1, {broker, both}, 0},
      {T0() + 30 * kDay, {}, 2},
  };
  for (const Step& step : steps) {
    f.now = step.at;
    PurgeReport r = f.Purge();
    BOOST_TEST_CONTEXT("at " << FormatTimeUtc(step.at)) {
      BOOST_TEST(r.disposed == step.disposed);
      BOOST_TEST(r.held == 0u);
      for (uint64_t seq : {retail, broker, both, other}) {
        bool expected = std::find(step.stored.begin(), step.stored.end(), seq) != step.stored.end();
        BOOST_TEST(f.Stored(seq) == expected, "message " << seq);
      }
      VerifyReport v = f.Verify();
      BOOST_TEST(v.intact, v.problem);
    }
  }
  // Each dispose entry names its message, rule and date, the caller and the policy.
  std::vector<DisposeEntry> disposals;
  BOOST_REQUIRE(f.journal
                    ->ScanKind(EntryKind::kDispose, 0, false,
                               [&](uint64_t, const Entry& e) {
                                 disposals.push_back(e.dispose);
                                 return true;
                               })
                    .ok());
  BOOST_REQUIRE(disposals.size() == 4u);
  BOOST_TEST(disposals[0].message == retail);
  BOOST_TEST(disposals[0].retention == "r10");
  BOOST_TEST(disposals[0].retain_until_us == T0() + 10 * kDay);
  BOOST_TEST(disposals[0].time_us == T0() + 10 * kDay);
  BOOST_TEST(disposals[0].actor.uid == 1234u);
  BOOST_TEST(disposals[0].actor.user == "records");
  BOOST_TEST((disposals[0].policy_digest == f.policies->Active()->digest()));
  BOOST_TEST(disposals[1].message == other);
  BOOST_TEST(f.Verify().disposals == 4u);
}

// One message the hold covers and one it does not, both expired; the hold keeps the first
// until it is lifted.
struct HoldCase {
  const char* name;
  // Places the hold covering `target` (and not `bystander`); returns the case id.
  std::function<std::string(Fixture*, uint64_t target)> place;
  // Lifts it.
  std::function<void(Fixture*, const std::string& case_id)> lift;
  bool target_at_later_time = false;
};

void CheckHoldKeepsTarget(const HoldCase& c, const std::string& target_from,
                          const std::string& bystander_from) {
  BOOST_TEST_CONTEXT("hold by " << c.name) {
    Fixture f;
    uint64_t bystander = f.Send(bystander_from, {"client@outside.example"});
    if (c.target_at_later_time) f.now += kDay;
    uint64_t target = f.Send(target_from, {"Client.Target@outside.example"});
    std::string case_id = c.place(&f, target);
    f.now = T0() + 40 * kDay;  // everything has expired
    PurgeReport r = f.Purge();
    BOOST_TEST(r.disposed == 1u);
    BOOST_TEST(r.held == 1u);
    BOOST_TEST(r.held_by[case_id] == 1u);
    BOOST_TEST(f.Stored(target));
    BOOST_TEST(!f.Stored(bystander));
    // Still held after a restart (journal holds are rebuilt from the journal).
    f.Reopen();
    BOOST_TEST(f.Purge().disposed == 0u);
    BOOST_TEST(f.Stored(target));
    c.lift(&f, case_id);
    r = f.Purge();
    BOOST_TEST(r.disposed == 1u);
    BOOST_TEST(!f.Stored(target));
    VerifyReport v = f.Verify();
    BOOST_TEST(v.intact, v.problem);
    BOOST_TEST(v.disposals == 2u);
  }
}

std::function<std::string(Fixture*, uint64_t)> JournalHold(
    std::function<void(HoldScope*, uint64_t target)> scope) {
  return [scope](Fixture* f, uint64_t target) {
    HoldEntry h = f->Hold("CASE-1");
    scope(&h.scope, target);
    uint64_t seq = 0;
    BOOST_REQUIRE(f->retention->PlaceHold(h, &seq).ok());
    return std::string("CASE-1");
  };
}

void ReleaseJournalHold(Fixture* f, const std::string& case_id) {
  uint64_t seq = 0;
  BOOST_REQUIRE(f->retention->ReleaseHold(case_id, "case closed", Actor{1001, "legal"}, &seq).ok());
}

BOOST_AUTO_TEST_CASE(held_messages_survive_purge_until_released_for_each_scope_kind) {
  CheckHoldKeepsTarget(
      {"department", JournalHold([](HoldScope* s, uint64_t) { s->departments = {"brokerage"}; }),
       ReleaseJournalHold},
      "bob@broker.example", "ann@retail.example");
  // Addresses are compared normalised: the policy's local parts are case-insensitive.
  CheckHoldKeepsTarget({"address", JournalHold([](HoldScope* s, uint64_t) {
                          s->addresses = {"client.target@outside.example"};
                        }),
                        ReleaseJournalHold},
                       "ann@retail.example", "bea@retail.example");
  CheckHoldKeepsTarget({"since and until", JournalHold([](HoldScope* s, uint64_t) {
                          s->since_us = T0() + kDay / 2;
                          s->until_us = T0() + 2 * kDay;
                        }),
                        ReleaseJournalHold, true},
                       "ann@retail.example", "bea@retail.example");
  CheckHoldKeepsTarget({"sequence number", JournalHold([](HoldScope* s, uint64_t target) {
                          s->seqs = {{target, target}};
                        }),
                        ReleaseJournalHold},
                       "ann@retail.example", "bea@retail.example");
  // A hold in the policy file: lifted by loading a policy without it.
  CheckHoldKeepsTarget({"policy file",
                        [](Fixture* f, uint64_t) {
                          f->LoadPolicy(
                              PolicyText("holds:\n"
                                         "  - case: POL-7\n"
                                         "    reason: inquiry\n"
                                         "    placed_by: legal\n"
                                         "    scope: {departments: [brokerage]}\n"));
                          return std::string("POL-7");
                        },
                        [](Fixture* f, const std::string&) { f->LoadPolicy(PolicyText()); }},
                       "bob@broker.example", "ann@retail.example");
}

BOOST_AUTO_TEST_CASE(holds_are_refused_when_their_case_is_in_force_or_they_name_nothing) {
  Fixture f(PolicyText(
      "holds:\n"
      "  - {case: POL-7, reason: inquiry, placed_by: legal, scope: {departments: [retail]}}\n"));
  uint64_t seq = 0;
  HoldEntry empty = f.Hold("NEW-1");
  BOOST_TEST((f.retention->PlaceHold(empty, &seq).code() == Status::Code::kInvalidArgument));
  HoldEntry dup = f.Hold("POL-7");
  dup.scope.departments = {"brokerage"};
  Status s = f.retention->PlaceHold(dup, &seq);
  BOOST_TEST((s.code() == Status::Code::kInvalidArgument));
  BOOST_TEST(s.message().find("in the policy file") != std::string::npos, s.message());
  s = f.retention->ReleaseHold("POL-7", "done", Actor{}, &seq);
  BOOST_TEST((s.code() == Status::Code::kInvalidArgument));
  BOOST_TEST(s.message().find("remove it there and reload") != std::string::npos, s.message());
  BOOST_TEST(f.retention->ReleaseHold("NONE", "done", Actor{}, &seq).IsNotFound());
  HoldEntry ok = f.Hold("NEW-1");
  ok.scope.addresses = {"ann@retail.example"};
  BOOST_REQUIRE(f.retention->PlaceHold(ok, &seq).ok());
  BOOST_TEST((f.retention->PlaceHold(ok, &seq).code() == Status::Code::kInvalidArgument));
  std::vector<HoldInForce> holds = f.retention->Holds();
  BOOST_REQUIRE(holds.size() == 2u);
  BOOST_TEST(holds[0].case_id == "POL-7");
  BOOST_TEST(holds[0].from_policy);
  BOOST_TEST(holds[1].case_id == "NEW-1");
  BOOST_TEST(holds[1].placed_by == "legal");
  BOOST_TEST(holds[1].seq == seq);
}

BOOST_AUTO_TEST_CASE(a_policy_with_the_case_id_of_a_tool_hold_is_refused) {
  Fixture f;
  HoldEntry h = f.Hold("CASE-1");
  h.scope.departments = {"retail"};
  uint64_t seq = 0;
  BOOST_REQUIRE(f.retention->PlaceHold(h, &seq).ok());
  uint64_t policy_seq = f.policies->active_seq();
  std::ofstream(f.dir.path() + "/policy.yaml", std::ios::trunc) << PolicyText(
      "holds:\n"
      "  - {case: CASE-1, reason: x, placed_by: y, scope: {departments: [brokerage]}}\n");
  std::vector<PolicyError> errors;
  uint64_t loaded = 0;
  Status s = f.retention->LoadPolicy("reload", &errors, &loaded);
  BOOST_TEST((s.code() == Status::Code::kInvalidArgument));
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].message.find("hold case 'CASE-1' is a hold placed with mailjournal hold "
                                    "add (entry " +
                                    std::to_string(seq) + ")") != std::string::npos,
             errors[0].message);
  BOOST_TEST(f.policies->active_seq() == policy_seq);  // the running policy stays
}

BOOST_AUTO_TEST_CASE(purge_goes_in_batches_honours_limit_dry_run_and_permission) {
  Fixture f;
  std::vector<uint64_t> retail, broker;
  for (int i = 0; i < 25; ++i)
    retail.push_back(f.Send("ann@retail.example", {"c@outside.example"}));
  for (int i = 0; i < 5; ++i) broker.push_back(f.Send("bob@broker.example", {"c@outside.example"}));
  f.now = T0() + 40 * kDay;
  PurgeOptions dry;
  dry.dry_run = true;
  PurgeReport r = f.Purge(dry);
  BOOST_TEST(r.disposed == 30u);
  BOOST_TEST(r.entry_seqs.empty());
  for (uint64_t seq : retail) BOOST_TEST(f.Stored(seq));
  PurgeOptions retail_only;
  retail_only.batch = 10;
  retail_only.limit = 15;
  retail_only.permitted = [](const MessageEntry& m) {
    return m.classification.departments == std::vector<std::string>{"retail"};
  };
  r = f.Purge(retail_only);  // in retain-until order: retail's expired first
  BOOST_TEST(r.disposed == 15u);
  BOOST_TEST(r.not_permitted == 0u);
  BOOST_TEST(r.disposed_seqs.size() == 1u);
  BOOST_TEST(r.disposed_seqs[0].first == retail[0]);
  BOOST_TEST(r.disposed_seqs[0].second == retail[14]);
  for (size_t i = 0; i < retail.size(); ++i) BOOST_TEST(f.Stored(retail[i]) == (i >= 15));
  retail_only.limit = 0;
  r = f.Purge(retail_only);
  BOOST_TEST(r.disposed == 10u);
  BOOST_TEST(r.not_permitted == 5u);  // the brokerage messages stay
  for (uint64_t seq : broker) BOOST_TEST(f.Stored(seq));
  r = f.Purge();
  BOOST_TEST(r.disposed == 5u);
  VerifyReport v = f.Verify();
  BOOST_TEST(v.intact, v.problem);
  BOOST_TEST(v.disposals == 30u);
}

BOOST_AUTO_TEST_CASE(verify_fails_for_content_gone_without_a_dispose_entry) {
  Fixture f;
  uint64_t seq = f.Send("ann@retail.example", {"c@outside.example"});
  f.Send("bea@retail.example", {"c@outside.example"});
  MessageEntry m;
  BOOST_REQUIRE(f.journal->ReadMessage(seq, &m).ok());
  f.retention.reset();
  f.policies.reset();
  f.journal.reset();
  for (uint32_t i = 0; i < m.content.chunks; ++i) {
    RawDelete(f.dir.path() + "/journal", RawChunkKey(m.content.txn, i));
  }
  f.Open();
  BOOST_REQUIRE(f.policies->LoadFromJournal().ok());
  VerifyReport v = f.Verify();
  BOOST_TEST(!v.intact);
  BOOST_TEST(v.first_bad_seq == seq);
  BOOST_TEST(v.problem.find("no dispose entry accounts for it") != std::string::npos, v.problem);
}

BOOST_AUTO_TEST_CASE(verify_fails_for_a_disposal_before_the_retain_until_date) {
  Fixture f;
  uint64_t seq = f.Send("ann@retail.example", {"c@outside.example"});
  f.now = T0() + 10 * kDay - 1;
  f.ForgeDisposal(seq);
  VerifyReport v = f.Verify();
  BOOST_TEST(!v.intact);
  BOOST_TEST(v.first_bad_seq == f.journal->LastSequence());
  BOOST_TEST(v.problem.find("before its retain-until date") != std::string::npos, v.problem);
}

BOOST_AUTO_TEST_CASE(verify_fails_for_a_disposal_while_a_hold_covered_the_message) {
  Fixture f;
  uint64_t seq = f.Send("ann@retail.example", {"c@outside.example"});
  HoldEntry h = f.Hold("CASE-9");
  h.scope.departments = {"retail"};
  uint64_t hold_seq = 0;
  BOOST_REQUIRE(f.retention->PlaceHold(h, &hold_seq).ok());
  f.now = T0() + 11 * kDay;
  BOOST_TEST(f.Purge().disposed == 0u);  // the purge keeps it
  f.ForgeDisposal(seq);                  // a forged disposal does not
  VerifyReport v = f.Verify();
  BOOST_TEST(!v.intact);
  BOOST_TEST(v.problem.find("while the hold(s) CASE-9 covered it") != std::string::npos, v.problem);
  // Verification from a later trusted point still knows the hold (from the kind index).
}

BOOST_AUTO_TEST_CASE(a_second_dispose_entry_for_one_message_is_reported) {
  Fixture f;
  uint64_t seq = f.Send("ann@retail.example", {"c@outside.example"});
  f.now = T0() + 11 * kDay;
  BOOST_TEST(f.Purge().disposed == 1u);
  f.ForgeDisposal(seq);
  VerifyReport v = f.Verify();
  BOOST_TEST(!v.intact);
  BOOST_TEST(v.problem.find("disposed of by another entry") != std::string::npos, v.problem);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
