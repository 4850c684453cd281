// Validation of the encryption recipients' key files. Thread-safe.
#ifndef MAILJOURNAL_POLICY_KEY_FILE_H_
#define MAILJOURNAL_POLICY_KEY_FILE_H_

#include <string>

#include "mailjournal/entry.h"

namespace mailjournal {
namespace policy_internal {

// True if `bytes` hold a PEM X.509 certificate with an RSA key of at least 2048 bits (what
// sealing needs: a CMS recipient named by its certificate, RSA-OAEP key transport)
// and no private key, and sets *fingerprint to the key's fingerprint (mailjournal/seal.h).
// Otherwise returns false and sets *reason (e.g. "holds a private key").
bool CheckPublicKeyFile(const std::string& bytes, Sha256Digest* fingerprint, std::string* reason);

}  // namespace policy_internal
}  // namespace mailjournal

#endif  // MAILJOURNAL_POLICY_KEY_FILE_H_
