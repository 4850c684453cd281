#include "mailjournal/tokenize.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

#include <cstdint>
#include <cstdlib>
#include <utility>

namespace mailjournal {

namespace {

const icu::Normalizer2& NfkcCasefold() {
  static const icu::Normalizer2* const normalizer = [] {
    UErrorCode error = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFKCCasefoldInstance(error);
    // Only a broken ICU installation (missing data) fails here: nothing can be tokenized.
    if (U_FAILURE(error) || n == nullptr) std::abort();
    return n;
  }();
  return *normalizer;
}

bool IsAsciiAlnum(uint8_t b) {
  return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
}

char AsciiLower(char b) { return (b >= 'A' && b <= 'Z') ? static_cast<char>(b + ('a' - 'A')) : b; }

// The code point at s[*i] (advancing *i past it), or a negative value for an invalid
// sequence (*i then skips the bytes that are not part of any character).
UChar32 DecodeAt(const uint8_t* s, size_t n, size_t* i) {
  // U8_NEXT works on int32_t offsets; a character is at most 4 bytes.
  int32_t length = static_cast<int32_t>(n - *i < 4 ? n - *i : 4);
  int32_t j = 0;
  UChar32 c;
  U8_NEXT(s + *i, j, length, c);
  *i += static_cast<size_t>(j);
  return c;
}

enum class CharClass : uint8_t { kSeparator, kWord, kCjk, kMark };

bool IsCjkScript(UChar32 c) {
  UErrorCode error = U_ZERO_ERROR;
  UScriptCode script = uscript_getScript(c, &error);
  if (script == USCRIPT_HAN || script == USCRIPT_HIRAGANA || script == USCRIPT_KATAKANA ||
      script == USCRIPT_HANGUL) {
    return true;
  }
  // Shared letters such as the prolonged sound mark "ー" (Common, used by kana only).
  if (script != USCRIPT_COMMON && script != USCRIPT_INHERITED) return false;
  return uscript_hasScript(c, USCRIPT_HAN) || uscript_hasScript(c, USCRIPT_HIRAGANA) ||
         uscript_hasScript(c, USCRIPT_KATAKANA) || uscript_hasScript(c, USCRIPT_HANGUL);
}

// Letters and numbers (the iteration marks 々 and 〻 are letters of Han) make words or CJK
// runs by script; marks join whatever run they follow; everything else separates.
CharClass ClassifyWithIcu(UChar32 c) {
  uint32_t category = U_GET_GC_MASK(c);
  if (category & U_GC_M_MASK) return CharClass::kMark;
  if (category & (U_GC_L_MASK | U_GC_N_MASK)) {
    return IsCjkScript(c) ? CharClass::kCjk : CharClass::kWord;
  }
  return CharClass::kSeparator;
}

// What the tokenizer needs to know about a code point.
struct CharFacts {
  CharClass cls;
  bool inert;            // normalisation leaves it as it is, whatever its neighbours
  bool boundary_before;  // normalisation never joins it to what precedes it
};

CharFacts FactsWithIcu(UChar32 c) {
  const icu::Normalizer2& nfkc = NfkcCasefold();
  return CharFacts{ClassifyWithIcu(c), static_cast<bool>(nfkc.isInert(c)),
                   static_cast<bool>(nfkc.hasBoundaryBefore(c))};
}

// The facts of the Basic Multilingual Plane, packed in a byte each and computed once (about
// a millisecond): asking ICU about every character was a fifth of the time on CJK text.
class BmpFacts {
 public:
  BmpFacts() {
    for (UChar32 c = 0; c < 0x10000; ++c) {
      CharFacts facts = FactsWithIcu(c);
      packed_[c] = static_cast<uint8_t>(static_cast<uint8_t>(facts.cls) | facts.inert << 2 |
                                        facts.boundary_before << 3);
    }
  }
  CharFacts Of(UChar32 c) const {
    uint8_t packed = packed_[c];
    return CharFacts{static_cast<CharClass>(packed & 3), (packed & 4) != 0, (packed & 8) != 0};
  }

 private:
  uint8_t packed_[0x10000];
};

CharFacts FactsOf(UChar32 c) {
  static const BmpFacts* const bmp = new BmpFacts();
  return c < 0x10000 ? bmp->Of(c) : FactsWithIcu(c);
}

// Turns the normalised characters, in order, into tokens: words, and CJK runs as bigrams.
class TokenBuilder {
 public:
  explicit TokenBuilder(std::vector<Token>* out) : out_(out) {}

  // A run of ASCII letters and digits at input[begin, begin + word.size()); `complete`
  // when nothing word-like follows it, so that it is a token on its own.
  void AddAsciiWord(std::string_view word, size_t begin, bool complete) {
    if (run_ == Run::kNone && complete) {
      if (Token* token = Emit(word, {}, begin, begin + word.size())) {
        for (char& b : token->text) b = AsciiLower(b);
      }
      return;
    }
    StartWord(begin);
    for (char b : word) AppendToWord(AsciiLower(b));
    word_end_ = begin + word.size();
    if (complete) Separate();
  }

  // A normalised character `bytes` (code point c) from the input unit [begin, end).
  void Add(UChar32 c, std::string_view bytes, size_t begin, size_t end) {
    switch (FactsOf(c).cls) {
      case CharClass::kSeparator:
        Separate();
        break;
      case CharClass::kWord:
        StartWord(begin);
        AppendToWord(bytes);
        word_end_ = end;
        break;
      case CharClass::kCjk:
        AddCjk(bytes, begin, end);
        break;
      case CharClass::kMark:
        // A mark belongs to the character before it; one after a separator is dropped.
        if (run_ == Run::kWord) {
          AppendToWord(bytes);
          word_end_ = end;
        } else if (run_ == Run::kCjk) {
          current_.text.append(bytes);
          current_.end = end;
        }
        break;
    }
  }

  // Ends the current word or CJK run.
  void Separate() {
    if (run_ == Run::kWord) {
      Emit(word_, {}, word_begin_, word_end_);
    } else if (run_ == Run::kCjk) {
      if (have_previous_) {
        EmitBigram();
      } else {
        Emit(current_.text, {}, current_.begin, current_.end);
      }
    }
    run_ = Run::kNone;
  }

 private:
  enum class Run { kNone, kWord, kCjk };
  struct CjkChar {
    std::string text;  // reused: assigning keeps its capacity
    size_t begin = 0;
    size_t end = 0;
  };

  void StartWord(size_t begin) {
    if (run_ == Run::kWord) return;
    Separate();
    run_ = Run::kWord;
    word_.clear();
    word_begin_ = begin;
  }

  // Past kMaxTokenBytes the word will be dropped: stop copying (base64 lines are long).
  template <typename Bytes>
  void AppendToWord(Bytes bytes) {
    if (word_.size() <= kMaxTokenBytes) word_ += bytes;
  }

  void AddCjk(std::string_view bytes, size_t begin, size_t end) {
    if (run_ == Run::kCjk) {
      if (have_previous_) EmitBigram();
      std::swap(previous_, current_);
      have_previous_ = true;
    } else {
      Separate();
      run_ = Run::kCjk;
      have_previous_ = false;
    }
    current_.text.assign(bytes.data(), bytes.size());
    current_.begin = begin;
    current_.end = end;
  }

  void EmitBigram() { Emit(previous_.text, current_.text, previous_.begin, current_.end); }

  // Appends the token first + second, built in place; nullptr when it is too long.
  Token* Emit(std::string_view first, std::string_view second, size_t begin, size_t end) {
    if (first.size() + second.size() > kMaxTokenBytes) return nullptr;
    Token& token = out_->emplace_back();
    token.text.reserve(first.size() + second.size());
    token.text.append(first).append(second);
    token.begin = begin;
    token.end = end;
    return &token;
  }

  std::vector<Token>* out_;
  Run run_ = Run::kNone;
  std::string word_;
  size_t word_begin_ = 0;
  size_t word_end_ = 0;
  CjkChar previous_;
  CjkChar current_;
  bool have_previous_ = false;
};

// Cuts the input into normalisation units: a character and the following characters that
// NFKC may join to it (combining marks, conjoining jamo). Units normalise independently,
// so each normalised character is tagged with the input bytes of its unit, which keeps
// token offsets in input coordinates however lengths change.
class Tokenizer {
 public:
  Tokenizer(std::string_view text, std::vector<Token>* out)
      : nfkc_(NfkcCasefold()),
        text_(text),
        s_(reinterpret_cast<const uint8_t*>(text.data())),
        n_(text.size()),
        builder_(out) {}

  void Run() {
    size_t i = 0;
    while (i < n_) {
      if (s_[i] < 0x80 && !MayCombineWithNext(i)) {
        i = IsAsciiAlnum(s_[i]) ? AsciiWord(i) : (builder_.Separate(), i + 1);
      } else {
        i = Unit(i);
      }
    }
    builder_.Separate();
  }

 private:
  // Whether the ASCII character at i is followed by a non-ASCII one, which may be a
  // combining mark that normalisation composes with it ("e" U+0301 is "é").
  bool MayCombineWithNext(size_t i) const { return i + 1 < n_ && s_[i + 1] >= 0x80; }

  // The fast path: ASCII letters and digits need neither ICU nor the unit machinery, only
  // lowercasing. Returns where it stopped (a character for Unit() when non-ASCII follows).
  size_t AsciiWord(size_t i) {
    size_t j = i;
    while (j < n_ && IsAsciiAlnum(s_[j])) ++j;
    bool ascii_follows = j == n_ || s_[j] < 0x80;
    if (!ascii_follows) --j;  // the last letter may combine with what follows
    if (j > i) builder_.AddAsciiWord(text_.substr(i, j - i), i, ascii_follows);
    return j;
  }

  // Normalises the unit starting at i and feeds its characters to the builder; returns its
  // end.
  size_t Unit(size_t i) {
    size_t begin = i;
    UChar32 c = DecodeAt(s_, n_, &i);
    if (c < 0) {
      builder_.Separate();
      return i;
    }
    // Most CJK characters: nothing to normalise, and the next unit starts right after.
    if (FactsOf(c).inert) {
      builder_.Add(c, text_.substr(begin, i - begin), begin, i);
      return i;
    }
    size_t end = UnitEnd(i);
    if (end == i && c < 0x80) {
      char lower = AsciiLower(static_cast<char>(c));
      builder_.Add(lower, std::string_view(&lower, 1), begin, end);
    } else {
      AddNormalised(text_.substr(begin, end - begin), begin, end);
    }
    return end;
  }

  // Where the unit whose first character ends at i ends: before the next character that
  // normalisation cannot join to it (or invalid UTF-8). ASCII characters all start units.
  size_t UnitEnd(size_t i) const {
    while (i < n_ && s_[i] >= 0x80) {
      size_t next = i;
      UChar32 c = DecodeAt(s_, n_, &next);
      if (c < 0 || FactsOf(c).boundary_before) break;
      i = next;
    }
    return i;
  }

  void AddNormalised(std::string_view unit, size_t begin, size_t end) {
    UErrorCode error = U_ZERO_ERROR;
    std::string_view normalised = unit;
    if (!nfkc_.isNormalizedUTF8(icu::StringPiece(unit.data(), unit.size()), error)) {
      scratch_.clear();
      icu::StringByteSink<std::string> sink(&scratch_);
      error = U_ZERO_ERROR;
      nfkc_.normalizeUTF8(0, icu::StringPiece(unit.data(), unit.size()), sink, nullptr, error);
      normalised = scratch_;
    }
    // The unit is valid UTF-8, so ICU cannot fail on it; if it did, the unit separates.
    if (U_FAILURE(error)) {
      builder_.Separate();
      return;
    }
    const auto* p = reinterpret_cast<const uint8_t*>(normalised.data());
    size_t k = 0;
    while (k < normalised.size()) {
      size_t start = k;
      UChar32 c = DecodeAt(p, normalised.size(), &k);
      builder_.Add(c, normalised.substr(start, k - start), begin, end);
    }
  }

  const icu::Normalizer2& nfkc_;
  std::string_view text_;
  const uint8_t* s_;
  size_t n_;
  TokenBuilder builder_;
  std::string scratch_;  // normalised units; reused
};

}  // namespace

std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  // About one token per 4 bytes of CJK text (more bytes per token otherwise): growing the
  // vector instead, moving the tokens each time, took two thirds of the time on English.
  tokens.reserve(text.size() / 4 + 1);
  Tokenizer(text, &tokens).Run();
  return tokens;
}

}  // namespace mailjournal
