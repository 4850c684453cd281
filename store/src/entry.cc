#include "mailjournal/entry.h"

#include <string>

namespace mailjournal {

namespace {

constexpr char kMagic[2] = {'M', 'J'};

enum Tag : uint32_t {
  kTagTime = 1,
  kTagQueueId = 2,
  kTagMail = 3,
  kTagRcpt = 4,
  kTagClientAddr = 5,
  kTagClientPort = 6,
  kTagClientName = 7,
  kTagHelo = 8,
  kTagAuth = 9,
  kTagDaemon = 10,
  kTagSize = 11,
  kTagSha256 = 12,
  kTagTxn = 13,
  kTagChunks = 14,
  kTagMax = 14,
};

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads a LEB128 varint of at most 10 bytes; rejects non-minimal encodings so that the
// encoding stays canonical.
bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0, i = 0; i < 10 && !in->empty(); ++i, shift += 7) {
    uint8_t byte = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    if (i == 9 && byte > 1) return false;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      if (byte == 0 && i > 0) return false;  // non-minimal
      *v = result;
      return true;
    }
  }
  return false;
}

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

}  // namespace

std::string EncodeMessageEntry(const MessageEntry& entry) {
  const Envelope& env = entry.envelope;
  std::string out(kMagic, sizeof kMagic);
  out.push_back(static_cast<char>(kEntryFormatVersion));
  out.push_back(static_cast<char>(EntryKind::kMessage));
  PutField(&out, kTagTime, FixedBE(static_cast<uint64_t>(entry.time_us), 8));
  PutOptionalField(&out, kTagQueueId, env.queue_id);
  PutField(&out, kTagMail, EncodeStringList(env.mail));
  for (const auto& r : env.rcpt) PutField(&out, kTagRcpt, EncodeStringList(r));
  PutOptionalField(&out, kTagClientAddr, env.client_addr);
  if (env.client_port != 0) PutField(&out, kTagClientPort, FixedBE(env.client_port, 2));
  PutOptionalField(&out, kTagClientName, env.client_name);
  PutOptionalField(&out, kTagHelo, env.helo);
  PutOptionalField(&out, kTagAuth, env.auth);
  PutOptionalField(&out, kTagDaemon, env.daemon);
  PutField(&out, kTagSize, FixedBE(entry.content.size, 8));
  PutField(&out, kTagSha256,
           std::string_view(reinterpret_cast<const char*>(entry.content.sha256.data()),
                            entry.content.sha256.size()));
  PutField(&out, kTagTxn, FixedBE(entry.content.txn, 8));
  PutField(&out, kTagChunks, FixedBE(entry.content.chunks, 4));
  return out;
}

Status PeekEntryKind(std::string_view in, EntryKind* kind) {
  if (in.size() < 4) return Corrupt("truncated header");
  if (in[0] != kMagic[0] || in[1] != kMagic[1]) return Corrupt("bad magic");
  uint8_t version = static_cast<uint8_t>(in[2]);
  if (version != kEntryFormatVersion) {
    return Corrupt("unknown format version " + std::to_string(version));
  }
  uint8_t k = static_cast<uint8_t>(in[3]);
  if (k != static_cast<uint8_t>(EntryKind::kMessage)) {
    return Corrupt("unknown entry kind " + std::to_string(k));
  }
  *kind = static_cast<EntryKind>(k);
  return Status::OK();
}

Status DecodeMessageEntry(std::string_view in, MessageEntry* entry) {
  EntryKind kind;
  Status s = PeekEntryKind(in, &kind);
  if (!s.ok()) return s;
  if (kind != EntryKind::kMessage) return Corrupt("not a message entry");
  in.remove_prefix(4);
  *entry = MessageEntry();
  Envelope& env = entry->envelope;
  uint32_t last_tag = 0;
  uint32_t seen = 0;  // bit per tag
  while (!in.empty()) {
    uint64_t tag, len;
    if (!GetVarint(&in, &tag)) return Corrupt("truncated field tag");
    if (tag == 0 || tag > kTagMax) return Corrupt("unknown field tag " + std::to_string(tag));
    if (tag < last_tag || (tag == last_tag && tag != kTagRcpt)) {
      return Corrupt("field tag " + std::to_string(tag) + " out of order");
    }
    last_tag = static_cast<uint32_t>(tag);
    seen |= 1u << tag;
    if (!GetVarint(&in, &len)) return Corrupt("truncated field length");
    if (len > in.size()) return Corrupt("truncated field " + std::to_string(tag));
    std::string_view value = in.substr(0, len);
    in.remove_prefix(len);
    auto fixed = [&](size_t n) -> bool { return value.size() == n; };
    // Writers omit empty optional strings and a zero port: accepting them would give one
    // entry two encodings.
    bool ok = !(value.empty() && tag != kTagMail && tag != kTagRcpt);
    switch (tag) {
      case kTagTime:
        ok = fixed(8);
        if (ok) entry->time_us = static_cast<int64_t>(ReadBE(value));
        break;
      case kTagQueueId:
        env.queue_id.assign(value);
        break;
      case kTagMail:
        ok = DecodeStringList(value, &env.mail);
        break;
      case kTagRcpt:
        env.rcpt.emplace_back();
        ok = DecodeStringList(value, &env.rcpt.back());
        break;
      case kTagClientAddr:
        env.client_addr.assign(value);
        break;
      case kTagClientPort:
        ok = fixed(2) && ReadBE(value) != 0;
        if (ok) env.client_port = static_cast<uint16_t>(ReadBE(value));
        break;
      case kTagClientName:
        env.client_name.assign(value);
        break;
      case kTagHelo:
        env.helo.assign(value);
        break;
      case kTagAuth:
        env.auth.assign(value);
        break;
      case kTagDaemon:
        env.daemon.assign(value);
        break;
      case kTagSize:
        ok = fixed(8);
        if (ok) entry->content.size = ReadBE(value);
        break;
      case kTagSha256:
        ok = fixed(32);
        if (ok) std::copy(value.begin(), value.end(), entry->content.sha256.begin());
        break;
      case kTagTxn:
        ok = fixed(8);
        if (ok) entry->content.txn = ReadBE(value);
        break;
      case kTagChunks:
        ok = fixed(4);
        if (ok) entry->content.chunks = static_cast<uint32_t>(ReadBE(value));
        break;
    }
    if (!ok) return Corrupt("malformed value of field " + std::to_string(tag));
  }
  for (uint32_t required : {kTagTime, kTagMail, kTagSize, kTagSha256, kTagTxn, kTagChunks}) {
    if (!(seen & (1u << required))) {
      return Corrupt("missing required field " + std::to_string(required));
    }
  }
  return Status::OK();
}

std::string BareAddress(const std::vector<std::string>& args) {
  if (args.empty()) return "";
  const std::string& a = args[0];
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') return a.substr(1, a.size() - 2);
  return a;
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

}  // namespace mailjournal
