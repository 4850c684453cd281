// Tokenizing text for search: the same rules at indexing, in queries and when the tool
// confirms a match, so that they always agree.
//
// The text (UTF-8) is normalised with Unicode NFKC case folding (ICU), so "Straße",
// "STRASSE" and "strasse" are one word, full-width "ＡＢＣ１" is "abc1", and invisible
// characters such as the soft hyphen are gone ("in\u00ADformation" is "information"). Then:
//   - a word is a maximal run of letters, digits and combining marks of scripts other
//     than the CJK ones (apostrophes, hyphens, '@', '.', '_' separate words: "o'neil" is
//     "o" "neil", "alice@example.com" is "alice" "example" "com");
//   - a run of CJK characters (Han, Hiragana, Katakana, Hangul, and the CJK ideographic
//     iteration marks and the prolonged sound mark "ー") gives its overlapping bigrams:
//     "保本保收益" is "保本" "本保" "保收" "收益"; a run of one character gives that
//     character (so a one-character query finds that character only where it stands alone);
//   - a combining mark belongs to the letter before it (one after a separator is dropped);
//   - everything else (spaces, punctuation, symbols, emoji, controls) separates tokens;
//   - a token longer than kMaxTokenBytes (base64 debris, URLs run together) is dropped.
// Token order follows the text, so a phrase is a run of consecutive tokens.
//
// Thread-safety: Tokenize may be called from any number of threads at once.
#ifndef MAILJOURNAL_TOKENIZE_H_
#define MAILJOURNAL_TOKENIZE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mailjournal {

constexpr size_t kMaxTokenBytes = 64;

struct Token {
  std::string text;  // normalised (NFKC case-folded UTF-8)
  // The bytes of the input it came from: [begin, end). For a CJK bigram, both characters.
  size_t begin = 0;
  size_t end = 0;
};

// The tokens of `text`, in order. Invalid UTF-8 sequences separate tokens (never fail).
std::vector<Token> Tokenize(std::string_view text);

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOKENIZE_H_
