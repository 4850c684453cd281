// Sealing: round trips, several recipients, wrong keys and tampering, and the standard
// command path (openssl cms | zstd -d) that works without our code.
#include "mailjournal/seal.h"

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>

#include "test_util.h"

namespace mailjournal {
namespace {

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245 + 12345;
    s[i] = static_cast<char>(i % 7 == 0 ? (x >> 16) : 'a' + i % 26);
  }
  return s;
}

// Seals `plaintext` fed in pieces of `piece` bytes.
std::string Seal(const std::string& plaintext, const std::vector<std::string>& certs,
                 size_t piece = 65536) {
  std::unique_ptr<Sealer> sealer;
  Status s = Sealer::Create(ParseRecipients(certs), &sealer);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::string sealed;
  for (size_t off = 0; off < plaintext.size(); off += piece) {
    BOOST_REQUIRE(sealer->Append(std::string_view(plaintext).substr(off, piece)).ok());
    sealed += sealer->Take();
  }
  s = sealer->Finish();
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return sealed + sealer->Take();
}

// Opens with the PEM private key (unencrypted).
Status Open(const std::string& sealed, const std::string& key_pem, std::string* plaintext) {
  std::unique_ptr<OpeningKey> key;
  Status s = OpeningKey::Load(key_pem, "", &key);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return key->Open(sealed, plaintext);
}

BOOST_AUTO_TEST_SUITE(seal)

BOOST_AUTO_TEST_CASE(round_trips_at_every_interesting_size) {
  const TestKeyPairs& k = TestKeys();
  for (size_t size : {size_t{0}, size_t{1}, size_t{65535}, size_t{65536}, size_t{25} << 20}) {
    BOOST_TEST_CONTEXT("size " << size) {
      std::string plaintext = Pattern(size);
      std::string sealed = Seal(plaintext, {k.Cert("retail")});
      BOOST_TEST(!sealed.empty());
      std::string opened;
      Status s = Open(sealed, k.Key("retail"), &opened);
      BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
      BOOST_TEST((opened == plaintext));
    }
  }
}

BOOST_AUTO_TEST_CASE(sealers_reusing_earlier_ones_contexts_seal_each_message_alone) {
  // Compression contexts are pooled: each sealer here reuses the previous one's, including
  // one abandoned in the middle of its message.
  const TestKeyPairs& k = TestKeys();
  RecipientKeys to = ParseRecipients({k.Cert("retail")});
  std::unique_ptr<Sealer> sealer;
  BOOST_REQUIRE(Sealer::Create(to, &sealer).ok());
  BOOST_REQUIRE(sealer->Append(Pattern(300000)).ok());  // abandoned: never finished
  for (size_t size : {size_t{20000}, size_t{0}, size_t{200000}}) {
    BOOST_TEST_CONTEXT("size " << size) {
      std::string plaintext = Pattern(size) + std::to_string(size);
      BOOST_REQUIRE(Sealer::Create(to, &sealer).ok());
      BOOST_REQUIRE(sealer->Append(plaintext).ok());
      BOOST_REQUIRE(sealer->Finish().ok());
      std::string opened;
      Status s = Open(sealer->Take(), k.Key("retail"), &opened);
      BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
      BOOST_TEST((opened == plaintext));
    }
  }
}

BOOST_AUTO_TEST_CASE(each_recipient_opens_it_alone_and_others_cannot) {
  const TestKeyPairs& k = TestKeys();
  std::string plaintext = "Subject: two departments\r\n\r\n\xe4\xbf\x9d\xe6\x9c\xac\r\n";
  std::string sealed = Seal(plaintext, {k.Cert("retail"), k.Cert("escrow")}, 3);
  for (const char* name : {"retail", "escrow"}) {
    std::string opened;
    BOOST_REQUIRE(Open(sealed, k.Key(name), &opened).ok());
    BOOST_TEST(opened == plaintext);
  }
  std::string opened = "untouched";
  Status s = Open(sealed, k.Key("other"), &opened);
  BOOST_TEST(s.IsCorruption());  // callers tell a foreign key by its fingerprint first
  BOOST_TEST(opened == "untouched");
}

BOOST_AUTO_TEST_CASE(a_flipped_byte_anywhere_fails_with_no_output) {
  const TestKeyPairs& k = TestKeys();
  std::string plaintext = Pattern(200000);
  std::string sealed = Seal(plaintext, {k.Cert("retail")});
  // Offsets in the recipient info (wrapped key), the content (ciphertext) and the end
  // (authentication tag and BER end-of-contents).
  for (size_t off :
       {size_t{300}, size_t{600}, sealed.size() / 2, sealed.size() - 40, sealed.size() - 20}) {
    BOOST_TEST_CONTEXT("offset " << off) {
      std::string bad = sealed;
      bad[off] ^= 0x01;
      std::string opened = "untouched";
      Status s = Open(bad, k.Key("retail"), &opened);
      BOOST_TEST(s.IsCorruption());
      BOOST_TEST(opened == "untouched");
    }
  }
}

BOOST_AUTO_TEST_CASE(the_standard_tools_open_it) {
  const TestKeyPairs& k = TestKeys();
  TempDir dir;
  std::string plaintext = Pattern(300000) + "\r\n.\r\nFrom the end\r\n";
  WriteBytes(dir.path() + "/m.cms", Seal(plaintext, {k.Cert("retail"), k.Cert("escrow")}));
  std::string cmd = "openssl cms -decrypt -binary -inform DER -in " + dir.path() +
                    "/m.cms -inkey " + k.dir() + "/escrow.key | zstd -q -d > " + dir.path() +
                    "/m.eml";
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  BOOST_TEST((ReadFile(dir.path() + "/m.eml") == plaintext));
  // The structure names its algorithms: AES-256-GCM, and OAEP with SHA-256 and MGF1-SHA-256.
  cmd = "openssl cms -cmsout -print -inform DER -in " + dir.path() + "/m.cms > " + dir.path() +
        "/m.txt";
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  std::string printed = ReadFile(dir.path() + "/m.txt");
  BOOST_TEST(printed.find("aes-256-gcm") != std::string::npos);
  BOOST_TEST(printed.find("rsaesOaep") != std::string::npos);
  BOOST_TEST(printed.find("OBJECT            :sha256") != std::string::npos);
  BOOST_TEST(printed.find("OBJECT            :mgf1") != std::string::npos);
  BOOST_TEST(printed.find("sha1") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_key_has_one_fingerprint_from_certificate_sealer_and_private_key) {
  const TestKeyPairs& k = TestKeys();
  std::unique_ptr<Sealer> sealer;
  BOOST_REQUIRE(
      Sealer::Create(ParseRecipients({k.Cert("retail"), k.Cert("escrow")}), &sealer).ok());
  for (size_t i = 0; i < 2; ++i) {
    const char* name = i == 0 ? "retail" : "escrow";
    Sha256Digest from_cert;
    BOOST_REQUIRE(CertificateKeyFingerprint(k.Cert(name), &from_cert).ok());
    std::unique_ptr<OpeningKey> key;
    BOOST_REQUIRE(OpeningKey::Load(k.Key(name), "", &key).ok());
    BOOST_TEST((key->fingerprint() == from_cert));
    BOOST_TEST((sealer->recipients()[i] == from_cert));
  }
  BOOST_TEST((sealer->recipients()[0] != sealer->recipients()[1]));
  Sha256Digest d;
  BOOST_TEST(
      (CertificateKeyFingerprint("no certificate", &d).code() == Status::Code::kInvalidArgument));
}

BOOST_AUTO_TEST_CASE(a_wrong_passphrase_or_a_non_key_is_refused_on_load) {
  const TestKeyPairs& k = TestKeys();
  TempDir dir;
  std::string cmd = "openssl pkey -in " + k.dir() +
                    "/retail.key -aes256 -passout pass:right -out " + dir.path() + "/enc.key";
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  std::unique_ptr<OpeningKey> key;
  BOOST_TEST((OpeningKey::Load(ReadFile(dir.path() + "/enc.key"), "wrong", &key).code() ==
              Status::Code::kInvalidArgument));
  BOOST_TEST(
      (OpeningKey::Load(k.Cert("retail"), "", &key).code() == Status::Code::kInvalidArgument));
  BOOST_REQUIRE(OpeningKey::Load(ReadFile(dir.path() + "/enc.key"), "right", &key).ok());
  std::string opened;
  BOOST_REQUIRE(key->Open(Seal("x", {k.Cert("retail")}), &opened).ok());
  BOOST_TEST(opened == "x");
}

BOOST_AUTO_TEST_CASE(non_rsa_recipient_is_refused) {
  TempDir dir;
  std::string cmd = "openssl req -x509 -newkey ed25519 -nodes -keyout " + dir.path() +
                    "/e.key -out " + dir.path() + "/e.crt -subj /CN=e -days 2 2>/dev/null";
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  std::shared_ptr<const RecipientKey> key;
  Status s = RecipientKey::Parse(ReadFile(dir.path() + "/e.crt"), &key);
  BOOST_TEST((s.code() == Status::Code::kInvalidArgument));
  BOOST_TEST(s.message().find("RSA") != std::string::npos);
  BOOST_TEST(
      (RecipientKey::Parse("not a certificate", &key).code() == Status::Code::kInvalidArgument));
  BOOST_TEST(key == nullptr);
  std::unique_ptr<Sealer> sealer;
  BOOST_TEST(!Sealer::Create({}, &sealer).ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
