#include "mailjournal/policy_holder.h"

#include <set>
#include <utility>

namespace mailjournal {

namespace {

// Rebuilds the journal's newest policy from the files its entry recorded.
Status ReadJournaledPolicy(Journal* journal, uint64_t* seq, std::shared_ptr<const Policy>* out) {
  PolicyEntry entry;
  Status s = journal->LatestPolicy(seq, &entry);
  return s.ok() ? PolicyFromEntry(entry, *seq, out) : s;
}

// One key entry per (holder, key) that `next` has and `previous` (null: none) has not,
// and per one it dropped.
std::vector<Entry> KeyChanges(const Policy* previous, const Policy& next) {
  using Holding = std::pair<std::string, Sha256Digest>;  // department ("" escrow), key
  auto holdings = [](const std::vector<PolicyKey>& keys) {
    std::set<Holding> out;
    for (const PolicyKey& k : keys) out.emplace(k.department, k.fingerprint);
    return out;
  };
  std::vector<PolicyKey> old_keys = previous ? previous->Keys() : std::vector<PolicyKey>{};
  std::vector<PolicyKey> new_keys = next.Keys();
  std::set<Holding> had = holdings(old_keys), has = holdings(new_keys);
  std::vector<Entry> entries;
  auto add = [&](KeyAction action, const PolicyKey& k) {
    Entry e;
    e.kind = EntryKind::kKey;
    e.key.action = action;
    e.key.department = k.department;
    e.key.fingerprint = k.fingerprint;
    e.key.file = k.file;
    e.key.policy_digest = next.digest();
    entries.push_back(std::move(e));
  };
  for (const PolicyKey& k : new_keys) {
    if (had.count({k.department, k.fingerprint}) == 0) add(KeyAction::kAdded, k);
  }
  for (const PolicyKey& k : old_keys) {
    if (has.count({k.department, k.fingerprint}) == 0) add(KeyAction::kRemoved, k);
  }
  return entries;
}

}  // namespace

Status PolicyFromEntry(const PolicyEntry& entry, uint64_t seq,
                       std::shared_ptr<const Policy>* policy) {
  std::vector<PolicyFile> files;
  for (auto& [path, bytes] : entry.files) files.push_back(PolicyFile{path, bytes});
  std::string main_path = files.front().path;
  std::vector<PolicyError> errors;
  std::string where = "policy entry " + std::to_string(seq);
  if (!LoadPolicy(main_path, MemoryFileReader(std::move(files)), policy, &errors)) {
    return Status::Corruption(where + " no longer loads: " +
                              (errors.empty() ? "unknown error" : errors.front().ToString()));
  }
  if ((*policy)->digest() != entry.digest) {
    return Status::Corruption(where + ": its files do not match its recorded digest");
  }
  return Status::OK();
}

Status NoPolicyInForce() { return Status::NotFound("no policy is in force"); }

Status PolicyHolder::Load(const std::string& reason, std::vector<PolicyError>* errors,
                          uint64_t* seq, const PolicyCheck& check) {
  std::lock_guard<std::mutex> load_lock(load_mu_);
  std::shared_ptr<const Policy> policy;
  bool loaded = LoadPolicy(path_, DiskFileReader(), &policy, errors);
  if (loaded && check) {
    size_t before = errors->size();
    check(*policy, errors);
    loaded = errors->size() == before;
  }
  if (!loaded) {
    return Status::InvalidArgument(
        "policy " + path_ + ": " + std::to_string(errors->size()) + " error(s); " +
        (Active() == nullptr ? "no policy is in force" : "the running policy stays in force"));
  }
  // Key changes are relative to the policy last in force, which after a restart is the
  // journal's.
  std::string why = reason;
  std::shared_ptr<const Policy> previous = Active();
  if (previous == nullptr) {
    uint64_t previous_seq = 0;
    Status s = ReadJournaledPolicy(journal_, &previous_seq, &previous);
    if (s.IsCorruption()) {
      // Refusing would stop all mail; the entry says why every key is recorded as added.
      previous.reset();
      why += "; keys not compared with the previous policy (" + s.message() + ")";
    } else if (!s.ok() && !s.IsNotFound()) {
      return s;
    }
  }
  std::vector<Entry> entries(1);
  entries[0].kind = EntryKind::kPolicy;
  PolicyEntry& entry = entries[0].policy;
  for (const PolicyFile& f : policy->files()) entry.files.emplace_back(f.path, f.bytes);
  entry.digest = policy->digest();
  entry.reason = why;
  for (Entry& e : KeyChanges(previous.get(), *policy)) entries.push_back(std::move(e));
  uint64_t entry_seq = 0;
  Status s = journal_->AppendEntries(&entries, &entry_seq);
  if (!s.ok()) return s;  // not journaled, so not in force
  std::lock_guard<std::mutex> l(mu_);
  active_ = std::move(policy);
  active_seq_ = entry_seq;
  if (seq != nullptr) *seq = entry_seq;
  return Status::OK();
}

Status PolicyHolder::LoadFromJournal() {
  std::lock_guard<std::mutex> load_lock(load_mu_);
  uint64_t seq = 0;
  std::shared_ptr<const Policy> policy;
  Status s = ReadJournaledPolicy(journal_, &seq, &policy);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  active_ = std::move(policy);
  active_seq_ = seq;
  return Status::OK();
}

std::shared_ptr<const Policy> PolicyHolder::Active() const {
  std::lock_guard<std::mutex> l(mu_);
  return active_;
}

uint64_t PolicyHolder::active_seq() const {
  std::lock_guard<std::mutex> l(mu_);
  return active_seq_;
}

}  // namespace mailjournal
