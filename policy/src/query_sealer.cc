#include "mailjournal/query_sealer.h"

#include <set>

#include "mailjournal/admin_protocol.h"
#include "mailjournal/openssl_util.h"
#include "mailjournal/seal.h"

namespace mailjournal {

RecipientKeys SealingRecipients(const Policy& policy, const std::vector<std::string>& departments) {
  std::vector<std::string> files;
  for (const PolicyKey& k : policy.Keys()) {
    bool named = departments.empty() || k.department.empty();
    for (const std::string& d : departments) named = named || d == k.department;
    if (named) files.push_back(k.file);
  }
  RecipientKeys recipients;
  std::set<Sha256Digest> seen;
  for (const std::string& file : files) {
    std::shared_ptr<const RecipientKey> key = policy.FindRecipientKey(file);
    if (key != nullptr && seen.insert(key->fingerprint()).second) recipients.push_back(key);
  }
  return recipients;
}

Status SealText(const RecipientKeys& recipients, std::string_view text, std::string* sealed,
                std::vector<Sha256Digest>* fingerprints) {
  std::unique_ptr<Sealer> sealer;
  Status s = Sealer::Create(recipients, &sealer);
  if (s.ok()) s = sealer->Append(text);
  if (s.ok()) s = sealer->Finish();
  if (!s.ok()) return s;
  *fingerprints = sealer->recipients();
  *sealed = sealer->Take();
  return Status::OK();
}

Status SealQueryRecord(const RecipientKeys& recipients, const std::string& query,
                       nlohmann::json* record) {
  if (recipients.empty()) {
    *record = {{"query_unrecorded", "no key to seal the query to"}};
    return Status::OK();
  }
  std::string sealed;
  std::vector<Sha256Digest> recipient_fingerprints;
  Status s = SealText(recipients, query, &sealed, &recipient_fingerprints);
  if (!s.ok()) return s;
  nlohmann::json fingerprints = nlohmann::json::array();
  for (const Sha256Digest& f : recipient_fingerprints) fingerprints.push_back(DigestToJson(f));
  *record = {{"query_sealed", Base64Encode(sealed)}, {"query_recipients", fingerprints}};
  return Status::OK();
}

QuerySealer PolicyQuerySealer(const PolicyHolder* holder) {
  return [holder](const std::vector<std::string>& departments, const std::string& query,
                  nlohmann::json* record) {
    std::shared_ptr<const Policy> policy = holder->Active();
    RecipientKeys recipients;
    if (policy != nullptr) recipients = SealingRecipients(*policy, departments);
    return SealQueryRecord(recipients, query, record);
  };
}

}  // namespace mailjournal
