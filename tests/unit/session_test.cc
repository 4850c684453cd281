// Capture without an MTA: header/body reconstruction and envelope recording.
#include "session.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "mailjournal/index_keys.h"
#include "mailjournal/search_query.h"
#include "test_util.h"

namespace mailjournal {
namespace {

struct sockaddr_in Loopback(uint16_t port) {
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  return addr;
}

// A journal with a policy in force (entry 1, with the key entry of its escrow key), so
// messages start at sequence number 3. Every message is sealed to the test key "escrow".
struct Fixture {
  Fixture()
      : journal(OpenTestJournal(dir.path())), policies(dir.path() + "/policy.yaml", journal.get()) {
    std::ofstream(dir.path() + "/escrow.crt") << TestKeys().Cert("escrow");
    std::ofstream(dir.path() + "/policy.yaml") << "version: 1\n"
                                                  "retention:\n"
                                                  "  short: 180d\n"
                                                  "  default-7y: 7y\n"
                                                  "escrow: [escrow.crt]\n"
                                                  "departments:\n"
                                                  "  - name: retail\n"
                                                  "    members: ['@bank.example']\n"
                                                  "    retention: short\n"
                                                  "  - name: default\n"
                                                  "    retention: default-7y\n";
    std::vector<PolicyError> errors;
    uint64_t seq = 0;
    Status s = policies.Load("start", &errors, &seq);
    BOOST_REQUIRE_MESSAGE(s.ok(),
                          s.ToString() + (errors.empty() ? "" : ": " + errors[0].ToString()));
    BOOST_REQUIRE(seq == 1u);
    BOOST_REQUIRE(journal->LastSequence() == 2u);
  }
  TempDir dir;
  std::unique_ptr<Journal> journal;
  PolicyHolder policies;
};

BOOST_AUTO_TEST_SUITE(capture)

BOOST_AUTO_TEST_CASE(header_bytes_keep_the_value_as_given_and_turn_lf_into_crlf) {
  // With SMFIP_HDR_LEADSPC the value carries its own leading white space.
  BOOST_TEST(HeaderBytes("Subject", " hello") == "Subject: hello\r\n");
  BOOST_TEST(HeaderBytes("Subject", "x") == "Subject:x\r\n");
  BOOST_TEST(HeaderBytes("X-Empty", "") == "X-Empty:\r\n");
  BOOST_TEST(HeaderBytes("To", " a@b,\n c@d,\n\te@f") == "To: a@b,\r\n c@d,\r\n\te@f\r\n");
  BOOST_TEST(HeaderBytes("X-Trailing", " v \t") == "X-Trailing: v \t\r\n");
}

BOOST_AUTO_TEST_CASE(message_is_reconstructed_byte_for_byte_with_its_envelope) {
  Fixture f;
  Journal* j = f.journal.get();
  Session s(j, &f.policies);
  auto addr = Loopback(40123);
  s.Connect("client.example", reinterpret_cast<struct sockaddr*>(&addr), "smtpd");
  s.Helo("helo.example");
  BOOST_REQUIRE(s.MailFrom({"<alice@bank.example>", "SIZE=99", "BODY=8BITMIME"}, "alice").ok());
  s.QueueId("");  // unknown at MAIL FROM for SMTP mail
  s.Rcpt({"<bob@bank.example>"});
  s.Rcpt({"<hidden-bcc@bank.example>", "NOTIFY=NEVER"});
  s.Rcpt({"<carol@other.example>"});
  BOOST_REQUIRE(s.Header("From", " alice@bank.example").ok());
  BOOST_REQUIRE(s.Header("Subject", "x").ok());
  BOOST_REQUIRE(s.Header("X-Folded", " one\n\ttwo").ok());
  BOOST_REQUIRE(s.EndOfHeaders().ok());
  BOOST_REQUIRE(s.Body("line 1\r\n.leading dot\r\n").ok());
  BOOST_REQUIRE(s.Body("bare\nlf and \xe4\xb8\xad\r\n").ok());
  s.QueueId("4Abc123XyZ");
  uint64_t seq = 0;
  MessageEntry e;
  Status st = s.EndOfMessage(&seq, &e);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.ToString());
  BOOST_TEST(seq == 3u);
  BOOST_TEST(ReadOpened(j, 3, "escrow") ==
             "From: alice@bank.example\r\nSubject:x\r\nX-Folded: one\r\n\ttwo\r\n\r\n"
             "line 1\r\n.leading dot\r\nbare\nlf and \xe4\xb8\xad\r\n");
  MessageEntry stored;
  BOOST_REQUIRE(j->ReadMessage(3, &stored).ok());
  const Envelope& env = stored.envelope;
  BOOST_TEST(env.queue_id == "4Abc123XyZ");
  BOOST_TEST(env.mail ==
             (std::vector<std::string>{"<alice@bank.example>", "SIZE=99", "BODY=8BITMIME"}));
  BOOST_REQUIRE(env.rcpt.size() == 3u);
  BOOST_TEST(env.rcpt[0] == std::vector<std::string>{"<bob@bank.example>"});
  BOOST_TEST(env.rcpt[1] ==
             (std::vector<std::string>{"<hidden-bcc@bank.example>", "NOTIFY=NEVER"}));
  BOOST_TEST(env.rcpt[2] == std::vector<std::string>{"<carol@other.example>"});
  BOOST_TEST(env.client_addr == "127.0.0.1");
  BOOST_TEST(env.client_port == 40123);
  BOOST_TEST(env.client_name == "client.example");
  BOOST_TEST(env.helo == "helo.example");
  BOOST_TEST(env.auth == "alice");
  BOOST_TEST(env.daemon == "smtpd");
  // alice and bob are retail (@bank.example); carol, an outside correspondent, does not
  // pull the message into default.
  const Classification& cls = stored.classification;
  BOOST_TEST(cls.departments == std::vector<std::string>{"retail"});
  BOOST_TEST(cls.retention == "short");
  BOOST_TEST((cls.policy_digest == f.policies.Active()->digest()));
  Period half_year{0, 180, "180d"};
  BOOST_TEST(cls.retain_until_us == RetainUntil(stored.time_us, half_year));
}

// Sends one message from `from` to `rcpt` with this body; returns its seq.
uint64_t SendBody(Session* s, const std::string& from, const std::string& rcpt,
                  const std::string& body) {
  BOOST_REQUIRE(s->MailFrom({"<" + from + ">"}, "").ok());
  s->Rcpt({"<" + rcpt + ">"});
  BOOST_REQUIRE(s->Header("Subject", " quarterly").ok());
  BOOST_REQUIRE(s->EndOfHeaders().ok());
  BOOST_REQUIRE(s->Body(body).ok());
  uint64_t seq = 0;
  MessageEntry e;
  Status st = s->EndOfMessage(&seq, &e);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.ToString());
  return seq;
}

BOOST_AUTO_TEST_CASE(messages_are_indexed_with_their_departments_keys_unless_index_is_false) {
  Fixture f;
  std::ofstream(f.dir.path() + "/policy.yaml") << "version: 1\n"
                                                  "retention:\n"
                                                  "  short: 180d\n"
                                                  "escrow: [escrow.crt]\n"
                                                  "departments:\n"
                                                  "  - name: retail\n"
                                                  "    members: ['@bank.example']\n"
                                                  "    retention: short\n"
                                                  "    index: false\n"
                                                  "  - name: default\n"
                                                  "    retention: short\n";
  std::vector<PolicyError> errors;
  uint64_t policy_seq = 0;
  BOOST_REQUIRE(f.policies.Load("reload", &errors, &policy_seq).ok());
  IndexKeyStore keys(f.dir.path() + "/index-keys");
  Session s(f.journal.get(), &f.policies, &keys);
  uint64_t unindexed = SendBody(&s, "alice@bank.example", "bob@bank.example", "zorblax\r\n");
  BOOST_TEST(!s.indexed());  // what the daemon's metrics count
  uint64_t indexed = SendBody(&s, "dave@other.example", "carol@other.example", "zorblax\r\n");
  BOOST_TEST(s.indexed());
  BOOST_TEST(s.index_note().empty());
  std::vector<std::string> departments;
  BOOST_REQUIRE(keys.Departments(&departments).ok());
  BOOST_TEST(departments == std::vector<std::string>{"default"});  // retail: index: false
  std::vector<IndexKey> key;
  BOOST_REQUIRE(keys.Keys("default", false, &key).ok());
  std::vector<Posting> postings;
  BOOST_REQUIRE(
      f.journal->ReadPostings(key[0].id, TermHasher(key[0]).Hash("zorblax"), &postings).ok());
  BOOST_REQUIRE(postings.size() == 1u);
  BOOST_TEST(postings[0].seq == indexed);
  BOOST_TEST(postings[0].fields == kFieldBody);
  BOOST_TEST(unindexed < indexed);
  // Both messages are journaled whole whatever their indexing.
  BOOST_TEST(ReadOpened(f.journal.get(), unindexed, "escrow").find("zorblax") != std::string::npos);
}

// Supervision: flags from the departments' lexicons and the sample draw, also for a
// department that does not index (its bytes are kept for matching all the same).
BOOST_AUTO_TEST_CASE(messages_get_their_departments_lexicon_flags_and_sample) {
  Fixture f;
  std::ofstream(f.dir.path() + "/policy.yaml")
      << "version: 1\n"
         "retention:\n"
         "  short: 180d\n"
         "escrow: [escrow.crt]\n"
         "departments:\n"
         "  - name: retail\n"
         "    members: ['@bank.example']\n"
         "    retention: short\n"
         "    index: false\n"
         "  - name: default\n"
         "    retention: short\n"
         "supervision:\n"
         "  lexicons:\n"
         "    - {name: zz, severity: low, terms: [zorblax]}\n"
         "    - {name: aa, severity: critical, terms: [quux]}\n"
         "  departments:\n"
         "    - {name: retail, lexicons: [zz, aa], sample: 100%}\n";
  std::vector<PolicyError> errors;
  uint64_t policy_seq = 0;
  BOOST_REQUIRE(f.policies.Load("reload", &errors, &policy_seq).ok());
  Session s(f.journal.get(), &f.policies, nullptr);  // nothing indexed
  auto send = [&s](const std::string& from, const std::string& body) {
    BOOST_REQUIRE(s.MailFrom({"<" + from + ">"}, "").ok());
    s.Rcpt({"<x@other.example>"});
    BOOST_REQUIRE(s.Header("Subject", " QUUX report").ok());
    BOOST_REQUIRE(s.EndOfHeaders().ok());
    BOOST_REQUIRE(s.Body(body).ok());
    uint64_t seq = 0;
    MessageEntry e;
    BOOST_REQUIRE(s.EndOfMessage(&seq, &e).ok());
    BOOST_TEST(s.supervision_note().empty());
    return e;
  };
  MessageEntry flagged = send("alice@bank.example", "a zorblax here\r\n");
  BOOST_REQUIRE(flagged.flags.size() == 2u);
  BOOST_TEST(flagged.flags[0].lexicon == "aa");  // sorted by name
  BOOST_TEST((flagged.flags[0].severity == Severity::kCritical));
  BOOST_TEST(flagged.flags[1].lexicon == "zz");
  BOOST_TEST(flagged.sampled);
  MessageEntry clean = send("alice@bank.example", "zorblaxes\r\n");
  BOOST_TEST(clean.flags.size() == 1u);  // the subject's QUUX; "zorblaxes" is another word
  MessageEntry other = send("dave@other.example", "zorblax\r\n");  // default: unsupervised
  BOOST_TEST(other.flags.empty());
  BOOST_TEST(!other.sampled);
}

BOOST_AUTO_TEST_CASE(a_message_is_journaled_unindexed_when_no_index_key_can_be_made) {
  Fixture f;
  std::ofstream(f.dir.path() + "/not-a-directory") << "x";
  IndexKeyStore keys(f.dir.path() + "/not-a-directory/keys");
  Session s(f.journal.get(), &f.policies, &keys);
  uint64_t seq = SendBody(&s, "dave@other.example", "carol@other.example", "zorblax\r\n");
  BOOST_TEST(s.index_note().find("not indexed for default") != std::string::npos);
  BOOST_TEST(ReadOpened(f.journal.get(), seq, "escrow").find("zorblax") != std::string::npos);
  // The note belongs to that message only.
  BOOST_REQUIRE(s.MailFrom({"<alice@bank.example>"}, "").ok());
  BOOST_TEST(s.index_note().empty());
}

BOOST_AUTO_TEST_CASE(a_message_keeps_the_policy_it_started_with_across_a_reload) {
  Fixture f;
  Journal* j = f.journal.get();
  Session s(j, &f.policies);
  s.Connect("c", nullptr, "");
  BOOST_REQUIRE(s.MailFrom({"<x@bank.example>"}, "").ok());
  s.Rcpt({"<y@bank.example>"});
  Sha256Digest before = f.policies.Active()->digest();
  // Reload a policy in which bank.example is no longer retail.
  std::ofstream(f.dir.path() + "/policy.yaml", std::ios::trunc)
      << "version: 1\nretention:\n  default-7y: 7y\nescrow: [escrow.crt]\ndepartments:\n"
         "  - name: default\n    retention: default-7y\n";
  std::vector<PolicyError> errors;
  uint64_t policy_seq = 0;
  BOOST_REQUIRE(f.policies.Load("reload (test)", &errors, &policy_seq).ok());
  BOOST_TEST(policy_seq == 3u);
  BOOST_REQUIRE(s.EndOfHeaders().ok());
  uint64_t seq;
  MessageEntry e;
  BOOST_REQUIRE(s.EndOfMessage(&seq, &e).ok());
  BOOST_TEST((e.classification.policy_digest == before));
  BOOST_TEST(e.classification.departments == std::vector<std::string>{"retail"});
  // The next message uses the new policy.
  BOOST_REQUIRE(s.MailFrom({"<x@bank.example>"}, "").ok());
  s.Rcpt({"<y@bank.example>"});
  BOOST_REQUIRE(s.EndOfHeaders().ok());
  BOOST_REQUIRE(s.EndOfMessage(&seq, &e).ok());
  BOOST_TEST((e.classification.policy_digest == f.policies.Active()->digest()));
  BOOST_TEST(e.classification.departments == std::vector<std::string>{"default"});
}

// The capture scope: mail out of it passes (every call succeeds) and leaves the journal's
// database as it was; mail in it is journaled as ever.
BOOST_AUTO_TEST_CASE(a_message_out_of_the_capture_scope_leaves_the_journal_untouched) {
  const std::string scoped =
      "version: 1\nretention:\n  short: 180d\nescrow: [escrow.crt]\ndepartments:\n"
      "  - {name: retail, members: ['@bank.example'], retention: short}\n"
      "  - {name: default, retention: short}\n"
      "capture: [retail]\n";
  // The same policy loads in all three; `untouched` sees no message, `f` only mail out of
  // scope, `g` a message in scope by a recipient that only the envelope names.
  Fixture untouched, f, g;
  for (Fixture* x : {&untouched, &f, &g}) {
    std::ofstream(x->dir.path() + "/policy.yaml", std::ios::trunc) << scoped;
    std::vector<PolicyError> errors;
    uint64_t policy_seq = 0;
    BOOST_REQUIRE(x->policies.Load("reload (test)", &errors, &policy_seq).ok());
  }
  const uint64_t last = f.journal->LastSequence();
  BOOST_REQUIRE(untouched.journal->LastSequence() == last);

  IndexKeyStore keys(f.dir.path() + "/index-keys");
  Session s(f.journal.get(), &f.policies, &keys);
  s.Connect("c", nullptr, "smtpd");
  std::string body;
  for (int i = 0; body.size() < 3 * kMaxIndexedBytes; ++i) {
    body += "line " + std::to_string(i) + " of a long body\r\n";
  }
  for (int round = 0; round < 2; ++round) {
    BOOST_REQUIRE(s.MailFrom({"<x@other.example>"}, "").ok());
    s.Rcpt({"<y@other.example>"});
    s.Rcpt({"<z@partner.example>"});
    BOOST_REQUIRE(s.Header("Subject", " not ours").ok());
    BOOST_REQUIRE(s.EndOfHeaders().ok());
    BOOST_TEST(s.out_of_scope());
    for (size_t at = 0; at < body.size(); at += 65536) {
      BOOST_REQUIRE(s.Body(std::string_view(body).substr(at, 65536)).ok());
    }
    if (round == 1) {  // the client went away: nothing to drop either
      s.AbortMessage();
      continue;
    }
    uint64_t seq = 99;
    MessageEntry e;
    BOOST_REQUIRE(s.EndOfMessage(&seq, &e).ok());
    BOOST_TEST(seq == 0u);
    BOOST_TEST(s.out_of_scope());
    BOOST_TEST(!s.indexed());
    BOOST_TEST(f.journal->LastSequence() == last);
  }
  // Out of scope with no header at all (classified at the end of the message).
  BOOST_REQUIRE(s.MailFrom({"<x@other.example>"}, "").ok());
  s.Rcpt({"<y@other.example>"});
  uint64_t seq = 99;
  MessageEntry e;
  BOOST_REQUIRE(s.EndOfMessage(&seq, &e).ok());
  BOOST_TEST(seq == 0u);
  BOOST_TEST(s.out_of_scope());
  std::vector<std::string> departments;
  BOOST_REQUIRE(keys.Departments(&departments).ok());
  BOOST_TEST(departments.empty());  // no index key was made for it

  // f's database holds exactly the keys of the untouched one's: no staged chunk, pending
  // transaction, entry, leaf, retention key or posting of the mail out of scope.
  f.journal.reset();
  untouched.journal.reset();
  for (char prefix = ' '; prefix < 0x7f; ++prefix) {
    BOOST_TEST_CONTEXT("keys starting with '" << prefix << "'") {
      BOOST_TEST(CountKeys(f.dir.path(), prefix) == CountKeys(untouched.dir.path(), prefix));
    }
  }

  // In scope: a retail recipient the headers do not name.
  Session in(g.journal.get(), &g.policies);
  BOOST_REQUIRE(in.MailFrom({"<x@other.example>"}, "").ok());
  in.Rcpt({"<y@other.example>"});
  in.Rcpt({"<bcc@bank.example>"});
  BOOST_REQUIRE(in.EndOfHeaders().ok());
  BOOST_REQUIRE(in.Body("ours\r\n").ok());
  BOOST_REQUIRE(in.EndOfMessage(&seq, &e).ok());
  BOOST_TEST(!in.out_of_scope());
  BOOST_TEST(seq == last + 1);
  BOOST_TEST(ReadOpened(g.journal.get(), seq, "escrow") == "\r\nours\r\n");
}

BOOST_AUTO_TEST_CASE(two_messages_on_one_connection_and_an_aborted_one_between) {
  Fixture f;
  Journal* j = f.journal.get();
  Session s(j, &f.policies);
  s.Connect("localhost", nullptr, "pickup");
  s.Helo("h");
  uint64_t seq = 0;
  MessageEntry e;

  BOOST_REQUIRE(s.MailFrom({"<first@x>"}, "").ok());
  s.Rcpt({"<r1@x>"});
  BOOST_REQUIRE(s.EndOfHeaders().ok());
  BOOST_REQUIRE(s.Body("one\r\n").ok());
  BOOST_REQUIRE(s.EndOfMessage(&seq, &e).ok());
  BOOST_TEST(seq == 3u);

  BOOST_REQUIRE(s.MailFrom({"<aborted@x>"}, "").ok());  // RSET after RCPT: never recorded
  s.Rcpt({"<r2@x>"});
  s.AbortMessage();

  BOOST_REQUIRE(s.MailFrom({"<second@x>"}, "").ok());
  s.Rcpt({"<r3@x>"});
  BOOST_REQUIRE(s.Header("Subject", " two").ok());
  BOOST_REQUIRE(s.EndOfHeaders().ok());
  BOOST_REQUIRE(s.EndOfMessage(&seq, &e).ok());
  BOOST_TEST(seq == 4u);

  BOOST_TEST(j->LastSequence() == 4u);
  MessageEntry second;
  BOOST_REQUIRE(j->ReadMessage(4, &second).ok());
  BOOST_TEST(BareAddress(second.envelope.mail) == "second@x");
  BOOST_REQUIRE(second.envelope.rcpt.size() == 1u);  // recipients do not leak across messages
  BOOST_TEST(BareAddress(second.envelope.rcpt[0]) == "r3@x");
  BOOST_TEST(second.envelope.helo == "h");  // connection facts carry over
  BOOST_TEST(second.envelope.client_addr == "");
  BOOST_TEST(ReadOpened(j, 4, "escrow") == "Subject: two\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(large_body_streams_in_bounded_chunks) {
  Fixture f;
  Journal* j = f.journal.get();
  Session s(j, &f.policies);
  s.Connect("c", nullptr, "");
  BOOST_REQUIRE(s.MailFrom({"<big@x>"}, "").ok());
  s.Rcpt({"<r@x>"});
  BOOST_REQUIRE(s.EndOfHeaders().ok());
  std::string chunk(65535, 'z');
  for (int i = 0; i < 40; ++i) BOOST_REQUIRE(s.Body(chunk).ok());  // ~2.6 MB
  uint64_t seq;
  MessageEntry e;
  BOOST_REQUIRE(s.EndOfMessage(&seq, &e).ok());
  BOOST_TEST(e.sealing.plain_size == 2u + 40u * 65535u);
  BOOST_TEST(e.content.chunks == (e.content.size + kMaxChunkSize - 1) / kMaxChunkSize);
  BOOST_TEST(ReadOpened(j, seq, "escrow") == "\r\n" + std::string(40 * 65535, 'z'));
}

BOOST_AUTO_TEST_CASE(without_leading_space_negotiation_messages_are_refused) {
  Fixture f;
  Journal* j = f.journal.get();
  Session s(j, &f.policies);
  s.set_byte_exact(false);
  Status st = s.MailFrom({"<a@x>"}, "");
  BOOST_TEST(!st.ok());
  BOOST_TEST(st.message().find("SMFIP_HDR_LEADSPC") != std::string::npos);
  BOOST_TEST(TempfailReasonName(s.failure_reason()) == std::string("mta_not_byte_exact"));
  BOOST_TEST(!s.in_message());
  BOOST_TEST(j->LastSequence() == 2u);
}

BOOST_AUTO_TEST_CASE(every_message_is_sealed_and_no_plaintext_reaches_disk) {
  TempDir dir;
  std::ofstream(dir.path() + "/retail.crt") << TestKeys().Cert("retail");
  std::ofstream(dir.path() + "/escrow.crt") << TestKeys().Cert("escrow");
  std::ofstream(dir.path() + "/policy.yaml") << "version: 1\n"
                                                "retention: {short: 180d, long: 7y}\n"
                                                "escrow: [escrow.crt]\n"
                                                "departments:\n"
                                                "  - name: retail\n"
                                                "    members: ['@bank.example']\n"
                                                "    retention: short\n"
                                                "    keys: [retail.crt]\n"
                                                "  - name: default\n"
                                                "    retention: long\n";
  uint64_t seq = 0, other_seq = 0;
  MessageEntry e, other;
  const std::string marker = "Zebraquokka4711";
  std::string plaintext = "Subject: " + marker + "\r\n\r\n" + std::string(100000, 'b') + marker;
  auto journal = OpenTestJournal(dir.path() + "/journal");
  {
    PolicyHolder policies(dir.path() + "/policy.yaml", journal.get());
    std::vector<PolicyError> errors;
    BOOST_REQUIRE(policies.Load("start", &errors, &seq).ok());
    Session s(journal.get(), &policies);
    s.Connect("c", nullptr, "");
    BOOST_REQUIRE(s.MailFrom({"<ann@bank.example>"}, "").ok());
    s.Rcpt({"<customer@example.net>"});
    BOOST_REQUIRE(s.Header("Subject", " " + marker).ok());
    BOOST_REQUIRE(s.EndOfHeaders().ok());
    BOOST_REQUIRE(s.Body(std::string(100000, 'b') + marker).ok());
    Status st = s.EndOfMessage(&seq, &e);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.ToString());

    // Mail of a department without keys of its own is sealed to the escrow key alone.
    BOOST_REQUIRE(s.MailFrom({"<x@example.org>"}, "").ok());
    s.Rcpt({"<y@example.net>"});
    BOOST_REQUIRE(s.Header("Subject", " " + marker).ok());
    BOOST_REQUIRE(s.EndOfHeaders().ok());
    BOOST_REQUIRE(s.EndOfMessage(&other_seq, &other).ok());
  }
  auto fingerprint = [](const std::string& name) {
    Sha256Digest d;
    BOOST_REQUIRE(CertificateKeyFingerprint(TestKeys().Cert(name), &d).ok());
    return d;
  };
  BOOST_TEST(e.sealing.sealed);
  BOOST_TEST(e.sealing.plain_size == plaintext.size());
  BOOST_TEST((e.sealing.recipients ==
              std::vector<Sha256Digest>{fingerprint("retail"), fingerprint("escrow")}));
  BOOST_TEST(other.sealing.sealed);
  BOOST_TEST((other.sealing.recipients == std::vector<Sha256Digest>{fingerprint("escrow")}));
  std::string sealed_bytes = ReadAll(journal.get(), seq);
  BOOST_TEST(e.content.size == sealed_bytes.size());
  BOOST_TEST(sealed_bytes.find(marker) == std::string::npos);
  // Each recipient opens it alone; the other message opens with the escrow key only.
  std::string opened = ReadOpened(journal.get(), seq, "retail");
  BOOST_TEST((opened == plaintext));
  BOOST_TEST((ReadOpened(journal.get(), seq, "escrow") == plaintext));
  BOOST_TEST(ReadOpened(journal.get(), other_seq, "escrow") == "Subject: " + marker + "\r\n\r\n");
  Sha256 salted;
  salted.Update(std::string_view(reinterpret_cast<const char*>(e.sealing.salt.data()),
                                 e.sealing.salt.size()));
  salted.Update(opened);
  BOOST_TEST((salted.Final() == e.sealing.plain_digest));
  BOOST_TEST((e.sealing.salt != other.sealing.salt));
  journal.reset();
  // No file under the journal directory holds the marker (LevelDB's log and tables).
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir.path() + "/journal")) {
    if (!f.is_regular_file()) continue;
    BOOST_TEST_CONTEXT(f.path()) {
      BOOST_TEST(ReadFile(f.path().string()).find(marker) == std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
