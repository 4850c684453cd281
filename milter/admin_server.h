// AdminServer: serves the admin protocol (mailjournal/admin_protocol.h) on a unix stream
// socket, one JSON request per line, one thread per connection (at most kMaxConnections).
//
// Thread-safety: Listen() and Start() from the main thread before serving; Stop() once, from
// any thread; the destructor stops the server.
#ifndef MAILJOURNAL_MILTER_ADMIN_SERVER_H_
#define MAILJOURNAL_MILTER_ADMIN_SERVER_H_

#include <sys/types.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "mailjournal/admin_protocol.h"
#include "mailjournal/status.h"

namespace mailjournal {

class AdminServer {
 public:
  static constexpr int kMaxConnections = 32;

  AdminServer() = default;
  ~AdminServer() { Stop(); }
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds and listens on `path` (a stale socket file there is replaced), with file mode
  // `mode` and, when owner is not -1, the given owner (the group is left as created).
  Status Listen(const std::string& path, mode_t mode, uid_t owner);

  // Starts serving requests with `handler`. REQUIRES: Listen() succeeded; handler outlives
  // the server (until Stop() returns).
  void Start(AdminHandler* handler);

  // Stops accepting, disconnects clients, waits for their threads, removes the socket file.
  void Stop();

 private:
  void AcceptLoop();
  void Serve(int fd);

  std::string path_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  AdminHandler* handler_ = nullptr;
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable clients_gone_;
  std::set<int> clients_;  // GUARDED_BY(mu_); one detached thread serves each
  bool stopped_ = false;   // GUARDED_BY(mu_)
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_ADMIN_SERVER_H_
