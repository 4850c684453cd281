// Metrics: mailjournald's counters, and what they say as Prometheus text (exposition format
// 0.0.4, node_exporter's textfile collector) and as the "daemon" member of `mailjournal
// status` (mailjournald(8), METRICS; mailjournal(8), status).
//
// The pieces: Histogram (fixed buckets) and RateWindow (events per second over the last
// 15 minutes) are lock-free, so the commit path pays a few atomic additions; MetricsText
// writes the text format; DaemonMetrics holds the daemon's counters and renders them with
// the figures sampled at that moment (DaemonFigures: the journal's size, tree and
// checkpoints).
//
// Thread-safety: every method of Histogram, RateWindow and DaemonMetrics may be called
// concurrently; a MetricsText is used by one thread.
#ifndef MAILJOURNAL_MILTER_METRICS_H_
#define MAILJOURNAL_MILTER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailjournal/journal_summary.h"
#include "mailjournal/status.h"
#include "tempfail_reason.h"

namespace mailjournal {

// Counts observations into buckets with fixed upper bounds (value <= bound), plus the
// implicit +Inf bucket, and keeps their sum.
class Histogram {
 public:
  // REQUIRES: bounds ascending and finite.
  explicit Histogram(std::vector<double> bounds);

  void Observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, observations <= it; then +Inf (= count)
    double sum = 0;
    uint64_t count = 0;
  };
  // The counts so far; count is the +Inf bucket. Taken while others observe, the sum may
  // include an observation made meanwhile that the buckets do not yet.
  Snapshot Take() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; +Inf last
  std::atomic<double> sum_{0};
};

// Counts events in one-second slots over the last kSeconds seconds, without a lock: each
// slot holds its second and its count in one 64-bit word.
class RateWindow {
 public:
  static constexpr int kSeconds = 900;

  // Counts n events at second now_s (seconds since the epoch).
  void Add(int64_t now_s, uint64_t n = 1);
  // The events counted in the `seconds` seconds up to and including now_s.
  // REQUIRES: 1 <= seconds <= kSeconds.
  uint64_t Count(int64_t now_s, int seconds) const;

 private:
  static constexpr int kCountBits = 24;  // counts saturate at 2^24 - 1 per second
  std::array<std::atomic<uint64_t>, kSeconds> slots_{};
};

// Label pairs (name, value) of one sample, in order.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A label value as the text format writes it between quotes: \ " and newline escaped.
std::string EscapeLabelValue(std::string_view value);
// A sample value: integers exactly (no exponent up to 2^53), "+Inf", "-Inf", "NaN".
std::string FormatMetricValue(double value);

// Writes metrics in the text format: each family's # HELP and # TYPE lines, then its
// samples.
class MetricsText {
 public:
  // Starts a family. type: "counter", "gauge" or "histogram". REQUIRES: each name once.
  void Family(const std::string& name, const char* type, const std::string& help);
  // One sample line; `name` is the family's, or for a histogram the family's with
  // "_bucket", "_sum" or "_count".
  void Sample(const std::string& name, const MetricLabels& labels, double value);
  // A histogram family with its buckets (le="..." up to "+Inf"), _sum and _count.
  void HistogramFamily(const std::string& name, const std::string& help,
                       const Histogram::Snapshot& snapshot);
  // A family of one sample without labels.
  void Single(const std::string& name, const char* type, const std::string& help, double value);

  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

// What the shipper (shipper.h) reports, when shipping to S3 is configured.
struct ShippingFigures {
  bool configured = false;
  uint64_t shipped_through = 0;            // entries 1..shipped_through are shipped
  int64_t last_ship_time_us = 0;           // the newest upload's ship entry (0: none)
  uint64_t backlog_entries = 0;            // entries after shipped_through
  std::map<std::string, uint64_t> errors;  // failed passes since start, by kind (shipper.h)
  std::string last_error;                  // "" : the last pass succeeded
  int64_t last_error_time_us = 0;
};

// What the daemon samples when it renders its metrics or answers status, besides its
// counters.
struct DaemonFigures {
  int64_t now_us = 0;
  bool journal_known = false;  // journal was read (else its figures are left out)
  JournalSummary journal;
  // The newest checkpoint whose off-host copy was written (or found in place);
  // offhost_tree_size 0 when none is known.
  uint64_t offhost_tree_size = 0;
  int64_t offhost_checkpoint_time_us = 0;
  ShippingFigures shipping;  // segments shipped to S3 (metrics only; status has its own part)
};

class DaemonMetrics {
 public:
  // Histogram bounds: commit latency in seconds, group sizes in commits per synced write.
  static const std::vector<double>& CommitSecondsBounds();
  static const std::vector<double>& GroupSizeBounds();

  DaemonMetrics(std::string version, int64_t start_time_us);

  // A message was committed durably: its captured bytes, its stored (sealed) bytes, the
  // time from end-of-message to the commit, whether its search postings were stored and
  // whether indexing met a problem (Session::index_note).
  void MessageCommitted(uint64_t bytes, uint64_t stored_bytes, double seconds, bool indexed,
                        bool index_incomplete, int64_t now_us);
  // Supervision of a committed message: whether lexicons flagged it, whether it was sampled
  // for review, and whether its lexicons could not be matched (Session::supervision_note).
  void Supervised(bool flagged, bool sampled, bool match_error);
  // A message out of the capture scope passed without being journaled.
  void OutOfScope() { out_of_scope_.fetch_add(1, std::memory_order_relaxed); }
  void Tempfailed(TempfailReason reason, int64_t now_us);
  // A synced group write of `commits` commits (JournalOptions::on_group_commit).
  void GroupCommitted(size_t commits) { group_sizes_.Observe(static_cast<double>(commits)); }
  // A policy load (at start or a reload), successful or refused.
  void PolicyLoaded(bool ok) { (ok ? policy_loads_ok_ : policy_loads_failed_)++; }
  // A verify request ran (proof_admin.h VerifyObserver): `checked` false when it could not
  // be made, else whether the journal is intact and, if not, why.
  void Verified(bool checked, bool intact, const std::string& problem, int64_t now_us);

  // The whole metrics file.
  std::string Render(const DaemonFigures& figures) const;
  // The "daemon" member of the status response (documented in mailjournal(8), status).
  nlohmann::json StatusJson(const DaemonFigures& figures) const;

 private:
  const std::string version_;
  const int64_t start_time_us_;
  std::atomic<uint64_t> messages_{0}, bytes_{0}, stored_bytes_{0};
  std::atomic<uint64_t> indexed_{0}, index_incomplete_{0};
  std::atomic<uint64_t> flagged_{0}, sampled_{0}, match_errors_{0};
  std::atomic<uint64_t> out_of_scope_{0};
  std::array<std::atomic<uint64_t>, kTempfailReasonCount> tempfails_{};
  std::atomic<uint64_t> policy_loads_ok_{0}, policy_loads_failed_{0};
  Histogram commit_seconds_{CommitSecondsBounds()};
  Histogram group_sizes_{GroupSizeBounds()};
  RateWindow committed_per_second_;

  mutable std::mutex mu_;                                          // for the rare events below
  int64_t last_tempfail_us_ = 0;                                   // GUARDED_BY(mu_)
  TempfailReason last_tempfail_ = TempfailReason::kInternalError;  // GUARDED_BY(mu_)
  int64_t last_verify_us_ = 0;  // GUARDED_BY(mu_); 0: no verify since start
  bool last_verify_checked_ = false, last_verify_intact_ = false;  // GUARDED_BY(mu_)
  std::string last_verify_problem_;                                // GUARDED_BY(mu_)
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_METRICS_H_
