// Entry encoding: round trips, canonical form, and rejection of damaged or foreign bytes.
#include "mailjournal/entry.h"

#include <boost/test/unit_test.hpp>

namespace mailjournal {
namespace {

MessageEntry SampleEntry() {
  MessageEntry e;
  e.time_us = 1795000000123456;
  e.envelope.queue_id = "4bXyZ1abcdz";
  e.envelope.mail = {"<a@bank.example>", "SIZE=1234", "BODY=8BITMIME"};
  e.envelope.rcpt = {{"<b@bank.example>"}, {"<\"odd name\"@x.example>", "NOTIFY=NEVER"}};
  e.envelope.client_addr = "127.0.0.1";
  e.envelope.client_port = 40000;
  e.envelope.client_name = "localhost";
  e.envelope.helo = "client.example";
  e.envelope.auth = "alice";
  e.envelope.daemon = "smtpd";
  e.content.size = 20480;
  for (size_t i = 0; i < e.content.sha256.size(); ++i)
    e.content.sha256[i] = static_cast<uint8_t>(i);
  e.content.txn = (7ull << 32) | 3;
  e.content.chunks = 1;
  e.classification.departments = {"brokerage", "retail"};
  e.classification.retention = "brokerage-20y";
  e.classification.retain_until_us = 2426152000123456;
  e.classification.policy_digest.fill(0xab);
  return e;
}

// An entry with only the required fields.
MessageEntry MinimalEntry() {
  MessageEntry e;
  e.envelope.mail = {"<>"};
  e.classification.departments = {"default"};
  e.classification.retention = "default-7y";
  return e;
}

std::string Encode(const MessageEntry& m) {
  Entry e;
  e.message = m;
  return EncodeEntry(e);
}

Status Decode(std::string_view bytes, MessageEntry* m) {
  Entry e;
  Status s = DecodeEntry(bytes, &e);
  if (s.ok() && e.kind != EntryKind::kMessage) s = Status::Corruption("not a message");
  if (s.ok()) *m = e.message;
  return s;
}

void CheckSame(const MessageEntry& a, const MessageEntry& b) {
  BOOST_TEST(a.time_us == b.time_us);
  BOOST_TEST(a.envelope.queue_id == b.envelope.queue_id);
  BOOST_TEST(a.envelope.mail == b.envelope.mail);
  BOOST_TEST(a.envelope.rcpt == b.envelope.rcpt);
  BOOST_TEST(a.envelope.client_addr == b.envelope.client_addr);
  BOOST_TEST(a.envelope.client_port == b.envelope.client_port);
  BOOST_TEST(a.envelope.client_name == b.envelope.client_name);
  BOOST_TEST(a.envelope.helo == b.envelope.helo);
  BOOST_TEST(a.envelope.auth == b.envelope.auth);
  BOOST_TEST(a.envelope.daemon == b.envelope.daemon);
  BOOST_TEST(a.content.size == b.content.size);
  BOOST_TEST((a.content.sha256 == b.content.sha256));
  BOOST_TEST(a.content.txn == b.content.txn);
  BOOST_TEST(a.content.chunks == b.content.chunks);
  BOOST_TEST(a.classification.departments == b.classification.departments);
  BOOST_TEST(a.classification.retention == b.classification.retention);
  BOOST_TEST(a.classification.retain_until_us == b.classification.retain_until_us);
  BOOST_TEST((a.classification.policy_digest == b.classification.policy_digest));
}

BOOST_AUTO_TEST_SUITE(entry_encoding)

BOOST_AUTO_TEST_CASE(round_trip_keeps_every_field) {
  MessageEntry in = SampleEntry(), out;
  std::string bytes = Encode(in);
  BOOST_REQUIRE(Decode(bytes, &out).ok());
  CheckSame(in, out);
  BOOST_TEST(Encode(out) == bytes);  // canonical
}

BOOST_AUTO_TEST_CASE(minimal_entry_round_trips_with_null_sender_and_no_recipients) {
  MessageEntry in = MinimalEntry();
  MessageEntry out;
  BOOST_REQUIRE(Decode(Encode(in), &out).ok());
  CheckSame(in, out);
  BOOST_TEST(BareAddress(out.envelope.mail) == "");
}

BOOST_AUTO_TEST_CASE(header_is_magic_version_kind) {
  std::string bytes = Encode(SampleEntry());
  BOOST_TEST(bytes.substr(0, 4) == std::string("MJ\x01\x01", 4));
}

BOOST_AUTO_TEST_CASE(every_truncation_is_rejected) {
  std::string bytes = Encode(SampleEntry());
  MessageEntry out;
  for (size_t n = 0; n < bytes.size(); ++n) {
    Status s = Decode(bytes.substr(0, n), &out);
    BOOST_TEST_CONTEXT("prefix of " << n << " bytes") { BOOST_TEST(s.IsCorruption()); }
  }
}

BOOST_AUTO_TEST_CASE(unknown_version_is_rejected) {
  std::string bytes = Encode(SampleEntry());
  bytes[2] = 2;
  MessageEntry out;
  Status s = Decode(bytes, &out);
  BOOST_TEST(s.IsCorruption());
  BOOST_TEST(s.message().find("unknown format version 2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_kind_and_bad_magic_are_rejected) {
  std::string bytes = Encode(SampleEntry());
  MessageEntry out;
  std::string kind = bytes;
  kind[3] = 42;
  BOOST_TEST(Decode(kind, &out).message().find("unknown entry kind 42") != std::string::npos);
  std::string magic = bytes;
  magic[0] = 'X';
  BOOST_TEST(Decode(magic, &out).message().find("bad magic") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_tag_is_rejected) {
  std::string bytes = Encode(SampleEntry());
  bytes += std::string("\x1a\x01x", 3);  // tag 26, length 1
  MessageEntry out;
  BOOST_TEST(Decode(bytes, &out).message().find("unknown field tag 26") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(out_of_order_and_repeated_tags_are_rejected) {
  MessageEntry out;
  std::string bytes = Encode(SampleEntry());
  std::string repeated = bytes + std::string("\x10\x01x", 3);  // retention again
  BOOST_TEST(Decode(repeated, &out).message().find("out of order") != std::string::npos);
  std::string backwards = bytes + std::string("\x02\x01Q", 3);  // queue id at the end
  BOOST_TEST(Decode(backwards, &out).message().find("out of order") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(wrong_fixed_length_is_rejected) {
  std::string bytes = Encode(MinimalEntry());
  // The time field comes first: tag 1, length 8. Claim 7 and drop one byte.
  BOOST_REQUIRE(bytes[4] == 1 && bytes[5] == 8);
  bytes[5] = 7;
  bytes.erase(6, 1);
  MessageEntry out;
  BOOST_TEST(Decode(bytes, &out).message().find("malformed value of field 1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_required_field_is_rejected) {
  std::string header("MJ\x01\x01", 4);
  MessageEntry out;
  BOOST_TEST(Decode(header, &out).message().find("missing required field 1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(non_canonical_forms_are_rejected) {
  MessageEntry out;
  std::string bytes = Encode(MinimalEntry());
  // An empty queue id (writers omit empty fields) inserted after the time field.
  std::string empty = bytes.substr(0, 14) + std::string("\x02\x00", 2) + bytes.substr(14);
  BOOST_TEST(Decode(empty, &out).IsCorruption());
  // A non-minimal varint length (0x88 0x00 for 8).
  std::string padded = bytes.substr(0, 5) + std::string("\x88\x00", 2) + bytes.substr(6);
  BOOST_TEST(Decode(padded, &out).IsCorruption());
}

BOOST_AUTO_TEST_CASE(sealing_fields_round_trip_and_come_all_together) {
  MessageEntry in = SampleEntry();
  in.sealing.sealed = true;
  in.sealing.plain_size = 20000;
  in.sealing.salt.fill(0x11);
  in.sealing.plain_digest.fill(0x22);
  in.sealing.recipients = {Sha256Digest{}, Sha256Digest{}};
  in.sealing.recipients[1].fill(0x33);
  std::string bytes = Encode(in);
  MessageEntry out;
  BOOST_REQUIRE(Decode(bytes, &out).ok());
  BOOST_TEST(out.sealing.sealed);
  BOOST_TEST(out.sealing.plain_size == 20000u);
  BOOST_TEST((out.sealing.salt == in.sealing.salt));
  BOOST_TEST((out.sealing.plain_digest == in.sealing.plain_digest));
  BOOST_TEST((out.sealing.recipients == in.sealing.recipients));
  BOOST_TEST(out.sealing.scheme == kSealSchemeCms1);
  BOOST_TEST(Encode(out) == bytes);
  // A later scheme still decodes; scheme 0 does not exist.
  MessageEntry later = in;
  later.sealing.scheme = 2;
  BOOST_REQUIRE(Decode(Encode(later), &out).ok());
  BOOST_TEST(out.sealing.scheme == 2);
  later.sealing.scheme = 0;
  BOOST_TEST(Decode(Encode(later), &out).IsCorruption());
  // Without its recipients the group is incomplete.
  MessageEntry partial = in;
  partial.sealing.recipients.clear();
  BOOST_TEST(Decode(Encode(partial), &out).message().find("incomplete sealing fields") !=
             std::string::npos);
  MessageEntry plain;
  BOOST_REQUIRE(Decode(Encode(SampleEntry()), &plain).ok());
  BOOST_TEST(!plain.sealing.sealed);
}

BOOST_AUTO_TEST_CASE(message_without_classification_is_rejected) {
  MessageEntry e = MinimalEntry();
  e.classification.departments.clear();
  MessageEntry out;
  BOOST_TEST(Decode(Encode(e), &out).message().find("missing required field 15") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(policy_entry_round_trips_with_its_files) {
  Entry in;
  in.kind = EntryKind::kPolicy;
  in.policy.time_us = 1795000000000000;
  in.policy.files = {{"/etc/mailjournal/policy.yaml", "version: 1\n"},
                     {"/etc/mailjournal/hr/retail.txt", ""}};
  in.policy.digest.fill(0x5a);
  in.policy.reason = "start";
  std::string bytes = EncodeEntry(in);
  BOOST_TEST(bytes.substr(0, 4) == std::string("MJ\x01\x02", 4));
  Entry out;
  BOOST_REQUIRE(DecodeEntry(bytes, &out).ok());
  BOOST_TEST((out.kind == EntryKind::kPolicy));
  BOOST_TEST(out.policy.time_us == in.policy.time_us);
  BOOST_TEST(out.policy.files == in.policy.files);
  BOOST_TEST((out.policy.digest == in.policy.digest));
  BOOST_TEST(out.policy.reason == "start");
  BOOST_TEST(EncodeEntry(out) == bytes);
  // Every truncation fails, except the one that drops exactly the optional last field
  // (which the tree's leaf hash, not the decoder, protects).
  Entry no_reason = in;
  no_reason.policy.reason.clear();
  size_t boundary = EncodeEntry(no_reason).size();
  for (size_t n = 4; n < bytes.size(); ++n) {
    BOOST_TEST_CONTEXT("prefix of " << n << " bytes") {
      BOOST_TEST(DecodeEntry(bytes.substr(0, n), &out).IsCorruption() == (n != boundary));
    }
  }
}

BOOST_AUTO_TEST_CASE(key_entry_round_trips_and_rejects_bad_actions_and_truncation) {
  Entry in;
  in.kind = EntryKind::kKey;
  in.key.time_us = 1795000000000000;
  in.key.action = KeyAction::kRemoved;
  in.key.department = "retail";
  in.key.fingerprint.fill(0x11);
  in.key.file = "/etc/mailjournal/keys/retail.crt";
  in.key.policy_digest.fill(0x22);
  std::string bytes = EncodeEntry(in);
  BOOST_TEST(bytes.substr(0, 4) == std::string("MJ\x01\x03", 4));
  Entry out;
  BOOST_REQUIRE(DecodeEntry(bytes, &out).ok());
  BOOST_TEST((out.kind == EntryKind::kKey));
  BOOST_TEST(out.time_us() == in.key.time_us);
  BOOST_TEST((out.key.action == KeyAction::kRemoved));
  BOOST_TEST(out.key.department == "retail");
  BOOST_TEST((out.key.fingerprint == in.key.fingerprint));
  BOOST_TEST(out.key.file == in.key.file);
  BOOST_TEST((out.key.policy_digest == in.key.policy_digest));
  BOOST_TEST(EncodeEntry(out) == bytes);
  for (size_t n = 4; n < bytes.size(); ++n) {
    BOOST_TEST_CONTEXT("prefix of " << n << " bytes") {
      BOOST_TEST(DecodeEntry(bytes.substr(0, n), &out).IsCorruption());
    }
  }
  // An escrow key has no department; the action byte is 1 or 2 only.
  in.key.department.clear();
  in.key.action = KeyAction::kAdded;
  bytes = EncodeEntry(in);
  BOOST_REQUIRE(DecodeEntry(bytes, &out).ok());
  BOOST_TEST(out.key.department.empty());
  BOOST_TEST(std::string(KeyActionName(out.key.action)) == "added");
  size_t action = bytes.find(std::string("\x02\x01\x01", 3), 4);
  BOOST_REQUIRE(action != std::string::npos);
  bytes[action + 2] = 3;
  BOOST_TEST(DecodeEntry(bytes, &out).IsCorruption());
}

BOOST_AUTO_TEST_CASE(checkpoint_entry_round_trips) {
  Entry in;
  in.kind = EntryKind::kCheckpoint;
  in.checkpoint.time_us = 1795000000000000;
  in.checkpoint.note = "origin\n8\nroot=\ntime t\n\n\xe2\x80\x94 origin sig\n";
  std::string bytes = EncodeEntry(in);
  BOOST_TEST(bytes.substr(0, 4) == std::string("MJ\x01\x04", 4));
  Entry out;
  BOOST_REQUIRE(DecodeEntry(bytes, &out).ok());
  BOOST_TEST((out.kind == EntryKind::kCheckpoint));
  BOOST_TEST(out.time_us() == in.checkpoint.time_us);
  BOOST_TEST(out.checkpoint.note == in.checkpoint.note);
  BOOST_TEST(EncodeEntry(out) == bytes);
  BOOST_TEST(std::string(EntryKindName(EntryKind::kCheckpoint)) == "checkpoint");
  for (size_t n = 4; n < bytes.size(); ++n) {
    BOOST_TEST_CONTEXT("prefix of " << n) {
      BOOST_TEST(DecodeEntry(bytes.substr(0, n), &out).IsCorruption());
    }
  }
}

BOOST_AUTO_TEST_CASE(index_key_entry_round_trips_and_is_canonical) {
  Entry in;
  in.kind = EntryKind::kIndexKey;
  in.index_key.time_us = 1795000000000000;
  in.index_key.department = "retail";
  in.index_key.key_id = 0x0123456789abcdefULL;
  in.index_key.sealed = std::string("\x30\x80sealed\0bytes", 14);
  in.index_key.recipients.resize(2);
  in.index_key.recipients[0].fill(0x11);
  in.index_key.recipients[1].fill(0x22);
  in.index_key.reason = "rotated";
  std::string bytes = EncodeEntry(in);
  BOOST_TEST(bytes.substr(0, 4) == std::string("MJ\x01\x09", 4));
  Entry out;
  BOOST_REQUIRE(DecodeEntry(bytes, &out).ok());
  BOOST_TEST((out.kind == EntryKind::kIndexKey));
  BOOST_TEST(out.time_us() == in.index_key.time_us);
  BOOST_TEST(out.index_key.department == "retail");
  BOOST_TEST(out.index_key.key_id == in.index_key.key_id);
  BOOST_TEST(out.index_key.sealed == in.index_key.sealed);
  BOOST_TEST((out.index_key.recipients == in.index_key.recipients));
  BOOST_TEST(out.index_key.reason == "rotated");
  BOOST_TEST(EncodeEntry(out) == bytes);
  BOOST_TEST(std::string(EntryKindName(EntryKind::kIndexKey)) == "index_key");
  // Every prefix is refused but the two that end after a whole recipient field (one
  // recipient, or both without the reason): entries of their own, with one encoding.
  int whole = 0;
  for (size_t n = 4; n < bytes.size(); ++n) {
    BOOST_TEST_CONTEXT("prefix of " << n) {
      Status s = DecodeEntry(bytes.substr(0, n), &out);
      if (s.ok()) {
        ++whole;
        BOOST_TEST(EncodeEntry(out) == bytes.substr(0, n));
      } else {
        BOOST_TEST(s.IsCorruption());
      }
    }
  }
  BOOST_TEST(whole == 2);
  // The reason is optional; the recipients, department, key id and sealed bytes are not;
  // an empty reason field would be a second encoding of the same entry.
  in.index_key.reason.clear();
  std::string without = EncodeEntry(in);
  BOOST_REQUIRE(DecodeEntry(without, &out).ok());
  BOOST_TEST(out.index_key.reason.empty());
  BOOST_TEST(DecodeEntry(without + std::string("\x06\x00", 2), &out).IsCorruption());
  in.index_key.recipients.clear();
  BOOST_TEST(DecodeEntry(EncodeEntry(in), &out).IsCorruption());
  // Tag 3 (the key id) is 8 bytes.
  size_t id = bytes.find(std::string("\x03\x08", 2), 4);
  BOOST_REQUIRE(id != std::string::npos);
  std::string short_id = bytes.substr(0, id) + std::string("\x03\x07", 2) +
                         bytes.substr(id + 2, 7) + bytes.substr(id + 10);
  BOOST_TEST(DecodeEntry(short_id, &out).IsCorruption());
}

Entry SampleShip() {
  Entry e;
  e.kind = EntryKind::kShip;
  e.ship.time_us = 1795000000000000;
  e.ship.action = ShipAction::kUpload;
  e.ship.object = "mta1/segments/00000000000000000001-00000000000000000005.seg";
  e.ship.version_id = "v1.abc";
  e.ship.size = 10240;
  e.ship.sha256.fill(0x5a);
  e.ship.first = 1;
  e.ship.last = 5;
  e.ship.retain_until_us = 2426152000000000;
  e.ship.legal_hold = true;
  return e;
}

BOOST_AUTO_TEST_CASE(ship_entry_round_trips_canonically_with_kind_10) {
  Entry in = SampleShip();
  std::string bytes = EncodeEntry(in);
  BOOST_TEST(bytes.substr(0, 4) == std::string("MJ\x01\x0a", 4));
  Entry out;
  BOOST_REQUIRE(DecodeEntry(bytes, &out).ok());
  BOOST_TEST((out.kind == EntryKind::kShip));
  BOOST_TEST(out.time_us() == in.ship.time_us);
  BOOST_TEST((out.ship.action == ShipAction::kUpload));
  BOOST_TEST(out.ship.object == in.ship.object);
  BOOST_TEST(out.ship.version_id == "v1.abc");
  BOOST_TEST(out.ship.size == 10240u);
  BOOST_TEST((out.ship.sha256 == in.ship.sha256));
  BOOST_TEST(out.ship.first == 1u);
  BOOST_TEST(out.ship.last == 5u);
  BOOST_TEST(out.ship.retain_until_us == in.ship.retain_until_us);
  BOOST_TEST(out.ship.legal_hold);
  BOOST_TEST(EncodeEntry(out) == bytes);
  BOOST_TEST(std::string(EntryKindName(EntryKind::kShip)) == "ship");
  BOOST_TEST(std::string(ShipActionName(ShipAction::kLegalHold)) == "legal_hold");
  for (size_t n = 4; n < bytes.size(); ++n) {
    BOOST_TEST_CONTEXT("prefix of " << n) {
      BOOST_TEST(DecodeEntry(bytes.substr(0, n), &out).IsCorruption());
    }
  }
}

BOOST_AUTO_TEST_CASE(ship_entry_without_version_omits_the_field_and_rejects_bad_values) {
  Entry in = SampleShip();
  in.ship.version_id.clear();
  in.ship.legal_hold = false;
  in.ship.action = ShipAction::kLegalHold;
  std::string bytes = EncodeEntry(in);
  BOOST_TEST(bytes.size() == EncodeEntry(SampleShip()).size() - 8);  // tag, length, "v1.abc"
  Entry out;
  BOOST_REQUIRE(DecodeEntry(bytes, &out).ok());
  BOOST_TEST(out.ship.version_id.empty());
  BOOST_TEST(!out.ship.legal_hold);
  BOOST_TEST((out.ship.action == ShipAction::kLegalHold));
  BOOST_TEST(EncodeEntry(out) == bytes);
  // The legal hold byte is 0 or 1 (last field: tag 10, length 1).
  std::string bad = bytes;
  BOOST_REQUIRE(bad.substr(bad.size() - 3, 2) == std::string("\x0a\x01", 2));
  bad.back() = 2;
  BOOST_TEST(DecodeEntry(bad, &out).IsCorruption());
  // An empty version id would be a second encoding of "no version".
  bad = bytes;
  size_t size_field = bad.find(std::string("\x05\x08", 2), 4);
  BOOST_REQUIRE(size_field != std::string::npos);
  bad.insert(size_field, std::string("\x04\x00", 2));
  BOOST_TEST(DecodeEntry(bad, &out).IsCorruption());
  // A range that ends before it starts is refused.
  in.ship.first = 6;
  BOOST_TEST(DecodeEntry(EncodeEntry(in), &out).IsCorruption());
}

BOOST_AUTO_TEST_CASE(message_flags_and_sample_round_trip_canonically) {
  Entry in;
  in.kind = EntryKind::kMessage;
  in.message = SampleEntry();
  std::string plain = EncodeEntry(in);
  in.message.flags = {{"guarantees", Severity::kHigh}, {"pressure", Severity::kLow}};
  in.message.sampled = true;
  std::string bytes = EncodeEntry(in);
  // Appended after the other fields: tag 24 per flag (severity byte, name), tag 25 once.
  BOOST_TEST(bytes.substr(0, plain.size()) == plain);
  BOOST_TEST(bytes.substr(plain.size()) ==
             std::string("\x18\x0b\x03guarantees\x18\x09\x01pressure\x19\x01\x01", 27));
  Entry out;
  BOOST_REQUIRE(DecodeEntry(bytes, &out).ok());
  BOOST_TEST((out.message.flags == in.message.flags));
  BOOST_TEST(out.message.sampled);
  BOOST_TEST(EncodeEntry(out) == bytes);
  // Unsampled and unflagged: no field at all, so older entries keep their encoding.
  BOOST_REQUIRE(DecodeEntry(plain, &out).ok());
  BOOST_TEST(out.message.flags.empty());
  BOOST_TEST(!out.message.sampled);
  // Names out of order or repeated, a severity outside 1..4, a flag without a name and a
  // sampled byte of 0 would each be a second encoding or nonsense.
  auto corrupt = [&](const std::string& tail) {
    return DecodeEntry(plain + tail, &out).IsCorruption();
  };
  BOOST_TEST(corrupt(std::string("\x18\x09\x01pressure\x18\x0b\x03guarantees", 24)));
  BOOST_TEST(corrupt(std::string("\x18\x09\x01pressure\x18\x09\x01pressure", 22)));
  BOOST_TEST(corrupt(std::string("\x18\x09\x05pressure", 11)));
  BOOST_TEST(corrupt(std::string("\x18\x09\x00pressure", 11)));
  BOOST_TEST(corrupt(std::string("\x18\x01\x02", 3)));
  BOOST_TEST(corrupt(std::string("\x19\x01\x00", 3)));
  Severity sev;
  BOOST_TEST((ParseSeverity("critical", &sev) && sev == Severity::kCritical));
  BOOST_TEST(!ParseSeverity("urgent", &sev));
  BOOST_TEST(std::string(SeverityName(Severity::kMedium)) == "medium");
}

Entry SampleReview() {
  Entry e;
  e.kind = EntryKind::kReview;
  e.review.time_us = 1795000000000000;
  e.review.actor = {1001, "alice"};
  e.review.message = 42;
  e.review.status = ReviewStatus::kEscalated;
  e.review.note_sealed = "CMS bytes";
  e.review.note_recipients.resize(2);
  e.review.note_recipients[0].fill(0x11);
  e.review.note_recipients[1].fill(0x22);
  return e;
}

BOOST_AUTO_TEST_CASE(review_and_tag_entries_round_trip_canonically_with_kinds_11_and_12) {
  Entry in = SampleReview();
  std::string bytes = EncodeEntry(in);
  BOOST_TEST(bytes.substr(0, 4) == std::string("MJ\x01\x0b", 4));
  Entry out;
  BOOST_REQUIRE(DecodeEntry(bytes, &out).ok());
  BOOST_TEST((out.kind == EntryKind::kReview));
  BOOST_TEST(out.time_us() == in.review.time_us);
  BOOST_TEST(out.review.actor.uid == 1001u);
  BOOST_TEST(out.review.actor.user == "alice");
  BOOST_TEST(out.review.message == 42u);
  BOOST_TEST((out.review.status == ReviewStatus::kEscalated));
  BOOST_TEST(out.review.note_sealed == "CMS bytes");
  BOOST_TEST((out.review.note_recipients == in.review.note_recipients));
  BOOST_TEST(EncodeEntry(out) == bytes);
  // Every prefix is corrupt, except those that end after a whole optional field (the note,
  // a recipient): those are the entry without what follows, and decode as such.
  for (size_t n = 4; n < bytes.size(); ++n) {
    BOOST_TEST_CONTEXT("prefix of " << n) {
      Status s = DecodeEntry(bytes.substr(0, n), &out);
      BOOST_TEST((s.IsCorruption() || EncodeEntry(out) == bytes.substr(0, n)));
    }
  }
  // Without a note: neither note nor recipients.
  in.review.note_sealed.clear();
  in.review.note_recipients.clear();
  BOOST_REQUIRE(DecodeEntry(EncodeEntry(in), &out).ok());
  BOOST_TEST(out.review.note_sealed.empty());
  // Recipients of no note, a status outside 1..3 and message 0 are refused.
  Entry bad = SampleReview();
  bad.review.note_sealed.clear();
  BOOST_TEST(DecodeEntry(EncodeEntry(bad), &out).IsCorruption());
  bad = SampleReview();
  bad.review.status = static_cast<ReviewStatus>(4);
  BOOST_TEST(DecodeEntry(EncodeEntry(bad), &out).IsCorruption());
  bad = SampleReview();
  bad.review.message = 0;
  BOOST_TEST(DecodeEntry(EncodeEntry(bad), &out).IsCorruption());
  ReviewStatus st;
  BOOST_TEST((ParseReviewStatus("closed", &st) && st == ReviewStatus::kClosed));
  BOOST_TEST(!ParseReviewStatus("unreviewed", &st));
  BOOST_TEST(std::string(EntryKindName(EntryKind::kReview)) == "review");

  Entry tag;
  tag.kind = EntryKind::kTag;
  tag.tag.time_us = 1795000000000001;
  tag.tag.actor = {0, ""};
  tag.tag.message = 7;
  tag.tag.action = TagAction::kRemove;
  tag.tag.tag = "mis-selling";
  bytes = EncodeEntry(tag);
  BOOST_TEST(bytes.substr(0, 4) == std::string("MJ\x01\x0c", 4));
  BOOST_REQUIRE(DecodeEntry(bytes, &out).ok());
  BOOST_TEST((out.kind == EntryKind::kTag));
  BOOST_TEST(out.tag.actor.user.empty());
  BOOST_TEST(out.tag.message == 7u);
  BOOST_TEST((out.tag.action == TagAction::kRemove));
  BOOST_TEST(out.tag.tag == "mis-selling");
  BOOST_TEST(EncodeEntry(out) == bytes);
  BOOST_TEST(std::string(EntryKindName(EntryKind::kTag)) == "tag");
  BOOST_TEST(std::string(TagActionName(TagAction::kAdd)) == "add");
  tag.tag.tag.clear();  // a tag without a name
  BOOST_TEST(DecodeEntry(EncodeEntry(tag), &out).IsCorruption());
}

BOOST_AUTO_TEST_CASE(bare_address_strips_one_pair_of_brackets) {
  BOOST_TEST(BareAddress({"<a@b>", "SIZE=1"}) == "a@b");
  BOOST_TEST(BareAddress({"a@b"}) == "a@b");
  BOOST_TEST(BareAddress({"<>"}) == "");
  BOOST_TEST(BareAddress({}) == "");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
