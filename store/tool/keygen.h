// Department keys for sealing messages: an RSA key pair, the private key in an encrypted
// PKCS#8 file and the public key in a self-signed X.509 certificate (mailjournal(8), KEYGEN).
//
// The certificate is what the policy names (`keys: [NAME.crt]`) and what CMS recipients are
// identified by (issuer and serial number); the private key belongs on the compliance
// officers' machine, never on the MTA host. Everything here uses OpenSSL 3 only.
//
// Thread-safety: the functions share no state; the OpenSSL error queue they drain is per
// thread.
#ifndef MAILJOURNAL_TOOL_KEYGEN_H_
#define MAILJOURNAL_TOOL_KEYGEN_H_

#include <cstddef>
#include <string>

#include "mailjournal/status.h"

namespace mailjournal {

constexpr int kKeygenRsaBits = 3072;
// Archives must stay readable for 20 years and more; a certificate's dates are not checked
// when decrypting, but a long validity keeps other tools from refusing the certificate.
constexpr int kKeygenDefaultDays = 36500;
constexpr int kKeygenMaxDays = 100000;
// PBKDF2-HMAC-SHA256 iterations protecting the private key file (PKCS#5 PBES2).
constexpr int kKeygenPbkdf2Iterations = 600000;

// A passphrase in a fixed buffer that is overwritten with OPENSSL_cleanse when it is
// replaced or destroyed (never copied into memory that is not cleansed).
class Passphrase {
 public:
  // At most this many bytes (as `openssl ... -passin file:` reads at most 1023).
  static constexpr size_t kMaxSize = 1023;

  Passphrase() = default;
  ~Passphrase();
  Passphrase(const Passphrase&) = delete;
  Passphrase& operator=(const Passphrase&) = delete;

  // Sets the passphrase. REQUIRES: size <= kMaxSize.
  void Assign(const char* bytes, size_t size);
  void Clear();
  const char* data() const { return buf_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  char buf_[kMaxSize + 1] = {};
  size_t size_ = 0;
};

// Reads the first line of `path`, without its LF, into *passphrase (as
// `openssl -passin file:PATH` does). Returns NotFound when the file cannot be opened,
// IOError when it cannot be read, InvalidArgument when the line is empty, longer than
// Passphrase::kMaxSize or holds a NUL byte; *passphrase is then cleared.
Status ReadPassphraseFile(const std::string& path, Passphrase* passphrase);

// Prompts for a new passphrase twice on the terminal (standard input and error when there
// is none), without echo. Returns InvalidArgument when the answers differ or are empty,
// IOError when the prompt fails or is interrupted; *passphrase is then cleared.
Status PromptNewPassphrase(const std::string& what, Passphrase* passphrase);

struct KeygenOptions {
  std::string department;  // see IsValidPolicyName (mailjournal/policy.h)
  std::string dir;         // an existing directory
  int days = kKeygenDefaultDays;
};

struct KeygenResult {
  std::string key_path;          // DIR/NAME.key
  std::string certificate_path;  // DIR/NAME.crt
  std::string fingerprint;       // the key's fingerprint (CertificateKeyFingerprint), hex
  std::string not_after;         // the certificate's last valid day, e.g. "2126-11-03"
};

// Generates an RSA-3072 key pair and writes
//   DIR/NAME.key  the private key, PEM "ENCRYPTED PRIVATE KEY" (PKCS#8, PBES2 with
//                 PBKDF2-HMAC-SHA256 and AES-256-CBC under `passphrase`), mode 0600;
//   DIR/NAME.crt  a self-signed certificate, PEM, mode 0644: subject and issuer
//                 CN=mailjournal department NAME, a random positive 128-bit serial number,
//                 valid from now for `days` days, keyUsage keyEncipherment (critical),
//                 basicConstraints CA:FALSE (critical), a subject key identifier; signed with
//                 SHA-256.
// Both files are created with O_EXCL: an existing file is never overwritten.
//
// On success returns OK and fills *result. On error nothing is left behind (files this call
// created are removed) and the status is InvalidArgument (bad name, days or empty
// passphrase), IOError (a file cannot be created or written, including "already exists;
// not overwritten"), or Internal (OpenSSL failed; its error queue is in the message).
Status GenerateDepartmentKey(const KeygenOptions& options, const Passphrase& passphrase,
                             KeygenResult* result);

struct SigningKeyResult {
  std::string key_path;       // DIR/checkpoint.key
  std::string verifier_path;  // DIR/checkpoint.vkey
  std::string verifier_key;   // its text
};

// Generates the Ed25519 key that signs the journal's checkpoints under `origin` (the note
// key name and checkpoint origin, e.g. "mail.bank.example/journal"), and writes
//   DIR/checkpoint.key   the signer key text (mailjournal/checkpoint.h), mode 0600: the
//                        daemon reads it, so it is not passphrase-protected;
//   DIR/checkpoint.vkey  the verifier key text, mode 0644, for auditors and verify.
// Files are never overwritten; on error nothing is left behind. InvalidArgument for a bad
// origin, IOError for a file that cannot be created or written.
Status GenerateSigningKey(const std::string& origin, const std::string& dir,
                          SigningKeyResult* result);

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_KEYGEN_H_
