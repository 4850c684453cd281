#include "admin_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "log.h"
#include "mailjournal/access.h"

namespace mailjournal {

using nlohmann::json;

namespace {

constexpr size_t kMaxRequestLine = 1 << 20;

Status SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError(std::string("admin socket: send: ") + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

class SocketResponse : public ResponseWriter {
 public:
  explicit SocketResponse(int fd) : fd_(fd) {}
  Status Header(const json& response) override { return SendAll(fd_, ToJsonLine(response)); }
  Status Payload(std::string_view bytes) override { return SendAll(fd_, bytes); }
  Status Trailer(const json& trailer) override { return SendAll(fd_, ToJsonLine(trailer)); }

 private:
  int fd_;
};

// The peer's identity, from the kernel: SO_PEERCRED (uid, gid, pid) and SO_PEERGROUPS
// (supplementary groups), as they were when it connected.
Status PeerCaller(int fd, Caller* caller) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return Status::IOError(std::string("admin socket: SO_PEERCRED: ") + std::strerror(errno));
  }
  caller->uid = cred.uid;
  caller->gid = cred.gid;
  caller->pid = cred.pid;
  std::vector<gid_t> groups(64);
  len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
  if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) != 0 && errno == ERANGE) {
    groups.resize(len / sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) != 0) len = 0;
  }
  groups.resize(len / sizeof(gid_t));
  caller->groups.assign(groups.begin(), groups.end());
  LookUpUserName(caller);
  return Status::OK();
}

}  // namespace

Status AdminServer::Listen(const std::string& path, mode_t mode, uid_t owner) {
  path_ = path;
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Status::InvalidArgument("admin socket " + path + ": path too long");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Status::IOError("admin socket: " + std::string(std::strerror(errno)));
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path.c_str());
  if (bind(listen_fd_, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0 ||
      chmod(path.c_str(), mode) != 0 ||
      (owner != static_cast<uid_t>(-1) &&
       chown(path.c_str(), owner, static_cast<gid_t>(-1)) != 0) ||
      listen(listen_fd_, 16) != 0) {
    return Status::IOError("admin socket " + path + ": " + std::strerror(errno));
  }
  if (pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    return Status::IOError("admin socket: pipe: " + std::string(std::strerror(errno)));
  }
  return Status::OK();
}

void AdminServer::Start(AdminHandler* handler) {
  handler_ = handler;
  acceptor_ = std::thread(&AdminServer::AcceptLoop, this);
}

void AdminServer::AcceptLoop() {
  for (;;) {
    struct pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      Log(LOG_ERR, "admin socket: poll: %s", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_ || clients_.size() >= static_cast<size_t>(kMaxConnections)) {
      SendAll(fd,
              ToJsonLine(ErrorResponse(Status::Unavailable("admin socket: too many connections"))));
      close(fd);
      continue;
    }
    clients_.insert(fd);
    std::thread(&AdminServer::Serve, this, fd).detach();
  }
}

void AdminServer::Serve(int fd) {
  SocketResponse out(fd);
  Caller caller;
  Status identified = PeerCaller(fd, &caller);
  if (!identified.ok()) {
    Log(LOG_ERR, "%s", identified.message().c_str());
    SendAll(fd, ToJsonLine(ErrorResponse(identified)));
  }
  std::string buffer;
  char chunk[4096];
  while (identified.ok()) {
    size_t nl = buffer.find('\n');
    if (nl == std::string::npos) {
      if (buffer.size() > kMaxRequestLine) {
        SendAll(fd, ToJsonLine(ErrorResponse(Status::InvalidArgument("request: line too long"))));
        break;
      }
      ssize_t n = recv(fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      buffer.append(chunk, static_cast<size_t>(n));
      continue;
    }
    std::string line = buffer.substr(0, nl);
    buffer.erase(0, nl + 1);
    json request = json::parse(line, nullptr, false);
    Status s = request.is_discarded()
                   ? out.Header(ErrorResponse(Status::InvalidArgument("request: not valid JSON")))
                   : handler_->Handle(request, caller, &out);
    if (!s.ok()) break;
  }
  std::lock_guard<std::mutex> l(mu_);
  clients_.erase(fd);
  close(fd);
  clients_gone_.notify_all();  // under the lock: Stop() cannot return before we unlock
}

void AdminServer::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (wake_pipe_[1] >= 0) {
    char c = 0;
    (void)!write(wake_pipe_[1], &c, 1);
  }
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::unique_lock<std::mutex> l(mu_);
    for (int fd : clients_) shutdown(fd, SHUT_RDWR);
    clients_gone_.wait(l, [this] { return clients_.empty(); });
  }
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    unlink(path_.c_str());
  }
  for (int fd : wake_pipe_) {
    if (fd >= 0) close(fd);
  }
}

}  // namespace mailjournal
