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
#include <utility>
#include <vector>

#include "mailjournal/status.h"

namespace mailjournal {

constexpr uint8_t kEntryFormatVersion = 1;

enum class EntryKind : uint8_t {
  kMessage = 1,
  kPolicy = 2,
  kKey = 3,
  kCheckpoint = 4,
  kHold = 5,
  kRelease = 6,
  kDispose = 7,
  kAccess = 8,
  kIndexKey = 9,
  kShip = 10,
  kReview = 11,
  kTag = 12,
};
// "message", "policy", "key", "checkpoint", "hold", "release", "dispose", "access",
// "index_key", "ship", "review", "tag".
const char* EntryKindName(EntryKind kind);

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

// What the policy in force decided for a message.
struct Classification {
  std::vector<std::string> departments;  // at least one ("default" when nothing matched)
  std::string retention;                 // the retention class that applies
  int64_t retain_until_us = 0;           // not to be disposed of before this time
  Sha256Digest policy_digest{};          // the policy that classified it
};

// Sealing schemes. 1: CMS AuthEnvelopedData, AES-256-GCM, RSAES-OAEP with SHA-256 and
// MGF1-SHA-256 per recipient certificate, over one zstd frame (mailjournal/seal.h).
constexpr uint8_t kSealSchemeCms1 = 1;

// How a message's content was sealed (mailjournal/seal.h). When `sealed`, the content
// the journal stores (ContentRef) is the sealed CMS structure, and these describe the
// captured bytes inside it.
struct Sealing {
  bool sealed = false;
  uint8_t scheme = kSealSchemeCms1;      // the algorithms; readers refuse unknown schemes
  uint64_t plain_size = 0;               // number of captured bytes
  std::array<uint8_t, 16> salt{};        // random per message
  Sha256Digest plain_digest{};           // SHA-256(salt || captured bytes)
  std::vector<Sha256Digest> recipients;  // each recipient key's fingerprint (seal.h)
};

// How urgent a lexicon's hits are (mailjournal.yaml(5), SUPERVISION); ordered.
enum class Severity : uint8_t { kLow = 1, kMedium = 2, kHigh = 3, kCritical = 4 };
// "low", "medium", "high", "critical".
const char* SeverityName(Severity severity);
// False for another name.
bool ParseSeverity(std::string_view name, Severity* severity);

// A lexicon of the policy whose terms or patterns occur in a message's text: its name and
// the severity the policy gave it when the message was captured. Never the matched text.
struct LexiconHit {
  std::string lexicon;
  Severity severity = Severity::kLow;
  bool operator==(const LexiconHit& o) const {
    return lexicon == o.lexicon && severity == o.severity;
  }
};

struct MessageEntry {
  int64_t time_us = 0;  // commit time, microseconds since 1970-01-01T00:00:00Z
  Envelope envelope;
  ContentRef content;
  Classification classification;
  Sealing sealing;
  // Supervision (mailjournal.yaml(5), SUPERVISION): the lexicons hit, sorted by name and
  // unique, and whether the message was drawn for the random review sample.
  std::vector<LexiconHit> flags;
  bool sampled = false;
};

// The policy that is in force from this entry on: its files, exactly as loaded.
struct PolicyEntry {
  int64_t time_us = 0;
  std::vector<std::pair<std::string, std::string>> files;  // (path, bytes), policy file first
  Sha256Digest digest{};  // the policy digest (mailjournal.yaml(5))
  std::string reason;     // why it was loaded: "start", "reload (SIGUSR1)", ...
};

// A key that messages are sealed to was added to or removed from the policy in force.
// Appended in the same write as the policy entry whose load made the change, one entry per
// key and holder (a department, or the escrow).
enum class KeyAction : uint8_t { kAdded = 1, kRemoved = 2 };
// "added", "removed".
const char* KeyActionName(KeyAction action);

struct KeyEntry {
  int64_t time_us = 0;
  KeyAction action = KeyAction::kAdded;
  std::string department;        // the department holding the key; "" for an escrow key
  Sha256Digest fingerprint{};    // SHA-256 of the key's DER SubjectPublicKeyInfo
  std::string file;              // the key file's path in that policy
  Sha256Digest policy_digest{};  // the policy whose load made the change
};

// A signed checkpoint of the journal's tree as it stood just before this entry
// (mailjournal/checkpoint.h): its tree size is this entry's sequence number minus one.
struct CheckpointEntry {
  int64_t time_us = 0;
  std::string note;  // the signed note, as written to the checkpoint directory
};

// Who acted: the caller of an admin operation as the admin socket identified it
// (SO_PEERCRED), the offline tool's user, or the daemon itself (its scheduled purge).
struct Actor {
  uint32_t uid = 0;
  std::string user;  // the account name of uid; "" when the uid has none
};

// What a legal hold covers (mailjournal.yaml(5), LEGAL HOLDS): a message is covered when
// every criterion named matches. An empty list names no criterion.
struct HoldScope {
  std::vector<std::string> departments;             // any of the message's departments
  std::vector<std::string> addresses;               // normalised; the sender or any recipient
  int64_t since_us = INT64_MIN;                     // capture time >= since
  int64_t until_us = INT64_MAX;                     // capture time < until
  std::vector<std::pair<uint64_t, uint64_t>> seqs;  // inclusive ranges of sequence numbers
};

// A legal hold placed (kind hold) or released (kind release) with the tool; holds in the
// policy file are journaled with the policy instead. A release names only the case.
struct HoldEntry {
  int64_t time_us = 0;
  std::string case_id;
  std::string reason;
  Actor actor;
  HoldScope scope;  // kind hold only
};

// A message was disposed of: its content (ciphertext and wrapped keys) destroyed, in the
// same write as this entry. Names the retention rule and date that allowed it; no hold
// covered the message when this entry was appended.
struct DisposeEntry {
  int64_t time_us = 0;
  uint64_t message = 0;          // the message entry's sequence number
  std::string retention;         // the message's retention class
  int64_t retain_until_us = 0;   // the message's retain-until date; before time_us
  Sha256Digest policy_digest{};  // the policy in force, whose holds were checked
  Actor actor;
};

// An admin operation, allowed or refused, and what it returned (the audit trail).
struct AccessEntry {
  int64_t time_us = 0;
  Actor actor;
  std::string operation;  // "list", "show", "export", "hold", "purge", "verify", ...
  std::string arguments;  // the request's arguments, JSON text
  bool allowed = true;
  std::string outcome;  // "" on success, else the refusal or error message
  std::vector<std::pair<uint64_t, uint64_t>> seqs;  // entries returned, inclusive ranges
};

// A department's search index key (mailjournal/index_keys.h), sealed like a message
// (mailjournal/seal.h) to the department's keys and the escrow keys of the policy in force,
// so that the officers who can read the department's mail can also search segments of it
// without the daemon's key directory (mailjournal/index_key_seal.h opens it). Appended when
// the key is created or rotated, and when the keys it is sealed to change.
struct IndexKeyEntry {
  int64_t time_us = 0;
  std::string department;
  uint64_t key_id = 0;                   // IndexKey::id of the sealed secret
  std::string sealed;                    // CMS AuthEnvelopedData of the 32-byte secret
  std::vector<Sha256Digest> recipients;  // each recipient key's fingerprint, as sealed to
  std::string reason;                    // "created", "rotated", "keys changed"
};

// What a ship entry records: a segment uploaded, or a legal hold changed on one shipped.
enum class ShipAction : uint8_t { kUpload = 1, kLegalHold = 2 };
// "upload", "legal_hold".
const char* ShipActionName(ShipAction action);

// A sealed segment of entries first..last shipped to the S3 bucket (mailjournald(8),
// SHIPPING TO S3): the object version stored, its bytes' size and SHA-256, the Object Lock
// (COMPLIANCE) retain-until date set and whether a legal hold is on it. An upload entry is
// appended once the upload was confirmed (HeadObject); a legal_hold entry records a later
// change of the version's legal hold (a hold placed or released after the upload) and
// repeats the upload's other fields.
struct ShipEntry {
  int64_t time_us = 0;
  ShipAction action = ShipAction::kUpload;
  std::string object;            // the object's key in the bucket (SegmentObjectName)
  std::string version_id;        // the version S3 assigned; "" when it gave none
  uint64_t size = 0;             // bytes of the object
  Sha256Digest sha256{};         // SHA-256 of the object's bytes
  uint64_t first = 0, last = 0;  // the segment's entries, inclusive
  int64_t retain_until_us = 0;   // the COMPLIANCE retain-until date set on the version
  bool legal_hold = false;       // the version's legal hold: on after this entry
};

// A reviewer's decision on a supervised message (mailjournal-review(8)). The latest
// decision on a message is its status; a message without one is unreviewed.
enum class ReviewStatus : uint8_t { kReviewed = 1, kEscalated = 2, kClosed = 3 };
// "reviewed", "escalated", "closed".
const char* ReviewStatusName(ReviewStatus status);
// False for another name.
bool ParseReviewStatus(std::string_view name, ReviewStatus* status);

struct ReviewEntry {
  int64_t time_us = 0;
  Actor actor;           // the reviewer
  uint64_t message = 0;  // the message entry's sequence number
  ReviewStatus status = ReviewStatus::kReviewed;
  // The reviewer's note, sealed like message content (mailjournal/seal.h) to the keys of the
  // message's departments and the escrow keys of the policy in force; "" for no note.
  std::string note_sealed;
  std::vector<Sha256Digest> note_recipients;  // each recipient key's fingerprint
};

// A tag added to or removed from a message (mailjournal-review(8), TAGS).
enum class TagAction : uint8_t { kAdd = 1, kRemove = 2 };
// "add", "remove".
const char* TagActionName(TagAction action);

struct TagEntry {
  int64_t time_us = 0;
  Actor actor;
  uint64_t message = 0;  // the message entry's sequence number
  TagAction action = TagAction::kAdd;
  std::string tag;
};

// One journal entry of any kind; only the member of its kind is meaningful. Hold and
// release entries share the `hold` member.
struct Entry {
  EntryKind kind = EntryKind::kMessage;
  MessageEntry message;
  PolicyEntry policy;
  KeyEntry key;
  CheckpointEntry checkpoint;
  HoldEntry hold;
  DisposeEntry dispose;
  AccessEntry access;
  IndexKeyEntry index_key;
  ShipEntry ship;
  ReviewEntry review;
  TagEntry tag;
  int64_t time_us() const;
  // Sets the time of the member of its kind.
  void set_time_us(int64_t t);
};

// Returns the canonical encoding of an entry.
std::string EncodeEntry(const Entry& entry);

// Decodes an entry of any kind. On success fills *entry. Returns Corruption (and leaves
// *entry in an unspecified state) for bad magic, an unknown version or kind, an unknown
// tag, tags out of canonical order, truncation, a value of the wrong length, an empty value
// where writers omit the field, or a missing required field.
Status DecodeEntry(std::string_view encoded, Entry* entry);

// The address of a MAIL FROM or RCPT TO argument list without its angle brackets:
// {"<a@b>", "SIZE=1"} -> "a@b"; {"<>"} -> ""; {} -> "".
std::string BareAddress(const std::vector<std::string>& args);

// Sorted numbers as inclusive ranges: {1,2,3,7} -> {(1,3),(7,7)}.
std::vector<std::pair<uint64_t, uint64_t>> ToRanges(std::vector<uint64_t> seqs);

std::string HexEncode(std::string_view bytes);
// The inverse of HexEncode; "" for text that is not an even number of hex digits.
std::string HexDecode(std::string_view hex);

}  // namespace mailjournal

#endif  // MAILJOURNAL_ENTRY_H_
