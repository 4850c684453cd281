#include "mailjournal/checkpoint.h"

#include <openssl/evp.h>

#include <cctype>
#include <vector>

#include "mailjournal/openssl_util.h"
#include "mailjournal/sha256.h"
#include "mailjournal/time_util.h"

namespace mailjournal {

namespace {

constexpr char kSignaturePrefix[] = "\xe2\x80\x94 ";  // U+2014 em dash, space
constexpr uint8_t kEd25519Type = 0x01;
constexpr char kPrivatePrefix[] = "PRIVATE+KEY+";

bool ValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c == '+' || c == 0x7f) return false;
  }
  return true;
}

uint32_t KeyId(const std::string& name, std::string_view public_key) {
  Sha256 sha;
  sha.Update(name);
  sha.Update(std::string_view("\n\x01", 2));
  sha.Update(public_key);
  Sha256Digest d = sha.Final();
  return static_cast<uint32_t>(d[0]) << 24 | static_cast<uint32_t>(d[1]) << 16 |
         static_cast<uint32_t>(d[2]) << 8 | d[3];
}

std::string Hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

// Splits "NAME+HEXID+BASE64" into its parts and checks them; *key gets the 32 key bytes
// after the type byte.
Status ParseKeyText(std::string_view text, std::string* name, uint32_t* id, std::string* key) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  size_t a = text.find('+'), b = a == std::string_view::npos ? a : text.find('+', a + 1);
  Status bad = Status::InvalidArgument("not a note key (NAME+HEXID+BASE64)");
  if (b == std::string_view::npos) return bad;  // the base64 part may hold '+' itself
  *name = std::string(text.substr(0, a));
  std::string_view hex = text.substr(a + 1, b - a - 1);
  std::string raw;
  if (!ValidKeyName(*name) || hex.size() != 8 || !Base64Decode(text.substr(b + 1), &raw) ||
      raw.size() != 33 || static_cast<uint8_t>(raw[0]) != kEd25519Type) {
    return bad;
  }
  std::string id_bytes = HexDecode(hex);
  if (id_bytes.size() != 4) return bad;
  *id = static_cast<uint32_t>(static_cast<uint8_t>(id_bytes[0])) << 24 |
        static_cast<uint32_t>(static_cast<uint8_t>(id_bytes[1])) << 16 |
        static_cast<uint32_t>(static_cast<uint8_t>(id_bytes[2])) << 8 |
        static_cast<uint8_t>(id_bytes[3]);
  *key = raw.substr(1);
  return Status::OK();
}

std::string PublicKeyBytes(EVP_PKEY* key) {
  std::string pub(32, '\0');
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(&pub[0]), &len) != 1 ||
      len != 32) {
    return "";
  }
  return pub;
}

std::string VerifierKeyText(const std::string& name, const std::string& pub) {
  return name + "+" + Hex8(KeyId(name, pub)) + "+" +
         Base64Encode(std::string(1, static_cast<char>(kEd25519Type)) + pub);
}

}  // namespace

std::string FormatCheckpoint(const Checkpoint& c) {
  return c.origin + "\n" + std::to_string(c.size) + "\n" +
         Base64Encode(std::string_view(reinterpret_cast<const char*>(c.root.data()), 32)) +
         "\ntime " + FormatTimeUtc(c.time_us) + "\n";
}

Status ParseCheckpoint(std::string_view body, Checkpoint* c) {
  std::vector<std::string_view> lines;
  while (!body.empty()) {
    size_t nl = body.find('\n');
    if (nl == std::string_view::npos) {
      return Status::InvalidArgument("checkpoint: the last line has no newline");
    }
    lines.push_back(body.substr(0, nl));
    body.remove_prefix(nl + 1);
  }
  if (lines.size() != 4) return Status::InvalidArgument("checkpoint: expected 4 lines");
  Checkpoint out;
  out.origin = std::string(lines[0]);
  if (out.origin.empty()) return Status::InvalidArgument("checkpoint: empty origin");
  std::string_view size = lines[1];
  if (size.empty() || size.size() > 19 || size.find_first_not_of("0123456789") != size.npos ||
      (size.size() > 1 && size[0] == '0')) {
    return Status::InvalidArgument("checkpoint: bad tree size");
  }
  out.size = std::stoull(std::string(size));
  std::string root;
  if (!Base64Decode(lines[2], &root) || root.size() != 32) {
    return Status::InvalidArgument("checkpoint: bad root hash");
  }
  std::copy(root.begin(), root.end(), out.root.begin());
  if (lines[3].substr(0, 5) != "time " ||
      !ParseTime(std::string(lines[3].substr(5)), &out.time_us).ok()) {
    return Status::InvalidArgument("checkpoint: bad time line");
  }
  *c = std::move(out);
  return Status::OK();
}

Status GenerateNoteKey(const std::string& name, std::string* signer_key,
                       std::string* verifier_key) {
  if (!ValidKeyName(name)) {
    return Status::InvalidArgument("key name '" + name +
                                   "' must be non-empty, without spaces or '+'");
  }
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  std::string seed(32, '\0');
  size_t len = seed.size();
  if (!key ||
      EVP_PKEY_get_raw_private_key(key.get(), reinterpret_cast<unsigned char*>(&seed[0]), &len) !=
          1 ||
      len != 32) {
    return Status::Internal("cannot generate an Ed25519 key");
  }
  std::string pub = PublicKeyBytes(key.get());
  if (pub.empty()) return Status::Internal("cannot read the Ed25519 public key");
  uint32_t id = KeyId(name, pub);
  *signer_key = kPrivatePrefix + name + "+" + Hex8(id) + "+" +
                Base64Encode(std::string(1, static_cast<char>(kEd25519Type)) + seed);
  *verifier_key = VerifierKeyText(name, pub);
  std::fill(seed.begin(), seed.end(), '\0');
  return Status::OK();
}

struct NoteSigner::State {
  PkeyPtr key;
  uint32_t key_id = 0;
};

NoteSigner::~NoteSigner() = default;

Status NoteSigner::Create(std::string_view text, std::unique_ptr<NoteSigner>* signer) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  if (text.substr(0, sizeof(kPrivatePrefix) - 1) != kPrivatePrefix) {
    return Status::InvalidArgument("not a signer key (PRIVATE+KEY+NAME+HEXID+BASE64)");
  }
  std::string name, seed;
  uint32_t id = 0;
  Status s = ParseKeyText(text.substr(sizeof(kPrivatePrefix) - 1), &name, &id, &seed);
  if (!s.ok()) return Status::InvalidArgument("not a signer key (PRIVATE+KEY+NAME+HEXID+BASE64)");
  auto out = std::unique_ptr<NoteSigner>(new NoteSigner);
  out->state_ = std::make_unique<State>();
  out->state_->key.reset(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), 32));
  std::fill(seed.begin(), seed.end(), '\0');
  std::string pub = out->state_->key ? PublicKeyBytes(out->state_->key.get()) : "";
  if (pub.empty()) return Status::InvalidArgument("signer key: not an Ed25519 key");
  if (KeyId(name, pub) != id)
    return Status::InvalidArgument("signer key: its key id does not match");
  out->state_->key_id = id;
  out->name_ = name;
  out->verifier_key_ = VerifierKeyText(name, pub);
  *signer = std::move(out);
  return Status::OK();
}

Status NoteSigner::Sign(const std::string& text, std::string* note) const {
  if (text.empty() || text.back() != '\n')
    return Status::InvalidArgument("note text must end in a newline");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char sig[64];
  size_t len = sizeof sig;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, state_->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size()) != 1 ||
      len != 64) {
    return Status::Internal("cannot sign the note");
  }
  uint32_t id = state_->key_id;
  std::string raw = {static_cast<char>(id >> 24), static_cast<char>(id >> 16),
                     static_cast<char>(id >> 8), static_cast<char>(id)};
  raw.append(reinterpret_cast<const char*>(sig), len);
  *note = text + "\n" + kSignaturePrefix + name_ + " " + Base64Encode(raw) + "\n";
  return Status::OK();
}

struct NoteVerifier::State {
  PkeyPtr key;
};

NoteVerifier::~NoteVerifier() = default;

Status NoteVerifier::Create(std::string_view text, std::unique_ptr<NoteVerifier>* verifier) {
  std::string name, pub;
  uint32_t id = 0;
  Status s = ParseKeyText(text, &name, &id, &pub);
  if (!s.ok()) return Status::InvalidArgument("not a verifier key (NAME+HEXID+BASE64)");
  if (KeyId(name, pub) != id)
    return Status::InvalidArgument("verifier key: its key id does not match");
  auto out = std::unique_ptr<NoteVerifier>(new NoteVerifier);
  out->state_ = std::make_unique<State>();
  out->state_->key.reset(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(pub.data()), 32));
  if (!out->state_->key) return Status::InvalidArgument("verifier key: not an Ed25519 key");
  out->name_ = name;
  out->key_id_ = id;
  *verifier = std::move(out);
  return Status::OK();
}

Status NoteText(std::string_view note, std::string* text) {
  // The text ends at the last "\n\n"; signature lines follow, each ending in a newline.
  size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos || note.back() != '\n' || split + 2 == note.size()) {
    return Status::Corruption("note: no signature block");
  }
  *text = std::string(note.substr(0, split + 1));
  return Status::OK();
}

Status NoteVerifier::Verify(std::string_view note, std::string* text) const {
  std::string body;
  Status s = NoteText(note, &body);
  if (!s.ok()) return s;
  std::string_view sigs = note.substr(body.size() + 1);
  bool ours = false;
  while (!sigs.empty()) {
    size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    const std::string_view prefix(kSignaturePrefix);
    size_t space = line.rfind(' ');
    if (line.substr(0, prefix.size()) != prefix || space == std::string_view::npos ||
        space < prefix.size()) {
      return Status::Corruption("note: malformed signature line");
    }
    std::string_view name = line.substr(prefix.size(), space - prefix.size());
    std::string raw;
    if (!Base64Decode(line.substr(space + 1), &raw) || raw.size() < 4) {
      return Status::Corruption("note: malformed signature");
    }
    uint32_t id = static_cast<uint32_t>(static_cast<uint8_t>(raw[0])) << 24 |
                  static_cast<uint32_t>(static_cast<uint8_t>(raw[1])) << 16 |
                  static_cast<uint32_t>(static_cast<uint8_t>(raw[2])) << 8 |
                  static_cast<uint8_t>(raw[3]);
    if (name != name_ || id != key_id_) continue;  // another key's signature
    ours = true;
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (raw.size() != 68 || !ctx ||
        EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, state_->key.get()) != 1 ||
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(raw.data() + 4), 64,
                         reinterpret_cast<const unsigned char*>(body.data()), body.size()) != 1) {
      return Status::Corruption("note: the signature of " + name_ + " does not verify");
    }
  }
  if (!ours) return Status::Corruption("note: not signed by " + name_);
  *text = std::move(body);
  return Status::OK();
}

}  // namespace mailjournal
