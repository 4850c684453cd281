// SegmentChain (mailjournal/segment_chain.h): segments of one journal chain from entry 1;
// a gap, an overlap, a first segment that does not start at 1, a segment of another tree
// (another journal with the same key), another origin and a checkpoint whose root is not
// that of the chain's entries are refused, each leaving the chain as it was. Also the bucket
// object names (mailjournal/bucket.h) and the SegmentChannel the bucket commands read through.
#include "mailjournal/segment_chain.h"

#include <boost/test/unit_test.hpp>

#include "cli.h"
#include "mailjournal/admin_protocol.h"
#include "mailjournal/bucket.h"
#include "mailjournal/checkpoint.h"
#include "segment_channel.h"
#include "test_util.h"

namespace mailjournal {
namespace {

using nlohmann::json;

const char kOrigin[] = "chain.test/journal";

// A journal of 8 message entries with checkpoints after 3 (entry 4) and after 9 (entry 10).
struct ChainJournal {
  ChainJournal(const NoteSigner& signer, const std::string& origin, const std::string& text)
      : journal(OpenTestJournal(dir.path())) {
    for (int i = 1; i <= 3; ++i)
      CommitBytes(journal.get(), text + std::to_string(i), "a@example.com");
    AppendSignedCheckpoint(journal.get(), signer, origin);
    for (int i = 5; i <= 9; ++i)
      CommitBytes(journal.get(), text + std::to_string(i), "a@example.com");
    AppendSignedCheckpoint(journal.get(), signer, origin);
  }
  TempDir dir;
  std::unique_ptr<Journal> journal;
};

struct ChainFixture {
  ChainFixture() {
    std::string signer_key, verifier_key;
    BOOST_REQUIRE(GenerateNoteKey(kOrigin, &signer_key, &verifier_key).ok());
    BOOST_REQUIRE(NoteSigner::Create(signer_key, &signer).ok());
    BOOST_REQUIRE(NoteVerifier::Create(verifier_key, &verifier).ok());
    a = std::make_unique<ChainJournal>(*signer, kOrigin, "Subject: a\r\n\r\nmessage ");
    b = std::make_unique<ChainJournal>(*signer, kOrigin, "Subject: b\r\n\r\nanother message ");
  }

  VerifiedSegment Segment(ChainJournal* j, uint64_t first, uint64_t last) {
    std::string bytes;
    Status s = WriteSegment(j->journal.get(), first, last, nullptr, &bytes);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    VerifiedSegment seg;
    s = VerifySegment(bytes, *verifier, &seg);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    return seg;
  }

  void ExpectRefused(SegmentChain* chain, const VerifiedSegment& seg, const std::string& why) {
    uint64_t last = chain->last();
    size_t segments = chain->segments();
    Status s = chain->Add(seg);
    BOOST_CHECK(s.IsCorruption());
    BOOST_CHECK_MESSAGE(s.message().find(why) != std::string::npos, s.message());
    BOOST_CHECK_EQUAL(chain->last(), last);
    BOOST_CHECK_EQUAL(chain->segments(), segments);
  }

  std::unique_ptr<NoteSigner> signer;
  std::unique_ptr<NoteVerifier> verifier;
  std::unique_ptr<ChainJournal> a, b;
};

BOOST_FIXTURE_TEST_SUITE(segment_chain, ChainFixture)

BOOST_AUTO_TEST_CASE(contiguous_segments_chain_to_the_journals_tree) {
  SegmentChain chain;
  BOOST_CHECK_EQUAL(chain.last(), 0u);
  for (auto [f, l] : {std::pair<uint64_t, uint64_t>{1, 3}, {4, 6}, {7, 9}}) {
    Status s = chain.Add(Segment(a.get(), f, l));
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  BOOST_CHECK_EQUAL(chain.last(), 9u);
  BOOST_CHECK_EQUAL(chain.segments(), 3u);
  BOOST_CHECK_EQUAL(chain.messages(), 8u);
  BOOST_CHECK_EQUAL(chain.origin(), kOrigin);
  BOOST_CHECK_EQUAL(chain.checkpoints_ahead(), 0u);  // the checkpoint of 9 entries is reached
  // the root is the one the journal's second checkpoint signs
  Entry cp;
  BOOST_REQUIRE(a->journal->ReadEntry(10, &cp).ok());
  std::string text;
  Checkpoint parsed;
  BOOST_REQUIRE(NoteText(cp.checkpoint.note, &text).ok());
  BOOST_REQUIRE(ParseCheckpoint(text, &parsed).ok());
  BOOST_CHECK(chain.root() == parsed.root);
}

BOOST_AUTO_TEST_CASE(a_gap_an_overlap_or_a_late_start_is_refused) {
  SegmentChain chain;
  ExpectRefused(&chain, Segment(a.get(), 2, 3), "entries 1..1 are missing (a gap)");
  BOOST_REQUIRE(chain.Add(Segment(a.get(), 1, 3)).ok());
  ExpectRefused(&chain, Segment(a.get(), 5, 6), "entries 4..4 are missing (a gap)");
  ExpectRefused(&chain, Segment(a.get(), 3, 6), "overlaps the segments before it");
  BOOST_CHECK(chain.Add(Segment(a.get(), 4, 6)).ok());
}

BOOST_AUTO_TEST_CASE(a_segment_of_another_tree_is_refused) {
  // b's segment 4-6 verifies on its own (same key, same origin) but is not of a's tree
  SegmentChain chain;
  BOOST_REQUIRE(chain.Add(Segment(a.get(), 1, 3)).ok());
  ExpectRefused(&chain, Segment(b.get(), 4, 6), "not of one tree");
}

BOOST_AUTO_TEST_CASE(another_origin_is_refused) {
  std::string signer_key, verifier_key;
  BOOST_REQUIRE(GenerateNoteKey("other.test/journal", &signer_key, &verifier_key).ok());
  std::unique_ptr<NoteSigner> other_signer;
  std::unique_ptr<NoteVerifier> other_verifier;
  BOOST_REQUIRE(NoteSigner::Create(signer_key, &other_signer).ok());
  BOOST_REQUIRE(NoteVerifier::Create(verifier_key, &other_verifier).ok());
  ChainJournal other(*other_signer, "other.test/journal", "Subject: a\r\n\r\nmessage ");
  std::string bytes;
  BOOST_REQUIRE(WriteSegment(other.journal.get(), 4, 6, nullptr, &bytes).ok());
  VerifiedSegment seg;
  BOOST_REQUIRE(VerifySegment(bytes, *other_verifier, &seg).ok());
  SegmentChain chain;
  BOOST_REQUIRE(chain.Add(Segment(a.get(), 1, 3)).ok());
  ExpectRefused(&chain, seg, "of origin other.test/journal");
}

BOOST_AUTO_TEST_CASE(a_checkpoint_inconsistent_with_the_entries_is_refused) {
  SegmentChain chain;
  VerifiedSegment first = Segment(a.get(), 1, 3);
  VerifiedSegment second = Segment(a.get(), 4, 6);
  // As if the first segment's checkpoint signed a tree of 5 entries with another root:
  // found once the chain reaches 5 entries, inside the second segment.
  first.checkpoint.size = 5;
  first.checkpoint.root[0] ^= 1;
  BOOST_REQUIRE(chain.Add(first).ok());
  BOOST_CHECK_EQUAL(chain.checkpoints_ahead(), 1u);
  ExpectRefused(&chain, second, "the checkpoint of a tree of 5 entries signs another root");
}

BOOST_AUTO_TEST_CASE(segment_object_names_parse) {
  std::string prefix;
  uint64_t first = 0, last = 0;
  BOOST_REQUIRE(ParseSegmentObjectName(SegmentObjectName("mta1", 1, 42), &prefix, &first, &last));
  BOOST_CHECK_EQUAL(prefix, "mta1");
  BOOST_CHECK_EQUAL(first, 1u);
  BOOST_CHECK_EQUAL(last, 42u);
  BOOST_REQUIRE(
      ParseSegmentObjectName(SegmentObjectName("site/a/mta-2", 7, 9), &prefix, &first, &last));
  BOOST_CHECK_EQUAL(prefix, "site/a/mta-2");
  for (const char* bad : {"segments/00000000000000000001-00000000000000000002.seg",
                          "mta1/segments/0000000000000000001-00000000000000000002.seg",
                          "mta1/segments/00000000000000000001-00000000000000000002.tar",
                          "mta1/other/00000000000000000001-00000000000000000002.seg",
                          "audit/20261128T031500Z-host-1-00.json"}) {
    BOOST_CHECK_MESSAGE(!ParseSegmentObjectName(bad, &prefix, &first, &last), bad);
  }
}

BOOST_AUTO_TEST_CASE(the_segment_channel_shows_and_exports_as_the_journal) {
  VerifiedSegment s1 = Segment(a.get(), 1, 3), s2 = Segment(a.get(), 4, 6);
  SegmentChannel channel({&s1, &s2});
  BOOST_CHECK_EQUAL(channel.Messages().size(), 5u);  // 1, 2, 3, 5, 6
  json resp;
  BOOST_REQUIRE(channel.Call({{"v", 1}, {"op", "show"}, {"seq", 5}}, &resp, NoPayload).ok());
  Entry e;
  BOOST_REQUIRE(a->journal->ReadEntry(5, &e).ok());
  BOOST_CHECK_EQUAL(resp["entry"], EntryToJson(5, e));
  std::string payload;
  auto sink = [&payload](std::string_view b) {
    payload.append(b);
    return Status::OK();
  };
  BOOST_REQUIRE(channel.Call({{"v", 1}, {"op", "export"}, {"seq", 5}}, &resp, sink).ok());
  BOOST_CHECK_EQUAL(payload, "Subject: a\r\n\r\nmessage 5");
  BOOST_CHECK(channel.Call({{"v", 1}, {"op", "export"}, {"seq", 4}}, &resp, sink).IsNotFound());
  BOOST_CHECK(channel.Call({{"v", 1}, {"op", "show"}, {"seq", 7}}, &resp, sink).IsNotFound());
  BOOST_CHECK(channel.Call({{"v", 1}, {"op", "list"}}, &resp, sink).code() ==
              Status::Code::kInvalidArgument);
  BOOST_CHECK_EQUAL(resp["ok"], false);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
