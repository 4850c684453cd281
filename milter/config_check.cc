#include "config_check.h"

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

#include "mailjournal/checkpoint.h"
#include "mailjournal/policy.h"

namespace mailjournal {

namespace {

std::string OctalMode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// "NAME PATH: " for messages about a setting's file.
std::string About(const char* setting, const std::string& path) {
  return std::string(setting) + " " + path + ": ";
}

// stat(2), with an error appended to `errors` when the path cannot be examined.
bool StatOrReport(const char* setting, const std::string& path, struct stat* st,
                  std::vector<std::string>* errors) {
  if (stat(path.c_str(), st) == 0) return true;
  errors->push_back(About(setting, path) + std::strerror(errno));
  return false;
}

// A directory the daemon writes into (checkpoint_dir, metrics_dir): problems go to *out.
void CheckWritableDirectory(const char* setting, const std::string& dir,
                            const DaemonIdentity* identity, std::vector<std::string>* out) {
  struct stat st;
  if (!StatOrReport(setting, dir, &st, out)) return;
  if (!S_ISDIR(st.st_mode)) {
    out->push_back(About(setting, dir) + "not a directory");
  } else if (identity != nullptr && !IdentityMay(*identity, st, W_OK | X_OK)) {
    out->push_back(About(setting, dir) + "user " + identity->name + " cannot write to it");
  }
}

void CheckSigningKey(const std::string& path, CheckReport* report) {
  struct stat st;
  if (!StatOrReport("signing_key", path, &st, &report->errors)) return;
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  if (!in) {
    report->errors.push_back(About("signing_key", path) + "cannot read it");
    return;
  }
  std::unique_ptr<NoteSigner> signer;
  Status s = NoteSigner::Create(text, &signer);
  std::fill(text.begin(), text.end(), '\0');
  if (!s.ok()) report->errors.push_back(About("signing_key", path) + s.message());
  if ((st.st_mode & 077) != 0) {
    report->warnings.push_back(About("signing_key", path) + "mode " + OctalMode(st.st_mode) +
                               ": group or others may use the signing key (chmod 600)");
  }
}

// The S3 credentials as the daemon reads them (LoadS3Credentials: owner-only mode, format),
// owned by the daemon's user.
void CheckS3Credentials(const DaemonConfig& config, const DaemonIdentity* identity,
                        CheckReport* report) {
  S3Config s3;
  Status s = MakeS3Config(config, &s3);
  if (!s.ok()) {
    report->errors.push_back(s.message());
    return;
  }
  struct stat st;
  if (identity != nullptr && stat(config.s3_credentials.c_str(), &st) == 0 &&
      st.st_uid != identity->uid) {
    report->errors.push_back(About("s3_credentials", config.s3_credentials) + "not owned by user " +
                             identity->name + " (only its owner may read it)");
  }
}

// A directory the daemon creates when it is missing (setting `name`): false when it does not
// exist (fine) or is not a usable directory (reported); else *st, with an error when it is
// not owned by the daemon's user.
bool ExistingDaemonDir(const char* name, const std::string& dir, const DaemonIdentity* identity,
                       struct stat* st, CheckReport* report) {
  if (stat(dir.c_str(), st) != 0) {
    if (errno != ENOENT) report->errors.push_back(About(name, dir) + std::strerror(errno));
    return false;  // the daemon creates it
  }
  if (!S_ISDIR(st->st_mode)) {
    report->errors.push_back(About(name, dir) + "not a directory");
    return false;
  }
  if (identity != nullptr && st->st_uid != identity->uid) {
    report->errors.push_back(About(name, dir) + "not owned by user " + identity->name);
  }
  return true;
}

// The index key directory, when it exists.
void CheckIndexKeys(const std::string& dir, const DaemonIdentity* identity, CheckReport* report) {
  struct stat st;
  if (!ExistingDaemonDir("index_keys", dir, identity, &st, report)) return;
  if ((st.st_mode & 077) != 0) {
    report->warnings.push_back(About("index_keys", dir) + "mode " + OctalMode(st.st_mode) +
                               ": group or others may reach the index keys (chmod 700)");
  }
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    report->errors.push_back(About("index_keys", dir) + std::strerror(errno));
    return;
  }
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 5 || name.compare(name.size() - 4, 4, ".key") != 0) continue;
    std::string path = dir + "/" + name;
    struct stat key;
    if (!StatOrReport("index_keys", path, &key, &report->errors)) continue;
    if (identity != nullptr && key.st_uid != identity->uid) {
      report->errors.push_back(About("index_keys", path) + "not owned by user " + identity->name);
    }
    if ((key.st_mode & 077) != 0) {
      report->warnings.push_back(About("index_keys", path) + "mode " + OctalMode(key.st_mode) +
                                 ": group or others may read an index key (chmod 600)");
    }
  }
  closedir(d);
}

void CheckJournalDir(const std::string& dir, const DaemonIdentity* identity, CheckReport* report) {
  struct stat st;
  if (!ExistingDaemonDir("journal", dir, identity, &st, report)) return;
  if ((st.st_mode & S_IROTH) != 0) {
    report->warnings.push_back(About("journal", dir) + "mode " + OctalMode(st.st_mode) +
                               ": others may read the journal (chmod o-rwx)");
  }
}

// The directory a unix socket is created in must exist (the daemon does not create it).
void CheckSocketDirectory(const char* setting, const std::string& socket_path,
                          CheckReport* report) {
  size_t slash = socket_path.rfind('/');
  if (socket_path.empty() || socket_path[0] != '/' || slash == std::string::npos) return;
  std::string dir = slash == 0 ? "/" : socket_path.substr(0, slash);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    report->errors.push_back(About(setting, socket_path) + "its directory " + dir + ": " +
                             std::strerror(errno));
  } else if (!S_ISDIR(st.st_mode)) {
    report->errors.push_back(About(setting, socket_path) + dir + " is not a directory");
  }
}

}  // namespace

bool ResolveDaemonIdentity(const DaemonConfig& config, DaemonIdentity* identity) {
  struct passwd* pw = config.user.empty() ? getpwuid(geteuid()) : getpwnam(config.user.c_str());
  if (pw == nullptr) return false;
  identity->name = pw->pw_name;
  identity->uid = pw->pw_uid;
  int count = 64;
  std::vector<gid_t> groups(count);
  if (getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count) < 0) {
    groups.resize(count);
    getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count);
  }
  groups.resize(count);
  identity->groups.assign(1, pw->pw_gid);
  for (gid_t g : groups) {
    if (g != pw->pw_gid) identity->groups.push_back(g);
  }
  return true;
}

bool IdentityMay(const DaemonIdentity& identity, const struct stat& st, int want) {
  int allowed;
  if (identity.uid == 0) {
    // Root searches every directory, and executes a file only with some x bit.
    allowed = R_OK | W_OK | (S_ISDIR(st.st_mode) || (st.st_mode & 0111) != 0 ? X_OK : 0);
  } else if (st.st_uid == identity.uid) {
    allowed = (st.st_mode >> 6) & 7;
  } else if (std::find(identity.groups.begin(), identity.groups.end(), st.st_gid) !=
             identity.groups.end()) {
    allowed = (st.st_mode >> 3) & 7;
  } else {
    allowed = st.st_mode & 7;
  }
  return (allowed & want) == want;
}

void CheckDaemonFiles(const DaemonConfig& config, CheckReport* report) {
  DaemonIdentity identity;
  const DaemonIdentity* user = ResolveDaemonIdentity(config, &identity) ? &identity : nullptr;
  if (!config.signing_key.empty()) CheckSigningKey(config.signing_key, report);
  if (!config.checkpoint_dir.empty()) {
    CheckWritableDirectory("checkpoint_dir", config.checkpoint_dir, user, &report->errors);
  }
  if (!config.index_keys.empty()) CheckIndexKeys(config.index_keys, user, report);
  if (ShippingConfigured(config)) CheckS3Credentials(config, user, report);
  if (!config.journal.empty()) CheckJournalDir(config.journal, user, report);
  // Metrics are not needed for journaling: a directory that does not work is a warning.
  if (!config.metrics_dir.empty()) {
    CheckWritableDirectory("metrics_dir", config.metrics_dir, user, &report->warnings);
  }
  for (const char* prefix : {"unix:", "local:"}) {
    size_t n = std::strlen(prefix);
    if (config.milter_socket.compare(0, n, prefix) == 0) {
      CheckSocketDirectory("milter_socket", config.milter_socket.substr(n), report);
    }
  }
  CheckSocketDirectory("admin_socket", config.admin_socket, report);
}

std::string WhyUnreadable(const DaemonIdentity& identity, const std::string& path) {
  struct stat st;
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    if (stat(dir.c_str(), &st) != 0) return dir + ": " + std::strerror(errno);
    if (!IdentityMay(identity, st, X_OK)) return dir + ": not searchable";
  }
  if (stat(path.c_str(), &st) != 0) return path + ": " + std::strerror(errno);
  if (!IdentityMay(identity, st, R_OK)) return path + ": not readable";
  return "";
}

void CheckPolicyFile(const std::string& path, const DaemonIdentity* identity, CheckReport* report) {
  if (path.empty() || path[0] != '/') return;
  std::shared_ptr<const Policy> policy;
  std::vector<PolicyError> errors;
  LoadPolicy(CanonicalPolicyPath(path), DiskFileReader(), &policy, &errors);
  for (const PolicyError& e : errors) report->errors.push_back(e.ToString());
  if (policy == nullptr || identity == nullptr) return;
  for (const PolicyFile& file : policy->files()) {
    std::string why = WhyUnreadable(*identity, file.path);
    if (!why.empty()) {
      report->errors.push_back("policy " + file.path + ": user " + identity->name +
                               " cannot read it (" + why + "); the daemon loads the policy as " +
                               identity->name);
    }
  }
}

CheckReport CheckDaemonConfiguration(const DaemonConfig& config,
                                     std::vector<std::string> config_errors) {
  CheckReport report;
  report.errors = std::move(config_errors);
  DaemonIdentity identity;
  bool known = ResolveDaemonIdentity(config, &identity);
  CheckPolicyFile(config.policy, known ? &identity : nullptr, &report);
  CheckDaemonFiles(config, &report);
  if (config.signing_key.empty()) {
    // The daemon logs the same at start.
    report.warnings.push_back(
        "signing_key: not set: the journal is not checkpointed, so verify cannot show that it "
        "was not changed (mailjournald(8), CHECKPOINTS)");
  }
  return report;
}

int PrintCheckReport(const CheckReport& report, std::ostream& out) {
  for (const std::string& e : report.errors) out << "mailjournald: " << e << "\n";
  for (const std::string& w : report.warnings) out << "mailjournald: warning: " << w << "\n";
  if (report.errors.empty()) {
    out << "mailjournald: configuration ok\n";
    return EX_OK;
  }
  out << "mailjournald: " << report.errors.size()
      << (report.errors.size() == 1 ? " error" : " errors") << "\n";
  return EX_CONFIG;
}

}  // namespace mailjournal
