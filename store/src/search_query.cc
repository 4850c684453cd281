#include "mailjournal/search_query.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <iterator>
#include <unordered_map>
#include <utility>

#include "mailjournal/tokenize.h"

namespace mailjournal {

namespace {

constexpr const char* kFieldNames[kFieldCount] = {"from", "to",         "subject",
                                                  "body", "attachment", "message-id"};

uint8_t FieldBit(int field_number) { return static_cast<uint8_t>(1u << field_number); }

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

// The code point at s[*i] (advancing *i past it), or a negative value for invalid UTF-8.
UChar32 DecodeAt(std::string_view s, size_t* i) {
  // U8_NEXT works on int32_t offsets; a character is at most 4 bytes.
  int32_t length = static_cast<int32_t>(std::min<size_t>(s.size() - *i, 4));
  int32_t j = 0;
  UChar32 c;
  U8_NEXT(reinterpret_cast<const uint8_t*>(s.data() + *i), j, length, c);
  *i += static_cast<size_t>(j);
  return c;
}

// Like DecodeAt, backwards: the code point that ends at *i (moving *i to its start).
UChar32 DecodeBefore(std::string_view s, size_t* i) {
  size_t start = *i - std::min<size_t>(*i, 4);
  int32_t j = static_cast<int32_t>(*i - start);
  UChar32 c;
  U8_PREV(reinterpret_cast<const uint8_t*>(s.data() + start), 0, j, c);
  *i = start + static_cast<size_t>(j);
  return c;
}

// White space for the query language and for snippets: Unicode's (so the ideographic space
// U+3000 separates words in a query as a space does), and controls (tabs, line ends).
bool IsSpace(UChar32 c) { return c >= 0 && (u_isUWhiteSpace(c) || u_iscntrl(c)); }

// ---------------------------------------------------------------------------------------
// Parsing.

struct Lexeme {
  enum class Kind { kTerm, kOpen, kClose, kAnd, kOr, kNot, kEnd };
  Kind kind = Kind::kEnd;
  size_t column = 0;  // of its first character, from 1
  // kTerm: the word or the phrase's inside, its fields, and the text as written.
  std::string_view value;
  uint8_t fields = kAllFields;
  std::string_view written;
  // A metadata term (META ":" value): its kind; `value` is its value, not tokenized.
  bool meta = false;
  MetaTerm::Kind meta_kind = MetaTerm::Kind::kFlag;
};

constexpr std::pair<const char*, MetaTerm::Kind> kMetaNames[] = {
    {"flag", MetaTerm::Kind::kFlag},
    {"severity", MetaTerm::Kind::kSeverity},
    {"is", MetaTerm::Kind::kSampled},
    {"tag", MetaTerm::Kind::kTag},
    {"status", MetaTerm::Kind::kStatus}};

// The kind of a metadata term's name (case-insensitive); false for another name.
bool ParseMetaName(std::string_view name, MetaTerm::Kind* kind) {
  for (const auto& [meta_name, meta_kind] : kMetaNames) {
    if (EqualsIgnoringAsciiCase(name, meta_name)) {
      *kind = meta_kind;
      return true;
    }
  }
  return false;
}

const char* MetaName(MetaTerm::Kind kind) {
  for (const auto& [meta_name, meta_kind] : kMetaNames) {
    if (meta_kind == kind) return meta_name;
  }
  return "";
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// An operator, a parenthesis or the end.
Lexeme Mark(Lexeme::Kind kind, size_t column) {
  Lexeme lexeme;
  lexeme.kind = kind;
  lexeme.column = column;
  return lexeme;
}

Status ErrorAt(size_t column, const std::string& what) {
  return Status::InvalidArgument("query: column " + std::to_string(column) + ": " + what);
}

// Cuts a query into lexemes; tracks columns in characters (code points), not bytes.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Status Run(std::vector<Lexeme>* out) {
    while (true) {
      SkipSpace();
      if (pos_ == text_.size()) break;
      char c = text_[pos_];
      if (c == '(' || c == ')') {
        out->push_back(Mark(c == '(' ? Lexeme::Kind::kOpen : Lexeme::Kind::kClose, column_));
        Advance(1);
      } else if (c == '"') {
        Lexeme phrase;
        Status status = Phrase(pos_, column_, kAllFields, &phrase);
        if (!status.ok()) return status;
        out->push_back(phrase);
      } else {
        Status status = Word(out);
        if (!status.ok()) return status;
      }
    }
    out->push_back(Mark(Lexeme::Kind::kEnd, column_));
    return Status::OK();
  }

 private:
  // The size of the white space character at pos, or 0.
  size_t SpaceAt(size_t pos) const {
    size_t next = pos;
    return IsSpace(DecodeAt(text_, &next)) ? next - pos : 0;
  }

  bool EndsWord(size_t pos) const {
    if (pos == text_.size()) return true;
    char c = text_[pos];
    return c == '(' || c == ')' || c == '"' || SpaceAt(pos) > 0;
  }

  void Advance(size_t bytes) {
    for (size_t end = pos_ + bytes; pos_ < end; ++pos_) {
      if ((static_cast<uint8_t>(text_[pos_]) & 0xC0) != 0x80) ++column_;
    }
  }

  void SkipSpace() {
    while (pos_ < text_.size()) {
      size_t size = SpaceAt(pos_);
      if (size == 0) return;
      Advance(size);
    }
  }

  // A phrase whose opening quote is at pos_; the term as written starts at `begin`.
  Status Phrase(size_t begin, size_t column, uint8_t fields, Lexeme* out) {
    size_t quote_column = column_;
    size_t close = text_.find('"', pos_ + 1);
    if (close == std::string_view::npos) return ErrorAt(quote_column, "unclosed quote");
    *out = Lexeme{Lexeme::Kind::kTerm, column, text_.substr(pos_ + 1, close - pos_ - 1), fields,
                  text_.substr(begin, close + 1 - begin)};
    Advance(close + 1 - pos_);
    return Status::OK();
  }

  // A word at pos_: an operator, '-' and what it negates, or a term (field:value too).
  Status Word(std::vector<Lexeme>* out) {
    size_t begin = pos_;
    size_t column = column_;
    size_t end = begin;
    while (!EndsWord(end)) ++end;
    std::string_view word = text_.substr(begin, end - begin);
    if (word == "AND" || word == "OR" || word == "NOT") {
      Lexeme::Kind kind = word == "AND"  ? Lexeme::Kind::kAnd
                          : word == "OR" ? Lexeme::Kind::kOr
                                         : Lexeme::Kind::kNot;
      out->push_back(Mark(kind, column));
      Advance(word.size());
      return Status::OK();
    }
    if (NegatesWhatFollows(word, end)) {
      out->push_back(Mark(Lexeme::Kind::kNot, column));
      Advance(1);
      if (word.size() == 1) return Status::OK();  // a group or a phrase follows
      ++begin;
      ++column;
      word.remove_prefix(1);
    }
    return Term(begin, column, word, end, out);
  }

  // Whether `word` (ending at `end`) starts with a '-' that negates the primary right after
  // it: the rest of the word ("--x" is a word, as "--" is), a group or a phrase.
  bool NegatesWhatFollows(std::string_view word, size_t end) const {
    if (word.front() != '-') return false;
    if (word.size() > 1) return word[1] != '-';
    return end < text_.size() && (text_[end] == '(' || text_[end] == '"');
  }

  // The term `word` at [begin, end) of the query.
  Status Term(size_t begin, size_t column, std::string_view word, size_t end,
              std::vector<Lexeme>* out) {
    uint8_t fields = kAllFields;
    bool meta = false;
    MetaTerm::Kind meta_kind = MetaTerm::Kind::kFlag;
    size_t colon = word.find(':');
    if (colon != std::string_view::npos &&
        ((meta = ParseMetaName(word.substr(0, colon), &meta_kind)) ||
         ParseFieldName(word.substr(0, colon), &fields))) {
      std::string_view value = word.substr(colon + 1);
      if (value.empty()) {
        if (end < text_.size() && text_[end] == '"') {
          Advance(end - pos_);
          Lexeme phrase;
          Status status = Phrase(begin, column, fields, &phrase);
          phrase.meta = meta;
          phrase.meta_kind = meta_kind;
          if (status.ok()) out->push_back(phrase);
          return status;
        }
        return ErrorAt(
            column, "\"" + std::string(word) + "\" needs a word or a phrase right after the colon");
      }
      word = value;
    }
    Lexeme term{Lexeme::Kind::kTerm, column, word, fields, text_.substr(begin, end - begin)};
    term.meta = meta;
    term.meta_kind = meta_kind;
    out->push_back(term);
    Advance(end - pos_);
    return Status::OK();
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t column_ = 1;
};

const char* OperatorName(Lexeme::Kind kind) {
  switch (kind) {
    case Lexeme::Kind::kAnd:
      return "AND";
    case Lexeme::Kind::kOr:
      return "OR";
    default:
      return "NOT";
  }
}

// Recursive descent over the lexemes, one function per rule of the grammar.
class Parser {
 public:
  explicit Parser(std::vector<Lexeme> lexemes) : lexemes_(std::move(lexemes)) {}

  Status Parse(QueryNode* root) {
    if (Peek().kind == Lexeme::Kind::kEnd) return ErrorAt(1, "empty query");
    Status status = Or(root);
    if (status.ok() && Peek().kind == Lexeme::Kind::kClose) {
      return ErrorAt(Peek().column, "\")\" without a matching \"(\"");
    }
    return status;
  }

 private:
  const Lexeme& Peek() const { return lexemes_[next_]; }
  // The next lexeme, consumed (but the end stays).
  const Lexeme& Take() {
    const Lexeme& lexeme = lexemes_[next_];
    if (lexeme.kind != Lexeme::Kind::kEnd) ++next_;
    return lexeme;
  }

  bool StartsOperand(const Lexeme& lexeme) const {
    return lexeme.kind == Lexeme::Kind::kTerm || lexeme.kind == Lexeme::Kind::kOpen ||
           lexeme.kind == Lexeme::Kind::kNot;
  }

  // Consumes a binary operator, which must have an operand after it.
  Status TakeOperator() {
    const Lexeme& op = Take();
    if (StartsOperand(Peek())) return Status::OK();
    return ErrorAt(op.column, std::string(OperatorName(op.kind)) + " needs an operand after it");
  }

  // Makes `children` the node (one child stands for itself).
  static void Group(QueryNode::Type type, std::vector<QueryNode> children, QueryNode* out) {
    if (children.size() == 1) {
      *out = std::move(children.front());
      return;
    }
    *out = QueryNode();
    out->type = type;
    out->children = std::move(children);
  }

  Status Or(QueryNode* out) {
    std::vector<QueryNode> children(1);
    Status status = And(&children.back());
    while (status.ok() && Peek().kind == Lexeme::Kind::kOr) {
      status = TakeOperator();
      if (status.ok()) status = And(&children.emplace_back());
    }
    if (status.ok()) Group(QueryNode::Type::kOr, std::move(children), out);
    return status;
  }

  Status And(QueryNode* out) {
    std::vector<QueryNode> children(1);
    Status status = Unary(&children.back());
    while (status.ok() && (StartsOperand(Peek()) || Peek().kind == Lexeme::Kind::kAnd)) {
      if (Peek().kind == Lexeme::Kind::kAnd) status = TakeOperator();
      if (status.ok()) status = Unary(&children.emplace_back());
    }
    if (status.ok()) Group(QueryNode::Type::kAnd, std::move(children), out);
    return status;
  }

  Status Unary(QueryNode* out) {
    if (Peek().kind != Lexeme::Kind::kNot) return Primary(out);
    const Lexeme& op = Take();
    if (!StartsOperand(Peek())) return ErrorAt(op.column, "NOT needs an operand after it");
    *out = QueryNode();
    out->type = QueryNode::Type::kNot;
    return Unary(&out->children.emplace_back());
  }

  Status Primary(QueryNode* out) {
    const Lexeme& lexeme = Take();
    switch (lexeme.kind) {
      case Lexeme::Kind::kTerm:
        return Term(lexeme, out);
      case Lexeme::Kind::kOpen:
        return Parenthesised(lexeme, out);
      case Lexeme::Kind::kClose:
        return ErrorAt(lexeme.column, next_ >= 2 && lexemes_[next_ - 2].kind == Lexeme::Kind::kOpen
                                          ? "empty parentheses"
                                          : "\")\" without a matching \"(\"");
      case Lexeme::Kind::kAnd:
      case Lexeme::Kind::kOr:
        return ErrorAt(lexeme.column,
                       std::string(OperatorName(lexeme.kind)) + " needs an operand before it");
      default:  // kEnd: every caller checked for an operand first
        return ErrorAt(lexeme.column, "an operand is missing");
    }
  }

  Status Parenthesised(const Lexeme& open, QueryNode* out) {
    if (Peek().kind == Lexeme::Kind::kEnd) {
      return ErrorAt(open.column, "\"(\" without a matching \")\"");
    }
    Status status = Or(out);
    if (!status.ok()) return status;
    if (Take().kind != Lexeme::Kind::kClose) {
      return ErrorAt(open.column, "\"(\" without a matching \")\"");
    }
    return Status::OK();
  }

  static Status Term(const Lexeme& lexeme, QueryNode* out) {
    if (lexeme.meta) return Meta(lexeme, out);
    *out = QueryNode();
    out->fields = lexeme.fields;
    out->text = std::string(lexeme.written);
    for (Token& token : Tokenize(lexeme.value)) out->tokens.push_back(std::move(token.text));
    if (out->tokens.empty()) {
      bool quoted = out->text.back() == '"';
      return ErrorAt(lexeme.column, (quoted ? out->text : "\"" + out->text + "\"") +
                                        " has no letter or digit to search for");
    }
    return Status::OK();
  }

  // A metadata term: its value checked, names lower-cased, never tokenized.
  static Status Meta(const Lexeme& lexeme, QueryNode* out) {
    *out = QueryNode();
    out->type = QueryNode::Type::kMeta;
    out->text = std::string(lexeme.written);
    MetaTerm& meta = out->meta;
    meta.kind = lexeme.meta_kind;
    std::string value = AsciiLower(lexeme.value);
    std::string unknown = "\"" + out->text + "\": unknown " + MetaName(meta.kind) + " \"" +
                          std::string(lexeme.value) + "\" (to search for the text, quote it: \"" +
                          out->text + "\"; expected ";
    switch (meta.kind) {
      case MetaTerm::Kind::kFlag:
      case MetaTerm::Kind::kTag:
        if (value.empty()) {
          return ErrorAt(lexeme.column, "\"" + out->text + "\" needs a name (or * for any)");
        }
        meta.name = value == "*" ? "" : value;
        return Status::OK();
      case MetaTerm::Kind::kSeverity:
        if (ParseSeverity(value, &meta.severity)) return Status::OK();
        return ErrorAt(lexeme.column, unknown + "low, medium, high or critical)");
      case MetaTerm::Kind::kSampled:
        if (value == "sampled") return Status::OK();
        return ErrorAt(lexeme.column, unknown + "is:sampled)");
      case MetaTerm::Kind::kStatus: {
        ReviewStatus status;
        if (value == "unreviewed") return Status::OK();
        if (ParseReviewStatus(value, &status)) {
          meta.status = status;
          return Status::OK();
        }
        return ErrorAt(lexeme.column, unknown + "unreviewed, reviewed, escalated or closed)");
      }
    }
    return Status::Internal("query: unknown metadata term");
  }

  std::vector<Lexeme> lexemes_;
  size_t next_ = 0;
};

std::string MetaToString(const MetaTerm& meta) {
  std::string prefix = std::string(MetaName(meta.kind)) + ":";
  switch (meta.kind) {
    case MetaTerm::Kind::kFlag:
    case MetaTerm::Kind::kTag:
      return prefix + (meta.name.empty() ? "*" : "\"" + meta.name + "\"");
    case MetaTerm::Kind::kSeverity:
      return prefix + SeverityName(meta.severity);
    case MetaTerm::Kind::kSampled:
      return prefix + "sampled";
    case MetaTerm::Kind::kStatus:
      return prefix + (meta.status ? ReviewStatusName(*meta.status) : "unreviewed");
  }
  return prefix;
}

std::string FieldsPrefix(uint8_t fields) {
  if (fields == kAllFields) return "";
  std::string prefix;
  for (int f = 0; f < kFieldCount; ++f) {
    if (!(fields & FieldBit(f))) continue;
    if (!prefix.empty()) prefix += ',';
    prefix += kFieldNames[f];
  }
  return prefix + ":";
}

// ---------------------------------------------------------------------------------------
// Exact matching and snippets.

bool OccursIn(const std::vector<std::string>& value, const std::vector<std::string>& tokens) {
  return std::search(value.begin(), value.end(), tokens.begin(), tokens.end()) != value.end();
}

bool TermMatches(const QueryNode& term, const SearchDocument& doc) {
  for (int f = 0; f < kFieldCount; ++f) {
    if (!(term.fields & FieldBit(f))) continue;
    for (const std::vector<std::string>& value : doc.fields[f]) {
      if (OccursIn(value, term.tokens)) return true;
    }
  }
  return false;
}

void CollectPositiveTerms(const QueryNode& node, std::vector<const QueryNode*>* terms) {
  if (node.type == QueryNode::Type::kTerms) {
    terms->push_back(&node);
  } else if (node.type != QueryNode::Type::kNot) {
    for (const QueryNode& child : node.children) CollectPositiveTerms(child, terms);
  }
}

// The bytes of `value` where one of `terms` (those allowed in `field`) first occurs.
bool FirstOccurrence(std::string_view value, const std::vector<const QueryNode*>& terms,
                     uint8_t field, size_t* begin, size_t* end) {
  std::vector<Token> tokens = Tokenize(value);
  auto first = tokens.end();
  auto last = tokens.end();
  for (const QueryNode* term : terms) {
    if (!(term->fields & field) || term->tokens.empty()) continue;
    auto found = std::search(tokens.begin(), tokens.end(), term->tokens.begin(), term->tokens.end(),
                             [](const Token& t, const std::string& s) { return t.text == s; });
    if (found >= first) continue;
    first = found;
    last = found + static_cast<std::ptrdiff_t>(term->tokens.size() - 1);
  }
  if (first == tokens.end()) return false;
  *begin = first->begin;
  *end = last->end;
  return true;
}

// One character of a snippet: a span of the text, a space standing for a run of white
// space, or U+FFFD for invalid UTF-8.
struct Piece {
  enum class Kind { kText, kSpace, kInvalid };
  Kind kind;
  size_t begin;
  size_t end;
};

bool HasText(std::string_view value) {
  for (size_t pos = 0; pos < value.size();) {
    if (!IsSpace(DecodeAt(value, &pos))) return true;
  }
  return false;
}

// Where to start reading so that at least `count` characters (white space runs counting as
// one) come before `pos`.
size_t BackOver(std::string_view text, size_t pos, size_t count) {
  bool in_space = false;
  for (size_t seen = 0; pos > 0 && seen <= count;) {
    size_t before = pos;
    bool space = IsSpace(DecodeBefore(text, &before));
    if (!(space && in_space)) ++seen;
    in_space = space;
    pos = before;
  }
  return pos;
}

// Like BackOver, forwards: where to stop reading so that `count` characters follow `pos`.
size_t ForwardOver(std::string_view text, size_t pos, size_t count) {
  bool in_space = false;
  for (size_t seen = 0; pos < text.size() && seen <= count;) {
    bool space = IsSpace(DecodeAt(text, &pos));
    if (!(space && in_space)) ++seen;
    in_space = space;
  }
  return pos;
}

// The characters of text[begin, end), white space collapsed; *at is set to the index of
// the piece at byte `mark`.
std::vector<Piece> Collapse(std::string_view text, size_t begin, size_t end, size_t mark,
                            size_t* at) {
  std::vector<Piece> pieces;
  *at = 0;
  for (size_t pos = begin; pos < end;) {
    if (pos <= mark) *at = pieces.size();
    size_t start = pos;
    UChar32 c = DecodeAt(text, &pos);
    if (c < 0) {
      pieces.push_back(Piece{Piece::Kind::kInvalid, start, pos});
    } else if (!IsSpace(c)) {
      pieces.push_back(Piece{Piece::Kind::kText, start, pos});
    } else if (pieces.empty() || pieces.back().kind != Piece::Kind::kSpace) {
      pieces.push_back(Piece{Piece::Kind::kSpace, start, pos});
    }
  }
  if (end <= mark) *at = pieces.size();
  return pieces;
}

constexpr char kEllipsis[] = "\u2026";

// The characters of a value around a match, white space collapsed, and the part to show.
class Excerpt {
 public:
  // Reads enough of `value` around its bytes [begin, end) for max_chars characters.
  Excerpt(std::string_view value, size_t begin, size_t end, size_t max_chars)
      : value_(value),
        from_(BackOver(value, begin, max_chars)),
        to_(ForwardOver(value, end, max_chars)),
        pieces_(Collapse(value, from_, to_, begin, &match_first_)) {
    Collapse(value, begin, end, end, &match_size_);
    // White space that begins or ends the value is not shown.
    if (from_ == 0 && !pieces_.empty() && pieces_.front().kind == Piece::Kind::kSpace) {
      pieces_.erase(pieces_.begin());
      match_first_ -= std::min<size_t>(match_first_, 1);
    }
    if (to_ == value.size() && !pieces_.empty() && pieces_.back().kind == Piece::Kind::kSpace) {
      pieces_.pop_back();
    }
    Choose(max_chars);
  }

  std::string Render() const {
    std::string out = CutBefore() && ellipses_ ? kEllipsis : "";
    size_t first = first_;
    size_t last = last_;
    while (first < last && pieces_[first].kind == Piece::Kind::kSpace) ++first;
    while (last > first && pieces_[last - 1].kind == Piece::Kind::kSpace) --last;
    for (size_t i = first; i < last; ++i) {
      const Piece& piece = pieces_[i];
      if (piece.kind == Piece::Kind::kText) {
        out.append(value_.substr(piece.begin, piece.end - piece.begin));
      } else {
        out += piece.kind == Piece::Kind::kSpace ? " " : "\xEF\xBF\xBD";
      }
    }
    if (CutAfter() && ellipses_) out += kEllipsis;
    return out;
  }

 private:
  bool CutBefore() const { return from_ > 0 || first_ > 0; }
  bool CutAfter() const { return to_ < value_.size() || last_ < pieces_.size(); }

  // The window of at most max_chars characters, a "…" for each cut included (when there
  // is room for them: max_chars > 2).
  void Choose(size_t max_chars) {
    Place(max_chars);
    if (!(CutBefore() || CutAfter()) || max_chars <= 2) return;
    ellipses_ = true;
    Place(max_chars - 1);
    if (CutBefore() && CutAfter()) Place(max_chars - 2);
  }

  // The window [first_, last_) of `size` characters: the match with as much context before
  // as after it, the side with more text getting what the other lacks.
  void Place(size_t size) {
    size_t lead = match_size_ >= size ? 0 : (size - match_size_) / 2;
    first_ = match_first_ - std::min(match_first_, lead);
    last_ = std::min(pieces_.size(), first_ + size);
    first_ = last_ - std::min(last_, size);
  }

  std::string_view value_;
  size_t from_;  // the bytes read: [from_, to_)
  size_t to_;
  size_t match_first_ = 0;  // the match in pieces_
  size_t match_size_ = 0;
  std::vector<Piece> pieces_;
  size_t first_ = 0;
  size_t last_ = 0;
  bool ellipses_ = false;
};

// ---------------------------------------------------------------------------------------
// Candidates from postings.

using Seqs = std::vector<uint64_t>;

// Merging is linear; when one list is far shorter, looking its elements up in the other is
// faster (a rare word AND a common one).
bool LookUpRatherThanMerge(const Seqs& small, const Seqs& large) {
  return small.size() * 16 < large.size();
}

Seqs Intersect(const Seqs& a, const Seqs& b) {
  const Seqs& small = a.size() <= b.size() ? a : b;
  const Seqs& large = a.size() <= b.size() ? b : a;
  Seqs out;
  if (LookUpRatherThanMerge(small, large)) {
    auto from = large.begin();
    for (uint64_t seq : small) {
      from = std::lower_bound(from, large.end(), seq);
      if (from == large.end()) break;
      if (*from == seq) out.push_back(seq);
    }
    return out;
  }
  out.reserve(small.size());
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// a without b.
Seqs Subtract(const Seqs& a, const Seqs& b) {
  Seqs out;
  out.reserve(a.size());
  if (LookUpRatherThanMerge(a, b)) {
    auto from = b.begin();
    for (uint64_t seq : a) {
      from = std::lower_bound(from, b.end(), seq);
      if (from == b.end() || *from != seq) out.push_back(seq);
    }
    return out;
  }
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

Seqs Unite(const Seqs& a, const Seqs& b) {
  Seqs out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

SeqSet Complement(SeqSet set) {
  set.complement = !set.complement;
  return set;
}

SeqSet Everything() { return SeqSet{true, {}}; }

SeqSet Both(const SeqSet& a, const SeqSet& b) {
  if (!a.complement && !b.complement) return SeqSet{false, Intersect(a.seqs, b.seqs)};
  if (a.complement && b.complement) return SeqSet{true, Unite(a.seqs, b.seqs)};
  const SeqSet& listed = a.complement ? b : a;
  const SeqSet& excluded = a.complement ? a : b;
  return SeqSet{false, Subtract(listed.seqs, excluded.seqs)};
}

// The intersection of `sets`: the listed ones smallest first, so that the running result
// shrinks early, then the complements (each removes its list).
SeqSet All(std::vector<SeqSet> sets) {
  std::sort(sets.begin(), sets.end(), [](const SeqSet& a, const SeqSet& b) {
    return std::make_pair(a.complement, a.seqs.size()) <
           std::make_pair(b.complement, b.seqs.size());
  });
  if (sets.empty()) return Everything();
  SeqSet result = std::move(sets.front());
  for (size_t i = 1; i < sets.size(); ++i) result = Both(result, sets[i]);
  return result;
}

// The union, by De Morgan: what is in none of the sets is in all of their complements.
SeqSet Any(std::vector<SeqSet> sets) {
  for (SeqSet& set : sets) set = Complement(std::move(set));
  return Complement(All(std::move(sets)));
}

class Evaluator {
 public:
  explicit Evaluator(PostingSource* source) : source_(source) {}

  // The bounds of the text terms evaluated so far, in order.
  std::vector<std::pair<SeqSet, SeqSet>> TakeTermBounds() { return std::move(term_bounds_); }

  Status Evaluate(const QueryNode& node, Candidates* out) {
    switch (node.type) {
      case QueryNode::Type::kTerms:
        return Terms(node, out);
      case QueryNode::Type::kMeta:
        return Meta(node, out);
      case QueryNode::Type::kNot:
        return Not(node, out);
      case QueryNode::Type::kAnd:
        return Combine(node.children, /*all=*/true, out);
      case QueryNode::Type::kOr:
        return Combine(node.children, /*all=*/false, out);
    }
    return Status::Internal("query: unknown node type");
  }

 private:
  Status Terms(const QueryNode& node, Candidates* out) {
    std::vector<SeqSet> per_token;
    for (const std::string& token : node.tokens) {
      const std::vector<Posting>* postings = nullptr;
      Status status = PostingsOf(token, &postings);
      if (!status.ok()) return status;
      SeqSet& set = per_token.emplace_back();
      for (const Posting& posting : *postings) {
        if (posting.fields & node.fields) set.seqs.push_back(posting.seq);
      }
    }
    out->upper = All(std::move(per_token));
    out->lower = node.tokens.size() == 1 ? out->upper : SeqSet();
    term_bounds_.emplace_back(out->upper, out->lower);
    return Status::OK();
  }

  // Exact when the source knows the term's messages; else no bound at all.
  Status Meta(const QueryNode& node, Candidates* out) {
    bool known = false;
    SeqSet set;
    Status status = source_->MetaMessages(node.meta, &known, &set);
    if (!status.ok()) return status;
    out->upper = known ? set : Everything();
    out->lower = known ? std::move(set) : SeqSet();
    return Status::OK();
  }

  // NOT x holds where x does not: surely outside x's upper set, possibly outside its lower
  // set. (Its children are taken as one OR, as Matches does.)
  Status Not(const QueryNode& node, Candidates* out) {
    Candidates operand;
    Status status = Combine(node.children, /*all=*/false, &operand);
    if (!status.ok()) return status;
    out->upper = Complement(std::move(operand.lower));
    out->lower = Complement(std::move(operand.upper));
    return Status::OK();
  }

  // The AND (`all`) or the OR of `children`: bounds combine as the sets do.
  Status Combine(const std::vector<QueryNode>& children, bool all, Candidates* out) {
    std::vector<SeqSet> uppers;
    std::vector<SeqSet> lowers;
    for (const QueryNode& child : children) {
      Candidates candidates;
      Status status = Evaluate(child, &candidates);
      if (!status.ok()) return status;
      uppers.push_back(std::move(candidates.upper));
      lowers.push_back(std::move(candidates.lower));
    }
    out->upper = all ? All(std::move(uppers)) : Any(std::move(uppers));
    out->lower = all ? All(std::move(lowers)) : Any(std::move(lowers));
    return Status::OK();
  }

  // The postings of `token`, asked of the source once per evaluation.
  Status PostingsOf(const std::string& token, const std::vector<Posting>** out) {
    auto cached = cache_.find(token);
    if (cached == cache_.end()) {
      std::vector<Posting> postings;
      Status status = source_->Postings(token, &postings);
      if (!status.ok()) return status;
      // The set algebra relies on the order; a broken index must not give wrong answers.
      if (std::adjacent_find(postings.begin(), postings.end(),
                             [](const Posting& a, const Posting& b) { return a.seq >= b.seq; }) !=
          postings.end()) {
        return Status::Corruption("search: the postings of a token are not in seq order");
      }
      cached = cache_.emplace(token, std::move(postings)).first;
    }
    *out = &cached->second;
    return Status::OK();
  }

  PostingSource* source_;
  std::unordered_map<std::string, std::vector<Posting>> cache_;
  std::vector<std::pair<SeqSet, SeqSet>> term_bounds_;
};

// Decide over one node; *next_term counts the text terms met, in the order they are written.
MatchDecision DecideNode(const QueryNode& node, const Candidates* candidates, uint64_t seq,
                         const MessageFacts& facts, size_t* next_term) {
  auto children = [&](MatchDecision start, bool all) {
    MatchDecision result = start;
    // Every child is visited, so that the text terms after it keep their numbers.
    for (const QueryNode& child : node.children) {
      MatchDecision d = DecideNode(child, candidates, seq, facts, next_term);
      result = all ? std::min(result, d) : std::max(result, d);
    }
    return result;
  };
  switch (node.type) {
    case QueryNode::Type::kTerms: {
      size_t i = (*next_term)++;
      if (candidates == nullptr || i >= candidates->terms.size()) return MatchDecision::kMaybe;
      const auto& [upper, lower] = candidates->terms[i];
      if (lower.Contains(seq)) return MatchDecision::kYes;
      return upper.Contains(seq) ? MatchDecision::kMaybe : MatchDecision::kNo;
    }
    case QueryNode::Type::kMeta:
      return MetaMatches(node.meta, facts) ? MatchDecision::kYes : MatchDecision::kNo;
    case QueryNode::Type::kAnd:
      return children(MatchDecision::kYes, /*all=*/true);
    case QueryNode::Type::kOr:
      return children(MatchDecision::kNo, /*all=*/false);
    case QueryNode::Type::kNot: {
      MatchDecision any = children(MatchDecision::kNo, /*all=*/false);
      return any == MatchDecision::kMaybe
                 ? any
                 : (any == MatchDecision::kYes ? MatchDecision::kNo : MatchDecision::kYes);
    }
  }
  return MatchDecision::kMaybe;
}

}  // namespace

const char* FieldName(int field_number) {
  return field_number >= 0 && field_number < kFieldCount ? kFieldNames[field_number] : "";
}

bool ParseFieldName(std::string_view name, uint8_t* field) {
  for (int f = 0; f < kFieldCount; ++f) {
    if (EqualsIgnoringAsciiCase(name, kFieldNames[f])) {
      *field = FieldBit(f);
      return true;
    }
  }
  return false;
}

Status ParseQuery(std::string_view text, QueryNode* root) {
  std::vector<Lexeme> lexemes;
  Status status = Lexer(text).Run(&lexemes);
  if (!status.ok()) return status;
  return Parser(std::move(lexemes)).Parse(root);
}

std::string QueryToString(const QueryNode& node) {
  if (node.type == QueryNode::Type::kMeta) return MetaToString(node.meta);
  if (node.type == QueryNode::Type::kTerms) {
    std::string out = FieldsPrefix(node.fields) + "\"";
    for (size_t i = 0; i < node.tokens.size(); ++i) {
      if (i > 0) out += ' ';
      out += node.tokens[i];
    }
    return out + "\"";
  }
  std::string out = node.type == QueryNode::Type::kAnd  ? "(AND"
                    : node.type == QueryNode::Type::kOr ? "(OR"
                                                        : "(NOT";
  for (const QueryNode& child : node.children) out += " " + QueryToString(child);
  return out + ")";
}

SearchDocument BuildDocument(const ExtractedText& text, const std::vector<std::string>& mail_from,
                             const std::vector<std::string>& rcpt_to) {
  const std::vector<std::string>* sources[kFieldCount][2] = {
      {&text.from, &mail_from}, {&text.to, &rcpt_to},        {&text.subject, nullptr},
      {&text.body, nullptr},    {&text.attachment, nullptr}, {&text.message_id, nullptr}};
  SearchDocument doc;
  for (int f = 0; f < kFieldCount; ++f) {
    for (const std::vector<std::string>* values : sources[f]) {
      if (values == nullptr) continue;
      for (const std::string& value : *values) {
        std::vector<Token> tokens = Tokenize(value);
        if (tokens.empty()) continue;  // nothing to match: no need to keep it
        std::vector<std::string>& texts = doc.fields[f].emplace_back();
        texts.reserve(tokens.size());
        for (Token& token : tokens) texts.push_back(std::move(token.text));
      }
    }
  }
  return doc;
}

bool Matches(const QueryNode& query, const SearchDocument& doc) {
  auto matches = [&doc](const QueryNode& child) { return Matches(child, doc); };
  switch (query.type) {
    case QueryNode::Type::kTerms:
      return TermMatches(query, doc);
    case QueryNode::Type::kMeta:
      return MetaMatches(query.meta, doc.facts);
    case QueryNode::Type::kAnd:
      return std::all_of(query.children.begin(), query.children.end(), matches);
    case QueryNode::Type::kOr:
      return std::any_of(query.children.begin(), query.children.end(), matches);
    case QueryNode::Type::kNot:
      return std::none_of(query.children.begin(), query.children.end(), matches);
  }
  return false;
}

std::string Snippet(const QueryNode& query, const ExtractedText& text, size_t max_chars) {
  std::vector<const QueryNode*> terms;
  CollectPositiveTerms(query, &terms);
  const std::pair<uint8_t, const std::vector<std::string>*> places[] = {
      {kFieldBody, &text.body}, {kFieldSubject, &text.subject}};
  for (const auto& [field, values] : places) {
    for (const std::string& value : *values) {
      size_t begin = 0;
      size_t end = 0;
      if (FirstOccurrence(value, terms, field, &begin, &end)) {
        return Excerpt(value, begin, end, max_chars).Render();
      }
    }
  }
  for (const auto& place : places) {
    for (const std::string& value : *place.second) {
      if (HasText(value)) return Excerpt(value, 0, 0, max_chars).Render();
    }
  }
  return "";
}

bool SeqSet::Contains(uint64_t seq) const {
  return std::binary_search(seqs.begin(), seqs.end(), seq) != complement;
}

Status PostingSource::MetaMessages(const MetaTerm&, bool* known, SeqSet*) {
  *known = false;
  return Status::OK();
}

Status EvaluateCandidates(const QueryNode& query, PostingSource* source, Candidates* out) {
  Candidates candidates;
  Evaluator evaluator(source);
  Status status = evaluator.Evaluate(query, &candidates);
  candidates.terms = evaluator.TakeTermBounds();
  if (status.ok()) *out = std::move(candidates);
  return status;
}

MatchDecision Decide(const QueryNode& query, const Candidates* candidates, uint64_t seq,
                     const MessageFacts& facts) {
  size_t next_term = 0;
  return DecideNode(query, candidates, seq, facts, &next_term);
}

bool HasMetaTerm(const QueryNode& query, std::initializer_list<MetaTerm::Kind> kinds) {
  if (query.type == QueryNode::Type::kMeta) {
    return std::find(kinds.begin(), kinds.end(), query.meta.kind) != kinds.end();
  }
  return std::any_of(query.children.begin(), query.children.end(),
                     [&](const QueryNode& child) { return HasMetaTerm(child, kinds); });
}

MessageFacts FactsOf(const MessageEntry& message, const MessageReview* review) {
  MessageFacts facts;
  facts.flags = message.flags;
  facts.sampled = message.sampled;
  if (review != nullptr) {
    facts.status = review->status;
    facts.tags = review->tags;
  }
  return facts;
}

bool MetaMatches(const MetaTerm& term, const MessageFacts& facts) {
  switch (term.kind) {
    case MetaTerm::Kind::kFlag:
      return std::any_of(facts.flags.begin(), facts.flags.end(), [&](const LexiconHit& hit) {
        return term.name.empty() || EqualsIgnoringAsciiCase(hit.lexicon, term.name);
      });
    case MetaTerm::Kind::kSeverity:
      return std::any_of(facts.flags.begin(), facts.flags.end(),
                         [&](const LexiconHit& hit) { return hit.severity >= term.severity; });
    case MetaTerm::Kind::kSampled:
      return facts.sampled;
    case MetaTerm::Kind::kTag:
      return std::any_of(facts.tags.begin(), facts.tags.end(), [&](const std::string& tag) {
        return term.name.empty() || EqualsIgnoringAsciiCase(tag, term.name);
      });
    case MetaTerm::Kind::kStatus:
      return facts.status == term.status;
  }
  return false;
}

}  // namespace mailjournal
