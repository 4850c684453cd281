// MetricsWriter: writes mailjournald's metrics file (mailjournald(8), METRICS) on its own
// thread: at Start(), every `interval` seconds, and once more at Stop(). Each write is
// atomic for readers (node_exporter's textfile collector): the text goes to a temporary
// file in the same directory (DIR/.mailjournald.prom.tmp, a name the collector ignores),
// made readable by all (mode 0644), then renamed over DIR/mailjournald.prom. A write that
// fails is logged once, as a warning, until a write succeeds again (logged too); mail is
// never affected.
//
// Thread-safety: Start and Stop are called by one thread.
#ifndef MAILJOURNAL_MILTER_METRICS_WRITER_H_
#define MAILJOURNAL_MILTER_METRICS_WRITER_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "mailjournal/status.h"

namespace mailjournal {

constexpr char kMetricsFileName[] = "mailjournald.prom";

class MetricsWriter {
 public:
  // `render` makes the file's text; it is called on the writer's thread.
  // REQUIRES: interval_s >= 1; render stays callable until Stop() returns.
  MetricsWriter(std::string dir, int interval_s, std::function<std::string()> render);
  ~MetricsWriter() { Stop(); }

  void Start();
  // Writes the file a last time and stops the thread. Idempotent.
  void Stop();

  // Renders and writes the file once, now.
  Status WriteOnce();
  std::string path() const { return dir_ + "/" + kMetricsFileName; }

 private:
  void Run();
  void WriteAndLog();

  const std::string dir_;
  const int interval_s_;
  const std::function<std::string()> render_;
  bool failing_ = false;  // the last write failed (and was logged); used by the thread
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_METRICS_WRITER_H_
