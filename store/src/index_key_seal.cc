#include "mailjournal/index_key_seal.h"

#include <algorithm>
#include <memory>
#include <string>

namespace mailjournal {

Status SealIndexKey(const IndexKey& key, const RecipientKeys& recipients, IndexKeyEntry* entry) {
  std::unique_ptr<Sealer> sealer;
  Status s = Sealer::Create(recipients, &sealer);
  if (s.ok()) {
    s = sealer->Append(
        std::string_view(reinterpret_cast<const char*>(key.secret.data()), key.secret.size()));
  }
  if (s.ok()) s = sealer->Finish();
  if (!s.ok()) return s;
  entry->key_id = key.id;
  entry->sealed = sealer->Take();
  entry->recipients = sealer->recipients();
  return Status::OK();
}

Status OpenIndexKey(const IndexKeyEntry& entry, const OpeningKey& key, IndexKey* out) {
  std::string what = "index key of " + entry.department;
  if (std::find(entry.recipients.begin(), entry.recipients.end(), key.fingerprint()) ==
      entry.recipients.end()) {
    return Status::PermissionDenied(what + ": not sealed to this key");
  }
  std::string secret;
  Status s = key.Open(entry.sealed, &secret);
  if (!s.ok()) return Status::Corruption(what + ": " + s.message());
  std::array<uint8_t, 32> raw{};
  if (secret.size() != raw.size()) {
    return Status::Corruption(what + ": the sealed secret is not 32 bytes");
  }
  std::copy(secret.begin(), secret.end(), raw.begin());
  IndexKey opened = MakeIndexKey(raw);
  if (opened.id != entry.key_id) {
    return Status::Corruption(what + ": the sealed secret is not that of key id " +
                              std::to_string(entry.key_id));
  }
  *out = opened;
  return Status::OK();
}

}  // namespace mailjournal
