#include "key_file.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <climits>
#include <memory>

#include "mailjournal/seal.h"

namespace mailjournal {
namespace policy_internal {

namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* x509) const { X509_free(x509); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* pkey) const { EVP_PKEY_free(pkey); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

// Never prompts: certificates and public keys are not encrypted.
int NoPassword(char*, int, int, void*) { return 0; }

BioPtr MemoryBio(const std::string& bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

}  // namespace

bool CheckPublicKeyFile(const std::string& bytes, Sha256Digest* fingerprint, std::string* reason) {
  if (bytes.size() > INT_MAX) {
    *reason = "is too large";
    return false;
  }
  if (bytes.find("PRIVATE KEY-----") != std::string::npos) {
    *reason = "holds a private key (give only the certificate or public key)";
    return false;
  }
  // Sealing (mailjournal/seal.h) names each CMS recipient by its certificate and wraps
  // the message key with RSA-OAEP: a bare public key or another key type cannot serve.
  BioPtr bio = MemoryBio(bytes);
  std::unique_ptr<X509, X509Free> cert(
      bio ? PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr) : nullptr);
  ERR_clear_error();  // a failed attempt leaves errors on this thread's queue
  if (!cert) {
    *reason =
        "holds no PEM certificate (a bare public key cannot name a CMS recipient; "
        "make one with mailjournal keygen)";
    return false;
  }
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    *reason = "holds a certificate whose key is not RSA (sealing uses RSA-OAEP)";
    return false;
  }
  if (EVP_PKEY_get_bits(key) < 2048) {
    *reason =
        "holds an RSA key of " + std::to_string(EVP_PKEY_get_bits(key)) + " bits (at least 2048)";
    return false;
  }
  Status s = CertificateKeyFingerprint(bytes, fingerprint);
  if (!s.ok()) {
    *reason = "cannot be fingerprinted: " + s.message();
    return false;
  }
  return true;
}

}  // namespace policy_internal
}  // namespace mailjournal
