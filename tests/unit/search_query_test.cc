// The query language (mailjournal/search_query.h): parsing and its errors, a message's
// document, exact matching, snippets, and candidates from postings.
#include "mailjournal/search_query.h"

#include <boost/test/unit_test.hpp>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "mailjournal/tokenize.h"
#include "query_test_util.h"

namespace mailjournal {
namespace {

using Seqs = std::vector<uint64_t>;
using Values = std::vector<std::vector<std::string>>;

// The number of characters (code points) of valid UTF-8.
size_t CharCount(const std::string& s) {
  size_t count = 0;
  for (char c : s) count += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return count;
}

// A message as the extractor would give it, built by hand.
ExtractedText SampleText() {
  ExtractedText text;
  text.from = {"Alice Smith <alice@bank.example>"};
  text.to = {"bob@other.example"};
  text.subject = {"Re: wire transfer"};
  text.body = {"Please wire the transfer today.\nThe 保本保收益 product.", "second part"};
  text.attachment = {"Q3 report.pdf"};
  text.message_id = {"abc123@bank.example"};
  return text;
}

SearchDocument SampleDocument() {
  return BuildDocument(SampleText(), {"<bounce@bank.example>"},
                       {"<carol@dest.example>", "<audit@bank.example>"});
}

bool MatchesSample(const std::string& query) { return Matches(Parse(query), SampleDocument()); }

BOOST_AUTO_TEST_SUITE(search_query)

// ---------------------------------------------------------------------------------------
// Field names.

BOOST_AUTO_TEST_CASE(field_names_round_trip) {
  const char* names[] = {"from", "to", "subject", "body", "attachment", "message-id"};
  for (int f = 0; f < kFieldCount; ++f) {
    BOOST_TEST(FieldName(f) == std::string(names[f]));
    uint8_t field = 0;
    BOOST_TEST(ParseFieldName(names[f], &field));
    BOOST_TEST(field == (1 << f));
  }
  uint8_t field = 0;
  BOOST_TEST(ParseFieldName("Message-ID", &field));
  BOOST_TEST(field == kFieldMessageId);
  BOOST_TEST(ParseFieldName("FROM", &field));
  BOOST_TEST(field == kFieldFrom);
  BOOST_TEST(!ParseFieldName("cc", &field));
  BOOST_TEST(!ParseFieldName("message_id", &field));
  BOOST_TEST(!ParseFieldName("", &field));
}

// ---------------------------------------------------------------------------------------
// Parsing.

BOOST_AUTO_TEST_CASE(and_binds_tighter_than_or) {
  BOOST_TEST(Canonical("a b OR c") == R"((OR (AND "a" "b") "c"))");
  BOOST_TEST(Canonical("a OR b c") == R"((OR "a" (AND "b" "c")))");
  BOOST_TEST(Canonical("a AND b OR NOT c") == R"((OR (AND "a" "b") (NOT "c")))");
  BOOST_TEST(Canonical("a b c") == R"((AND "a" "b" "c"))");
  BOOST_TEST(Canonical("a OR b OR c") == R"((OR "a" "b" "c"))");
  BOOST_TEST(Canonical("alone") == R"("alone")");
}

BOOST_AUTO_TEST_CASE(not_and_minus_bind_tightest) {
  BOOST_TEST(Canonical("NOT a b") == R"((AND (NOT "a") "b"))");
  BOOST_TEST(Canonical("-a b") == R"((AND (NOT "a") "b"))");
  BOOST_TEST(Canonical("NOT NOT a") == R"((NOT (NOT "a")))");
  BOOST_TEST(Canonical("-(a OR b)") == R"((NOT (OR "a" "b")))");
  BOOST_TEST(Canonical(R"(-"wire transfer")") == R"((NOT "wire transfer"))");
  BOOST_TEST(Canonical("-from:alice") == R"((NOT from:"alice"))");
  // '-' inside a word is a separator, not an operator.
  BOOST_TEST(Canonical("well-known") == R"("well known")");
  // After '-' comes a primary, so "OR" there is a word.
  BOOST_TEST(Canonical("a -OR") == R"((AND "a" (NOT "or")))");
}

BOOST_AUTO_TEST_CASE(parentheses_nest) {
  BOOST_TEST(Canonical("(a OR b) c") == R"((AND (OR "a" "b") "c"))");
  BOOST_TEST(Canonical("((a OR b) (c OR (d -e)))") ==
             R"((AND (OR "a" "b") (OR "c" (AND "d" (NOT "e")))))");
  BOOST_TEST(Canonical("((a))") == R"("a")");
  BOOST_TEST(Canonical("NOT(a)") == R"((NOT "a"))");
}

BOOST_AUTO_TEST_CASE(fields_restrict_terms) {
  QueryNode root = Parse(R"(from:alice SUBJECT:"Wire Transfer" message-id:<abc@x.example>)");
  BOOST_TEST(QueryToString(root) ==
             R"((AND from:"alice" subject:"wire transfer" message-id:"abc x example"))");
  BOOST_REQUIRE(root.children.size() == 3u);
  BOOST_TEST(root.children[0].fields == kFieldFrom);
  BOOST_TEST(root.children[1].fields == kFieldSubject);
  BOOST_TEST(root.children[2].fields == kFieldMessageId);
  // The text as written, for messages.
  BOOST_TEST(root.children[0].text == "from:alice");
  BOOST_TEST(root.children[1].text == R"(SUBJECT:"Wire Transfer")");
  BOOST_TEST(Parse(R"("wire transfer")").text == R"("wire transfer")");
  BOOST_TEST(Parse("to:bob").fields == kFieldTo);
  BOOST_TEST(Parse("body:x").fields == kFieldBody);
  BOOST_TEST(Parse("attachment:x").fields == kFieldAttachment);
  BOOST_TEST(Parse("x").fields == kAllFields);
  // Only the first colon names the field.
  BOOST_TEST(Canonical("subject:re:hello") == R"(subject:"re hello")");
}

BOOST_AUTO_TEST_CASE(an_unknown_field_is_part_of_the_word) {
  QueryNode node = Parse("foo:bar");
  BOOST_TEST(node.fields == kAllFields);
  BOOST_TEST(node.tokens == (std::vector<std::string>{"foo", "bar"}));
  BOOST_TEST(Canonical("cc:bob") == R"("cc bob")");
}

BOOST_AUTO_TEST_CASE(lower_case_operators_are_words) {
  BOOST_TEST(Canonical("a or b and not c") == R"((AND "a" "or" "b" "and" "not" "c"))");
  BOOST_TEST(Canonical(R"("OR")") == R"("or")");
  BOOST_TEST(Canonical("Or") == R"("or")");
}

BOOST_AUTO_TEST_CASE(terms_are_tokenized) {
  QueryNode chinese = Parse("保本保收益");
  BOOST_TEST((chinese.type == QueryNode::Type::kTerms));
  BOOST_TEST(chinese.tokens == (std::vector<std::string>{"保本", "本保", "保收", "收益"}));
  BOOST_TEST(Canonical("alice@example.com") == R"("alice example com")");
  BOOST_TEST(Canonical("Straße") == R"("strasse")");
  BOOST_TEST(Canonical("body:保本保收益 OR 收益") == R"((OR body:"保本 本保 保收 收益" "收益"))");
  // The ideographic space separates terms as a space does.
  BOOST_TEST(Canonical("保本\u3000收益") == R"((AND "保本" "收益"))");
}

BOOST_AUTO_TEST_CASE(errors_name_the_column) {
  BOOST_TEST(ParseError("") == "query: column 1: empty query");
  BOOST_TEST(ParseError("   ") == "query: column 1: empty query");
  BOOST_TEST(ParseError("(a OR b") == "query: column 1: \"(\" without a matching \")\"");
  BOOST_TEST(ParseError("a ((b) c") == "query: column 3: \"(\" without a matching \")\"");
  BOOST_TEST(ParseError("a) b") == "query: column 2: \")\" without a matching \"(\"");
  BOOST_TEST(ParseError("a ()") == "query: column 4: empty parentheses");
  BOOST_TEST(ParseError(R"(a "wire transfer)") == "query: column 3: unclosed quote");
  BOOST_TEST(ParseError(R"(from:"wire)") == "query: column 6: unclosed quote");
  BOOST_TEST(ParseError("OR a") == "query: column 1: OR needs an operand before it");
  BOOST_TEST(ParseError("AND a") == "query: column 1: AND needs an operand before it");
  BOOST_TEST(ParseError("a OR") == "query: column 3: OR needs an operand after it");
  BOOST_TEST(ParseError("a AND OR b") == "query: column 3: AND needs an operand after it");
  BOOST_TEST(ParseError("(a OR) b") == "query: column 4: OR needs an operand after it");
  BOOST_TEST(ParseError("a NOT") == "query: column 3: NOT needs an operand after it");
  BOOST_TEST(ParseError("!!!") == R"(query: column 1: "!!!" has no letter or digit to search for)");
  BOOST_TEST(ParseError(R"(a "--")") ==
             R"(query: column 3: "--" has no letter or digit to search for)");
  BOOST_TEST(ParseError("--") == R"(query: column 1: "--" has no letter or digit to search for)");
  BOOST_TEST(ParseError("- a") == R"(query: column 1: "-" has no letter or digit to search for)");
  BOOST_TEST(ParseError("subject:!!") ==
             R"(query: column 1: "subject:!!" has no letter or digit to search for)");
  BOOST_TEST(ParseError("from: alice") ==
             R"(query: column 1: "from:" needs a word or a phrase right after the colon)");
}

BOOST_AUTO_TEST_CASE(columns_count_characters_not_bytes) {
  BOOST_TEST(ParseError("保本 (") == "query: column 4: \"(\" without a matching \")\"");
  BOOST_TEST(ParseError("café !!!") ==
             R"(query: column 6: "!!!" has no letter or digit to search for)");
  BOOST_TEST(ParseError("保本\u3000OR") == "query: column 4: OR needs an operand after it");
}

// ---------------------------------------------------------------------------------------
// Documents and exact matching.

BOOST_AUTO_TEST_CASE(the_document_holds_every_field_and_the_envelope) {
  SearchDocument doc = SampleDocument();
  BOOST_TEST(doc.fields[0] == (Values{{"alice", "smith", "alice", "bank", "example"},
                                      {"bounce", "bank", "example"}}));
  BOOST_TEST(doc.fields[1] == (Values{{"bob", "other", "example"},
                                      {"carol", "dest", "example"},
                                      {"audit", "bank", "example"}}));
  BOOST_TEST(doc.fields[2] == (Values{{"re", "wire", "transfer"}}));
  BOOST_REQUIRE(doc.fields[3].size() == 2u);
  BOOST_TEST(doc.fields[3][1] == (std::vector<std::string>{"second", "part"}));
  BOOST_TEST(doc.fields[4] == (Values{{"q3", "report", "pdf"}}));
  BOOST_TEST(doc.fields[5] == (Values{{"abc123", "bank", "example"}}));
  // The null sender has no token: no value.
  BOOST_TEST(BuildDocument(ExtractedText(), {"<>"}, {}).fields[0].empty());
}

BOOST_AUTO_TEST_CASE(terms_match_anywhere_phrases_consecutively) {
  BOOST_TEST(MatchesSample("wire transfer"));
  BOOST_TEST(MatchesSample(R"("wire transfer")"));  // in the subject
  BOOST_TEST(MatchesSample(R"(subject:"wire transfer")"));
  BOOST_TEST(!MatchesSample(R"(body:"wire transfer")"));  // "wire the transfer"
  BOOST_TEST(MatchesSample(R"(body:"wire the transfer")"));
  BOOST_TEST(!MatchesSample(R"("transfer wire")"));  // order matters
  BOOST_TEST(!MatchesSample("zebra"));
  BOOST_TEST(MatchesSample("zebra OR wire"));
  BOOST_TEST(!MatchesSample("zebra wire"));
}

BOOST_AUTO_TEST_CASE(phrases_do_not_span_values) {
  BOOST_TEST(MatchesSample("product second"));
  BOOST_TEST(!MatchesSample(R"("product second")"));
  BOOST_TEST(MatchesSample(R"("second part")"));
}

BOOST_AUTO_TEST_CASE(fields_restrict_matches) {
  BOOST_TEST(MatchesSample("from:bounce"));  // the envelope sender
  BOOST_TEST(MatchesSample("to:carol"));     // an envelope recipient
  BOOST_TEST(!MatchesSample("from:carol"));
  BOOST_TEST(!MatchesSample("to:bounce"));
  BOOST_TEST(MatchesSample("from:alice@bank.example"));
  BOOST_TEST(!MatchesSample("alice@other.example"));
  BOOST_TEST(MatchesSample("attachment:pdf"));
  BOOST_TEST(MatchesSample("message-id:<abc123@bank.example>"));
  BOOST_TEST(!MatchesSample("subject:product"));
  BOOST_TEST(MatchesSample("body:product"));
}

BOOST_AUTO_TEST_CASE(chinese_phrases_match_as_bigrams) {
  BOOST_TEST(MatchesSample("保本保收益"));
  BOOST_TEST(MatchesSample("保收益"));     // 保收 收益: consecutive in the text
  BOOST_TEST(!MatchesSample("保本收益"));  // 本收 is not in the text
  BOOST_TEST(MatchesSample("body:保本"));
  BOOST_TEST(!MatchesSample("subject:保本"));
}

BOOST_AUTO_TEST_CASE(not_excludes) {
  BOOST_TEST(!MatchesSample("transfer -wire"));
  BOOST_TEST(MatchesSample("transfer -zebra"));
  BOOST_TEST(MatchesSample("NOT (zebra OR giraffe)"));
  BOOST_TEST(!MatchesSample("NOT (zebra OR wire)"));
  BOOST_TEST(MatchesSample(R"(-body:"wire transfer")"));
}

// ---------------------------------------------------------------------------------------
// Snippets.

std::string Body(const std::string& body, const std::string& query, size_t max_chars = 160) {
  ExtractedText text;
  text.body = {body};
  return Snippet(Parse(query), text, max_chars);
}

BOOST_AUTO_TEST_CASE(snippet_of_a_short_body_is_the_body_collapsed) {
  BOOST_TEST(Body("  Hello\n\n   world\tfoo  \r\n", "world") == "Hello world foo");
}

BOOST_AUTO_TEST_CASE(snippet_is_cut_around_the_first_term) {
  std::string body;
  for (int i = 0; i < 40; ++i) body += "filler" + std::to_string(i) + " ";
  body += "the wire transfer of today ";
  for (int i = 40; i < 80; ++i) body += "filler" + std::to_string(i) + " ";
  std::string snippet = Body(body, "transfer", 40);
  BOOST_TEST(CharCount(snippet) <= 40u);
  BOOST_TEST(snippet.find("transfer") != std::string::npos);
  BOOST_TEST(snippet.rfind("…", 0) == 0u);
  BOOST_TEST(snippet.substr(snippet.size() - 3) == "…");
  // The term is in the middle: context on both sides.
  size_t at = snippet.find("transfer");
  BOOST_TEST(at > 10u);
  BOOST_TEST(snippet.size() - at > 15u);
  // A phrase is located by its first token; a negated term is not looked for.
  BOOST_TEST(Body(body, "-filler0 today", 40).find("today") != std::string::npos);
  BOOST_TEST(Body(body, "-filler0 today", 40).find("filler0 ") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(snippet_near_the_start_or_end_uses_the_room_on_the_other_side) {
  std::string body = "Urgent: ";
  for (int i = 0; i < 50; ++i) body += "word ";
  std::string start = Body(body, "urgent", 20);
  BOOST_TEST(start == "Urgent: word word w…");
  std::string end = Body("word word word word word word word final", "final", 12);
  BOOST_TEST(end == "…word final");
}

BOOST_AUTO_TEST_CASE(snippet_cuts_utf8_at_character_boundaries) {
  std::string body;
  for (int i = 0; i < 30; ++i) body += "这是一个很长的句子";
  body += "保本保收益";
  for (int i = 0; i < 30; ++i) body += "这是一个很长的句子";
  std::string snippet = Body(body, "保本保收益", 11);
  BOOST_TEST(snippet == "…句子保本保收益这是…");
  BOOST_TEST(CharCount(snippet) == 11u);
}

BOOST_AUTO_TEST_CASE(snippet_shows_the_original_text_of_a_normalised_match) {
  BOOST_TEST(Body("ＡＢＣ Straße 123", "STRASSE") == "ＡＢＣ Straße 123");
  BOOST_TEST(Body("xxxxxxxxxxxxxxxxxxxx cafe\u0301 yyyyyyyyyyyyyyyyyyyy", "café", 10) ==
             "…cafe\u0301 y…");
}

BOOST_AUTO_TEST_CASE(snippet_falls_back_to_the_subject_then_the_body_start) {
  ExtractedText text;
  text.subject = {"Invoice 42 overdue"};
  text.body = {"", "Dear customer, please find attached."};
  BOOST_TEST(Snippet(Parse("overdue"), text) == "Invoice 42 overdue");
  BOOST_TEST(Snippet(Parse("attached"), text) == "Dear customer, please find attached.");
  BOOST_TEST(Snippet(Parse("zebra"), text) == "Dear customer, please find attached.");
  BOOST_TEST(Snippet(Parse("zebra"), text, 10) == "Dear cust…");
  // A term restricted to the subject is looked for in the subject only.
  text.body = {"overdue invoices are listed below"};
  BOOST_TEST(Snippet(Parse("subject:overdue"), text) == "Invoice 42 overdue");
  BOOST_TEST(Snippet(Parse("overdue"), text) == "overdue invoices are listed below");
  // Without a body, the subject; without text, nothing.
  text.body.clear();
  BOOST_TEST(Snippet(Parse("zebra"), text) == "Invoice 42 overdue");
  BOOST_TEST(Snippet(Parse("zebra"), ExtractedText()) == "");
}

// ---------------------------------------------------------------------------------------
// Candidates.

// Postings from a table; counts what it is asked for.
class FakeSource : public PostingSource {
 public:
  std::map<std::string, std::vector<Posting>> postings;
  std::map<std::string, int> calls;
  std::string failing_token;

  Status Postings(const std::string& token, std::vector<Posting>* out) override {
    ++calls[token];
    if (token == failing_token) return Status::IOError("index: read failed");
    auto found = postings.find(token);
    *out = found == postings.end() ? std::vector<Posting>() : found->second;
    return Status::OK();
  }
};

FakeSource SampleSource() {
  FakeSource source;
  source.postings["alice"] = {
      {1, kFieldFrom}, {2, kFieldFrom | kFieldBody}, {3, kFieldBody}, {5, kFieldTo}};
  source.postings["wire"] = {{1, kFieldBody}, {2, kFieldSubject}, {4, kFieldBody}};
  source.postings["transfer"] = {{1, kFieldBody}, {3, kFieldBody}, {4, kFieldSubject}};
  return source;
}

Candidates Evaluate(const std::string& query, FakeSource* source) {
  Candidates candidates;
  Status status = EvaluateCandidates(Parse(query), source, &candidates);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.ToString());
  return candidates;
}

// "1 2 3", or "all but 1 2 3" for a complement.
std::string Show(const SeqSet& set) {
  std::string out = set.complement ? "all but" : "";
  for (uint64_t seq : set.seqs) out += (out.empty() ? "" : " ") + std::to_string(seq);
  return out.empty() ? "none" : out;
}

struct Bounds {
  std::string upper;
  std::string lower;
};

Bounds BoundsOf(const std::string& query) {
  FakeSource source = SampleSource();
  Candidates c = Evaluate(query, &source);
  return Bounds{Show(c.upper), Show(c.lower)};
}

BOOST_AUTO_TEST_CASE(seq_set_contains) {
  SeqSet listed{false, {2, 5, 9}};
  BOOST_TEST(listed.Contains(5));
  BOOST_TEST(!listed.Contains(4));
  SeqSet complement{true, {2, 5, 9}};
  BOOST_TEST(!complement.Contains(5));
  BOOST_TEST(complement.Contains(4));
  SeqSet everything{true, {}};
  BOOST_TEST(everything.Contains(123456789));
  BOOST_TEST(!SeqSet().Contains(0));
}

BOOST_AUTO_TEST_CASE(a_single_token_term_is_exact) {
  BOOST_TEST(BoundsOf("alice").upper == "1 2 3 5");
  BOOST_TEST(BoundsOf("alice").lower == "1 2 3 5");
  BOOST_TEST(BoundsOf("from:alice").upper == "1 2");
  BOOST_TEST(BoundsOf("from:alice").lower == "1 2");
  BOOST_TEST(BoundsOf("zebra").upper == "none");
}

BOOST_AUTO_TEST_CASE(a_phrase_has_an_empty_lower_set) {
  BOOST_TEST(BoundsOf(R"("wire transfer")").upper == "1 4");
  BOOST_TEST(BoundsOf(R"("wire transfer")").lower == "none");
  // In the body, message 4 has "wire" but not "transfer".
  BOOST_TEST(BoundsOf(R"(body:"wire transfer")").upper == "1");
  BOOST_TEST(BoundsOf(R"(subject:"wire transfer")").upper == "none");
}

BOOST_AUTO_TEST_CASE(not_swaps_and_complements_the_bounds) {
  BOOST_TEST(BoundsOf("-alice").upper == "all but 1 2 3 5");
  BOOST_TEST(BoundsOf("-alice").lower == "all but 1 2 3 5");
  // Any message might lack the phrase; those without both words surely do.
  BOOST_TEST(BoundsOf(R"(-"wire transfer")").upper == "all but");
  BOOST_TEST(BoundsOf(R"(-"wire transfer")").lower == "all but 1 4");
  BOOST_TEST(BoundsOf("-zebra").upper == "all but");
  BOOST_TEST(BoundsOf("NOT NOT alice").upper == "1 2 3 5");
}

BOOST_AUTO_TEST_CASE(and_or_combine_listed_and_complement_sets) {
  BOOST_TEST(BoundsOf(R"(alice -"wire transfer")").upper == "1 2 3 5");
  BOOST_TEST(BoundsOf(R"(alice -"wire transfer")").lower == "2 3 5");
  BOOST_TEST(BoundsOf(R"("wire transfer" OR -alice)").upper == "all but 2 3 5");
  BOOST_TEST(BoundsOf(R"("wire transfer" OR -alice)").lower == "all but 1 2 3 5");
  BOOST_TEST(BoundsOf("-alice -wire").upper == "all but 1 2 3 4 5");
  BOOST_TEST(BoundsOf("-alice OR -wire").upper == "all but 1 2");
  BOOST_TEST(BoundsOf("(alice OR wire) -transfer").upper == "2 5");
  BOOST_TEST(BoundsOf("alice wire").upper == "1 2");
  BOOST_TEST(BoundsOf("from:alice OR subject:transfer").upper == "1 2 4");
}

BOOST_AUTO_TEST_CASE(each_token_is_asked_for_once) {
  FakeSource source = SampleSource();
  Evaluate(R"(alice OR (alice wire) OR from:alice OR -"wire alice")", &source);
  BOOST_TEST(source.calls["alice"] == 1);
  BOOST_TEST(source.calls["wire"] == 1);
  BOOST_TEST(source.calls.size() == 2u);
}

BOOST_AUTO_TEST_CASE(the_sources_error_is_returned) {
  FakeSource source = SampleSource();
  source.failing_token = "wire";
  Candidates candidates;
  Status status = EvaluateCandidates(Parse("alice OR wire"), &source, &candidates);
  BOOST_TEST((status.code() == Status::Code::kIOError));
  BOOST_TEST(status.message() == "index: read failed");
}

BOOST_AUTO_TEST_CASE(postings_out_of_order_are_refused) {
  FakeSource source;
  source.postings["a"] = {{3, kFieldBody}, {2, kFieldBody}};
  Candidates candidates;
  BOOST_TEST(EvaluateCandidates(Parse("a"), &source, &candidates).IsCorruption());
  source.postings["a"] = {{2, kFieldBody}, {2, kFieldSubject}};
  BOOST_TEST(EvaluateCandidates(Parse("a"), &source, &candidates).IsCorruption());
}

BOOST_AUTO_TEST_CASE(large_and_skewed_lists) {
  FakeSource source;
  for (uint64_t seq = 0; seq < 500000; ++seq) {
    source.postings["even"].push_back({seq * 2, kFieldBody});
    source.postings["third"].push_back({seq * 3, kFieldBody});
  }
  source.postings["rare"] = {
      {4, kFieldBody}, {5, kFieldBody}, {999998, kFieldBody}, {1000001, kFieldBody}};
  Candidates both = Evaluate("even third", &source);
  BOOST_TEST(both.upper.seqs.size() == 166667u);  // multiples of 6 below 1,000,000
  BOOST_TEST(both.upper.Contains(999996));
  BOOST_TEST(!both.upper.Contains(999998));
  // A short list against a long one, both ways.
  BOOST_TEST(Evaluate("rare even", &source).upper.seqs == (Seqs{4, 999998}));
  BOOST_TEST(Evaluate("rare -even", &source).upper.seqs == (Seqs{5, 1000001}));
  Candidates either = Evaluate("even OR third", &source);
  BOOST_TEST(either.upper.seqs.size() == 500000u + 500000u - 166667u);
}

// For random messages and queries, the candidates bound the exact matches: every message
// in lower matches, every one that matches is in upper.
BOOST_AUTO_TEST_CASE(candidates_bound_the_matches) {
  const char* words[] = {"alpha", "beta", "gamma", "delta"};
  std::mt19937 random(8);
  std::vector<SearchDocument> docs;
  FakeSource source;
  for (uint64_t seq = 0; seq < 60; ++seq) {
    ExtractedText text;
    for (auto* values : {&text.subject, &text.body}) {
      std::string value;
      for (int i = 0; i < 3; ++i) value += std::string(words[random() % 4]) + " ";
      values->push_back(value);
    }
    docs.push_back(BuildDocument(text, {}, {}));
    std::map<std::string, uint8_t> fields;
    for (int f = 0; f < kFieldCount; ++f) {
      for (const auto& value : docs.back().fields[f]) {
        for (const std::string& token : value) fields[token] |= 1 << f;
      }
    }
    for (const auto& [token, mask] : fields) source.postings[token].push_back({seq, mask});
  }
  const char* queries[] = {"alpha",
                           R"("alpha beta")",
                           R"(-"alpha beta")",
                           "alpha -beta",
                           "subject:gamma",
                           R"(body:"gamma gamma")",
                           R"(alpha OR -"beta gamma")",
                           "NOT (alpha delta)",
                           R"(-(alpha OR "beta beta") gamma)"};
  for (const char* query : queries) {
    QueryNode root = Parse(query);
    Candidates candidates = Evaluate(query, &source);
    for (uint64_t seq = 0; seq < docs.size(); ++seq) {
      BOOST_TEST_CONTEXT(query << ", message " << seq) {
        bool matches = Matches(root, docs[seq]);
        if (candidates.lower.Contains(seq)) BOOST_TEST(matches);
        if (matches) BOOST_TEST(candidates.upper.Contains(seq));
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
