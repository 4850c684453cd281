// The evidence bundle (export --bundle, store/tool/bundle.cc) written from a journal through
// an in-process admin handler: what each message directory holds and that it checks (the
// entry's leaf in the checkpoint's tree, the content against the entry), the audit trail
// that includes the bundle's own export, disposed-of and unopened messages, and the
// refusals that leave the directory as it was: a caller who may not export, a directory
// that is not empty, a message newer than the checkpoint, a checkpoint that does not
// verify, an envelope that would break the index's lines.
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "channel.h"
#include "cli.h"
#include "commands.h"
#include "mailjournal/audit_admin.h"
#include "mailjournal/checkpoint.h"
#include "mailjournal/merkle.h"
#include "mailjournal/message_writer.h"
#include "mailjournal/proof_admin.h"
#include "mailjournal/sha256.h"
#include "test_util.h"

namespace mailjournal {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char kOrigin[] = "bundle.test/journal";

std::string Hex(const Sha256Digest& d) { return DigestToJson(d).get<std::string>(); }

json ReadJson(const std::string& path) {
  json j = json::parse(ReadFile(path), nullptr, false);
  BOOST_REQUIRE_MESSAGE(!j.is_discarded(), path + " is not JSON");
  return j;
}

std::set<std::string> Listing(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& f : fs::recursive_directory_iterator(dir, ec)) {
    names.insert(fs::relative(f.path(), dir).string());
  }
  return names;
}

struct BundleFixture {
  BundleFixture() : journal(OpenTestJournal(dir.path())) {
    std::string signer_key;
    BOOST_REQUIRE(GenerateNoteKey(kOrigin, &signer_key, &verifier_key).ok());
    BOOST_REQUIRE(NoteSigner::Create(signer_key, &signer).ok());
    vkey_file = out.path() + "/given.vkey";
    std::ofstream(vkey_file) << verifier_key << "\n";
    AddProofOperations(journal.get(), nullptr, &handler);
    AddAuditOperations(journal.get(), &handler);
  }

  uint64_t Commit(const std::string& bytes, const std::string& from) {
    return CommitBytes(journal.get(), bytes, from);
  }

  // A message sealed to the "retail" test key.
  uint64_t CommitSealed(const std::string& plaintext) {
    return CommitSealedBytes(journal.get(), plaintext, "retail");
  }

  void AddCheckpoint() { AppendSignedCheckpoint(journal.get(), *signer, kOrigin); }

  void Dispose(uint64_t message) {
    std::vector<Entry> disposals(1);
    disposals[0].kind = EntryKind::kDispose;
    disposals[0].dispose.message = message;
    disposals[0].dispose.retention = "default-7y";
    disposals[0].dispose.actor = Actor{0, "root"};
    uint64_t seq = 0;
    BOOST_REQUIRE(journal->DisposeMessages(&disposals, &seq).ok());
  }

  Channel* As(std::set<std::string> withheld = {}) {
    withheld_ = std::move(withheld);
    return channel.get();
  }

  Status Bundle(const std::vector<uint64_t>& seqs, std::set<std::string> withheld = {},
                std::vector<std::string> keys = {}) {
    options.key_files = std::move(keys);
    return WriteBundle(As(std::move(withheld)), seqs, options, &summary);
  }

  // The access entries of the journal, as "audit" gives them.
  json Audit() {
    As({});
    json req = {{"v", 1}, {"op", "audit"}}, resp;
    BOOST_REQUIRE(channel->Call(req, &resp, NoPayload).ok());
    return resp["entries"];
  }

  std::string B(const std::string& rel) const { return options.dir + "/" + rel; }

  TempDir dir, out;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<NoteSigner> signer;
  std::string verifier_key, vkey_file;
  std::set<std::string> withheld_;
  AdminHandler handler{journal.get(), {"offline", 0, dir.path()}, [this](const Caller&) {
                         return std::make_shared<Grants>(withheld_);
                       }};
  std::unique_ptr<Channel> channel = NewHandlerChannel(&handler, Caller{1000, 1000, {}, 0, "ann"});
  BundleOptions options{out.path() + "/bundle", {}, "", ""};
  BundleSummary summary;
};

BOOST_AUTO_TEST_SUITE(bundle)

BOOST_FIXTURE_TEST_CASE(each_message_has_its_content_entry_proof_checkpoint_and_audit_trail,
                        BundleFixture) {
  const std::string first = "Subject: one\r\n\r\nfirst message\r\n";
  const std::string second = "Subject: two\r\n\r\nsecond message\r\n";
  uint64_t a = Commit(first, "ann@example.com");
  uint64_t b = Commit(second, "bob@example.com");
  AddCheckpoint();
  json shown;
  BOOST_REQUIRE(channel->Call({{"v", 1}, {"op", "show"}, {"seq", a}}, &shown, NoPayload).ok());
  uint64_t earlier_show = journal->LastSequence();
  options.verifier_key_file = vkey_file;
  Status s = Bundle({b, a, b});  // any order, repeats ignored
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(summary.messages == 2u);
  BOOST_TEST(summary.tree_size == 2u);  // the checkpoint entry is the third
  BOOST_TEST(ReadFile(B("checkpoint.vkey")) == verifier_key + "\n");
  struct stat st;
  BOOST_REQUIRE(stat(options.dir.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0700u);

  Entry cp;
  BOOST_REQUIRE(journal->ReadEntry(3, &cp).ok());
  Checkpoint checkpoint;
  std::string text;
  BOOST_REQUIRE(NoteText(cp.checkpoint.note, &text).ok());
  BOOST_REQUIRE(ParseCheckpoint(text, &checkpoint).ok());
  for (auto [seq, bytes] : {std::pair{a, first}, std::pair{b, second}}) {
    BOOST_TEST_CONTEXT("message " << seq) {
      std::string d = std::to_string(seq) + "/";
      BOOST_TEST(ReadFile(B(d + "message.eml")) == bytes);
      BOOST_TEST(!fs::exists(B(d + "sealed.p7m")));  // not sealed: message.eml is the content
      json entry = ReadJson(B(d + "entry.json"));
      BOOST_TEST(entry["seq"] == seq);
      BOOST_TEST(entry["sha256"] == Hex(Sha256::Of(bytes)));
      std::string entry_bytes;
      BOOST_REQUIRE(journal->ReadEntryBytes(seq, &entry_bytes).ok());
      BOOST_TEST(ReadFile(B(d + "entry.bin")) == entry_bytes);
      BOOST_TEST(ReadFile(B(d + "checkpoint")) == cp.checkpoint.note);
      json proof = ReadJson(B(d + "inclusion-proof.json"));
      BOOST_TEST(proof["checkpoint"] == cp.checkpoint.note);
      BOOST_TEST(proof["tree_size"] == 2);
      std::vector<Sha256Digest> path;
      for (const json& h : proof["path"]) {
        std::string raw = HexDecode(h.get<std::string>());
        Sha256Digest digest;
        std::copy(raw.begin(), raw.end(), digest.begin());
        path.push_back(digest);
      }
      BOOST_TEST(
          VerifyInclusion(seq - 1, checkpoint.size, LeafHash(entry_bytes), path, checkpoint.root));
      // The audit trail: the bundle's own show, export and proof of it, allowed, as ann.
      json audit = ReadJson(B(d + "audit.json"));
      std::vector<std::string> ops;
      for (const json& e : audit) {
        BOOST_TEST(e["kind"] == "access");
        if (e["seq"].get<uint64_t>() > earlier_show) {
          BOOST_TEST(e["by"]["user"] == "ann");
          ops.push_back(e["operation"].get<std::string>());
        }
      }
      BOOST_TEST((ops == std::vector<std::string>{"show", "export", "proof"}),
                 boost::test_tools::per_element());
    }
  }
  // The show made before the bundle is on record for a, not for b.
  auto has_entry = [&](uint64_t seq, uint64_t access) {
    for (const json& e : ReadJson(B(std::to_string(seq) + "/audit.json"))) {
      if (e["seq"] == access) return true;
    }
    return false;
  };
  BOOST_TEST(has_entry(a, earlier_show));
  BOOST_TEST(!has_entry(b, earlier_show));

  std::string readme = ReadFile(B("README.txt"));
  BOOST_TEST(readme.find("\n1  ") != std::string::npos);
  BOOST_TEST(readme.find("\n2  ") != std::string::npos);
  BOOST_TEST(readme.find("from <ann@example.com>  to <rcpt@example.com>  size " +
                         std::to_string(first.size()) + "  sha256 " + Hex(Sha256::Of(first))) !=
             std::string::npos);
  BOOST_TEST(readme.find("Made by:       user ") != std::string::npos);
  BOOST_TEST(readme.find("Origin:        " + std::string(kOrigin)) != std::string::npos);
  BOOST_TEST(readme.find(Hex(checkpoint.root)) != std::string::npos);
  // Nothing but what the layout names.
  BOOST_TEST(
      (Listing(options.dir) ==
       std::set<std::string>{"README.txt", "checkpoint.vkey", "1", "1/message.eml", "1/entry.json",
                             "1/entry.bin", "1/inclusion-proof.json", "1/checkpoint",
                             "1/audit.json", "2", "2/message.eml", "2/entry.json", "2/entry.bin",
                             "2/inclusion-proof.json", "2/checkpoint", "2/audit.json"}));
}

BOOST_FIXTURE_TEST_CASE(a_sealed_message_is_opened_with_a_recipient_key_or_written_sealed_only,
                        BundleFixture) {
  const std::string plaintext = "Subject: sealed\r\n\r\nonly retail's key opens this\r\n";
  uint64_t seq = CommitSealed(plaintext);
  AddCheckpoint();
  std::string key = TestKeys().dir() + "/";
  Status s = Bundle({seq}, {}, {key + "other.key", key + "retail.key"});
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(summary.opened == 1u);
  BOOST_TEST(ReadFile(B("1/message.eml")) == plaintext);
  std::string stored = ReadFile(B("1/sealed.p7m"));
  json entry = ReadJson(B("1/entry.json"));
  BOOST_TEST(entry["size"] == stored.size());
  BOOST_TEST(entry["sha256"] == Hex(Sha256::Of(stored)));

  // With a key that is no recipient's: the sealed record only, and a warning that says so.
  options.dir = out.path() + "/unopened";
  s = Bundle({seq}, {}, {key + "other.key"});
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(summary.opened == 0u);
  BOOST_TEST(ReadFile(B("1/sealed.p7m")) == stored);
  BOOST_TEST(!fs::exists(B("1/message.eml")));
  BOOST_REQUIRE(summary.warnings.size() == 1u);
  BOOST_TEST(summary.warnings[0].find("message 1 written sealed only") != std::string::npos);
  std::string readme = ReadFile(B("README.txt"));
  BOOST_TEST(readme.find("1: not opened, sealed.p7m only: message 1 is sealed") !=
             std::string::npos);
  BOOST_TEST(readme.find("sha256 -") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_disposed_message_keeps_its_entry_proof_and_audit_trail, BundleFixture) {
  uint64_t seq = Commit("Subject: old\r\n\r\nexpired\r\n", "ann@example.com");
  Dispose(seq);
  AddCheckpoint();
  Status s = Bundle({seq});
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  BOOST_TEST(summary.disposed == 1u);
  BOOST_TEST(
      (Listing(B("1")) == std::set<std::string>{"entry.json", "entry.bin", "inclusion-proof.json",
                                                "checkpoint", "audit.json", "dispose.json"}));
  json dispose = ReadJson(B("1/dispose.json"));
  BOOST_TEST(dispose["kind"] == "dispose");
  BOOST_TEST(dispose["seq"] == 2);
  BOOST_TEST(dispose["message"] == 1);
  // The refused export ("disposed of") is on record with the rest.
  bool export_recorded = false;
  for (const json& e : ReadJson(B("1/audit.json"))) {
    if (e["operation"] == "export") {
      export_recorded = e["outcome"].get<std::string>().find("disposed of") != std::string::npos;
    }
  }
  BOOST_TEST(export_recorded);
  std::string readme = ReadFile(B("README.txt"));
  BOOST_TEST(readme.find("1: its content was disposed of (dispose entry 2, 1/dispose.json)") !=
             std::string::npos);
  BOOST_TEST(readme.find("DISPOSED OF") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_caller_who_may_not_export_gets_the_refusal_and_no_files, BundleFixture) {
  Commit("Subject: a\r\n\r\na\r\n", "ann@example.com");
  Commit("Subject: b\r\n\r\nb\r\n", "ann@example.com");
  AddCheckpoint();
  for (const char* withheld : {"export", "verify", "audit"}) {
    BOOST_TEST_CONTEXT("without " << withheld) {
      uint64_t before = journal->LastSequence();
      Status s = Bundle({1, 2}, {withheld});
      BOOST_TEST((s.code() == Status::Code::kPermissionDenied), s.ToString());
      BOOST_TEST(s.message().find("user ann (uid 1000) may not") != std::string::npos);
      // The checkpoint is proven first, for every message; the rest is about message 1.
      if (std::string(withheld) != "verify") {
        BOOST_TEST(s.message().find("message 1") != std::string::npos, s.message());
      }
      BOOST_TEST(!fs::exists(options.dir));  // made for the bundle, removed again
      // The refusal is on record.
      json last = Audit().back();
      BOOST_TEST(last["seq"].get<uint64_t>() > before);
      BOOST_TEST(last["allowed"] == false);
    }
  }
  // An empty directory that was there stays, empty.
  fs::create_directory(options.dir);
  BOOST_TEST((Bundle({1, 2}, {"export"}).code() == Status::Code::kPermissionDenied));
  BOOST_TEST(fs::is_directory(options.dir));
  BOOST_TEST(fs::is_empty(options.dir));
}

BOOST_FIXTURE_TEST_CASE(a_directory_that_is_not_empty_is_refused_before_any_request,
                        BundleFixture) {
  Commit("Subject: a\r\n\r\na\r\n", "ann@example.com");
  AddCheckpoint();
  fs::create_directory(options.dir);
  std::ofstream(B("evidence.eml")) << "earlier evidence";
  uint64_t before = journal->LastSequence();
  Status s = CheckBundleDir(options.dir);
  BOOST_TEST((s.code() == Status::Code::kInvalidArgument));
  BOOST_TEST(s.message().find("not empty") != std::string::npos);
  BOOST_TEST(!Bundle({1}).ok());
  BOOST_TEST(journal->LastSequence() == before);  // nothing asked, so nothing recorded
  BOOST_TEST(ReadFile(B("evidence.eml")) == "earlier evidence");
  BOOST_TEST(Listing(options.dir) == std::set<std::string>{"evidence.eml"});
  BOOST_TEST(!CheckBundleDir(out.path() + "/no/such/parent").ok());
  BOOST_TEST(!CheckBundleDir(B("evidence.eml")).ok());  // a file
  BOOST_TEST(CheckBundleDir(out.path() + "/new").ok());
}

BOOST_FIXTURE_TEST_CASE(what_cannot_be_proven_against_a_checkpoint_is_refused, BundleFixture) {
  Commit("Subject: a\r\n\r\na\r\n", "ann@example.com");
  Status s = Bundle({1});
  BOOST_TEST(s.IsNotFound(), s.ToString());  // no checkpoint yet
  BOOST_TEST(s.message().find("no checkpoint") != std::string::npos);
  AddCheckpoint();
  Commit("Subject: b\r\n\r\nb\r\n", "ann@example.com");  // entry 3, after the checkpoint
  s = Bundle({1, 3});
  BOOST_TEST(s.IsBusy(), s.ToString());
  BOOST_TEST(s.message().find("entry 3 is newer than the journal's newest checkpoint") !=
             std::string::npos);
  s = Bundle({1, 99});
  BOOST_TEST(s.IsNotFound(), s.ToString());
  s = Bundle({2});  // the checkpoint entry
  BOOST_TEST(s.IsNotFound(), s.ToString());
  BOOST_TEST(s.message().find("not a message") != std::string::npos);
  // A verifier key of another origin: the checkpoint does not verify with it.
  std::string other_signer, other_verifier;
  BOOST_REQUIRE(GenerateNoteKey("other.test/journal", &other_signer, &other_verifier).ok());
  std::ofstream(out.path() + "/other.vkey") << other_verifier << "\n";
  options.verifier_key_file = out.path() + "/other.vkey";
  s = Bundle({1});
  BOOST_TEST(s.IsCorruption(), s.ToString());
  BOOST_TEST(!fs::exists(options.dir));
}

BOOST_FIXTURE_TEST_CASE(an_envelope_cannot_break_the_lines_of_the_index, BundleFixture) {
  Commit("Subject: x\r\n\r\nx\r\n", "evil@example.com>\r\nInjected line\\");
  AddCheckpoint();
  Status s = Bundle({1});
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::string readme = ReadFile(B("README.txt"));
  BOOST_TEST(readme.find("\nInjected") == std::string::npos);
  BOOST_TEST(readme.find("from <evil@example.com>\\x0d\\x0aInjected line\\x5c>") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
