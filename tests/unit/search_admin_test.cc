// The "search" and reindex operations over a real journal: postings from IndexMessage,
// candidates per department and grant, exactness, paging, date windows, disposed messages
// left out, a refused department, the audit trail holding no query text, reindexing under
// a new key.
#include "mailjournal/search_admin.h"

#include <boost/test/unit_test.hpp>
#include <set>

#include "mailjournal/message_writer.h"
#include "mailjournal/search_index.h"
#include "mailjournal/time_util.h"
#include "test_util.h"

namespace mailjournal {
namespace {

using nlohmann::json;

// Grants search and read on `departments`, review on `reviewed`, every other operation
// everywhere.
class DepartmentGrants : public Permissions {
 public:
  DepartmentGrants(std::set<std::string> departments, std::set<std::string> reviewed)
      : departments_(std::move(departments)), reviewed_(std::move(reviewed)) {}
  bool Allows(const std::string& op, const std::string& d) const override {
    const std::set<std::string>* limited = Limited(op);
    return limited == nullptr || limited->count(d) > 0;
  }
  bool AllowsSome(const std::string& op) const override {
    const std::set<std::string>* limited = Limited(op);
    return limited == nullptr || !limited->empty();
  }
  bool AllowsAll(const std::string& op) const override { return Limited(op) == nullptr; }

 private:
  const std::set<std::string>* Limited(const std::string& op) const {
    if (op == "search" || op == "read") return &departments_;
    return op == "review" ? &reviewed_ : nullptr;
  }
  std::set<std::string> departments_;
  std::set<std::string> reviewed_;
};

// Seals nothing: records the query's length only, so tests can see what was recorded.
Status FakeSeal(const std::vector<std::string>& departments, const std::string& query,
                json* record) {
  *record = {{"query_sealed", "len" + std::to_string(query.size())}, {"sealed_for", departments}};
  return Status::OK();
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<Journal> journal = OpenTestJournal(dir.path() + "/journal");
  IndexKeyStore keys{dir.path() + "/keys"};
  std::set<std::string> granted{"sales", "research"};
  std::set<std::string> reviewed{"sales", "research"};
  AdminHandler handler{journal.get(), ServerInfo{"offline", 0, dir.path()},
                       [this](const Caller&) -> std::shared_ptr<const Permissions> {
                         return std::make_shared<DepartmentGrants>(granted, reviewed);
                       }};
  int64_t clock_us = 1'700'000'000'000'000;

  Fixture() { AddSearchOperations(journal.get(), &keys, FakeSeal, &handler); }

  uint64_t Commit(const std::string& message, const std::vector<std::string>& departments,
                  std::vector<LexiconHit> flags = {}, bool sampled = false) {
    std::vector<IndexKey> index_keys;
    for (const std::string& d : departments) {
      std::vector<IndexKey> k;
      BOOST_REQUIRE(keys.Keys(d, true, &k).ok());
      index_keys.push_back(k.front());
    }
    MessageWriter w(journal.get());
    BOOST_REQUIRE(w.Append(message).ok());
    w.SetTerms(
        IndexMessage(message, {"alice@example.com"}, {"bob@example.net"}, index_keys, nullptr));
    MessageEntry entry = TestMessage(SimpleEnvelope("alice@example.com"));
    entry.classification.departments = departments;
    entry.flags = std::move(flags);
    entry.sampled = sampled;
    uint64_t seq = 0;
    BOOST_REQUIRE(w.Commit(entry, nullptr, &seq, nullptr).ok());
    return seq;
  }

  json Call(json request) {
    request["v"] = 1;
    Recorder out(journal.get());
    BOOST_REQUIRE(handler.Handle(request, Caller{1000, 1000, {}, 0, "ann"}, &out).ok());
    return out.header;
  }

  // The seqs of the hits, newest first; "!" after an inexact one.
  std::vector<std::string> Hits(json request) {
    request["op"] = "search";
    json r = Call(request);
    BOOST_REQUIRE_MESSAGE(r["ok"].get<bool>(), r.dump());
    std::vector<std::string> out;
    for (const json& h : r["hits"]) {
      out.push_back(std::to_string(h["seq"].get<uint64_t>()) + (h["exact"].get<bool>() ? "" : "!"));
    }
    return out;
  }

  // Appends a review decision on message `seq`.
  void Review(uint64_t seq, ReviewStatus status) {
    std::vector<Entry> entries(1);
    entries[0].kind = EntryKind::kReview;
    entries[0].review.actor = {1001, "rita"};
    entries[0].review.message = seq;
    entries[0].review.status = status;
    uint64_t first = 0;
    BOOST_REQUIRE(journal->AppendEntries(&entries, &first).ok());
  }

  // Appends a tag entry on message `seq`.
  void Tag(uint64_t seq, TagAction action, const std::string& tag) {
    std::vector<Entry> entries(1);
    entries[0].kind = EntryKind::kTag;
    entries[0].tag.actor = {1001, "rita"};
    entries[0].tag.message = seq;
    entries[0].tag.action = action;
    entries[0].tag.tag = tag;
    uint64_t first = 0;
    BOOST_REQUIRE(journal->AppendEntries(&entries, &first).ok());
  }

  // The arguments the newest access entry records.
  json LastAccessArguments() {
    Entry e;
    BOOST_REQUIRE(journal->ReadEntry(journal->LastSequence(), &e).ok());
    BOOST_REQUIRE(e.kind == EntryKind::kAccess);
    return json::parse(e.access.arguments);
  }
};

std::string Msg(const std::string& subject, const std::string& body) {
  return "From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: " + subject +
         "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n";
}

std::vector<std::string> V(std::initializer_list<const char*> l) {
  return std::vector<std::string>(l.begin(), l.end());
}

BOOST_AUTO_TEST_SUITE(search_admin)

BOOST_AUTO_TEST_CASE(finds_newest_first_with_exactness_and_grants_per_department) {
  Fixture f;
  uint64_t a = f.Commit(Msg("wire transfer", "保本保收益 guaranteed"), {"sales"});
  uint64_t b = f.Commit(Msg("transfer wire", "nothing guaranteed"), {"research"});
  uint64_t c = f.Commit(Msg("newsletter", "wire transfer today"), {"sales", "research"});
  auto S = [](uint64_t s) { return std::to_string(s); };
  BOOST_TEST(f.Hits({{"query", "wire"}}) == (std::vector<std::string>{S(c), S(b), S(a)}));
  // A phrase is a candidate superset: b has both words, not adjacent.
  BOOST_TEST(f.Hits({{"query", "\"wire transfer\""}}) ==
             (std::vector<std::string>{S(c) + "!", S(b) + "!", S(a) + "!"}));
  BOOST_TEST(f.Hits({{"query", "subject:newsletter"}}) == (std::vector<std::string>{S(c)}));
  BOOST_TEST(f.Hits({{"query", "保本保收益"}}) == (std::vector<std::string>{S(a) + "!"}));
  BOOST_TEST(f.Hits({{"query", "收益"}}) == (std::vector<std::string>{S(a)}));
  BOOST_TEST(f.Hits({{"query", "-guaranteed"}}) == (std::vector<std::string>{S(c)}));
  BOOST_TEST(f.Hits({{"query", "from:alice"}}).size() == 3u);
  BOOST_TEST(f.Hits({{"query", "wire"}, {"departments", V({"research"})}}) ==
             (std::vector<std::string>{S(c), S(b)}));
  // Paging.
  BOOST_TEST(f.Hits({{"query", "wire"}, {"limit", 1}, {"offset", 1}}) ==
             (std::vector<std::string>{S(b)}));
  BOOST_TEST(f.Hits({{"query", "wire"}, {"before", c}}) == (std::vector<std::string>{S(b), S(a)}));
  // Only the granted department's hits; naming another is refused.
  f.granted = {"research"};
  BOOST_TEST(f.Hits({{"query", "guaranteed"}}) == (std::vector<std::string>{S(b)}));
  json refused = f.Call({{"op", "search"}, {"query", "wire"}, {"departments", V({"sales"})}});
  BOOST_TEST(refused["error"]["code"] == "permission_denied");
  BOOST_TEST(f.LastAccessArguments().dump().find("wire") == std::string::npos);
  f.granted = {};
  refused = f.Call({{"op", "search"}, {"query", "secretword"}});
  BOOST_TEST(refused["error"]["code"] == "permission_denied");
  BOOST_TEST(f.LastAccessArguments().dump().find("secretword") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_audit_trail_records_the_query_sealed_never_in_plain_text) {
  Fixture f;
  f.Commit(Msg("hello", "zorblax"), {"sales"});
  BOOST_TEST(f.Hits({{"query", "zorblax"}}).size() == 1u);
  json args = f.LastAccessArguments();
  BOOST_TEST(args.dump().find("zorblax") == std::string::npos);
  BOOST_TEST(args["query_sealed"] == "len7");
  BOOST_TEST(args["sealed_for"] == json(V({"sales"})));
  json bad = f.Call({{"op", "search"}, {"query", "(zorblax"}});
  BOOST_TEST(bad["error"]["code"] == "bad_request");
  BOOST_TEST(f.LastAccessArguments().dump().find("zorblax") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(date_windows_map_to_sequence_numbers_and_disposed_messages_are_left_out) {
  Fixture f;
  uint64_t a = f.Commit(Msg("one", "marker"), {"sales"});
  uint64_t b = f.Commit(Msg("two", "marker"), {"sales"});
  Entry eb;
  BOOST_REQUIRE(f.journal->ReadEntry(b, &eb).ok());
  std::string at_b = FormatTimeUtc(eb.time_us());
  BOOST_TEST(f.Hits({{"query", "marker"}, {"since", at_b}}) ==
             (std::vector<std::string>{std::to_string(b)}));
  BOOST_TEST(f.Hits({{"query", "marker"}, {"until", at_b}}) ==
             (std::vector<std::string>{std::to_string(a)}));
  MessageEntry m;
  BOOST_REQUIRE(f.journal->ReadMessage(a, &m).ok());
  std::vector<Entry> disposal{DisposalOf(a, m)};
  uint64_t first = 0;
  BOOST_REQUIRE(f.journal->DisposeMessages(&disposal, &first).ok());
  BOOST_TEST(f.Hits({{"query", "marker"}}) == (std::vector<std::string>{std::to_string(b)}));
}

BOOST_AUTO_TEST_CASE(reindex_moves_a_department_to_a_new_key_and_records_no_token) {
  Fixture f;
  uint64_t a = f.Commit(Msg("quarterly", "zorblax"), {"sales"});
  std::vector<IndexKey> before;
  BOOST_REQUIRE(f.keys.Keys("sales", false, &before).ok());
  json r = f.Call({{"op", "reindex_begin"}, {"department", "sales"}});
  BOOST_REQUIRE_MESSAGE(r["ok"].get<bool>(), r.dump());
  // Searches go on with both keys meanwhile.
  BOOST_TEST(f.Hits({{"query", "zorblax"}}).size() == 1u);
  json message = {{"seq", a}, {"tokens", json::array({json::array({"zorblax", kFieldBody})})}};
  json add = {{"op", "reindex_add"}, {"department", "sales"}, {"messages", json::array({message})}};
  r = f.Call(add);
  BOOST_REQUIRE_MESSAGE(r["ok"].get<bool>(), r.dump());
  json args = f.LastAccessArguments();
  BOOST_TEST(args.dump().find("zorblax") == std::string::npos);
  BOOST_TEST(args["seqs"] == json::array({a}));
  r = f.Call({{"op", "reindex_finish"}, {"department", "sales"}});
  BOOST_REQUIRE_MESSAGE(r["ok"].get<bool>(), r.dump());
  BOOST_TEST(r["dropped_keys"] == 1);
  std::vector<IndexKey> after;
  BOOST_REQUIRE(IndexKeyStore(f.dir.path() + "/keys").Keys("sales", false, &after).ok());
  BOOST_REQUIRE(after.size() == 1u);
  BOOST_TEST(after[0].id != before[0].id);
  BOOST_TEST(f.Hits({{"query", "zorblax"}}) == (std::vector<std::string>{std::to_string(a)}));
  // Only what the tool sent is indexed now: the subject word was not.
  BOOST_TEST(f.Hits({{"query", "quarterly"}}).empty());
  // A message of another department is refused.
  add["department"] = "research";
  f.granted = {"sales", "research"};
  r = f.Call(add);
  BOOST_TEST(r["ok"].get<bool>() == false);
}

BOOST_AUTO_TEST_CASE(metadata_terms_are_decided_exactly_from_flags_and_the_review_state) {
  Fixture f;
  LexiconHit guarantees{"guarantees", Severity::kHigh};
  LexiconHit gifts{"gifts", Severity::kLow};
  uint64_t a = f.Commit(Msg("fund", "保本保收益 wire"), {"sales"}, {guarantees});
  uint64_t b = f.Commit(Msg("lunch", "a present for you"), {"sales"}, {gifts, guarantees});
  uint64_t c = f.Commit(Msg("minutes", "wire transfer"), {"research"}, {}, /*sampled=*/true);
  uint64_t d = f.Commit(Msg("hello", "nothing here"), {"sales", "research"});
  f.Review(a, ReviewStatus::kEscalated);
  f.Review(b, ReviewStatus::kReviewed);
  f.Review(b, ReviewStatus::kClosed);  // the latest decision counts
  f.Tag(a, TagAction::kAdd, "mis-selling");
  f.Tag(c, TagAction::kAdd, "mis-selling");
  f.Tag(c, TagAction::kRemove, "mis-selling");
  f.Tag(d, TagAction::kAdd, "Follow-Up");
  auto S = [](uint64_t s) { return std::to_string(s); };
  using Seqs = std::vector<std::string>;
  // Every hit of a query of metadata terms only is exact: nothing needs opening.
  BOOST_TEST(f.Hits({{"query", "flag:guarantees"}}) == (Seqs{S(b), S(a)}));
  BOOST_TEST(f.Hits({{"query", "flag:GIFTS"}}) == (Seqs{S(b)}));
  BOOST_TEST(f.Hits({{"query", "flag:*"}}) == (Seqs{S(b), S(a)}));
  BOOST_TEST(f.Hits({{"query", "severity:high"}}) == (Seqs{S(b), S(a)}));
  BOOST_TEST(f.Hits({{"query", "severity:critical"}}).empty());
  BOOST_TEST(f.Hits({{"query", "is:sampled"}}) == (Seqs{S(c)}));
  BOOST_TEST(f.Hits({{"query", "flag:* OR is:sampled"}}) == (Seqs{S(c), S(b), S(a)}));
  BOOST_TEST(f.Hits({{"query", "status:unreviewed"}}) == (Seqs{S(d), S(c)}));
  BOOST_TEST(f.Hits({{"query", "status:escalated"}}) == (Seqs{S(a)}));
  BOOST_TEST(f.Hits({{"query", "status:closed"}}) == (Seqs{S(b)}));
  BOOST_TEST(f.Hits({{"query", "status:reviewed"}}).empty());
  BOOST_TEST(f.Hits({{"query", "tag:mis-selling"}}) == (Seqs{S(a)}));
  BOOST_TEST(f.Hits({{"query", "tag:follow-up"}}) == (Seqs{S(d)}));
  BOOST_TEST(f.Hits({{"query", "tag:*"}}) == (Seqs{S(d), S(a)}));
  BOOST_TEST(f.Hits({{"query", "-tag:*"}}) == (Seqs{S(c), S(b)}));
  BOOST_TEST(f.Hits({{"query", "flag:guarantees AND status:unreviewed"}}).empty());
  BOOST_TEST(f.Hits({{"query", "flag:guarantees AND NOT status:closed"}}) == (Seqs{S(a)}));
  BOOST_TEST(f.Hits({{"query", "(flag:* OR is:sampled) AND status:unreviewed"}}) == (Seqs{S(c)}));
  // Mixed with text: the metadata terms narrow the postings' candidates exactly.
  BOOST_TEST(f.Hits({{"query", "wire"}}) == (Seqs{S(c), S(a)}));
  BOOST_TEST(f.Hits({{"query", "wire flag:guarantees"}}) == (Seqs{S(a)}));
  BOOST_TEST(f.Hits({{"query", "wire -flag:guarantees"}}) == (Seqs{S(c)}));
  BOOST_TEST(f.Hits({{"query", "wire OR tag:follow-up"}}) == (Seqs{S(d), S(c), S(a)}));
  // A phrase stays inexact, unless a metadata term settles the message either way.
  BOOST_TEST(f.Hits({{"query", "\"wire transfer\" AND is:sampled"}}) == (Seqs{S(c) + "!"}));
  BOOST_TEST(f.Hits({{"query", "\"wire transfer\" OR is:sampled"}}) == (Seqs{S(c)}));
  // Permissions as ever: research only sees its messages.
  f.granted = {"research"};
  BOOST_TEST(f.Hits({{"query", "status:unreviewed"}}) == (Seqs{S(d), S(c)}));
  BOOST_TEST(f.Hits({{"query", "flag:*"}}).empty());
  f.granted = {"sales", "research"};
  // Review status and tags need the review grant too: without it on sales, sales' messages
  // are not searched by them (flags are no secret of the review), and naming sales is refused.
  f.reviewed = {"research"};
  BOOST_TEST(f.Hits({{"query", "status:escalated"}}).empty());
  BOOST_TEST(f.Hits({{"query", "tag:*"}}) == (Seqs{S(d)}));
  BOOST_TEST(f.Hits({{"query", "flag:*"}}) == (Seqs{S(b), S(a)}));
  json refused = f.Call({{"op", "search"}, {"query", "tag:*"}, {"departments", {"sales"}}});
  BOOST_TEST(refused["error"]["code"] == "permission_denied");
  f.reviewed = {"sales", "research"};
  // The window bounds them; paging goes on from "before".
  BOOST_TEST(f.Hits({{"query", "status:unreviewed"}, {"before", d}}) == (Seqs{S(c)}));
  BOOST_TEST(f.Hits({{"query", "flag:*"}, {"limit", 1}}) == (Seqs{S(b)}));
  BOOST_TEST(f.Hits({{"query", "flag:*"}, {"before", b}}) == (Seqs{S(a)}));
  // Hits tell the review state when the query asks about it.
  json r = f.Call({{"op", "search"}, {"query", "tag:*"}});
  BOOST_REQUIRE(r["hits"].size() == 2u);
  BOOST_TEST(r["hits"][0]["review_status"] == "unreviewed");
  BOOST_TEST(r["hits"][0]["tags"] == json::array({"Follow-Up"}));
  BOOST_TEST(r["hits"][1]["review_status"] == "escalated");
  BOOST_TEST(r["hits"][1]["flags"][0]["lexicon"] == "guarantees");
  // The query is sealed in the access entry, metadata terms included.
  BOOST_TEST(f.LastAccessArguments().dump().find("tag") == std::string::npos);
  json bad = f.Call({{"op", "search"}, {"query", "status:pending"}});
  BOOST_TEST(bad["error"]["code"] == "bad_request");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
