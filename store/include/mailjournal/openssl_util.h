// Small helpers shared by the code that uses OpenSSL: owning pointers, a memory BIO over
// bytes, and OpenSSL's error queue as text. Thread-safe (OpenSSL's error queue is per
// thread).
#ifndef MAILJOURNAL_OPENSSL_UTIL_H_
#define MAILJOURNAL_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

namespace mailjournal {

template <typename T, void (*Free)(T*)>
struct OpenSslFree {
  void operator()(T* p) const { Free(p); }
};
// An owning pointer that frees with OpenSSL's function for the type.
template <typename T, void (*Free)(T*)>
using OpenSslPtr = std::unique_ptr<T, OpenSslFree<T, Free>>;

using BioPtr = OpenSslPtr<BIO, BIO_free_all>;
using PkeyPtr = OpenSslPtr<EVP_PKEY, EVP_PKEY_free>;
using X509Ptr = OpenSslPtr<X509, X509_free>;
using MdCtxPtr = OpenSslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;

// A read-only memory BIO over `bytes`, which must outlive it.
BioPtr MemoryBio(std::string_view bytes);

// "what: reason; reason" from this thread's OpenSSL error queue, which it empties.
std::string OpenSslErrors(const std::string& what);

// Standard base64 (RFC 4648, padded), one line.
std::string Base64Encode(std::string_view bytes);
// Strict: standard alphabet, padded, canonical (re-encodes to the same text). False, with
// *bytes unchanged, for anything else.
bool Base64Decode(std::string_view text, std::string* bytes);

}  // namespace mailjournal

#endif  // MAILJOURNAL_OPENSSL_UTIL_H_
