// Sha256: incremental SHA-256 through OpenSSL's EVP interface.
// Not thread-safe; one instance per stream.
#ifndef MAILJOURNAL_SHA256_H_
#define MAILJOURNAL_SHA256_H_

#include <openssl/evp.h>

#include <memory>
#include <string_view>

#include "mailjournal/entry.h"

namespace mailjournal {

class Sha256 {
 public:
  Sha256();  // throws std::runtime_error if OpenSSL cannot provide SHA-256
  void Update(std::string_view bytes);
  // Finishes the hash. REQUIRES: called once.
  Sha256Digest Final();
  // The digest of one string.
  static Sha256Digest Of(std::string_view bytes);

 private:
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_SHA256_H_
