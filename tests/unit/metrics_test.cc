#include "metrics.h"

#include <boost/test/unit_test.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "tempfail_reason.h"

namespace mailjournal {
namespace {

// The lines of `text` that are samples (not # comments).
std::vector<std::string> SampleLines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

// Checks the text format strictly: every line a HELP, a TYPE or a sample; a family's HELP
// then TYPE before its samples; names prefixed mailjournal_; label values quoted with only
// valid escapes; the text ends with a newline. Returns the first problem, or "".
std::string FormatProblem(const std::string& text) {
  static const std::regex help(R"(# HELP (mailjournal_[a-z0-9_]+) [^\n]*)");
  static const std::regex type(R"(# TYPE (mailjournal_[a-z0-9_]+) (counter|gauge|histogram))");
  static const std::regex sample(
      R"((mailjournal_[a-z0-9_]+)(\{([a-z_]+="([^"\\]|\\[\\"n])*")(,[a-z_]+="([^"\\]|\\[\\"n])*")*\})? )"
      R"((-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?|\+Inf|-Inf|NaN))");
  if (text.empty() || text.back() != '\n') return "does not end with a newline";
  std::istringstream in(text);
  std::string family, type_name;
  std::set<std::string> seen;
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, m, help)) {
      family = m[1];
      type_name.clear();
      if (!seen.insert(family).second) return "family twice: " + line;
    } else if (std::regex_match(line, m, type)) {
      if (m[1] != family) return "TYPE without its HELP: " + line;
      type_name = m[2];
    } else if (std::regex_match(line, m, sample)) {
      std::string name = m[1];
      bool ok = name == family;
      if (type_name == "histogram") {
        ok = name == family + "_bucket" || name == family + "_sum" || name == family + "_count";
      }
      if (!ok || type_name.empty()) return "sample outside its family: " + line;
    } else {
      return "not a metric line: " + line;
    }
  }
  return "";
}

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative_and_end_with_inf) {
  Histogram h({0.5, 1, 10});
  for (double v : {0.25, 0.5, 0.75, 1.0, 3.0, 50.0}) h.Observe(v);
  Histogram::Snapshot s = h.Take();
  // a value equal to a bound counts in that bound's bucket (le: less or equal)
  BOOST_TEST(s.cumulative == (std::vector<uint64_t>{2, 4, 5, 6}), boost::test_tools::per_element());
  BOOST_TEST(s.count == 6u);
  BOOST_TEST(s.sum == 55.5);
  MetricsText m;
  m.HistogramFamily("mailjournal_x_seconds", "Some time.", s);
  BOOST_TEST(m.text() ==
             "# HELP mailjournal_x_seconds Some time.\n"
             "# TYPE mailjournal_x_seconds histogram\n"
             "mailjournal_x_seconds_bucket{le=\"0.5\"} 2\n"
             "mailjournal_x_seconds_bucket{le=\"1\"} 4\n"
             "mailjournal_x_seconds_bucket{le=\"10\"} 5\n"
             "mailjournal_x_seconds_bucket{le=\"+Inf\"} 6\n"
             "mailjournal_x_seconds_sum 55.5\n"
             "mailjournal_x_seconds_count 6\n");
  BOOST_TEST(FormatProblem(m.text()) == "");
}

BOOST_AUTO_TEST_CASE(an_empty_histogram_has_zero_buckets_sum_and_count) {
  Histogram h({1, 2});
  MetricsText m;
  m.HistogramFamily("mailjournal_y", "Y.", h.Take());
  std::vector<std::string> lines = SampleLines(m.text());
  BOOST_TEST(lines == (std::vector<std::string>{"mailjournal_y_bucket{le=\"1\"} 0",
                                                "mailjournal_y_bucket{le=\"2\"} 0",
                                                "mailjournal_y_bucket{le=\"+Inf\"} 0",
                                                "mailjournal_y_sum 0", "mailjournal_y_count 0"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(label_values_and_help_are_escaped) {
  BOOST_TEST(EscapeLabelValue("plain") == "plain");
  BOOST_TEST(EscapeLabelValue("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  MetricsText m;
  m.Family("mailjournal_z", "gauge", "Help with a \\ and a\nnewline.");
  m.Sample("mailjournal_z", {{"path", "/x\"y\\z\n"}, {"kind", "k"}}, 3);
  BOOST_TEST(m.text() ==
             "# HELP mailjournal_z Help with a \\\\ and a\\nnewline.\n"
             "# TYPE mailjournal_z gauge\n"
             "mailjournal_z{path=\"/x\\\"y\\\\z\\n\",kind=\"k\"} 3\n");
  BOOST_TEST(FormatProblem(m.text()) == "");
}

BOOST_AUTO_TEST_CASE(values_are_exact_integers_or_shortest_decimals) {
  BOOST_TEST(FormatMetricValue(0) == "0");
  BOOST_TEST(FormatMetricValue(1795000000) == "1795000000");
  BOOST_TEST(FormatMetricValue(18446744073709.0) == "18446744073709");
  BOOST_TEST(FormatMetricValue(0.1) == "0.1");
  BOOST_TEST(FormatMetricValue(0.0025) == "0.0025");
  BOOST_TEST(FormatMetricValue(1795000000.123456) == "1795000000.123456");
  BOOST_TEST(FormatMetricValue(1e300) == "1e+300");
  BOOST_TEST(FormatMetricValue(1.0 / 0.0) == "+Inf");
  BOOST_TEST(FormatMetricValue(-1.0 / 0.0) == "-Inf");
  BOOST_TEST(FormatMetricValue(0.0 / 0.0) == "NaN");
}

BOOST_AUTO_TEST_CASE(rate_window_counts_the_last_seconds_only) {
  RateWindow w;
  const int64_t t = 1795000000;
  w.Add(t - 1000);  // older than the window; its slot is reused below
  w.Add(t - 100, 2);
  w.Add(t - 59);
  w.Add(t, 3);
  w.Add(t - 1000 + RateWindow::kSeconds);  // = t - 100: the same slot as t - 1000's
  BOOST_TEST(w.Count(t, 60) == 4u);        // t - 59 and t
  BOOST_TEST(w.Count(t, 1) == 3u);
  BOOST_TEST(w.Count(t, RateWindow::kSeconds) == 7u);
  BOOST_TEST(w.Count(t + RateWindow::kSeconds, RateWindow::kSeconds) == 0u);
  BOOST_TEST(w.Count(t - 60, 60) == 3u);  // t - 100 only: later ones are not counted yet
}

BOOST_AUTO_TEST_CASE(daemon_metrics_render_every_family_in_the_text_format) {
  const int64_t start = 1795000000000000;
  DaemonMetrics d("1.2.3", start);
  d.MessageCommitted(1000, 1500, 0.003, true, false, start + 1000000);
  d.MessageCommitted(24, 600, 0.02, false, true, start + 2000000);
  d.Supervised(true, true, false);
  d.Supervised(false, true, true);
  d.Tempfailed(TempfailReason::kDiskFull, start + 3000000);
  d.Tempfailed(TempfailReason::kDiskFull, start + 3000000);
  d.GroupCommitted(3);
  d.PolicyLoaded(true);
  d.PolicyLoaded(false);
  DaemonFigures f;
  f.now_us = start + 4000000;
  std::string text = d.Render(f);
  BOOST_TEST(FormatProblem(text) == "", text);
  std::vector<std::string> lines = SampleLines(text);
  auto has = [&lines](const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  };
  BOOST_TEST(has("mailjournal_build_info{version=\"1.2.3\"} 1"));
  BOOST_TEST(has("mailjournal_start_time_seconds 1795000000"));
  BOOST_TEST(has("mailjournal_messages_committed_total 2"));
  BOOST_TEST(has("mailjournal_message_bytes_committed_total 1024"));
  BOOST_TEST(has("mailjournal_stored_bytes_committed_total 2100"));
  BOOST_TEST(has("mailjournal_tempfails_total{reason=\"disk_full\"} 2"));
  BOOST_TEST(has("mailjournal_tempfails_total{reason=\"commit_failed\"} 0"));  // every reason
  BOOST_TEST(has("mailjournal_commit_duration_seconds_bucket{le=\"0.005\"} 1"));
  BOOST_TEST(has("mailjournal_commit_duration_seconds_bucket{le=\"0.025\"} 2"));
  BOOST_TEST(has("mailjournal_commit_duration_seconds_count 2"));
  BOOST_TEST(has("mailjournal_group_commit_size_bucket{le=\"2\"} 0"));
  BOOST_TEST(has("mailjournal_group_commit_size_bucket{le=\"4\"} 1"));
  BOOST_TEST(has("mailjournal_messages_indexed_total 1"));
  BOOST_TEST(has("mailjournal_messages_index_incomplete_total 1"));
  BOOST_TEST(has("mailjournal_supervision_flagged_total 1"));
  BOOST_TEST(has("mailjournal_supervision_sampled_total 2"));
  BOOST_TEST(has("mailjournal_supervision_match_errors_total 1"));
  BOOST_TEST(has("mailjournal_policy_loads_total{result=\"ok\"} 1"));
  BOOST_TEST(has("mailjournal_policy_loads_total{result=\"failed\"} 1"));
  size_t reasons = 0;
  for (const std::string& l : lines) reasons += l.rfind("mailjournal_tempfails_total{", 0) == 0;
  BOOST_TEST(reasons == kTempfailReasonCount);
  // Unknown figures are left out, not written as 0.
  for (const char* absent : {"mailjournal_journal_size_bytes", "mailjournal_tree_size",
                             "mailjournal_last_checkpoint_timestamp_seconds",
                             "mailjournal_last_offhost_checkpoint_timestamp_seconds",
                             "mailjournal_last_verify_success"}) {
    BOOST_TEST(text.find(absent) == std::string::npos, absent);
  }
  f.journal_known = true;
  f.journal.disk_bytes = 4096;
  f.journal.tree_size = 7;
  f.journal.checkpoint_seq = 7;
  f.journal.checkpoint_tree_size = 6;
  f.journal.checkpoint_time_us = start + 500000;
  f.offhost_tree_size = 6;
  f.offhost_checkpoint_time_us = start + 500000;
  d.Verified(true, false, "entry 5: leaf hash differs", start + 3500000);
  text = d.Render(f);
  BOOST_TEST(FormatProblem(text) == "", text);
  lines = SampleLines(text);
  BOOST_TEST(has("mailjournal_journal_size_bytes 4096"));
  BOOST_TEST(has("mailjournal_tree_size 7"));
  BOOST_TEST(has("mailjournal_last_checkpoint_timestamp_seconds 1795000000.5"));
  BOOST_TEST(has("mailjournal_last_checkpoint_tree_size 6"));
  BOOST_TEST(has("mailjournal_last_offhost_checkpoint_tree_size 6"));
  BOOST_TEST(has("mailjournal_last_verify_success 0"));
  BOOST_TEST(has("mailjournal_last_verify_timestamp_seconds 1795000003.5"));
  BOOST_TEST(text.find("mailjournal_ship_") == std::string::npos);  // shipping not configured
  f.shipping.configured = true;
  f.shipping.shipped_through = 40;
  f.shipping.last_ship_time_us = start + 2000000;
  f.shipping.backlog_entries = 3;
  f.shipping.errors["s3_unavailable"] = 4;
  text = d.Render(f);
  BOOST_TEST(FormatProblem(text) == "", text);
  lines = SampleLines(text);
  BOOST_TEST(has("mailjournal_ship_shipped_seq 40"));
  BOOST_TEST(has("mailjournal_ship_last_upload_timestamp_seconds 1795000002"));
  BOOST_TEST(has("mailjournal_ship_backlog_entries 3"));
  BOOST_TEST(has("mailjournal_ship_errors_total{kind=\"s3_unavailable\"} 4"));
  BOOST_TEST(has("mailjournal_ship_errors_total{kind=\"s3_refused\"} 0"));
}

BOOST_AUTO_TEST_CASE(status_json_reports_rates_tempfails_and_last_events) {
  const int64_t start = 1795000000000000;
  DaemonMetrics d("1.2.3", start);
  for (int i = 0; i < 5; ++i) d.MessageCommitted(10, 20, 0.001, false, false, start);
  d.MessageCommitted(10, 20, 0.001, false, false, start + 120000000);  // two minutes later
  d.Tempfailed(TempfailReason::kCommitFailed, start + 121000000);
  DaemonFigures f;
  f.now_us = start + 150000000;
  nlohmann::json j = d.StatusJson(f);
  BOOST_TEST(j["messages_committed"] == 6);
  BOOST_TEST(j["message_bytes_committed"] == 60);
  BOOST_TEST(j["messages_last_minute"] == 1);
  // 6 messages in the 151 seconds since the start: 2.4 a minute
  BOOST_TEST(j["messages_per_minute_15m"].get<double>() == 2.4, boost::test_tools::tolerance(0.01));
  // in the first seconds, over a minute all the same: one message is 1 a minute, not 60
  DaemonMetrics fresh("1.2.3", start);
  fresh.MessageCommitted(10, 20, 0.001, false, false, start);
  f.now_us = start + 1000000;
  BOOST_TEST(fresh.StatusJson(f)["messages_per_minute_15m"].get<double>() == 1.0);
  f.now_us = start + 150000000;
  BOOST_TEST(j["tempfails_total"] == 1);
  BOOST_TEST(j["tempfails"].size() == kTempfailReasonCount);
  BOOST_TEST(j["tempfails"]["commit_failed"] == 1);
  BOOST_TEST(j["last_tempfail"]["reason"] == "commit_failed");
  BOOST_TEST(j["last_tempfail"]["age_s"] == 29);
  BOOST_TEST(j["last_verify"].is_null());
  BOOST_TEST(j["last_offhost_copy"].is_null());
  d.Verified(false, false, "cannot read", start + 140000000);
  j = d.StatusJson(f);
  BOOST_TEST(j["last_verify"]["checked"] == false);
  BOOST_TEST(j["last_verify"]["intact"] == false);
  BOOST_TEST(j["last_verify"]["problem"] == "cannot read");
}

BOOST_AUTO_TEST_CASE(tempfail_reasons_have_distinct_stable_names) {
  std::set<std::string> names;
  for (size_t i = 0; i < kTempfailReasonCount; ++i) {
    names.insert(TempfailReasonName(static_cast<TempfailReason>(i)));
  }
  BOOST_TEST(names.size() == kTempfailReasonCount);
  BOOST_TEST(TempfailReasonName(TempfailReason::kCommitFailed) == std::string("commit_failed"));
  BOOST_TEST(TempfailReasonName(JournalFailureReason(
                 Status::IOError("journal: commit: IO error: 000005.log: No space left on device"),
                 TempfailReason::kCommitFailed)) == std::string("disk_full"));
  BOOST_TEST(TempfailReasonName(JournalFailureReason(Status::IOError("journal: commit: EIO"),
                                                     TempfailReason::kCommitFailed)) ==
             std::string("commit_failed"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
