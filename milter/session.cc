#include "session.h"

#include <arpa/inet.h>
#include <netinet/in.h>

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
  if (!byte_exact_) return Status::Internal("the MTA did not negotiate SMFIP_HDR_LEADSPC");
  policy_ = policies_->Active();
  if (policy_ == nullptr) return Status::Internal("no policy is in force");
  envelope_ = connection_;
  envelope_.mail = std::move(args);
  envelope_.auth = auth;
  writer_ = std::make_unique<MessageWriter>(journal_);
  return writer_->status();
}

void Session::Rcpt(std::vector<std::string> args) { envelope_.rcpt.push_back(std::move(args)); }

void Session::QueueId(const std::string& id) {
  if (!id.empty()) envelope_.queue_id = id;
}

Status Session::Append(std::string_view bytes) {
  if (writer_ == nullptr) return Status::Internal("message data outside a transaction");
  return writer_->Append(bytes);
}

Status Session::Header(std::string_view name, std::string_view value) {
  return Append(HeaderBytes(name, value));
}

Status Session::EndOfHeaders() { return Append("\r\n"); }

Status Session::Body(std::string_view chunk) { return Append(chunk); }

Status Session::EndOfMessage(uint64_t* seq, MessageEntry* entry) {
  if (writer_ == nullptr) return Status::Internal("end of message outside a transaction");
  std::vector<std::string> rcpts;
  for (const auto& r : envelope_.rcpt) rcpts.push_back(BareAddress(r));
  Decision decision = policy_->Classify(BareAddress(envelope_.mail), rcpts, 0);
  const RetentionClass* retention = policy_->FindRetention(decision.retention);
  if (retention == nullptr) {
    AbortMessage();
    return Status::Internal("policy: no retention class '" + decision.retention + "'");
  }
  MessageEntry message;
  message.envelope = envelope_;
  message.classification.departments = decision.departments;
  message.classification.retention = decision.retention;
  message.classification.policy_digest = policy_->digest();
  // Retention counts from the commit time the entry records.
  Period period = retention->period;
  auto finalize = [period](MessageEntry* m) {
    m->classification.retain_until_us = RetainUntil(m->time_us, period);
  };
  Status s = writer_->Commit(std::move(message), finalize, seq, entry);
  writer_.reset();
  policy_.reset();
  return s;
}

void Session::AbortMessage() {
  if (writer_ != nullptr) writer_->Abort();
  writer_.reset();
  policy_.reset();
}

void Session::AbandonMessage() {
  if (writer_ != nullptr) writer_->Abandon();
  writer_.reset();
  policy_.reset();
}

}  // namespace mailjournal
