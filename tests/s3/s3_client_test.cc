// S3Client (mailjournal/s3_client.h) against a real S3 server: Ceph radosgw, started by
// tests/s3/test_s3.py (ctest e2e_s3), which passes it in the environment:
//   MJ_S3_ENDPOINT, MJ_S3_REGION, MJ_S3_ACCESS_KEY, MJ_S3_SECRET_KEY (required: a test
//   without them fails, it is never skipped), and for the suites test_s3.py runs on their own:
//   MJ_S3_BUCKET (cross_check: the bucket boto3 made), MJ_S3_CROSS_RETAIN_UNTIL (ISO 8601).
// Suites: object_lock and credentials (the server up); server_down (run while radosgw is
// stopped); cross_check (between boto3's steps).
#define BOOST_TEST_MODULE s3_client
#include "mailjournal/s3_client.h"

#include <openssl/evp.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "mailjournal/entry.h"
#include "mailjournal/time_util.h"

namespace mailjournal {

// For BOOST_TEST's messages about status codes.
std::ostream& operator<<(std::ostream& os, Status::Code code) {
  return os << Status::FromCode(code, "").CodeName();
}

namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  BOOST_REQUIRE_MESSAGE(value != nullptr && *value != '\0',
                        name << " is not set: run tests/s3/test_s3.py (ctest -R e2e_s3)");
  return value;
}

S3Config ServerConfig(const std::string& bucket) {
  S3Config config;
  config.endpoint = Env("MJ_S3_ENDPOINT");
  config.region = Env("MJ_S3_REGION");
  config.access_key = Env("MJ_S3_ACCESS_KEY");
  config.secret_key = Env("MJ_S3_SECRET_KEY");
  config.bucket = bucket;
  config.connect_timeout_seconds = 5;
  config.stall_timeout_seconds = 30;
  return config;
}

// A bucket name no other test case of this process (or earlier run) uses.
std::string FreshBucketName() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return "mj-test-" + std::to_string(rd() % 1000000000) + "-" + std::to_string(++counter);
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

std::string Md5Etag(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_md5(), nullptr);
  return "\"" + HexEncode(std::string(reinterpret_cast<char*>(md), n)) + "\"";
}

constexpr int64_t kDayUs = 86400LL * 1000000;

// Whole seconds, rounded up, as S3Client sends retain-until dates.
int64_t RoundedUp(int64_t us) { return (us + 999999) / 1000000 * 1000000; }

// A fresh Object Lock bucket for each test case.
struct LockedBucket {
  S3Client client{ServerConfig(FreshBucketName())};
  LockedBucket() {
    Status s = client.CreateBucket();
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  // Uploads `body` under `key` with COMPLIANCE retention until `until`; returns the version.
  std::string PutLocked(const std::string& key, const std::string& body, int64_t until,
                        bool legal_hold = false) {
    S3PutOptions options;
    options.lock_mode = S3LockMode::kCompliance;
    options.retain_until_us = until;
    options.legal_hold = legal_hold;
    S3PutResult result;
    Status s = client.PutObject(key, body, options, &result);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    BOOST_REQUIRE(!result.version_id.empty());
    return result.version_id;
  }
  S3ObjectInfo Head(const std::string& key, const std::string& version) {
    S3ObjectInfo info;
    Status s = client.HeadObject(key, version, &info);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    return info;
  }
};

void CheckPermanentRefusal(const S3Client& client, const Status& s, const char* code) {
  BOOST_TEST(s.code() == Status::Code::kPermissionDenied, s.ToString());
  BOOST_TEST(!IsTransientS3Failure(s));
  BOOST_TEST(client.last_error().http_status == 403);
  BOOST_TEST(client.last_error().code == code);
  BOOST_TEST(!client.last_error().transient);
  BOOST_TEST(s.message().find(code) != std::string::npos, s.message());
}

BOOST_AUTO_TEST_SUITE(object_lock)

BOOST_FIXTURE_TEST_CASE(LockedUploadReadsBackBytesAndMetadataExactly, LockedBucket) {
  std::string body = RandomBytes(3 * 1024 * 1024 + 17, 1);  // binary, several MB
  int64_t until = NowMicros() + kDayUs + 250000;            // a fraction: rounded up
  std::string version = PutLocked("segments/mta1/000001.seg", body, until);

  std::string got;
  S3ObjectInfo info;
  Status s = client.GetObject("segments/mta1/000001.seg", "", &got, &info);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST((got == body));
  BOOST_TEST(info.size == body.size());
  BOOST_TEST(info.etag == Md5Etag(body));
  BOOST_TEST(info.version_id == version);
  BOOST_TEST((info.lock_mode == S3LockMode::kCompliance));
  BOOST_TEST(info.retain_until_us == RoundedUp(until));
  BOOST_TEST(!info.legal_hold);

  S3ObjectInfo head = Head("segments/mta1/000001.seg", version);
  BOOST_TEST(head.size == body.size());
  BOOST_TEST(head.etag == info.etag);
  BOOST_TEST(head.version_id == version);
  BOOST_TEST((head.lock_mode == S3LockMode::kCompliance));
  BOOST_TEST(head.retain_until_us == RoundedUp(until));
}

BOOST_FIXTURE_TEST_CASE(EmptyObjectAndKeyWithSpecialCharactersRoundTrip, LockedBucket) {
  // Spaces, '+', '%', '=', UTF-8: the key's percent-encoding must match what SigV4 signs.
  const std::string key = "odd keys/a b+c%d=e&f~g\xC3\xA9.txt";
  S3PutResult result;
  Status s = client.PutObject(key, "", S3PutOptions(), &result);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::string got = "not empty";
  S3ObjectInfo info;
  s = client.GetObject(key, "", &got, &info);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(got.empty());
  BOOST_TEST(info.size == 0u);
  BOOST_TEST((info.lock_mode == S3LockMode::kNone));
  std::vector<S3ListedObject> listed;
  s = client.ListAllObjects("odd keys/", 1000, &listed);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_REQUIRE(listed.size() == 1u);
  BOOST_TEST(listed[0].key == key);
}

BOOST_FIXTURE_TEST_CASE(ServerRefusesDeletingALockedVersionPermanently, LockedBucket) {
  std::string body = "locked bytes";
  std::string version = PutLocked("locked", body, NowMicros() + kDayUs);
  Status s = client.DeleteObject("locked", version);
  CheckPermanentRefusal(client, s, "AccessDenied");
  std::string got;
  s = client.GetObject("locked", version, &got, nullptr);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(got == body);
}

BOOST_FIXTURE_TEST_CASE(DeleteWithoutVersionOnlyHidesTheLockedVersion, LockedBucket) {
  std::string version = PutLocked("hidden", "still here", NowMicros() + kDayUs);
  Status s = client.DeleteObject("hidden", "");  // a delete marker on top
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  S3ObjectInfo info;
  s = client.HeadObject("hidden", "", &info);
  BOOST_TEST(s.code() == Status::Code::kNotFound, s.ToString());
  BOOST_TEST(client.last_error().http_status == 404);
  BOOST_TEST(Head("hidden", version).size == 10u);
}

BOOST_FIXTURE_TEST_CASE(ServerRefusesShorteningRetentionAndAllowsExtendingIt, LockedBucket) {
  int64_t until = NowMicros() + kDayUs;
  std::string version = PutLocked("retained", "x", until);
  Status s =
      client.PutObjectRetention("retained", version, S3LockMode::kCompliance, until - kDayUs / 2);
  CheckPermanentRefusal(client, s, "AccessDenied");
  BOOST_TEST(Head("retained", version).retain_until_us == RoundedUp(until));

  int64_t later = until + 30 * kDayUs;
  s = client.PutObjectRetention("retained", version, S3LockMode::kCompliance, later);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  S3ObjectInfo head = Head("retained", version);
  BOOST_TEST(head.retain_until_us == RoundedUp(later));
  BOOST_TEST((head.lock_mode == S3LockMode::kCompliance));
}

BOOST_FIXTURE_TEST_CASE(LegalHoldGoesOnAndOffAndGuardsTheVersion, LockedBucket) {
  // No retention: only the legal hold keeps this version.
  S3PutOptions options;
  options.legal_hold = true;
  S3PutResult put;
  Status s = client.PutObject("held", "evidence", options, &put);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(Head("held", put.version_id).legal_hold);
  BOOST_TEST((Head("held", put.version_id).lock_mode == S3LockMode::kNone));

  s = client.DeleteObject("held", put.version_id);
  CheckPermanentRefusal(client, s, "AccessDenied");

  s = client.PutObjectLegalHold("held", put.version_id, false);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(!Head("held", put.version_id).legal_hold);
  s = client.PutObjectLegalHold("held", put.version_id, true);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(Head("held", put.version_id).legal_hold);
  s = client.PutObjectLegalHold("held", put.version_id, false);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());

  s = client.DeleteObject("held", put.version_id);  // neither hold nor retention now
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  S3ObjectInfo info;
  s = client.HeadObject("held", put.version_id, &info);
  BOOST_TEST(s.code() == Status::Code::kNotFound, s.ToString());
}

BOOST_FIXTURE_TEST_CASE(ListingFollowsPrefixAndContinuationTokens, LockedBucket) {
  std::vector<std::string> keys;
  for (int i = 0; i < 23; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "mta1/%05d.seg", i);
    keys.push_back(key);
    Status s = client.PutObject(key, "segment " + std::to_string(i), S3PutOptions(), nullptr);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  for (int i = 0; i < 4; ++i) {
    Status s = client.PutObject("mta2/" + std::to_string(i), "other", S3PutOptions(), nullptr);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  S3ListPage page;
  Status s = client.ListObjects("mta1/", "", 10, &page);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(page.objects.size() == 10u);
  BOOST_TEST(page.truncated);
  BOOST_TEST(!page.next_continuation_token.empty());
  BOOST_TEST(page.objects[0].key == keys[0]);
  BOOST_TEST(page.objects[0].size == std::string("segment 0").size());
  BOOST_TEST(page.objects[0].etag == Md5Etag("segment 0"));

  std::vector<S3ListedObject> all;
  s = client.ListAllObjects("mta1/", 4, &all);  // 6 pages
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::vector<std::string> listed;
  for (const auto& o : all) listed.push_back(o.key);
  BOOST_TEST(listed == keys, boost::test_tools::per_element());

  s = client.ListAllObjects("mta2/", 1000, &all);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(all.size() == 4u);
  s = client.ListAllObjects("mta3/", 1000, &all);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(all.empty());
}

BOOST_FIXTURE_TEST_CASE(MissingKeyIsPermanentAndCreatingTheBucketAgainKeepsIt, LockedBucket) {
  std::string body;
  Status s = client.GetObject("no/such/key", "", &body, nullptr);
  BOOST_TEST(s.code() == Status::Code::kNotFound, s.ToString());
  BOOST_TEST(client.last_error().http_status == 404);
  BOOST_TEST(client.last_error().code == "NoSuchKey");
  BOOST_TEST(!IsTransientS3Failure(s));

  std::string version = PutLocked("kept", "kept bytes", NowMicros() + kDayUs);
  s = client.CreateBucket();  // the owner's own bucket: radosgw (and us-east-1) answer 200
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  s = client.GetObject("kept", version, &body, nullptr);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(body == "kept bytes");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(credentials)

BOOST_AUTO_TEST_CASE(WrongSecretKeyIsAClearAuthenticationError) {
  S3Config config = ServerConfig(FreshBucketName());
  config.secret_key += "x";
  S3Client client(config);
  Status s = client.CreateBucket();
  CheckPermanentRefusal(client, s, "SignatureDoesNotMatch");
}

BOOST_AUTO_TEST_CASE(UnknownAccessKeyIsAClearAuthenticationError) {
  S3Config config = ServerConfig(FreshBucketName());
  config.access_key = "NOSUCHACCESSKEY00000";
  S3Client client(config);
  Status s = client.CreateBucket();
  CheckPermanentRefusal(client, s, "InvalidAccessKeyId");
}

BOOST_AUTO_TEST_SUITE_END()

// Run by test_s3.py while radosgw is stopped (its port closed).
BOOST_AUTO_TEST_SUITE(server_down)

BOOST_AUTO_TEST_CASE(ServerDownIsATransientError) {
  S3Client client(ServerConfig(FreshBucketName()));
  Status s = client.PutObject("k", "bytes", S3PutOptions(), nullptr);
  BOOST_TEST(s.code() == Status::Code::kUnavailable, s.ToString());
  BOOST_TEST(IsTransientS3Failure(s));
  BOOST_TEST(client.last_error().http_status == 0);
  BOOST_TEST(client.last_error().transient);
  BOOST_TEST(s.message().find("transient") != std::string::npos, s.message());
}

BOOST_AUTO_TEST_SUITE_END()

// Run by test_s3.py after boto3 uploaded crosscheck/by-boto3 (CrossCheckBytes(), COMPLIANCE
// until MJ_S3_CROSS_RETAIN_UNTIL) into MJ_S3_BUCKET; boto3 then reads
// crosscheck/by-mailjournal back.
BOOST_AUTO_TEST_SUITE(cross_check)

std::string CrossCheckBytes() {
  std::string out;
  for (int i = 0; i < 70000; ++i) out += static_cast<char>((i * 7 + i / 256) & 0xff);
  return out;
}

BOOST_AUTO_TEST_CASE(ReadsBoto3UploadAndUploadsForBoto3) {
  S3Client client(ServerConfig(Env("MJ_S3_BUCKET")));
  int64_t until = 0;
  BOOST_REQUIRE(ParseTime(Env("MJ_S3_CROSS_RETAIN_UNTIL"), &until).ok());
  std::string got;
  S3ObjectInfo info;
  Status s = client.GetObject("crosscheck/by-boto3", "", &got, &info);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST((got == CrossCheckBytes()));
  BOOST_TEST((info.lock_mode == S3LockMode::kCompliance));
  BOOST_TEST(info.retain_until_us == until);
  BOOST_TEST(info.legal_hold);

  S3PutOptions options;
  options.lock_mode = S3LockMode::kCompliance;
  options.retain_until_us = until;
  s = client.PutObject("crosscheck/by-mailjournal", CrossCheckBytes(), options, nullptr);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
