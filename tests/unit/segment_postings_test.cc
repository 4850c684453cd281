// A bucket search's postings (store/tool/segment_postings.h): the index keys of index_key
// entries open with a recipient's key (each key once; entries of other recipients skipped),
// and a token's postings are the messages whose term set under an opened key holds its
// hash, with the fields; a term set under a key not opened says nothing.
#include "segment_postings.h"

#include <boost/test/unit_test.hpp>

#include "mailjournal/index_key_seal.h"
#include "test_util.h"

namespace mailjournal {
namespace {

IndexKey KeyOf(uint8_t seed) {
  std::array<uint8_t, 32> secret;
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(i * 3 + seed);
  return MakeIndexKey(secret);
}

Entry IndexKeyEntryOf(const IndexKey& key, const std::string& cert) {
  Entry e;
  e.kind = EntryKind::kIndexKey;
  e.index_key.department = "retail";
  BOOST_REQUIRE(SealIndexKey(key, ParseRecipients({cert}), &e.index_key).ok());
  return e;
}

TermSet SetOf(const IndexKey& key, const std::vector<std::pair<std::string, uint8_t>>& tokens) {
  TermSet set;
  set.key_id = key.id;
  for (const auto& [token, fields] : tokens)
    set.terms.push_back({TermHasher(key).Hash(token), fields});
  std::sort(set.terms.begin(), set.terms.end(),
            [](const KeyedTerm& a, const KeyedTerm& b) { return a.hash < b.hash; });
  return set;
}

BOOST_AUTO_TEST_CASE(segment_postings_from_term_sets_under_opened_index_keys) {
  const TestKeyPairs& k = TestKeys();
  IndexKey retail = KeyOf(1), other = KeyOf(2);
  VerifiedSegment seg;
  seg.entries.push_back(IndexKeyEntryOf(retail, k.Cert("retail")));
  seg.entries.push_back(IndexKeyEntryOf(retail, k.Cert("retail")));  // the same key again
  seg.entries.push_back(IndexKeyEntryOf(other, k.Cert("other")));    // not ours
  seg.terms[4] = {SetOf(retail, {{"wire", kFieldBody}, {"transfer", kFieldSubject}})};
  seg.terms[5] = {SetOf(retail, {{"transfer", kFieldBody | kFieldSubject}})};
  seg.terms[6] = {SetOf(other, {{"wire", kFieldBody}})};
  std::vector<const VerifiedSegment*> segments{&seg};

  Opener opener;
  BOOST_REQUIRE(opener.Load({k.dir() + "/retail.key"}, "").ok());
  std::vector<IndexKey> keys;
  Status s = OpenSegmentIndexKeys(segments, opener, &keys);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_REQUIRE_EQUAL(keys.size(), 1u);
  BOOST_CHECK(keys[0].secret == retail.secret);

  SegmentPostings postings(segments, keys);
  std::vector<Posting> out;
  BOOST_REQUIRE(postings.Postings("transfer", &out).ok());
  BOOST_REQUIRE_EQUAL(out.size(), 2u);
  BOOST_CHECK_EQUAL(out[0].seq, 4u);
  BOOST_CHECK_EQUAL(out[0].fields, kFieldSubject);
  BOOST_CHECK_EQUAL(out[1].seq, 5u);
  BOOST_CHECK_EQUAL(out[1].fields, kFieldBody | kFieldSubject);
  out.clear();
  BOOST_REQUIRE(postings.Postings("wire", &out).ok());  // 6's set is under a key not opened
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_CHECK_EQUAL(out[0].seq, 4u);
  out.clear();
  BOOST_REQUIRE(postings.Postings("lunch", &out).ok());
  BOOST_CHECK(out.empty());
  BOOST_CHECK(postings.Indexed(4));
  BOOST_CHECK(!postings.Indexed(6));
  BOOST_CHECK(!postings.Indexed(7));

  // and the query's candidates, as the daemon evaluates them
  QueryNode query;
  BOOST_REQUIRE(ParseQuery("transfer -wire", &query).ok());
  Candidates c;
  BOOST_REQUIRE(EvaluateCandidates(query, &postings, &c).ok());
  BOOST_CHECK(c.upper.Contains(5));
  BOOST_CHECK(!c.upper.Contains(4));
}

}  // namespace
}  // namespace mailjournal
