#include "metrics_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "log.h"

namespace mailjournal {

MetricsWriter::MetricsWriter(std::string dir, int interval_s, std::function<std::string()> render)
    : dir_(std::move(dir)), interval_s_(interval_s), render_(std::move(render)) {}

void MetricsWriter::Start() {
  WriteAndLog();
  thread_ = std::thread(&MetricsWriter::Run, this);
}

void MetricsWriter::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  WriteAndLog();
}

void MetricsWriter::Run() {
  std::unique_lock<std::mutex> l(mu_);
  while (!cv_.wait_for(l, std::chrono::seconds(interval_s_), [this] { return stopping_; })) {
    l.unlock();
    WriteAndLog();
    l.lock();
  }
}

void MetricsWriter::WriteAndLog() {
  Status s = WriteOnce();
  if (!s.ok() && !failing_) {
    Log(LOG_WARNING, "metrics: %s (not logged again until a write succeeds)", s.message().c_str());
  } else if (s.ok() && failing_) {
    Log(LOG_NOTICE, "metrics: %s written again", path().c_str());
  }
  failing_ = !s.ok();
}

Status MetricsWriter::WriteOnce() {
  std::string text = render_();
  std::string tmp = dir_ + "/." + kMetricsFileName + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return Status::IOError(tmp + ": " + std::strerror(errno));
  Status s;
  // The daemon's umask keeps others out; the collector runs as another user.
  if (fchmod(fd, 0644) != 0) s = Status::IOError(tmp + ": chmod: " + std::strerror(errno));
  const char* p = text.data();
  size_t left = text.size();
  while (s.ok() && left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = Status::IOError(tmp + ": " + std::strerror(errno));
    } else {
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  if (close(fd) != 0 && s.ok()) s = Status::IOError(tmp + ": " + std::strerror(errno));
  if (s.ok() && rename(tmp.c_str(), path().c_str()) != 0) {
    s = Status::IOError(path() + ": " + std::strerror(errno));
  }
  if (!s.ok()) unlink(tmp.c_str());
  return s;
}

}  // namespace mailjournal
