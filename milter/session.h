// Session: the capture state of one MTA connection, independent of libmilter.
//
// The milter callbacks (milter_callbacks.cc) translate each libmilter call into one call
// here, so the capture logic can be tested without an MTA. A connection carries zero or more
// messages; each message runs MailFrom, Rcpt*, Header*, EndOfHeaders, Body*, then either
// EndOfMessage or AbortMessage.
//
// Byte-exact reconstruction (the MTA must have negotiated SMFIP_HDR_LEADSPC, so header
// values arrive with their leading white space): each header becomes
// name ":" value CRLF with every LF inside the value turned into CRLF; the end of the
// headers adds CRLF; body chunks are appended verbatim. Bytes stream into the journal as
// they arrive (MessageWriter), so memory per session stays bounded.
//
// The message is classified when its first byte arrives (every recipient is known by
// then), and its bytes are sealed on the way (Sealer) to its departments' keys and the
// escrow keys: only the sealed form reaches the journal.
//
// Capture scope (mailjournal.yaml(5), CAPTURE SCOPE): when the message is classified, the
// policy of its MAIL FROM decides whether it is journaled at all (Policy::InScope). A message
// out of scope has its journal transaction aborted there: nothing of it is sealed, stored
// or indexed, every later call succeeds without doing anything, and EndOfMessage reports
// it (out_of_scope()).
//
// Search (mailjournal-search(8)): when one of its departments indexes, the message's first
// kMaxIndexedBytes are also kept in memory and, at the end, indexed (text extracted,
// tokenized, hashed with each such department's current index key); the postings are
// committed with the message. Indexing never fails a message: what cannot be decoded is
// not indexed, and when no index key can be had the message is journaled unindexed
// (index_note() says why).
//
// Supervision (mailjournal.yaml(5), SUPERVISION): when one of its departments applies
// lexicons, the same first kMaxIndexedBytes are kept, and the text extracted once for the
// index is matched against the departments' lexicons (subject and body); the message entry
// records the lexicons hit (MessageEntry::flags). One random draw (RAND_bytes) against the
// highest sample rate of its departments sets MessageEntry::sampled. Neither ever fails a
// message: a matcher error leaves the message unflagged (supervision_note() says why).
//
// Thread-safety: libmilter never runs two callbacks of one connection at once, but may run
// them on different threads; a Session is used by one thread at a time.
#ifndef MAILJOURNAL_MILTER_SESSION_H_
#define MAILJOURNAL_MILTER_SESSION_H_

#include <sys/socket.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mailjournal/entry.h"
#include "mailjournal/index_keys.h"
#include "mailjournal/journal.h"
#include "mailjournal/message_writer.h"
#include "mailjournal/policy.h"
#include "mailjournal/policy_holder.h"
#include "mailjournal/seal.h"
#include "mailjournal/sha256.h"
#include "mailjournal/status.h"
#include "mailjournal/text_extract.h"
#include "tempfail_reason.h"

namespace mailjournal {

// The most bytes of a message that are indexed and matched against lexicons: text past them
// is not searchable or flagged (the message is journaled whole). Bounds the memory a session
// holds for indexing.
constexpr size_t kMaxIndexedBytes = 2 << 20;

// The bytes one header contributes to the message: name ":" value (LF -> CRLF) CRLF.
std::string HeaderBytes(std::string_view name, std::string_view value);

class Session {
 public:
  // REQUIRES: journal and policies outlive the session.
  // index_keys may be null: nothing is indexed.
  Session(Journal* journal, const PolicyHolder* policies, IndexKeyStore* index_keys = nullptr)
      : journal_(journal), policies_(policies), index_keys_(index_keys) {}

  // Connection facts. addr may be null (local submission); its port is recorded too.
  void Connect(const std::string& client_name, const struct sockaddr* addr,
               const std::string& daemon);
  void Helo(const std::string& helo) { connection_.helo = helo; }

  // Starts a message (aborting any unfinished one): MAIL FROM's arguments and SASL login.
  // The message is classified by the policy in force now, even if a reload happens before
  // it ends. Fails when capture cannot be byte-exact on this connection, no policy is in
  // force, or the journal cannot start a transaction.
  Status MailFrom(std::vector<std::string> args, const std::string& auth);
  // Records one accepted recipient, in order.
  void Rcpt(std::vector<std::string> args);
  // Records the MTA's queue id; empty ids are ignored (it is unknown before DATA).
  void QueueId(const std::string& id);

  Status Header(std::string_view name, std::string_view value);
  Status EndOfHeaders();
  Status Body(std::string_view chunk);

  // Classifies the message and commits it durably; on success sets *seq and *entry. The
  // message is finished either way. A message out of the capture scope is not committed:
  // returns OK with *seq 0 and *entry untouched, and out_of_scope() is true.
  Status EndOfMessage(uint64_t* seq, MessageEntry* entry);

  // Drops the message in progress and its staged bytes.
  void AbortMessage();
  // Drops the message in progress without touching the journal (its staged bytes are
  // removed when the journal is next opened). For shutdown, when the journal is closing.
  void AbandonMessage();

  // False when the MTA did not negotiate SMFIP_HDR_LEADSPC: MailFrom then fails.
  void set_byte_exact(bool byte_exact) { byte_exact_ = byte_exact; }

  bool in_message() const { return writer_ != nullptr; }
  // What went wrong indexing the message since MAIL FROM ("" when nothing did).
  const std::string& index_note() const { return index_note_; }
  // What went wrong with supervision (lexicon matching, sampling) since MAIL FROM ("" when
  // nothing did).
  const std::string& supervision_note() const { return supervision_note_; }
  // Whether the message since MAIL FROM was committed with search postings.
  bool indexed() const { return indexed_; }
  // Whether the message since MAIL FROM was found out of the capture scope (and so is not,
  // or was not, journaled).
  bool out_of_scope() const { return out_of_scope_; }
  const Envelope& envelope() const { return envelope_; }
  // Why the last call that returned an error failed (for the tempfail counters); meaningful
  // only after such a call.
  TempfailReason failure_reason() const { return failure_reason_; }

 private:
  Status Append(std::string_view bytes);
  // Forgets the message in progress (after its writer committed, aborted or abandoned).
  void ResetMessage();
  // Classifies the message and starts sealing it.
  Status Decide();
  // The current index key of each department of the message that indexes (notes those it
  // cannot have in index_note_).
  std::vector<IndexKey> CurrentIndexKeys();
  // The postings of the message in progress under `keys`, from its extracted text (notes
  // decoding problems in index_note_). Empty when keys is.
  std::vector<TermSet> IndexTerms(const ExtractedText& text, const std::vector<IndexKey>& keys);
  // The lexicons of the message's departments that its subject and body text hit; empty
  // (and a note) on a matcher error.
  std::vector<LexiconHit> Flags(const ExtractedText& text);
  // One uniform random draw below `rate` (0 to 1); false (and a note) without random bytes.
  bool DrawSample(double rate);
  // Append one problem to index_note_ / supervision_note_ ("; " between problems).
  void AddIndexNote(const std::string& note);
  void AddSupervisionNote(const std::string& note);
  // Returns `failure`, noting `reason` when it is an error.
  Status Failed(TempfailReason reason, Status failure);
  // As Failed, for an error of the journal (which may be kDiskFull instead).
  Status JournalFailed(TempfailReason reason, Status failure) {
    TempfailReason why = JournalFailureReason(failure, reason);  // before failure moves
    return Failed(why, std::move(failure));
  }

  Journal* const journal_;
  const PolicyHolder* const policies_;
  std::shared_ptr<const Policy> policy_;  // the policy of the message in progress
  Envelope connection_;                   // connection facts, copied into each message's envelope
  Envelope envelope_;                     // the message in progress
  std::unique_ptr<MessageWriter> writer_;
  bool decided_ = false;
  Decision decision_;
  bool skipping_ = false;           // the message in progress is out of scope: nothing is stored
  bool out_of_scope_ = false;       // the message since MAIL FROM was out of scope
  std::unique_ptr<Sealer> sealer_;  // set by Decide()
  Sealing sealing_;
  std::unique_ptr<Sha256> plain_hash_;  // SHA-256(salt || captured bytes)
  IndexKeyStore* const index_keys_;
  std::vector<std::string> indexed_departments_;  // set by Decide()
  std::string plain_;  // the first kMaxIndexedBytes, to index and match lexicons against
  std::string index_note_;
  std::string supervision_note_;
  bool indexed_ = false;
  bool byte_exact_ = true;
  TempfailReason failure_reason_ = TempfailReason::kInternalError;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_SESSION_H_
