// FaultEnv: a leveldb::Env for crash-consistency tests. It passes every call to the default
// Env and keeps, for each file written through it, how many bytes were appended and how
// many of them a successful Sync() made durable. With it a test can
//   - cut the power (at once, or at the Nth write or sync): from then on nothing reaches the
//     disk; every write, sync, file creation, removal and rename fails with an IOError;
//   - then, once the database is closed, lose what a power failure loses: every byte that
//     was not synced (or a random part of it: a torn tail);
//   - make the Nth write or sync fail with an IOError (nothing is written or synced);
//   - slow the disk down: every Sync() takes at least a given time.
//
// The model of durability is deliberately simple (like LevelDB's own fault_injection_test):
//   - a file's bytes are durable up to its last successful Sync();
//   - a file created through this Env and never synced is lost with the power unless its
//     directory was synced after it was created (LevelDB syncs the directory whenever it
//     syncs a MANIFEST file); a file that was synced is kept (as if its directory entry had
//     been synced with it, as ext4 and xfs do);
//   - removals and renames done before the power cut are durable; files that existed
//     before this Env was made are durable as they are.
//
// Thread-safety: all methods may be called concurrently (LevelDB's background thread
// writes while the test's threads commit).
#ifndef MAILJOURNAL_TESTS_FAULT_ENV_H_
#define MAILJOURNAL_TESTS_FAULT_ENV_H_

#include <leveldb/env.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mailjournal {

class FaultEnv : public leveldb::EnvWrapper {
 public:
  // The kinds of file LevelDB writes, by name.
  enum class FileKind { kAny, kLog, kTable, kManifest, kOther };
  static FileKind KindOf(const std::string& fname);

  enum class Op { kWrite, kSync };

  // A Sync() of a log file that succeeded: when it started and returned (steady clock, µs).
  struct SyncSpan {
    int64_t start_us;
    int64_t end_us;
  };

  FaultEnv();
  ~FaultEnv() override;

  // Cuts the power now.
  void CutPower();
  // Cuts the power at the `n`th (1: the next) write or sync from now, which fails; 0 disarms.
  void CutPowerAt(uint64_t n);
  bool power_cut() const { return power_cut_.load(); }

  // Makes the `n`th (1: the next) `op` on a file of `kind` from now fail with an IOError,
  // without writing or syncing anything; once. A new call replaces the previous one.
  void FailAt(Op op, uint64_t n, FileKind kind = FileKind::kAny);
  // How many failures were injected (power cut not counted).
  uint64_t injected_failures() const;

  // Every Sync() of a file of `kind` sleeps this long before it syncs (or fails).
  void SetSyncLatencyMicros(int64_t micros, FileKind kind = FileKind::kAny) {
    latency_kind_.store(kind);
    sync_latency_us_.store(micros);
  }

  // Writes and syncs (whether they succeeded or not) since this Env was made.
  uint64_t ops() const { return ops_.load(); }
  // Files of `kind` created since this Env was made.
  uint64_t created(FileKind kind) const;
  // Successful Sync() calls of files of `kind` since this Env was made.
  uint64_t syncs(FileKind kind) const;
  // The successful Sync() calls of log files, in the order they returned.
  std::vector<SyncSpan> LogSyncSpans() const;

  // Loses what a power failure loses: truncates every file written through this Env to its
  // last synced size (torn_seed != 0: plus a random part, from that seed, of the rest) and
  // removes the files that would not survive (above). Stops tracking them: the Env can be
  // dropped, or used again as if the machine had restarted (the power is back on).
  // REQUIRES: no file written through this Env is still open (the database is closed).
  leveldb::Status DropUnsyncedData(uint64_t torn_seed = 0);

  // What DropUnsyncedData did, for test messages.
  const std::string& drop_report() const { return drop_report_; }

  // leveldb::Env
  leveldb::Status NewWritableFile(const std::string& f, leveldb::WritableFile** r) override;
  leveldb::Status NewAppendableFile(const std::string& f, leveldb::WritableFile** r) override;
  leveldb::Status RemoveFile(const std::string& f) override;
  leveldb::Status RenameFile(const std::string& from, const std::string& to) override;
  leveldb::Status CreateDir(const std::string& d) override;
  leveldb::Status RemoveDir(const std::string& d) override;

 private:
  friend class FaultWritableFile;

  struct FileState {
    std::string name;     // current name (renames follow it)
    uint64_t size = 0;    // bytes appended successfully
    uint64_t synced = 0;  // bytes durable
    bool ever_synced = false;
    bool dir_synced = false;  // the directory was synced after the file was created
  };

  // Decides the fate of a write or sync on `fname` before it is done: OK, or the error to
  // return instead (power cut, injected failure).
  leveldb::Status Admit(Op op, const std::string& fname);
  // The error for calls that change the disk after the power is cut (OK before).
  leveldb::Status PowerCheck(const std::string& what);
  void Appended(const std::shared_ptr<FileState>& state, uint64_t n);
  void Synced(const std::shared_ptr<FileState>& state, int64_t start_us);
  void Closed();
  leveldb::Status Track(const std::string& fname, leveldb::WritableFile* file, bool appendable,
                        leveldb::WritableFile** result);

  std::atomic<bool> power_cut_{false};
  std::atomic<uint64_t> ops_{0};
  std::atomic<int64_t> sync_latency_us_{0};
  std::atomic<FileKind> latency_kind_{FileKind::kAny};

  mutable std::mutex mu_;
  uint64_t cut_countdown_ = 0;  // GUARDED_BY(mu_)
  Op fail_op_ = Op::kWrite;     // GUARDED_BY(mu_)
  FileKind fail_kind_ = FileKind::kAny;
  uint64_t fail_countdown_ = 0;                              // GUARDED_BY(mu_); 0: no failure armed
  uint64_t injected_ = 0;                                    // GUARDED_BY(mu_)
  std::map<std::string, std::shared_ptr<FileState>> files_;  // GUARDED_BY(mu_)
  int open_files_ = 0;                                       // GUARDED_BY(mu_)
  std::map<FileKind, uint64_t> syncs_;                       // GUARDED_BY(mu_)
  std::map<FileKind, uint64_t> created_;                     // GUARDED_BY(mu_)
  std::vector<SyncSpan> log_syncs_;                          // GUARDED_BY(mu_)
  std::string drop_report_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_TESTS_FAULT_ENV_H_
