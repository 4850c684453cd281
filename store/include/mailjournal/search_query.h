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
//   primary := "(" or ")" | [ FIELD ":" ] ( WORD | PHRASE ) | META ":" ( WORD | PHRASE )
//   PHRASE  := '"' any characters but '"' '"'
//   WORD    := a run of characters other than whitespace, '(', ')', '"'
//   FIELD   := from | to | subject | body | attachment | message-id   (case-insensitive)
//   META    := flag | severity | is | tag | status                    (case-insensitive)
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
// Metadata terms ask what the journal records of a message for supervision, not its text
// (mailjournal-review(8)); their values are not tokenized (and never hashed):
//   flag:NAME      its text hit lexicon NAME at capture (MessageEntry::flags)
//   flag:*         it hit any lexicon
//   severity:S     it hit a lexicon of severity S or higher (low|medium|high|critical)
//   is:sampled     it was drawn for the random review sample (MessageEntry::sampled)
//   tag:NAME       it carries tag NAME now (mailjournal/review_state.h)
//   tag:*          it carries any tag
//   status:S       its review status: unreviewed (no decision yet), reviewed, escalated,
//                  closed (the latest decision)
// Lexicon and tag names compare ignoring ASCII case (flag:Guarantees is flag:guarantees);
// a name may be a phrase (tag:"needs follow-up"). An unknown severity, status or is: value
// is an error, as is a metadata term without a value. They combine with AND, OR, NOT and
// text terms like any primary. To search for the text "flag:x", quote it: "flag:x".
//
// Thread-safety: plain values and pure functions, except that a PostingSource is used by
// one thread.
#ifndef MAILJOURNAL_SEARCH_QUERY_H_
#define MAILJOURNAL_SEARCH_QUERY_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailjournal/entry.h"
#include "mailjournal/journal.h"  // Posting
#include "mailjournal/review_state.h"
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

// A metadata term: what it asks of a message's supervision facts (MessageFacts).
struct MetaTerm {
  enum class Kind { kFlag, kSeverity, kSampled, kTag, kStatus };
  Kind kind = Kind::kFlag;
  // kFlag: the lexicon, kTag: the tag, ASCII lower-cased; "" for any (flag:*, tag:*).
  std::string name;
  Severity severity = Severity::kLow;  // kSeverity: the least severity
  std::optional<ReviewStatus> status;  // kStatus: none for unreviewed
};

struct QueryNode {
  enum class Type { kTerms, kAnd, kOr, kNot, kMeta };
  Type type = Type::kTerms;
  // kTerms: the fields it may match in, its tokens (at least one), and the text as written
  // ("from:alice", "\"wire transfer\"") for messages. kMeta: the text as written.
  uint8_t fields = kAllFields;
  std::vector<std::string> tokens;
  std::string text;
  // kMeta: what it asks.
  MetaTerm meta;
  // kAnd, kOr: two or more children; kNot: exactly one.
  std::vector<QueryNode> children;
};

// Parses a query. InvalidArgument "query: column N: what is wrong" (N counts characters
// from 1) for an empty query, unbalanced parentheses or quotes, an operator without an
// operand, or a term without a token.
Status ParseQuery(std::string_view text, QueryNode* root);

// The query as a canonical string (for the audit trail and tests): terms as
// field:"tok tok" ("tok tok" for every field), metadata terms as flag:"name", flag:*,
// severity:high, is:sampled, tag:"name", tag:*, status:unreviewed; operators as
// (AND a b), (OR a b), (NOT a).
std::string QueryToString(const QueryNode& node);

// Whether the query has a metadata term of one of `kinds`.
bool HasMetaTerm(const QueryNode& query, std::initializer_list<MetaTerm::Kind> kinds);

// What the journal records of a message for supervision: the flags and sample of its
// message entry, and its review state (mailjournal/review_state.h).
struct MessageFacts {
  std::vector<LexiconHit> flags;
  bool sampled = false;
  std::optional<ReviewStatus> status;  // none: unreviewed
  std::set<std::string> tags;
};

// The facts of a message from its entry and its review state (null: never reviewed or
// tagged).
MessageFacts FactsOf(const MessageEntry& message, const MessageReview* review);

// Whether a message with `facts` satisfies the metadata term.
bool MetaMatches(const MetaTerm& term, const MessageFacts& facts);

// The tokens of one message, per field (indexed by field number), per value (one header
// or one text part each; a phrase never spans two values), in order; and its supervision
// facts, which metadata terms are matched against (BuildDocument leaves them empty: the
// caller sets them).
struct SearchDocument {
  std::array<std::vector<std::vector<std::string>>, kFieldCount> fields;
  MessageFacts facts;
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

// A set of sequence numbers: `seqs` (sorted, unique), or with `complement` every sequence
// number except those.
struct SeqSet {
  bool complement = false;
  std::vector<uint64_t> seqs;
  bool Contains(uint64_t seq) const;
};

// Where EvaluateCandidates gets postings (Posting is in mailjournal/journal.h): for one
// token, every posting, sorted by seq, one per seq (fields or-ed together); and, when it
// can tell them without reading message entries, the messages a metadata term holds for.
class PostingSource {
 public:
  virtual ~PostingSource() = default;
  virtual Status Postings(const std::string& token, std::vector<Posting>* out) = 0;
  // Sets *known and *out to the exact set of messages `term` holds for (non-message
  // sequence numbers may be in it), or leaves *known false: then the term bounds nothing
  // and Decide settles it per message from its facts. The default knows nothing.
  virtual Status MetaMessages(const MetaTerm& term, bool* known, SeqSet* out);
};

// What the postings say about a query: every message that matches is in `upper`; every
// message in `lower` matches (a single-token term's postings are exact; a phrase's
// adjacency, or a multi-token term's, is not known from postings, so its lower set is
// empty). NOT swaps them: upper(NOT x) = complement of lower(x).
// A metadata term's bounds are its exact set when the source knows it (both upper and
// lower), else everything and nothing.
struct Candidates {
  SeqSet upper;
  SeqSet lower;
  // The bounds of each text term (kTerms node) of the query, in the order they are
  // written: for Decide.
  std::vector<std::pair<SeqSet, SeqSet>> terms;  // (upper, lower)
};

// Evaluates `query` from the postings of `source` (each distinct token asked for once).
// Returns the source's first error.
Status EvaluateCandidates(const QueryNode& query, PostingSource* source, Candidates* out);

// Whether message `seq` matches `query`: its text terms as `candidates` (EvaluateCandidates
// of the same query) bound them, unknown for every text term when `candidates` is null (no
// postings cover the message); its metadata terms exactly, from `facts`. kYes: it matches;
// kNo: it does not; kMaybe: only its text can tell. Where the candidates' bounds and the
// facts are both exact, Decide is Matches without the text.
enum class MatchDecision { kNo, kMaybe, kYes };
MatchDecision Decide(const QueryNode& query, const Candidates* candidates, uint64_t seq,
                     const MessageFacts& facts);

}  // namespace mailjournal

#endif  // MAILJOURNAL_SEARCH_QUERY_H_
