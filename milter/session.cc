#include "session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/rand.h>

#include "mailjournal/search_index.h"
#include "mailjournal/text_extract.h"

namespace mailjournal {

std::string HeaderBytes(std::string_view name, std::string_view value) {
  std::string out;
  out.reserve(name.size() + value.size() + 8);
  out.append(name);
  out.push_back(':');
  for (char c : value) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  out.append("\r\n");
  return out;
}

void Session::Connect(const std::string& client_name, const struct sockaddr* addr,
                      const std::string& daemon) {
  connection_ = Envelope();
  connection_.client_name = client_name;
  connection_.daemon = daemon;
  if (addr == nullptr) return;
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const struct sockaddr_in*>(addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    connection_.client_port = ntohs(in->sin_port);
  } else if (addr->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const struct sockaddr_in6*>(addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    connection_.client_port = ntohs(in6->sin6_port);
  }
  connection_.client_addr = text;
}

Status Session::MailFrom(std::vector<std::string> args, const std::string& auth) {
  AbortMessage();
  index_note_.clear();
  supervision_note_.clear();
  indexed_ = false;
  out_of_scope_ = false;
  if (!byte_exact_) {
    return Failed(TempfailReason::kMtaNotByteExact,
                  Status::Internal("the MTA did not negotiate SMFIP_HDR_LEADSPC"));
  }
  policy_ = policies_->Active();
  if (policy_ == nullptr) {
    return Failed(TempfailReason::kNoPolicy, Status::Internal("no policy is in force"));
  }
  envelope_ = connection_;
  envelope_.mail = std::move(args);
  envelope_.auth = auth;
  writer_ = std::make_unique<MessageWriter>(journal_);
  return JournalFailed(TempfailReason::kJournalWriteFailed, writer_->status());
}

void Session::Rcpt(std::vector<std::string> args) { envelope_.rcpt.push_back(std::move(args)); }

void Session::QueueId(const std::string& id) {
  if (!id.empty()) envelope_.queue_id = id;
}

Status Session::Decide() {
  decided_ = true;
  std::vector<std::string> rcpts;
  for (const auto& r : envelope_.rcpt) rcpts.push_back(BareAddress(r));
  decision_ = policy_->Classify(BareAddress(envelope_.mail), rcpts, 0);
  if (!policy_->InScope(decision_).captured) {
    // Nothing of it is stored: the staged transaction goes, the rest of the message is
    // let through untouched.
    writer_->Abort();
    skipping_ = true;
    out_of_scope_ = true;
    return Status::OK();
  }
  // Every message is sealed; a loaded policy gives every message a key.
  if (decision_.keys.empty()) {
    return Failed(TempfailReason::kPolicyIncomplete,
                  Status::Internal("policy: no key to seal this message to"));
  }
  // The certificates are part of the policy's files (journaled with it), parsed once.
  RecipientKeys recipients;
  for (const std::string& key : decision_.keys) {
    recipients.push_back(policy_->FindRecipientKey(key));
    if (recipients.back() == nullptr) {
      return Failed(TempfailReason::kPolicyIncomplete,
                    Status::Internal("policy: key file " + key + " not loaded"));
    }
  }
  Status s = Sealer::Create(recipients, &sealer_);
  if (!s.ok()) return Failed(TempfailReason::kSealFailed, s);
  sealing_ = Sealing();
  sealing_.sealed = true;
  sealing_.recipients = sealer_->recipients();
  if (RAND_bytes(sealing_.salt.data(), static_cast<int>(sealing_.salt.size())) != 1) {
    return Failed(TempfailReason::kSealFailed,
                  Status::Internal("seal: no random bytes for the salt"));
  }
  if (index_keys_ != nullptr) {
    for (const std::string& name : decision_.departments) {
      const Department* d = policy_->FindDepartment(name);
      if (d != nullptr && d->index) indexed_departments_.push_back(name);
    }
  }
  plain_hash_ = std::make_unique<Sha256>();
  plain_hash_->Update(
      std::string_view(reinterpret_cast<const char*>(sealing_.salt.data()), sealing_.salt.size()));
  return Status::OK();
}

Status Session::Append(std::string_view bytes) {
  if (skipping_) return Status::OK();
  if (writer_ == nullptr) {
    return Failed(TempfailReason::kInternalError,
                  Status::Internal("message data outside a transaction"));
  }
  Status s;
  if (!decided_) s = Decide();
  if (!s.ok() || skipping_) return s;
  plain_hash_->Update(bytes);
  sealing_.plain_size += bytes.size();
  if ((!indexed_departments_.empty() || decision_.supervised) && plain_.size() < kMaxIndexedBytes) {
    plain_.append(bytes.substr(0, kMaxIndexedBytes - plain_.size()));
  }
  s = sealer_->Append(bytes);
  if (!s.ok()) return Failed(TempfailReason::kSealFailed, s);
  return JournalFailed(TempfailReason::kJournalWriteFailed, writer_->Append(sealer_->Take()));
}

Status Session::Header(std::string_view name, std::string_view value) {
  return Append(HeaderBytes(name, value));
}

Status Session::EndOfHeaders() { return Append("\r\n"); }

Status Session::Body(std::string_view chunk) { return Append(chunk); }

Status Session::EndOfMessage(uint64_t* seq, MessageEntry* entry) {
  if (writer_ == nullptr) {
    return Failed(TempfailReason::kInternalError,
                  Status::Internal("end of message outside a transaction"));
  }
  Status sealed = decided_ ? Status::OK() : Decide();
  if (sealed.ok() && !skipping_) {
    sealed = Failed(TempfailReason::kSealFailed, sealer_->Finish());
    if (sealed.ok()) {
      sealed = JournalFailed(TempfailReason::kJournalWriteFailed, writer_->Append(sealer_->Take()));
    }
    if (sealed.ok()) sealing_.plain_digest = plain_hash_->Final();
  }
  if (!sealed.ok()) {
    AbortMessage();
    return sealed;
  }
  if (skipping_) {
    *seq = 0;
    ResetMessage();
    return Status::OK();
  }
  const Decision& decision = decision_;
  const RetentionClass* retention = policy_->FindRetention(decision.retention);
  if (retention == nullptr) {
    AbortMessage();
    return Failed(TempfailReason::kPolicyIncomplete,
                  Status::Internal("policy: no retention class '" + decision.retention + "'"));
  }
  MessageEntry message;
  message.envelope = envelope_;
  message.classification.departments = decision.departments;
  message.classification.retention = decision.retention;
  message.classification.policy_digest = policy_->digest();
  message.sealing = sealing_;
  // The text is extracted once, for the search index and the lexicons.
  std::vector<IndexKey> index_keys = CurrentIndexKeys();
  ExtractedText text;
  if (!index_keys.empty() || decision.supervised) text = ExtractText(plain_);
  std::vector<TermSet> terms = IndexTerms(text, index_keys);
  bool indexed = !terms.empty();
  writer_->SetTerms(std::move(terms));
  if (decision.supervised) message.flags = Flags(text);
  message.sampled = DrawSample(decision.sample);
  // Retention counts from the commit time the entry records.
  Period period = retention->period;
  auto finalize = [period](MessageEntry* m) {
    m->classification.retain_until_us = RetainUntil(m->time_us, period);
  };
  Status s = JournalFailed(TempfailReason::kCommitFailed,
                           writer_->Commit(std::move(message), finalize, seq, entry));
  indexed_ = s.ok() && indexed;
  ResetMessage();
  return s;
}

std::vector<IndexKey> Session::CurrentIndexKeys() {
  std::vector<IndexKey> keys;
  for (const std::string& department : indexed_departments_) {
    std::vector<IndexKey> department_keys;
    Status s = index_keys_->Keys(department, true, &department_keys);
    if (!s.ok()) {
      AddIndexNote("not indexed for " + department + ": " + s.message());
      continue;
    }
    keys.push_back(department_keys.front());
  }
  return keys;
}

std::vector<TermSet> Session::IndexTerms(const ExtractedText& text,
                                         const std::vector<IndexKey>& keys) {
  std::vector<TermSet> terms;
  if (keys.empty()) return terms;
  std::vector<std::string> rcpts;
  for (const auto& r : envelope_.rcpt) rcpts.push_back(BareAddress(r));
  terms = IndexMessage(text, {BareAddress(envelope_.mail)}, rcpts, keys);
  for (const std::string& p : text.problems) AddIndexNote(p);
  if (plain_.size() >= kMaxIndexedBytes && sealing_.plain_size > kMaxIndexedBytes) {
    AddIndexNote("only the first " + std::to_string(kMaxIndexedBytes) + " bytes indexed");
  }
  return terms;
}

std::vector<LexiconHit> Session::Flags(const ExtractedText& text) {
  std::vector<std::string_view> texts;
  for (const std::string& t : text.subject) texts.push_back(t);
  for (const std::string& t : text.body) texts.push_back(t);
  std::vector<LexiconHit> flags;
  Status s = policy_->MatchLexicons(decision_.departments, texts, &flags);
  if (!s.ok()) {
    AddSupervisionNote("lexicons not matched: " + s.message());
    flags.clear();
  }
  return flags;
}

bool Session::DrawSample(double rate) {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  uint64_t draw = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&draw), sizeof draw) != 1) {
    AddSupervisionNote("not sampled: no random bytes");
    return false;
  }
  // 53 random bits as a uniform fraction in [0, 1).
  return static_cast<double>(draw >> 11) * 0x1.0p-53 < rate;
}

void Session::AddSupervisionNote(const std::string& note) {
  supervision_note_ += (supervision_note_.empty() ? "" : "; ") + note;
}

Status Session::Failed(TempfailReason reason, Status failure) {
  if (!failure.ok()) failure_reason_ = reason;
  return failure;
}

void Session::AddIndexNote(const std::string& note) {
  index_note_ += (index_note_.empty() ? "" : "; ") + note;
}

void Session::ResetMessage() {
  writer_.reset();
  policy_.reset();
  decided_ = false;
  decision_ = Decision();
  skipping_ = false;
  sealer_.reset();
  sealing_ = Sealing();
  plain_hash_.reset();
  indexed_departments_.clear();
  plain_.clear();
  plain_.shrink_to_fit();
}

void Session::AbortMessage() {
  if (writer_ != nullptr) writer_->Abort();
  ResetMessage();
}

void Session::AbandonMessage() {
  if (writer_ != nullptr) writer_->Abandon();
  ResetMessage();
}

}  // namespace mailjournal
