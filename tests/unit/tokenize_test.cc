// Tokenizing (mailjournal/tokenize.h): NFKC case folding, words, CJK bigrams, what
// separates, dropped long tokens, invalid UTF-8, and offsets into the original text.
#include "mailjournal/tokenize.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

namespace mailjournal {
namespace {

using Texts = std::vector<std::string>;

Texts TextsOf(std::string_view text) {
  Texts texts;
  for (const Token& token : Tokenize(text)) texts.push_back(token.text);
  return texts;
}

BOOST_AUTO_TEST_SUITE(tokenize)

BOOST_AUTO_TEST_CASE(ascii_words_are_lowercased_and_punctuation_separates) {
  BOOST_TEST(TextsOf("Hello, World! FOO_bar baz9 (x)") ==
             (Texts{"hello", "world", "foo", "bar", "baz9", "x"}));
  BOOST_TEST(TextsOf("a+b=c; d/e|f") == (Texts{"a", "b", "c", "d", "e", "f"}));
  BOOST_TEST(TextsOf("") == Texts{});
  BOOST_TEST(TextsOf(" \t\r\n ,.;") == Texts{});
}

BOOST_AUTO_TEST_CASE(case_folding_is_full) {
  BOOST_TEST(TextsOf("Straße") == Texts{"strasse"});
  BOOST_TEST(TextsOf("STRASSE strasse") == (Texts{"strasse", "strasse"}));
  // Final sigma folds to sigma: the capitalised and the lower-case word are one.
  BOOST_TEST(TextsOf("ΣΊΣΥΦΟΣ") == TextsOf("σίσυφος"));
  BOOST_TEST(TextsOf("ΣΊΣΥΦΟΣ") == Texts{"σίσυφοσ"});
}

BOOST_AUTO_TEST_CASE(full_width_forms_are_ascii) {
  // U+3000, the ideographic space, separates.
  BOOST_TEST(TextsOf("ＡＢＣ１\u3000ｄｅｆ") == (Texts{"abc1", "def"}));
  BOOST_TEST(TextsOf("ｆｏｏ＠ｂａｒ．ｃｏｍ") == (Texts{"foo", "bar", "com"}));
}

BOOST_AUTO_TEST_CASE(accents_compose_whatever_the_input_form) {
  const std::string composed = "caf\u00e9";
  const std::string decomposed = "cafe\u0301";
  BOOST_TEST(TextsOf(composed) == Texts{composed});
  BOOST_TEST(TextsOf(decomposed) == Texts{composed});
  BOOST_TEST(TextsOf("MÜLLER Müller") == (Texts{"müller", "müller"}));
  BOOST_TEST(TextsOf("Élève FAÇADE naïve") == (Texts{"élève", "façade", "naïve"}));
  BOOST_TEST(TextsOf("A\u030aNGSTRÖM") == Texts{"ångström"});
}

BOOST_AUTO_TEST_CASE(compatibility_characters_are_expanded) {
  BOOST_TEST(TextsOf("\ufb01le") == Texts{"file"});  // the "fi" ligature
  BOOST_TEST(TextsOf("Acme\u2122") == Texts{"acmetm"});
  BOOST_TEST(TextsOf("\u2460 \u00bd") == (Texts{"1", "1", "2"}));  // ① ½ (1⁄2: ⁄ separates)
  // A soft hyphen is invisible: it neither shows nor separates.
  BOOST_TEST(TextsOf("in\u00adformation") == Texts{"information"});
}

BOOST_AUTO_TEST_CASE(addresses_and_urls_split_into_words) {
  BOOST_TEST(TextsOf("Alice.Smith@Bank.example") == (Texts{"alice", "smith", "bank", "example"}));
  BOOST_TEST(TextsOf("<bounce+123@bank.example>") == (Texts{"bounce", "123", "bank", "example"}));
  BOOST_TEST(TextsOf("https://intranet.bank.example/wiki/Q3-2024?id=7") ==
             (Texts{"https", "intranet", "bank", "example", "wiki", "q3", "2024", "id", "7"}));
}

BOOST_AUTO_TEST_CASE(digits_apostrophes_and_hyphens) {
  BOOST_TEST(TextsOf("2024-03-05 \u20ac1,250.00") == (Texts{"2024", "03", "05", "1", "250", "00"}));
  BOOST_TEST(TextsOf("O'Neil's well-known") == (Texts{"o", "neil", "s", "well", "known"}));
  BOOST_TEST(TextsOf("O\u2019Neil") == (Texts{"o", "neil"}));    // typographic apostrophe
  BOOST_TEST(TextsOf("\u0663\u0664") == Texts{"\u0663\u0664"});  // Arabic-Indic digits
}

BOOST_AUTO_TEST_CASE(symbols_and_emoji_separate) {
  BOOST_TEST(TextsOf("deal\U0001F600done") == (Texts{"deal", "done"}));
  BOOST_TEST(TextsOf("\u00a9\u2022\u00a7") == Texts{});
}

BOOST_AUTO_TEST_CASE(other_scripts_make_words_with_their_marks) {
  BOOST_TEST(TextsOf("Привет, МИР") == (Texts{"привет", "мир"}));
  // Devanagari: the virama and the vowel sign are marks inside the word.
  BOOST_TEST(TextsOf("नमस्ते दुनिया") == (Texts{"नमस्ते", "दुनिया"}));
}

BOOST_AUTO_TEST_CASE(chinese_runs_give_overlapping_bigrams) {
  BOOST_TEST(TextsOf("保本保收益") == (Texts{"保本", "本保", "保收", "收益"}));
  BOOST_TEST(TextsOf("銀行轉帳") == (Texts{"銀行", "行轉", "轉帳"}));  // traditional
  // CJK punctuation separates runs.
  BOOST_TEST(TextsOf("你好，世界。再见") == (Texts{"你好", "世界", "再见"}));
  BOOST_TEST(TextsOf("人人") == Texts{"人人"});
  // The iteration mark is a character of the run.
  BOOST_TEST(TextsOf("時々") == Texts{"時々"});
}

BOOST_AUTO_TEST_CASE(a_single_cjk_character_is_a_token) {
  BOOST_TEST(TextsOf("保") == Texts{"保"});
  BOOST_TEST(TextsOf("是 的") == (Texts{"是", "的"}));
  BOOST_TEST(TextsOf("A股") == (Texts{"a", "股"}));
}

BOOST_AUTO_TEST_CASE(japanese_kana_are_cjk) {
  BOOST_TEST(TextsOf("ひらがな") == (Texts{"ひら", "らが", "がな"}));
  // The prolonged sound mark "ー" belongs to the katakana run.
  BOOST_TEST(TextsOf("コーヒー") == (Texts{"コー", "ーヒ", "ヒー"}));
  // Half-width katakana, voiced sound mark included, are the full-width ones.
  BOOST_TEST(TextsOf("ｺｰﾋｰ") == TextsOf("コーヒー"));
  BOOST_TEST(TextsOf("ｶﾞｽ") == Texts{"ガス"});
  BOOST_TEST(TextsOf("東京に行く") == (Texts{"東京", "京に", "に行", "行く"}));
}

BOOST_AUTO_TEST_CASE(korean_hangul_is_cjk) {
  BOOST_TEST(TextsOf("한국어 텍스트") == (Texts{"한국", "국어", "텍스", "스트"}));
  // Conjoining jamo compose into the syllables.
  BOOST_TEST(TextsOf("\u1112\u1161\u11ab\u1100\u116e\u11a8") == Texts{"한국"});
}

BOOST_AUTO_TEST_CASE(scripts_switch_without_spaces) {
  BOOST_TEST(TextsOf("abc中文def") == (Texts{"abc", "中文", "def"}));
  BOOST_TEST(TextsOf("2024年3月") == (Texts{"2024", "年", "3", "月"}));
  BOOST_TEST(TextsOf("Email地址alice@bank.example") ==
             (Texts{"email", "地址", "alice", "bank", "example"}));
}

BOOST_AUTO_TEST_CASE(tokens_longer_than_the_limit_are_dropped) {
  const std::string fits(kMaxTokenBytes, 'a');
  const std::string too_long(kMaxTokenBytes + 1, 'a');
  BOOST_TEST(TextsOf("x " + fits + " y") == (Texts{"x", fits, "y"}));
  BOOST_TEST(TextsOf("x " + too_long + " y") == (Texts{"x", "y"}));
  // Measured after normalisation: 32 "é" are 64 bytes, 33 are too many.
  std::string e32;
  for (int i = 0; i < 32; ++i) e32 += "\u00e9";
  BOOST_TEST(TextsOf(e32) == Texts{e32});
  BOOST_TEST(TextsOf(e32 + "\u00e9") == Texts{});
  BOOST_TEST(TextsOf(e32 + "e\u0301 ok") == Texts{"ok"});
  // A base64 line.
  BOOST_TEST(TextsOf("TWFpbCBqb3VybmFsaW5nIHN5c3RlbSBmb3IgY29tcGxpYW5jZSBhcmNoaXZpbmcgb2Yg") ==
             Texts{});
}

BOOST_AUTO_TEST_CASE(invalid_utf8_separates) {
  BOOST_TEST(TextsOf("ab\xff"
                     "cd") == (Texts{"ab", "cd"}));
  BOOST_TEST(TextsOf("ab\xc0\xaf"
                     "cd") == (Texts{"ab", "cd"}));  // overlong "/"
  BOOST_TEST(TextsOf("ab\xed\xa0\x80"
                     "cd") == (Texts{"ab", "cd"}));        // a surrogate
  BOOST_TEST(TextsOf("中\x80文") == (Texts{"中", "文"}));  // lone trail byte
  BOOST_TEST(TextsOf("ab\xe4\xb8") == Texts{"ab"});        // truncated at the end
  BOOST_TEST(TextsOf("e\xcc") == Texts{"e"});              // a truncated combining mark after ASCII
}

BOOST_AUTO_TEST_CASE(offsets_are_bytes_of_the_original_text) {
  const std::string text = "Hi Straße ＡＢＣ cafe\u0301 保本保";
  std::vector<Token> tokens = Tokenize(text);
  BOOST_REQUIRE(tokens.size() == 6u);
  struct Expected {
    const char* token;
    const char* original;
  };
  const Expected expected[] = {{"hi", "Hi"},           {"strasse", "Straße"}, {"abc", "ＡＢＣ"},
                               {"café", "cafe\u0301"}, {"保本", "保本"},      {"本保", "本保"}};
  for (size_t i = 0; i < tokens.size(); ++i) {
    BOOST_TEST_CONTEXT("token " << i) {
      BOOST_TEST(tokens[i].text == expected[i].token);
      BOOST_TEST(text.substr(tokens[i].begin, tokens[i].end - tokens[i].begin) ==
                 expected[i].original);
    }
  }
  // Overlapping bigrams share their middle character.
  BOOST_TEST(tokens[5].begin == tokens[4].begin + 3);
}

BOOST_AUTO_TEST_CASE(offsets_cover_what_normalisation_expanded) {
  // "㈱" is "(株)": the token is the ideograph, its bytes the whole parenthesised sign.
  const std::string text = "x\u3231y";
  std::vector<Token> tokens = Tokenize(text);
  BOOST_REQUIRE(tokens.size() == 3u);
  BOOST_TEST(tokens[1].text == "株");
  BOOST_TEST(tokens[1].begin == 1u);
  BOOST_TEST(tokens[1].end == 4u);
  BOOST_TEST(tokens[2].text == "y");
  BOOST_TEST(tokens[2].begin == 4u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
