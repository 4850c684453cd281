// Index keys for the auditor: a department's index key sealed into an index_key journal
// entry (mailjournal/entry.h IndexKeyEntry), and opened again with an officer's private key,
// so that segments can be searched without the daemon's key directory
// (mailjournal-format(5), ENTRIES and SEGMENTS).
//
// The sealed form is the same CMS AuthEnvelopedData as a message's (mailjournal/seal.h),
// over the 32-byte secret:
//   openssl cms -decrypt -binary -inform DER -inkey KEY -in SEALED | zstd -d
// prints the secret.
//
// Thread-safety: pure functions.
#ifndef MAILJOURNAL_INDEX_KEY_SEAL_H_
#define MAILJOURNAL_INDEX_KEY_SEAL_H_

#include "mailjournal/entry.h"
#include "mailjournal/index_keys.h"
#include "mailjournal/seal.h"
#include "mailjournal/status.h"

namespace mailjournal {

// Seals key's secret to `recipients` (at least one): sets entry->key_id, ->sealed and
// ->recipients (their fingerprints, in the order given); the other fields are the
// caller's. InvalidArgument when recipients is empty.
Status SealIndexKey(const IndexKey& key, const RecipientKeys& recipients, IndexKeyEntry* entry);

// Opens an index_key entry's secret with an officer's key. PermissionDenied when the key
// is not one of the entry's recipients; Corruption when the sealed bytes do not open, do
// not hold 32 bytes, or hold a secret whose id is not the entry's key id.
Status OpenIndexKey(const IndexKeyEntry& entry, const OpeningKey& key, IndexKey* out);

}  // namespace mailjournal

#endif  // MAILJOURNAL_INDEX_KEY_SEAL_H_
