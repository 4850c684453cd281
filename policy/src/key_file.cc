#include "key_file.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <climits>
#include <memory>

#include "mailjournal/openssl_util.h"
#include "mailjournal/seal.h"

namespace mailjournal {
namespace policy_internal {

namespace {

// Never prompts: certificates and public keys are not encrypted.
int NoPassword(char*, int, int, void*) { return 0; }

}  // namespace

bool CheckPublicKeyFile(const std::string& bytes, std::shared_ptr<const RecipientKey>* key,
                        std::string* reason) {
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
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr) : nullptr);
  ERR_clear_error();  // a failed attempt leaves errors on this thread's queue
  if (!cert) {
    *reason =
        "holds no PEM certificate (a bare public key cannot name a CMS recipient; "
        "make one with mailjournal keygen)";
    return false;
  }
  EVP_PKEY* pkey = X509_get0_pubkey(cert.get());
  if (pkey == nullptr || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
    *reason = "holds a certificate whose key is not RSA (sealing uses RSA-OAEP)";
    return false;
  }
  if (EVP_PKEY_get_bits(pkey) < 2048) {
    *reason =
        "holds an RSA key of " + std::to_string(EVP_PKEY_get_bits(pkey)) + " bits (at least 2048)";
    return false;
  }
  Status s = RecipientKey::Parse(bytes, key);
  if (!s.ok()) {
    *reason = "cannot serve as a recipient: " + s.message();
    return false;
  }
  return true;
}

}  // namespace policy_internal
}  // namespace mailjournal
