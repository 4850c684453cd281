#include "mailjournal/openssl_util.h"

#include <openssl/err.h>

namespace mailjournal {

BioPtr MemoryBio(std::string_view bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::string OpenSslErrors(const std::string& what) {
  std::string out = what;
  const char* sep = ": ";
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += sep;
    out += buf;
    sep = "; ";
  }
  return out;
}

}  // namespace mailjournal
