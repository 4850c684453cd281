#include "purge_scheduler.h"

#include <chrono>

#include "log.h"

namespace mailjournal {

void PurgeScheduler::Start() { thread_ = std::thread(&PurgeScheduler::Run, this); }

void PurgeScheduler::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void PurgeScheduler::Run() {
  std::unique_lock<std::mutex> l(mu_);
  while (!cv_.wait_for(l, std::chrono::seconds(interval_s_), [this] { return stopping_; })) {
    l.unlock();
    PurgeOptions options;
    options.actor = actor_;
    options.cancelled = [this] {
      std::lock_guard<std::mutex> stop(mu_);
      return stopping_;
    };
    PurgeReport r;
    Status s = retention_->Purge(options, &r);
    if (!s.ok()) {
      Log(LOG_ERR, "scheduled purge: %s (disposed of %llu before)", s.message().c_str(),
          static_cast<unsigned long long>(r.disposed));
    } else if (r.expired > 0) {
      Log(LOG_INFO, "scheduled purge: %llu expired, %llu disposed of, %llu held",
          static_cast<unsigned long long>(r.expired), static_cast<unsigned long long>(r.disposed),
          static_cast<unsigned long long>(r.held));
    }
    l.lock();
  }
}

}  // namespace mailjournal
