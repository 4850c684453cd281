#include "mailjournal/sha256.h"

#include <stdexcept>

namespace mailjournal {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256: OpenSSL digest initialisation failed");
  }
}

void Sha256::Update(std::string_view bytes) {
  if (EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1) {
    throw std::runtime_error("sha256: OpenSSL digest update failed");
  }
}

Sha256Digest Sha256::Final() {
  Sha256Digest digest;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), digest.data(), &len) != 1 || len != digest.size()) {
    throw std::runtime_error("sha256: OpenSSL digest finalisation failed");
  }
  return digest;
}

Sha256Digest Sha256::Of(std::string_view bytes) {
  Sha256 sha;
  sha.Update(bytes);
  return sha.Final();
}

}  // namespace mailjournal
