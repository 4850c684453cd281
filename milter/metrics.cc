#include "metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "mailjournal/time_util.h"

namespace mailjournal {

using nlohmann::json;

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double value) {
  size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  double sum = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(sum, sum + value, std::memory_order_relaxed)) {
  }
  counts_[bucket].fetch_add(1, std::memory_order_release);
}

Histogram::Snapshot Histogram::Take() const {
  Snapshot s;
  s.bounds = bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_acquire);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

void RateWindow::Add(int64_t now_s, uint64_t n) {
  constexpr uint64_t kMaxCount = (uint64_t{1} << kCountBits) - 1;
  std::atomic<uint64_t>& slot = slots_[static_cast<uint64_t>(now_s) % kSeconds];
  uint64_t second = static_cast<uint64_t>(now_s);
  uint64_t old = slot.load(std::memory_order_relaxed);
  uint64_t next;
  do {
    uint64_t count = (old >> kCountBits) == second ? (old & kMaxCount) : 0;
    next = (second << kCountBits) | std::min(kMaxCount, count + n);
  } while (!slot.compare_exchange_weak(old, next, std::memory_order_relaxed));
}

uint64_t RateWindow::Count(int64_t now_s, int seconds) const {
  uint64_t total = 0;
  for (const std::atomic<uint64_t>& slot : slots_) {
    uint64_t v = slot.load(std::memory_order_relaxed);
    int64_t second = static_cast<int64_t>(v >> kCountBits);
    if (v != 0 && second <= now_s && second > now_s - seconds) {
      total += v & ((uint64_t{1} << kCountBits) - 1);
    }
  }
  return total;
}

namespace {

// Backslash and newline escaped, and double quotes too when `quotes`.
std::string Escape(std::string_view text, bool quotes) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) { return Escape(value, true); }

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
    return buf;
  }
  // The shortest form that reads back as the same double.
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, value);
    if (std::strtod(buf, nullptr) == value) break;
  }
  return buf;
}

namespace {

// HELP text: backslash and newline escaped.
std::string EscapeHelp(std::string_view help) { return Escape(help, false); }

}  // namespace

void MetricsText::Family(const std::string& name, const char* type, const std::string& help) {
  out_ += "# HELP " + name + " " + EscapeHelp(help) + "\n";
  out_ += "# TYPE " + name + " " + type + "\n";
}

void MetricsText::Sample(const std::string& name, const MetricLabels& labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += "{";
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out_ += ",";
      out_ += labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
    }
    out_ += "}";
  }
  out_ += " " + FormatMetricValue(value) + "\n";
}

void MetricsText::HistogramFamily(const std::string& name, const std::string& help,
                                  const Histogram::Snapshot& snapshot) {
  Family(name, "histogram", help);
  for (size_t i = 0; i < snapshot.bounds.size(); ++i) {
    Sample(name + "_bucket", {{"le", FormatMetricValue(snapshot.bounds[i])}},
           static_cast<double>(snapshot.cumulative[i]));
  }
  Sample(name + "_bucket", {{"le", "+Inf"}}, static_cast<double>(snapshot.count));
  Sample(name + "_sum", {}, snapshot.sum);
  Sample(name + "_count", {}, static_cast<double>(snapshot.count));
}

void MetricsText::Single(const std::string& name, const char* type, const std::string& help,
                         double value) {
  Family(name, type, help);
  Sample(name, {}, value);
}

const std::vector<double>& DaemonMetrics::CommitSecondsBounds() {
  static const std::vector<double> bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,    1,     2.5,  5,     10};
  return bounds;
}

const std::vector<double>& DaemonMetrics::GroupSizeBounds() {
  static const std::vector<double> bounds = {1, 2, 4, 8, 16, 32, 64, 128, 256};
  return bounds;
}

DaemonMetrics::DaemonMetrics(std::string version, int64_t start_time_us)
    : version_(std::move(version)), start_time_us_(start_time_us) {
  for (auto& t : tempfails_) t.store(0);
}

void DaemonMetrics::MessageCommitted(uint64_t bytes, uint64_t stored_bytes, double seconds,
                                     bool indexed, bool index_incomplete, int64_t now_us) {
  messages_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
  stored_bytes_.fetch_add(stored_bytes, std::memory_order_relaxed);
  if (indexed) indexed_.fetch_add(1, std::memory_order_relaxed);
  if (index_incomplete) index_incomplete_.fetch_add(1, std::memory_order_relaxed);
  commit_seconds_.Observe(seconds);
  committed_per_second_.Add(now_us / 1000000);
}

void DaemonMetrics::Supervised(bool flagged, bool sampled, bool match_error) {
  if (flagged) flagged_.fetch_add(1, std::memory_order_relaxed);
  if (sampled) sampled_.fetch_add(1, std::memory_order_relaxed);
  if (match_error) match_errors_.fetch_add(1, std::memory_order_relaxed);
}

void DaemonMetrics::Tempfailed(TempfailReason reason, int64_t now_us) {
  tempfails_[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> l(mu_);
  last_tempfail_us_ = now_us;
  last_tempfail_ = reason;
}

void DaemonMetrics::Verified(bool checked, bool intact, const std::string& problem,
                             int64_t now_us) {
  std::lock_guard<std::mutex> l(mu_);
  last_verify_us_ = now_us;
  last_verify_checked_ = checked;
  last_verify_intact_ = checked && intact;
  last_verify_problem_ = problem;
}

std::string DaemonMetrics::Render(const DaemonFigures& f) const {
  auto seconds = [](int64_t us) { return static_cast<double>(us) / 1e6; };
  auto count = [](const std::atomic<uint64_t>& c) {
    return static_cast<double>(c.load(std::memory_order_relaxed));
  };
  MetricsText m;
  m.Family("mailjournal_build_info", "gauge", "Always 1; the label names the daemon's version.");
  m.Sample("mailjournal_build_info", {{"version", version_}}, 1);
  m.Single("mailjournal_start_time_seconds", "gauge", "When the daemon started (Unix time).",
           seconds(start_time_us_));
  m.Single("mailjournal_messages_committed_total", "counter",
           "Messages committed durably to the journal since the daemon started.", count(messages_));
  m.Single("mailjournal_message_bytes_committed_total", "counter",
           "Bytes of the messages committed, as captured (before sealing).", count(bytes_));
  m.Single("mailjournal_stored_bytes_committed_total", "counter",
           "Bytes of the messages committed, as stored (sealed).", count(stored_bytes_));
  m.Single("mailjournal_messages_out_of_scope_total", "counter",
           "Messages out of the policy's capture scope, passed without being journaled.",
           count(out_of_scope_));
  m.Family("mailjournal_tempfails_total", "counter",
           "Messages or connections answered 451 4.3.0 (tempfail), by reason.");
  for (size_t i = 0; i < kTempfailReasonCount; ++i) {
    m.Sample("mailjournal_tempfails_total",
             {{"reason", TempfailReasonName(static_cast<TempfailReason>(i))}},
             count(tempfails_[i]));
  }
  m.HistogramFamily("mailjournal_commit_duration_seconds",
                    "Time from end-of-message to the message's durable commit.",
                    commit_seconds_.Take());
  m.HistogramFamily("mailjournal_group_commit_size",
                    "Commits (messages and other entries) written by one synced group write.",
                    group_sizes_.Take());
  m.Single("mailjournal_messages_indexed_total", "counter",
           "Messages committed with search postings.", count(indexed_));
  m.Single("mailjournal_messages_index_incomplete_total", "counter",
           "Messages committed whose search indexing met a problem (not or partly indexed).",
           count(index_incomplete_));
  m.Single("mailjournal_supervision_flagged_total", "counter",
           "Messages committed with at least one lexicon flag.", count(flagged_));
  m.Single("mailjournal_supervision_sampled_total", "counter",
           "Messages committed as sampled for review.", count(sampled_));
  m.Single("mailjournal_supervision_match_errors_total", "counter",
           "Messages committed unflagged because their lexicons could not be matched.",
           count(match_errors_));
  m.Family("mailjournal_policy_loads_total", "counter",
           "Policy loads (at start and reloads), by result: ok or failed (the running policy "
           "stayed).");
  m.Sample("mailjournal_policy_loads_total", {{"result", "ok"}}, count(policy_loads_ok_));
  m.Sample("mailjournal_policy_loads_total", {{"result", "failed"}}, count(policy_loads_failed_));
  if (f.journal_known) {
    m.Single("mailjournal_journal_size_bytes", "gauge",
             "Bytes of the files in the journal directory.",
             static_cast<double>(f.journal.disk_bytes));
    m.Single("mailjournal_tree_size", "gauge",
             "Entries in the journal's Merkle tree (its last sequence number).",
             static_cast<double>(f.journal.tree_size));
    if (f.journal.checkpoint_seq != 0) {
      m.Single("mailjournal_last_checkpoint_timestamp_seconds", "gauge",
               "Commit time of the journal's newest checkpoint entry (Unix time).",
               seconds(f.journal.checkpoint_time_us));
      m.Single("mailjournal_last_checkpoint_tree_size", "gauge",
               "Tree size signed by the journal's newest checkpoint.",
               static_cast<double>(f.journal.checkpoint_tree_size));
    }
  }
  if (f.offhost_tree_size != 0) {
    m.Single("mailjournal_last_offhost_checkpoint_timestamp_seconds", "gauge",
             "Commit time of the newest checkpoint whose off-host copy is written (Unix time).",
             seconds(f.offhost_checkpoint_time_us));
    m.Single("mailjournal_last_offhost_checkpoint_tree_size", "gauge",
             "Tree size of the newest checkpoint whose off-host copy is written.",
             static_cast<double>(f.offhost_tree_size));
  }
  const ShippingFigures& ship = f.shipping;
  if (ship.configured) {
    m.Single("mailjournal_ship_shipped_seq", "gauge",
             "Entries 1 to this one are shipped to the S3 bucket as sealed segments.",
             static_cast<double>(ship.shipped_through));
    if (ship.last_ship_time_us != 0) {
      m.Single("mailjournal_ship_last_upload_timestamp_seconds", "gauge",
               "When the newest segment upload to S3 was recorded (Unix time).",
               seconds(ship.last_ship_time_us));
    }
    m.Single("mailjournal_ship_backlog_entries", "gauge", "Journal entries not yet shipped to S3.",
             static_cast<double>(ship.backlog_entries));
    m.Family("mailjournal_ship_errors_total", "counter",
             "Failed shipping passes since the daemon started, by kind: s3_unavailable "
             "(transient), s3_refused, s3_other, journal.");
    for (const char* kind : {"s3_unavailable", "s3_refused", "s3_other", "journal"}) {
      auto it = ship.errors.find(kind);
      m.Sample("mailjournal_ship_errors_total", {{"kind", kind}},
               it == ship.errors.end() ? 0 : static_cast<double>(it->second));
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  if (last_verify_us_ != 0) {
    m.Single("mailjournal_last_verify_success", "gauge",
             "1 when the last verify run through the daemon found the journal intact, else 0.",
             last_verify_intact_ ? 1 : 0);
    m.Single("mailjournal_last_verify_timestamp_seconds", "gauge",
             "When the last verify run through the daemon ended (Unix time).",
             seconds(last_verify_us_));
  }
  return m.text();
}

json DaemonMetrics::StatusJson(const DaemonFigures& f) const {
  auto count = [](const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  auto age = [&f](int64_t us) { return (f.now_us - us) / 1000000; };
  int64_t now_s = f.now_us / 1000000;
  // Per minute over the last 15 minutes, or since the start when that is shorter, but over
  // a minute at least (a few seconds would extrapolate one message to a high rate).
  int64_t up_s = now_s - start_time_us_ / 1000000 + 1;
  int window_s = static_cast<int>(std::clamp<int64_t>(up_s, 60, RateWindow::kSeconds));
  double per_minute_15 =
      static_cast<double>(committed_per_second_.Count(now_s, window_s)) * 60.0 / window_s;
  json tempfails = json::object();
  uint64_t tempfails_total = 0;
  for (size_t i = 0; i < kTempfailReasonCount; ++i) {
    tempfails[TempfailReasonName(static_cast<TempfailReason>(i))] = count(tempfails_[i]);
    tempfails_total += count(tempfails_[i]);
  }
  json d{
      {"messages_committed", count(messages_)},
      {"message_bytes_committed", count(bytes_)},
      {"stored_bytes_committed", count(stored_bytes_)},
      {"messages_last_minute", committed_per_second_.Count(now_s, 60)},
      {"messages_per_minute_15m", std::round(per_minute_15 * 10) / 10},
      {"tempfails_total", tempfails_total},
      {"tempfails", tempfails},
      {"messages_indexed", count(indexed_)},
      {"messages_index_incomplete", count(index_incomplete_)},
      {"messages_out_of_scope", count(out_of_scope_)},
      {"policy_loads", {{"ok", count(policy_loads_ok_)}, {"failed", count(policy_loads_failed_)}}},
      {"last_offhost_copy", json()},
      {"last_tempfail", json()},
      {"last_verify", json()}};
  if (f.offhost_tree_size != 0) {
    d["last_offhost_copy"] = {{"tree_size", f.offhost_tree_size},
                              {"checkpoint_time", FormatTimeUtc(f.offhost_checkpoint_time_us)},
                              {"age_s", age(f.offhost_checkpoint_time_us)}};
  }
  std::lock_guard<std::mutex> l(mu_);
  if (last_tempfail_us_ != 0) {
    d["last_tempfail"] = {{"time", FormatTimeUtc(last_tempfail_us_)},
                          {"age_s", age(last_tempfail_us_)},
                          {"reason", TempfailReasonName(last_tempfail_)}};
  }
  if (last_verify_us_ != 0) {
    d["last_verify"] = {{"time", FormatTimeUtc(last_verify_us_)},
                        {"age_s", age(last_verify_us_)},
                        {"checked", last_verify_checked_},
                        {"intact", last_verify_intact_},
                        {"problem", last_verify_problem_}};
  }
  return d;
}

}  // namespace mailjournal
