// Metadata terms of the query language (flag:, severity:, is:sampled, tag:, status:):
// parsing and its errors, matching a document's facts, and Decide against Matches over
// random messages with random flags, samples, tags and review status.
#include <boost/test/unit_test.hpp>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "mailjournal/search_query.h"
#include "query_test_util.h"

namespace mailjournal {
namespace {

BOOST_AUTO_TEST_SUITE(search_meta)

BOOST_AUTO_TEST_CASE(metadata_terms_parse_untokenized_and_combine_like_any_primary) {
  BOOST_TEST(Canonical("flag:guarantees") == "flag:\"guarantees\"");
  BOOST_TEST(Canonical("FLAG:Guarantees") == "flag:\"guarantees\"");
  BOOST_TEST(Canonical("flag:*") == "flag:*");
  BOOST_TEST(Canonical("tag:*") == "tag:*");
  BOOST_TEST(Canonical("tag:mis-selling") == "tag:\"mis-selling\"");  // not two tokens
  BOOST_TEST(Canonical("tag:\"Needs Follow-up\"") == "tag:\"needs follow-up\"");
  BOOST_TEST(Canonical("tag:違規") == "tag:\"違規\"");
  BOOST_TEST(Canonical("severity:HIGH") == "severity:high");
  BOOST_TEST(Canonical("is:sampled") == "is:sampled");
  BOOST_TEST(Canonical("status:unreviewed") == "status:unreviewed");
  BOOST_TEST(Canonical("Status:Escalated") == "status:escalated");
  BOOST_TEST(Canonical("flag:guarantees AND status:unreviewed") ==
             "(AND flag:\"guarantees\" status:unreviewed)");
  BOOST_TEST(Canonical("wire -flag:gifts OR tag:x") ==
             "(OR (AND \"wire\" (NOT flag:\"gifts\")) tag:\"x\")");
  BOOST_TEST(Canonical("NOT (is:sampled OR severity:critical)") ==
             "(NOT (OR is:sampled severity:critical))");
  // Quoted, it is text again; an unknown prefix is still an ordinary word.
  BOOST_TEST(Canonical("\"flag:guarantees\"") == "\"flag guarantees\"");
  BOOST_TEST(Canonical("flags:x") == "\"flags x\"");
  QueryNode node = Parse("tag:x");
  BOOST_TEST((node.type == QueryNode::Type::kMeta));
  BOOST_TEST(node.tokens.empty());
  BOOST_TEST(node.text == "tag:x");
}

BOOST_AUTO_TEST_CASE(bad_metadata_values_are_errors_with_their_column) {
  BOOST_TEST(ParseError("a status:pending") ==
             "query: column 3: \"status:pending\": unknown status \"pending\" (to search for "
             "the text, quote it: \"status:pending\"; expected unreviewed, reviewed, "
             "escalated or closed)");
  BOOST_TEST(ParseError("severity:urgent").find("expected low, medium, high or critical") !=
             std::string::npos);
  BOOST_TEST(ParseError("is:flagged").find("expected is:sampled") != std::string::npos);
  BOOST_TEST(ParseError("flag:") ==
             "query: column 1: \"flag:\" needs a word or a phrase right after the colon");
  BOOST_TEST(ParseError("tag:\"\"") == "query: column 1: \"tag:\"\"\" needs a name (or * for any)");
}

MessageFacts Facts() {
  MessageFacts facts;
  facts.flags = {{"gifts", Severity::kLow}, {"guarantees", Severity::kHigh}};
  facts.status = ReviewStatus::kEscalated;
  facts.tags = {"Mis-Selling", "違規"};
  return facts;
}

bool MatchesFacts(const std::string& query, const MessageFacts& facts) {
  SearchDocument doc;
  doc.facts = facts;
  return Matches(Parse(query), doc);
}

BOOST_AUTO_TEST_CASE(matches_a_documents_facts) {
  MessageFacts f = Facts();
  BOOST_TEST(MatchesFacts("flag:guarantees", f));
  BOOST_TEST(MatchesFacts("flag:Gifts", f));
  BOOST_TEST(!MatchesFacts("flag:insider", f));
  BOOST_TEST(MatchesFacts("flag:*", f));
  BOOST_TEST(!MatchesFacts("flag:*", MessageFacts()));
  BOOST_TEST(MatchesFacts("severity:high", f));
  BOOST_TEST(MatchesFacts("severity:low", f));
  BOOST_TEST(!MatchesFacts("severity:critical", f));
  BOOST_TEST(!MatchesFacts("is:sampled", f));
  f.sampled = true;
  BOOST_TEST(MatchesFacts("is:sampled", f));
  BOOST_TEST(MatchesFacts("tag:mis-selling", f));
  BOOST_TEST(MatchesFacts("tag:違規", f));
  BOOST_TEST(!MatchesFacts("tag:mis", f));
  BOOST_TEST(MatchesFacts("tag:*", f));
  BOOST_TEST(MatchesFacts("status:escalated", f));
  BOOST_TEST(!MatchesFacts("status:unreviewed", f));
  BOOST_TEST(MatchesFacts("status:unreviewed", MessageFacts()));
  BOOST_TEST(MatchesFacts("flag:gifts -status:closed", f));
  BOOST_TEST(!MatchesFacts("flag:gifts NOT tag:*", f));
  // With a text term, both must hold.
  SearchDocument doc;
  ExtractedText text;
  text.body = {"guaranteed return"};
  doc = BuildDocument(text, {}, {});
  doc.facts = f;
  BOOST_TEST(Matches(Parse("guaranteed flag:guarantees"), doc));
  BOOST_TEST(!Matches(Parse("guaranteed status:closed"), doc));
  BOOST_TEST(Matches(Parse("absent OR status:escalated"), doc));
}

MessageEntry EntryWithFlags() {
  MessageEntry m;
  m.flags = {{"guarantees", Severity::kCritical}};
  m.sampled = true;
  return m;
}

BOOST_AUTO_TEST_CASE(facts_of_a_message_entry_and_its_review_state) {
  MessageFacts none = FactsOf(EntryWithFlags(), nullptr);
  BOOST_TEST(none.flags.size() == 1u);
  BOOST_TEST(none.sampled);
  BOOST_TEST(!none.status.has_value());
  BOOST_TEST(none.tags.empty());
  MessageReview review;
  review.status = ReviewStatus::kClosed;
  review.tags = {"x"};
  MessageFacts facts = FactsOf(EntryWithFlags(), &review);
  BOOST_TEST((facts.status == ReviewStatus::kClosed));
  BOOST_TEST(facts.tags.count("x") == 1u);
  BOOST_TEST(HasMetaTerm(Parse("a OR -(b tag:x)"), {MetaTerm::Kind::kTag}));
  BOOST_TEST(!HasMetaTerm(Parse("a OR -(b flag:x)"), {MetaTerm::Kind::kTag}));
  BOOST_TEST(!HasMetaTerm(Parse("a b"), {MetaTerm::Kind::kFlag, MetaTerm::Kind::kStatus}));
}

// Postings from a table, and the exact messages of tag: and status: terms from the facts
// (as the daemon's source knows them from the review state); flags and samples unknown.
class FactSource : public PostingSource {
 public:
  std::map<std::string, std::vector<Posting>> postings;
  std::vector<MessageFacts> facts;  // by seq

  Status Postings(const std::string& token, std::vector<Posting>* out) override {
    auto found = postings.find(token);
    *out = found == postings.end() ? std::vector<Posting>() : found->second;
    return Status::OK();
  }
  Status MetaMessages(const MetaTerm& term, bool* known, SeqSet* out) override {
    *known = term.kind == MetaTerm::Kind::kTag || term.kind == MetaTerm::Kind::kStatus;
    for (uint64_t seq = 0; *known && seq < facts.size(); ++seq) {
      if (MetaMatches(term, facts[seq])) out->seqs.push_back(seq);
    }
    return Status::OK();
  }
};

BOOST_AUTO_TEST_CASE(decide_agrees_with_matches_and_is_exact_where_the_bounds_are) {
  const char* words[] = {"alpha", "beta", "gamma"};
  const char* lexicons[] = {"gifts", "guarantees"};
  const char* tags[] = {"x", "y"};
  std::mt19937 random(11);
  std::vector<SearchDocument> docs;
  FactSource source;
  for (uint64_t seq = 0; seq < 80; ++seq) {
    ExtractedText text;
    std::string value;
    for (int i = 0; i < 3; ++i) value += std::string(words[random() % 3]) + " ";
    text.body.push_back(value);
    SearchDocument& doc = docs.emplace_back(BuildDocument(text, {}, {}));
    for (const char* lexicon : lexicons) {
      if (random() % 3 == 0) {
        doc.facts.flags.push_back({lexicon, static_cast<Severity>(1 + random() % 4)});
      }
    }
    doc.facts.sampled = random() % 4 == 0;
    int status = static_cast<int>(random() % 4);
    if (status > 0) doc.facts.status = static_cast<ReviewStatus>(status);
    for (const char* tag : tags) {
      if (random() % 3 == 0) doc.facts.tags.insert(tag);
    }
    source.facts.push_back(doc.facts);
    std::map<std::string, uint8_t> fields;
    for (const auto& v : doc.fields[3]) {
      for (const std::string& token : v) fields[token] |= kFieldBody;
    }
    for (const auto& [token, mask] : fields) source.postings[token].push_back({seq, mask});
  }
  // `exact`: every text term is a single token, so postings and facts settle every message.
  auto check = [&](const char* query, bool exact) {
    QueryNode root = Parse(query);
    Candidates candidates;
    BOOST_REQUIRE(EvaluateCandidates(root, &source, &candidates).ok());
    int maybes = 0;
    for (uint64_t seq = 0; seq < docs.size(); ++seq) {
      BOOST_TEST_CONTEXT(query << ", message " << seq) {
        bool matches = Matches(root, docs[seq]);
        MatchDecision decision = Decide(root, &candidates, seq, docs[seq].facts);
        if (decision == MatchDecision::kYes) BOOST_TEST(matches);
        if (matches) BOOST_TEST((decision != MatchDecision::kNo));
        if (exact) BOOST_TEST((decision == (matches ? MatchDecision::kYes : MatchDecision::kNo)));
        maybes += decision == MatchDecision::kMaybe;
        // The whole query's bounds still hold; without postings only facts decide.
        if (candidates.lower.Contains(seq)) BOOST_TEST(matches);
        if (matches) BOOST_TEST(candidates.upper.Contains(seq));
        MatchDecision blind = Decide(root, nullptr, seq, docs[seq].facts);
        if (blind == MatchDecision::kYes) BOOST_TEST(matches);
        if (matches) BOOST_TEST((blind != MatchDecision::kNo));
      }
    }
    if (!exact) BOOST_TEST(maybes > 0, query);
  };
  for (const char* query :
       {"flag:gifts", "alpha flag:guarantees", "alpha -flag:*", "beta OR is:sampled",
        "severity:high -status:closed", "status:unreviewed (flag:* OR is:sampled)",
        "-(tag:x OR gamma) status:escalated", "NOT (alpha tag:*) OR severity:critical"}) {
    check(query, true);
  }
  // A phrase leaves some undecided.
  for (const char* query : {R"("alpha beta" flag:gifts)", R"(-"beta gamma" OR tag:y)",
                            R"(NOT ("alpha alpha" status:reviewed))"}) {
    check(query, false);
  }
  // Facts alone settle a query of metadata terms only, without any postings.
  QueryNode meta_only = Parse("flag:gifts OR (tag:x -status:closed)");
  for (uint64_t seq = 0; seq < docs.size(); ++seq) {
    bool matches = Matches(meta_only, docs[seq]);
    BOOST_TEST((Decide(meta_only, nullptr, seq, docs[seq].facts) ==
                (matches ? MatchDecision::kYes : MatchDecision::kNo)));
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
