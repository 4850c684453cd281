#include "channel.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mailjournal/access.h"
#include "mailjournal/admin_protocol.h"
#include "mailjournal/audit_admin.h"
#include "mailjournal/index_key_journal.h"
#include "mailjournal/policy_admin.h"
#include "mailjournal/policy_holder.h"
#include "mailjournal/proof_admin.h"
#include "mailjournal/query_sealer.h"
#include "mailjournal/retention.h"
#include "mailjournal/retention_admin.h"
#include "mailjournal/review_admin.h"
#include "mailjournal/search_admin.h"

namespace mailjournal {

using nlohmann::json;

namespace {

class SocketChannel : public Channel {
 public:
  SocketChannel(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~SocketChannel() override { close(fd_); }

  Status Call(const json& request, json* response, const Journal::ChunkSink& payload) override {
    std::string line = ToJsonLine(request);
    Status s = WriteAll(line);
    if (s.ok()) s = ReadResponse(response);
    if (!s.ok()) return s;
    s = StatusFromResponse(*response);
    if (!s.ok() || !response->contains("size")) return s;
    uint64_t remaining = (*response)["size"].get<uint64_t>();
    Status sink_error;
    while (remaining > 0) {
      if (buffer_.empty()) {
        s = Fill();
        if (!s.ok()) return s;
      }
      size_t n = std::min<uint64_t>(remaining, buffer_.size());
      if (sink_error.ok()) sink_error = payload(std::string_view(buffer_.data(), n));
      buffer_.erase(0, n);
      remaining -= n;
    }
    json trailer;
    s = ReadResponse(&trailer);
    if (!s.ok()) return s;
    s = StatusFromResponse(trailer);
    return s.ok() ? sink_error : s;
  }

 private:
  Status WriteAll(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Unavailable(path_ + ": send: " + std::strerror(errno));
      off += static_cast<size_t>(n);
    }
    return Status::OK();
  }

  Status Fill() {
    char buf[65536];
    for (;;) {
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Unavailable(path_ + ": receive: " + std::strerror(errno));
      if (n == 0) return Status::Unavailable(path_ + ": the daemon closed the connection");
      buffer_.append(buf, static_cast<size_t>(n));
      return Status::OK();
    }
  }

  Status ReadResponse(json* response) {
    size_t nl;
    while ((nl = buffer_.find('\n')) == std::string::npos) {
      Status s = Fill();
      if (!s.ok()) return s;
    }
    std::string line = buffer_.substr(0, nl);
    buffer_.erase(0, nl + 1);
    *response = json::parse(line, nullptr, false);
    if (response->is_discarded()) {
      return Status::Internal(path_ + ": the daemon sent a response that is not JSON");
    }
    return Status::OK();
  }

  const int fd_;
  const std::string path_;
  std::string buffer_;
};

// Collects what an in-process AdminHandler writes.
class LocalResponse : public ResponseWriter {
 public:
  LocalResponse(json* header, const Journal::ChunkSink* payload)
      : header_(header), payload_(payload) {}
  Status Header(const json& response) override {
    *header_ = response;
    return Status::OK();
  }
  Status Payload(std::string_view bytes) override {
    if (sink_error_.ok()) sink_error_ = (*payload_)(bytes);
    return Status::OK();
  }
  Status Trailer(const json& trailer) override {
    trailer_ = trailer;
    return Status::OK();
  }
  Status Result() const {
    Status s = StatusFromResponse(*header_);
    if (s.ok() && !trailer_.is_null()) s = StatusFromResponse(trailer_);
    return s.ok() ? sink_error_ : s;
  }

 private:
  json* header_;
  const Journal::ChunkSink* payload_;
  json trailer_;
  Status sink_error_;
};

class HandlerChannel : public Channel {
 public:
  HandlerChannel(AdminHandler* handler, Caller caller)
      : handler_(handler), caller_(std::move(caller)) {}

  Status Call(const json& request, json* response, const Journal::ChunkSink& payload) override {
    LocalResponse out(response, &payload);
    Status s = handler_->Handle(request, caller_, &out);
    return s.ok() ? out.Result() : s;
  }

 private:
  AdminHandler* const handler_;
  const Caller caller_;
};

class LocalChannel : public Channel {
 public:
  // The policy operations answer with the journal's newest policy entry (none: "no policy
  // is in force"); reloading is the daemon's business.
  // The caller is this process; the journal directory's owner (the daemon's user) and root
  // are granted everything, others what the journal's newest policy grants them.
  LocalChannel(std::unique_ptr<Journal> journal, const std::string& dir,
               const std::string& index_keys, uid_t owner)
      : journal_(std::move(journal)),
        index_keys_(index_keys),
        policies_("", journal_.get()),
        index_key_journal_(journal_.get(), &policies_, &index_keys_),
        handler_(journal_.get(), ServerInfo{"offline", 0, dir}, RolePermissions(&policies_, owner)),
        retention_(journal_.get(), &policies_),
        direct_(&handler_, ProcessCaller()) {
    policies_.LoadFromJournal();
    // A reindex run here rotates the key: journaled as the daemon would, when the journal
    // holds index_key entries already (the daemon's index_key_entries setting is not known
    // here; a failure leaves it to the daemon's next policy load).
    index_keys_.SetNewKeyObserver(
        [this](const std::string& department, const IndexKey& key, const std::string& reason) {
          bool journaled = false;
          journal_->ScanKind(EntryKind::kIndexKey, 0, true, [&](uint64_t, const Entry&) {
            journaled = true;
            return false;
          });
          if (journaled) index_key_journal_.Record(department, key, reason);
        });
    retention_open_ = retention_.Open();
    AddPolicyOperations(&policies_, nullptr, &handler_);
    AddProofOperations(
        journal_.get(), [] { return std::make_unique<RetentionChecker>(); }, &handler_);
    AddRetentionOperations(&retention_, &policies_, &handler_);
    AddReviewOperations(journal_.get(), &policies_, &handler_);
    AddAuditOperations(journal_.get(), &handler_);
    AddSegmentOperations(journal_.get(), SegmentHoldsFactory(journal_.get(), &policies_),
                         &handler_);
    AddSearchOperations(journal_.get(), &index_keys_, PolicyQuerySealer(&policies_), &handler_);
  }

  Status Call(const json& request, json* response, const Journal::ChunkSink& payload) override {
    if (!retention_open_.ok()) return retention_open_;
    return direct_.Call(request, response, payload);
  }

 private:
  std::unique_ptr<Journal> journal_;
  IndexKeyStore index_keys_;
  PolicyHolder policies_;
  IndexKeyJournal index_key_journal_;
  AdminHandler handler_;
  Retention retention_;
  Status retention_open_;  // the journal's holds could not be read: nothing is answered
  HandlerChannel direct_;  // as this process
};

}  // namespace

Status ConnectSocketChannel(const std::string& path, std::unique_ptr<Channel>* channel) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Status::InvalidArgument("admin socket " + path + ": path too long");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Unavailable("socket: " + std::string(std::strerror(errno)));
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    close(fd);
    return Status::Unavailable("cannot connect to " + path + ": " + std::strerror(err) +
                               " (is mailjournald running?)");
  }
  *channel = std::make_unique<SocketChannel>(fd, path);
  return Status::OK();
}

std::unique_ptr<Channel> NewHandlerChannel(AdminHandler* handler, const Caller& caller) {
  return std::make_unique<HandlerChannel>(handler, caller);
}

Status OpenLocalChannel(const std::string& dir, const std::string& index_keys,
                        std::unique_ptr<Channel>* channel) {
  JournalOptions options;
  options.dir = dir;
  options.create_if_missing = false;
  std::unique_ptr<Journal> journal;
  Status s = OpenJournal(options, &journal);
  if (s.IsBusy()) {
    return Status::Busy(s.message() +
                        " (mailjournald, or another mailjournal --journal; while the daemon runs,"
                        " use --socket PATH)");
  }
  if (!s.ok()) return s;
  struct stat st;
  uid_t owner = stat(dir.c_str(), &st) == 0 ? st.st_uid : 0;
  *channel = std::make_unique<LocalChannel>(std::move(journal), dir, index_keys, owner);
  return Status::OK();
}

}  // namespace mailjournal
