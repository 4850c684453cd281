// Supervision lexicons (mailjournal/lexicon_matcher.h, Policy::MatchLexicons): what a term
// matches, and which lexicons real MIME messages hit once their text is extracted the way
// capture extracts it (ExtractText: subject and body). Non-ASCII bytes are written as escapes
// in the charset under test (made with Python's codecs), each escape ending its string
// literal so that no letter after it is read as a hex digit.
#include "mailjournal/lexicon_matcher.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "mailjournal/policy.h"
#include "mailjournal/text_extract.h"
#include "test_util.h"

namespace mailjournal {
namespace {

using Strings = std::vector<std::string>;

// A policy with two lexicons on `brokerage`, one on `retail` and none on `default`.
const char kPolicy[] =
    "version: 1\n"
    "retention:\n"
    "  r7: 7y\n"
    "escrow: [keys/escrow.pem]\n"
    "departments:\n"
    "  - name: default\n"
    "    retention: r7\n"
    "  - name: brokerage\n"
    "    members: ['@brokerage.example']\n"
    "    retention: r7\n"
    "  - name: retail\n"
    "    members: ['@retail.example']\n"
    "    retention: r7\n"
    "supervision:\n"
    "  lexicons:\n"
    "    - name: mis_selling\n"
    "      severity: critical\n"
    "      terms: [保本保收益, 稳赚不赔]\n"
    "    - name: guarantees\n"
    "      severity: high\n"
    "      terms: ['guaranteed return', guarantee, 'c++ only']\n"
    "      patterns: ['risk[- ]?free']\n"
    "  departments:\n"
    "    - name: brokerage\n"
    "      lexicons: [mis_selling, guarantees]\n"
    "      sample: 2%\n"
    "    - name: retail\n"
    "      lexicons: [guarantees]\n"
    "      sample: 0.5%\n";

std::shared_ptr<const Policy> LoadSupervisionPolicy() {
  return LoadPolicyOrFail(
      {{"keys/escrow.pem", ReadCaseFile("keys/escrow.pem")}, {"policy.yaml", kPolicy}});
}

// "name/severity" of each flag a message of `departments` gets, in order.
Strings Flags(const std::string& message, const Strings& departments = {"brokerage"}) {
  static const std::shared_ptr<const Policy> policy = LoadSupervisionPolicy();
  ExtractedText text = ExtractText(message);
  std::vector<std::string_view> texts;
  for (const std::string& t : text.subject) texts.push_back(t);
  for (const std::string& t : text.body) texts.push_back(t);
  std::vector<LexiconHit> flags;
  Status s = policy->MatchLexicons(departments, texts, &flags);
  BOOST_TEST(s.ok(), s.ToString());
  Strings out;
  for (const LexiconHit& h : flags) out.push_back(h.lexicon + "/" + SeverityName(h.severity));
  return out;
}

// A one-part message with these headers after From/To, and this body.
std::string Message(const std::string& headers, const std::string& body) {
  return "From: Sales <sales@brokerage.example>\r\n"
         "To: client@example.com\r\n" +
         headers + "\r\n" + body;
}

std::string Plain(const std::string& charset, const std::string& encoding, const std::string& body,
                  const std::string& subject = "Offer") {
  return Message("Subject: " + subject +
                     "\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=" +
                     charset + "\r\nContent-Transfer-Encoding: " + encoding + "\r\n",
                 body);
}

const Strings kNone;
const Strings kMisSelling = {"mis_selling/critical"};
const Strings kGuarantees = {"guarantees/high"};

// Matches `lexicons` (terms only) against `text` directly.
std::vector<size_t> MatchTerms(const std::vector<LexiconExpressions>& lexicons,
                               const std::string& text) {
  std::shared_ptr<const LexiconMatcher> matcher;
  Status s = LexiconMatcher::Compile(lexicons, &matcher);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::vector<size_t> hits;
  s = matcher->Match({text}, nullptr, &hits);
  BOOST_TEST(s.ok(), s.ToString());
  return hits;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lexicon_matcher)

BOOST_AUTO_TEST_CASE(term_expressions_escape_bound_and_fold_white_space) {
  auto expression = [](const std::string& term) {
    TermExpression e = ExpressionOfTerm(term);
    return (e.utf8 ? "utf8 " : "bytes ") + e.expression;
  };
  BOOST_TEST(expression("guaranteed return") ==
             "bytes \\bguaranteed(?:\\s|\\xc2\\xa0|\\xe3\\x80\\x80)+return\\b");
  BOOST_TEST(expression("  c++ ") == "bytes \\bc\\x2b\\x2b");
  BOOST_TEST(expression("稳赚不赔") == "bytes 稳赚不赔");
  BOOST_TEST(expression("(a.b)") == "bytes \\x28a\\x2eb\\x29");
  BOOST_TEST(expression(" \t\xE3\x80\x80") == "bytes ");
  // Characters that may have case need Unicode case folding: UTF-8 mode.
  BOOST_TEST(expression("Éclair rond") == "utf8 Éclair[\\s\\x{a0}\\x{3000}]+rond\\b");
  BOOST_TEST(expression("ＡＢＣ") == "utf8 ＡＢＣ");
  BOOST_TEST(expression("稳赚 不赔") == "bytes 稳赚(?:\\s|\\xc2\\xa0|\\xe3\\x80\\x80)+不赔");
  BOOST_TEST(CheckMatcherPlatform().ok());
  BOOST_TEST(CheckPattern("risk[- ]?free").ok());
  BOOST_TEST(!CheckPattern("(").ok());
}

BOOST_AUTO_TEST_CASE(terms_match_as_literals_with_ascii_word_boundaries) {
  std::vector<LexiconExpressions> lexicons = {{{"guarantee"}, {}}, {{"a.b", "稳赚"}, {}}};
  BOOST_TEST(MatchTerms(lexicons, "We GUARANTEE it.") == std::vector<size_t>{0});
  BOOST_TEST(MatchTerms(lexicons, "unguaranteed") == std::vector<size_t>{});
  BOOST_TEST(MatchTerms(lexicons, "guarantees") == std::vector<size_t>{});
  BOOST_TEST(MatchTerms(lexicons, "guarantee_") == std::vector<size_t>{});
  // Next to a non-ASCII character there is a boundary: mixed Chinese and English text.
  BOOST_TEST(MatchTerms(lexicons, "保证guarantee的") == std::vector<size_t>{0});
  // '.' is a literal, not "any character"; Chinese terms match inside words.
  BOOST_TEST(MatchTerms(lexicons, "axb") == std::vector<size_t>{});
  BOOST_TEST(MatchTerms(lexicons, "(a.b)") == std::vector<size_t>{1});
  BOOST_TEST(MatchTerms(lexicons, "绝对稳赚的") == std::vector<size_t>{1});
  BOOST_TEST(MatchTerms(lexicons, "guarantee 稳赚") == (std::vector<size_t>{0, 1}));
  // White space runs in either mode: ideographic space and no-break space included.
  std::vector<LexiconExpressions> spaced = {{{"稳赚 不赔"}, {}}, {{"éclair rond"}, {}}};
  BOOST_TEST(MatchTerms(spaced, "稳赚\xE3\x80\x80\r\n不赔") == std::vector<size_t>{0});
  BOOST_TEST(MatchTerms(spaced, "ÉCLAIR\xC2\xA0ROND") == std::vector<size_t>{1});
  BOOST_TEST(MatchTerms(spaced, "稳赚不赔 éclairrond") == std::vector<size_t>{});
}

BOOST_AUTO_TEST_CASE(one_matcher_scans_from_many_threads) {
  std::shared_ptr<const LexiconMatcher> matcher;
  BOOST_REQUIRE(LexiconMatcher::Compile({{{"needle"}, {}}, {{}, {"hay[0-9]+"}}}, &matcher).ok());
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::vector<size_t> hits;
        std::string text =
            (i % 2 ? "a needle in " : "nothing in ") + std::string("hay") + (i % 3 ? "42" : "x");
        std::vector<size_t> want;
        if (i % 2) want.push_back(0);
        if (i % 3) want.push_back(1);
        if (!matcher->Match({text}, nullptr, &hits).ok() || hits != want) ++wrong[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  BOOST_TEST(wrong == std::vector<int>(4, 0), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(policy_compiles_the_lexicons_of_each_department) {
  std::shared_ptr<const Policy> policy = LoadSupervisionPolicy();
  BOOST_REQUIRE(policy->lexicons().size() == 2u);
  BOOST_TEST(policy->lexicons()[0].name == "mis_selling");
  BOOST_TEST((policy->lexicons()[0].severity == Severity::kCritical));
  BOOST_TEST(policy->lexicons()[1].patterns == Strings{"risk[- ]?free"});
  const Department* brokerage = policy->FindDepartment("brokerage");
  BOOST_TEST(brokerage->lexicons == (Strings{"mis_selling", "guarantees"}));
  BOOST_REQUIRE(policy->lexicon_matcher() != nullptr);
  BOOST_TEST(policy->lexicon_matcher()->lexicon_count() == 2u);
  BOOST_TEST(brokerage->sample == 0.02);
  BOOST_TEST(policy->FindDepartment("retail")->sample == 0.005);
  BOOST_TEST(policy->FindDepartment("default")->lexicons.empty());
  BOOST_TEST(policy->FindDepartment("default")->sample == 0.0);
  Decision d = policy->Classify("sales@brokerage.example", {"x@retail.example"}, 0);
  BOOST_TEST(d.supervised);
  BOOST_TEST(d.sample == 0.02);
  d = policy->Classify("a@example.com", {"b@example.com"}, 0);
  BOOST_TEST(!d.supervised);
  BOOST_TEST(d.sample == 0.0);
}

BOOST_AUTO_TEST_CASE(one_scan_reports_only_the_lexicons_of_the_message_departments) {
  // retail applies guarantees only: mis-selling terms do not flag its mail, and a message of
  // both departments gets both lexicons from the one scan.
  std::string both = Plain("utf-8", "8bit", "保本保收益 and a guaranteed return\r\n");
  BOOST_TEST(Flags(both, {"retail"}) == kGuarantees, boost::test_tools::per_element());
  BOOST_TEST(
      Flags(both, {"brokerage", "retail"}) == (Strings{"guarantees/high", "mis_selling/critical"}),
      boost::test_tools::per_element());
  BOOST_TEST(Flags(both, {"default"}) == kNone, boost::test_tools::per_element());
  // The matcher itself: only wanted lexicons are reported, and none wanted reads nothing.
  std::shared_ptr<const LexiconMatcher> matcher;
  BOOST_REQUIRE(
      LexiconMatcher::Compile({{{"alpha"}, {}}, {{"beta"}, {}}, {{"gamma"}, {}}}, &matcher).ok());
  std::vector<size_t> hits;
  std::vector<char> wanted = {0, 1, 1};
  BOOST_TEST(matcher->Match({"alpha beta", "gamma"}, &wanted, &hits).ok());
  BOOST_TEST(hits == (std::vector<size_t>{1, 2}), boost::test_tools::per_element());
  wanted = {1, 0, 0};  // found in the first text: the second is not needed
  BOOST_TEST(matcher->Match({"alpha", "beta gamma"}, &wanted, &hits).ok());
  BOOST_TEST(hits == (std::vector<size_t>{0}), boost::test_tools::per_element());
  wanted = {0, 0, 0};
  BOOST_TEST(matcher->Match({"alpha beta gamma"}, &wanted, &hits).ok());
  BOOST_TEST(hits.empty());
}

BOOST_AUTO_TEST_CASE(chinese_terms_in_gb2312_gbk_and_utf8_bodies) {
  // "本产品保本保收益" in GB2312, 8bit.
  BOOST_TEST(Flags(Plain("GB2312", "8bit",
                         "\xb1\xbe\xb2\xfa\xc6\xb7\xb1\xa3\xb1\xbe\xb1\xa3\xca\xd5\xd2\xe6\r\n")) ==
             kMisSelling);
  // "朱镕基说稳赚不赔" in GBK (镕 is not in GB2312), 8bit.
  BOOST_TEST(Flags(Plain("GBK", "8bit",
                         "\xd6\xec\xe9\x46\xbb\xf9\xcb\xb5\xce\xc8\xd7\xac\xb2\xbb\xc5\xe2\r\n")) ==
             kMisSelling);
  // "这款产品稳赚不赔，放心" in UTF-8, quoted-printable with a soft line break.
  BOOST_TEST(Flags(Plain("UTF-8", "quoted-printable",
                         "=E8=BF=99=E6=AC=BE=E4=BA=A7=E5=93=81=E7=A8=B3=E8=B5=9A=E4=B8=8D=E8=B5=94="
                         "EF=\r\n=BC=8C=E6=94=BE=E5=BF=83\r\n")) == kMisSelling);
  // Only part of a term: no hit.
  BOOST_TEST(Flags(Plain("UTF-8", "8bit", "稳赚，但可能赔\r\n")) == kNone);
}

BOOST_AUTO_TEST_CASE(rfc2047_subjects) {
  // "理财保本保收益" as =?GB2312?B?...?=.
  BOOST_TEST(Flags(Plain("us-ascii", "7bit", "Hello\r\n", "=?GB2312?B?wO2yxrGjsb6xo8rV0uY=?=")) ==
             kMisSelling);
  // "稳赚不赔" as =?UTF-8?Q?...?= after ASCII words.
  BOOST_TEST(Flags(Plain("us-ascii", "7bit", "Hello\r\n",
                         "Fund =?UTF-8?Q?=E7=A8=B3=E8=B5=9A=E4=B8=8D=E8=B5=94?=")) == kMisSelling);
  BOOST_TEST(Flags(Plain("us-ascii", "7bit", "Hello\r\n",
                         "=?UTF-8?Q?Guaranteed_return_=E2=9C=93?=")) == kGuarantees);
}

BOOST_AUTO_TEST_CASE(english_terms_case_line_breaks_and_boundaries) {
  BOOST_TEST(Flags(Plain("us-ascii", "7bit", "A GUARANTEED Return of 8%\r\n")) == kGuarantees);
  BOOST_TEST(Flags(Plain("us-ascii", "7bit", "a guaranteed\r\n   return\r\n")) == kGuarantees);
  BOOST_TEST(Flags(Plain("us-ascii", "7bit", "an unguaranteed yield, guarantees none\r\n")) ==
             kNone);
  BOOST_TEST(Flags(Plain("us-ascii", "7bit", "It is RISK-FREE.\r\n")) == kGuarantees);
  BOOST_TEST(Flags(Plain("us-ascii", "7bit", "risky freedom\r\n")) == kNone);
  // Both lexicons: sorted by name.
  BOOST_TEST(Flags(Plain("UTF-8", "8bit", "稳赚不赔, guaranteed!\r\n", "guarantee")) ==
             (Strings{"guarantees/high", "mis_selling/critical"}));
}

BOOST_AUTO_TEST_CASE(html_and_quoted_printable_parts) {
  // Quoted-printable HTML: a soft line break inside the phrase, &nbsp; between its words, tags
  // around them. The extractor turns the HTML into text; an inline tag inside a Chinese term
  // does not split it.
  std::string html = Message(
      "Subject: Newsletter\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/alternative; boundary=\"b1\"\r\n",
      "--b1\r\n"
      "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
      "See the HTML version.\r\n"
      "--b1\r\n"
      "Content-Type: text/html; charset=UTF-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      "<html><body><p>Our <b>guaranteed</b>&nbsp;re=\r\nturn</p>"
      "<p>=E7=A8=B3=E8=B5=9A<i>=E4=B8=8D=E8=B5=94</i></p></body></html>\r\n"
      "--b1--\r\n");
  BOOST_TEST(Flags(html) == (Strings{"guarantees/high", "mis_selling/critical"}));
  // Words inside markup (an attribute, a comment, a script) are not text.
  std::string hidden = Message(
      "Subject: Newsletter\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/html; charset=UTF-8\r\n",
      "<html><head><script>var a = 'guaranteed return';</script></head><body>"
      "<a title=\"guaranteed return\" href=\"x\">link</a><!-- 稳赚不赔 --></body></html>\r\n");
  BOOST_TEST(Flags(hidden) == kNone);
}

BOOST_AUTO_TEST_CASE(only_subject_and_body_text_count) {
  // A term in the From display name (RFC 2047 "稳赚不赔") and in another header: no hit.
  std::string headers = Message(
      "Subject: Quarterly report\r\n"
      "Reply-To: =?UTF-8?B?56iz6LWa5LiN6LWU?= <x@example.com>\r\n"
      "X-Campaign: guaranteed return\r\n",
      "Nothing to see.\r\n");
  BOOST_TEST(Flags("From: =?UTF-8?B?56iz6LWa5LiN6LWU?= <sales@brokerage.example>\r\n" + headers) ==
             kNone);
  // "稳赚不赔 guaranteed return" base64 in an application/octet-stream attachment: no hit; the
  // same bytes as a text/plain attachment are body text: hits.
  auto with_attachment = [](const std::string& type) {
    return Message(
        "Subject: Files\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"b2\"\r\n",
        "--b2\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        "Please see the attachment.\r\n"
        "--b2\r\n"
        "Content-Type: " +
            type +
            "\r\n"
            "Content-Disposition: attachment; filename=\"notes.bin\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
            "56iz6LWa5LiN6LWUIGd1YXJhbnRlZWQgcmV0dXJu\r\n"
            "--b2--\r\n");
  };
  BOOST_TEST(Flags(with_attachment("application/octet-stream")) == kNone);
  BOOST_TEST(Flags(with_attachment("text/plain; charset=UTF-8")) ==
             (Strings{"guarantees/high", "mis_selling/critical"}));
}

BOOST_AUTO_TEST_CASE(only_the_message_departments_lexicons_apply) {
  std::string text = Plain("UTF-8", "8bit", "稳赚不赔, risk free\r\n");
  BOOST_TEST(Flags(text, {"default"}) == kNone);
  BOOST_TEST(Flags(text, {"retail"}) == kGuarantees);
  BOOST_TEST(Flags(text, {"default", "retail", "brokerage"}) ==
             (Strings{"guarantees/high", "mis_selling/critical"}));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace mailjournal
