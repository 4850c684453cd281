// mailjournald -n: every problem of a configuration, of its policy and of the files they
// name, found in one run (mailjournald(8), CHECKING THE CONFIGURATION).
//
// Errors are what would stop the daemon from starting or from doing its job (an unreadable
// signing key, a checkpoint directory the daemon's user cannot write); warnings are what
// works but is less safe than it should be (a signing key others may read). Only errors
// make the check fail. The checks read the file system as it is now and change nothing.
#ifndef MAILJOURNAL_MILTER_CONFIG_CHECK_H_
#define MAILJOURNAL_MILTER_CONFIG_CHECK_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <ostream>
#include <string>
#include <vector>

#include "config.h"

namespace mailjournal {

struct CheckReport {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};

// The user the daemon runs as: its name, uid and every group it is in.
struct DaemonIdentity {
  std::string name;
  uid_t uid = 0;
  std::vector<gid_t> groups;  // the primary group first
};

// The identity of config.user, or of this process when config.user is "". False when the
// user does not exist (ValidateConfig reports that).
bool ResolveDaemonIdentity(const DaemonConfig& config, DaemonIdentity* identity);

// True when `identity` may access a file of status `st` in every way `want` asks (a mask of
// R_OK, W_OK and X_OK), by the mode bits as the kernel reads them (owner, then group, then
// others; root may always, except execute a file without any x bit). ACLs are not
// considered.
bool IdentityMay(const DaemonIdentity& identity, const struct stat& st, int want);

// Checks the files and directories the settings name, appending every problem to *report:
// signing_key (readable, a signing key, not readable by group or others), checkpoint_dir
// (a directory the user can write), index_keys (if it exists: the user's, mode 0700; its
// key files the user's, mode 0600), journal (if it exists: the user's, not readable by
// others), metrics_dir (a directory the user can write), the directories of unix sockets.
// Settings that are empty are not checked; `config` need not have passed ValidateConfig.
void CheckDaemonFiles(const DaemonConfig& config, CheckReport* report);

// "" when `identity` may read the file at `path` (each directory above it searchable, the
// file readable, by IdentityMay), else why not ("/etc/mailjournal: not searchable").
std::string WhyUnreadable(const DaemonIdentity& identity, const std::string& path);

// Loads the policy file (as the daemon would, key files included) and appends each problem
// to report->errors as "FILE:LINE:COL: message". When it loads and `identity` is not null,
// also an error for each of its files (the policy, its member lists and certificates) that
// the identity cannot read: the daemon loads the policy after it has become its user. Does
// nothing for a relative path (ValidateConfig reports it).
void CheckPolicyFile(const std::string& path, const DaemonIdentity* identity, CheckReport* report);

// The whole check of mailjournald -n: `config_errors` (from ReadConfigFile, SetConfigValue
// and ValidateConfig), then CheckPolicyFile and CheckDaemonFiles, and a warning when no
// signing_key is set.
CheckReport CheckDaemonConfiguration(const DaemonConfig& config,
                                     std::vector<std::string> config_errors);

// Writes each error as "mailjournald: ERROR", then each warning as "mailjournald: warning:
// WARNING", then "mailjournald: configuration ok" or the number of errors. Returns the exit
// status: 0 (EX_OK) without errors, 78 (EX_CONFIG) with any.
int PrintCheckReport(const CheckReport& report, std::ostream& out);

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_CONFIG_CHECK_H_
