// S3Client: the Amazon S3 requests that shipping sealed journal segments to an Object Lock
// bucket needs, over libcurl, signed with AWS Signature Version 4 by libcurl itself
// (CURLOPT_AWS_SIGV4; no request signing of our own). Works with AWS S3 and with S3
// services that implement Object Lock as AWS does (tested against Ceph radosgw, Debian 12:
// tests/s3/).
//
// Thread-safety: an S3Client is not thread-safe (it keeps one libcurl handle, and its
// connection, between requests); use one client per thread. Distinct clients may be used
// in different threads at once. libcurl's and libxml2's global initialisation happens once
// per process, thread-safely, when the first client is made; nothing is ever cleaned up
// globally, so clients may come and go at any time.
//
// Errors: every request returns a Status, and last_error() describes the last request's
// failure in detail (HTTP status, S3 error Code and Message, request id). The Status code
// says what a caller can do about it:
//   Unavailable       transient: no HTTP answer (cannot connect or resolve, timed out, the
//                     connection broke), HTTP 5xx (500 InternalError, 503 SlowDown or
//                     ServiceUnavailable, ...), 408 or 429, or S3 error code RequestTimeout
//                     or SlowDown. Retrying later, with backoff, may succeed
//                     (IsTransientS3Failure).
//   PermissionDenied  HTTP 403: bad credentials (InvalidAccessKeyId, SignatureDoesNotMatch),
//                     a policy refusal, or Object Lock refusing to delete a locked version
//                     or to shorten its retention (AccessDenied).
//   NotFound          HTTP 404 (NoSuchKey, NoSuchBucket, NoSuchVersion).
//   InvalidArgument   any other HTTP 4xx (400 InvalidRequest, 409 BucketAlreadyExists,
//                     InvalidBucketState, ...), or a request this client refuses to send.
//   IOError           anything else: an HTTP status S3 does not give (1xx, 3xx), a response
//                     that cannot be parsed, a libcurl failure that retrying cannot fix
//                     (TLS certificate not trusted, malformed URL).
// The message reads "s3 METHOD BUCKET/KEY: HTTP 403 AccessDenied: forbidden by object lock
// (request id ...)" or "s3 METHOD BUCKET/KEY: Couldn't connect to server: ...".
//
// Keys: object keys are sent percent-encoded (RFC 3986 unreserved characters and '/' as
// they are). Listed keys come back as S3 lists them, so they must be valid XML text (no
// control characters); keys of this project's segments are plain ASCII.
//
// Times: retain-until dates are microseconds since the epoch (time_util.h); they are sent
// with whole seconds, rounded up (a retention is never shortened by the rounding).
#ifndef MAILJOURNAL_S3_CLIENT_H_
#define MAILJOURNAL_S3_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mailjournal/s3_config.h"
#include "mailjournal/status.h"

namespace mailjournal {

enum class S3LockMode { kNone, kGovernance, kCompliance };

// "COMPLIANCE", "GOVERNANCE" or "" (kNone).
const char* S3LockModeName(S3LockMode mode);

// The last request's failure (all empty/zero after a success).
struct S3Error {
  long http_status = 0;    // 0: no HTTP answer came
  std::string code;        // S3's error <Code>, e.g. "AccessDenied"; "" when none was sent
                           // (HEAD answers have no body)
  std::string message;     // S3's error <Message>, or libcurl's error text
  std::string request_id;  // S3's <RequestId> or x-amz-request-id, for the operator
  bool transient = false;  // as IsTransientS3Failure of the returned status
};

// True when retrying the request later may succeed: the status is Unavailable (above).
bool IsTransientS3Failure(const Status& status);

// The classification above, for an HTTP answer: whether HTTP status `http_status` with S3
// error code `s3_code` ("" when none) is transient. Exposed for tests.
bool IsTransientHttpAnswer(long http_status, const std::string& s3_code);

// What HeadObject and GetObject report about an object (version).
struct S3ObjectInfo {
  uint64_t size = 0;
  std::string etag;        // as sent, with its quotes: "\"5d41402abc4b2a76b9719d911017c592\""
  std::string version_id;  // "" when the bucket is not versioned
  S3LockMode lock_mode = S3LockMode::kNone;
  int64_t retain_until_us = 0;  // 0 when there is no retention
  bool legal_hold = false;
};

struct S3PutOptions {
  // Object Lock retention of the new version: kNone, or a mode with retain_until_us > 0.
  S3LockMode lock_mode = S3LockMode::kNone;
  int64_t retain_until_us = 0;
  bool legal_hold = false;  // put the new version under a legal hold (ON)
};

struct S3PutResult {
  std::string etag;
  std::string version_id;  // the new version's id ("" when the bucket is not versioned)
};

// One entry of a listing.
struct S3ListedObject {
  std::string key;
  uint64_t size = 0;
  std::string etag;
  std::string last_modified;  // as S3 sends it, ISO 8601
};

// One version (or delete marker) of a listing of versions.
struct S3ListedVersion {
  std::string key;
  std::string version_id;
  bool is_latest = false;
  bool delete_marker = false;  // a delete marker: no bytes, no size, no ETag
  uint64_t size = 0;
  std::string etag;
};

struct S3ListPage {
  std::vector<S3ListedObject> objects;  // in key order, as S3 lists them
  bool truncated = false;               // more keys follow: ask again with
  std::string next_continuation_token;  // this token
};

class S3Client {
 public:
  // REQUIRES: ValidateS3Config(config).ok() (the requests fail with InvalidArgument
  // otherwise).
  explicit S3Client(S3Config config);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3Config& config() const { return config_; }

  // The last request's failure; cleared by each request that succeeds.
  const S3Error& last_error() const { return last_error_; }

  // Creates the configured bucket with Object Lock enabled (which also enables
  // versioning), as an operator's setup does once. A bucket of another owner fails
  // (InvalidArgument, HTTP 409 BucketAlreadyExists); the caller's own existing bucket
  // succeeds on radosgw and AWS us-east-1 (and is left as it is) but fails elsewhere on AWS
  // (409 BucketAlreadyOwnedByYou).
  Status CreateBucket();

  // Stores `body` under `key` with Content-MD5 (S3 checks it) and the options' Object Lock
  // retention and legal hold. On success fills *result (may be null).
  Status PutObject(const std::string& key, std::string_view body, const S3PutOptions& options,
                   S3PutResult* result);

  // Reads the object (the current version, or `version_id` when not empty) into *body and
  // its metadata into *info (may be null). NotFound when there is no such key or version;
  // *body is unspecified on error.
  Status GetObject(const std::string& key, const std::string& version_id, std::string* body,
                   S3ObjectInfo* info);

  // The metadata of the object (current version or `version_id`) without its bytes.
  // NotFound (code "" : HEAD answers carry no error body) when there is none.
  Status HeadObject(const std::string& key, const std::string& version_id, S3ObjectInfo* info);

  // One page of the keys starting with `prefix`, in key order: up to `max_keys` (1 to 1000;
  // S3 may return fewer) after the page `continuation_token` names ("" : the first page).
  Status ListObjects(const std::string& prefix, const std::string& continuation_token, int max_keys,
                     S3ListPage* page);

  // Every key starting with `prefix`, following the continuation tokens page by page
  // (`page_size` keys a request). *objects is replaced on success.
  Status ListAllObjects(const std::string& prefix, int page_size,
                        std::vector<S3ListedObject>* objects);

  // Every version and delete marker of the keys starting with `prefix` (ListObjectVersions,
  // page by page), as S3 lists them: by key, newest version first. *versions is replaced
  // on success.
  Status ListAllVersions(const std::string& prefix, std::vector<S3ListedVersion>* versions);

  // Sets a version's retention. S3 refuses (PermissionDenied) to shorten a COMPLIANCE
  // retention or to lower its mode; lengthening it is allowed.
  Status PutObjectRetention(const std::string& key, const std::string& version_id, S3LockMode mode,
                            int64_t retain_until_us);

  // Puts a legal hold on a version (on = true) or takes it off.
  Status PutObjectLegalHold(const std::string& key, const std::string& version_id, bool on);

  // Deletes a version (`version_id` not empty) or, in a versioned bucket, adds a delete
  // marker on top of the current version (`version_id` empty; nothing is destroyed).
  // Deleting a version under retention or legal hold is refused (PermissionDenied).
  Status DeleteObject(const std::string& key, const std::string& version_id);

 private:
  struct Request;
  struct Response;
  Status Perform(const Request& request, Response* response);
  // PUT KEY?SUBRESOURCE[&versionId=VERSION] with an XML body (retention, legal-hold).
  Status PutSubresource(const std::string& key, const std::string& version_id,
                        const std::string& subresource, std::string body);

  S3Config config_;
  struct CurlHandle;
  std::unique_ptr<CurlHandle> curl_;
  S3Error last_error_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_S3_CLIENT_H_
