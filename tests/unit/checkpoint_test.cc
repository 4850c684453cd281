// Checkpoints and signed notes: the reference key and note of Go's golang.org/x/mod/sumdb/note
// (Ed25519 is deterministic, so signing must reproduce the published note byte for byte),
// malformed keys and notes, and the checkpoint body.
#include "mailjournal/checkpoint.h"

#include <boost/test/unit_test.hpp>

#include "mailjournal/merkle.h"

namespace mailjournal {
namespace {

const char kSignerKey[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const char kVerifierKey[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const char kText[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
const char kNote[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

BOOST_AUTO_TEST_SUITE(checkpoint)

BOOST_AUTO_TEST_CASE(signing_reproduces_the_reference_note) {
  std::unique_ptr<NoteSigner> signer;
  BOOST_REQUIRE(NoteSigner::Create(kSignerKey, &signer).ok());
  BOOST_TEST(signer->name() == "PeterNeumann");
  BOOST_TEST(signer->verifier_key() == kVerifierKey);
  std::string note;
  BOOST_REQUIRE(signer->Sign(kText, &note).ok());
  BOOST_TEST(note == kNote);
  BOOST_TEST(!signer->Sign("no newline", &note).ok());
}

BOOST_AUTO_TEST_CASE(verification_accepts_the_reference_note_and_nothing_altered) {
  std::unique_ptr<NoteVerifier> verifier;
  BOOST_REQUIRE(NoteVerifier::Create(kVerifierKey, &verifier).ok());
  std::string text;
  BOOST_REQUIRE(verifier->Verify(kNote, &text).ok());
  BOOST_TEST(text == kText);
  std::string altered = kNote;
  altered[10] ^= 0x01;  // in the text
  BOOST_TEST(verifier->Verify(altered, &text).IsCorruption());
  altered = kNote;
  altered[altered.size() - 10] = altered[altered.size() - 10] == 'A' ? 'B' : 'A';  // signature
  BOOST_TEST(verifier->Verify(altered, &text).IsCorruption());
  // Another key's signature only: not signed by this key.
  std::string other_signer, other_verifier;
  BOOST_REQUIRE(GenerateNoteKey("PeterNeumann", &other_signer, &other_verifier).ok());
  std::unique_ptr<NoteSigner> other;
  BOOST_REQUIRE(NoteSigner::Create(other_signer, &other).ok());
  std::string other_note;
  BOOST_REQUIRE(other->Sign(kText, &other_note).ok());
  Status s = verifier->Verify(other_note, &text);
  BOOST_TEST(s.IsCorruption());
  BOOST_TEST(s.message().find("not signed by PeterNeumann") != std::string::npos);
  BOOST_TEST(verifier->Verify(kText, &text).IsCorruption());  // no signature block
}

BOOST_AUTO_TEST_CASE(malformed_keys_are_refused) {
  std::unique_ptr<NoteVerifier> verifier;
  std::unique_ptr<NoteSigner> signer;
  std::string v = kVerifierKey;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string bad = v;
    bad[i] = static_cast<char>(bad[i] + 1);
    BOOST_TEST_CONTEXT("byte " << i) { BOOST_TEST(!NoteVerifier::Create(bad, &verifier).ok()); }
  }
  BOOST_TEST(!NoteVerifier::Create(v.substr(0, v.size() - 4), &verifier).ok());
  BOOST_TEST(!NoteVerifier::Create(kSignerKey, &verifier).ok());
  BOOST_TEST(!NoteSigner::Create(kVerifierKey, &signer).ok());
  std::string s, vk;
  BOOST_TEST(!GenerateNoteKey("has space", &s, &vk).ok());
  BOOST_TEST(!GenerateNoteKey("has+plus", &s, &vk).ok());
  BOOST_REQUIRE(GenerateNoteKey("mail.bank.example/journal", &s, &vk).ok());
  BOOST_REQUIRE(NoteSigner::Create(s + "\n", &signer).ok());
  BOOST_TEST(signer->verifier_key() == vk);
}

BOOST_AUTO_TEST_CASE(checkpoint_body_round_trips_and_is_strict) {
  Checkpoint c;
  c.origin = "mail.bank.example/journal";
  c.size = 8;
  std::string root = HexDecode("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
  std::copy(root.begin(), root.end(), c.root.begin());
  c.time_us = 1795773600123456;
  std::string body = FormatCheckpoint(c);
  BOOST_TEST(body ==
             "mail.bank.example/journal\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
             "time 2026-11-27T10:00:00.123456Z\n");
  Checkpoint parsed;
  BOOST_REQUIRE(ParseCheckpoint(body, &parsed).ok());
  BOOST_TEST(parsed.origin == c.origin);
  BOOST_TEST(parsed.size == 8u);
  BOOST_TEST((parsed.root == c.root));
  BOOST_TEST(parsed.time_us == c.time_us);
  for (const char* bad :
       {"o\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\ntime 2026-11-27T10:00:00Z\n",
        "o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQ=\ntime 2026-11-27T10:00:00Z\n",
        "o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\ntime 2026-11-27T10:00:00Z\n",
        "o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\ntime 2026-11-27T10:00:00Z"}) {
    BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!ParseCheckpoint(bad, &parsed).ok()); }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
