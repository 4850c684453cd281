#include "status_text.h"

#include <cstdio>

namespace mailjournal {

using nlohmann::json;

namespace {

constexpr int kWidth = 14;

std::string Text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// "1.2 MB" for a byte count (decimal units), "512 B" below a kilobyte.
std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1000 && unit < 5) {
    v /= 1000;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", v, units[unit]);
  return buf;
}

// "35 s", "12 min", "3 h", "2 d" ago.
std::string Ago(const json& age_s) {
  if (!age_s.is_number_integer()) return "";
  int64_t s = age_s.get<int64_t>();
  char buf[48];
  if (s < 120) {
    std::snprintf(buf, sizeof buf, " (%lld s ago)", static_cast<long long>(s));
  } else if (s < 7200) {
    std::snprintf(buf, sizeof buf, " (%lld min ago)", static_cast<long long>(s / 60));
  } else if (s < 172800) {
    std::snprintf(buf, sizeof buf, " (%lld h ago)", static_cast<long long>(s / 3600));
  } else {
    std::snprintf(buf, sizeof buf, " (%lld d ago)", static_cast<long long>(s / 86400));
  }
  return buf;
}

void Line(std::string* out, const char* name, const std::string& value) {
  char head[64];
  std::snprintf(head, sizeof head, "%-*s ", kWidth, (std::string(name) + ":").c_str());
  *out += head + value + "\n";
}

// `uptime_s`: the daemon's, to say over how long the rate is.
void DaemonLines(const json& d, int64_t uptime_s, std::string* out) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s in the last minute, %s per minute %s; %s since start (%s)",
                Text(d.value("messages_last_minute", json(0))).c_str(),
                Text(d.value("messages_per_minute_15m", json(0))).c_str(),
                uptime_s >= 900 ? "over 15 minutes" : "since start",
                Text(d.value("messages_committed", json(0))).c_str(),
                HumanBytes(d.value("message_bytes_committed", uint64_t{0})).c_str());
  Line(out, "messages", buf);
  std::string tempfails = Text(d.value("tempfails_total", json(0))) + " since start";
  std::string reasons;
  json counts = d.value("tempfails", json::object());
  for (const auto& [reason, n] : counts.items()) {
    if (n.is_number() && n.get<uint64_t>() > 0) {
      reasons += (reasons.empty() ? "" : ", ") + reason + " " + Text(n);
    }
  }
  if (!reasons.empty()) tempfails += " (" + reasons + ")";
  json last = d.value("last_tempfail", json());
  if (last.is_object()) {
    tempfails += "; last " + Text(last["time"]) + Ago(last["age_s"]) + ": " + Text(last["reason"]);
  }
  Line(out, "tempfails", tempfails);
  json loads = d.value("policy_loads", json::object());
  Line(out, "policy_loads",
       Text(loads.value("ok", json(0))) + " ok, " + Text(loads.value("failed", json(0))) +
           " failed");
  if (d.contains("capture")) {
    uint64_t out_of_scope = d.value("messages_out_of_scope", uint64_t{0});
    Line(out, "capture",
         Text(d["capture"]) +
             (Text(d["capture"]) == "all"
                  ? ""
                  : "; " + std::to_string(out_of_scope) + " messages out of scope since start"));
  }
  Line(out, "search_index",
       Text(d.value("messages_indexed", json(0))) + " indexed, " +
           Text(d.value("messages_index_incomplete", json(0))) + " incomplete");
  json copy = d.value("last_offhost_copy", json());
  Line(out, "offhost_copy",
       copy.is_object() ? "tree_size " + Text(copy["tree_size"]) + ", checkpoint of " +
                              Text(copy["checkpoint_time"]) + Ago(copy["age_s"])
                        : "none");
  json verify = d.value("last_verify", json());
  std::string v = "none since the daemon started";
  if (verify.is_object()) {
    v = Text(verify["time"]) + Ago(verify["age_s"]) + ": ";
    if (!verify.value("checked", false)) {
      v += "could not check: " + Text(verify["problem"]);
    } else if (verify.value("intact", false)) {
      v += "intact";
    } else {
      v += "NOT INTACT: " + Text(verify["problem"]);
    }
  }
  Line(out, "last_verify", v);
}

// The "shipping" part: segments shipped to S3 (mailjournald(8), SHIPPING TO S3).
void ShippingLines(const json& sh, std::string* out) {
  json object = sh.value("last_object", json());
  Line(out, "shipping",
       "bucket " + Text(sh["bucket"]) + ", prefix " + Text(sh["prefix"]) + "; entries 1-" +
           Text(sh["shipped_through"]) + " shipped" +
           (object.is_string() ? ", last " + Text(object) + " at " + Text(sh["last_ship_time"])
                               : std::string(", nothing yet")));
  Line(out, "ship_backlog", Text(sh["backlog_entries"]) + " entries");
  json error = sh.value("last_error", json());
  if (error.is_string()) {
    Line(out, "ship_error",
         Text(sh["last_error_time"]) + ": " + Text(error) + "; next retry " +
             Text(sh.value("next_retry", json("-"))));
  }
}

}  // namespace

std::string StatusText(const json& st) {
  std::string out;
  for (const char* name :
       {"mode", "journal", "last_seq", "pid", "version", "started", "uptime_s", "tree_size"}) {
    if (st.contains(name)) Line(&out, name, Text(st[name]));
  }
  json bytes = st.value("journal_bytes", json());
  if (bytes.is_number()) {
    Line(&out, "journal_bytes", Text(bytes) + " (" + HumanBytes(bytes.get<uint64_t>()) + ")");
  }
  json policy = st.value("policy", json());
  Line(&out, "policy",
       policy.is_object()
           ? "digest " + Text(policy["digest"]) + ", seq " + Text(policy["seq"]) + ", loaded " +
                 Text(policy["loaded"]) + " (" + Text(policy["reason"]) + ")"
           : "none");
  json cp = st.value("last_checkpoint", json());
  Line(&out, "checkpoint",
       cp.is_object() ? "seq " + Text(cp["seq"]) + ", tree_size " + Text(cp["tree_size"]) + ", " +
                            Text(cp["time"]) + Ago(cp["age_s"])
                      : "none");
  json daemon = st.value("daemon", json());
  if (daemon.is_object()) {
    DaemonLines(daemon, st.value("uptime_s", int64_t{0}), &out);
  } else {
    Line(&out, "daemon",
         "figures unavailable (the journal was opened directly; messages per minute, tempfails, "
         "off-host copies and the last verify are known to the running daemon only)");
  }
  json shipping = st.value("shipping", json());
  if (shipping.is_object()) ShippingLines(shipping, &out);
  json problems = st.value("problems", json::array());
  for (const json& p : problems) Line(&out, "problem", Text(p));
  return out;
}

}  // namespace mailjournal
