#include "mailjournal/lexicon_matcher.h"

#include <hs.h>

#include <algorithm>
#include <cstdio>

namespace mailjournal {

namespace {

constexpr unsigned kFlags = HS_FLAG_UTF8 | HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;

bool IsAsciiWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The length of the white space character at term[i] (ASCII, U+00A0 or U+3000), 0 if none.
size_t WhiteSpaceAt(const std::string& term, size_t i) {
  char c = term[i];
  if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') return 1;
  if (term.compare(i, 2, "\xC2\xA0") == 0) return 2;
  if (term.compare(i, 3, "\xE3\x80\x80") == 0) return 3;
  return 0;
}

// Whether term[first, last) has a non-ASCII character that may have case: one below U+3000
// (Latin, Greek, Cyrillic, ...), a fullwidth or halfwidth form (U+FF00-U+FFEF) or one past
// U+FFFF (four UTF-8 bytes). CJK ideographs, kana, Hangul and CJK punctuation have none.
bool NeedsUtf8Mode(const std::string& term, size_t first, size_t last) {
  for (size_t i = first; i < last;) {
    unsigned char c = static_cast<unsigned char>(term[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c < 0xE0 || c >= 0xF0 || i + 2 >= last) return true;  // not a 3-byte character
    unsigned cp = (c & 0x0F) << 12 | (static_cast<unsigned char>(term[i + 1]) & 0x3F) << 6 |
                  (static_cast<unsigned char>(term[i + 2]) & 0x3F);
    if (cp < 0x3000 || (cp >= 0xFF00 && cp <= 0xFFEF)) return true;
    i += 3;
  }
  return false;
}

std::string CompileErrorText(hs_compile_error_t* error) {
  std::string text = error != nullptr && error->message != nullptr ? error->message : "unknown";
  hs_free_compile_error(error);
  return text;
}

// What one Match call is looking for and has found.
struct ScanState {
  const std::vector<char>* wanted;  // null: every lexicon
  std::vector<char> hit;
  size_t missing;  // wanted lexicons not hit yet
};

// The scan callback: marks lexicon `id` as hit; stops the scan (non-zero) once every wanted
// lexicon is.
int OnMatch(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/,
            unsigned int /*flags*/, void* context) {
  auto* state = static_cast<ScanState*>(context);
  if (id >= state->hit.size() || state->hit[id]) return 0;
  if (state->wanted != nullptr && !(*state->wanted)[id]) return 0;
  state->hit[id] = 1;
  return --state->missing == 0 ? 1 : 0;
}

}  // namespace

TermExpression ExpressionOfTerm(const std::string& term) {
  size_t first = 0, last = term.size();
  while (first < last && WhiteSpaceAt(term, first) > 0) first += WhiteSpaceAt(term, first);
  // The end of the last character that is not white space.
  size_t end = first;
  for (size_t i = first; i < last;) {
    size_t ws = WhiteSpaceAt(term, i);
    if (ws == 0) {
      ++i;
      end = i;
    } else {
      i += ws;
    }
  }
  last = end;
  TermExpression out;
  out.utf8 = NeedsUtf8Mode(term, first, last);
  // In byte mode the two non-ASCII white space characters are written as their UTF-8 bytes.
  const char* white_space_run =
      out.utf8 ? "[\\s\\x{a0}\\x{3000}]+" : "(?:\\s|\\xc2\\xa0|\\xe3\\x80\\x80)+";
  std::string& e = out.expression;
  if (first < last && IsAsciiWordChar(term[first])) e += "\\b";
  for (size_t i = first; i < last;) {
    size_t ws = WhiteSpaceAt(term, i);
    if (ws > 0) {
      while (i < last && WhiteSpaceAt(term, i) > 0) i += WhiteSpaceAt(term, i);
      e += white_space_run;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(term[i]);
    if (c >= 0x80 || IsAsciiWordChar(term[i])) {
      e.push_back(term[i]);  // letters, digits and UTF-8 bytes are literals
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      e += escaped;
    }
    ++i;
  }
  if (first < last && IsAsciiWordChar(term[last - 1])) e += "\\b";
  return out;
}

Status CheckMatcherPlatform() {
  if (hs_valid_platform() == HS_SUCCESS) return Status::OK();
  return Status::Unavailable("Hyperscan does not run on this CPU (it needs SSSE3)");
}

Status CheckPattern(const std::string& pattern) {
  hs_database_t* database = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile(pattern.c_str(), kFlags, HS_MODE_BLOCK, nullptr, &database, &error) !=
      HS_SUCCESS) {
    return Status::InvalidArgument(CompileErrorText(error));
  }
  hs_free_database(database);
  return Status::OK();
}

Status LexiconMatcher::Compile(const std::vector<LexiconExpressions>& lexicons,
                               std::shared_ptr<const LexiconMatcher>* matcher) {
  std::vector<std::string> expressions;
  std::vector<unsigned int> flags;
  std::vector<unsigned int> ids;
  for (size_t i = 0; i < lexicons.size(); ++i) {
    for (const std::string& term : lexicons[i].terms) {
      TermExpression e = ExpressionOfTerm(term);
      expressions.push_back(e.expression);
      flags.push_back(e.utf8 ? kFlags : kFlags & ~HS_FLAG_UTF8);
      ids.push_back(static_cast<unsigned int>(i));
    }
    for (const std::string& pattern : lexicons[i].patterns) {
      expressions.push_back(pattern);
      flags.push_back(kFlags);
      ids.push_back(static_cast<unsigned int>(i));
    }
  }
  if (expressions.empty()) return Status::InvalidArgument("no term or pattern to compile");
  std::vector<const char*> pointers;
  for (const std::string& e : expressions) pointers.push_back(e.c_str());
  hs_database_t* database = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(pointers.data(), flags.data(), ids.data(),
                       static_cast<unsigned int>(pointers.size()), HS_MODE_BLOCK, nullptr,
                       &database, &error) != HS_SUCCESS) {
    int index = error != nullptr ? error->expression : -1;
    std::string what = index >= 0 && static_cast<size_t>(index) < expressions.size()
                           ? "expression " + expressions[index] + ": "
                           : "";
    return Status::InvalidArgument("cannot compile the lexicons: " + what +
                                   CompileErrorText(error));
  }
  hs_scratch_t* prototype = nullptr;
  if (hs_alloc_scratch(database, &prototype) != HS_SUCCESS) {
    hs_free_database(database);
    return Status::Internal("cannot allocate Hyperscan scratch space");
  }
  matcher->reset(new LexiconMatcher(database, prototype, lexicons.size()));
  return Status::OK();
}

LexiconMatcher::LexiconMatcher(hs_database* database, hs_scratch* prototype, size_t lexicon_count)
    : database_(database), prototype_(prototype), lexicon_count_(lexicon_count) {}

LexiconMatcher::~LexiconMatcher() {
  for (hs_scratch_t* scratch : pool_) hs_free_scratch(scratch);
  hs_free_scratch(prototype_);
  hs_free_database(database_);
}

Status LexiconMatcher::AcquireScratch(hs_scratch** scratch) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!pool_.empty()) {
      *scratch = pool_.back();
      pool_.pop_back();
      return Status::OK();
    }
  }
  if (hs_clone_scratch(prototype_, scratch) != HS_SUCCESS) {
    return Status::Internal("cannot allocate Hyperscan scratch space");
  }
  return Status::OK();
}

void LexiconMatcher::ReleaseScratch(hs_scratch* scratch) const {
  std::lock_guard<std::mutex> lock(mu_);
  pool_.push_back(scratch);
}

Status LexiconMatcher::Match(const std::vector<std::string_view>& texts,
                             const std::vector<char>* wanted, std::vector<size_t>* hits) const {
  hits->clear();
  ScanState state{wanted, std::vector<char>(lexicon_count_, 0), lexicon_count_};
  if (wanted != nullptr) {
    state.missing = 0;
    for (size_t i = 0; i < lexicon_count_ && i < wanted->size(); ++i)
      state.missing += (*wanted)[i] != 0;
  }
  if (state.missing == 0) return Status::OK();
  hs_scratch_t* scratch = nullptr;
  Status s = AcquireScratch(&scratch);
  if (!s.ok()) return s;
  for (std::string_view text : texts) {
    if (text.empty()) continue;
    hs_error_t e = hs_scan(database_, text.data(), static_cast<unsigned int>(text.size()), 0,
                           scratch, OnMatch, &state);
    if (e == HS_SCAN_TERMINATED) break;  // every wanted lexicon found
    if (e != HS_SUCCESS) {
      s = Status::Internal("Hyperscan scan failed (error " + std::to_string(e) + ")");
      break;
    }
  }
  ReleaseScratch(scratch);
  if (!s.ok()) return s;
  for (size_t i = 0; i < state.hit.size(); ++i) {
    if (state.hit[i]) hits->push_back(i);
  }
  return Status::OK();
}

}  // namespace mailjournal
