// Text extraction: the words of a message that search indexes, decoded to UTF-8.
//
// The message is parsed with GMime 3 (the MIME library notmuch uses): base64 and
// quoted-printable bodies are decoded; every charset GMime/iconv knows is converted to
// UTF-8 (at least GB2312, GBK, GB18030, Big5, ISO-2022-JP, UTF-8, ISO-8859-1, Windows-1252),
// a part's declared charset first, then a guess for undeclared 8-bit text; RFC 2047 encoded
// words and RFC 2231 parameters are decoded; HTML is turned into text with libxml2's HTML
// parser (script and style dropped). Nothing is hand-decoded.
//
// Which text lands in which field (mailjournal-search(8), FIELDS):
//   from        From, Sender and Reply-To headers: display names and addresses
//   to          To, Cc and Bcc headers: display names and addresses
//   subject     Subject
//   body        every text/plain and text/html part that is not an attachment's file, the
//               text of text/* attachments (text/plain, text/html, text/csv, ...), and of a
//               forwarded message (message/rfc822, at any depth): its From, To, Cc and
//               Subject header values and its body text
//   attachment  the file name of every part that has one (Content-Disposition filename or
//               Content-Type name, RFC 2231 / RFC 2047 decoded)
//   message_id  Message-ID without the angle brackets
// The envelope (MAIL FROM, RCPT TO) is not in the message bytes; the indexer adds it.
//
// Thread-safety: ExtractText may be called from any number of threads at once.
#ifndef MAILJOURNAL_TEXT_EXTRACT_H_
#define MAILJOURNAL_TEXT_EXTRACT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mailjournal {

struct ExtractedText {
  std::vector<std::string> from;
  std::vector<std::string> to;
  std::vector<std::string> subject;
  std::vector<std::string> body;
  std::vector<std::string> attachment;
  std::vector<std::string> message_id;
  // What could not be decoded, one line each ("part 2: unknown charset x-foo: read as
  // Latin-1"); for logs. Empty for a well-formed message.
  std::vector<std::string> problems;
};

// The most body text (in UTF-8 bytes, all parts together) ExtractText keeps by default;
// text past it is not indexed (and a problem says so).
constexpr size_t kMaxExtractedText = 4 << 20;

// Extracts the text of `message` (the captured bytes, CRLF or LF line ends). Never fails:
// malformed MIME (missing boundaries, bad base64, unknown charsets, truncated parts) gives
// whatever could be decoded, best effort, with problems noted. Every string is valid UTF-8.
ExtractedText ExtractText(std::string_view message, size_t max_text_bytes = kMaxExtractedText);

}  // namespace mailjournal

#endif  // MAILJOURNAL_TEXT_EXTRACT_H_
