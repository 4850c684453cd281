#include "mailjournal/policy_holder.h"

namespace mailjournal {

Status PolicyHolder::Load(const std::string& reason, std::vector<PolicyError>* errors,
                          uint64_t* seq) {
  std::lock_guard<std::mutex> load_lock(load_mu_);
  std::shared_ptr<const Policy> policy;
  if (!LoadPolicy(path_, DiskFileReader(), &policy, errors)) {
    return Status::InvalidArgument(
        "policy " + path_ + ": " + std::to_string(errors->size()) + " error(s); " +
        (Active() == nullptr ? "no policy is in force" : "the running policy stays in force"));
  }
  PolicyEntry entry;
  for (const PolicyFile& f : policy->files()) entry.files.emplace_back(f.path, f.bytes);
  entry.digest = policy->digest();
  entry.reason = reason;
  uint64_t entry_seq = 0;
  Status s = journal_->AppendPolicy(&entry, &entry_seq);
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
  PolicyEntry entry;
  Status s = journal_->LatestPolicy(&seq, &entry);
  if (!s.ok()) return s;
  std::vector<PolicyFile> files;
  for (auto& [path, bytes] : entry.files) files.push_back(PolicyFile{path, bytes});
  std::string main_path = files.front().path;
  std::shared_ptr<const Policy> policy;
  std::vector<PolicyError> errors;
  std::string where = "policy entry " + std::to_string(seq);
  if (!LoadPolicy(main_path, MemoryFileReader(std::move(files)), &policy, &errors)) {
    return Status::Corruption(where + " no longer loads: " +
                              (errors.empty() ? "unknown error" : errors.front().ToString()));
  }
  if (policy->digest() != entry.digest) {
    return Status::Corruption(where + ": its files do not match its recorded digest");
  }
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
