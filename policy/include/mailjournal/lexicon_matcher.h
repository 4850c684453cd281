// LexiconMatcher: finds which of a set of lexicons (supervision, mailjournal.yaml(5)) occur in
// a message's text, with one Hyperscan database compiled once for the whole set.
//
// A lexicon is a list of terms (literal words and phrases) and patterns (Hyperscan regular
// expressions). Every expression of lexicon i reports i; each lexicon is reported at most
// once per scan (HS_FLAG_SINGLEMATCH). All expressions are compiled with HS_FLAG_UTF8 and
// HS_FLAG_CASELESS (Unicode simple case folding: "ÉCLAIR" matches "éclair"), and without
// HS_FLAG_UCP, because Hyperscan does not support \b in UCP mode: \w, \s, \d and \b are
// ASCII classes.
//
// A term is matched as a literal (ExpressionOfTerm):
//  - regular expression metacharacters are escaped;
//  - each run of white space in a term matches any run of white space (ASCII white space,
//    U+00A0 no-break space and U+3000 ideographic space): "guaranteed return" matches
//    "guaranteed\r\n  return";
//  - an ASCII letter, digit or '_' at the start (end) of a term must not be preceded
//    (followed) by another: "guarantee" does not match "unguaranteed" or "guarantees", but
//    "guarantee" next to a non-ASCII character ("保证guarantee的") matches. A term starting or
//    ending with another character (Chinese, punctuation) has no such boundary: "稳赚不赔"
//    matches inside any text.
// Texts are scanned one by one (a match never spans two of them).
//
// Thread-safety: a compiled LexiconMatcher is immutable except for its pool of Hyperscan
// scratch spaces (one per concurrent scan, allocated on first need and reused), which is
// internally locked: Match may be called from any number of threads at once.
#ifndef MAILJOURNAL_LEXICON_MATCHER_H_
#define MAILJOURNAL_LEXICON_MATCHER_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mailjournal/status.h"

struct hs_database;
struct hs_scratch;

namespace mailjournal {

// The words and patterns of one lexicon.
struct LexiconExpressions {
  std::vector<std::string> terms;
  std::vector<std::string> patterns;
};

// The Hyperscan expression that matches `term` as described above, and whether it is
// compiled in UTF-8 mode. Only a term with a non-ASCII character that may have case (below
// U+3000, or a fullwidth form, or past U+FFFF) needs HS_FLAG_UTF8, for Unicode case folding;
// any other term (ASCII, Chinese, Japanese, Korean) is matched byte for byte with ASCII case
// folding, which finds the same matches in UTF-8 text and compiles about ten times faster.
// "" for a term of white space only. REQUIRES: term is valid UTF-8.
struct TermExpression {
  std::string expression;
  bool utf8 = false;
};
TermExpression ExpressionOfTerm(const std::string& term);

// Whether Hyperscan runs on this CPU (hs_valid_platform; it needs SSSE3). OK, or why not.
Status CheckMatcherPlatform();

// Compiles `pattern` alone with the flags of the matcher: OK, or InvalidArgument with
// Hyperscan's message. For the policy loader, which reports each bad pattern where it is.
Status CheckPattern(const std::string& pattern);

class LexiconMatcher {
 public:
  // Compiles the lexicons into one database. On success sets *matcher; on failure returns
  // InvalidArgument naming the offending expression and leaves *matcher unchanged.
  // REQUIRES: 1 <= lexicons.size(); every lexicon has at least one term or pattern.
  static Status Compile(const std::vector<LexiconExpressions>& lexicons,
                        std::shared_ptr<const LexiconMatcher>* matcher);

  ~LexiconMatcher();
  LexiconMatcher(const LexiconMatcher&) = delete;
  LexiconMatcher& operator=(const LexiconMatcher&) = delete;

  size_t lexicon_count() const { return lexicon_count_; }

  // Scans each text; on success sets *hits to the indexes (into the lexicons compiled) of
  // the lexicons that occur in any of them, ascending and unique. When `wanted` is not null,
  // only lexicons i with (*wanted)[i] != 0 are reported, and the scan stops as soon as all
  // of them were found (a text need not be read to its end once nothing is left to find).
  // On error (Hyperscan could not scan, e.g. no memory for a scratch space) returns
  // Internal; *hits is then cleared.
  Status Match(const std::vector<std::string_view>& texts, const std::vector<char>* wanted,
               std::vector<size_t>* hits) const;

 private:
  LexiconMatcher(hs_database* database, hs_scratch* prototype, size_t lexicon_count);
  // A scratch space for one scan: from the pool, or cloned from the prototype.
  Status AcquireScratch(hs_scratch** scratch) const;
  void ReleaseScratch(hs_scratch* scratch) const;

  hs_database* const database_;
  hs_scratch* const prototype_;  // never scanned with, only cloned
  const size_t lexicon_count_;
  mutable std::mutex mu_;
  mutable std::vector<hs_scratch*> pool_;  // GUARDED_BY(mu_): idle scratch spaces
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_LEXICON_MATCHER_H_
