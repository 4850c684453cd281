// Sealing: a message's bytes as one standard CMS structure that only the holders of the
// recipients' private keys can open (mailjournal-format(5), "SEALED CONTENT").
//
// The sealed form is a BER-encoded CMS ContentInfo of type AuthEnvelopedData (RFC 5083):
// AES-256-GCM under a fresh random key per message, that key transported to each recipient
// certificate with RSA-OAEP (RFC 8017), the content being the zstd-compressed message
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

class Sealer {
 public:
  // A sealer to these recipients (PEM X.509 certificates with RSA keys, at least one).
  // InvalidArgument when a certificate does not parse or its key is not RSA.
  static Status Create(const std::vector<std::string>& certificates_pem,
                       std::unique_ptr<Sealer>* sealer);
  ~Sealer();
  Sealer(const Sealer&) = delete;
  Sealer& operator=(const Sealer&) = delete;

  // Seals more plaintext. Sealed bytes accumulate for Take(). Errors are sticky.
  Status Append(std::string_view plaintext);
  // Ends the message (the GCM tag is written). REQUIRES: called once, after the last Append.
  Status Finish();
  // Moves out the sealed bytes produced so far (possibly none).
  std::string Take();

  // SHA-256 of each recipient certificate (DER), in the order given.
  const std::vector<Sha256Digest>& recipients() const;

 private:
  struct State;
  explicit Sealer(std::unique_ptr<State> state);
  Status Drain();
  std::unique_ptr<State> state_;
};

// Opens sealed bytes with a PEM private key (encrypted PKCS#8 with the NUL-terminated
// `passphrase`, or plain).
// On success sets *plaintext to the captured bytes. Corruption when the structure or its
// authentication tag does not check (nothing is returned then); InvalidArgument when the
// key cannot be read; NotFound when the key is not one of the recipients'.
Status Unseal(std::string_view sealed, const std::string& private_key_pem, const char* passphrase,
              std::string* plaintext);

}  // namespace mailjournal

#endif  // MAILJOURNAL_SEAL_H_
