#include "mailjournal/bucket.h"

#include <openssl/rand.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "mailjournal/segment_chain.h"
#include "mailjournal/sha256.h"
#include "mailjournal/time_util.h"

namespace mailjournal {

using nlohmann::json;

namespace {

constexpr char kSegmentsDir[] = "/segments/";
constexpr size_t kSeqDigits = 20;
// The latest date an S3 retention can be set to (9999-12-31T23:59:59Z, four-digit years):
// a manifest's later retain-until ("for ever") is held by a retention until then.
constexpr int64_t kLatestS3DateUs = 253402300799LL * 1000000;

bool ParseSeq20(const std::string& text, uint64_t* seq) {
  if (text.size() != kSeqDigits) return false;
  unsigned long long v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    if (v > (UINT64_MAX - (c - '0')) / 10) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  *seq = v;
  return true;
}

// The origin the segment's manifest names ("" when it has none): which verifier key to use.
std::string ManifestOrigin(const std::string& bytes) {
  SegmentMembers members;
  if (!UnpackSegment(bytes, &members).ok() || members.empty()) return "";
  json m = json::parse(members[0].second, nullptr, false);
  return m.is_object() && m.value("origin", json()).is_string() ? m["origin"].get<std::string>()
                                                                : "";
}

// "" when the object's lock holds the segment as long as its manifest says, else why not.
std::string LockProblem(const BucketSegment& seg) {
  if (seg.info.lock_mode != S3LockMode::kCompliance) {
    return "not under Object Lock COMPLIANCE retention (mode: " +
           std::string(seg.info.lock_mode == S3LockMode::kNone
                           ? "none"
                           : S3LockModeName(seg.info.lock_mode)) +
           ")";
  }
  const json& until = seg.segment.manifest.value("retain_until", json());
  int64_t needed = 0;
  if (until.is_string() && !ParseTime(until.get<std::string>(), &needed).ok()) needed = 0;
  if (seg.info.retain_until_us < std::min(needed, kLatestS3DateUs)) {
    return "retained only until " + FormatTimeUtc(seg.info.retain_until_us) +
           ", before its messages' retain-until " + until.get<std::string>();
  }
  return "";
}

}  // namespace

bool ParseSegmentObjectName(const std::string& key, std::string* prefix, uint64_t* first,
                            uint64_t* last) {
  // PREFIX/segments/ + 20 digits + '-' + 20 digits + ".seg"
  const size_t tail = kSeqDigits * 2 + 1 + 4;
  size_t dir = key.size() >= tail ? key.rfind(kSegmentsDir, key.size() - tail) : std::string::npos;
  if (dir == std::string::npos || dir == 0 ||
      dir + std::string(kSegmentsDir).size() + tail != key.size()) {
    return false;
  }
  std::string name = key.substr(key.size() - tail);
  if (name[kSeqDigits] != '-' || name.compare(name.size() - 4, 4, ".seg") != 0) return false;
  uint64_t f = 0, l = 0;
  if (!ParseSeq20(name.substr(0, kSeqDigits), &f) ||
      !ParseSeq20(name.substr(kSeqDigits + 1, kSeqDigits), &l)) {
    return false;
  }
  *prefix = key.substr(0, dir);
  *first = f;
  *last = l;
  return true;
}

Status ListBucketSegments(S3Client* client, std::map<std::string, std::vector<std::string>>* out) {
  std::vector<S3ListedObject> objects;
  Status s = client->ListAllObjects("", 1000, &objects);
  if (!s.ok()) return s;
  out->clear();
  for (const S3ListedObject& o : objects) {
    std::string prefix;
    uint64_t first = 0, last = 0;
    if (ParseSegmentObjectName(o.key, &prefix, &first, &last)) (*out)[prefix].push_back(o.key);
  }
  return Status::OK();
}

Status VerifyBucketPrefix(S3Client* client, const std::string& prefix,
                          const std::vector<std::string>& objects,
                          const BucketVerifyOptions& options, PrefixReport* report) {
  report->prefix = prefix;
  report->segments = objects.size();
  auto note = [report](const std::string& object, const std::string& problem) {
    if (!report->problem.empty()) return;
    report->problem = problem;
    report->problem_object = object;
  };
  if (objects.empty()) note(prefix + kSegmentsDir, "no segments");
  // Versions of different bytes: the object was replaced (S3 keeps every version of an
  // Object Lock bucket; a locked version cannot be removed, a new one can be added).
  std::map<std::string, std::set<std::string>> etags;
  if (options.check_versions) {
    std::vector<S3ListedVersion> versions;
    Status s = client->ListAllVersions(prefix + kSegmentsDir, &versions);
    if (!s.ok()) return s;
    for (const S3ListedVersion& v : versions) {
      etags[v.key].insert(v.delete_marker ? "(delete marker)" : v.etag);
    }
  }
  SegmentChain chain;
  bool chained = true;
  for (const std::string& object : objects) {
    if (options.check_versions && etags[object].size() > 1) {
      ++report->replaced;
      note(object, "replaced: the object has " + std::to_string(etags[object].size()) +
                       " versions with different bytes");
    }
    if (!chained) continue;
    BucketSegment seg;
    seg.object = object;
    std::string bytes;
    Status s = client->GetObject(object, "", &bytes, &seg.info);
    if (!s.ok()) return s;
    std::string origin = ManifestOrigin(bytes);
    auto verifier = options.verifiers.find(origin);
    if (verifier == options.verifiers.end()) {
      s = Status::Corruption("no verifier key (--vkey) of the origin its manifest names, \"" +
                             origin + "\"");
    } else {
      s = VerifySegment(bytes, *verifier->second, &seg.segment);
    }
    if (s.ok()) s = chain.Add(seg.segment);
    if (!s.ok()) {
      note(object, s.message());
      chained = false;
      continue;
    }
    report->digests[object] = Sha256::Of(bytes);
    report->verified = chain.segments();
    report->last_seq = chain.last();
    report->messages = chain.messages();
    report->origin = chain.origin();
    std::string lock = LockProblem(seg);
    if (lock.empty()) {
      ++report->locked;
    } else {
      note(object, lock);
    }
    if (options.keep_segments) report->kept.push_back(std::move(seg));
  }
  report->root = chain.root();
  return Status::OK();
}

json MakeAccessRecord(const std::string& operation, const json& arguments,
                      const std::vector<std::string>& objects) {
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  std::string user = std::to_string(geteuid());
  if (const struct passwd* pw = getpwuid(geteuid())) user = pw->pw_name;
  return {{"time", FormatTimeUtc(NowMicros())},
          {"user", user},
          {"uid", geteuid()},
          {"host", host},
          {"pid", getpid()},
          {"operation", operation},
          {"arguments", arguments},
          {"objects", objects}};
}

Status WriteAccessRecord(S3Client* client, const json& record, int64_t retain_until_us,
                         std::string* key) {
  unsigned char random[8];
  if (RAND_bytes(random, sizeof random) != 1) {
    return Status::Internal("access record: no random bytes");
  }
  char hex[17];
  for (int i = 0; i < 8; ++i) std::snprintf(hex + 2 * i, 3, "%02x", random[i]);
  // audit/20261128T031500.123456Z-HOST-PID-RANDOM.json: sorts by time.
  std::string time = FormatTimeUtc(NowMicros());
  std::string stamp;
  for (char c : time) {
    if (c != '-' && c != ':') stamp.push_back(c);
  }
  std::string host = record.value("host", "");
  for (char& c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') c = '_';
  }
  std::string name = std::string(kAccessRecordPrefix) + stamp + "-" + host + "-" +
                     std::to_string(record.value("pid", 0)) + "-" + hex + ".json";
  S3PutOptions options;
  options.lock_mode = S3LockMode::kCompliance;
  options.retain_until_us = retain_until_us;
  Status s = client->PutObject(name, record.dump(2) + "\n", options, nullptr);
  if (!s.ok()) return Status::FromCode(s.code(), "access record " + name + ": " + s.message());
  *key = name;
  return Status::OK();
}

}  // namespace mailjournal
