// Reading a bucket of shipped segments (mailjournal-format(5), BUCKET): each MTA's
// segments under PREFIX/segments/FIRST-LAST.seg, and the access records of those who read
// them under audit/. Listing, fetching and verifying a prefix's segments (VerifySegment,
// then SegmentChain), with each object's Object Lock and versions; writing an access
// record. Functions use the S3Client given, so they are used by one thread at a time.
#ifndef MAILJOURNAL_BUCKET_H_
#define MAILJOURNAL_BUCKET_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mailjournal/checkpoint.h"
#include "mailjournal/s3_client.h"
#include "mailjournal/segment.h"
#include "mailjournal/status.h"

namespace mailjournal {

// Where access records go: audit/ at the top of the bucket.
constexpr char kAccessRecordPrefix[] = "audit/";

// Splits a segment object name PREFIX/segments/FIRST-LAST.seg (SegmentObjectName's form,
// both numbers 20 digits). False for any other key.
bool ParseSegmentObjectName(const std::string& key, std::string* prefix, uint64_t* first,
                            uint64_t* last);

// Every prefix that holds segments, with its segment object names in key (= journal) order.
Status ListBucketSegments(S3Client* client, std::map<std::string, std::vector<std::string>>* out);

// One segment object, fetched and verified.
struct BucketSegment {
  std::string object;
  S3ObjectInfo info;  // of the current version
  VerifiedSegment segment;
};

// What verifying one prefix found.
struct PrefixReport {
  std::string prefix;
  std::string origin;          // the checkpoints' origin ("" before a segment verified)
  size_t segments = 0;         // objects listed
  size_t verified = 0;         // verified and chained, from the first on
  uint64_t last_seq = 0;       // the last entry the chained segments prove (1..last_seq)
  uint64_t messages = 0;       // message entries in them
  size_t locked = 0;           // objects under COMPLIANCE until at least their retain-until
  size_t replaced = 0;         // objects with versions of different bytes
  std::string problem;         // the first problem, "" when none
  std::string problem_object;  // the object it is about
  Sha256Digest root{};         // the root of the tree of entries 1..last_seq
  // The SHA-256 of each verified object's current version, by object name.
  std::map<std::string, Sha256Digest> digests;
  std::vector<BucketSegment> kept;  // the verified segments, when asked for
  bool ok() const { return problem.empty(); }
};

struct BucketVerifyOptions {
  // The checkpoint verifier keys, by their name (the checkpoints' origin).
  std::map<std::string, const NoteVerifier*> verifiers;
  bool check_versions = true;  // list each object's versions (ListObjectVersions)
  bool keep_segments = false;  // keep the verified segments in the report (memory!)
};

// Fetches the segment objects of `prefix` (`objects`, from ListBucketSegments) in order and
// verifies each: VerifySegment with the verifier named as its manifest's origin, then
// SegmentChain; checks its Object Lock (mode COMPLIANCE, retain-until not before the
// manifest's retain_until) and that all its versions have the same bytes (ETag). Stops
// verifying at the first segment that does not verify or chain; lock and version problems
// are recorded and verifying goes on. Returns an error only when the bucket cannot be read
// (the S3 client's status); what is wrong with the data is in *report.
Status VerifyBucketPrefix(S3Client* client, const std::string& prefix,
                          const std::vector<std::string>& objects,
                          const BucketVerifyOptions& options, PrefixReport* report);

// The access record (mailjournal-format(5), BUCKET): {"time","user","host","pid",
// "operation","arguments","objects"}, user and host of this process.
nlohmann::json MakeAccessRecord(const std::string& operation, const nlohmann::json& arguments,
                                const std::vector<std::string>& objects);

// Writes `record` as audit/TIME-HOST-PID-RANDOM.json, under COMPLIANCE retention until
// retain_until_us, and sets *key. The caller must not read archived mail unless this
// succeeds.
Status WriteAccessRecord(S3Client* client, const nlohmann::json& record, int64_t retain_until_us,
                         std::string* key);

}  // namespace mailjournal

#endif  // MAILJOURNAL_BUCKET_H_
