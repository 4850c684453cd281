// Sealing: a message's bytes as one standard CMS structure that only the holders of the
// recipients' private keys can open (mailjournal-format(5), "SEALED CONTENT").
//
// The sealed form (scheme kSealSchemeCms1, entry.h) is a BER-encoded CMS ContentInfo of type
// AuthEnvelopedData (RFC 5083): AES-256-GCM under a fresh random key per message, that key
// transported to each recipient certificate with RSAES-OAEP, SHA-256 and MGF1-SHA-256
// (RFC 8017, RFC 4055), the content being the zstd-compressed message
// (a zstd frame, RFC 8878; CMS CompressedData is not available in Debian's OpenSSL). So
//   openssl cms -decrypt -binary -inform DER -inkey KEY -in SEALED | zstd -d
// yields the captured bytes. All cryptography is OpenSSL's (CMS, EVP).
//
// Sealer streams: memory stays bounded whatever the message size. Not thread-safe; one
// Sealer per message.
#ifndef MAILJOURNAL_SEAL_H_
#define MAILJOURNAL_SEAL_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mailjournal/entry.h"
#include "mailjournal/status.h"

namespace mailjournal {

// A recipient of sealed messages: its X.509 certificate (with an RSA key), parsed once and
// shared by the Sealers of every message sealed to it (a policy parses each key file when it
// loads). Immutable; thread-safe.
class RecipientKey {
 public:
  // InvalidArgument when `certificate_pem` holds no PEM certificate or its key is not RSA.
  static Status Parse(std::string_view certificate_pem, std::shared_ptr<const RecipientKey>* key);
  ~RecipientKey();
  RecipientKey(const RecipientKey&) = delete;
  RecipientKey& operator=(const RecipientKey&) = delete;

  // The key's fingerprint (CertificateKeyFingerprint).
  const Sha256Digest& fingerprint() const { return fingerprint_; }

 private:
  friend class Sealer;
  struct State;
  RecipientKey(std::unique_ptr<State> state, const Sha256Digest& fingerprint);
  std::unique_ptr<State> state_;
  Sha256Digest fingerprint_;
};

using RecipientKeys = std::vector<std::shared_ptr<const RecipientKey>>;

class Sealer {
 public:
  // A sealer to these recipients (at least one, none null). InvalidArgument when empty.
  static Status Create(const RecipientKeys& recipients, std::unique_ptr<Sealer>* sealer);
  ~Sealer();
  Sealer(const Sealer&) = delete;
  Sealer& operator=(const Sealer&) = delete;

  // Seals more plaintext. Sealed bytes accumulate for Take(). Errors are sticky.
  Status Append(std::string_view plaintext);
  // Ends the message (the GCM tag is written). REQUIRES: called once, after the last Append.
  Status Finish();
  // Moves out the sealed bytes produced so far (possibly none).
  std::string Take();

  // The key fingerprint (KeyFingerprint) of each recipient, in the order given.
  const std::vector<Sha256Digest>& recipients() const;

 private:
  struct State;
  explicit Sealer(std::unique_ptr<State> state);
  Status Drain();
  std::unique_ptr<State> state_;
};

// A key's fingerprint: the SHA-256 of its DER SubjectPublicKeyInfo. It is the same whether
// computed from the certificate, the public key or the private key, so
//   openssl pkey -in KEY.key -pubout -outform DER | sha256sum
// prints it from the private key alone. Sets *fingerprint from a PEM X.509 certificate;
// InvalidArgument when `certificate_pem` holds none.
Status CertificateKeyFingerprint(std::string_view certificate_pem, Sha256Digest* fingerprint);

// An officer's private key, loaded once, that opens the sealed messages it is a recipient
// of. Thread-compatible: const methods may run concurrently.
class OpeningKey {
 public:
  // Reads a PEM private key (encrypted PKCS#8 with the NUL-terminated `passphrase`, or
  // plain; null `passphrase`: OpenSSL prompts on the terminal). InvalidArgument when it
  // cannot be read (wrong passphrase, not a key) or is not an RSA key.
  static Status Load(const std::string& private_key_pem, const char* passphrase,
                     std::unique_ptr<OpeningKey>* key);
  ~OpeningKey();
  OpeningKey(const OpeningKey&) = delete;
  OpeningKey& operator=(const OpeningKey&) = delete;

  // This key's fingerprint (CertificateKeyFingerprint of its certificate).
  const Sha256Digest& fingerprint() const { return fingerprint_; }

  // Opens sealed bytes. On success sets *plaintext to the captured bytes. Corruption when
  // this key unwraps no recipient's content key (a damaged wrapped key, or a key that is
  // not a recipient's: callers check the recipients' fingerprints first) or when the
  // structure or its authentication tag does not check; nothing is returned then.
  Status Open(std::string_view sealed, std::string* plaintext) const;

 private:
  struct State;
  explicit OpeningKey(std::unique_ptr<State> state, const Sha256Digest& fingerprint);
  std::unique_ptr<State> state_;
  Sha256Digest fingerprint_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_SEAL_H_
