// mailjournald: the journaling milter. See mailjournald(8).
#include <fcntl.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <signal.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <thread>

#include "admin_server.h"
#include "checkpointer.h"
#include "config.h"
#include "config_check.h"
#include "log.h"
#include "mailjournal/access.h"
#include "mailjournal/admin_protocol.h"
#include "mailjournal/audit_admin.h"
#include "mailjournal/index_key_journal.h"
#include "mailjournal/index_keys.h"
#include "mailjournal/journal.h"
#include "mailjournal/journal_summary.h"
#include "mailjournal/policy.h"
#include "mailjournal/policy_admin.h"
#include "mailjournal/policy_holder.h"
#include "mailjournal/proof_admin.h"
#include "mailjournal/query_sealer.h"
#include "mailjournal/retention.h"
#include "mailjournal/retention_admin.h"
#include "mailjournal/review_admin.h"
#include "mailjournal/search_admin.h"
#include "mailjournal/time_util.h"
#include "metrics.h"
#include "metrics_writer.h"
#include "milter_callbacks.h"
#include "purge_scheduler.h"
#include "service_notify.h"
#include "shipper.h"

namespace mailjournal {
namespace {

void EnsureStandardFds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) < 0) open("/dev/null", O_RDWR);  // takes the lowest free fd
  }
}

// The signals libmilter's own thread waits for (HUP, TERM, INT: stop) and ours (USR1:
// reload) must be blocked in every thread, so they are blocked before any thread exists.
sigset_t BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGUSR1}) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

// What a policy load changes besides the policy: the holds (retention) and the recipients
// the index keys are sealed to (index_key_journal; null when they are not journaled).
struct PolicyDependents {
  Retention* retention;
  IndexKeyJournal* index_key_journal;
};

Status ReloadPolicy(PolicyHolder* policies, const PolicyDependents& dependents,
                    DaemonMetrics* metrics, const std::string& reason,
                    std::vector<PolicyError>* errors = nullptr, uint64_t* seq = nullptr);
Status ReloadRunningPolicy(PolicyHolder* policies, const PolicyDependents& dependents,
                           DaemonMetrics* metrics, const std::string& reason,
                           std::vector<PolicyError>* errors = nullptr, uint64_t* seq = nullptr);

// Reloads the policy on SIGUSR1 until stopped: Stop() sets the flag and wakes the thread
// with SIGUSR1 itself.
class ReloadSignalThread {
 public:
  ReloadSignalThread(PolicyHolder* policies, PolicyDependents dependents, DaemonMetrics* metrics)
      : policies_(policies),
        dependents_(dependents),
        metrics_(metrics),
        thread_(&ReloadSignalThread::Run, this) {}
  ~ReloadSignalThread() { Stop(); }
  void Stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }

 private:
  void Run() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (stopping_) return;
      ReloadRunningPolicy(policies_, dependents_, metrics_, "reload (SIGUSR1)");
    }
  }

  PolicyHolder* const policies_;
  const PolicyDependents dependents_;
  DaemonMetrics* const metrics_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// The file a unix: or local: milter socket spec names, or "" for inet sockets.
std::string UnixSocketPath(const std::string& spec) {
  for (const char* prefix : {"unix:", "local:"}) {
    size_t n = std::strlen(prefix);
    if (spec.compare(0, n, prefix) == 0) return spec.substr(n);
  }
  return "";
}

// Loads the policy file into `policies` (journaling it) and logs the outcome; the problems
// found are also appended to *errors, and the entry's number set in *seq, when not null.
// The load goes through the retention (Retention::LoadPolicy), as it changes the holds in
// force. The outcome is counted in *metrics.
Status ReloadPolicy(PolicyHolder* policies, const PolicyDependents& dependents,
                    DaemonMetrics* metrics, const std::string& reason,
                    std::vector<PolicyError>* errors, uint64_t* seq_out) {
  std::vector<PolicyError> found;
  uint64_t seq = 0;
  Status s = dependents.retention->LoadPolicy(reason, &found, &seq);
  metrics->PolicyLoaded(s.ok());
  if (seq_out != nullptr) *seq_out = seq;
  for (const PolicyError& e : found) Log(LOG_ERR, "%s", e.ToString().c_str());
  if (errors != nullptr) errors->insert(errors->end(), found.begin(), found.end());
  if (s.ok()) {
    Log(LOG_INFO, "policy %s loaded (%s): seq=%llu digest=%s", policies->path().c_str(),
        reason.c_str(), static_cast<unsigned long long>(seq),
        DigestToJson(policies->Active()->digest()).get<std::string>().c_str());
    const CaptureScope& capture = policies->Active()->capture();
    if (!capture.all) {
      Log(LOG_WARNING, "capture scope: only mail of %s is journaled (mailjournal.yaml(5))",
          DescribeCapture(capture).c_str());
    }
    // The index keys follow the keys their departments' mail is sealed to. A failure
    // leaves the policy in force; the next load tries again.
    size_t appended = 0;
    Status k = dependents.index_key_journal == nullptr
                   ? Status::OK()
                   : dependents.index_key_journal->Sync(&appended);
    if (!k.ok()) {
      Log(LOG_ERR, "index keys not journaled for this policy: %s", k.message().c_str());
    } else if (appended > 0) {
      Log(LOG_INFO, "journaled %zu index_key entries", appended);
    }
  } else {
    Log(LOG_ERR, "%s", s.message().c_str());
  }
  return s;
}

// ReloadPolicy for the daemon that serves: told to the service manager (service_notify.h) as
// RELOADING, then READY with the outcome as the status.
Status ReloadRunningPolicy(PolicyHolder* policies, const PolicyDependents& dependents,
                           DaemonMetrics* metrics, const std::string& reason,
                           std::vector<PolicyError>* errors, uint64_t* seq_out) {
  NotifyReloading("reloading the policy (" + reason + ")");
  uint64_t seq = 0;
  Status s = ReloadPolicy(policies, dependents, metrics, reason, errors, &seq);
  if (seq_out != nullptr) *seq_out = seq;
  NotifyReady(s.ok()
                  ? "journaling, policy loaded at seq " + std::to_string(seq) + " (" + reason + ")"
                  : "journaling; policy reload refused: " + s.message());
  return s;
}

Status DropPrivileges(const DaemonConfig& config) {
  if (initgroups(config.user.c_str(), config.gid) != 0 || setgid(config.gid) != 0 ||
      setuid(config.uid) != 0) {
    return Status::IOError("cannot become user " + config.user + ": " + std::strerror(errno));
  }
  if (setuid(0) == 0) return Status::Internal("privileges were not dropped");
  return Status::OK();
}

// The figures the metrics and the status report besides the daemon's counters: the
// journal's (when `with_journal`; status reads them itself), the checkpoint copies' and the
// shipper's (null: not shipping; status has its own "shipping" part).
DaemonFigures SampleDaemonFigures(Journal* journal, const std::string& dir,
                                  const Checkpointer* checkpointer, const Shipper* shipper,
                                  bool with_journal) {
  DaemonFigures f;
  f.now_us = NowMicros();
  if (with_journal) f.journal_known = SummarizeJournal(journal, dir, &f.journal).ok();
  if (checkpointer != nullptr) {
    checkpointer->LastCopy(&f.offhost_tree_size, &f.offhost_checkpoint_time_us);
  }
  if (shipper != nullptr) f.shipping = shipper->Figures();
  return f;
}

// Creates a directory (the journal, the index keys) as root for the daemon's user, mode
// `mode`, when it does not exist yet; missing parents are created root's (mode 0755).
Status PrepareDaemonDir(const DaemonConfig& config, const std::string& what, const std::string& dir,
                        mode_t mode) {
  for (size_t slash = dir.find('/', 1); slash != std::string::npos;
       slash = dir.find('/', slash + 1)) {
    std::string parent = dir.substr(0, slash);
    // chmod: the umask (027 by now) would keep the daemon's user out.
    if (mkdir(parent.c_str(), 0755) == 0) {
      if (chmod(parent.c_str(), 0755) != 0) {
        return Status::IOError(what + " " + parent + ": " + std::strerror(errno));
      }
    } else if (errno != EEXIST) {
      return Status::IOError(what + " " + dir + ": " + std::strerror(errno));
    }
  }
  if (mkdir(dir.c_str(), mode) == 0) {
    if (chown(dir.c_str(), config.uid, config.gid) != 0) {
      return Status::IOError(what + " " + dir + ": chown: " + std::strerror(errno));
    }
  } else if (errno != EEXIST) {
    return Status::IOError(what + " " + dir + ": " + std::strerror(errno));
  }
  return Status::OK();
}

int Run(int argc, char** argv) {
  // 1. Standard file descriptors open, signals blocked before any thread exists.
  EnsureStandardFds();
  BlockSignals();

  // 2. Settings: defaults < configuration file < command line.
  DaemonConfig config;
  std::string config_file;
  bool check_only = false;
  CLI::App app{"mailjournald: journal every message passing the MTA (see mailjournald(8))"};
  app.set_version_flag("--version", std::string("mailjournald ") + MAILJOURNAL_VERSION);
  app.add_option("-c,--config", config_file, "configuration file");
  std::map<std::string, std::string> overrides;
  for (const SettingInfo& setting : DaemonSettings()) {
    std::string key = setting.name;
    if (setting.flag != nullptr) {
      app.add_flag_function(
          SettingOption(setting), [&overrides, key](int64_t) { overrides[key] = "yes"; },
          setting.description);
    } else {
      app.add_option_function<std::string>(
          SettingOption(setting), [&overrides, key](const std::string& v) { overrides[key] = v; },
          setting.description);
    }
  }
  app.add_flag(
      "-n", check_only,
      "check the configuration, the policy and the files they name, and exit (0 ok, 78 on error)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? EX_OK : EX_USAGE;
  }
  std::vector<std::string> errors;
  struct stat st;
  if (!config_file.empty()) {
    ReadConfigFile(config_file, &config, &errors);
  } else if (stat(kDefaultConfigFile, &st) == 0) {
    ReadConfigFile(kDefaultConfigFile, &config, &errors);
  }
  for (const auto& [key, value] : overrides) {
    Status s = SetConfigValue(key, value, &config);
    if (!s.ok()) errors.push_back("--" + key + ": " + s.message());
  }
  ValidateConfig(&config, &errors);
  if (check_only) return PrintCheckReport(CheckDaemonConfiguration(config, errors), std::cerr);
  if (!errors.empty()) {
    for (const auto& e : errors) std::cerr << "mailjournald: " << e << "\n";
    return EX_CONFIG;
  }
  LogInit("mailjournald", config.foreground);
  std::string milter_path = UnixSocketPath(config.milter_socket);
  // Start-up failures go to the log and, when that is syslog, to standard error as well.
  auto startup_failure = [&](int exit_code, const Status& why) {
    Log(LOG_ERR, "cannot start: %s", why.message().c_str());
    if (!config.foreground) std::cerr << "mailjournald: cannot start: " << why.message() << "\n";
    if (!milter_path.empty()) unlink(milter_path.c_str());
    return exit_code;
  };

  // 3. Privileged resources: the milter socket and the admin socket, created with the
  // configured mode and handed to the daemon's user. Their group is left as created (a
  // setgid socket directory gives them its group, e.g. postfix), so that access can be
  // granted by group.
  uid_t owner = config.drop_privileges ? config.uid : static_cast<uid_t>(-1);
  umask(~config.socket_mode_bits & 0777);
  Status s = RegisterMilter(!milter_path.empty());
  if (s.ok() && smfi_setconn(&config.milter_socket[0]) != MI_SUCCESS) {
    s = Status::InvalidArgument("milter socket " + config.milter_socket + ": not usable");
  }
  if (s.ok() && smfi_opensocket(true) != MI_SUCCESS) {
    s = Status::IOError("milter socket " + config.milter_socket + ": cannot listen");
  }
  if (s.ok() && !milter_path.empty() &&
      (chmod(milter_path.c_str(), config.socket_mode_bits) != 0 ||
       (owner != static_cast<uid_t>(-1) && chown(milter_path.c_str(), owner, -1) != 0))) {
    s = Status::IOError("milter socket " + milter_path + ": " + std::strerror(errno));
  }
  AdminServer admin;
  if (s.ok()) s = admin.Listen(config.admin_socket, config.socket_mode_bits, owner);
  umask(027);
  if (!s.ok()) return startup_failure(EX_OSERR, s);
  // The checkpoint signing key is read while privileged, so that it can be root's alone.
  std::unique_ptr<NoteSigner> signer;
  if (!config.signing_key.empty()) {
    std::ifstream in(config.signing_key);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    s = in ? NoteSigner::Create(text, &signer) : Status::NotFound("cannot read");
    std::fill(text.begin(), text.end(), '\0');
    if (!s.ok()) {
      return startup_failure(
          EX_CONFIG,
          Status::InvalidArgument("signing_key " + config.signing_key + ": " + s.message()));
    }
  }

  // 4. Drop privileges, then open the journal as the daemon's user.
  if (config.drop_privileges) {
    s = PrepareDaemonDir(config, "journal", config.journal, 0750);
    if (s.ok()) s = PrepareDaemonDir(config, "index_keys", config.index_keys, 0700);
    if (s.ok()) s = DropPrivileges(config);
    if (!s.ok()) return startup_failure(EX_OSERR, s);
  }
  // The counters outlive the journal, whose group commits they count.
  const int64_t start_us = NowMicros();
  DaemonMetrics metrics(MAILJOURNAL_VERSION, start_us);
  JournalOptions options;
  options.dir = config.journal;
  options.on_group_commit = [&metrics](size_t commits) { metrics.GroupCommitted(commits); };
  std::unique_ptr<Journal> journal;
  s = OpenJournal(options, &journal);
  if (!s.ok()) return startup_failure(s.IsBusy() ? EX_TEMPFAIL : EX_IOERR, s);

  IndexKeyStore index_keys(config.index_keys);

  // 5. The policy: journaled before it classifies any message. The retention knows the holds
  // placed in the journal, which the policy's must not clash with. The index keys are
  // journaled, sealed to the keys of the policy in force, when made and when those change.
  PolicyHolder policies(config.policy, journal.get());
  Retention retention(journal.get(), &policies);
  IndexKeyJournal index_key_journal(journal.get(), &policies, &index_keys);
  const bool journal_index_keys = IndexKeyEntriesWanted(config);
  if (journal_index_keys) {
    index_keys.SetNewKeyObserver([&index_key_journal](const std::string& department,
                                                      const IndexKey& key,
                                                      const std::string& reason) {
      Status k = index_key_journal.Record(department, key, reason);
      if (!k.ok()) {
        Log(LOG_ERR, "index key of %s not journaled (the next policy load retries): %s",
            department.c_str(), k.message().c_str());
      }
    });
  }
  const PolicyDependents dependents{&retention, journal_index_keys ? &index_key_journal : nullptr};
  s = retention.Open();
  if (!s.ok()) return startup_failure(EX_IOERR, s);
  std::vector<PolicyError> policy_errors;
  s = ReloadPolicy(&policies, dependents, &metrics, "start", &policy_errors);
  if (!s.ok()) {
    if (!config.foreground) {
      for (const PolicyError& e : policy_errors) std::cerr << e.ToString() << "\n";
    }
    return startup_failure(policy_errors.empty() ? EX_IOERR : EX_CONFIG, s);
  }

  // 6. Serve: the admin socket, the reload signal, then libmilter until a stop signal.
  // Callers are identified by the admin socket and granted what the policy's access roles
  // say; the daemon's own user (the journal's owner) and root are granted everything.
  AdminHandler handler(journal.get(), ServerInfo{"daemon", start_us, config.journal},
                       RolePermissions(&policies, getuid()));
  AddPolicyOperations(
      &policies,
      [&policies, &dependents, &metrics](std::vector<PolicyError>* errors, uint64_t* seq) {
        return ReloadRunningPolicy(&policies, dependents, &metrics, "reload (admin socket)", errors,
                                   seq);
      },
      &handler);
  AddProofOperations(
      journal.get(), [] { return std::make_unique<RetentionChecker>(); }, &handler,
      [&metrics](const Status& s, const VerifyReport& r) {
        metrics.Verified(s.ok(), r.intact, s.ok() ? r.problem : s.message(), NowMicros());
      });
  AddRetentionOperations(&retention, &policies, &handler);
  AddReviewOperations(journal.get(), &policies, &handler);
  AddAuditOperations(journal.get(), &handler);
  AddSegmentOperations(journal.get(), SegmentHoldsFactory(journal.get(), &policies), &handler);
  AddSearchOperations(journal.get(), &index_keys, PolicyQuerySealer(&policies), &handler);
  std::unique_ptr<PurgeScheduler> purges;
  if (config.purge_interval_s > 0) {
    purges = std::make_unique<PurgeScheduler>(&retention, config.purge_interval_s,
                                              ProcessCaller().actor());
    purges->Start();
  }
  // Shipping to S3 (shipper.h): a pass after each checkpoint, as it may complete a segment.
  std::unique_ptr<Checkpointer> checkpointer;
  std::unique_ptr<Shipper> shipper;
  if (ShippingConfigured(config)) {
    ShipperOptions ship;
    s = MakeS3Config(config, &ship.s3);
    if (!s.ok()) return startup_failure(EX_CONFIG, s);
    ship.prefix = ShippingPrefix(config);
    ship.cut.max_entries = config.segment_entries_n;
    ship.cut.max_age_us = config.segment_seconds_n * 1000000;
    ship.cut.max_content_bytes = config.segment_bytes_n;
    ship.holds = SegmentHoldsFactory(journal.get(), &policies);
    // Set once the checkpointer exists (below); the shipper's thread only calls it later.
    ship.request_checkpoint = [&checkpointer] {
      if (checkpointer != nullptr) checkpointer->RequestCheckpoint();
    };
    shipper = std::make_unique<Shipper>(journal.get(), std::move(ship));
  }
  if (signer != nullptr) {
    std::function<void()> on_checkpoint;
    if (shipper != nullptr) on_checkpoint = [&shipper] { shipper->Wake(); };
    checkpointer = std::make_unique<Checkpointer>(journal.get(), std::move(signer),
                                                  config.checkpoint_interval_s,
                                                  config.checkpoint_dir, std::move(on_checkpoint));
    checkpointer->Start();
  } else {
    Log(LOG_WARNING, "no signing_key: the journal is not checkpointed (mailjournald(8))");
  }
  if (shipper != nullptr) {  // after the checkpointer exists: it may ask for a checkpoint
    s = shipper->Start();
    if (!s.ok()) return startup_failure(EX_IOERR, s);
  }
  handler.AddStatusExtension([&](nlohmann::json* status) {
    (*status)["daemon"] = metrics.StatusJson(
        SampleDaemonFigures(journal.get(), config.journal, checkpointer.get(), nullptr, false));
    std::shared_ptr<const Policy> active = policies.Active();
    (*status)["daemon"]["capture"] = active ? DescribeCapture(active->capture()) : "";
    if (shipper != nullptr) (*status)["shipping"] = shipper->StatusJson();
  });
  std::unique_ptr<MetricsWriter> metrics_writer;
  if (!config.metrics_dir.empty()) {
    metrics_writer =
        std::make_unique<MetricsWriter>(config.metrics_dir, config.metrics_interval_s, [&] {
          return metrics.Render(SampleDaemonFigures(journal.get(), config.journal,
                                                    checkpointer.get(), shipper.get(), true));
        });
    metrics_writer->Start();
  }
  admin.Start(&handler);
  ReloadSignalThread reloader(&policies, dependents, &metrics);
  OpenMilterJournal(journal.get(), &policies, &index_keys, &metrics);
  Log(LOG_INFO, "mailjournald %s started: journal=%s milter=%s admin=%s last_seq=%llu",
      MAILJOURNAL_VERSION, config.journal.c_str(), config.milter_socket.c_str(),
      config.admin_socket.c_str(), static_cast<unsigned long long>(journal->LastSequence()));
  NotifyReady("journaling, last_seq " + std::to_string(journal->LastSequence()));
  int rc = smfi_main();
  NotifyStopping("stopping: finishing the commits in flight");

  // 7. Stop: let in-flight commits finish, then close the journal.
  CloseMilterJournal();
  admin.Stop();
  reloader.Stop();
  if (purges != nullptr) purges->Stop();
  if (shipper != nullptr) shipper->Stop();  // what is left is shipped after the next start
  if (checkpointer != nullptr) checkpointer->Stop();      // the last checkpoint, at a clean stop
  if (metrics_writer != nullptr) metrics_writer->Stop();  // the last figures, that one's too
  uint64_t last = journal->LastSequence();
  journal.reset();
  Log(LOG_INFO, "mailjournald stopped: last_seq=%llu", static_cast<unsigned long long>(last));
  return rc == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
}

}  // namespace
}  // namespace mailjournal

int main(int argc, char** argv) { return mailjournal::Run(argc, argv); }
