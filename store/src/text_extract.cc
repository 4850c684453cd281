// Text extraction with GMime 3 (MIME structure, transfer encodings, RFC 2047/2231), iconv
// (charsets) and libxml2 (HTML). See text_extract.h for which text lands in which field.
//
// Thread-safety: every call builds its own GMimeParserOptions, parser, streams, iconv
// descriptors and libxml2 documents and frees them before returning; the only process-wide
// state is the libraries' one-time initialisation (InitLibrariesOnce) and GMime's charset
// alias table, which GMime guards with a lock.
#include "mailjournal/text_extract.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailjournal {
namespace {

// Charsets tried, in order, for 8-bit text that declares none (bodies and raw 8-bit
// headers) or declares one iconv does not know: the first that reads it without an invalid
// byte wins, else the one with the fewest. GB18030 is a superset of GB2312 and GBK.
constexpr const char* kFallbackCharsets[] = {"UTF-8", "GB18030", "BIG5", "WINDOWS-1252"};

// MIME nesting (multiparts and forwarded messages) deeper than this is not read: no
// legitimate mail comes close, and every level costs stack.
constexpr int kMaxDepth = 50;

// Raw part bytes read per byte of body text still allowed: generous enough for markup-heavy
// HTML and for UTF-16, so that the cap only spares decoding megabytes that would be cut.
constexpr size_t kInputBytesPerTextByte = 8;
constexpr size_t kMinInputBytes = 4096;

// Encoded forwarded messages are decoded and parsed again; all of them together may be this
// many times the size of the message. Quoted-printable does not shrink, so nesting them
// would otherwise cost a full parse per level.
constexpr size_t kMaxReparsedBytesPerMessageByte = 4;

// Enough lines for a log; a hostile message could otherwise produce one per part.
constexpr size_t kMaxProblems = 64;

// Warning items (header names, sometimes values) quoted in problems are cut to this.
constexpr size_t kMaxQuotedBytes = 80;

constexpr char kReplacementCharacter[] = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

void InitLibrariesOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_mime_init();
    xmlInitParser();
  });
}

struct GObjectUnref {
  void operator()(gpointer object) const { g_object_unref(object); }
};
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

struct ParserOptionsFree {
  void operator()(GMimeParserOptions* options) const { g_mime_parser_options_free(options); }
};

struct XmlDocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};

struct IconvClose {
  void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
};

// ---------------------------------------------------------------------------------------
// UTF-8

// Whether `bytes` is UTF-8. NUL bytes are allowed here (GLib's validator refuses them) so
// that a text with a stray NUL is not taken for another charset; EnsureUtf8 replaces them.
bool IsUtf8(std::string_view bytes) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  const char* end = nullptr;
  while (!g_utf8_validate_len(p, left, &end)) {
    if (*end != '\0') return false;
    left -= end - p + 1;
    p = end + 1;
  }
  return true;
}

// Replaces invalid sequences (and NULs) with U+FFFD.
void EnsureUtf8(std::string* text) {
  if (g_utf8_validate_len(text->data(), text->size(), nullptr)) return;
  gchar* valid = g_utf8_make_valid(text->data(), text->size());
  text->assign(valid);
  g_free(valid);
}

std::string Utf8(const char* text) {
  std::string s = text == nullptr ? std::string() : std::string(text);
  EnsureUtf8(&s);
  return s;
}

// Cuts valid UTF-8 to at most `max_bytes` without splitting a character.
void TruncateUtf8(std::string* text, size_t max_bytes) {
  if (text->size() <= max_bytes) return;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>((*text)[cut]) & 0xC0) == 0x80) --cut;
  text->resize(cut);
}

// ---------------------------------------------------------------------------------------
// Charsets

struct Converted {
  std::string text;
  size_t invalid_bytes = 0;
};

// `bytes` in the iconv charset `charset`, as UTF-8; false when iconv does not know it.
// Invalid bytes become U+FFFD, one each, and are counted. A multibyte sequence cut off by
// the end of the bytes (a truncated part, or our read cap) is dropped: it holds no text.
// This thread's converters to UTF-8, by charset, kept open: opening one costs more than
// most conversions (glibc loads the charset's module, and unloads it when the last
// converter of that charset closes, also GMime's own), about half of the extraction time
// of mixed-charset mail. Each is reset before use.
iconv_t ConverterFrom(const char* charset) {
  thread_local std::map<std::string, std::unique_ptr<void, IconvClose>> converters;
  auto it = converters.find(charset);
  if (it == converters.end()) {
    iconv_t cd = iconv_open("UTF-8", charset);
    if (cd == reinterpret_cast<iconv_t>(-1)) return cd;
    if (converters.size() >= 64) converters.clear();  // bounded, whatever the mail declares
    it = converters.emplace(charset, std::unique_ptr<void, IconvClose>(cd)).first;
  }
  iconv(static_cast<iconv_t>(it->second.get()), nullptr, nullptr, nullptr, nullptr);
  return static_cast<iconv_t>(it->second.get());
}

bool ConvertToUtf8(std::string_view bytes, const char* charset, Converted* out) {
  iconv_t raw_cd = ConverterFrom(charset);
  if (raw_cd == reinterpret_cast<iconv_t>(-1)) return false;
  std::string& text = out->text;
  // Two-byte CJK characters take three bytes in UTF-8; E2BIG grows the buffer for the rest
  // (Latin-1 letters double).
  text.resize(bytes.size() + bytes.size() / 2 + 16);
  out->invalid_bytes = 0;
  char* in = const_cast<char*>(bytes.data());  // iconv's prototype; it does not write
  size_t in_left = bytes.size();
  size_t used = 0;
  while (in_left > 0) {
    char* dest = text.data() + used;
    size_t dest_left = text.size() - used;
    size_t rc = iconv(raw_cd, &in, &in_left, &dest, &dest_left);
    used = dest - text.data();
    if (rc != static_cast<size_t>(-1) || errno == EINVAL) break;
    if (errno == E2BIG) {
      text.resize(text.size() * 2);
      continue;
    }
    // EILSEQ: not a character in this charset.
    if (text.size() - used < sizeof(kReplacementCharacter)) text.resize(text.size() * 2);
    std::memcpy(text.data() + used, kReplacementCharacter, sizeof(kReplacementCharacter) - 1);
    used += sizeof(kReplacementCharacter) - 1;
    ++in;
    --in_left;
    ++out->invalid_bytes;
  }
  text.resize(used);
  return true;
}

bool EqualsAnyIgnoringCase(const char* name, std::initializer_list<const char*> names) {
  for (const char* candidate : names) {
    if (g_ascii_strcasecmp(name, candidate) == 0) return true;
  }
  return false;
}

// Charset labels that mean "ASCII": in practice the label of mailers that did not look, so
// the bytes are read as if no charset were declared (8-bit ones are guessed).
bool IsAsciiLabel(const char* charset) {
  return EqualsAnyIgnoringCase(charset, {"us-ascii", "ascii", "ansi_x3.4-1968", "us"});
}

// The iconv name to read a declared charset with. Labels are widened to the superset that
// senders actually use under them, as browsers do: GB2312 mail routinely holds GBK and
// GB18030 characters, and "ISO-8859-1" text Windows-1252 quotes and dashes (C1 controls
// are never meant). Anything else goes through GMime's alias table (e.g. ks_c_5601-1987).
// Returns nullptr for a name that must not reach iconv_open ("//" options).
const char* IconvCharsetName(const char* charset) {
  if (std::strchr(charset, '/') != nullptr) return nullptr;
  if (EqualsAnyIgnoringCase(charset, {"gb2312", "gbk", "cp936", "ms936", "windows-936", "x-gbk",
                                      "euc-cn", "x-euc-cn", "csgb2312", "gb_2312-80", "gb18030"})) {
    return "GB18030";
  }
  if (EqualsAnyIgnoringCase(charset,
                            {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1", "cp819"})) {
    return "WINDOWS-1252";
  }
  return g_mime_charset_iconv_name(charset);
}

struct Guessed {
  std::string text;
  const char* charset;
};

// Text whose charset is not declared (or not known): UTF-8 if it is UTF-8, else the
// fallback charset that reads it best.
Guessed GuessCharset(std::string bytes) {
  if (IsUtf8(bytes)) return {std::move(bytes), kFallbackCharsets[0]};
  Converted best;
  const char* best_charset = nullptr;
  for (const char* charset : kFallbackCharsets) {
    Converted attempt;
    if (!ConvertToUtf8(bytes, charset, &attempt)) continue;
    if (best_charset == nullptr || attempt.invalid_bytes < best.invalid_bytes) {
      best = std::move(attempt);
      best_charset = charset;
      if (best.invalid_bytes == 0) break;
    }
  }
  if (best_charset == nullptr) {  // an iconv without any of them: keep what is valid
    EnsureUtf8(&bytes);
    return {std::move(bytes), "UTF-8 with invalid bytes replaced"};
  }
  return {std::move(best.text), best_charset};
}

// ---------------------------------------------------------------------------------------
// HTML

bool IsOneOf(const xmlChar* name, std::initializer_list<const char*> names) {
  const char* n = reinterpret_cast<const char*>(name);
  for (const char* candidate : names) {
    if (std::strcmp(n, candidate) == 0) return true;
  }
  return false;
}

// Elements whose content is not text a reader sees.
bool IsSkippedElement(const xmlNode* node) {
  return IsOneOf(node->name, {"script", "style", "template"});
}

// Elements that flow inside a line: "<b>in</b>line" is one word. Every other element
// (paragraphs, divs, table cells, list items, br, ...) separates words, so that
// "<td>foo</td><td>bar</td>" does not become "foobar".
bool IsInlineElement(const xmlNode* node) {
  return IsOneOf(node->name,
                 {"a",      "abbr",   "b",   "bdi", "bdo",  "big", "cite", "code", "data",  "dfn",
                  "em",     "font",   "i",   "kbd", "mark", "q",   "s",    "samp", "small", "span",
                  "strike", "strong", "sub", "sup", "time", "tt",  "u",    "var"});
}

// Accumulates the text of an HTML tree: runs of HTML white space become one space, element
// boundaries that separate words one newline.
class HtmlTextBuilder {
 public:
  void AddTree(const xmlNode* top) {
    const xmlNode* node = top;
    while (node != nullptr) {
      bool descend = false;
      if (node->type == XML_ELEMENT_NODE) {
        if (!IsSkippedElement(node)) {
          if (!IsInlineElement(node)) Separate('\n');
          descend = node->children != nullptr;
        }
      } else if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
        AddText(reinterpret_cast<const char*>(node->content));
      }
      if (descend) {
        node = node->children;
        continue;
      }
      // Climb to the next sibling, closing the elements left on the way.
      while (node != top && node->next == nullptr) {
        node = node->parent;
        if (!IsInlineElement(node)) Separate('\n');
      }
      node = node == top ? nullptr : node->next;
    }
  }

  std::string Take() { return std::move(text_); }

 private:
  static bool IsHtmlSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
  }

  // A newline outranks a space; nothing is written before the first word.
  void Separate(char separator) {
    if (pending_ != '\n') pending_ = separator;
  }

  void AddText(const char* p) {
    if (p == nullptr) return;
    while (*p != '\0') {
      if (IsHtmlSpace(*p)) {
        Separate(' ');
        ++p;
        continue;
      }
      const char* word = p;
      while (*p != '\0' && !IsHtmlSpace(*p)) ++p;
      if (pending_ != 0 && !text_.empty()) text_ += pending_;
      pending_ = 0;
      text_.append(word, p - word);
    }
  }

  std::string text_;
  char pending_ = 0;
};

// The text of an HTML document given in UTF-8 (a <meta> charset in it is ignored: the bytes
// were already converted from the MIME charset).
std::string HtmlToText(std::string_view html) {
  if (html.empty()) return std::string();
  int size = static_cast<int>(std::min<size_t>(html.size(), INT_MAX));
  std::unique_ptr<xmlDoc, XmlDocFree> doc(htmlReadMemory(
      html.data(), size, nullptr, "UTF-8",
      HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET));
  if (doc == nullptr) return std::string();
  HtmlTextBuilder builder;
  for (const xmlNode* node = doc->children; node != nullptr; node = node->next) {
    builder.AddTree(node);
  }
  return builder.Take();
}

// ---------------------------------------------------------------------------------------
// RFC 2047: adjacent base64 encoded words (GMime issue #133)
//
// GMime decodes a run of adjacent encoded words (only white space between them) that share
// a charset and the base64 encoding as one text, carrying the base64 decoder state from
// word to word, so that a character split across two words (against RFC 2047, but some
// mailers split by bytes) is put together again. GMime 3.2.13, which Debian 12 ships, stops
// decoding for good at base64 padding: every word after a padded one in such a run is
// dropped, "=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=" decodes to "Hello". Mailers split
// long subjects and display names into several words, most of which end in padding (a GB2312
// character is two bytes, UTF-8 text mixing Chinese and ASCII any number), so words went
// missing from the index. Fixed in GMime 3.2.14 (https://github.com/jstedfast/gmime/issues/133).
//
// The workaround: such a run in a raw header value is replaced by the one base64 word GMime
// meant to decode. Its bytes are decoded by GMime's base64 decoder with the state carried
// from word to word as GMime does, but started afresh after padding, and encoded again by
// GMime. GMime then decodes the header as usual: charsets, fallback charsets and the text
// around the run stay its work. Runs without padding before their last word, quoted-
// printable words and malformed words are left to GMime as they are; a value without "=?"
// is not even scanned. A repaired header costs a second decoding by GMime (the first one was
// done while parsing).

bool IsLinearWhiteSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

struct EncodedWord {
  size_t begin = 0;          // of "=?"
  size_t end = 0;            // past "?="
  std::string_view charset;  // as labelled, with any RFC 2231 language ("UTF-8*en")
  char encoding = 0;         // 'B' or 'Q'
  std::string_view text;     // the encoded text
};

// The encoded word at `pos` of `value`, read the way GMime's lenient tokenizer reads one: a
// charset, B or Q, then the text up to the first "?=" (across white space). The charset must
// be printable ASCII; GMime is laxer, and a word not read here is simply left to it.
bool ReadEncodedWord(std::string_view value, size_t pos, EncodedWord* word) {
  if (value.compare(pos, 2, "=?") != 0) return false;
  size_t charset_begin = pos + 2;
  size_t question = charset_begin;
  for (; question < value.size() && value[question] != '?'; ++question) {
    unsigned char c = value[question];
    if (c <= ' ' || c >= 0x7F) return false;
  }
  if (question == charset_begin || question + 2 >= value.size() || value[question + 2] != '?') {
    return false;
  }
  char encoding = g_ascii_toupper(value[question + 1]);
  if (encoding != 'B' && encoding != 'Q') return false;
  size_t text_begin = question + 3;
  size_t close = value.find("?=", text_begin);
  if (close == std::string_view::npos) return false;
  word->begin = pos;
  word->end = close + 2;
  word->charset = value.substr(charset_begin, question - charset_begin);
  word->encoding = encoding;
  word->text = value.substr(text_begin, close - text_begin);
  return true;
}

// Whether GMime takes two charset labels for one charset: it compares their iconv names,
// without the language.
bool SameWordCharset(std::string_view a, std::string_view b) {
  std::string name_a(a.substr(0, a.find('*')));
  std::string name_b(b.substr(0, b.find('*')));
  // g_mime_charset_iconv_name returns a name from GMime's cache; copy the first before the
  // second call.
  const char* iconv_a = g_mime_charset_iconv_name(name_a.c_str());
  std::string copy_a = iconv_a != nullptr ? iconv_a : name_a;
  const char* iconv_b = g_mime_charset_iconv_name(name_b.c_str());
  return g_ascii_strcasecmp(copy_a.c_str(), iconv_b != nullptr ? iconv_b : name_b.c_str()) == 0;
}

// The bytes of a run of base64 words, decoded by GMime's decoder with its state carried from
// word to word as GMime does, except that it starts afresh after padding; true when that
// happened, i.e. when GMime 3.2.13 drops words of this run.
bool DecodeBase64Run(const std::vector<std::string_view>& texts, std::string* bytes) {
  bool restarted = false;
  int state = 0;
  guint32 save = 0;
  for (std::string_view text : texts) {
    if (state < 0) {  // padding seen: GMime 3.2.13 would decode nothing more
      state = 0;
      save = 0;
      restarted = true;
    }
    size_t used = bytes->size();
    bytes->resize(used + text.size() + 3);  // the decoder never writes more
    used += g_mime_encoding_base64_decode_step(
        reinterpret_cast<const unsigned char*>(text.data()), text.size(),
        reinterpret_cast<unsigned char*>(bytes->data() + used), &state, &save);
    bytes->resize(used);
  }
  return restarted;
}

std::string EncodeBase64(std::string_view bytes) {
  std::string text(GMIME_BASE64_ENCODE_LEN(bytes.size()), '\0');
  int state = 0;
  guint32 save = 0;
  text.resize(g_mime_encoding_base64_encode_close(
      reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
      reinterpret_cast<unsigned char*>(text.data()), &state, &save));
  // GMime's encoder breaks lines for bodies; an encoded word is one line.
  text.erase(std::remove(text.begin(), text.end(), '\n'), text.end());
  return text;
}

// `raw` (a raw header value) with each run of base64 words that GMime 3.2.13 cuts short
// replaced by one word of the same bytes and charset label; false when there is none.
bool RepairAdjacentBase64Words(std::string_view raw, std::string* repaired) {
  // No word ends past the last "?=": reading words in the value cut there, a search for the
  // end of a word never runs to the end of a value full of unclosed words, again and again.
  size_t last_close = raw.rfind("?=");
  if (last_close == std::string_view::npos) return false;
  std::string_view value = raw.substr(0, last_close + 2);
  std::string out;
  bool changed = false;
  size_t copied = 0;
  size_t pos = 0;
  std::vector<std::string_view> texts;
  while ((pos = value.find("=?", pos)) != std::string_view::npos) {
    EncodedWord first;
    if (!ReadEncodedWord(value, pos, &first)) {
      ++pos;
      continue;
    }
    pos = first.end;
    if (first.encoding != 'B') continue;
    texts.assign(1, first.text);
    for (;;) {
      size_t next = pos;
      while (next < value.size() && IsLinearWhiteSpace(value[next])) ++next;
      EncodedWord word;
      if (!ReadEncodedWord(value, next, &word) || word.encoding != 'B' ||
          !SameWordCharset(first.charset, word.charset)) {
        break;
      }
      texts.push_back(word.text);
      pos = word.end;
    }
    std::string bytes;
    if (texts.size() < 2 || !DecodeBase64Run(texts, &bytes)) continue;
    out.append(raw, copied, first.begin - copied);
    out.append("=?").append(first.charset).append("?B?").append(EncodeBase64(bytes)).append("?=");
    copied = pos;
    changed = true;
  }
  if (!changed) return false;
  out.append(raw, copied, std::string_view::npos);
  *repaired = std::move(out);
  return true;
}

// Repairs the headers named `names` of `object` (see above). A new raw value makes GMime
// decode the header again, with the parser options of the message; a message's subject and
// address lists, a part's content type and disposition follow it.
void RepairEncodedWords(GMimeObject* object, std::initializer_list<const char*> names) {
  GMimeHeaderList* headers = g_mime_object_get_header_list(object);
  if (headers == nullptr) return;
  int count = g_mime_header_list_get_count(headers);
  std::string repaired;
  for (int i = 0; i < count; ++i) {
    GMimeHeader* header = g_mime_header_list_get_header_at(headers, i);
    const char* raw = g_mime_header_get_raw_value(header);
    if (raw == nullptr || std::strstr(raw, "=?") == nullptr) continue;
    if (!EqualsAnyIgnoringCase(g_mime_header_get_name(header), names)) continue;
    if (RepairAdjacentBase64Words(raw, &repaired)) {
      g_mime_header_set_raw_value(header, repaired.c_str());
    }
  }
}

// ---------------------------------------------------------------------------------------
// MIME

// A parse of `bytes` (GMime copies them into its memory stream, and parts refer to that
// copy), or nullptr when GMime finds no message at all.
GObjectPtr<GMimeMessage> ParseMessage(std::string_view bytes, GMimeParserOptions* options) {
  GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size()));
  GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  return GObjectPtr<GMimeMessage>(g_mime_parser_construct_message(parser.get(), options));
}

// The content of `part` with its transfer encoding (base64, quoted-printable, uuencode)
// undone: at most `max_bytes`, and `*cut` says whether there was more.
std::string DecodedContent(GMimePart* part, size_t max_bytes, bool* cut) {
  *cut = false;
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return std::string();
  GMimeStream* raw = g_mime_data_wrapper_get_stream(content);
  if (raw == nullptr) return std::string();
  g_mime_stream_reset(raw);
  GObjectPtr<GMimeStream> decoded(g_mime_stream_filter_new(raw));
  GMimeContentEncoding encoding = g_mime_data_wrapper_get_encoding(content);
  if (encoding == GMIME_CONTENT_ENCODING_BASE64 ||
      encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
      encoding == GMIME_CONTENT_ENCODING_UUENCODE) {
    GObjectPtr<GMimeFilter> filter(g_mime_filter_basic_new(encoding, FALSE));
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(decoded.get()), filter.get());
  }
  // Decoding never makes content longer than its encoded form: one allocation suffices.
  // One byte past the cap tells whether there is more.
  gint64 raw_length = g_mime_stream_length(raw);
  size_t length = raw_length > 0 ? static_cast<size_t>(raw_length) : 0;
  std::string bytes(length > max_bytes ? max_bytes + 1 : length, '\0');
  size_t used = 0;
  while (used < bytes.size()) {
    ssize_t n = g_mime_stream_read(decoded.get(), bytes.data() + used, bytes.size() - used);
    // A read may yield nothing before the end (a chunk of base64 debris decodes to nothing).
    if (n < 0 || (n == 0 && g_mime_stream_eos(decoded.get()))) break;
    used += n;
  }
  g_mime_stream_reset(raw);
  *cut = used > max_bytes;
  bytes.resize(std::min(used, max_bytes));
  return bytes;
}

// The file name of a part (a forwarded message's too): the Content-Disposition filename, else
// the Content-Type name, RFC 2231 and RFC 2047 decoded by GMime. (g_mime_part_get_filename
// does the same, for GMimePart only.)
const char* FileNameOf(GMimeObject* object) {
  const char* name = g_mime_object_get_content_disposition_parameter(object, "filename");
  if (name == nullptr || *name == '\0') {
    name = g_mime_object_get_content_type_parameter(object, "name");
  }
  return name;
}

struct AddressHeader {
  GMimeAddressType type;
  const char* name;
};
constexpr AddressHeader kFromHeaders[] = {{GMIME_ADDRESS_TYPE_FROM, "From"},
                                          {GMIME_ADDRESS_TYPE_SENDER, "Sender"},
                                          {GMIME_ADDRESS_TYPE_REPLY_TO, "Reply-To"}};
constexpr AddressHeader kToHeaders[] = {
    {GMIME_ADDRESS_TYPE_TO, "To"}, {GMIME_ADDRESS_TYPE_CC, "Cc"}, {GMIME_ADDRESS_TYPE_BCC, "Bcc"}};
// The message headers whose decoded values are read, for RepairEncodedWords.
constexpr std::initializer_list<const char*> kRepairedMessageHeaders = {
    "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Subject"};
constexpr AddressHeader kForwardedAddressHeaders[] = {{GMIME_ADDRESS_TYPE_FROM, "From"},
                                                      {GMIME_ADDRESS_TYPE_TO, "To"},
                                                      {GMIME_ADDRESS_TYPE_CC, "Cc"}};

// One text per address: "display name address", or the address alone; a group's name, then
// its members.
void AppendAddressList(InternetAddressList* list, std::vector<std::string>* texts) {
  int count = internet_address_list_length(list);
  for (int i = 0; i < count; ++i) {
    InternetAddress* address = internet_address_list_get_address(list, i);
    std::string text = Utf8(internet_address_get_name(address));
    if (INTERNET_ADDRESS_IS_GROUP(address)) {
      if (!text.empty()) texts->push_back(std::move(text));
      AppendAddressList(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address)), texts);
      continue;
    }
    if (!INTERNET_ADDRESS_IS_MAILBOX(address)) continue;
    std::string addr = Utf8(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address)));
    if (!text.empty() && !addr.empty()) text += ' ';
    text += addr;
    if (!text.empty()) texts->push_back(std::move(text));
  }
}

// The addresses of one header; when GMime parses none out of it (a mangled header), its
// decoded value as it stands, so that its words are still found.
void AppendAddresses(GMimeMessage* message, const AddressHeader& header,
                     std::vector<std::string>* texts) {
  size_t before = texts->size();
  InternetAddressList* list = g_mime_message_get_addresses(message, header.type);
  if (list != nullptr) AppendAddressList(list, texts);
  if (texts->size() != before) return;
  std::string value = Utf8(g_mime_object_get_header(GMIME_OBJECT(message), header.name));
  if (value.find_first_not_of(" \t\r\n") != std::string::npos) texts->push_back(std::move(value));
}

std::string MessageIdOf(GMimeMessage* message) {
  const char* id = g_mime_message_get_message_id(message);
  if (id != nullptr && *id != '\0') return Utf8(id);
  // GMime finds no addr-spec in it: keep the value, less blanks and angle brackets.
  std::string raw = Utf8(g_mime_object_get_header(GMIME_OBJECT(message), "Message-ID"));
  size_t begin = raw.find_first_not_of(" \t\r\n<");
  if (begin == std::string::npos) return std::string();
  size_t end = raw.find_last_not_of(" \t\r\n>");
  return raw.substr(begin, end + 1 - begin);
}

std::string ChildId(const std::string& parent, int index) {
  std::string n = std::to_string(index);
  return parent.empty() ? n : parent + "." + n;
}

std::string PartLabel(const std::string& id) { return "part " + (id.empty() ? "1" : id); }

const char* ParserWarningText(GMimeParserWarning warning) {
  switch (warning) {
    case GMIME_WARN_DUPLICATED_HEADER:
      return "duplicated header";
    case GMIME_WARN_DUPLICATED_PARAMETER:
      return "duplicated parameter";
    case GMIME_WARN_UNENCODED_8BIT_HEADER:
      return "unencoded 8-bit header, charset guessed";
    case GMIME_WARN_INVALID_CONTENT_TYPE:
      return "invalid Content-Type";
    case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE:
      return "invalid RFC 2047 encoded word";
    case GMIME_WARN_MALFORMED_MULTIPART:
      return "malformed multipart";
    case GMIME_WARN_TRUNCATED_MESSAGE:
      return "truncated message";
    case GMIME_WARN_MALFORMED_MESSAGE:
      return "malformed message";
    case GMIME_CRIT_INVALID_HEADER_NAME:
      return "invalid header line";
    case GMIME_CRIT_CONFLICTING_HEADER:
      return "conflicting header";
    case GMIME_CRIT_CONFLICTING_PARAMETER:
      return "conflicting parameter";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
      return "multipart without boundary";
    case GMIME_WARN_INVALID_PARAMETER:
      return "invalid parameter";
    case GMIME_WARN_INVALID_ADDRESS_LIST:
      return "invalid address list";
    case GMIME_CRIT_NESTING_OVERFLOW:
      return "MIME nesting too deep";
    case GMIME_WARN_PART_WITHOUT_CONTENT:
      return "part without content";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
      return "part without headers or content";
  }
  return "parser warning";
}

// ---------------------------------------------------------------------------------------
// The extraction of one message.

class Extractor {
 public:
  Extractor(size_t max_text_bytes, ExtractedText* out)
      : out_(out), options_(g_mime_parser_options_new()), max_text_bytes_(max_text_bytes) {
    // The fallback charsets decode raw 8-bit header text (subjects and display names).
    // GMime copies the list.
    const char* fallback[std::size(kFallbackCharsets) + 1] = {};
    std::copy(std::begin(kFallbackCharsets), std::end(kFallbackCharsets), fallback);
    g_mime_parser_options_set_fallback_charsets(options_.get(), fallback);
    g_mime_parser_options_set_warning_callback(options_.get(), &Extractor::OnParserWarning, this);
  }

  void Run(std::string_view message) {
    if (message.empty()) {
      AddProblem("empty message");
      return;
    }
    reparse_budget_ = message.size() * kMaxReparsedBytesPerMessageByte;
    GObjectPtr<GMimeMessage> parsed = ParseMessage(message, options_.get());
    if (parsed == nullptr) {
      // GMime gives up on a header block cut off inside a line; ending it may be enough.
      parsed = ParseMessage(std::string(message) + "\n", options_.get());
    }
    if (parsed == nullptr) {
      AddProblem("no message headers: read as plain text");
      AddUndeclaredText(std::string(message), "message");
      return;
    }
    RepairEncodedWords(GMIME_OBJECT(parsed.get()), kRepairedMessageHeaders);
    for (const AddressHeader& header : kFromHeaders) {
      AppendAddresses(parsed.get(), header, &out_->from);
    }
    for (const AddressHeader& header : kToHeaders) AppendAddresses(parsed.get(), header, &out_->to);
    AddField(g_mime_message_get_subject(parsed.get()), &out_->subject);
    std::string id = MessageIdOf(parsed.get());
    if (!id.empty()) out_->message_id.push_back(std::move(id));
    Walk(g_mime_message_get_mime_part(parsed.get()), 1, std::string());
    // Header values are decoded lazily, with the options: the message goes first.
    parsed.reset();
  }

 private:
  static void OnParserWarning(gint64, GMimeParserWarning warning, const gchar* item,
                              gpointer self) {
    static_cast<Extractor*>(self)->NoteParserWarning(warning, item);
  }

  // One problem per kind of warning: a broken multipart repeats the same one per level.
  void NoteParserWarning(GMimeParserWarning warning, const char* item) {
    unsigned bit = static_cast<unsigned>(warning);
    if (bit < 64) {
      if (warnings_seen_ & (uint64_t{1} << bit)) return;
      warnings_seen_ |= uint64_t{1} << bit;
    }
    std::string problem = std::string("MIME: ") + ParserWarningText(warning);
    if (item != nullptr && *item != '\0') {
      std::string quoted = Utf8(item);
      TruncateUtf8(&quoted, kMaxQuotedBytes);
      // A header line GMime quotes keeps its line end.
      while (!quoted.empty() && g_ascii_isspace(quoted.back())) quoted.pop_back();
      problem += " (" + quoted + ")";
    }
    AddProblem(std::move(problem));
  }

  void AddProblem(std::string problem) {
    if (out_->problems.size() > kMaxProblems) return;
    if (out_->problems.size() == kMaxProblems) problem = "more problems not listed";
    EnsureUtf8(&problem);
    out_->problems.push_back(std::move(problem));
  }

  static void AddField(const char* value, std::vector<std::string>* field) {
    std::string text = Utf8(value);
    if (!text.empty()) field->push_back(std::move(text));
  }

  // Adds body text within the budget; `cut` says its part was not read to the end.
  void AddBody(std::string text, bool cut = false) {
    if (body_full_) return;
    EnsureUtf8(&text);
    size_t room = max_text_bytes_ - body_bytes_;
    if (cut || text.size() > room) {
      TruncateUtf8(&text, room);
      body_full_ = true;
      AddProblem("body text past " + std::to_string(max_text_bytes_) + " bytes not indexed");
    }
    body_bytes_ += text.size();
    if (!text.empty()) out_->body.push_back(std::move(text));
  }

  void Walk(GMimeObject* object, int depth, const std::string& id) {
    if (object == nullptr) return;
    if (depth > kMaxDepth) {
      if (!depth_noted_) {
        AddProblem(PartLabel(id) + ": nested deeper than " + std::to_string(kMaxDepth) +
                   " levels: not read");
      }
      depth_noted_ = true;
      return;
    }
    RepairEncodedWords(object, {"Content-Type", "Content-Disposition"});
    AddField(FileNameOf(object), &out_->attachment);
    if (GMIME_IS_MULTIPART(object)) {
      GMimeMultipart* multipart = GMIME_MULTIPART(object);
      int count = g_mime_multipart_get_count(multipart);
      for (int i = 0; i < count; ++i) {
        Walk(g_mime_multipart_get_part(multipart, i), depth + 1, ChildId(id, i + 1));
      }
    } else if (GMIME_IS_MESSAGE_PART(object)) {
      AddForwarded(g_mime_message_part_get_message(GMIME_MESSAGE_PART(object)), depth + 1, id);
    } else if (GMIME_IS_PART(object)) {
      GMimeContentType* type = g_mime_object_get_content_type(object);
      if (g_mime_content_type_is_type(type, "message", "rfc822") ||
          g_mime_content_type_is_type(type, "message", "global")) {
        AddEncodedForwarded(GMIME_PART(object), depth + 1, id);
      } else if (g_mime_content_type_is_type(type, "text", "*")) {
        AddTextPart(GMIME_PART(object), g_mime_content_type_is_type(type, "text", "html"), id);
      }
    }
  }

  // A forwarded message: its From, To, Cc and Subject, then its parts.
  void AddForwarded(GMimeMessage* message, int depth, const std::string& id) {
    if (message == nullptr) return;
    RepairEncodedWords(GMIME_OBJECT(message), kRepairedMessageHeaders);
    std::vector<std::string> header_texts;
    for (const AddressHeader& header : kForwardedAddressHeaders) {
      AppendAddresses(message, header, &header_texts);
    }
    for (std::string& text : header_texts) AddBody(std::move(text));
    AddBody(Utf8(g_mime_message_get_subject(message)));
    Walk(g_mime_message_get_mime_part(message), depth, id);
  }

  // GMime leaves a message/rfc822 part in base64 or quoted-printable (which RFC 2046
  // forbids, and some mailers send) undecoded and unparsed: do both here.
  void AddEncodedForwarded(GMimePart* part, int depth, const std::string& id) {
    bool cut = false;
    std::string bytes = DecodedContent(part, reparse_budget_, &cut);
    if (cut) {
      if (reparse_budget_ > 0) {
        AddProblem(PartLabel(id) + ": encoded forwarded messages too large: not read");
      }
      reparse_budget_ = 0;
      return;
    }
    reparse_budget_ -= bytes.size();
    if (bytes.empty()) return;
    GObjectPtr<GMimeMessage> message = ParseMessage(bytes, options_.get());
    if (message == nullptr) {
      AddUndeclaredText(std::move(bytes), PartLabel(id));
      return;
    }
    AddForwarded(message.get(), depth, id);
  }

  void AddTextPart(GMimePart* part, bool html, const std::string& id) {
    if (body_full_) return;
    size_t room = max_text_bytes_ - body_bytes_;
    size_t max_input = room >= (SIZE_MAX - kMinInputBytes) / kInputBytesPerTextByte
                           ? SIZE_MAX
                           : room * kInputBytesPerTextByte + kMinInputBytes;
    bool cut = false;
    std::string bytes = DecodedContent(part, max_input, &cut);
    const char* charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    std::string text = ToUtf8(std::move(bytes), charset, id);
    if (html) text = HtmlToText(text);
    AddBody(std::move(text), cut);
  }

  // Text in its declared charset, else guessed.
  std::string ToUtf8(std::string bytes, const char* declared, const std::string& id) {
    if (declared == nullptr || *declared == '\0') {
      return Guess(std::move(bytes), PartLabel(id) + ": 8-bit text without a charset");
    }
    if (IsAsciiLabel(declared)) {
      return Guess(std::move(bytes), PartLabel(id) + ": 8-bit text labelled " + Utf8(declared));
    }
    const char* charset = IconvCharsetName(declared);
    // UTF-8 is the common case and needs no conversion when valid.
    bool is_utf8 = charset != nullptr && g_ascii_strcasecmp(charset, "UTF-8") == 0;
    if (is_utf8 && IsUtf8(bytes)) return bytes;
    Converted converted;
    if (charset == nullptr || !ConvertToUtf8(bytes, charset, &converted)) {
      return Guess(std::move(bytes), PartLabel(id) + ": unknown charset " + Utf8(declared));
    }
    if (converted.invalid_bytes == 0) return std::move(converted.text);
    // Mislabelled UTF-8 is common, and valid UTF-8 is rarely anything else.
    if (!is_utf8 && IsUtf8(bytes)) {
      AddProblem(PartLabel(id) + ": declared " + Utf8(declared) + " but is UTF-8");
      return bytes;
    }
    AddProblem(PartLabel(id) + ": invalid in " + Utf8(declared) + ": " +
               std::to_string(converted.invalid_bytes) + " bytes, replaced");
    return std::move(converted.text);
  }

  // Guesses the charset of text; a guess other than UTF-8 is noted, with `what`.
  std::string Guess(std::string bytes, const std::string& what) {
    Guessed guessed = GuessCharset(std::move(bytes));
    if (std::strcmp(guessed.charset, "UTF-8") != 0) {
      AddProblem(what + ": read as " + guessed.charset);
    }
    return std::move(guessed.text);
  }

  void AddUndeclaredText(std::string bytes, const std::string& what) {
    if (body_full_) return;
    AddBody(Guess(std::move(bytes), what));
  }

  ExtractedText* out_;
  std::unique_ptr<GMimeParserOptions, ParserOptionsFree> options_;
  size_t max_text_bytes_;
  size_t body_bytes_ = 0;
  bool body_full_ = false;
  size_t reparse_budget_ = 0;
  bool depth_noted_ = false;
  uint64_t warnings_seen_ = 0;
};

}  // namespace

ExtractedText ExtractText(std::string_view message, size_t max_text_bytes) {
  InitLibrariesOnce();
  ExtractedText out;
  Extractor(max_text_bytes, &out).Run(message);
  return out;
}

}  // namespace mailjournal
