#include "mailjournal/index_key_journal.h"

#include <algorithm>
#include <map>
#include <vector>

#include "mailjournal/index_key_seal.h"
#include "mailjournal/query_sealer.h"

namespace mailjournal {

namespace {

// The entry for a key sealed to the department's recipients under `policy`; false when
// the department's mail is sealed to nobody.
bool MakeEntry(const Policy& policy, const std::string& department, const IndexKey& key,
               const std::string& reason, Entry* entry, Status* status) {
  RecipientKeys recipients = SealingRecipients(policy, {department});
  if (recipients.empty()) return false;
  entry->kind = EntryKind::kIndexKey;
  entry->index_key.department = department;
  entry->index_key.reason = reason;
  *status = SealIndexKey(key, recipients, &entry->index_key);
  return true;
}

std::vector<Sha256Digest> Sorted(std::vector<Sha256Digest> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

Status IndexKeyJournal::Record(const std::string& department, const IndexKey& key,
                               const std::string& reason) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<const Policy> policy = policies_->Active();
  if (policy == nullptr) return Status::OK();  // the first policy load's Sync records it
  std::vector<Entry> entries(1);
  Status s;
  if (!MakeEntry(*policy, department, key, reason, &entries[0], &s)) return Status::OK();
  uint64_t seq = 0;
  if (s.ok()) s = journal_->AppendEntries(&entries, &seq);
  return s;
}

Status IndexKeyJournal::Sync(size_t* appended) {
  std::lock_guard<std::mutex> l(mu_);
  if (appended != nullptr) *appended = 0;
  std::shared_ptr<const Policy> policy = policies_->Active();
  if (policy == nullptr) return Status::OK();
  // The recipients of each key's latest entry.
  std::map<uint64_t, std::vector<Sha256Digest>> latest;
  Status s = journal_->ScanKind(EntryKind::kIndexKey, 0, false, [&](uint64_t, const Entry& e) {
    latest[e.index_key.key_id] = Sorted(e.index_key.recipients);
    return true;
  });
  std::vector<std::string> departments;
  if (s.ok()) s = keys_->Departments(&departments);
  std::vector<Entry> entries;
  for (size_t d = 0; s.ok() && d < departments.size(); ++d) {
    std::vector<IndexKey> keys;
    s = keys_->Keys(departments[d], false, &keys);
    if (s.IsNotFound()) s = Status::OK();
    std::vector<Sha256Digest> now;
    for (const auto& r : SealingRecipients(*policy, {departments[d]}))
      now.push_back(r->fingerprint());
    now = Sorted(now);
    for (size_t i = 0; s.ok() && i < keys.size(); ++i) {
      auto it = latest.find(keys[i].id);
      if (it != latest.end() && it->second == now) continue;
      Entry e;
      if (MakeEntry(*policy, departments[d], keys[i],
                    it == latest.end() ? "created" : "keys changed", &e, &s)) {
        entries.push_back(std::move(e));
      }
    }
  }
  if (!s.ok() || entries.empty()) return s;
  uint64_t first = 0;
  s = journal_->AppendEntries(&entries, &first);
  if (s.ok() && appended != nullptr) *appended = entries.size();
  return s;
}

}  // namespace mailjournal
