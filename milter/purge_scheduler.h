// PurgeScheduler: runs the retention's purge (mailjournal/retention.h) every `interval`
// seconds on its own thread, as the daemon's own user (purge_interval in mailjournald(8)),
// and logs what each run disposed of and kept. A failed run is logged and tried again at the
// next interval; mail is never affected.
//
// Thread-safety: Start and Stop are called by one thread.
#ifndef MAILJOURNAL_MILTER_PURGE_SCHEDULER_H_
#define MAILJOURNAL_MILTER_PURGE_SCHEDULER_H_

#include <condition_variable>
#include <mutex>
#include <thread>

#include "mailjournal/retention.h"

namespace mailjournal {

class PurgeScheduler {
 public:
  // REQUIRES: retention outlives the scheduler; interval_s >= 1.
  PurgeScheduler(Retention* retention, int interval_s, Actor actor)
      : retention_(retention), interval_s_(interval_s), actor_(std::move(actor)) {}
  ~PurgeScheduler() { Stop(); }

  void Start();
  // Stops the thread, waiting for a run in progress to finish its current batch. Idempotent.
  void Stop();

 private:
  void Run();

  Retention* const retention_;
  const int interval_s_;
  const Actor actor_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_PURGE_SCHEDULER_H_
