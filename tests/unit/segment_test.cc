// Segments (mailjournal/segment.h): a round trip through WriteSegment and VerifySegment
// (entries byte-exact, sealed content as stored, a disposed message without content, the
// same bytes every time), where segments are cut, a range no checkpoint covers yet, the
// admin operation, and tampering that each give an error naming what failed: a changed
// entry byte, a dropped entry, swapped sealed contents, a checkpoint of another key, a part
// that does not match the manifest's digest; the messages' term sets (terms.bin): carried
// exactly, the same bytes before and after a merge, a changed terms.bin refused by the
// manifest's digest, term sets of an entry that is not a message of the segment refused.
#include "mailjournal/segment.h"

#include <boost/test/unit_test.hpp>
#include <set>

#include "channel.h"
#include "cli.h"
#include "mailjournal/checkpoint.h"
#include "mailjournal/seal.h"
#include "test_util.h"

namespace mailjournal {
namespace {

using nlohmann::json;

const char kOrigin[] = "segment.test/journal";

struct SegmentFixture {
  SegmentFixture() : journal(OpenTestJournal(dir.path())) {
    std::string signer_key, verifier_key;
    BOOST_REQUIRE(GenerateNoteKey(kOrigin, &signer_key, &verifier_key).ok());
    BOOST_REQUIRE(NoteSigner::Create(signer_key, &signer).ok());
    BOOST_REQUIRE(NoteVerifier::Create(verifier_key, &verifier).ok());
    // 1 plain, 2 and 3 sealed, 4 plain (disposed of below), 5 a checkpoint of 1..4,
    // 6 sealed, 7 the dispose entry of 4, 8 a checkpoint of 1..7.
    CommitBytes(journal.get(), "Subject: one\r\n\r\nfirst\r\n", "a@example.com");
    CommitSealedBytes(journal.get(), "Subject: two\r\n\r\nsecond\r\n", "retail");
    CommitSealedBytes(journal.get(), "Subject: three\r\n\r\nthird, longer\r\n", "retail");
    CommitBytes(journal.get(), "Subject: four\r\n\r\nfourth\r\n", "d@example.com");
    AppendSignedCheckpoint(journal.get(), *signer, kOrigin);
    CommitSealedBytes(journal.get(), "Subject: six\r\n\r\nsixth\r\n", "retail");
    MessageEntry four;
    BOOST_REQUIRE(journal->ReadMessage(4, &four).ok());
    std::vector<Entry> disposals{DisposalOf(4, four)};
    uint64_t seq = 0;
    BOOST_REQUIRE(journal->DisposeMessages(&disposals, &seq).ok());
    AppendSignedCheckpoint(journal.get(), *signer, kOrigin);
  }

  std::string Write(uint64_t first, uint64_t last) {
    std::string bytes;
    Status s = WriteSegment(journal.get(), first, last, nullptr, &bytes);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    return bytes;
  }

  Status Verify(const std::string& bytes) {
    VerifiedSegment seg;
    return VerifySegment(bytes, *verifier, &seg);
  }

  // Unpacks a segment, lets `change` alter its members, packs it again (with the manifest's
  // digests made to fit when `reseal`) and returns the verification's outcome.
  Status Tampered(const std::string& bytes, const std::function<void(SegmentMembers*)>& change,
                  bool reseal = true) {
    SegmentMembers members;
    BOOST_REQUIRE(UnpackSegment(bytes, &members).ok());
    change(&members);
    if (reseal) SealManifest(&members);
    std::string packed;
    BOOST_REQUIRE(PackSegment(members, 0, &packed).ok());
    return Verify(packed);
  }

  TempDir dir;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<NoteSigner> signer;
  std::unique_ptr<NoteVerifier> verifier;
};

std::string& Member(SegmentMembers* members, const std::string& name) {
  for (auto& [n, d] : *members)
    if (n == name) return d;
  BOOST_FAIL("no member " + name);
  static std::string none;
  return none;
}

void ExpectProblem(const Status& s, const std::string& words) {
  BOOST_CHECK_MESSAGE(s.IsCorruption(), s.ToString());
  BOOST_CHECK_MESSAGE(s.message().find(words) != std::string::npos,
                      "\"" + s.message() + "\" does not say \"" + words + "\"");
}

BOOST_AUTO_TEST_SUITE(segment)

BOOST_FIXTURE_TEST_CASE(round_trip_is_exact_and_deterministic, SegmentFixture) {
  // 2..6: inside the tree of 7 (checkpoint 8): a left compact range and a consistency proof.
  std::string bytes = Write(2, 6);
  BOOST_CHECK(bytes == Write(2, 6));
  VerifiedSegment seg;
  Status s = VerifySegment(bytes, *verifier, &seg);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_CHECK_EQUAL(seg.first, 2u);
  BOOST_CHECK_EQUAL(seg.last, 6u);
  BOOST_CHECK_EQUAL(seg.checkpoint.size, 7u);
  BOOST_REQUIRE_EQUAL(seg.entry_bytes.size(), 5u);
  for (uint64_t seq = 2; seq <= 6; ++seq) {
    std::string stored;
    BOOST_REQUIRE(journal->ReadEntryBytes(seq, &stored).ok());
    BOOST_CHECK(seg.entry_bytes[seq - 2] == stored);
  }
  BOOST_CHECK_EQUAL(seg.messages, 4u);         // 2, 3, 4, 6
  BOOST_CHECK_EQUAL(seg.without_content, 1u);  // 4, disposed of
  BOOST_CHECK(seg.content.count(4) == 0);
  for (uint64_t seq : {2, 3, 6}) {
    MessageEntry m;
    BOOST_REQUIRE(journal->ReadMessage(seq, &m).ok());
    std::string stored;
    BOOST_REQUIRE(journal
                      ->ReadContent(m.content,
                                    [&](std::string_view b) {
                                      stored.append(b);
                                      return Status::OK();
                                    })
                      .ok());
    BOOST_CHECK(seg.content.at(seq) == stored);  // the CMS structure, not opened
  }
  BOOST_CHECK_EQUAL(seg.manifest["origin"], kOrigin);
  BOOST_CHECK_EQUAL(seg.manifest["messages"], 4);
  BOOST_CHECK(seg.manifest["holds"] == json::array());
  BOOST_CHECK_EQUAL(seg.manifest["holds_known"], false);

  // From entry 1 (no left subtrees) to the checkpoint's last leaf (no consistency proof).
  BOOST_CHECK(Verify(Write(1, 4)).ok());
  BOOST_CHECK(Verify(Write(1, 7)).ok());
  BOOST_CHECK(Verify(Write(5, 5)).ok());
}

BOOST_FIXTURE_TEST_CASE(holds_are_named_in_the_manifest, SegmentFixture) {
  std::string bytes;
  CoveringHoldsFn holds = [](uint64_t seq, const MessageEntry&) {
    return seq == 3 ? std::vector<std::string>{"CASE-9"} : std::vector<std::string>{};
  };
  BOOST_REQUIRE(WriteSegment(journal.get(), 1, 4, holds, &bytes).ok());
  VerifiedSegment seg;
  BOOST_REQUIRE(VerifySegment(bytes, *verifier, &seg).ok());
  BOOST_CHECK(seg.manifest["holds"] == json::array({"CASE-9"}));
  BOOST_CHECK_EQUAL(seg.manifest["holds_known"], true);
}

BOOST_FIXTURE_TEST_CASE(a_range_without_a_covering_checkpoint_waits, SegmentFixture) {
  CommitBytes(journal.get(), "Subject: nine\r\n\r\n", "a@example.com");  // 9
  std::string bytes;
  Status s = WriteSegment(journal.get(), 8, 9, nullptr, &bytes);
  BOOST_CHECK_MESSAGE(s.IsBusy(), s.ToString());
  s = WriteSegment(journal.get(), 8, 10, nullptr, &bytes);
  BOOST_CHECK_MESSAGE(s.IsNotFound(), s.ToString());
}

BOOST_FIXTURE_TEST_CASE(segments_are_cut_by_count_and_covered_by_a_checkpoint, SegmentFixture) {
  std::vector<SegmentRange> ranges;
  SegmentCut cut;
  cut.max_entries = 3;
  BOOST_REQUIRE(ListSegments(journal.get(), cut, &ranges).ok());
  // 1-3 (checkpoint 5), 4-6 (checkpoint 8); 7-8 is not complete.
  BOOST_REQUIRE_EQUAL(ranges.size(), 2u);
  BOOST_CHECK_EQUAL(ranges[0].first, 1u);
  BOOST_CHECK_EQUAL(ranges[0].last, 3u);
  BOOST_CHECK_EQUAL(ranges[0].checkpoint_seq, 5u);
  BOOST_CHECK_EQUAL(ranges[1].first, 4u);
  BOOST_CHECK_EQUAL(ranges[1].last, 6u);
  BOOST_CHECK_EQUAL(ranges[1].checkpoint_seq, 8u);
  // From the entry after a segment: the rest of the same cut, reading only from there.
  std::vector<SegmentRange> rest;
  BOOST_REQUIRE(ListSegments(journal.get(), cut, &rest, 4).ok());
  BOOST_REQUIRE_EQUAL(rest.size(), 1u);
  BOOST_CHECK_EQUAL(rest[0].first, 4u);
  BOOST_CHECK_EQUAL(rest[0].last, 6u);
  BOOST_CHECK_EQUAL(rest[0].checkpoint_seq, 8u);
  rest.clear();
  BOOST_REQUIRE(ListSegments(journal.get(), cut, &rest, 100).ok());  // past the end
  BOOST_CHECK(rest.empty());
  BOOST_CHECK(ListSegments(journal.get(), cut, &rest, 0).code() == Status::Code::kInvalidArgument);
  // An age of one microsecond cuts before every entry committed later than the first.
  cut.max_entries = 100;
  cut.max_age_us = 1;
  ranges.clear();
  BOOST_REQUIRE(ListSegments(journal.get(), cut, &ranges).ok());
  BOOST_REQUIRE(!ranges.empty());
  BOOST_CHECK_EQUAL(ranges[0].first, 1u);
  for (size_t i = 1; i < ranges.size(); ++i) {
    BOOST_CHECK_EQUAL(ranges[i].first, ranges[i - 1].last + 1);
    BOOST_CHECK(ranges[i].first_time_us > ranges[i - 1].first_time_us);
  }
  BOOST_CHECK_EQUAL(SegmentObjectName("mta1", 1, 10000),
                    "mta1/segments/00000000000000000001-00000000000000010000.seg");
}

BOOST_FIXTURE_TEST_CASE(segments_are_cut_by_the_stored_content_of_their_messages, SegmentFixture) {
  auto content_size = [this](uint64_t seq) {
    MessageEntry m;
    BOOST_REQUIRE(journal->ReadMessage(seq, &m).ok());
    return m.content.size;
  };
  SegmentCut cut;
  cut.max_content_bytes = content_size(1) + content_size(2);  // 1 and 2 fit exactly
  std::vector<SegmentRange> ranges;
  BOOST_REQUIRE(ListSegments(journal.get(), cut, &ranges).ok());
  BOOST_REQUIRE(!ranges.empty());
  BOOST_CHECK_EQUAL(ranges[0].first, 1u);
  BOOST_CHECK_EQUAL(ranges[0].last, 2u);
  // One byte: every message starts a segment; other entries join the one before them; the
  // disposed message 4 still counts the size its entry names (the cut never changes).
  cut.max_content_bytes = 1;
  ranges.clear();
  BOOST_REQUIRE(ListSegments(journal.get(), cut, &ranges).ok());
  BOOST_REQUIRE_EQUAL(ranges.size(), 4u);  // 6-8 is not complete
  std::vector<std::pair<uint64_t, uint64_t>> got;
  for (const SegmentRange& r : ranges) got.emplace_back(r.first, r.last);
  std::vector<std::pair<uint64_t, uint64_t>> want{{1, 1}, {2, 2}, {3, 3}, {4, 5}};
  BOOST_CHECK(got == want);
  cut.max_content_bytes = 0;
  BOOST_CHECK(ListSegments(journal.get(), cut, &ranges).code() == Status::Code::kInvalidArgument);
}

BOOST_FIXTURE_TEST_CASE(a_changed_entry_byte_is_found, SegmentFixture) {
  Status s = Tampered(Write(1, 4), [](SegmentMembers* m) {
    std::string& entries = Member(m, "entries.bin");
    size_t at = entries.find("d@example.com");
    BOOST_REQUIRE(at != std::string::npos);
    entries[at] = 'e';  // still decodes: only the tree can tell
  });
  ExpectProblem(s, "are not leaves 1..4");
}

BOOST_FIXTURE_TEST_CASE(a_dropped_entry_is_found, SegmentFixture) {
  std::string bytes = Write(1, 4);
  // The last entry dropped, the manifest's range shortened to match.
  Status s = Tampered(bytes, [](SegmentMembers* m) {
    std::string& entries = Member(m, "entries.bin");
    size_t off = 0, last_off = 0;
    while (off < entries.size()) {
      last_off = off;
      uint32_t n = 0;
      for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(entries[off + i]);
      off += 4 + n;
    }
    entries.resize(last_off);
    json manifest = json::parse(Member(m, "manifest.json"));
    manifest["last"] = 3;
    Member(m, "manifest.json") = manifest.dump();
  });
  ExpectProblem(s, "are not leaves 1..3");
  // Without the manifest changed.
  s = Tampered(bytes, [](SegmentMembers* m) { Member(m, "entries.bin").resize(10); });
  ExpectProblem(s, "entries.bin");
}

BOOST_FIXTURE_TEST_CASE(swapped_sealed_contents_are_found, SegmentFixture) {
  Status s = Tampered(Write(1, 4), [](SegmentMembers* m) {
    std::swap(Member(m, "content/00000000000000000002"), Member(m, "content/00000000000000000003"));
  });
  ExpectProblem(s, "content of message 2 does not match");
}

BOOST_FIXTURE_TEST_CASE(a_checkpoint_of_another_key_is_refused, SegmentFixture) {
  std::string other_signer_key, other_verifier_key;
  BOOST_REQUIRE(GenerateNoteKey(kOrigin, &other_signer_key, &other_verifier_key).ok());
  std::unique_ptr<NoteSigner> other;
  BOOST_REQUIRE(NoteSigner::Create(other_signer_key, &other).ok());
  std::string bytes = Write(1, 4);
  // The same tree head, signed by another key of the same name.
  Status s = Tampered(bytes, [&](SegmentMembers* m) {
    std::string& note = Member(m, "checkpoint.note");
    std::string text;
    BOOST_REQUIRE(NoteText(note, &text).ok());
    BOOST_REQUIRE(other->Sign(text, &note).ok());
  });
  ExpectProblem(s, "checkpoint.note");
  // And an honest segment checked with another key.
  std::unique_ptr<NoteVerifier> wrong;
  BOOST_REQUIRE(NoteVerifier::Create(other_verifier_key, &wrong).ok());
  VerifiedSegment seg;
  ExpectProblem(VerifySegment(bytes, *wrong, &seg), "checkpoint.note");
}

BOOST_FIXTURE_TEST_CASE(a_part_that_does_not_match_the_manifest_is_found, SegmentFixture) {
  Status s = Tampered(
      Write(1, 4), [](SegmentMembers* m) { Member(m, "content/00000000000000000001")[0] ^= 1; },
      /*reseal=*/false);
  ExpectProblem(s, "manifest digest mismatch: part content/00000000000000000001");
  // A part added without the manifest knowing.
  s = Tampered(
      Write(1, 4), [](SegmentMembers* m) { m->emplace_back("extra", "x"); }, false);
  ExpectProblem(s, "manifest.json lists");
  // A manifest that lies about the retain-until date.
  s = Tampered(Write(1, 4), [](SegmentMembers* m) {
    json manifest = json::parse(Member(m, "manifest.json"));
    manifest["retain_until"] = "2000-01-01T00:00:00Z";
    Member(m, "manifest.json") = manifest.dump();
  });
  ExpectProblem(s, "retain_until");
  // A manifest of the wrong shape is refused, not thrown over.
  s = Tampered(Write(1, 4), [](SegmentMembers* m) {
    json manifest = json::parse(Member(m, "manifest.json"));
    manifest["version"] = "1";
    manifest["first"] = "one";
    Member(m, "manifest.json") = manifest.dump();
  });
  ExpectProblem(s, "unknown format version \"1\"");
  s = Tampered(
      Write(1, 4), [](SegmentMembers* m) { Member(m, "manifest.json") = "[1]"; }, false);
  ExpectProblem(s, "not a mailjournal segment manifest");
  ExpectProblem(Verify("not a segment"), "segment");
}

BOOST_FIXTURE_TEST_CASE(term_sets_are_carried_exactly_and_checked, SegmentFixture) {
  std::vector<TermSet> two{{0x11, {{3, 1}, {70, 4}}}, {0x22, {{5, 2}}}};
  std::vector<TermSet> six{{0x11, {{3, 8}}}};
  BOOST_REQUIRE(journal->AddTerms(2, two).ok());
  BOOST_REQUIRE(journal->AddTerms(6, six).ok());
  std::string bytes = Write(2, 6);
  BOOST_REQUIRE(journal->MergePostings().ok());
  BOOST_CHECK(bytes == Write(2, 6));  // the merge keeps what segments carry
  VerifiedSegment seg;
  Status s = VerifySegment(bytes, *verifier, &seg);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_REQUIRE_EQUAL(seg.terms.size(), 2u);  // 3 was not indexed, 4 disposed of
  auto same = [](const std::vector<TermSet>& a, const std::vector<TermSet>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].key_id != b[i].key_id || a[i].terms.size() != b[i].terms.size()) return false;
      for (size_t j = 0; j < a[i].terms.size(); ++j) {
        if (a[i].terms[j].hash != b[i].terms[j].hash ||
            a[i].terms[j].fields != b[i].terms[j].fields) {
          return false;
        }
      }
    }
    return true;
  };
  BOOST_CHECK(same(seg.terms.at(2), two));
  BOOST_CHECK(same(seg.terms.at(6), six));
  BOOST_CHECK(Verify(Write(1, 1)).ok());  // a segment without any: an empty terms.bin

  // A changed byte: the manifest's digest no longer fits.
  s = Tampered(
      bytes, [](SegmentMembers* m) { Member(m, "terms.bin")[20] ^= 1; }, /*reseal=*/false);
  ExpectProblem(s, "manifest digest mismatch: part terms.bin");
  // Term sets of entries the segment does not hold as messages, with a fitting manifest.
  for (uint64_t seq : {1, 5, 7}) {
    s = Tampered(bytes, [seq](SegmentMembers* m) {
      std::string& terms = Member(m, "terms.bin");
      terms.clear();
      EncodeSegmentTerms(seq, {{0x11, {{1, 1}}}}, &terms);
    });
    ExpectProblem(s, "terms.bin: " + std::to_string(seq) + " is not a message entry");
  }
  // Hashes out of order, and a truncated record.
  s = Tampered(bytes, [](SegmentMembers* m) {
    std::string& terms = Member(m, "terms.bin");
    terms.clear();
    EncodeSegmentTerms(2, {{0x11, {{9, 1}, {3, 1}}}}, &terms);
  });
  ExpectProblem(s, "hashes out of order");
  s = Tampered(bytes, [](SegmentMembers* m) { Member(m, "terms.bin").pop_back(); });
  ExpectProblem(s, "terms.bin");
}

BOOST_FIXTURE_TEST_CASE(the_admin_operation_sends_the_same_bytes, SegmentFixture) {
  std::set<std::string> withheld;
  AdminHandler handler{journal.get(), {"offline", 0, dir.path()}, [&](const Caller&) {
                         return std::make_shared<Grants>(withheld);
                       }};
  AddSegmentOperations(journal.get(), nullptr, &handler);
  std::unique_ptr<Channel> channel = NewHandlerChannel(&handler, Caller{1000, 1000, {}, 0, "ann"});
  json req = {{"v", 1}, {"op", "segment"}, {"first", 1}, {"last", 4}}, resp;
  std::string got;
  Status s = channel->Call(req, &resp, [&](std::string_view b) {
    got.append(b);
    return Status::OK();
  });
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_CHECK(got == Write(1, 4));
  BOOST_CHECK_EQUAL(resp["name"], "segments/00000000000000000001-00000000000000000004.seg");
  json list = {{"v", 1}, {"op", "segment_list"}, {"entries", 3}};
  BOOST_REQUIRE(channel->Call(list, &resp, NoPayload).ok());
  BOOST_CHECK_EQUAL(resp["segments"].size(), 2u);
  withheld = {"export"};
  s = channel->Call(req, &resp, NoPayload);
  BOOST_CHECK_MESSAGE(s.code() == Status::Code::kPermissionDenied, s.ToString());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
