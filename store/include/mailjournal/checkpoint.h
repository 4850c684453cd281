// Checkpoints: signed tree heads of the journal in the C2SP formats, so that any
// transparency-log tooling can read them.
//
// A checkpoint body (c2sp.org/tlog-checkpoint) is three lines: the origin (the log's name),
// the tree size in decimal, and the base64 root hash; this journal adds a fourth, extension
// line "time ISO-8601". It is signed as a note (c2sp.org/signed-note): the body, an empty
// line, then "— NAME base64(key id || Ed25519 signature)". The key id is the first four
// bytes of SHA-256(NAME || 0x0A || 0x01 || public key). Keys are written as in Go's
// golang.org/x/mod/sumdb/note: "PRIVATE+KEY+NAME+HEXID+base64(0x01 || seed)" for the signer
// and "NAME+HEXID+base64(0x01 || public key)" for verifiers. All cryptography is OpenSSL's.
//
// Thread-safety: NoteSigner and NoteVerifier are immutable after creation and may be used
// from several threads; the functions are thread-safe.
#ifndef MAILJOURNAL_CHECKPOINT_H_
#define MAILJOURNAL_CHECKPOINT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mailjournal/entry.h"
#include "mailjournal/status.h"

namespace mailjournal {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Sha256Digest root{};
  int64_t time_us = 0;  // when it was made
};

// The checkpoint body, ending in a newline.
std::string FormatCheckpoint(const Checkpoint& checkpoint);
// Parses a checkpoint body: exactly the four lines FormatCheckpoint writes. InvalidArgument
// with the reason otherwise.
Status ParseCheckpoint(std::string_view body, Checkpoint* checkpoint);

// The signed text of a note (up to the empty line before its signatures), without
// checking any signature. Corruption if the note has no signature block.
Status NoteText(std::string_view note, std::string* text);

// Makes a new Ed25519 key pair named `name` (non-empty, no spaces, no '+'); sets the signer
// and verifier key texts.
Status GenerateNoteKey(const std::string& name, std::string* signer_key, std::string* verifier_key);

class NoteSigner {
 public:
  // Reads a signer key text (surrounding white space ignored). InvalidArgument if malformed.
  static Status Create(std::string_view signer_key, std::unique_ptr<NoteSigner>* signer);
  ~NoteSigner();
  const std::string& name() const { return name_; }
  // The matching verifier key text.
  const std::string& verifier_key() const { return verifier_key_; }
  // The signed note of `text` (which must end in a newline).
  Status Sign(const std::string& text, std::string* note) const;

 private:
  struct State;
  NoteSigner() = default;
  std::unique_ptr<State> state_;
  std::string name_, verifier_key_;
};

class NoteVerifier {
 public:
  // Reads a verifier key text. InvalidArgument if malformed.
  static Status Create(std::string_view verifier_key, std::unique_ptr<NoteVerifier>* verifier);
  ~NoteVerifier();
  const std::string& name() const { return name_; }
  // Checks a signed note: it must be well formed and carry a signature line of this key
  // (name and key id) that verifies. On success sets *text to the signed text.
  // Corruption with the reason otherwise (a malformed note, no signature of this key, or
  // a signature that does not verify).
  Status Verify(std::string_view note, std::string* text) const;

 private:
  struct State;
  NoteVerifier() = default;
  std::unique_ptr<State> state_;
  std::string name_;
  uint32_t key_id_ = 0;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_CHECKPOINT_H_
