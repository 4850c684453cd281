// mailjournald's settings table (milter/config.h) and the checks of mailjournald -n
// (milter/config_check.h).
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "config.h"
#include "config_check.h"
#include "keygen.h"
#include "test_util.h"

namespace mailjournal {
namespace {

void WriteText(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  BOOST_REQUIRE_EQUAL(chmod(path.c_str(), mode), 0);
}

bool Contains(const std::vector<std::string>& lines, const std::string& part) {
  for (const std::string& line : lines) {
    if (line.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(daemon_config)

BOOST_AUTO_TEST_CASE(every_setting_is_in_the_table_once_and_settable_by_name) {
  std::set<std::string> names;
  for (const SettingInfo& setting : DaemonSettings()) {
    BOOST_TEST(names.insert(setting.name).second, setting.name);
    BOOST_TEST((setting.text == nullptr) != (setting.flag == nullptr), setting.name);
    BOOST_TEST(FindSetting(setting.name) == &setting);
    DaemonConfig config;
    std::string value = setting.flag != nullptr ? "yes" : "/some/value";
    BOOST_REQUIRE(SetConfigValue(setting.name, value, &config).ok());
    BOOST_TEST(SettingValue(setting, config) == value);
  }
  BOOST_TEST(names.count("metrics_dir") == 1);
  BOOST_TEST(names.count("metrics_interval") == 1);
  BOOST_TEST(FindSetting("no_such_setting") == nullptr);
  BOOST_TEST(SettingOption(*FindSetting("checkpoint_dir")) == "--checkpoint-dir");
}

BOOST_AUTO_TEST_CASE(the_example_configuration_documents_every_setting) {
  std::string example = ReadFile(MAILJOURNAL_SOURCE_DIR "/contrib/mailjournald.conf.example");
  BOOST_REQUIRE(!example.empty());
  for (const SettingInfo& setting : DaemonSettings()) {
    BOOST_TEST(example.find("#" + std::string(setting.name) + " = ") != std::string::npos,
               setting.name);
  }
}

BOOST_AUTO_TEST_CASE(changed_settings_are_those_that_differ_from_the_default) {
  TempDir dir;
  std::string file = dir.path() + "/mailjournald.conf";
  // journal is set to its default: not a change; foreground "true" is "yes".
  WriteText(file,
            "journal = /var/lib/mailjournal\ncheckpoint_interval = 300\nforeground = true\n"
            "# policy = /elsewhere.yaml\n",
            0644);
  DaemonConfig config;
  std::vector<std::string> errors;
  ReadConfigFile(file, &config, &errors);
  BOOST_TEST(errors.empty());
  std::vector<const SettingInfo*> changed = ChangedSettings(config);
  BOOST_REQUIRE_EQUAL(changed.size(), 2u);
  BOOST_TEST(changed[0]->name == std::string("foreground"));  // table order
  BOOST_TEST(SettingValue(*changed[0], config) == "yes");
  BOOST_TEST(changed[1]->name == std::string("checkpoint_interval"));
  BOOST_TEST(SettingValue(*changed[1], config) == "300");
  BOOST_TEST(ChangedSettings(DaemonConfig()).empty());
}

BOOST_AUTO_TEST_CASE(a_bad_flag_value_names_the_setting) {
  DaemonConfig config;
  Status s = SetConfigValue("foreground", "maybe", &config);
  BOOST_TEST(!s.ok());
  BOOST_TEST(s.message().find("foreground") != std::string::npos);
  BOOST_TEST(!config.foreground);
}

BOOST_AUTO_TEST_CASE(identity_may_follows_owner_then_group_then_others) {
  DaemonIdentity user{"u", 1000, {100, 200}};
  struct stat st = {};
  st.st_uid = 1000;
  st.st_gid = 300;
  st.st_mode = S_IFDIR | 0570;  // owner r-x, group rwx: the owner bits decide
  BOOST_TEST(IdentityMay(user, st, R_OK | X_OK));
  BOOST_TEST(!IdentityMay(user, st, W_OK));
  st.st_uid = 2000;
  st.st_gid = 200;  // a supplementary group
  BOOST_TEST(IdentityMay(user, st, W_OK | X_OK));
  st.st_gid = 300;
  st.st_mode = S_IFDIR | 0775;
  BOOST_TEST(!IdentityMay(user, st, W_OK));
  BOOST_TEST(IdentityMay(user, st, R_OK | X_OK));
  DaemonIdentity root{"root", 0, {0}};
  st.st_mode = S_IFREG | 0600;
  BOOST_TEST(IdentityMay(root, st, R_OK | W_OK));
  BOOST_TEST(!IdentityMay(root, st, X_OK));
  st.st_mode = S_IFDIR | 0600;
  BOOST_TEST(IdentityMay(root, st, X_OK));
}

BOOST_AUTO_TEST_CASE(why_unreadable_names_the_first_obstacle) {
  TempDir dir;
  DaemonIdentity other{"other", 54321, {54321}};
  std::string file = dir.path() + "/policy.yaml";
  WriteText(file, "version: 1\n", 0644);
  BOOST_REQUIRE_EQUAL(chmod(dir.path().c_str(), 0700), 0);
  BOOST_TEST(WhyUnreadable(other, file) == dir.path() + ": not searchable");
  BOOST_REQUIRE_EQUAL(chmod(dir.path().c_str(), 0711), 0);
  BOOST_TEST(WhyUnreadable(other, file) == "");
  BOOST_REQUIRE_EQUAL(chmod(file.c_str(), 0600), 0);
  BOOST_TEST(WhyUnreadable(other, file) == file + ": not readable");
  BOOST_TEST(WhyUnreadable(other, dir.path() + "/missing").find("No such file") !=
             std::string::npos);
}

// Every problem of the files in one run: each check below fails on its own.
BOOST_AUTO_TEST_CASE(check_daemon_files_lists_every_problem) {
  TempDir dir;
  const std::string& d = dir.path();
  DaemonConfig config;  // user "": the checks are for this process's user
  config.signing_key = d + "/checkpoint.key";
  WriteText(config.signing_key, "not a signing key\n", 0644);
  config.checkpoint_dir = d + "/no-such-checkpoints";
  config.index_keys = d + "/index-keys";
  BOOST_REQUIRE_EQUAL(mkdir(config.index_keys.c_str(), 0755), 0);
  WriteText(config.index_keys + "/sales.key", "mailjournal-index-keys 1\n", 0644);
  config.journal = d + "/journal";
  BOOST_REQUIRE_EQUAL(mkdir(config.journal.c_str(), 0755), 0);
  config.admin_socket = d + "/no-such-run/admin.sock";
  config.milter_socket = "unix:" + d + "/milter.sock";  // its directory exists
  config.metrics_dir = d + "/no-such-metrics";
  CheckReport report;
  CheckDaemonFiles(config, &report);
  BOOST_TEST(Contains(report.errors, "signing_key " + config.signing_key + ": "));
  BOOST_TEST(Contains(report.warnings, "signing_key " + config.signing_key + ": mode 0644"));
  BOOST_TEST(Contains(report.errors, "checkpoint_dir " + config.checkpoint_dir + ": "));
  BOOST_TEST(Contains(report.warnings, "index_keys " + config.index_keys + ": mode 0755"));
  BOOST_TEST(
      Contains(report.warnings, "index_keys " + config.index_keys + "/sales.key: mode 0644"));
  BOOST_TEST(Contains(report.warnings, "journal " + config.journal + ": mode 0755"));
  BOOST_TEST(Contains(report.errors, "admin_socket " + config.admin_socket + ": its directory"));
  BOOST_TEST(!Contains(report.errors, "milter_socket"));
  BOOST_TEST(Contains(report.warnings, "metrics_dir " + config.metrics_dir));
  BOOST_TEST(report.errors.size() == 3u);
  BOOST_TEST(report.warnings.size() == 5u);
}

BOOST_AUTO_TEST_CASE(check_daemon_files_accepts_a_good_setup) {
  TempDir dir;
  const std::string& d = dir.path();
  SigningKeyResult key;
  BOOST_REQUIRE(GenerateSigningKey("test.example/journal", d, &key).ok());
  DaemonConfig config;
  config.signing_key = key.key_path;
  config.checkpoint_dir = d + "/checkpoints";
  BOOST_REQUIRE_EQUAL(mkdir(config.checkpoint_dir.c_str(), 0700), 0);
  config.index_keys = d + "/index-keys";  // does not exist yet: the daemon makes it
  config.journal = d + "/journal";
  BOOST_REQUIRE_EQUAL(mkdir(config.journal.c_str(), 0750), 0);
  config.admin_socket = d + "/admin.sock";
  config.milter_socket = "inet:10029@127.0.0.1";
  CheckReport report;
  CheckDaemonFiles(config, &report);
  BOOST_TEST(report.errors.empty(), report.errors.size()
                                        << " errors, first: "
                                        << (report.errors.empty() ? "" : report.errors[0]));
  BOOST_TEST(report.warnings.empty());
}

BOOST_AUTO_TEST_CASE(segment_cut_settings_are_counts_from_one) {
  DaemonConfig config;
  config.user = "";
  std::vector<std::string> errors;
  ValidateConfig(&config, &errors);
  BOOST_TEST(config.segment_entries_n == 10000u);
  BOOST_TEST(config.segment_seconds_n == 3600);
  BOOST_REQUIRE(SetConfigValue("segment_entries", "5", &config).ok());
  BOOST_REQUIRE(SetConfigValue("segment_seconds", "86400", &config).ok());
  errors.clear();
  ValidateConfig(&config, &errors);
  BOOST_TEST(!Contains(errors, "segment_"));
  BOOST_TEST(config.segment_entries_n == 5u);
  BOOST_TEST(config.segment_seconds_n == 86400);
  for (const char* bad : {"0", "-1", "5s", "", "1000000001"}) {
    config.segment_entries = bad;
    config.segment_seconds = bad;
    errors.clear();
    ValidateConfig(&config, &errors);
    BOOST_TEST(Contains(errors, "segment_entries: '" + std::string(bad) + "' is not a number"),
               bad);
    BOOST_TEST(Contains(errors, "segment_seconds: '" + std::string(bad) + "' is not a number"),
               bad);
  }
}

BOOST_AUTO_TEST_CASE(shipping_settings_are_checked_together_and_make_an_s3_config) {
  DaemonConfig config;
  config.user = "";
  std::vector<std::string> errors;
  ValidateConfig(&config, &errors);
  BOOST_TEST(!ShippingConfigured(config));
  BOOST_TEST(!Contains(errors, "s3"));

  config.s3_bucket = "Bad_Bucket";
  config.s3_endpoint = "ftp://s3.example.net";
  config.s3_prefix = "mx1/a";
  config.s3_credentials = "relative/creds";
  errors.clear();
  ValidateConfig(&config, &errors);
  BOOST_TEST(ShippingConfigured(config));
  BOOST_TEST(Contains(errors, "s3 settings: "));
  BOOST_TEST(Contains(errors, "s3_bucket: set signing_key too"));
  BOOST_TEST(Contains(errors, "s3_prefix: 'mx1/a' must be one path segment"));
  BOOST_TEST(Contains(errors, "s3_credentials: 'relative/creds' must be an absolute path"));

  config.s3_prefix = "";
  BOOST_TEST(!ShippingPrefix(config).empty());  // the host name

  TempDir dir;
  config.s3_bucket = "mailjournal-archive";
  config.s3_endpoint = "http://127.0.0.1:7480";
  config.s3_region = "default";
  config.s3_path_style = false;
  config.s3_credentials = dir.path() + "/creds";
  WriteText(config.s3_credentials, "access_key = AK\nsecret_key = SK\n", 0644);
  S3Config s3;
  Status s = MakeS3Config(config, &s3);
  BOOST_TEST(!s.ok());
  BOOST_TEST(s.message().find("s3_credentials: ") == 0, s.message());
  CheckReport report;
  CheckDaemonFiles(config, &report);
  BOOST_TEST(Contains(report.errors, "s3_credentials: "));

  BOOST_REQUIRE_EQUAL(chmod(config.s3_credentials.c_str(), 0600), 0);
  BOOST_REQUIRE(MakeS3Config(config, &s3).ok());
  BOOST_TEST(s3.endpoint == config.s3_endpoint);
  BOOST_TEST(s3.region == "default");
  BOOST_TEST(s3.bucket == "mailjournal-archive");
  BOOST_TEST(s3.access_key == "AK");
  BOOST_TEST(s3.secret_key == "SK");
  BOOST_TEST(!s3.path_style);
  report = CheckReport();
  CheckDaemonFiles(config, &report);
  BOOST_TEST(!Contains(report.errors, "s3"));
}

BOOST_AUTO_TEST_CASE(check_reports_config_and_policy_errors_together) {
  TempDir dir;
  DaemonConfig config;
  config.policy = dir.path() + "/no-such-policy.yaml";
  config.admin_socket = dir.path() + "/admin.sock";
  config.journal = dir.path() + "/journal";
  config.index_keys = dir.path() + "/keys";
  config.milter_socket = "unix:" + dir.path() + "/milter.sock";
  CheckReport report = CheckDaemonConfiguration(config, {"socket_mode: '99999' is bad"});
  BOOST_REQUIRE_EQUAL(report.errors.size(), 2u);
  BOOST_TEST(report.errors[0] == "socket_mode: '99999' is bad");
  BOOST_TEST(report.errors[1].find(config.policy + ": cannot read policy") == 0);
  std::ostringstream out;
  BOOST_TEST(PrintCheckReport(report, out) == EX_CONFIG);
  BOOST_REQUIRE_EQUAL(report.warnings.size(), 1u);  // no signing_key
  BOOST_TEST(report.warnings[0].find("signing_key: not set") == 0);
  BOOST_TEST(out.str() ==
             "mailjournald: socket_mode: '99999' is bad\nmailjournald: " + report.errors[1] +
                 "\nmailjournald: warning: " + report.warnings[0] + "\nmailjournald: 2 errors\n");
  std::ostringstream ok;
  BOOST_TEST(PrintCheckReport(CheckReport{{}, {"w"}}, ok) == EX_OK);
  BOOST_TEST(ok.str() == "mailjournald: warning: w\nmailjournald: configuration ok\n");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace mailjournal
