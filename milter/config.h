// mailjournald's settings: defaults, the configuration file and the command line.
//
// Each setting has one name, used as `--name-with-dashes` on the command line and as
// `name_with_underscores = value` in the configuration file; command-line values win. The
// table DaemonSettings() is the one list of them: a new setting is a DaemonConfig member
// with its default and a row of the table (and a paragraph in mailjournald(8) and
// contrib/mailjournald.conf.example, which the unit tests and man_lint check).
#ifndef MAILJOURNAL_MILTER_CONFIG_H_
#define MAILJOURNAL_MILTER_CONFIG_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "mailjournal/s3_config.h"
#include "mailjournal/status.h"

namespace mailjournal {

constexpr char kDefaultConfigFile[] = "/etc/mailjournal/mailjournald.conf";

struct DaemonConfig {
  std::string journal = "/var/lib/mailjournal";
  std::string milter_socket = "unix:/var/spool/postfix/mailjournal/milter.sock";
  std::string admin_socket = "/run/mailjournal/admin.sock";
  std::string policy = "/etc/mailjournal/policy.yaml";
  std::string socket_mode = "0660";
  std::string user;  // required when started as root
  bool foreground = false;
  std::string signing_key;                 // checkpoint signing key file; "" : no checkpoints
  std::string checkpoint_interval = "60";  // seconds
  std::string checkpoint_dir;              // off-host copies of the checkpoints; "" : none
  std::string purge_interval = "0";        // seconds between scheduled purges; 0: none
  // The departments' search index keys (mailjournal/index_keys.h): outside the journal, so
  // that a copy of the journal alone cannot test guessed words against its index.
  std::string index_keys = "/etc/mailjournal/index-keys";
  // Journal each index key sealed to its department's and the escrow keys (index_key
  // entries), so that segments can be searched without this host; also on when shipping
  // is configured (IndexKeyEntriesWanted).
  bool index_key_entries = false;
  // Prometheus text-format metrics, rewritten every metrics_interval seconds as
  // METRICS_DIR/mailjournald.prom (node_exporter's textfile collector); "" : none.
  std::string metrics_dir;
  std::string metrics_interval = "15";  // seconds
  // The S3 bucket (with Object Lock) that sealed segments are shipped to, and how to reach
  // it (mailjournal/s3_config.h); shipping is on when s3_bucket is set. Each MTA ships under
  // its own s3_prefix ("" : the host name).
  std::string s3_endpoint;
  std::string s3_region;
  std::string s3_bucket;
  std::string s3_prefix;
  std::string s3_credentials = "/etc/mailjournal/s3-credentials";
  bool s3_path_style = true;
  std::string s3_ca_file;
  // Where the journal is cut into segments for shipping (mailjournal/segment.h SegmentCut):
  // after this many entries, or before the first entry this many seconds after the
  // segment's first.
  std::string segment_entries = "10000";
  std::string segment_seconds = "3600";
  std::string segment_bytes = "67108864";  // 64 MiB of stored message content

  // Derived by Validate().
  mode_t socket_mode_bits = 0660;
  int checkpoint_interval_s = 60;
  int purge_interval_s = 0;
  int metrics_interval_s = 15;
  uint64_t segment_entries_n = 10000;
  int64_t segment_seconds_n = 3600;
  uint64_t segment_bytes_n = 64ULL * 1024 * 1024;
  uid_t uid = 0;
  gid_t gid = 0;
  bool drop_privileges = false;
};

// One setting of the table below: its name, where DaemonConfig keeps its value, and what it
// is for (mailjournald --help). A setting is text (`text` set) or yes/no (`flag` set).
struct SettingInfo {
  const char* name;         // the configuration-file name, e.g. "checkpoint_dir"
  const char* description;  // one line
  std::string DaemonConfig::*text = nullptr;
  bool DaemonConfig::*flag = nullptr;
};

// Every setting, in the order of mailjournald(8), CONFIGURATION FILE. The one list the
// daemon's options, its configuration file and `mailjournal config` are made from.
const std::vector<SettingInfo>& DaemonSettings();

// The setting with this configuration-file name, or nullptr.
const SettingInfo* FindSetting(const std::string& name);

// The setting's value in `config` as the configuration file writes it ("yes"/"no" for
// flags).
std::string SettingValue(const SettingInfo& setting, const DaemonConfig& config);

// The command-line option of a setting: "--" and its name with '-' for '_'.
std::string SettingOption(const SettingInfo& setting);

// The settings whose value in `config` differs from the built-in default's, in table order
// (what `mailjournal config --changed` shows).
std::vector<const SettingInfo*> ChangedSettings(const DaemonConfig& config);

// Reads `key = value` lines ('#' starts a comment) into *config. Every problem is appended
// to *errors as "FILE:LINE: message".
void ReadConfigFile(const std::string& path, DaemonConfig* config,
                    std::vector<std::string>* errors);

// Sets a setting by its configuration-file name. InvalidArgument for an unknown name or a
// bad value.
Status SetConfigValue(const std::string& key, const std::string& value, DaemonConfig* config);

// Checks the settings as a whole and fills the derived fields. Every problem is appended to
// *errors.
void ValidateConfig(DaemonConfig* config, std::vector<std::string>* errors);

// Whether segments are shipped to S3 (s3_bucket is set).
bool ShippingConfigured(const DaemonConfig& config);
// Whether the daemon journals its index keys (index_key entries): index_key_entries set, or
// shipping configured (the segments leave the host and an auditor searches them).
bool IndexKeyEntriesWanted(const DaemonConfig& config);

// The S3 client configuration of the s3_* settings, with the keys read from s3_credentials
// (mailjournal/s3_config.h: LoadS3Credentials, then ValidateS3Config). The status names
// the setting or the file at fault.
Status MakeS3Config(const DaemonConfig& config, S3Config* s3);

// The prefix this MTA ships under: s3_prefix, or the host name when it is "".
std::string ShippingPrefix(const DaemonConfig& config);

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_CONFIG_H_
