// S3 configuration and the credentials file (mailjournal/s3_config.h), and the transient /
// permanent classification of S3 answers (mailjournal/s3_client.h). The requests themselves
// are tested against a real radosgw: tests/s3/ (ctest e2e_s3).
#include "mailjournal/s3_config.h"

#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "mailjournal/s3_client.h"
#include "test_util.h"

namespace mailjournal {
namespace {

std::string WriteCredentials(const TempDir& dir, const std::string& text, mode_t mode) {
  std::string path = dir.path() + "/s3-credentials";
  std::ofstream(path, std::ios::trunc) << text;
  BOOST_REQUIRE(chmod(path.c_str(), mode) == 0);
  return path;
}

S3Config ValidConfig() {
  S3Config config;
  config.endpoint = "http://127.0.0.1:7480";
  config.region = "default";
  config.bucket = "mailjournal-segments";
  config.access_key = "AKIAIOSFODNN7EXAMPLE";
  config.secret_key = "secret";
  return config;
}

BOOST_AUTO_TEST_SUITE(s3_config)

BOOST_AUTO_TEST_CASE(CredentialsFileReadableOnlyByOwnerIsLoaded) {
  TempDir dir;
  std::string path = WriteCredentials(dir,
                                      "# S3 user mta1\n\n"
                                      "  access_key = AKIAIOSFODNN7EXAMPLE  \n"
                                      "secret_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCY=EXAMPLEKEY\n",
                                      0600);
  S3Config config;
  Status s = LoadS3Credentials(path, &config);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(config.access_key == "AKIAIOSFODNN7EXAMPLE");
  BOOST_TEST(config.secret_key == "wJalrXUtnFEMI/K7MDENG/bPxRfiCY=EXAMPLEKEY");
  BOOST_REQUIRE(chmod(path.c_str(), 0400) == 0);
  BOOST_TEST(LoadS3Credentials(path, &config).ok());
}

BOOST_AUTO_TEST_CASE(CredentialsFileOthersMayReadIsRefused) {
  TempDir dir;
  for (mode_t mode : {0640, 0604, 0660, 0602}) {
    std::string path = WriteCredentials(dir, "access_key = a\nsecret_key = b\n", mode);
    S3Config config;
    Status s = LoadS3Credentials(path, &config);
    BOOST_TEST((s.code() == Status::Code::kPermissionDenied), s.ToString());
    BOOST_TEST(s.message().find("chmod 600 " + path) != std::string::npos, s.message());
    BOOST_TEST(config.secret_key.empty());
  }
}

BOOST_AUTO_TEST_CASE(MalformedCredentialsFilesAreRefusedWithTheLine) {
  TempDir dir;
  struct Case {
    const char* text;
    const char* expected;
  } cases[] = {
      {"access_key = a\n", "needs both access_key and secret_key"},
      {"access_key = a\nsecret_key b\n", ":2: expected"},
      {"access_key = a\nsecret_key = b\nregion = x\n", ":3: unknown key 'region'"},
      {"access_key = a\naccess_key = c\nsecret_key = b\n", ":2: access_key given twice"},
      {"access_key =\nsecret_key = b\n", ":1: access_key is empty"},
  };
  for (const auto& c : cases) {
    std::string path = WriteCredentials(dir, c.text, 0600);
    S3Config config;
    Status s = LoadS3Credentials(path, &config);
    BOOST_TEST((s.code() == Status::Code::kInvalidArgument), c.text);
    BOOST_TEST(s.message().find(c.expected) != std::string::npos, s.message());
    BOOST_TEST(config.access_key.empty());
  }
  S3Config config;
  BOOST_TEST(LoadS3Credentials(dir.path() + "/none", &config).IsNotFound());
  BOOST_TEST((LoadS3Credentials(dir.path(), &config).code() == Status::Code::kInvalidArgument));
}

BOOST_AUTO_TEST_CASE(ConfigValidationNamesTheProblem) {
  BOOST_TEST(ValidateS3Config(ValidConfig()).ok());
  S3Config c = ValidConfig();
  c.endpoint = "https://s3.eu-central-1.amazonaws.com/";
  BOOST_TEST(ValidateS3Config(c).ok());
  for (const char* bad :
       {"127.0.0.1:7480", "ftp://host", "http://", "http://host/path", "http://user@host"}) {
    c.endpoint = bad;
    BOOST_TEST(ValidateS3Config(c).message().find("s3 endpoint") != std::string::npos, bad);
  }
  for (const char* bad : {"ab", "Upper", "-dash", "dash-", "under_score"}) {
    c = ValidConfig();
    c.bucket = bad;
    BOOST_TEST(ValidateS3Config(c).message().find("s3 bucket") != std::string::npos, bad);
  }
  c = ValidConfig();
  c.region.clear();
  BOOST_TEST((ValidateS3Config(c).code() == Status::Code::kInvalidArgument));
  c = ValidConfig();
  c.secret_key.clear();
  BOOST_TEST(ValidateS3Config(c).message().find("credentials") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ServerErrorsAndThrottlingAreTransientClientErrorsAreNot) {
  BOOST_TEST(IsTransientHttpAnswer(500, "InternalError"));
  BOOST_TEST(IsTransientHttpAnswer(503, "SlowDown"));
  BOOST_TEST(IsTransientHttpAnswer(503, ""));
  BOOST_TEST(IsTransientHttpAnswer(502, ""));
  BOOST_TEST(IsTransientHttpAnswer(429, ""));
  BOOST_TEST(IsTransientHttpAnswer(400, "RequestTimeout"));
  BOOST_TEST(!IsTransientHttpAnswer(403, "AccessDenied"));
  BOOST_TEST(!IsTransientHttpAnswer(403, "SignatureDoesNotMatch"));
  BOOST_TEST(!IsTransientHttpAnswer(404, "NoSuchKey"));
  BOOST_TEST(!IsTransientHttpAnswer(400, "InvalidRequest"));
  BOOST_TEST(IsTransientS3Failure(Status::Unavailable("x")));
  BOOST_TEST(!IsTransientS3Failure(Status::PermissionDenied("x")));
}

BOOST_AUTO_TEST_CASE(AnInvalidConfigurationFailsEveryRequestWithoutSendingIt) {
  S3Config c = ValidConfig();
  c.endpoint = "127.0.0.1:7480";
  S3Client client(c);
  S3ObjectInfo info;
  Status s = client.HeadObject("k", "", &info);
  BOOST_TEST((s.code() == Status::Code::kInvalidArgument), s.ToString());
  BOOST_TEST(client.last_error().http_status == 0);
  BOOST_TEST(!client.last_error().transient);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
