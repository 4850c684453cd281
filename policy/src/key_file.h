// Validation of the encryption recipients' key files. Thread-safe.
#ifndef MAILJOURNAL_POLICY_KEY_FILE_H_
#define MAILJOURNAL_POLICY_KEY_FILE_H_

#include <memory>
#include <string>

#include "mailjournal/seal.h"

namespace mailjournal {
namespace policy_internal {

// True if `bytes` hold a PEM X.509 certificate with an RSA key of at least 2048 bits (what
// sealing needs: a CMS recipient named by its certificate, RSA-OAEP key transport)
// and no private key, and sets *key to it, parsed for sealing. Otherwise returns false and
// sets *reason (e.g. "holds a private key").
bool CheckPublicKeyFile(const std::string& bytes, std::shared_ptr<const RecipientKey>* key,
                        std::string* reason);

}  // namespace policy_internal
}  // namespace mailjournal

#endif  // MAILJOURNAL_POLICY_KEY_FILE_H_
