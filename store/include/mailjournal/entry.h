// Journal entries and their canonical binary encoding (see mailjournal-format(5)).
//
// An entry is encoded as "MJ" | version | kind | fields, each field being
// tag (LEB128) | length (LEB128) | value, tags strictly increasing except where a tag is
// repeatable. The encoding is canonical: one entry has exactly one encoding, so its bytes
// can be hashed. These are plain value types; all functions are thread-safe.
#ifndef MAILJOURNAL_ENTRY_H_
#define MAILJOURNAL_ENTRY_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailjournal/status.h"

namespace mailjournal {

constexpr uint8_t kEntryFormatVersion = 1;

enum class EntryKind : uint8_t {
  kMessage = 1,
};

// The SMTP envelope and connection facts of one captured message, as the MTA reported them.
struct Envelope {
  std::string queue_id;
  // MAIL FROM's arguments as the MTA passed them: the address (with angle brackets over
  // SMTP, without for local submissions), then ESMTP parameters: {"<a@b>", "SIZE=12"}.
  std::vector<std::string> mail;
  // Every accepted RCPT TO's arguments, in the order given, in the same form.
  std::vector<std::vector<std::string>> rcpt;
  std::string client_addr;  // textual IP address, "" when unknown (local submission)
  uint16_t client_port = 0;
  std::string client_name;  // the MTA's name for the client (reverse DNS or "unknown")
  std::string helo;
  std::string auth;    // SASL login name ({auth_authen}), "" when not authenticated
  std::string daemon;  // MTA daemon name ({daemon_name})
};

using Sha256Digest = std::array<uint8_t, 32>;

// Where a message's captured bytes are and what they hash to.
struct ContentRef {
  uint64_t size = 0;      // number of captured bytes
  Sha256Digest sha256{};  // SHA-256 of the captured bytes
  uint64_t txn = 0;       // the capture transaction whose chunks hold the bytes
  uint32_t chunks = 0;    // number of chunks, indexed 0..chunks-1
};

struct MessageEntry {
  int64_t time_us = 0;  // commit time, microseconds since 1970-01-01T00:00:00Z
  Envelope envelope;
  ContentRef content;
};

// Returns the canonical encoding of a message entry.
std::string EncodeMessageEntry(const MessageEntry& entry);

// Returns the kind of an encoded entry, after checking magic and version.
// On error returns Corruption and leaves *kind unchanged.
Status PeekEntryKind(std::string_view encoded, EntryKind* kind);

// Decodes a message entry. On success fills *entry. Returns Corruption (and leaves *entry in
// an unspecified state) for bad magic, an unknown version or kind, an unknown tag, tags out
// of canonical order, truncation, a value of the wrong length, or a missing required field.
Status DecodeMessageEntry(std::string_view encoded, MessageEntry* entry);

// The address of a MAIL FROM or RCPT TO argument list without its angle brackets:
// {"<a@b>", "SIZE=1"} -> "a@b"; {"<>"} -> ""; {} -> "".
std::string BareAddress(const std::vector<std::string>& args);

std::string HexEncode(std::string_view bytes);

}  // namespace mailjournal

#endif  // MAILJOURNAL_ENTRY_H_
