// mailjournal keygen: department key pairs that the policy accepts and openssl cms opens.
#include "keygen.h"

#include <fcntl.h>
#include <grp.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "mailjournal/policy.h"
#include "test_util.h"

namespace mailjournal {
namespace {

constexpr char kPassphrase[] = "correct horse battery staple \xc3\xbc";

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  BOOST_REQUIRE(out.good());
}

// The standard output of a shell command; fails the test unless it exits 0.
std::string Run(const std::string& command) {
  FILE* p = popen(command.c_str(), "r");
  BOOST_REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int status = pclose(p);
  BOOST_REQUIRE_MESSAGE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "failed: " << command);
  return out;
}

int ExitStatus(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// One key pair, generated once (RSA-3072 takes a while) under umask 077, for the tests that
// only read it.
struct SharedKey {
  TempDir dir;
  KeygenResult result;
  std::string passphrase_file;
};

const SharedKey& Shared() {
  static SharedKey* shared = [] {
    auto* k = new SharedKey;
    Passphrase p;
    p.Assign(kPassphrase, sizeof(kPassphrase) - 1);
    KeygenOptions o;
    o.department = "brokerage";
    o.dir = k->dir.path();
    mode_t old = umask(077);
    Status s = GenerateDepartmentKey(o, p, &k->result);
    umask(old);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    k->passphrase_file = k->dir.path() + "/pass";
    WriteFile(k->passphrase_file, std::string(kPassphrase) + "\n");
    return k;
  }();
  return *shared;
}

X509Ptr LoadCertificate(const std::string& path) {
  std::string pem = ReadFile(path);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), (int)pem.size()),
                                                BIO_free);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr LoadPrivateKey(const std::string& path, const std::string& passphrase) {
  std::string pem = ReadFile(path);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), (int)pem.size()),
                                                BIO_free);
  PkeyPtr key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>(passphrase.c_str())));
  ERR_clear_error();
  return key;
}

// The admin protocol's name of a status code, printable in test failures.
std::string CodeOf(const Status& s) { return s.CodeName(); }

BOOST_AUTO_TEST_SUITE(keygen)

BOOST_AUTO_TEST_CASE(writes_private_key_0600_and_certificate_0644_whatever_the_umask) {
  const SharedKey& k = Shared();
  BOOST_TEST(k.result.key_path == k.dir.path() + "/brokerage.key");
  BOOST_TEST(k.result.certificate_path == k.dir.path() + "/brokerage.crt");
  struct stat st;
  BOOST_REQUIRE(stat(k.result.key_path.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 07777) == 0600u);
  BOOST_TEST(S_ISREG(st.st_mode));
  BOOST_TEST(st.st_uid == geteuid());
  BOOST_REQUIRE(stat(k.result.certificate_path.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 07777) == 0644u);
  BOOST_TEST(ReadFile(k.result.key_path).rfind("-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 0) == 0u);
  BOOST_TEST(ReadFile(k.result.certificate_path).rfind("-----BEGIN CERTIFICATE-----\n", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(another_user_cannot_read_the_private_key) {
  const SharedKey& k = Shared();
  if (geteuid() != 0) {
    BOOST_TEST_MESSAGE("not root: cannot switch to another user; checked the mode only");
    return;
  }
  // The daemon runs as its own unprivileged user; nobody (65534) stands in for it.
  std::string dir = k.dir.path();
  BOOST_REQUIRE(chmod(dir.c_str(), 0755) == 0);  // the directory is not what protects the key
  pid_t pid = fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    int fd = open(k.result.key_path.c_str(), O_RDONLY);
    if (fd >= 0) _exit(1);
    int cert = open(k.result.certificate_path.c_str(), O_RDONLY);
    _exit(errno == EACCES && cert >= 0 ? 0 : 3);
  }
  int status = 0;
  BOOST_REQUIRE(waitpid(pid, &status, 0) == pid);
  chmod(dir.c_str(), 0700);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0,
             "child status " << WEXITSTATUS(status) << " (1: key readable, 3: other)");
}

BOOST_AUTO_TEST_CASE(refuses_to_overwrite_an_existing_key_or_certificate) {
  const SharedKey& k = Shared();
  std::string key_before = ReadFile(k.result.key_path);
  Passphrase p;
  p.Assign("x", 1);
  KeygenOptions o;
  o.department = "brokerage";
  o.dir = k.dir.path();
  KeygenResult r;
  Status s = GenerateDepartmentKey(o, p, &r);
  BOOST_TEST(CodeOf(s) == "io_error");
  BOOST_TEST(s.message() == k.result.key_path + ": already exists; not overwritten");
  BOOST_TEST(ReadFile(k.result.key_path) == key_before);

  // Either file alone blocks the pair, and the other one is not created.
  TempDir dir;
  o.dir = dir.path();
  WriteFile(dir.path() + "/brokerage.crt", "old certificate");
  s = GenerateDepartmentKey(o, p, &r);
  BOOST_TEST(CodeOf(s) == "io_error");
  BOOST_TEST(ReadFile(dir.path() + "/brokerage.crt") == "old certificate");
  struct stat st;
  BOOST_TEST(lstat((dir.path() + "/brokerage.key").c_str(), &st) != 0);
  // A dangling symbolic link counts as existing: never followed.
  TempDir dir2;
  o.dir = dir2.path();
  BOOST_REQUIRE(
      symlink((dir2.path() + "/elsewhere").c_str(), (dir2.path() + "/brokerage.key").c_str()) == 0);
  s = GenerateDepartmentKey(o, p, &r);
  BOOST_TEST(CodeOf(s) == "io_error");
  BOOST_TEST(lstat((dir2.path() + "/elsewhere").c_str(), &st) != 0);
}

BOOST_AUTO_TEST_CASE(rejects_bad_names_days_empty_passphrase_and_missing_directory) {
  TempDir dir;
  Passphrase p;
  p.Assign("x", 1);
  KeygenResult r;
  for (const char* name : {"", "../x", "Retail", "-x", "a/b", ".hidden"}) {
    KeygenOptions o;
    o.department = name;
    o.dir = dir.path();
    BOOST_TEST(CodeOf(GenerateDepartmentKey(o, p, &r)) == "bad_request", name);
  }
  KeygenOptions o;
  o.department = std::string(42, 'a');
  o.dir = dir.path();
  BOOST_TEST(CodeOf(GenerateDepartmentKey(o, p, &r)) == "bad_request");
  o.department = "retail";
  for (int days : {0, -1, kKeygenMaxDays + 1}) {
    o.days = days;
    BOOST_TEST(CodeOf(GenerateDepartmentKey(o, p, &r)) == "bad_request", days);
  }
  o.days = 10;
  Passphrase empty;
  BOOST_TEST(CodeOf(GenerateDepartmentKey(o, empty, &r)) == "bad_request");
  o.dir = dir.path() + "/missing";
  BOOST_TEST(CodeOf(GenerateDepartmentKey(o, p, &r)) == "io_error");
  BOOST_TEST(Run("ls -A " + dir.path()) == "");
}

BOOST_AUTO_TEST_CASE(private_key_opens_with_the_passphrase_only) {
  const SharedKey& k = Shared();
  PkeyPtr key = LoadPrivateKey(k.result.key_path, kPassphrase);
  BOOST_REQUIRE(key != nullptr);
  BOOST_TEST(EVP_PKEY_is_a(key.get(), "RSA") == 1);
  BOOST_TEST(EVP_PKEY_get_bits(key.get()) == 3072);
  BOOST_TEST(!LoadPrivateKey(k.result.key_path, "wrong passphrase"));
  BOOST_TEST(!LoadPrivateKey(k.result.key_path, std::string(kPassphrase) + " "));
  // PKCS#8 PBES2: PBKDF2 (HMAC-SHA256) and AES-256-CBC.
  std::string asn1 = Run("openssl asn1parse -in " + k.result.key_path);
  BOOST_TEST(asn1.find(":PBES2") != std::string::npos, asn1);
  BOOST_TEST(asn1.find(":PBKDF2") != std::string::npos);
  BOOST_TEST(asn1.find(":hmacWithSHA256") != std::string::npos);
  BOOST_TEST(asn1.find(":aes-256-cbc") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(certificate_is_self_signed_for_the_key_with_key_encipherment_only) {
  const SharedKey& k = Shared();
  X509Ptr cert = LoadCertificate(k.result.certificate_path);
  BOOST_REQUIRE(cert != nullptr);
  PkeyPtr key = LoadPrivateKey(k.result.key_path, kPassphrase);
  BOOST_REQUIRE(key != nullptr);
  BOOST_TEST(X509_check_private_key(cert.get(), key.get()) == 1);
  BOOST_TEST(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())) ==
             0);
  BOOST_TEST(X509_verify(cert.get(), X509_get0_pubkey(cert.get())) == 1);
  BOOST_TEST(X509_get_signature_nid(cert.get()) == NID_sha256WithRSAEncryption);
  BOOST_TEST(X509_get_version(cert.get()) == X509_VERSION_3);
  char cn[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof(cn));
  BOOST_TEST(std::string(cn) == "mailjournal department brokerage");

  BOOST_TEST(X509_get_key_usage(cert.get()) == static_cast<uint32_t>(KU_KEY_ENCIPHERMENT));
  int ku = X509_get_ext_by_NID(cert.get(), NID_key_usage, -1);
  BOOST_REQUIRE(ku >= 0);
  BOOST_TEST(X509_EXTENSION_get_critical(X509_get_ext(cert.get(), ku)) == 1);
  BOOST_TEST((X509_get_extension_flags(cert.get()) & EXFLAG_CA) == 0u);

  // A random positive serial of 128 bits (fewer leading bits with probability 2^-32).
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr), BN_free);
  BOOST_REQUIRE(serial != nullptr);
  BOOST_TEST(!BN_is_negative(serial.get()));
  BOOST_TEST(BN_num_bits(serial.get()) <= 128);
  BOOST_TEST(BN_num_bits(serial.get()) > 96);

  int days = 0, secs = 0;
  BOOST_REQUIRE(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()),
                               X509_get0_notAfter(cert.get())) == 1);
  BOOST_TEST(days == kKeygenDefaultDays);
  BOOST_TEST(secs == 0);
  BOOST_TEST(k.result.not_after.size() == 10u);
}

BOOST_AUTO_TEST_CASE(fingerprint_is_the_public_key_digest_openssl_prints_from_either_file) {
  // The SHA-256 of the DER SubjectPublicKeyInfo, from the certificate or the private key.
  const SharedKey& k = Shared();
  std::string from_cert = Run("openssl x509 -noout -pubkey -in " + k.result.certificate_path +
                              " | openssl pkey -pubin -outform DER | sha256sum");
  std::string from_key = Run("openssl pkey -passin file:" + k.passphrase_file + " -in " +
                             k.result.key_path + " -pubout -outform DER | sha256sum");
  BOOST_TEST(k.result.fingerprint.size() == 64u);
  BOOST_TEST(from_cert.substr(0, 64) == k.result.fingerprint);
  BOOST_TEST(from_key.substr(0, 64) == k.result.fingerprint);
}

BOOST_AUTO_TEST_CASE(certificate_loads_as_a_policy_key_and_the_private_key_does_not) {
  const SharedKey& k = Shared();
  auto policy_text = [](const std::string& key_file) {
    return "version: 1\n"
           "retention:\n"
           "  archive-20y: 20y\n"
           "departments:\n"
           "  - name: brokerage\n"
           "    members: [\"@brokerage.bank.example\"]\n"
           "    retention: archive-20y\n"
           "    keys: [" +
           key_file +
           "]\n"
           "  - name: default\n"
           "    retention: archive-20y\n"
           "    keys: [" +
           key_file + "]\n";
  };
  std::string path = k.dir.path() + "/policy.yaml";
  WriteFile(path, policy_text("brokerage.crt"));
  std::shared_ptr<const Policy> policy;
  std::vector<PolicyError> errors;
  bool ok = LoadPolicy(CanonicalPolicyPath(path), DiskFileReader(), &policy, &errors);
  BOOST_TEST_REQUIRE(ok, (errors.empty() ? "" : errors[0].ToString()));
  const Department* dept = policy->FindDepartment("brokerage");
  BOOST_REQUIRE(dept != nullptr);
  BOOST_TEST(dept->keys.size() == 1u);
  BOOST_TEST(dept->keys[0] == k.result.certificate_path);

  WriteFile(path, policy_text("brokerage.key"));
  errors.clear();
  BOOST_TEST(!LoadPolicy(CanonicalPolicyPath(path), DiskFileReader(), &policy, &errors));
  unlink(path.c_str());
}

BOOST_AUTO_TEST_CASE(openssl_cms_round_trip_with_the_key_pair) {
  const SharedKey& k = Shared();
  TempDir dir;
  std::string msg =
      "Subject: t\r\n\r\nGr\xc3\xbc\xc3\x9f"
      "e\r\n";
  msg += std::string("\0\x01\xff", 3);
  msg += std::string(70000, 'x') + "\r\n.\r\n";
  WriteFile(dir.path() + "/m.eml", msg);
  Run("openssl cms -encrypt -binary -aes-256-gcm -recip " + k.result.certificate_path +
      " -keyopt rsa_padding_mode:oaep -outform DER -in " + dir.path() + "/m.eml -out " +
      dir.path() + "/m.cms");
  Run("openssl cms -decrypt -binary -inform DER -in " + dir.path() + "/m.cms -inkey " +
      k.result.key_path + " -passin file:" + k.passphrase_file + " -out " + dir.path() + "/m.out");
  BOOST_TEST(ReadFile(dir.path() + "/m.out") == msg);

  WriteFile(dir.path() + "/wrong", "wrong passphrase\n");
  BOOST_TEST(ExitStatus("openssl cms -decrypt -binary -inform DER -in " + dir.path() +
                        "/m.cms -inkey " + k.result.key_path + " -passin file:" + dir.path() +
                        "/wrong -out " + dir.path() + "/m.bad 2>/dev/null") != 0);
}

BOOST_AUTO_TEST_CASE(passphrase_file_gives_its_first_line_without_the_newline) {
  TempDir dir;
  std::string path = dir.path() + "/pass";
  Passphrase p;
  auto read = [&](const std::string& bytes) {
    WriteFile(path, bytes);
    return ReadPassphraseFile(path, &p);
  };
  BOOST_TEST(read("secret\nsecond line\n").ok());
  BOOST_TEST(std::string(p.data(), p.size()) == "secret");
  BOOST_TEST(read("no newline").ok());
  BOOST_TEST(std::string(p.data(), p.size()) == "no newline");
  BOOST_TEST(read("crlf\r\n").ok());  // as openssl -passin file: reads it
  BOOST_TEST(std::string(p.data(), p.size()) == "crlf\r");
  BOOST_TEST(read(std::string(Passphrase::kMaxSize, 'p') + "\n").ok());
  BOOST_TEST(p.size() == Passphrase::kMaxSize);
  for (const std::string& bad :
       {std::string(""), std::string("\nsecret\n"), std::string(Passphrase::kMaxSize + 1, 'p'),
        std::string("a\0b\n", 4)}) {
    BOOST_TEST(CodeOf(read(bad)) == "bad_request");
    BOOST_TEST(p.empty());
  }
  BOOST_TEST(ReadPassphraseFile(dir.path() + "/none", &p).IsNotFound());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
