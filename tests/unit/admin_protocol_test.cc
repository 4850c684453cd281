// The admin protocol handler, as both the daemon and the offline tool use it.
#include "mailjournal/admin_protocol.h"

#include <boost/test/unit_test.hpp>

#include "mailjournal/message_writer.h"
#include "test_util.h"

namespace mailjournal {
namespace {

using nlohmann::json;

std::shared_ptr<const Permissions> AllCallers(const Caller&) { return AllPermissions(); }

struct Fixture {
  Fixture()
      : journal(OpenTestJournal(dir.path())),
        handler(journal.get(), {"offline", 0, dir.path()}, AllCallers) {
    const char* senders[] = {"Alice@Bank.example", "bob@bank.example", "carol@other.example"};
    for (int i = 0; i < 6; ++i) {
      MessageWriter w(journal.get());
      BOOST_REQUIRE(w.Append("Subject: " + std::to_string(i) + "\r\n\r\nbody\r\n").ok());
      Envelope env;
      env.mail = {std::string("<") + senders[i % 3] + ">"};
      env.rcpt = {{"<r" + std::to_string(i) + "@dest.example>"}, {"<audit@bank.example>"}};
      env.queue_id = "Q" + std::to_string(i);
      uint64_t seq;
      BOOST_REQUIRE(w.Commit(TestMessage(env), nullptr, &seq, nullptr).ok());
    }
  }

  Recorder Call(json request) {
    request["v"] = 1;
    Recorder r;
    BOOST_REQUIRE(handler.Handle(request, Caller(), &r).ok());
    return r;
  }

  std::vector<uint64_t> ListSeqs(json request) {
    request["op"] = "list";
    Recorder r = Call(request);
    BOOST_REQUIRE_MESSAGE(r.header["ok"] == true, r.header.dump());
    std::vector<uint64_t> seqs;
    for (const auto& e : r.header["entries"]) seqs.push_back(e["seq"].get<uint64_t>());
    return seqs;
  }

  TempDir dir;
  std::unique_ptr<Journal> journal;
  AdminHandler handler;
};

using Seqs = std::vector<uint64_t>;

BOOST_AUTO_TEST_SUITE(admin_protocol)

BOOST_FIXTURE_TEST_CASE(list_filters_by_sender_and_recipient_ignoring_case, Fixture) {
  BOOST_TEST(ListSeqs({{"from", "alice@bank"}}) == (Seqs{1, 4}));
  BOOST_TEST(ListSeqs({{"from", "BANK.EXAMPLE"}}) == (Seqs{1, 2, 4, 5}));
  BOOST_TEST(ListSeqs({{"rcpt", "r3@"}}) == (Seqs{4}));
  BOOST_TEST(ListSeqs({{"rcpt", "audit@bank.example"}, {"from", "carol"}}) == (Seqs{3, 6}));
}

BOOST_FIXTURE_TEST_CASE(list_pages_with_limit_after_before_and_reverse, Fixture) {
  Recorder r = Call({{"op", "list"}, {"limit", 4}});
  BOOST_TEST(r.header["entries"].size() == 4u);
  BOOST_TEST(r.header["more"] == true);
  BOOST_TEST(ListSeqs({{"after", 4}}) == (Seqs{5, 6}));
  BOOST_TEST(ListSeqs({{"reverse", true}, {"limit", 2}}) == (Seqs{6, 5}));
  BOOST_TEST(ListSeqs({{"reverse", true}, {"before", 3}}) == (Seqs{2, 1}));
  BOOST_TEST(ListSeqs({{"reverse", true}, {"before", 1}}) == Seqs{});
  BOOST_TEST(ListSeqs({{"after", 2}, {"before", 5}}) == (Seqs{3, 4}));  // a window
  BOOST_TEST(ListSeqs({{"after", 2}, {"before", 5}, {"reverse", true}}) == (Seqs{4, 3}));
  BOOST_TEST(Call({{"op", "list"}}).header["more"] == false);
}

BOOST_FIXTURE_TEST_CASE(list_filters_by_time_window, Fixture) {
  BOOST_TEST(ListSeqs({{"since", "2000-01-01"}}).size() == 6u);
  BOOST_TEST(ListSeqs({{"until", "2000-01-01"}}) == Seqs{});
  BOOST_TEST(ListSeqs({{"since", "2999-01-01"}, {"reverse", true}}) == Seqs{});
  Recorder bad = Call({{"op", "list"}, {"since", "last tuesday"}});
  BOOST_TEST(bad.header["ok"] == false);
  BOOST_TEST(bad.header["error"]["code"] == "bad_request");
}

BOOST_FIXTURE_TEST_CASE(show_returns_the_entry_and_not_found_for_unknown_seq, Fixture) {
  Recorder r = Call({{"op", "show"}, {"seq", 2}});
  BOOST_REQUIRE(r.header["ok"] == true);
  const json& e = r.header["entry"];
  BOOST_TEST(e["seq"] == 2);
  BOOST_TEST(e["mail_from"] == "bob@bank.example");
  BOOST_TEST(e["queue_id"] == "Q1");
  BOOST_TEST(e["rcpt"] == json({"r1@dest.example", "audit@bank.example"}));
  BOOST_TEST(e["size"] == 20);
  BOOST_TEST(e["sha256"].get<std::string>().size() == 64u);
  Recorder missing = Call({{"op", "show"}, {"seq", 99}});
  BOOST_TEST(missing.header["ok"] == false);
  BOOST_TEST(missing.header["error"]["code"] == "not_found");
}

BOOST_FIXTURE_TEST_CASE(show_names_the_dispose_entry_of_a_disposed_message, Fixture) {
  std::vector<Entry> disposals(1);
  disposals[0].kind = EntryKind::kDispose;
  disposals[0].dispose.message = 4;
  disposals[0].dispose.retention = "standard";
  uint64_t dispose_seq = 0;
  BOOST_REQUIRE(journal->DisposeMessages(&disposals, &dispose_seq).ok());
  Recorder r = Call({{"op", "show"}, {"seq", 4}});
  BOOST_REQUIRE(r.header["ok"] == true);
  BOOST_TEST(r.header["disposal"] == dispose_seq);
  BOOST_TEST(r.header["entry"]["seq"] == 4);  // the entry stays as it was
  BOOST_TEST(!Call({{"op", "show"}, {"seq", 3}}).header.contains("disposal"));
  BOOST_TEST(!Call({{"op", "show"}, {"seq", dispose_seq}}).header.contains("disposal"));
  Recorder exported = Call({{"op", "export"}, {"seq", 4}});
  BOOST_TEST(exported.header["error"]["code"] == "not_found");
}

BOOST_FIXTURE_TEST_CASE(export_sends_size_payload_and_trailer, Fixture) {
  Recorder r = Call({{"op", "export"}, {"seq", 3}});
  BOOST_REQUIRE(r.header["ok"] == true);
  BOOST_TEST(r.header["size"] == 20);
  BOOST_TEST(r.payload == "Subject: 2\r\n\r\nbody\r\n");
  BOOST_TEST(r.trailer["ok"] == true);
}

BOOST_AUTO_TEST_CASE(export_of_damaged_content_keeps_framing_and_fails_in_the_trailer) {
  TempDir dir;
  MessageEntry e;
  {
    auto j = OpenTestJournal(dir.path());
    MessageWriter w(j.get());
    BOOST_REQUIRE(w.Append("Subject: x\r\n\r\nshort\r\n").ok());
    Envelope env;
    env.mail = {"<a@b>"};
    uint64_t seq;
    BOOST_REQUIRE(w.Commit(TestMessage(env), nullptr, &seq, &e).ok());
  }
  RawPut(dir.path(), RawChunkKey(e.content.txn, 0), "Subject: x\r\n");  // shortened
  auto j = OpenTestJournal(dir.path());
  AdminHandler handler(j.get(), {"offline", 0, dir.path()}, AllCallers);
  Recorder r;
  BOOST_REQUIRE(handler.Handle({{"v", 1}, {"op", "export"}, {"seq", 1}}, Caller(), &r).ok());
  BOOST_TEST(r.header["ok"] == true);
  BOOST_TEST(r.payload.size() == e.content.size);  // padded to the announced size
  BOOST_TEST(r.trailer["ok"] == false);
  BOOST_TEST(r.trailer["error"]["code"] == "corrupt");
}

BOOST_FIXTURE_TEST_CASE(requests_of_another_version_or_unknown_op_are_refused, Fixture) {
  Recorder r;
  BOOST_REQUIRE(handler.Handle({{"v", 2}, {"op", "status"}}, Caller(), &r).ok());
  BOOST_TEST(r.header["ok"] == false);
  BOOST_TEST(r.header["error"]["message"].get<std::string>().find("version") != std::string::npos);
  Recorder u = Call({{"op", "drop-table"}});
  BOOST_TEST(u.header["error"]["code"] == "bad_request");
  Recorder s = Call({{"op", "show"}, {"seq", "one"}});
  BOOST_TEST(s.header["error"]["code"] == "bad_request");
}

BOOST_FIXTURE_TEST_CASE(status_reports_the_last_sequence_number, Fixture) {
  Recorder r = Call({{"op", "status"}});
  BOOST_TEST(r.header["status"]["last_seq"] == 6);
  BOOST_TEST(r.header["status"]["mode"] == "offline");
}

BOOST_FIXTURE_TEST_CASE(status_reports_the_tree_size_checkpoint_and_extensions, Fixture) {
  json before = Call({{"op", "status"}}).header["status"];
  BOOST_TEST(before["tree_size"] == 6);
  BOOST_TEST(before["journal_bytes"].get<uint64_t>() > 0u);
  BOOST_TEST(before["last_checkpoint"].is_null());
  BOOST_TEST(before["policy"].is_null());  // the fixture's journal has no policy entry
  BOOST_TEST(before["daemon"].is_null());  // no daemon figures without the daemon's extension
  BOOST_TEST(before["problems"] == json::array());
  uint64_t seq = 0;
  BOOST_REQUIRE(journal
                    ->AppendCheckpoint(
                        [](uint64_t, const Sha256Digest&, int64_t, Entry* e) {
                          e->kind = EntryKind::kCheckpoint;
                          e->checkpoint.note = "note";
                          return Status::OK();
                        },
                        &seq)
                    .ok());
  handler.AddStatusExtension([](json* status) { (*status)["daemon"] = {{"x", 1}}; });
  json after = Call({{"op", "status"}}).header["status"];
  BOOST_TEST(after["tree_size"] == 7);
  BOOST_TEST(after["last_checkpoint"]["seq"] == 7);
  BOOST_TEST(after["last_checkpoint"]["tree_size"] == 6);
  BOOST_TEST(after["last_checkpoint"]["age_s"].get<int64_t>() >= 0);
  BOOST_TEST(after["daemon"]["x"] == 1);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
