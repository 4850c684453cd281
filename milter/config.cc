#include "config.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace mailjournal {

namespace {

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

bool ParseBool(const std::string& v, bool* out) {
  if (v == "yes" || v == "true" || v == "1") {
    *out = true;
  } else if (v == "no" || v == "false" || v == "0") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

bool ValidSocketSpec(const std::string& spec) {
  for (const char* prefix : {"unix:", "local:", "inet:", "inet6:"}) {
    std::string p(prefix);
    if (spec.compare(0, p.size(), p) == 0 && spec.size() > p.size()) return true;
  }
  return false;
}

// A decimal number from 1 to max.
bool ParseCount(const std::string& text, int64_t max, int64_t* n) {
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *n = std::stoll(text);
  return *n >= 1 && *n <= max;
}

}  // namespace

const std::vector<SettingInfo>& DaemonSettings() {
  using C = DaemonConfig;
  static const std::vector<SettingInfo> settings = {
      {"journal", "the journal directory", &C::journal},
      {"milter_socket", "where the MTA connects (unix:/path or inet:PORT@ADDRESS)",
       &C::milter_socket},
      {"admin_socket", "the admin socket mailjournal(8) talks to", &C::admin_socket},
      {"policy", "the policy file (mailjournal.yaml(5))", &C::policy},
      {"socket_mode", "permissions of both sockets, octal", &C::socket_mode},
      {"user", "the unprivileged user to run as (required when started as root)", &C::user},
      {"foreground", "log to standard error instead of syslog", nullptr, &C::foreground},
      {"signing_key", "the checkpoint signing key file (none: no checkpoints)", &C::signing_key},
      {"checkpoint_interval", "seconds between checkpoints", &C::checkpoint_interval},
      {"checkpoint_dir", "directory for off-host copies of the checkpoints", &C::checkpoint_dir},
      {"purge_interval", "seconds between scheduled purges (0: none)", &C::purge_interval},
      {"index_keys", "directory of the departments' search index keys", &C::index_keys},
      {"index_key_entries",
       "journal the index keys sealed to the officers' keys (also on when shipping)", nullptr,
       &C::index_key_entries},
      {"metrics_dir", "directory for Prometheus metrics (mailjournald.prom; none: off)",
       &C::metrics_dir},
      {"metrics_interval", "seconds between metrics updates", &C::metrics_interval},
      {"s3_endpoint", "the S3 service segments are shipped to (http[s]://HOST[:PORT])",
       &C::s3_endpoint},
      {"s3_region", "the S3 signing region", &C::s3_region},
      {"s3_bucket", "the Object Lock bucket for segments (none: no shipping)", &C::s3_bucket},
      {"s3_prefix", "this MTA's prefix in the bucket (none: the host name)", &C::s3_prefix},
      {"s3_credentials", "file with the S3 access and secret key (owner-only)", &C::s3_credentials},
      {"s3_path_style", "path-style S3 addressing (no: virtual-hosted)", nullptr,
       &C::s3_path_style},
      {"s3_ca_file", "CA certificates for an https S3 endpoint (none: the system's)",
       &C::s3_ca_file},
      {"segment_entries", "entries per shipped segment (at most)", &C::segment_entries},
      {"segment_seconds", "seconds of entries per shipped segment (at most)", &C::segment_seconds},
      {"segment_bytes", "bytes of stored message content per shipped segment (at most)",
       &C::segment_bytes},
  };
  return settings;
}

const SettingInfo* FindSetting(const std::string& name) {
  for (const SettingInfo& setting : DaemonSettings()) {
    if (name == setting.name) return &setting;
  }
  return nullptr;
}

std::string SettingValue(const SettingInfo& setting, const DaemonConfig& config) {
  if (setting.flag != nullptr) return config.*setting.flag ? "yes" : "no";
  return config.*setting.text;
}

std::string SettingOption(const SettingInfo& setting) {
  std::string option = std::string("--") + setting.name;
  std::replace(option.begin(), option.end(), '_', '-');
  return option;
}

std::vector<const SettingInfo*> ChangedSettings(const DaemonConfig& config) {
  const DaemonConfig defaults;
  std::vector<const SettingInfo*> changed;
  for (const SettingInfo& setting : DaemonSettings()) {
    if (SettingValue(setting, config) != SettingValue(setting, defaults)) {
      changed.push_back(&setting);
    }
  }
  return changed;
}

Status SetConfigValue(const std::string& key, const std::string& value, DaemonConfig* config) {
  const SettingInfo* setting = FindSetting(key);
  if (setting == nullptr) return Status::InvalidArgument("unknown setting '" + key + "'");
  if (setting->flag == nullptr) {
    config->*setting->text = value;
  } else if (!ParseBool(value, &(config->*setting->flag))) {
    return Status::InvalidArgument(key + ": expected yes or no, not '" + value + "'");
  }
  return Status::OK();
}

void ReadConfigFile(const std::string& path, DaemonConfig* config,
                    std::vector<std::string>* errors) {
  std::ifstream in(path);
  if (!in) {
    errors->push_back(path + ": cannot read the configuration file");
    return;
  }
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    line = Trim(line);
    if (line.empty()) continue;
    size_t eq = line.find('=');
    std::string where = path + ":" + std::to_string(number) + ": ";
    if (eq == std::string::npos) {
      errors->push_back(where + "expected 'name = value'");
      continue;
    }
    Status s = SetConfigValue(Trim(line.substr(0, eq)), Trim(line.substr(eq + 1)), config);
    if (!s.ok()) errors->push_back(where + s.message());
  }
}

void ValidateConfig(DaemonConfig* config, std::vector<std::string>* errors) {
  if (config->journal.empty() || config->journal[0] != '/') {
    errors->push_back("journal: '" + config->journal + "' must be an absolute path");
  }
  if (!ValidSocketSpec(config->milter_socket)) {
    errors->push_back("milter_socket: '" + config->milter_socket +
                      "' is not a libmilter socket (unix:/path or inet:PORT@ADDRESS)");
  }
  if (config->policy.empty() || config->policy[0] != '/') {
    errors->push_back("policy: '" + config->policy + "' must be an absolute path");
  }
  if (config->admin_socket.empty() || config->admin_socket[0] != '/') {
    errors->push_back("admin_socket: '" + config->admin_socket + "' must be an absolute path");
  }
  if (config->index_keys.empty()) {
    errors->push_back("index_keys: must name a directory (the search index keys)");
  }
  for (const auto& [name, path] : {std::make_pair("signing_key", &config->signing_key),
                                   std::make_pair("checkpoint_dir", &config->checkpoint_dir),
                                   std::make_pair("index_keys", &config->index_keys),
                                   std::make_pair("metrics_dir", &config->metrics_dir),
                                   std::make_pair("s3_credentials", &config->s3_credentials),
                                   std::make_pair("s3_ca_file", &config->s3_ca_file)}) {
    if (!path->empty() && (*path)[0] != '/') {
      errors->push_back(std::string(name) + ": '" + *path + "' must be an absolute path");
    }
  }
  if (!config->checkpoint_dir.empty() && config->signing_key.empty()) {
    errors->push_back("checkpoint_dir: set signing_key too (checkpoints are signed)");
  }
  if (ShippingConfigured(*config)) {
    S3Config s3;
    s3.endpoint = config->s3_endpoint;
    s3.region = config->s3_region;
    s3.bucket = config->s3_bucket;
    s3.access_key = s3.secret_key = "checked when read";
    Status s = ValidateS3Config(s3);
    if (!s.ok()) errors->push_back("s3 settings: " + s.message());
    if (config->signing_key.empty()) {
      errors->push_back("s3_bucket: set signing_key too (segments need signed checkpoints)");
    }
    std::string prefix = ShippingPrefix(*config);
    if (prefix.empty() || prefix.find_first_of("/\\") != std::string::npos || prefix[0] == '.') {
      errors->push_back("s3_prefix: '" + prefix +
                        "' must be one path segment (no '/'), not starting with '.'");
    }
  }
  const std::string& ci = config->checkpoint_interval;
  if (ci.empty() || ci.size() > 6 || ci.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(ci) < 1) {
    errors->push_back("checkpoint_interval: '" + ci + "' is not a number of seconds from 1");
  } else {
    config->checkpoint_interval_s = std::stoi(ci);
  }
  const std::string& pi = config->purge_interval;
  if (pi.empty() || pi.size() > 8 || pi.find_first_not_of("0123456789") != std::string::npos) {
    errors->push_back("purge_interval: '" + pi + "' is not a number of seconds (0: never)");
  } else {
    config->purge_interval_s = std::stoi(pi);
  }
  const std::string& mi = config->metrics_interval;
  if (mi.empty() || mi.size() > 6 || mi.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(mi) < 1) {
    errors->push_back("metrics_interval: '" + mi + "' is not a number of seconds from 1");
  } else {
    config->metrics_interval_s = std::stoi(mi);
  }
  int64_t n = 0;
  if (ParseCount(config->segment_entries, 1000000000, &n)) {
    config->segment_entries_n = static_cast<uint64_t>(n);
  } else {
    errors->push_back("segment_entries: '" + config->segment_entries +
                      "' is not a number of entries from 1 to 1000000000");
  }
  if (ParseCount(config->segment_seconds, 100000000, &n)) {
    config->segment_seconds_n = n;
  } else {
    errors->push_back("segment_seconds: '" + config->segment_seconds +
                      "' is not a number of seconds from 1 to 100000000");
  }
  if (ParseCount(config->segment_bytes, 1LL << 40, &n)) {
    config->segment_bytes_n = static_cast<uint64_t>(n);
  } else {
    errors->push_back("segment_bytes: '" + config->segment_bytes +
                      "' is not a number of bytes from 1 to 1099511627776");
  }
  const std::string& m = config->socket_mode;
  if (m.empty() || m.size() > 4 || m.find_first_not_of("01234567") != std::string::npos) {
    errors->push_back("socket_mode: '" + m + "' is not an octal mode such as 0660");
  } else {
    config->socket_mode_bits = static_cast<mode_t>(std::stoul(m, nullptr, 8));
  }
  if (!config->user.empty()) {
    struct passwd* pw = getpwnam(config->user.c_str());
    if (pw == nullptr) {
      errors->push_back("user: no such user '" + config->user + "'");
    } else if (pw->pw_uid == 0) {
      errors->push_back("user: '" + config->user + "' is root; name an unprivileged user");
    } else {
      config->uid = pw->pw_uid;
      config->gid = pw->pw_gid;
      config->drop_privileges = geteuid() == 0;
      if (geteuid() != 0 && geteuid() != pw->pw_uid) {
        errors->push_back("user: cannot become '" + config->user + "' without root privileges");
      }
    }
  } else if (geteuid() == 0) {
    errors->push_back(
        "user: mailjournald does not run as root; set user (e.g. --user mailjournal)");
  }
}

bool ShippingConfigured(const DaemonConfig& config) { return !config.s3_bucket.empty(); }

bool IndexKeyEntriesWanted(const DaemonConfig& config) {
  return config.index_key_entries || ShippingConfigured(config);
}

Status MakeS3Config(const DaemonConfig& config, S3Config* s3) {
  S3Config made;
  made.endpoint = config.s3_endpoint;
  made.region = config.s3_region;
  made.bucket = config.s3_bucket;
  made.path_style = config.s3_path_style;
  made.ca_file = config.s3_ca_file;
  Status s = LoadS3Credentials(config.s3_credentials, &made);
  if (!s.ok()) return Status::FromCode(s.code(), "s3_credentials: " + s.message());
  s = ValidateS3Config(made);
  if (!s.ok()) return Status::FromCode(s.code(), "s3 settings: " + s.message());
  *s3 = std::move(made);
  return Status::OK();
}

std::string ShippingPrefix(const DaemonConfig& config) {
  if (!config.s3_prefix.empty()) return config.s3_prefix;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "";
  return host;
}

}  // namespace mailjournal
