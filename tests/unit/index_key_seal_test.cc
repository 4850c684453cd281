// Index keys sealed for the auditor (mailjournal/index_key_seal.h): sealed to two keys,
// each opens it to the same key (and its hashes); a key that is not a recipient is refused,
// so is a secret that is not the entry's key id or damaged sealed bytes.
#include "mailjournal/index_key_seal.h"

#include <boost/test/unit_test.hpp>

#include "test_util.h"

namespace mailjournal {
namespace {

std::unique_ptr<OpeningKey> LoadKey(const std::string& name) {
  std::unique_ptr<OpeningKey> key;
  Status s = OpeningKey::Load(TestKeys().Key(name), "", &key);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return key;
}

IndexKey SampleKey() {
  std::array<uint8_t, 32> secret;
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(i * 7 + 1);
  return MakeIndexKey(secret);
}

BOOST_AUTO_TEST_SUITE(index_key_seal)

BOOST_AUTO_TEST_CASE(each_recipient_opens_the_key_and_others_are_refused) {
  const TestKeyPairs& k = TestKeys();
  IndexKey key = SampleKey();
  IndexKeyEntry entry;
  entry.department = "retail";
  Status s = SealIndexKey(key, ParseRecipients({k.Cert("retail"), k.Cert("escrow")}), &entry);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(entry.key_id == key.id);
  BOOST_TEST(entry.recipients.size() == 2u);
  BOOST_TEST(entry.sealed.find(std::string(reinterpret_cast<const char*>(key.secret.data()), 32)) ==
             std::string::npos);
  for (const char* name : {"retail", "escrow"}) {
    IndexKey opened;
    s = OpenIndexKey(entry, *LoadKey(name), &opened);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    BOOST_TEST((opened.secret == key.secret));
    BOOST_TEST(opened.id == key.id);
    BOOST_TEST(TermHasher(opened).Hash("invoice") == TermHasher(key).Hash("invoice"));
  }
  IndexKey untouched;
  s = OpenIndexKey(entry, *LoadKey("other"), &untouched);
  BOOST_TEST((s.code() == Status::Code::kPermissionDenied));
  BOOST_TEST(untouched.id == 0u);
}

BOOST_AUTO_TEST_CASE(a_wrong_key_id_or_damaged_sealed_bytes_are_refused) {
  IndexKeyEntry entry;
  BOOST_REQUIRE(
      SealIndexKey(SampleKey(), ParseRecipients({TestKeys().Cert("retail")}), &entry).ok());
  std::unique_ptr<OpeningKey> retail = LoadKey("retail");
  IndexKey out;
  IndexKeyEntry other_id = entry;
  other_id.key_id ^= 1;
  Status s = OpenIndexKey(other_id, *retail, &out);
  BOOST_TEST(s.IsCorruption());
  BOOST_TEST(s.message().find("key id") != std::string::npos);
  IndexKeyEntry damaged = entry;
  damaged.sealed[damaged.sealed.size() - 5] ^= 1;
  BOOST_TEST(OpenIndexKey(damaged, *retail, &out).IsCorruption());
  BOOST_TEST((SealIndexKey(SampleKey(), {}, &entry).code() == Status::Code::kInvalidArgument));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
