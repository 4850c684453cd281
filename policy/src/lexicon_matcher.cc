#include "mailjournal/lexicon_matcher.h"

#include <hs.h>

#include <algorithm>
#include <cstdio>

namespace mailjournal {

namespace {

constexpr unsigned kFlags = HS_FLAG_UTF8 | HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
// What a run of white space in a term matches.
constexpr char kWhiteSpaceRun[] = "[\\s\\x{a0}\\x{3000}]+";

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

std::string CompileErrorText(hs_compile_error_t* error) {
  std::string text = error != nullptr && error->message != nullptr ? error->message : "unknown";
  hs_free_compile_error(error);
  return text;
}

// The scan callback: marks lexicon `id` as hit.
int OnMatch(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/,
            unsigned int /*flags*/, void* context) {
  auto* hit = static_cast<std::vector<char>*>(context);
  if (id < hit->size()) (*hit)[id] = 1;
  return 0;
}

}  // namespace

std::string TermExpression(const std::string& term) {
  size_t first = 0, last = term.size();
  while (first < last && WhiteSpaceAt(term, first) > 0) first += WhiteSpaceAt(term, first);
  // Trailing white space: every white space character ends in a byte that no other
  // character of it starts with, so strip from the end by re-scanning.
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
  std::string out;
  if (first < last && IsAsciiWordChar(term[first])) out += "\\b";
  for (size_t i = first; i < last;) {
    size_t ws = WhiteSpaceAt(term, i);
    if (ws > 0) {
      while (i < last && WhiteSpaceAt(term, i) > 0) i += WhiteSpaceAt(term, i);
      out += kWhiteSpaceRun;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(term[i]);
    if (c >= 0x80 || IsAsciiWordChar(term[i])) {
      out.push_back(term[i]);  // letters, digits and UTF-8 bytes are literals
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
    ++i;
  }
  if (first < last && IsAsciiWordChar(term[last - 1])) out += "\\b";
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
  std::vector<unsigned int> ids;
  for (size_t i = 0; i < lexicons.size(); ++i) {
    for (const std::string& term : lexicons[i].terms) {
      expressions.push_back(TermExpression(term));
      ids.push_back(static_cast<unsigned int>(i));
    }
    for (const std::string& pattern : lexicons[i].patterns) {
      expressions.push_back(pattern);
      ids.push_back(static_cast<unsigned int>(i));
    }
  }
  if (expressions.empty()) return Status::InvalidArgument("no term or pattern to compile");
  std::vector<const char*> pointers;
  for (const std::string& e : expressions) pointers.push_back(e.c_str());
  std::vector<unsigned int> flags(expressions.size(), kFlags);
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
                             std::vector<size_t>* hits) const {
  hits->clear();
  hs_scratch_t* scratch = nullptr;
  Status s = AcquireScratch(&scratch);
  if (!s.ok()) return s;
  std::vector<char> hit(lexicon_count_, 0);
  for (std::string_view text : texts) {
    if (text.empty()) continue;
    hs_error_t e = hs_scan(database_, text.data(), static_cast<unsigned int>(text.size()), 0,
                           scratch, OnMatch, &hit);
    if (e != HS_SUCCESS) {
      s = Status::Internal("Hyperscan scan failed (error " + std::to_string(e) + ")");
      break;
    }
  }
  ReleaseScratch(scratch);
  if (!s.ok()) return s;
  for (size_t i = 0; i < hit.size(); ++i) {
    if (hit[i]) hits->push_back(i);
  }
  return Status::OK();
}

}  // namespace mailjournal
