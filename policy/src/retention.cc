#include "mailjournal/retention.h"

#include <algorithm>
#include <utility>

#include "mailjournal/time_util.h"

namespace mailjournal {

void JournalHolds::Apply(uint64_t seq, const Entry& entry) {
  if (entry.kind == EntryKind::kHold) {
    active_[entry.hold.case_id] = {seq, entry.hold};
  } else if (entry.kind == EntryKind::kRelease) {
    active_.erase(entry.hold.case_id);
  }
}

Status JournalHolds::Load(Journal* journal, uint64_t before_seq) {
  active_.clear();
  std::vector<std::pair<uint64_t, Entry>> changes;
  for (EntryKind kind : {EntryKind::kHold, EntryKind::kRelease}) {
    Status s = journal->ScanKind(kind, 0, false, [&](uint64_t seq, const Entry& e) {
      if (before_seq != 0 && seq >= before_seq) return false;
      changes.emplace_back(seq, e);
      return true;
    });
    if (!s.ok()) return s;
  }
  std::sort(changes.begin(), changes.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [seq, e] : changes) Apply(seq, e);
  return Status::OK();
}

std::vector<std::string> CoveringHolds(const Policy& policy, const JournalHolds& holds,
                                       uint64_t seq, const MessageEntry& message) {
  std::vector<std::string> addresses;
  addresses.push_back(policy.Normalise(BareAddress(message.envelope.mail)));
  for (const auto& r : message.envelope.rcpt) addresses.push_back(policy.Normalise(BareAddress(r)));
  const std::vector<std::string>& departments = message.classification.departments;
  std::vector<std::string> cases;
  for (const Hold& h : policy.holds()) {
    if (ScopeCovers(h.scope, departments, addresses, message.time_us, seq)) {
      cases.push_back(h.case_id);
    }
  }
  for (const auto& [case_id, held] : holds.active()) {
    if (ScopeCovers(held.second.scope, departments, addresses, message.time_us, seq)) {
      cases.push_back(case_id);
    }
  }
  return cases;
}

std::function<CoveringHoldsFn()> SegmentHoldsFactory(Journal* journal, PolicyHolder* policies) {
  return [journal, policies]() -> CoveringHoldsFn {
    auto holds = std::make_shared<JournalHolds>();
    if (!holds->Load(journal, 0).ok()) return nullptr;
    std::shared_ptr<const Policy> policy = policies->Active();
    if (policy == nullptr) return nullptr;
    return [holds, policy](uint64_t seq, const MessageEntry& message) {
      return CoveringHolds(*policy, *holds, seq, message);
    };
  };
}

Retention::Retention(Journal* journal, PolicyHolder* policies, std::function<int64_t()> clock)
    : journal_(journal), policies_(policies), clock_(std::move(clock)) {}

Status Retention::Open() {
  std::lock_guard<std::mutex> l(holds_mu_);
  return holds_.Load(journal_, 0);
}

bool Retention::FindHold(const std::string& case_id, HoldInForce* out) const {
  for (const HoldInForce& h : Holds()) {
    if (h.case_id == case_id) {
      *out = h;
      return true;
    }
  }
  return false;
}

std::vector<HoldInForce> Retention::Holds() const {
  std::vector<HoldInForce> out;
  std::shared_ptr<const Policy> policy = policies_->Active();
  if (policy != nullptr) {
    for (const Hold& h : policy->holds()) {
      out.push_back(
          HoldInForce{h.case_id, h.reason, h.placed_by, h.scope, true, policies_->active_seq(), 0});
    }
    std::sort(out.begin(), out.end(),
              [](const HoldInForce& a, const HoldInForce& b) { return a.case_id < b.case_id; });
  }
  std::lock_guard<std::mutex> l(holds_mu_);
  for (const auto& [case_id, held] : holds_.active()) {
    const HoldEntry& h = held.second;
    std::string by = h.actor.user.empty() ? "uid " + std::to_string(h.actor.uid) : h.actor.user;
    out.push_back(HoldInForce{case_id, h.reason, by, h.scope, false, held.first, h.time_us});
  }
  return out;
}

Status Retention::PlaceHold(HoldEntry hold, uint64_t* seq) {
  const HoldScope& scope = hold.scope;
  if (hold.case_id.empty()) return Status::InvalidArgument("hold: the case id is empty");
  if (hold.reason.empty()) return Status::InvalidArgument("hold: the reason is empty");
  if (scope.departments.empty() && scope.addresses.empty() && scope.seqs.empty() &&
      scope.since_us == INT64_MIN && scope.until_us == INT64_MAX) {
    return Status::InvalidArgument(
        "hold " + hold.case_id +
        ": the scope names nothing (give --department, --address, --since, --until or --seq)");
  }
  if (scope.since_us >= scope.until_us) {
    return Status::InvalidArgument("hold " + hold.case_id + ": --until must be later than --since");
  }
  std::unique_lock<std::mutex> rules = LockRules();
  HoldInForce existing;
  if (FindHold(hold.case_id, &existing)) {
    return Status::InvalidArgument(
        "hold " + hold.case_id + ": a hold of this case is in force already (" +
        (existing.from_policy ? "in the policy file" : "entry " + std::to_string(existing.seq)) +
        ")");
  }
  std::vector<Entry> entries(1);
  entries[0].kind = EntryKind::kHold;
  entries[0].hold = std::move(hold);
  Status s = journal_->AppendEntries(&entries, seq);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(holds_mu_);
  holds_.Apply(*seq, entries[0]);
  return s;
}

Status Retention::ReleaseHold(const std::string& case_id, const std::string& reason,
                              const Actor& actor, uint64_t* seq) {
  if (reason.empty()) return Status::InvalidArgument("hold release: the reason is empty");
  std::unique_lock<std::mutex> rules = LockRules();
  {
    std::lock_guard<std::mutex> l(holds_mu_);
    if (holds_.active().count(case_id) == 0) {
      if (FindHoldInPolicy(case_id)) {
        return Status::InvalidArgument("hold " + case_id +
                                       " is in the policy file: remove it there and reload");
      }
      return Status::NotFound("hold " + case_id + ": no hold of this case is in force");
    }
  }
  std::vector<Entry> entries(1);
  entries[0].kind = EntryKind::kRelease;
  entries[0].hold.case_id = case_id;
  entries[0].hold.reason = reason;
  entries[0].hold.actor = actor;
  Status s = journal_->AppendEntries(&entries, seq);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(holds_mu_);
  holds_.Apply(*seq, entries[0]);
  return s;
}

bool Retention::FindHoldInPolicy(const std::string& case_id) const {
  std::shared_ptr<const Policy> policy = policies_->Active();
  if (policy == nullptr) return false;
  for (const Hold& h : policy->holds()) {
    if (h.case_id == case_id) return true;
  }
  return false;
}

Status Retention::Purge(const PurgeOptions& options, PurgeReport* report) {
  *report = PurgeReport();
  std::lock_guard<std::mutex> one_purge(purge_mu_);
  const int64_t now = clock_ ? clock_() : NowMicros();
  std::vector<uint64_t> disposed, entry_seqs;
  RetentionCursor cursor;
  Status s;
  while (!options.cancelled || !options.cancelled()) {
    size_t want = options.batch;
    if (options.limit != 0) {
      if (report->disposed >= options.limit) break;
      want = std::min<uint64_t>(want, options.limit - report->disposed);
    }
    // Candidates first, without the lock: the index only says "expired".
    std::vector<uint64_t> candidates;
    s = journal_->ScanRetention(now, &cursor, [&](uint64_t seq, int64_t) {
      candidates.push_back(seq);
      return candidates.size() < want;
    });
    if (!s.ok() || candidates.empty()) break;
    // Then decide and write under the lock, against the holds in force now.
    std::unique_lock<std::mutex> rules = LockRules();
    std::shared_ptr<const Policy> policy = policies_->Active();
    if (policy == nullptr) return NoPolicyInForce();
    std::vector<Entry> batch;
    for (uint64_t seq : candidates) {
      MessageEntry m;
      s = journal_->ReadMessage(seq, &m);
      if (!s.ok()) return s;
      ++report->expired;
      if (options.permitted && !options.permitted(m)) {
        ++report->not_permitted;
        continue;
      }
      std::vector<std::string> cases;
      {
        std::lock_guard<std::mutex> l(holds_mu_);
        cases = CoveringHolds(*policy, holds_, seq, m);
      }
      if (!cases.empty()) {
        ++report->held;
        for (const auto& c : cases) ++report->held_by[c];
        continue;
      }
      Entry e;
      e.kind = EntryKind::kDispose;
      e.dispose.message = seq;
      e.dispose.retention = m.classification.retention;
      e.dispose.retain_until_us = m.classification.retain_until_us;
      e.dispose.policy_digest = policy->digest();
      e.dispose.actor = options.actor;
      batch.push_back(std::move(e));
      disposed.push_back(seq);
    }
    report->disposed += batch.size();
    if (options.dry_run || batch.empty()) continue;
    uint64_t first = 0;
    s = journal_->DisposeMessages(&batch, &first);
    if (!s.ok()) {
      report->disposed -= batch.size();
      disposed.resize(disposed.size() - batch.size());
      break;
    }
    for (uint64_t i = 0; i < batch.size(); ++i) entry_seqs.push_back(first + i);
  }
  report->disposed_seqs = ToRanges(std::move(disposed));
  report->entry_seqs = ToRanges(std::move(entry_seqs));
  if (!options.dry_run) {
    // Also what an earlier purge disposed of and a crash kept from being compacted.
    Status c = journal_->CompactDisposed();
    if (s.ok()) s = c;
  }
  return s;
}

Status Retention::LoadPolicy(const std::string& reason, std::vector<PolicyError>* errors,
                             uint64_t* seq) {
  std::unique_lock<std::mutex> rules = LockRules();
  return policies_->Load(
      reason, errors, seq, [this](const Policy& policy, std::vector<PolicyError>* problems) {
        std::lock_guard<std::mutex> l(holds_mu_);
        for (const Hold& h : policy.holds()) {
          auto placed = holds_.active().find(h.case_id);
          if (placed == holds_.active().end()) continue;
          problems->push_back(PolicyError{
              policy.files().front().path, 0, 0,
              "hold case '" + h.case_id + "' is a hold placed with mailjournal hold add (entry " +
                  std::to_string(placed->second.first) +
                  "): release that one first, or give this one another case id"});
        }
      });
}

Status RetentionChecker::Start(Journal* journal, uint64_t first_seq) {
  policy_.reset();
  policy_problem_.clear();
  if (first_seq > 1) {
    uint64_t found = 0;
    Entry policy;
    Status s = journal->ScanKind(EntryKind::kPolicy, first_seq - 1, true,
                                 [&](uint64_t seq, const Entry& e) {
                                   found = seq;
                                   policy = e;
                                   return false;
                                 });
    if (!s.ok()) return s;
    if (found != 0) Check(found, policy, nullptr);
  }
  return holds_.Load(journal, first_seq);
}

std::string RetentionChecker::Check(uint64_t seq, const Entry& entry, const MessageEntry* message) {
  switch (entry.kind) {
    case EntryKind::kPolicy: {
      Status s = PolicyFromEntry(entry.policy, seq, &policy_);
      policy_problem_ = s.ok() ? "" : s.message();
      if (!s.ok()) policy_.reset();
      return "";
    }
    case EntryKind::kHold:
    case EntryKind::kRelease:
      holds_.Apply(seq, entry);
      return "";
    case EntryKind::kDispose:
      break;
    default:
      return "";
  }
  std::string what = "dispose entry " + std::to_string(seq);
  if (policy_ == nullptr) {
    return what + ": the policy in force cannot be rebuilt to check its holds" +
           (policy_problem_.empty() ? " (there is none)" : ": " + policy_problem_);
  }
  if (entry.dispose.policy_digest != policy_->digest()) {
    return what + ": it records another policy than the one in force";
  }
  std::vector<std::string> cases = CoveringHolds(*policy_, holds_, entry.dispose.message, *message);
  if (cases.empty()) return "";
  std::string list;
  for (const auto& c : cases) list += (list.empty() ? "" : ", ") + c;
  return what + ": it disposed of message " + std::to_string(entry.dispose.message) +
         " while the hold(s) " + list + " covered it";
}

}  // namespace mailjournal
