// The search query language (mailjournal-search(8)), a message's searchable document, and
// the two ways a query is evaluated:
//   - exactly, against the document of a message the tool has decrypted (Matches);
//   - approximately, by the daemon, from keyed postings that say only which messages hold a
//     token in which fields (EvaluateCandidates): a superset of the matches, and a subset
//     known to match without looking at the text.
//
// Grammar (whitespace separates: Unicode White_Space, so the ideographic space U+3000
// too; AND binds tighter than OR; NOT/'-' tightest):
//   query   := or
//   or      := and ( "OR" and )*
//   and     := unary ( ["AND"] unary )*         juxtaposition is AND
//   unary   := ( "NOT" | "-" ) unary | primary  '-' only directly before a primary
//                                               ("--x" is the word "--x", not two '-')
//   primary := "(" or ")" | [ FIELD ":" ] ( WORD | PHRASE )
//   PHRASE  := '"' any characters but '"' '"'
//   WORD    := a run of characters other than whitespace, '(', ')', '"'
//   FIELD   := from | to | subject | body | attachment | message-id   (case-insensitive)
// "AND", "OR", "NOT" are operators only in upper case; otherwise they are words. A WORD
// or PHRASE is tokenized (mailjournal/tokenize.h) into a terms node; one that yields no
// token (e.g. "--" or "!!!") is an error, as is a field without a value ("from: x"). A
// field name that is not one of the six is no error: "foo:bar" is not split (a word
// containing ':' whose prefix is not a field is an ordinary word, tokenized to "foo" "bar").
// A terms node matches a message when its tokens occur consecutively and in order inside
// one value of one of its fields (every field when none is named). So 保本保收益 (four
// bigrams), alice@example.com (three words) and "wire transfer" are all phrases; a
// single-token term matches wherever the token occurs.
//
// Thread-safety: plain values and pure functions, except that a PostingSource is used by
// one thread.
#ifndef MAILJOURNAL_SEARCH_QUERY_H_
#define MAILJOURNAL_SEARCH_QUERY_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailjournal/journal.h"  // Posting
#include "mailjournal/status.h"
#include "mailjournal/text_extract.h"

namespace mailjournal {

// The indexed fields, as bits of a field mask.
enum SearchField : uint8_t {
  kFieldFrom = 1,
  kFieldTo = 2,
  kFieldSubject = 4,
  kFieldBody = 8,
  kFieldAttachment = 16,
  kFieldMessageId = 32,
};
constexpr uint8_t kAllFields = 63;
constexpr int kFieldCount = 6;
// "from", "to", "subject", "body", "attachment", "message-id" for field number 0..5.
const char* FieldName(int field_number);
// The mask bit of a field name (case-insensitive); false for another name.
bool ParseFieldName(std::string_view name, uint8_t* field);

struct QueryNode {
  enum class Type { kTerms, kAnd, kOr, kNot };
  Type type = Type::kTerms;
  // kTerms: the fields it may match in, its tokens (at least one), and the text as written
  // ("from:alice", "\"wire transfer\"") for messages.
  uint8_t fields = kAllFields;
  std::vector<std::string> tokens;
  std::string text;
  // kAnd, kOr: two or more children; kNot: exactly one.
  std::vector<QueryNode> children;
};

// Parses a query. InvalidArgument "query: column N: what is wrong" (N counts characters
// from 1) for an empty query, unbalanced parentheses or quotes, an operator without an
// operand, or a term without a token.
Status ParseQuery(std::string_view text, QueryNode* root);

// The query as a canonical string (for the audit trail and tests): terms as
// field:"tok tok" ("tok tok" for every field), operators as (AND a b), (OR a b), (NOT a).
std::string QueryToString(const QueryNode& node);

// The tokens of one message, per field (indexed by field number), per value (one header
// or one text part each; a phrase never spans two values), in order.
struct SearchDocument {
  std::array<std::vector<std::vector<std::string>>, kFieldCount> fields;
};

// The document of a message: its extracted text (mailjournal/text_extract.h) plus the
// envelope: MAIL FROM's address in "from", every RCPT TO address in "to".
SearchDocument BuildDocument(const ExtractedText& text, const std::vector<std::string>& mail_from,
                             const std::vector<std::string>& rcpt_to);

// Whether the message whose document is `doc` matches the query, exactly.
bool Matches(const QueryNode& query, const SearchDocument& doc);

// A short extract of `text` around the first place where a term of the query (not under
// NOT) occurs, looked for in the body, then the subject (a term restricted to other fields
// is not looked for there): at most max_chars characters ("…" included), whitespace runs
// collapsed to one space, cut at character boundaries, "…" where cut. The beginning of the
// body (of the subject when the body has no text) when no term occurs; "" for a message
// without either.
std::string Snippet(const QueryNode& query, const ExtractedText& text, size_t max_chars = 160);

// Where EvaluateCandidates gets postings (Posting is in mailjournal/journal.h): for one
// token, every posting, sorted by seq, one per seq (fields or-ed together).
class PostingSource {
 public:
  virtual ~PostingSource() = default;
  virtual Status Postings(const std::string& token, std::vector<Posting>* out) = 0;
};

// A set of sequence numbers: `seqs` (sorted, unique), or with `complement` every sequence
// number except those.
struct SeqSet {
  bool complement = false;
  std::vector<uint64_t> seqs;
  bool Contains(uint64_t seq) const;
};

// What the postings say about a query: every message that matches is in `upper`; every
// message in `lower` matches (a single-token term's postings are exact; a phrase's
// adjacency, or a multi-token term's, is not known from postings, so its lower set is
// empty). NOT swaps them: upper(NOT x) = complement of lower(x).
struct Candidates {
  SeqSet upper;
  SeqSet lower;
};

// Evaluates `query` from the postings of `source` (each distinct token asked for once).
// Returns the source's first error.
Status EvaluateCandidates(const QueryNode& query, PostingSource* source, Candidates* out);

}  // namespace mailjournal

#endif  // MAILJOURNAL_SEARCH_QUERY_H_
