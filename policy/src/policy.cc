// The evaluator: file readers, retention arithmetic and classification.
#include "mailjournal/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <map>

#include "address.h"

namespace mailjournal {

namespace {

// Appends `value` unless `list` holds it already.
void AddUnique(const std::string& value, std::vector<std::string>* list) {
  if (std::find(list->begin(), list->end(), value) == list->end()) list->push_back(value);
}

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;
constexpr off_t kMaxFileBytes = 64 << 20;

struct Operations {
  Operation op;
  const char* name;
};
constexpr Operations kOperations[] = {
    {Operation::kSearch, "search"}, {Operation::kRead, "read"},     {Operation::kExport, "export"},
    {Operation::kHold, "hold"},     {Operation::kPurge, "purge"},   {Operation::kVerify, "verify"},
    {Operation::kAudit, "audit"},   {Operation::kPolicy, "policy"}, {Operation::kReview, "review"},
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int64_t Clamp(__int128 v) {
  if (v > INT64_MAX) return INT64_MAX;
  if (v < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(v);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

}  // namespace

std::string PolicyError::ToString() const {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

FileReader DiskFileReader() {
  return [](const std::string& path, std::string* bytes, std::string* error) {
    // O_NONBLOCK: a FIFO in place of a file must not hang a reload (fstat refuses it).
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      *error = strerror(errno);
      return false;
    }
    struct stat st;
    bool ok = false;
    if (fstat(fd, &st) != 0) {
      *error = strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
      *error = "not a regular file";
    } else if (st.st_size > kMaxFileBytes) {
      *error = "larger than 64 MiB";
    } else {
      std::string data;
      char buf[65536];
      ok = true;
      for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          *error = strerror(errno);
          ok = false;
          break;
        }
        if (n == 0) break;
        data.append(buf, static_cast<size_t>(n));
        if (data.size() > static_cast<size_t>(kMaxFileBytes)) {
          *error = "larger than 64 MiB";
          ok = false;
          break;
        }
      }
      if (ok) *bytes = std::move(data);
    }
    close(fd);
    return ok;
  };
}

FileReader MemoryFileReader(std::vector<PolicyFile> files) {
  auto by_path = std::make_shared<std::map<std::string, std::string>>();
  for (PolicyFile& f : files) by_path->emplace(std::move(f.path), std::move(f.bytes));
  return [by_path](const std::string& path, std::string* bytes, std::string* error) {
    auto it = by_path->find(path);
    if (it == by_path->end()) {
      *error = strerror(ENOENT);
      return false;
    }
    *bytes = it->second;
    return true;
  };
}

const char* OperationName(Operation op) {
  for (const Operations& o : kOperations) {
    if (o.op == op) return o.name;
  }
  return "unknown";
}

bool ParseOperation(const std::string& name, Operation* op) {
  for (const Operations& o : kOperations) {
    if (name == o.name) {
      *op = o.op;
      return true;
    }
  }
  return false;
}

int64_t RetainUntil(int64_t capture_us, const Period& period) {
  __int128 result = capture_us;
  if (period.years > 0) {
    int64_t days = FloorDiv(capture_us, kMicrosPerDay);
    int64_t time_of_day = capture_us - days * kMicrosPerDay;
    int64_t y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    y += period.years;
    if (m == 2 && d == 29 && !IsLeap(y)) {  // never shorter than the period: 1 March
      m = 3;
      d = 1;
    }
    result = static_cast<__int128>(DaysFromCivil(y, m, d)) * kMicrosPerDay + time_of_day;
  }
  result += static_cast<__int128>(period.days) * kMicrosPerDay;
  return Clamp(result);
}

std::vector<PolicyKey> Policy::Keys() const {
  std::vector<PolicyKey> keys;
  auto add = [&](const std::string& department, const std::string& file) {
    const Sha256Digest* fingerprint = KeyFingerprint(file);
    keys.push_back(PolicyKey{department, file, fingerprint ? *fingerprint : Sha256Digest{}});
  };
  for (const Department& d : departments_) {
    for (const std::string& file : d.keys) add(d.name, file);
  }
  for (const std::string& file : escrow_) add("", file);
  return keys;
}

const Sha256Digest* Policy::KeyFingerprint(const std::string& file) const {
  auto it = recipient_keys_.find(file);
  return it == recipient_keys_.end() ? nullptr : &it->second->fingerprint();
}

std::shared_ptr<const RecipientKey> Policy::FindRecipientKey(const std::string& file) const {
  auto it = recipient_keys_.find(file);
  return it == recipient_keys_.end() ? nullptr : it->second;
}

const std::string* Policy::FileBytes(const std::string& path) const {
  for (const PolicyFile& f : files_) {
    if (f.path == path) return &f.bytes;
  }
  return nullptr;
}

const Department* Policy::FindDepartment(const std::string& name) const {
  for (const Department& d : departments_) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

const RetentionClass* Policy::FindRetention(const std::string& name) const {
  for (const RetentionClass& r : retention_) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

const Lexicon* Policy::FindLexicon(const std::string& name) const {
  for (const Lexicon& l : lexicons_) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

Status Policy::MatchLexicons(const std::vector<std::string>& departments,
                             const std::vector<std::string_view>& texts,
                             std::vector<LexiconHit>* flags) const {
  flags->clear();
  if (lexicon_matcher_ == nullptr) return Status::OK();
  // One scan for the lexicons of all the message's departments.
  std::vector<char> wanted(lexicons_.size(), 0);
  for (const std::string& name : departments) {
    const Department* dept = FindDepartment(name);
    if (dept == nullptr) continue;
    for (const std::string& lexicon : dept->lexicons) {
      for (size_t i = 0; i < lexicons_.size(); ++i) wanted[i] |= lexicons_[i].name == lexicon;
    }
  }
  std::vector<size_t> hits;
  Status s = lexicon_matcher_->Match(texts, &wanted, &hits);
  for (size_t i : hits) flags->push_back(LexiconHit{lexicons_[i].name, lexicons_[i].severity});
  std::sort(flags->begin(), flags->end(),
            [](const LexiconHit& a, const LexiconHit& b) { return a.lexicon < b.lexicon; });
  return s;
}

void Policy::BuildIndex() {
  by_address_.clear();
  by_domain_.clear();
  by_subdomain_.clear();
  globs_.clear();
  for (size_t i = 0; i < departments_.size(); ++i) {
    if (departments_[i].name == "default") default_department_ = i;
    const std::vector<MemberRule>& members = departments_[i].members;
    for (size_t j = 0; j < members.size(); ++j) {
      const MemberRule& rule = members[j];
      RuleRef ref{i, j};
      switch (rule.kind) {
        case MatchKind::kAddress:
          by_address_[rule.pattern].push_back(ref);
          break;
        case MatchKind::kGlob:
          globs_.push_back(ref);
          break;
        case MatchKind::kDomain:
          by_domain_[rule.pattern.substr(1)].push_back(ref);  // "@d"
          break;
        case MatchKind::kSubdomains:
          by_subdomain_[rule.pattern.substr(3)].push_back(ref);  // "@*.d"
          break;
      }
    }
  }
}

std::string Policy::Normalise(const std::string& address) const {
  return policy_internal::NormaliseAddress(address, options_);
}

AddressMatch Policy::MatchAddress(const std::string& address) const {
  AddressMatch match;
  match.address = policy_internal::StripAngles(address);
  match.normalised = Normalise(address);
  const std::string& norm = match.normalised;

  std::vector<RuleRef> refs;
  size_t at = norm.rfind('@');
  if (!norm.empty()) {
    auto it = by_address_.find(norm);
    if (it != by_address_.end()) refs = it->second;
    if (refs.empty()) {
      for (const RuleRef& ref : globs_) {
        const MemberRule& rule = departments_[ref.department].members[ref.rule];
        if (fnmatch(rule.pattern.c_str(), norm.c_str(), FNM_NOESCAPE) == 0) refs.push_back(ref);
      }
    }
    if (refs.empty() && at != std::string::npos) {
      std::string domain = norm.substr(at + 1);
      auto d = by_domain_.find(domain);
      if (d != by_domain_.end()) refs = d->second;
      // The longest parent domain with a wildcard rule wins.
      for (size_t dot = domain.find('.'); refs.empty() && dot != std::string::npos;
           dot = domain.find('.', dot + 1)) {
        auto s = by_subdomain_.find(domain.substr(dot + 1));
        if (s != by_subdomain_.end()) refs = s->second;
      }
    }
  }
  if (refs.empty()) {
    match.departments = {departments_.empty() ? "default" : departments_[default_department_].name};
    match.rule = "default";
    return match;
  }
  const MemberRule& first = departments_[refs.front().department].members[refs.front().rule];
  match.rule = first.text;
  match.where = first.where;
  for (const RuleRef& ref : refs) match.departments.push_back(departments_[ref.department].name);
  std::sort(match.departments.begin(), match.departments.end());
  match.departments.erase(std::unique(match.departments.begin(), match.departments.end()),
                          match.departments.end());
  return match;
}

bool IsValidPolicyName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-'))) return false;
  }
  return true;
}

std::string CanonicalPolicyPath(const std::string& path) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

Decision Policy::Classify(const std::string& from, const std::vector<std::string>& rcpts,
                          int64_t capture_us) const {
  Decision decision;
  decision.matches.push_back(MatchAddress(from));
  for (const std::string& rcpt : rcpts) decision.matches.push_back(MatchAddress(rcpt));
  // The departments of the addresses some rule matched; `default` only when none did
  // (an outside correspondent does not pull a department's mail into `default`).
  for (const AddressMatch& m : decision.matches) {
    if (m.rule == "default") continue;
    decision.departments.insert(decision.departments.end(), m.departments.begin(),
                                m.departments.end());
  }
  if (decision.departments.empty()) decision.departments.push_back("default");
  std::sort(decision.departments.begin(), decision.departments.end());
  decision.departments.erase(std::unique(decision.departments.begin(), decision.departments.end()),
                             decision.departments.end());

  bool have_retention = false;
  for (const std::string& name : decision.departments) {
    const Department* dept = FindDepartment(name);
    if (dept == nullptr) continue;
    decision.index = decision.index || dept->index;
    decision.supervised = decision.supervised || !dept->lexicons.empty();
    decision.sample = std::max(decision.sample, dept->sample);
    for (const std::string& key : dept->keys) AddUnique(key, &decision.keys);
    const RetentionClass* cls = FindRetention(dept->retention);
    if (cls == nullptr) continue;
    int64_t until = RetainUntil(capture_us, cls->period);
    // The latest date wins; equal dates: the class name first in byte order.
    if (!have_retention || until > decision.retain_until_us ||
        (until == decision.retain_until_us && cls->name < decision.retention)) {
      decision.retention = cls->name;
      decision.retain_until_us = until;
      have_retention = true;
    }
  }
  for (const std::string& key : escrow_) AddUnique(key, &decision.keys);
  return decision;
}

CaptureVerdict Policy::InScope(const Decision& decision) const {
  CaptureVerdict verdict;
  if (capture_.all) {
    verdict.reason = "capture: all (every message is journaled)";
    return verdict;
  }
  auto listed = [this](bool department, const std::string& value) -> const CaptureEntry* {
    for (const CaptureEntry& e : capture_.entries) {
      if (e.department == department && e.value == value) return &e;
    }
    return nullptr;
  };
  auto found = [&verdict](const CaptureEntry* entry, int match, std::string reason) {
    verdict.entry = entry;
    verdict.match = match;
    verdict.reason = std::move(reason) + ", listed in 'capture' at " + entry->where;
    return verdict;
  };
  for (size_t i = 0; i < decision.matches.size(); ++i) {
    const AddressMatch& m = decision.matches[i];
    const std::string who = (i == 0 ? "sender " : "recipient ") + m.address;
    if (m.normalised.empty()) continue;  // the null sender
    if (const CaptureEntry* e = listed(false, m.normalised)) {
      return found(e, static_cast<int>(i), who);
    }
    if (m.rule == "default") continue;  // an unmatched address does not make `default` mail
    for (const std::string& name : m.departments) {
      if (const CaptureEntry* e = listed(true, name)) {
        return found(
            e, static_cast<int>(i),
            who + " is in department " + name + " (rule '" + m.rule + "' at " + m.where + ")");
      }
    }
  }
  if (decision.departments == std::vector<std::string>{"default"}) {
    if (const CaptureEntry* e = listed(true, "default")) {
      return found(e, -1, "no rule matches any of its addresses (department default)");
    }
  }
  verdict.captured = false;
  std::string departments;
  for (const std::string& d : decision.departments) {
    departments += (departments.empty() ? "" : ", ") + d;
  }
  verdict.reason =
      "neither its sender nor any recipient is listed in 'capture' or belongs to a department "
      "listed there (its departments: " +
      departments + ")";
  return verdict;
}

std::string DescribeCapture(const CaptureScope& capture) {
  if (capture.all) return "all";
  std::string departments, addresses;
  for (const CaptureEntry& e : capture.entries) {
    std::string& list = e.department ? departments : addresses;
    list += (list.empty() ? "" : ", ") + e.text;
  }
  std::string out;
  if (!departments.empty()) out = "departments " + departments;
  if (!addresses.empty()) out += (out.empty() ? "" : "; ") + std::string("addresses ") + addresses;
  return out;
}

bool ScopeCovers(const HoldScope& scope, const std::vector<std::string>& departments,
                 const std::vector<std::string>& normalised_addresses, int64_t capture_us,
                 uint64_t seq) {
  auto any_listed = [](const std::vector<std::string>& values,
                       const std::vector<std::string>& listed) {
    for (const std::string& v : values) {
      if (!v.empty() && std::find(listed.begin(), listed.end(), v) != listed.end()) return true;
    }
    return false;
  };
  if (!scope.departments.empty() && !any_listed(departments, scope.departments)) return false;
  if (!scope.addresses.empty() && !any_listed(normalised_addresses, scope.addresses)) return false;
  if (capture_us < scope.since_us || capture_us >= scope.until_us) return false;
  if (scope.seqs.empty()) return true;
  for (const auto& range : scope.seqs) {
    if (seq != 0 && seq >= range.first && seq <= range.second) return true;
  }
  return false;
}

std::vector<const Hold*> Policy::HoldsCovering(const Decision& decision, int64_t capture_us,
                                               uint64_t seq) const {
  std::vector<std::string> addresses;
  for (const AddressMatch& m : decision.matches) addresses.push_back(m.normalised);
  std::vector<const Hold*> covering;
  for (const Hold& hold : holds_) {
    if (ScopeCovers(hold.scope, decision.departments, addresses, capture_us, seq)) {
      covering.push_back(&hold);
    }
  }
  return covering;
}

}  // namespace mailjournal
