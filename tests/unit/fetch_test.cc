// Opening sealed messages in the tool (store/tool/fetch.h): a key that is not a recipient's
// is a refusal naming the keys that would open it; a recipient's key that meets damage is an
// integrity error; and the bytes must be the ones the entry records (its size and salted
// digest bind the ciphertext to the entry), so a ciphertext moved to another entry or an
// entry whose recorded digest was altered yields an error, never output.
#include "fetch.h"

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "mailjournal/admin_protocol.h"
#include "mailjournal/sha256.h"
#include "test_util.h"

namespace mailjournal {
namespace {

using nlohmann::json;

struct SealedMessage {
  std::string plaintext;
  std::string sealed;
  json entry;  // as the admin protocol shows it
};

// Seals `plaintext` to the named test keys as capture does, with its entry as seq `seq`.
SealedMessage MakeSealed(uint64_t seq, const std::string& plaintext,
                         const std::vector<std::string>& key_names) {
  std::vector<std::string> certs;
  for (const std::string& name : key_names) certs.push_back(TestKeys().Cert(name));
  std::unique_ptr<Sealer> sealer;
  BOOST_REQUIRE(Sealer::Create(ParseRecipients(certs), &sealer).ok());
  BOOST_REQUIRE(sealer->Append(plaintext).ok());
  BOOST_REQUIRE(sealer->Finish().ok());
  SealedMessage m;
  m.plaintext = plaintext;
  m.sealed = sealer->Take();
  Entry e;
  e.message = TestMessage(Envelope());
  Sealing& seal = e.message.sealing;
  seal.sealed = true;
  seal.plain_size = plaintext.size();
  seal.salt.fill(static_cast<uint8_t>(seq));
  Sha256 salted;
  salted.Update(std::string_view(reinterpret_cast<const char*>(seal.salt.data()), 16));
  salted.Update(plaintext);
  seal.plain_digest = salted.Final();
  seal.recipients = sealer->recipients();
  m.entry = EntryToJson(seq, e);
  return m;
}

Opener OpenerWith(const std::vector<std::string>& key_names) {
  Opener opener;
  std::vector<std::string> files;
  for (const std::string& name : key_names) files.push_back(TestKeys().dir() + "/" + name + ".key");
  Status s = opener.Load(files, "");
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return opener;
}

std::string FingerprintHex(const std::string& name) {
  Sha256Digest d;
  BOOST_REQUIRE(CertificateKeyFingerprint(TestKeys().Cert(name), &d).ok());
  return DigestToJson(d).get<std::string>();
}

BOOST_AUTO_TEST_SUITE(fetch)

BOOST_AUTO_TEST_CASE(a_recipient_key_opens_and_a_foreign_key_is_refused_by_fingerprint) {
  SealedMessage m = MakeSealed(7, "Subject: hi\r\n\r\nbody\r\n", {"retail", "escrow"});
  std::string out;
  BOOST_REQUIRE(OpenerWith({"escrow"}).Open(m.entry, m.sealed, &out).ok());
  BOOST_TEST(out == m.plaintext);
  // Several keys: the one that is a recipient's is used.
  out.clear();
  BOOST_REQUIRE(OpenerWith({"other", "retail"}).Open(m.entry, m.sealed, &out).ok());
  BOOST_TEST(out == m.plaintext);
  out = "untouched";
  Status s = OpenerWith({"other"}).Open(m.entry, m.sealed, &out);
  BOOST_TEST((s.code() == Status::Code::kPermissionDenied));
  BOOST_TEST(s.message().find("message 7 is sealed") != std::string::npos);
  BOOST_TEST(s.message().find(FingerprintHex("retail")) != std::string::npos);
  BOOST_TEST(s.message().find(FingerprintHex("escrow")) != std::string::npos);
  BOOST_TEST(out == "untouched");
  BOOST_TEST(
      (OpenerWith({}).Open(m.entry, m.sealed, &out).code() == Status::Code::kPermissionDenied));
}

BOOST_AUTO_TEST_CASE(a_flipped_byte_in_wrapped_key_ciphertext_or_tag_is_an_integrity_error) {
  // Incompressible content, so that the ciphertext is large.
  std::string noise(200000, '\0');
  uint32_t x = 1;
  for (char& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 23);
  SealedMessage m = MakeSealed(3, noise, {"retail"});
  BOOST_REQUIRE(m.sealed.size() > 200000u);
  Opener opener = OpenerWith({"retail"});
  // The wrapped key (inside the recipient info, early), the ciphertext (middle), the tag and
  // the BER end (last bytes).
  for (size_t off : {size_t{300}, size_t{600}, m.sealed.size() / 2, m.sealed.size() - 30,
                     m.sealed.size() - 20}) {
    BOOST_TEST_CONTEXT("offset " << off) {
      std::string bad = m.sealed;
      bad[off] ^= 0x20;
      std::string out = "untouched";
      Status s = opener.Open(m.entry, bad, &out);
      BOOST_TEST(s.IsCorruption(), s.ToString());
      BOOST_TEST(out == "untouched");
    }
  }
}

BOOST_AUTO_TEST_CASE(the_entry_binds_the_ciphertext_so_a_swap_or_altered_entry_yields_nothing) {
  SealedMessage a = MakeSealed(4, "Subject: a\r\n\r\nto customer A\r\n", {"retail"});
  SealedMessage b = MakeSealed(5, "Subject: b\r\n\r\nto customer B\r\n", {"retail"});
  Opener opener = OpenerWith({"retail"});
  std::string out;
  Status s = opener.Open(b.entry, a.sealed, &out);  // A's ciphertext under B's entry
  BOOST_TEST(s.IsCorruption());
  BOOST_TEST(s.message().find("not the captured bytes its entry records") != std::string::npos);
  BOOST_TEST(out.empty());
  for (const char* field : {"salt", "plain_digest"}) {
    BOOST_TEST_CONTEXT(field) {
      json altered = a.entry;
      std::string hex = altered["seal"][field].get<std::string>();
      hex[0] = hex[0] == '0' ? '1' : '0';
      altered["seal"][field] = hex;
      out = "untouched";
      BOOST_TEST(opener.Open(altered, a.sealed, &out).IsCorruption());
      BOOST_TEST(out.empty());
    }
  }
  json altered = a.entry;
  altered["seal"]["scheme"] = 2;  // a scheme of a later version: refused, not guessed at
  BOOST_TEST((opener.Open(altered, a.sealed, &out).code() == Status::Code::kInvalidArgument));
  altered = a.entry;
  altered["seal"]["plain_size"] = a.plaintext.size() + 1;
  BOOST_TEST(opener.Open(altered, a.sealed, &out).IsCorruption());
  BOOST_TEST(opener.Open(a.entry, a.sealed, &out).ok());
  BOOST_TEST(out == a.plaintext);
}

BOOST_AUTO_TEST_CASE(unreadable_or_wrong_key_files_are_refused_before_any_message) {
  Opener opener;
  BOOST_TEST(opener.Load({"/nonexistent/key.pem"}, "").IsNotFound());
  TempDir dir;
  std::ofstream(dir.path() + "/cert-only.pem") << TestKeys().Cert("retail");
  Opener second;
  Status s = second.Load({dir.path() + "/cert-only.pem"}, "");
  BOOST_TEST((s.code() == Status::Code::kInvalidArgument));
  BOOST_TEST(s.message().find("cert-only.pem") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
