// The supervision review over a real journal and policy: the supervised-message index, the
// review state, the queue's order, filters and paging, who may see and mark what, sealed
// notes, tags, the audit trail and verify.
#include "mailjournal/review_admin.h"

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>

#include "mailjournal/audit_admin.h"
#include "mailjournal/message_writer.h"
#include "mailjournal/openssl_util.h"
#include "mailjournal/policy_holder.h"
#include "mailjournal/review_state.h"
#include "mailjournal/verify.h"
#include "test_util.h"

namespace mailjournal {
namespace {

using nlohmann::json;

// Grants "review" on the departments listed, "audit" everywhere, nothing else.
class ReviewGrants : public Permissions {
 public:
  explicit ReviewGrants(std::set<std::string> departments) : departments_(std::move(departments)) {}
  bool Allows(const std::string& op, const std::string& d) const override {
    return op == "audit" || (op == "review" && departments_.count(d) > 0);
  }
  bool AllowsSome(const std::string& op) const override {
    return op == "audit" || (op == "review" && !departments_.empty());
  }
  bool AllowsAll(const std::string& op) const override { return op == "audit"; }

 private:
  std::set<std::string> departments_;
};

LexiconHit Hit(const std::string& lexicon, Severity severity) {
  return LexiconHit{lexicon, severity};
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<Journal> journal = OpenTestJournal(dir.path() + "/journal");
  std::unique_ptr<PolicyHolder> policies;
  std::set<std::string> reviews{"retail"};
  AdminHandler handler{journal.get(), ServerInfo{"offline", 0, dir.path()},
                       [this](const Caller&) -> std::shared_ptr<const Permissions> {
                         return std::make_shared<ReviewGrants>(reviews);
                       }};

  Fixture() {
    std::ofstream(dir.path() + "/retail.crt") << TestKeys().Cert("retail");
    std::ofstream(dir.path() + "/escrow.crt") << TestKeys().Cert("escrow");
    std::ofstream(dir.path() + "/policy.yaml") << "version: 1\n"
                                                  "retention: {r10: 10y}\n"
                                                  "escrow: [escrow.crt]\n"
                                                  "departments:\n"
                                                  "  - name: retail\n"
                                                  "    members: ['@retail.example']\n"
                                                  "    keys: [retail.crt]\n"
                                                  "    retention: r10\n"
                                                  "  - name: brokerage\n"
                                                  "    members: ['@broker.example']\n"
                                                  "    retention: r10\n"
                                                  "  - name: default\n"
                                                  "    retention: r10\n";
    policies = std::make_unique<PolicyHolder>(dir.path() + "/policy.yaml", journal.get());
    std::vector<PolicyError> errors;
    uint64_t seq = 0;
    Status s = policies->Load("test", &errors, &seq);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    AddReviewOperations(journal.get(), policies.get(), &handler);
    AddAuditOperations(journal.get(), &handler);
  }

  uint64_t Commit(const std::vector<std::string>& departments, std::vector<LexiconHit> flags,
                  bool sampled = false) {
    MessageWriter w(journal.get());
    BOOST_REQUIRE(w.Append("Subject: test\r\n\r\nbody\r\n").ok());
    MessageEntry entry = TestMessage(SimpleEnvelope("alice@retail.example"));
    entry.classification.departments = departments;
    entry.flags = std::move(flags);
    entry.sampled = sampled;
    uint64_t seq = 0;
    BOOST_REQUIRE(w.Commit(entry, nullptr, &seq, nullptr).ok());
    return seq;
  }

  json Call(json request, const std::string& user = "rita") {
    request["v"] = 1;
    Recorder out(journal.get());
    BOOST_REQUIRE(handler.Handle(request, Caller{1001, 1001, {}, 0, user}, &out).ok());
    return out.header;
  }

  json Ok(json request) {
    json r = Call(std::move(request));
    BOOST_REQUIRE_MESSAGE(r["ok"].get<bool>(), r.dump());
    return r;
  }

  std::string ErrorCode(json request) {
    json r = Call(std::move(request));
    BOOST_REQUIRE_MESSAGE(!r["ok"].get<bool>(), r.dump());
    return r["error"]["code"].get<std::string>();
  }

  // The seqs the queue lists for this request, in order.
  std::vector<uint64_t> Queue(json request = json::object()) {
    request["op"] = "review_queue";
    std::vector<uint64_t> seqs;
    json response = Ok(request);
    for (const json& m : response["messages"]) seqs.push_back(m["seq"].get<uint64_t>());
    return seqs;
  }

  json Mark(uint64_t seq, const std::string& status, const std::string& note = "") {
    json req{{"op", "review_mark"}, {"seq", seq}, {"status", status}};
    if (!note.empty()) req["note"] = note;
    return Call(req);
  }

  json TagCall(uint64_t seq, const std::string& action, const std::string& tag) {
    return Call({{"op", "tag"}, {"seq", seq}, {"action", action}, {"tag", tag}});
  }

  Entry Last() {
    Entry e;
    BOOST_REQUIRE(journal->ReadEntry(journal->LastSequence(), &e).ok());
    return e;
  }
};

std::vector<uint64_t> V(std::initializer_list<uint64_t> l) { return l; }

BOOST_AUTO_TEST_SUITE(review)

BOOST_AUTO_TEST_CASE(supervised_index_lists_flagged_and_sampled_messages_only) {
  Fixture f;
  uint64_t plain = f.Commit({"retail"}, {});
  uint64_t flagged = f.Commit({"retail"}, {Hit("guarantees", Severity::kHigh)});
  uint64_t sampled = f.Commit({"brokerage"}, {}, true);
  std::vector<uint64_t> seen, backward;
  BOOST_REQUIRE(f.journal
                    ->ScanSupervised(0, false,
                                     [&](uint64_t seq, const Entry& e) {
                                       BOOST_CHECK(e.kind == EntryKind::kMessage);
                                       seen.push_back(seq);
                                       return true;
                                     })
                    .ok());
  BOOST_TEST(seen == V({flagged, sampled}), boost::test_tools::per_element());
  BOOST_REQUIRE(f.journal
                    ->ScanSupervised(0, true,
                                     [&](uint64_t seq, const Entry&) {
                                       backward.push_back(seq);
                                       return true;
                                     })
                    .ok());
  BOOST_TEST(backward == V({sampled, flagged}), boost::test_tools::per_element());
  // From a sequence number on, and a disposed message stays (its entry and flags stay).
  MessageEntry m;
  BOOST_REQUIRE(f.journal->ReadMessage(flagged, &m).ok());
  std::vector<Entry> d{DisposalOf(flagged, m)};
  uint64_t first = 0;
  BOOST_REQUIRE(f.journal->DisposeMessages(&d, &first).ok());
  seen.clear();
  BOOST_REQUIRE(f.journal
                    ->ScanSupervised(plain + 1, false,
                                     [&](uint64_t seq, const Entry&) {
                                       seen.push_back(seq);
                                       return true;
                                     })
                    .ok());
  BOOST_TEST(seen == V({flagged, sampled}), boost::test_tools::per_element());
  json q = f.Ok({{"op", "review_queue"}, {"status", "any"}});
  BOOST_REQUIRE_EQUAL(q["messages"].size(), 1u);  // brokerage is not rita's
  BOOST_TEST(q["messages"][0]["content"] == "disposed");
}

BOOST_AUTO_TEST_CASE(review_state_folds_decisions_and_tags) {
  ReviewState state;
  auto review = [](uint64_t message, ReviewStatus status) {
    Entry e;
    e.kind = EntryKind::kReview;
    e.review.message = message;
    e.review.status = status;
    return e;
  };
  auto tag = [](uint64_t message, TagAction action, const std::string& name) {
    Entry e;
    e.kind = EntryKind::kTag;
    e.tag.message = message;
    e.tag.action = action;
    e.tag.tag = name;
    return e;
  };
  BOOST_CHECK(state.Find(5) == nullptr);
  state.Apply(10, review(5, ReviewStatus::kEscalated));
  state.Apply(11, tag(5, TagAction::kAdd, "a"));
  state.Apply(12, tag(5, TagAction::kAdd, "b"));
  state.Apply(13, review(5, ReviewStatus::kClosed));
  state.Apply(14, tag(5, TagAction::kRemove, "a"));
  state.Apply(15, tag(6, TagAction::kAdd, "c"));
  Entry other;
  other.kind = EntryKind::kAccess;
  state.Apply(16, other);
  const MessageReview* m = state.Find(5);
  BOOST_REQUIRE(m != nullptr);
  BOOST_CHECK(m->status == ReviewStatus::kClosed);
  BOOST_TEST(m->status_seq == 13u);
  BOOST_TEST((m->tags == std::set<std::string>{"b"}));
  BOOST_REQUIRE(state.Find(6) != nullptr);
  BOOST_CHECK(!state.Find(6)->status);  // tagged, still unreviewed
  BOOST_TEST(state.messages().size() == 2u);
}

BOOST_AUTO_TEST_CASE(queue_orders_by_severity_then_age_and_filters) {
  Fixture f;
  f.reviews = {"retail", "brokerage"};
  uint64_t sampled = f.Commit({"retail"}, {}, true);
  uint64_t low = f.Commit({"retail"}, {Hit("tone", Severity::kLow)});
  uint64_t high1 = f.Commit({"retail"}, {Hit("guarantees", Severity::kHigh)});
  uint64_t critical = f.Commit(
      {"brokerage"}, {Hit("fraud", Severity::kCritical), Hit("guarantees", Severity::kHigh)});
  uint64_t high2 = f.Commit({"brokerage", "retail"}, {Hit("guarantees", Severity::kHigh)}, true);
  f.Commit({"retail"}, {});  // not supervised
  BOOST_TEST(f.Queue() == V({critical, high1, high2, low, sampled}),
             boost::test_tools::per_element());
  BOOST_TEST(f.Queue({{"severity", "high"}}) == V({critical, high1, high2}),
             boost::test_tools::per_element());
  BOOST_TEST(f.Queue({{"department", "brokerage"}}) == V({critical, high2}),
             boost::test_tools::per_element());
  // Paging: each page continues where "next" says.
  json page = f.Ok({{"op", "review_queue"}, {"limit", 2}});
  BOOST_TEST(page["more"].get<bool>());
  BOOST_TEST(page["next"] == (json{{"severity", "high"}, {"seq", high1}}));
  BOOST_TEST(f.Queue({{"limit", 2}, {"after", page["next"]}}) == V({high2, low}),
             boost::test_tools::per_element());
  BOOST_TEST(f.Queue({{"after", {{"severity", "none"}, {"seq", 0}}}}) == V({sampled}),
             boost::test_tools::per_element());
  // An item says what a reviewer needs, and what the access entry records.
  json item = f.Ok({{"op", "review_queue"}, {"limit", 1}})["messages"][0];
  BOOST_TEST(item["severity"] == "critical");
  BOOST_TEST(item["flags"].size() == 2u);
  BOOST_TEST(item["status"] == "unreviewed");
  BOOST_TEST(item["mail_from"] == "alice@retail.example");
  BOOST_TEST(item["rcpt"].size() == 1u);
  BOOST_TEST(!item.contains("content_sha256"));
  Entry access = f.Last();
  BOOST_REQUIRE(access.kind == EntryKind::kAccess);
  BOOST_TEST(access.access.operation == "review_queue");
  BOOST_REQUIRE_EQUAL(access.access.seqs.size(), 1u);
  BOOST_TEST(access.access.seqs[0].first == critical);
  // Decisions take messages out of the default queue; the status filter finds them.
  BOOST_TEST(f.Mark(high1, "reviewed")["ok"].get<bool>());
  BOOST_TEST(f.Mark(low, "escalated")["ok"].get<bool>());
  BOOST_TEST(f.Mark(low, "closed")["ok"].get<bool>());
  BOOST_TEST(f.Queue() == V({critical, high2, sampled}), boost::test_tools::per_element());
  BOOST_TEST(f.Queue({{"status", "reviewed"}}) == V({high1}), boost::test_tools::per_element());
  BOOST_TEST(f.Queue({{"status", "closed"}}) == V({low}), boost::test_tools::per_element());
  BOOST_TEST(f.Queue({{"status", "escalated"}}).empty());
  BOOST_TEST(f.Queue({{"status", "any"}}).size() == 5u);
  BOOST_TEST(f.ErrorCode({{"op", "review_queue"}, {"status", "done"}}) == "bad_request");
  BOOST_TEST(f.ErrorCode({{"op", "review_queue"}, {"severity", "huge"}}) == "bad_request");
}

BOOST_AUTO_TEST_CASE(only_reviewers_of_a_department_see_and_mark_its_messages) {
  Fixture f;
  uint64_t retail = f.Commit({"retail"}, {Hit("guarantees", Severity::kHigh)});
  uint64_t broker = f.Commit({"brokerage"}, {Hit("guarantees", Severity::kHigh)});
  BOOST_TEST(f.Queue() == V({retail}), boost::test_tools::per_element());
  BOOST_TEST(f.ErrorCode({{"op", "review_queue"}, {"department", "brokerage"}}) ==
             "permission_denied");
  BOOST_TEST(f.Mark(broker, "reviewed")["error"]["code"] == "permission_denied");
  BOOST_TEST(f.TagCall(broker, "add", "x")["error"]["code"] == "permission_denied");
  BOOST_TEST(f.ErrorCode({{"op", "review_show"}, {"seq", broker}}) == "permission_denied");
  // Not a message: refused whatever the grant.
  BOOST_TEST(f.Mark(1, "reviewed")["error"]["code"] == "not_found");  // the policy entry
  BOOST_TEST(f.Mark(retail, "approved")["error"]["code"] == "bad_request");
  // Someone who reviews nothing is refused everything, and the refusal is recorded.
  f.reviews.clear();
  BOOST_TEST(f.ErrorCode({{"op", "review_queue"}}) == "permission_denied");
  Entry refused = f.Last();
  BOOST_REQUIRE(refused.kind == EntryKind::kAccess);
  BOOST_TEST(!refused.access.allowed);
  BOOST_TEST(refused.access.operation == "review_queue");
  BOOST_TEST(f.Mark(retail, "reviewed", "a secret note")["error"]["code"] == "permission_denied");
  refused = f.Last();
  BOOST_TEST(!refused.access.allowed);
  BOOST_TEST(refused.access.arguments.find("secret") == std::string::npos);
  uint64_t before = f.journal->LastSequence();
  BOOST_TEST(f.TagCall(retail, "add", "x")["error"]["code"] == "permission_denied");
  BOOST_TEST(f.journal->LastSequence() == before + 1);  // the access entry only
}

BOOST_AUTO_TEST_CASE(a_decision_is_an_entry_with_a_sealed_note) {
  Fixture f;
  uint64_t seq = f.Commit({"retail"}, {Hit("guarantees", Severity::kHigh)});
  const std::string note = "spoke to the adviser: 保本保收益 was a quote";
  json r = f.Mark(seq, "escalated", note);
  BOOST_REQUIRE_MESSAGE(r["ok"].get<bool>(), r.dump());
  uint64_t decision = r["seq"].get<uint64_t>();
  Entry e;
  BOOST_REQUIRE(f.journal->ReadEntry(decision, &e).ok());
  BOOST_REQUIRE(e.kind == EntryKind::kReview);
  BOOST_TEST(e.review.message == seq);
  BOOST_CHECK(e.review.status == ReviewStatus::kEscalated);
  BOOST_TEST(e.review.actor.user == "rita");
  BOOST_TEST(e.review.actor.uid == 1001u);
  // Sealed to the department's key and the escrow key; opens with either, never in clear.
  BOOST_TEST(e.review.note_recipients.size() == 2u);
  std::string bytes;
  BOOST_REQUIRE(f.journal->ReadEntryBytes(decision, &bytes).ok());
  BOOST_TEST(bytes.find("adviser") == std::string::npos);
  for (const char* key : {"retail", "escrow"}) {
    std::unique_ptr<OpeningKey> opening;
    BOOST_REQUIRE(OpeningKey::Load(TestKeys().Key(key), "", &opening).ok());
    std::string opened;
    BOOST_REQUIRE(opening->Open(e.review.note_sealed, &opened).ok());
    BOOST_TEST(opened == note);
  }
  // The access entry of the request holds no word of the note either.
  Entry access = f.Last();
  BOOST_REQUIRE(access.kind == EntryKind::kAccess);
  BOOST_TEST(access.access.arguments.find("adviser") == std::string::npos);
  BOOST_TEST(access.access.seqs.size() == 1u);
  // A note too long or not UTF-8 is refused, and nothing is appended but the access entry.
  uint64_t before = f.journal->LastSequence();
  BOOST_TEST(f.Mark(seq, "reviewed", std::string(kMaxReviewNoteBytes + 1, 'x'))["error"]["code"] ==
             "bad_request");
  BOOST_TEST(f.Mark(seq, "reviewed", "caf\xe9")["error"]["code"] == "bad_request");
  BOOST_TEST(f.journal->LastSequence() == before + 2);
  BOOST_TEST(f.Mark(seq, "reviewed", std::string(kMaxReviewNoteBytes, 'x'))["ok"].get<bool>());
}

BOOST_AUTO_TEST_CASE(tags_are_added_and_removed_once) {
  Fixture f;
  uint64_t seq = f.Commit({"retail"}, {}, true);
  BOOST_TEST(f.TagCall(seq, "add", "mis-selling")["ok"].get<bool>());
  BOOST_TEST(f.TagCall(seq, "add", "follow_up.2")["ok"].get<bool>());
  BOOST_TEST(f.TagCall(seq, "add", "mis-selling")["error"]["code"] == "bad_request");
  BOOST_TEST(f.TagCall(seq, "remove", "mis-selling")["ok"].get<bool>());
  BOOST_TEST(f.TagCall(seq, "remove", "mis-selling")["error"]["code"] == "not_found");
  for (const char* bad : {"", "with space", "ünï", "a/b"}) {
    BOOST_TEST(f.TagCall(seq, "add", bad)["error"]["code"] == "bad_request");
  }
  BOOST_TEST(f.TagCall(seq, "add", std::string(kMaxTagLength + 1, 'a'))["error"]["code"] ==
             "bad_request");
  BOOST_TEST(f.TagCall(seq, "add", std::string(kMaxTagLength, 'a'))["ok"].get<bool>());
  BOOST_TEST(f.TagCall(seq, "rename", "x")["error"]["code"] == "bad_request");
  json q = f.Ok({{"op", "review_queue"}});
  BOOST_REQUIRE_EQUAL(q["messages"].size(), 1u);
  BOOST_TEST(q["messages"][0]["tags"] == (json{std::string(kMaxTagLength, 'a'), "follow_up.2"}));
  // review_show: the state and every entry about the message, in order.
  f.Mark(seq, "reviewed", "fine");
  json shown = f.Ok({{"op", "review_show"}, {"seq", seq}});
  BOOST_TEST(shown["message"]["status"] == "reviewed");
  BOOST_TEST(shown["message"]["sampled"].get<bool>());
  std::vector<std::string> kinds;
  for (const json& e : shown["entries"]) {
    kinds.push_back(e["kind"].get<std::string>() + ":" + e["by"]["user"].get<std::string>());
  }
  BOOST_TEST(kinds == (std::vector<std::string>{"tag:rita", "tag:rita", "tag:rita", "tag:rita",
                                                "review:rita"}),
             boost::test_tools::per_element());
  BOOST_TEST(shown["entries"][4].contains("note_sealed"));
}

BOOST_AUTO_TEST_CASE(audit_shows_decisions_and_verify_checks_what_they_name) {
  Fixture f;
  uint64_t seq = f.Commit({"retail"}, {Hit("guarantees", Severity::kHigh)});
  uint64_t decision = f.Mark(seq, "reviewed")["seq"].get<uint64_t>();
  uint64_t tag = f.TagCall(seq, "add", "ok")["seq"].get<uint64_t>();
  json page = f.Ok({{"op", "audit"}, {"seq", seq}});
  std::vector<std::string> listed;
  for (const json& e : page["entries"]) {
    listed.push_back(std::to_string(e["seq"].get<uint64_t>()) + " " + e["kind"].get<std::string>());
  }
  // The requests (access entries naming the message) and the entries they made, in order.
  BOOST_TEST(
      listed == (std::vector<std::string>{
                    std::to_string(decision) + " review", std::to_string(decision + 1) + " access",
                    std::to_string(tag) + " tag", std::to_string(tag + 1) + " access"}),
      boost::test_tools::per_element());
  page = f.Ok({{"op", "audit"}, {"user", "rita"}, {"operation", "tag"}, {"reverse", true}});
  BOOST_REQUIRE(page["entries"].size() >= 2u);
  BOOST_TEST(page["entries"][1]["seq"] == tag);
  BOOST_TEST(page["entries"][1]["by"]["user"] == "rita");

  VerifyReport report;
  BOOST_REQUIRE(VerifyJournal(f.journal.get(), VerifyOptions(), &report).ok());
  BOOST_TEST_REQUIRE(report.intact, report.problem);
  // A review entry naming what is not an earlier message (here: an access entry), appended
  // through the library as an insider could: the tree is fine, verify names the entry.
  std::vector<Entry> forged(1);
  forged[0].kind = EntryKind::kReview;
  forged[0].review.message = decision + 1;
  forged[0].review.actor = Actor{0, "forger"};
  uint64_t at = 0;
  BOOST_REQUIRE(f.journal->AppendEntries(&forged, &at).ok());
  BOOST_REQUIRE(VerifyJournal(f.journal.get(), VerifyOptions(), &report).ok());
  BOOST_TEST(!report.intact);
  BOOST_TEST(report.first_bad_seq == at);
  BOOST_TEST(report.problem.find("review entry " + std::to_string(at)) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(verify_catches_a_changed_review_entry) {
  Fixture f;
  uint64_t seq = f.Commit({"retail"}, {Hit("guarantees", Severity::kHigh)});
  uint64_t decision = f.Mark(seq, "escalated")["seq"].get<uint64_t>();
  std::string bytes;
  BOOST_REQUIRE(f.journal->ReadEntryBytes(decision, &bytes).ok());
  Entry e;
  BOOST_REQUIRE(DecodeEntry(bytes, &e).ok());
  e.review.status = ReviewStatus::kClosed;  // the decision rewritten behind the journal
  std::string changed = EncodeEntry(e);
  BOOST_REQUIRE(changed != bytes);
  std::string dir = f.dir.path() + "/journal";
  f.journal.reset();
  RawPut(dir, RawEntryKey(decision), changed);
  f.journal = OpenTestJournal(dir);
  VerifyReport report;
  BOOST_REQUIRE(VerifyJournal(f.journal.get(), VerifyOptions(), &report).ok());
  BOOST_TEST(!report.intact);
  BOOST_TEST(report.first_bad_seq == decision);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
