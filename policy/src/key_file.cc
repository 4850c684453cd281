#include "key_file.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <climits>
#include <memory>

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

bool CheckPublicKeyFile(const std::string& bytes, std::string* reason) {
  if (bytes.size() > INT_MAX) {
    *reason = "is too large";
    return false;
  }
  if (bytes.find("PRIVATE KEY-----") != std::string::npos) {
    *reason = "holds a private key (give only the certificate or public key)";
    return false;
  }
  bool ok = false;
  BioPtr bio = MemoryBio(bytes);
  if (bio) {
    std::unique_ptr<X509, X509Free> cert(
        PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr));
    ok = cert != nullptr;
  }
  if (!ok) {
    bio = MemoryBio(bytes);
    if (bio) {
      std::unique_ptr<EVP_PKEY, PkeyFree> key(
          PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassword, nullptr));
      ok = key != nullptr;
    }
  }
  ERR_clear_error();  // the failed attempts leave errors on this thread's queue
  if (!ok) *reason = "holds no PEM certificate or public key";
  return ok;
}

}  // namespace policy_internal
}  // namespace mailjournal
