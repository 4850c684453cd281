#include "mailjournal/entry.h"

#include <algorithm>
#include <string>

#include "coding.h"

namespace mailjournal {

namespace {

constexpr char kMagic[2] = {'M', 'J'};

// Message entry tags (mailjournal-format(5)).
enum MessageTag : uint32_t {
  kMsgTime = 1,
  kMsgQueueId = 2,
  kMsgMail = 3,
  kMsgRcpt = 4,
  kMsgClientAddr = 5,
  kMsgClientPort = 6,
  kMsgClientName = 7,
  kMsgHelo = 8,
  kMsgAuth = 9,
  kMsgDaemon = 10,
  kMsgSize = 11,
  kMsgSha256 = 12,
  kMsgTxn = 13,
  kMsgChunks = 14,
  kMsgDepartment = 15,
  kMsgRetention = 16,
  kMsgRetainUntil = 17,
  kMsgPolicy = 18,
  kMsgPlainSize = 19,
  kMsgSalt = 20,
  kMsgPlainDigest = 21,
  kMsgRecipient = 22,
  kMsgSealScheme = 23,
  kMsgFlag = 24,
  kMsgSampled = 25,
};

// Policy entry tags.
enum PolicyTag : uint32_t {
  kPolTime = 1,
  kPolFile = 2,
  kPolDigest = 3,
  kPolReason = 4,
};

// Key entry tags.
enum KeyTag : uint32_t {
  kKeyTime = 1,
  kKeyAction = 2,
  kKeyDepartment = 3,
  kKeyFingerprint = 4,
  kKeyFile = 5,
  kKeyPolicy = 6,
};

// Checkpoint entry tags.
enum CheckpointTag : uint32_t {
  kCpTime = 1,
  kCpNote = 2,
};

// Hold and release entry tags (a release has no scope: tags 1-5 only).
enum HoldTag : uint32_t {
  kHoldTime = 1,
  kHoldCase = 2,
  kHoldReason = 3,
  kHoldUid = 4,
  kHoldUser = 5,
  kHoldDepartment = 6,
  kHoldAddress = 7,
  kHoldSince = 8,
  kHoldUntil = 9,
  kHoldSeqs = 10,
};

// Dispose entry tags.
enum DisposeTag : uint32_t {
  kDispTime = 1,
  kDispMessage = 2,
  kDispRetention = 3,
  kDispRetainUntil = 4,
  kDispPolicy = 5,
  kDispUid = 6,
  kDispUser = 7,
};

// Access entry tags.
enum AccessTag : uint32_t {
  kAccTime = 1,
  kAccUid = 2,
  kAccUser = 3,
  kAccOperation = 4,
  kAccArguments = 5,
  kAccAllowed = 6,
  kAccOutcome = 7,
  kAccSeqs = 8,
};

// Index key entry tags.
enum IndexKeyTag : uint32_t {
  kIkTime = 1,
  kIkDepartment = 2,
  kIkKeyId = 3,
  kIkSealed = 4,
  kIkRecipient = 5,
  kIkReason = 6,
};

// Ship entry tags.
enum ShipTag : uint32_t {
  kShipTime = 1,
  kShipAction = 2,
  kShipObject = 3,
  kShipVersion = 4,
  kShipSize = 5,
  kShipSha256 = 6,
  kShipFirst = 7,
  kShipLast = 8,
  kShipRetainUntil = 9,
  kShipLegalHold = 10,
};

// Review entry tags.
enum ReviewTag : uint32_t {
  kRevTime = 1,
  kRevUid = 2,
  kRevUser = 3,
  kRevMessage = 4,
  kRevStatus = 5,
  kRevNote = 6,
  kRevNoteRecipient = 7,
};

// Tag entry tags.
enum TagTag : uint32_t {
  kTagTime = 1,
  kTagUid = 2,
  kTagUser = 3,
  kTagMessage = 4,
  kTagAction = 5,
  kTagName = 6,
};

// The shape of one entry kind's fields.
struct FieldSpec {
  uint32_t max_tag;
  uint32_t repeatable;    // bit per tag
  uint32_t required;      // bit per tag
  uint32_t may_be_empty;  // bit per tag: values writers do write empty
};

constexpr uint32_t Bit(uint32_t tag) { return 1u << tag; }

constexpr FieldSpec kMessageSpec = {
    kMsgSampled,
    Bit(kMsgRcpt) | Bit(kMsgDepartment) | Bit(kMsgRecipient) | Bit(kMsgFlag),
    Bit(kMsgTime) | Bit(kMsgMail) | Bit(kMsgSize) | Bit(kMsgSha256) | Bit(kMsgTxn) |
        Bit(kMsgChunks) | Bit(kMsgDepartment) | Bit(kMsgRetention) | Bit(kMsgRetainUntil) |
        Bit(kMsgPolicy),
    Bit(kMsgMail) | Bit(kMsgRcpt),
};

constexpr FieldSpec kPolicySpec = {
    kPolReason,
    Bit(kPolFile),
    Bit(kPolTime) | Bit(kPolFile) | Bit(kPolDigest),
    0,
};

constexpr FieldSpec kKeySpec = {
    kKeyPolicy,
    0,
    Bit(kKeyTime) | Bit(kKeyAction) | Bit(kKeyFingerprint) | Bit(kKeyFile) | Bit(kKeyPolicy),
    0,
};

constexpr FieldSpec kCheckpointSpec = {kCpNote, 0, Bit(kCpTime) | Bit(kCpNote), 0};

constexpr FieldSpec kHoldSpec = {
    kHoldSeqs,
    Bit(kHoldDepartment) | Bit(kHoldAddress) | Bit(kHoldSeqs),
    Bit(kHoldTime) | Bit(kHoldCase) | Bit(kHoldReason) | Bit(kHoldUid),
    0,
};

constexpr FieldSpec kReleaseSpec = {
    kHoldUser,
    0,
    Bit(kHoldTime) | Bit(kHoldCase) | Bit(kHoldReason) | Bit(kHoldUid),
    0,
};

constexpr FieldSpec kDisposeSpec = {
    kDispUser,
    0,
    Bit(kDispTime) | Bit(kDispMessage) | Bit(kDispRetention) | Bit(kDispRetainUntil) |
        Bit(kDispPolicy) | Bit(kDispUid),
    0,
};

constexpr FieldSpec kAccessSpec = {
    kAccSeqs,
    Bit(kAccSeqs),
    Bit(kAccTime) | Bit(kAccUid) | Bit(kAccOperation) | Bit(kAccAllowed),
    0,
};

constexpr FieldSpec kIndexKeySpec = {
    kIkReason,
    Bit(kIkRecipient),
    Bit(kIkTime) | Bit(kIkDepartment) | Bit(kIkKeyId) | Bit(kIkSealed) | Bit(kIkRecipient),
    0,
};

constexpr FieldSpec kShipSpec = {
    kShipLegalHold,
    0,
    Bit(kShipTime) | Bit(kShipAction) | Bit(kShipObject) | Bit(kShipSize) | Bit(kShipSha256) |
        Bit(kShipFirst) | Bit(kShipLast) | Bit(kShipRetainUntil) | Bit(kShipLegalHold),
    0,
};

constexpr FieldSpec kReviewSpec = {
    kRevNoteRecipient,
    Bit(kRevNoteRecipient),
    Bit(kRevTime) | Bit(kRevUid) | Bit(kRevMessage) | Bit(kRevStatus),
    0,
};

constexpr FieldSpec kTagSpec = {
    kTagName,
    0,
    Bit(kTagTime) | Bit(kTagUid) | Bit(kTagMessage) | Bit(kTagAction) | Bit(kTagName),
    0,
};

std::string FixedBE(uint64_t v, int bytes) {
  std::string s(bytes, '\0');
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) s[i] = static_cast<char>(v & 0xff);
  return s;
}

uint64_t ReadBE(std::string_view s) {
  uint64_t v = 0;
  for (unsigned char c : s) v = (v << 8) | c;
  return v;
}

std::string_view DigestBytes(const Sha256Digest& d) {
  return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

void PutField(std::string* out, uint32_t tag, std::string_view value) {
  PutVarint(out, tag);
  PutVarint(out, value.size());
  out->append(value.data(), value.size());
}

void PutOptionalField(std::string* out, uint32_t tag, const std::string& value) {
  if (!value.empty()) PutField(out, tag, value);
}

std::string EncodeStringList(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& s : list) {
    PutVarint(&out, s.size());
    out += s;
  }
  return out;
}

bool DecodeStringList(std::string_view in, std::vector<std::string>* list) {
  list->clear();
  while (!in.empty()) {
    uint64_t len;
    if (!GetVarint(&in, &len) || len > in.size()) return false;
    list->emplace_back(in.substr(0, len));
    in.remove_prefix(len);
  }
  return true;
}

Status Corrupt(const std::string& what) { return Status::Corruption("entry: " + what); }

std::string Header(EntryKind kind) {
  std::string out(kMagic, sizeof kMagic);
  out.push_back(static_cast<char>(kEntryFormatVersion));
  out.push_back(static_cast<char>(kind));
  return out;
}

std::string EncodeMessage(const MessageEntry& entry) {
  const Envelope& env = entry.envelope;
  const Classification& cls = entry.classification;
  std::string out = Header(EntryKind::kMessage);
  PutField(&out, kMsgTime, FixedBE(static_cast<uint64_t>(entry.time_us), 8));
  PutOptionalField(&out, kMsgQueueId, env.queue_id);
  PutField(&out, kMsgMail, EncodeStringList(env.mail));
  for (const auto& r : env.rcpt) PutField(&out, kMsgRcpt, EncodeStringList(r));
  PutOptionalField(&out, kMsgClientAddr, env.client_addr);
  if (env.client_port != 0) PutField(&out, kMsgClientPort, FixedBE(env.client_port, 2));
  PutOptionalField(&out, kMsgClientName, env.client_name);
  PutOptionalField(&out, kMsgHelo, env.helo);
  PutOptionalField(&out, kMsgAuth, env.auth);
  PutOptionalField(&out, kMsgDaemon, env.daemon);
  PutField(&out, kMsgSize, FixedBE(entry.content.size, 8));
  PutField(&out, kMsgSha256, DigestBytes(entry.content.sha256));
  PutField(&out, kMsgTxn, FixedBE(entry.content.txn, 8));
  PutField(&out, kMsgChunks, FixedBE(entry.content.chunks, 4));
  for (const auto& d : cls.departments) PutOptionalField(&out, kMsgDepartment, d);
  PutOptionalField(&out, kMsgRetention, cls.retention);
  PutField(&out, kMsgRetainUntil, FixedBE(static_cast<uint64_t>(cls.retain_until_us), 8));
  PutField(&out, kMsgPolicy, DigestBytes(cls.policy_digest));
  const Sealing& seal = entry.sealing;
  if (seal.sealed) {
    PutField(&out, kMsgPlainSize, FixedBE(seal.plain_size, 8));
    PutField(&out, kMsgSalt,
             std::string_view(reinterpret_cast<const char*>(seal.salt.data()), seal.salt.size()));
    PutField(&out, kMsgPlainDigest, DigestBytes(seal.plain_digest));
    for (const auto& r : seal.recipients) PutField(&out, kMsgRecipient, DigestBytes(r));
    PutField(&out, kMsgSealScheme, FixedBE(seal.scheme, 1));
  }
  for (const auto& f : entry.flags) {
    PutField(&out, kMsgFlag, FixedBE(static_cast<uint8_t>(f.severity), 1) + f.lexicon);
  }
  if (entry.sampled) PutField(&out, kMsgSampled, FixedBE(1, 1));
  return out;
}

std::string EncodePolicy(const PolicyEntry& entry) {
  std::string out = Header(EntryKind::kPolicy);
  PutField(&out, kPolTime, FixedBE(static_cast<uint64_t>(entry.time_us), 8));
  for (const auto& [path, bytes] : entry.files) {
    PutField(&out, kPolFile, EncodeStringList({path, bytes}));
  }
  PutField(&out, kPolDigest, DigestBytes(entry.digest));
  PutOptionalField(&out, kPolReason, entry.reason);
  return out;
}

std::string EncodeKey(const KeyEntry& entry) {
  std::string out = Header(EntryKind::kKey);
  PutField(&out, kKeyTime, FixedBE(static_cast<uint64_t>(entry.time_us), 8));
  PutField(&out, kKeyAction, FixedBE(static_cast<uint8_t>(entry.action), 1));
  PutOptionalField(&out, kKeyDepartment, entry.department);
  PutField(&out, kKeyFingerprint, DigestBytes(entry.fingerprint));
  PutField(&out, kKeyFile, entry.file);
  PutField(&out, kKeyPolicy, DigestBytes(entry.policy_digest));
  return out;
}

std::string EncodeCheckpoint(const CheckpointEntry& entry) {
  std::string out = Header(EntryKind::kCheckpoint);
  PutField(&out, kCpTime, FixedBE(static_cast<uint64_t>(entry.time_us), 8));
  PutField(&out, kCpNote, entry.note);
  return out;
}

std::string EncodeRange(const std::pair<uint64_t, uint64_t>& range) {
  return FixedBE(range.first, 8) + FixedBE(range.second, 8);
}

std::string EncodeTime(int64_t t) { return FixedBE(static_cast<uint64_t>(t), 8); }

std::string EncodeHold(EntryKind kind, const HoldEntry& entry) {
  std::string out = Header(kind);
  PutField(&out, kHoldTime, EncodeTime(entry.time_us));
  PutField(&out, kHoldCase, entry.case_id);
  PutField(&out, kHoldReason, entry.reason);
  PutField(&out, kHoldUid, FixedBE(entry.actor.uid, 4));
  PutOptionalField(&out, kHoldUser, entry.actor.user);
  if (kind == EntryKind::kRelease) return out;
  const HoldScope& scope = entry.scope;
  for (const auto& d : scope.departments) PutOptionalField(&out, kHoldDepartment, d);
  for (const auto& a : scope.addresses) PutOptionalField(&out, kHoldAddress, a);
  if (scope.since_us != INT64_MIN) PutField(&out, kHoldSince, EncodeTime(scope.since_us));
  if (scope.until_us != INT64_MAX) PutField(&out, kHoldUntil, EncodeTime(scope.until_us));
  for (const auto& r : scope.seqs) PutField(&out, kHoldSeqs, EncodeRange(r));
  return out;
}

std::string EncodeDispose(const DisposeEntry& entry) {
  std::string out = Header(EntryKind::kDispose);
  PutField(&out, kDispTime, EncodeTime(entry.time_us));
  PutField(&out, kDispMessage, FixedBE(entry.message, 8));
  PutField(&out, kDispRetention, entry.retention);
  PutField(&out, kDispRetainUntil, EncodeTime(entry.retain_until_us));
  PutField(&out, kDispPolicy, DigestBytes(entry.policy_digest));
  PutField(&out, kDispUid, FixedBE(entry.actor.uid, 4));
  PutOptionalField(&out, kDispUser, entry.actor.user);
  return out;
}

std::string EncodeAccess(const AccessEntry& entry) {
  std::string out = Header(EntryKind::kAccess);
  PutField(&out, kAccTime, EncodeTime(entry.time_us));
  PutField(&out, kAccUid, FixedBE(entry.actor.uid, 4));
  PutOptionalField(&out, kAccUser, entry.actor.user);
  PutField(&out, kAccOperation, entry.operation);
  PutOptionalField(&out, kAccArguments, entry.arguments);
  PutField(&out, kAccAllowed, FixedBE(entry.allowed ? 1 : 0, 1));
  PutOptionalField(&out, kAccOutcome, entry.outcome);
  for (const auto& r : entry.seqs) PutField(&out, kAccSeqs, EncodeRange(r));
  return out;
}

std::string EncodeIndexKey(const IndexKeyEntry& entry) {
  std::string out = Header(EntryKind::kIndexKey);
  PutField(&out, kIkTime, EncodeTime(entry.time_us));
  PutField(&out, kIkDepartment, entry.department);
  PutField(&out, kIkKeyId, FixedBE(entry.key_id, 8));
  PutField(&out, kIkSealed, entry.sealed);
  for (const auto& r : entry.recipients) PutField(&out, kIkRecipient, DigestBytes(r));
  PutOptionalField(&out, kIkReason, entry.reason);
  return out;
}

std::string EncodeShip(const ShipEntry& entry) {
  std::string out = Header(EntryKind::kShip);
  PutField(&out, kShipTime, EncodeTime(entry.time_us));
  PutField(&out, kShipAction, FixedBE(static_cast<uint8_t>(entry.action), 1));
  PutField(&out, kShipObject, entry.object);
  PutOptionalField(&out, kShipVersion, entry.version_id);
  PutField(&out, kShipSize, FixedBE(entry.size, 8));
  PutField(&out, kShipSha256, DigestBytes(entry.sha256));
  PutField(&out, kShipFirst, FixedBE(entry.first, 8));
  PutField(&out, kShipLast, FixedBE(entry.last, 8));
  PutField(&out, kShipRetainUntil, EncodeTime(entry.retain_until_us));
  PutField(&out, kShipLegalHold, FixedBE(entry.legal_hold ? 1 : 0, 1));
  return out;
}

std::string EncodeReview(const ReviewEntry& entry) {
  std::string out = Header(EntryKind::kReview);
  PutField(&out, kRevTime, EncodeTime(entry.time_us));
  PutField(&out, kRevUid, FixedBE(entry.actor.uid, 4));
  PutOptionalField(&out, kRevUser, entry.actor.user);
  PutField(&out, kRevMessage, FixedBE(entry.message, 8));
  PutField(&out, kRevStatus, FixedBE(static_cast<uint8_t>(entry.status), 1));
  PutOptionalField(&out, kRevNote, entry.note_sealed);
  for (const auto& r : entry.note_recipients) PutField(&out, kRevNoteRecipient, DigestBytes(r));
  return out;
}

std::string EncodeTag(const TagEntry& entry) {
  std::string out = Header(EntryKind::kTag);
  PutField(&out, kTagTime, EncodeTime(entry.time_us));
  PutField(&out, kTagUid, FixedBE(entry.actor.uid, 4));
  PutOptionalField(&out, kTagUser, entry.actor.user);
  PutField(&out, kTagMessage, FixedBE(entry.message, 8));
  PutField(&out, kTagAction, FixedBE(static_cast<uint8_t>(entry.action), 1));
  PutField(&out, kTagName, entry.tag);
  return out;
}

// Walks the fields of an entry body, checking the canonical form against spec, and passes
// each to handle(tag, value), which returns false for a malformed value.
// *seen_out, when not null, receives the set of tags seen (bit per tag).
template <typename Handler>
Status DecodeFields(std::string_view in, const FieldSpec& spec, Handler handle,
                    uint32_t* seen_out = nullptr) {
  uint32_t last_tag = 0;
  uint32_t seen = 0;
  while (!in.empty()) {
    uint64_t tag, len;
    if (!GetVarint(&in, &tag)) return Corrupt("truncated field tag");
    if (tag == 0 || tag > spec.max_tag) return Corrupt("unknown field tag " + std::to_string(tag));
    if (tag < last_tag || (tag == last_tag && !(spec.repeatable & Bit(tag)))) {
      return Corrupt("field tag " + std::to_string(tag) + " out of order");
    }
    last_tag = static_cast<uint32_t>(tag);
    seen |= Bit(last_tag);
    if (!GetVarint(&in, &len)) return Corrupt("truncated field length");
    if (len > in.size()) return Corrupt("truncated field " + std::to_string(tag));
    std::string_view value = in.substr(0, len);
    in.remove_prefix(len);
    // Writers omit empty optional values: accepting them would give one entry two encodings.
    bool ok = !(value.empty() && !(spec.may_be_empty & Bit(last_tag))) && handle(last_tag, value);
    if (!ok) return Corrupt("malformed value of field " + std::to_string(tag));
  }
  for (uint32_t tag = 1; tag <= spec.max_tag; ++tag) {
    if ((spec.required & Bit(tag)) && !(seen & Bit(tag))) {
      return Corrupt("missing required field " + std::to_string(tag));
    }
  }
  if (seen_out != nullptr) *seen_out = seen;
  return Status::OK();
}

bool ReadFixed(std::string_view value, size_t n, uint64_t* out) {
  if (value.size() != n) return false;
  *out = ReadBE(value);
  return true;
}

bool ReadDigest(std::string_view value, Sha256Digest* out) {
  if (value.size() != out->size()) return false;
  std::copy(value.begin(), value.end(), out->begin());
  return true;
}

bool ParseSeverityByte(char byte, Severity* severity) {
  auto n = static_cast<uint8_t>(byte);
  if (n < static_cast<uint8_t>(Severity::kLow) || n > static_cast<uint8_t>(Severity::kCritical)) {
    return false;
  }
  *severity = static_cast<Severity>(n);
  return true;
}

Status DecodeMessage(std::string_view in, MessageEntry* entry) {
  *entry = MessageEntry();
  Envelope& env = entry->envelope;
  Classification& cls = entry->classification;
  uint32_t seen = 0;
  Status s = DecodeFields(
      in, kMessageSpec,
      [&](uint32_t tag, std::string_view value) {
        uint64_t n = 0;
        switch (tag) {
          case kMsgTime:
            if (!ReadFixed(value, 8, &n)) return false;
            entry->time_us = static_cast<int64_t>(n);
            return true;
          case kMsgQueueId:
            env.queue_id.assign(value);
            return true;
          case kMsgMail:
            return DecodeStringList(value, &env.mail);
          case kMsgRcpt:
            env.rcpt.emplace_back();
            return DecodeStringList(value, &env.rcpt.back());
          case kMsgClientAddr:
            env.client_addr.assign(value);
            return true;
          case kMsgClientPort:
            if (!ReadFixed(value, 2, &n) || n == 0) return false;
            env.client_port = static_cast<uint16_t>(n);
            return true;
          case kMsgClientName:
            env.client_name.assign(value);
            return true;
          case kMsgHelo:
            env.helo.assign(value);
            return true;
          case kMsgAuth:
            env.auth.assign(value);
            return true;
          case kMsgDaemon:
            env.daemon.assign(value);
            return true;
          case kMsgSize:
            return ReadFixed(value, 8, &entry->content.size);
          case kMsgSha256:
            return ReadDigest(value, &entry->content.sha256);
          case kMsgTxn:
            return ReadFixed(value, 8, &entry->content.txn);
          case kMsgChunks:
            if (!ReadFixed(value, 4, &n)) return false;
            entry->content.chunks = static_cast<uint32_t>(n);
            return true;
          case kMsgDepartment:
            cls.departments.emplace_back(value);
            return true;
          case kMsgRetention:
            cls.retention.assign(value);
            return true;
          case kMsgRetainUntil:
            if (!ReadFixed(value, 8, &n)) return false;
            cls.retain_until_us = static_cast<int64_t>(n);
            return true;
          case kMsgPolicy:
            return ReadDigest(value, &cls.policy_digest);
          case kMsgPlainSize:
            entry->sealing.sealed = true;
            return ReadFixed(value, 8, &entry->sealing.plain_size);
          case kMsgSalt:
            if (value.size() != entry->sealing.salt.size()) return false;
            std::copy(value.begin(), value.end(), entry->sealing.salt.begin());
            return true;
          case kMsgPlainDigest:
            return ReadDigest(value, &entry->sealing.plain_digest);
          case kMsgRecipient:
            entry->sealing.recipients.emplace_back();
            return ReadDigest(value, &entry->sealing.recipients.back());
          case kMsgSealScheme:
            // Any scheme decodes (the metadata stays readable); opening needs a known one.
            if (!ReadFixed(value, 1, &n) || n == 0) return false;
            entry->sealing.scheme = static_cast<uint8_t>(n);
            return true;
          case kMsgFlag: {
            // Severity byte, then the lexicon's name; names strictly increasing (canonical).
            Severity severity;
            if (value.size() < 2 || !ParseSeverityByte(value[0], &severity)) return false;
            std::string_view name = value.substr(1);
            if (!entry->flags.empty() && name <= entry->flags.back().lexicon) return false;
            entry->flags.push_back({std::string(name), severity});
            return true;
          }
          case kMsgSampled:
            // Written only when sampled.
            if (!ReadFixed(value, 1, &n) || n != 1) return false;
            entry->sampled = true;
            return true;
        }
        return false;
      },
      &seen);
  if (!s.ok()) return s;
  // The sealing fields come all together or not at all.
  constexpr uint32_t kSealing = Bit(kMsgPlainSize) | Bit(kMsgSalt) | Bit(kMsgPlainDigest) |
                                Bit(kMsgRecipient) | Bit(kMsgSealScheme);
  if ((seen & kSealing) != 0 && (seen & kSealing) != kSealing) {
    return Corrupt("incomplete sealing fields");
  }
  return Status::OK();
}

Status DecodePolicy(std::string_view in, PolicyEntry* entry) {
  *entry = PolicyEntry();
  return DecodeFields(in, kPolicySpec, [&](uint32_t tag, std::string_view value) {
    uint64_t n = 0;
    std::vector<std::string> file;
    switch (tag) {
      case kPolTime:
        if (!ReadFixed(value, 8, &n)) return false;
        entry->time_us = static_cast<int64_t>(n);
        return true;
      case kPolFile:
        if (!DecodeStringList(value, &file) || file.size() != 2 || file[0].empty()) return false;
        entry->files.emplace_back(std::move(file[0]), std::move(file[1]));
        return true;
      case kPolDigest:
        return ReadDigest(value, &entry->digest);
      case kPolReason:
        entry->reason.assign(value);
        return true;
    }
    return false;
  });
}

Status DecodeKey(std::string_view in, KeyEntry* entry) {
  *entry = KeyEntry();
  return DecodeFields(in, kKeySpec, [&](uint32_t tag, std::string_view value) {
    uint64_t n = 0;
    switch (tag) {
      case kKeyTime:
        if (!ReadFixed(value, 8, &n)) return false;
        entry->time_us = static_cast<int64_t>(n);
        return true;
      case kKeyAction:
        if (!ReadFixed(value, 1, &n) || (n != 1 && n != 2)) return false;
        entry->action = static_cast<KeyAction>(n);
        return true;
      case kKeyDepartment:
        entry->department.assign(value);
        return true;
      case kKeyFingerprint:
        return ReadDigest(value, &entry->fingerprint);
      case kKeyFile:
        entry->file.assign(value);
        return true;
      case kKeyPolicy:
        return ReadDigest(value, &entry->policy_digest);
    }
    return false;
  });
}

Status DecodeCheckpoint(std::string_view in, CheckpointEntry* entry) {
  *entry = CheckpointEntry();
  return DecodeFields(in, kCheckpointSpec, [&](uint32_t tag, std::string_view value) {
    uint64_t n = 0;
    switch (tag) {
      case kCpTime:
        if (!ReadFixed(value, 8, &n)) return false;
        entry->time_us = static_cast<int64_t>(n);
        return true;
      case kCpNote:
        entry->note.assign(value);
        return true;
    }
    return false;
  });
}

bool ReadRange(std::string_view value, std::vector<std::pair<uint64_t, uint64_t>>* ranges) {
  if (value.size() != 16) return false;
  uint64_t a = ReadBE(value.substr(0, 8)), b = ReadBE(value.substr(8));
  if (a == 0 || b < a) return false;
  ranges->emplace_back(a, b);
  return true;
}

bool ReadTime(std::string_view value, int64_t* t) {
  uint64_t n = 0;
  if (!ReadFixed(value, 8, &n)) return false;
  *t = static_cast<int64_t>(n);
  return true;
}

bool ReadUid(std::string_view value, uint32_t* uid) {
  uint64_t n = 0;
  if (!ReadFixed(value, 4, &n)) return false;
  *uid = static_cast<uint32_t>(n);
  return true;
}

Status DecodeHold(std::string_view in, EntryKind kind, HoldEntry* entry) {
  *entry = HoldEntry();
  HoldScope& scope = entry->scope;
  return DecodeFields(in, kind == EntryKind::kHold ? kHoldSpec : kReleaseSpec,
                      [&](uint32_t tag, std::string_view value) {
                        switch (tag) {
                          case kHoldTime:
                            return ReadTime(value, &entry->time_us);
                          case kHoldCase:
                            entry->case_id.assign(value);
                            return true;
                          case kHoldReason:
                            entry->reason.assign(value);
                            return true;
                          case kHoldUid:
                            return ReadUid(value, &entry->actor.uid);
                          case kHoldUser:
                            entry->actor.user.assign(value);
                            return true;
                          case kHoldDepartment:
                            scope.departments.emplace_back(value);
                            return true;
                          case kHoldAddress:
                            scope.addresses.emplace_back(value);
                            return true;
                          case kHoldSince:
                            return ReadTime(value, &scope.since_us) && scope.since_us != INT64_MIN;
                          case kHoldUntil:
                            return ReadTime(value, &scope.until_us) && scope.until_us != INT64_MAX;
                          case kHoldSeqs:
                            return ReadRange(value, &scope.seqs);
                        }
                        return false;
                      });
}

Status DecodeDispose(std::string_view in, DisposeEntry* entry) {
  *entry = DisposeEntry();
  return DecodeFields(in, kDisposeSpec, [&](uint32_t tag, std::string_view value) {
    switch (tag) {
      case kDispTime:
        return ReadTime(value, &entry->time_us);
      case kDispMessage:
        return ReadFixed(value, 8, &entry->message) && entry->message != 0;
      case kDispRetention:
        entry->retention.assign(value);
        return true;
      case kDispRetainUntil:
        return ReadTime(value, &entry->retain_until_us);
      case kDispPolicy:
        return ReadDigest(value, &entry->policy_digest);
      case kDispUid:
        return ReadUid(value, &entry->actor.uid);
      case kDispUser:
        entry->actor.user.assign(value);
        return true;
    }
    return false;
  });
}

Status DecodeAccess(std::string_view in, AccessEntry* entry) {
  *entry = AccessEntry();
  return DecodeFields(in, kAccessSpec, [&](uint32_t tag, std::string_view value) {
    uint64_t n = 0;
    switch (tag) {
      case kAccTime:
        return ReadTime(value, &entry->time_us);
      case kAccUid:
        return ReadUid(value, &entry->actor.uid);
      case kAccUser:
        entry->actor.user.assign(value);
        return true;
      case kAccOperation:
        entry->operation.assign(value);
        return true;
      case kAccArguments:
        entry->arguments.assign(value);
        return true;
      case kAccAllowed:
        if (!ReadFixed(value, 1, &n) || n > 1) return false;
        entry->allowed = n == 1;
        return true;
      case kAccOutcome:
        entry->outcome.assign(value);
        return true;
      case kAccSeqs:
        return ReadRange(value, &entry->seqs);
    }
    return false;
  });
}

Status DecodeIndexKey(std::string_view in, IndexKeyEntry* entry) {
  *entry = IndexKeyEntry();
  return DecodeFields(in, kIndexKeySpec, [&](uint32_t tag, std::string_view value) {
    switch (tag) {
      case kIkTime:
        return ReadTime(value, &entry->time_us);
      case kIkDepartment:
        entry->department.assign(value);
        return true;
      case kIkKeyId:
        return ReadFixed(value, 8, &entry->key_id);
      case kIkSealed:
        entry->sealed.assign(value);
        return true;
      case kIkRecipient:
        entry->recipients.emplace_back();
        return ReadDigest(value, &entry->recipients.back());
      case kIkReason:
        entry->reason.assign(value);
        return true;
    }
    return false;
  });
}

Status DecodeShip(std::string_view in, ShipEntry* entry) {
  *entry = ShipEntry();
  Status s = DecodeFields(in, kShipSpec, [&](uint32_t tag, std::string_view value) {
    uint64_t n = 0;
    switch (tag) {
      case kShipTime:
        return ReadTime(value, &entry->time_us);
      case kShipAction:
        if (!ReadFixed(value, 1, &n) || (n != 1 && n != 2)) return false;
        entry->action = static_cast<ShipAction>(n);
        return true;
      case kShipObject:
        entry->object.assign(value);
        return true;
      case kShipVersion:
        entry->version_id.assign(value);
        return true;
      case kShipSize:
        return ReadFixed(value, 8, &entry->size);
      case kShipSha256:
        return ReadDigest(value, &entry->sha256);
      case kShipFirst:
        return ReadFixed(value, 8, &entry->first) && entry->first != 0;
      case kShipLast:
        return ReadFixed(value, 8, &entry->last);
      case kShipRetainUntil:
        return ReadTime(value, &entry->retain_until_us);
      case kShipLegalHold:
        if (!ReadFixed(value, 1, &n) || n > 1) return false;
        entry->legal_hold = n == 1;
        return true;
    }
    return false;
  });
  if (s.ok() && entry->last < entry->first) return Corrupt("ship range ends before it starts");
  return s;
}

Status DecodeReview(std::string_view in, ReviewEntry* entry) {
  *entry = ReviewEntry();
  return DecodeFields(in, kReviewSpec, [&](uint32_t tag, std::string_view value) {
    uint64_t n = 0;
    switch (tag) {
      case kRevTime:
        return ReadTime(value, &entry->time_us);
      case kRevUid:
        if (!ReadFixed(value, 4, &n)) return false;
        entry->actor.uid = static_cast<uint32_t>(n);
        return true;
      case kRevUser:
        entry->actor.user.assign(value);
        return true;
      case kRevMessage:
        return ReadFixed(value, 8, &entry->message) && entry->message != 0;
      case kRevStatus:
        if (!ReadFixed(value, 1, &n) || n < 1 || n > 3) return false;
        entry->status = static_cast<ReviewStatus>(n);
        return true;
      case kRevNote:
        entry->note_sealed.assign(value);
        return true;
      case kRevNoteRecipient:
        if (entry->note_sealed.empty()) return false;  // recipients of no note
        entry->note_recipients.emplace_back();
        return ReadDigest(value, &entry->note_recipients.back());
    }
    return false;
  });
}

Status DecodeTag(std::string_view in, TagEntry* entry) {
  *entry = TagEntry();
  return DecodeFields(in, kTagSpec, [&](uint32_t tag, std::string_view value) {
    uint64_t n = 0;
    switch (tag) {
      case kTagTime:
        return ReadTime(value, &entry->time_us);
      case kTagUid:
        if (!ReadFixed(value, 4, &n)) return false;
        entry->actor.uid = static_cast<uint32_t>(n);
        return true;
      case kTagUser:
        entry->actor.user.assign(value);
        return true;
      case kTagMessage:
        return ReadFixed(value, 8, &entry->message) && entry->message != 0;
      case kTagAction:
        if (!ReadFixed(value, 1, &n) || (n != 1 && n != 2)) return false;
        entry->action = static_cast<TagAction>(n);
        return true;
      case kTagName:
        entry->tag.assign(value);
        return true;
    }
    return false;
  });
}

}  // namespace

const char* SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "unknown";
}

bool ParseSeverity(std::string_view name, Severity* severity) {
  for (Severity s : {Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical}) {
    if (name == SeverityName(s)) {
      *severity = s;
      return true;
    }
  }
  return false;
}

const char* ReviewStatusName(ReviewStatus status) {
  switch (status) {
    case ReviewStatus::kReviewed:
      return "reviewed";
    case ReviewStatus::kEscalated:
      return "escalated";
    case ReviewStatus::kClosed:
      return "closed";
  }
  return "unknown";
}

bool ParseReviewStatus(std::string_view name, ReviewStatus* status) {
  for (ReviewStatus s :
       {ReviewStatus::kReviewed, ReviewStatus::kEscalated, ReviewStatus::kClosed}) {
    if (name == ReviewStatusName(s)) {
      *status = s;
      return true;
    }
  }
  return false;
}

const char* TagActionName(TagAction action) { return action == TagAction::kAdd ? "add" : "remove"; }

const char* ShipActionName(ShipAction action) {
  return action == ShipAction::kUpload ? "upload" : "legal_hold";
}

const char* EntryKindName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kMessage:
      return "message";
    case EntryKind::kPolicy:
      return "policy";
    case EntryKind::kKey:
      return "key";
    case EntryKind::kCheckpoint:
      return "checkpoint";
    case EntryKind::kHold:
      return "hold";
    case EntryKind::kRelease:
      return "release";
    case EntryKind::kDispose:
      return "dispose";
    case EntryKind::kAccess:
      return "access";
    case EntryKind::kIndexKey:
      return "index_key";
    case EntryKind::kShip:
      return "ship";
    case EntryKind::kReview:
      return "review";
    case EntryKind::kTag:
      return "tag";
  }
  return "unknown";
}

const char* KeyActionName(KeyAction action) {
  return action == KeyAction::kAdded ? "added" : "removed";
}

int64_t Entry::time_us() const {
  switch (kind) {
    case EntryKind::kMessage:
      return message.time_us;
    case EntryKind::kPolicy:
      return policy.time_us;
    case EntryKind::kKey:
      return key.time_us;
    case EntryKind::kCheckpoint:
      return checkpoint.time_us;
    case EntryKind::kHold:
    case EntryKind::kRelease:
      return hold.time_us;
    case EntryKind::kDispose:
      return dispose.time_us;
    case EntryKind::kAccess:
      return access.time_us;
    case EntryKind::kIndexKey:
      return index_key.time_us;
    case EntryKind::kShip:
      return ship.time_us;
    case EntryKind::kReview:
      return review.time_us;
    case EntryKind::kTag:
      return tag.time_us;
  }
  return 0;
}

void Entry::set_time_us(int64_t t) {
  switch (kind) {
    case EntryKind::kMessage:
      message.time_us = t;
      return;
    case EntryKind::kPolicy:
      policy.time_us = t;
      return;
    case EntryKind::kKey:
      key.time_us = t;
      return;
    case EntryKind::kCheckpoint:
      checkpoint.time_us = t;
      return;
    case EntryKind::kHold:
    case EntryKind::kRelease:
      hold.time_us = t;
      return;
    case EntryKind::kDispose:
      dispose.time_us = t;
      return;
    case EntryKind::kAccess:
      access.time_us = t;
      return;
    case EntryKind::kIndexKey:
      index_key.time_us = t;
      return;
    case EntryKind::kShip:
      ship.time_us = t;
      return;
    case EntryKind::kReview:
      review.time_us = t;
      return;
    case EntryKind::kTag:
      tag.time_us = t;
      return;
  }
}

std::string EncodeEntry(const Entry& entry) {
  switch (entry.kind) {
    case EntryKind::kMessage:
      return EncodeMessage(entry.message);
    case EntryKind::kPolicy:
      return EncodePolicy(entry.policy);
    case EntryKind::kKey:
      return EncodeKey(entry.key);
    case EntryKind::kCheckpoint:
      return EncodeCheckpoint(entry.checkpoint);
    case EntryKind::kHold:
    case EntryKind::kRelease:
      return EncodeHold(entry.kind, entry.hold);
    case EntryKind::kDispose:
      return EncodeDispose(entry.dispose);
    case EntryKind::kAccess:
      return EncodeAccess(entry.access);
    case EntryKind::kIndexKey:
      return EncodeIndexKey(entry.index_key);
    case EntryKind::kShip:
      return EncodeShip(entry.ship);
    case EntryKind::kReview:
      return EncodeReview(entry.review);
    case EntryKind::kTag:
      return EncodeTag(entry.tag);
  }
  return "";
}

Status DecodeEntry(std::string_view in, Entry* entry) {
  if (in.size() < 4) return Corrupt("truncated header");
  if (in[0] != kMagic[0] || in[1] != kMagic[1]) return Corrupt("bad magic");
  uint8_t version = static_cast<uint8_t>(in[2]);
  if (version != kEntryFormatVersion) {
    return Corrupt("unknown format version " + std::to_string(version));
  }
  uint8_t kind = static_cast<uint8_t>(in[3]);
  in.remove_prefix(4);
  switch (kind) {
    case static_cast<uint8_t>(EntryKind::kMessage):
      entry->kind = EntryKind::kMessage;
      return DecodeMessage(in, &entry->message);
    case static_cast<uint8_t>(EntryKind::kPolicy):
      entry->kind = EntryKind::kPolicy;
      return DecodePolicy(in, &entry->policy);
    case static_cast<uint8_t>(EntryKind::kKey):
      entry->kind = EntryKind::kKey;
      return DecodeKey(in, &entry->key);
    case static_cast<uint8_t>(EntryKind::kCheckpoint):
      entry->kind = EntryKind::kCheckpoint;
      return DecodeCheckpoint(in, &entry->checkpoint);
    case static_cast<uint8_t>(EntryKind::kHold):
    case static_cast<uint8_t>(EntryKind::kRelease):
      entry->kind = static_cast<EntryKind>(kind);
      return DecodeHold(in, entry->kind, &entry->hold);
    case static_cast<uint8_t>(EntryKind::kDispose):
      entry->kind = EntryKind::kDispose;
      return DecodeDispose(in, &entry->dispose);
    case static_cast<uint8_t>(EntryKind::kAccess):
      entry->kind = EntryKind::kAccess;
      return DecodeAccess(in, &entry->access);
    case static_cast<uint8_t>(EntryKind::kIndexKey):
      entry->kind = EntryKind::kIndexKey;
      return DecodeIndexKey(in, &entry->index_key);
    case static_cast<uint8_t>(EntryKind::kShip):
      entry->kind = EntryKind::kShip;
      return DecodeShip(in, &entry->ship);
    case static_cast<uint8_t>(EntryKind::kReview):
      entry->kind = EntryKind::kReview;
      return DecodeReview(in, &entry->review);
    case static_cast<uint8_t>(EntryKind::kTag):
      entry->kind = EntryKind::kTag;
      return DecodeTag(in, &entry->tag);
  }
  return Corrupt("unknown entry kind " + std::to_string(kind));
}

std::string BareAddress(const std::vector<std::string>& args) {
  if (args.empty()) return "";
  const std::string& a = args[0];
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') return a.substr(1, a.size() - 2);
  return a;
}

std::vector<std::pair<uint64_t, uint64_t>> ToRanges(std::vector<uint64_t> seqs) {
  std::sort(seqs.begin(), seqs.end());
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (uint64_t s : seqs) {
    if (!ranges.empty() && s <= ranges.back().second + 1) {
      ranges.back().second = std::max(ranges.back().second, s);
    } else {
      ranges.emplace_back(s, s);
    }
  }
  return ranges;
}

std::string HexEncode(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

std::string HexDecode(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return "";
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return "";
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

}  // namespace mailjournal
