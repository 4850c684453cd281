#include "fault_env.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

namespace mailjournal {

namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string BaseName(const std::string& fname) {
  size_t slash = fname.rfind('/');
  return slash == std::string::npos ? fname : fname.substr(slash + 1);
}

std::string DirName(const std::string& fname) {
  size_t slash = fname.rfind('/');
  return slash == std::string::npos ? "." : fname.substr(0, slash);
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// A file written through FaultEnv: every write and sync asks the Env first.
class FaultWritableFile : public leveldb::WritableFile {
 public:
  FaultWritableFile(FaultEnv* env, std::shared_ptr<FaultEnv::FileState> state,
                    leveldb::WritableFile* target)
      : env_(env), name_(state->name), state_(std::move(state)), target_(target) {}

  // The target's destructor flushes what it buffered; such bytes were never synced.
  ~FaultWritableFile() override {
    delete target_;
    env_->Closed();
  }

  leveldb::Status Append(const leveldb::Slice& data) override {
    leveldb::Status s = env_->Admit(FaultEnv::Op::kWrite, name_);
    if (s.ok()) s = target_->Append(data);
    if (s.ok()) env_->Appended(state_, data.size());
    return s;
  }

  leveldb::Status Close() override { return target_->Close(); }

  leveldb::Status Flush() override {
    leveldb::Status s = env_->PowerCheck(name_);
    return s.ok() ? target_->Flush() : s;
  }

  // Slow first, then it may fail: a slow disk that gives up.
  leveldb::Status Sync() override {
    int64_t start = NowUs();
    int64_t latency = env_->sync_latency_us_.load();
    FaultEnv::FileKind kind = env_->latency_kind_.load();
    if (latency > 0 && (kind == FaultEnv::FileKind::kAny || kind == FaultEnv::KindOf(name_))) {
      std::this_thread::sleep_for(std::chrono::microseconds(latency));
    }
    leveldb::Status s = env_->Admit(FaultEnv::Op::kSync, name_);
    if (!s.ok()) return s;
    s = target_->Sync();
    if (s.ok()) env_->Synced(state_, start);
    return s;
  }

 private:
  FaultEnv* const env_;
  const std::string name_;  // as created (for the kind of file)
  const std::shared_ptr<FaultEnv::FileState> state_;
  leveldb::WritableFile* const target_;
};

FaultEnv::FileKind FaultEnv::KindOf(const std::string& fname) {
  std::string base = BaseName(fname);
  if (EndsWith(base, ".log")) return FileKind::kLog;
  if (EndsWith(base, ".ldb") || EndsWith(base, ".sst")) return FileKind::kTable;
  if (base.compare(0, 9, "MANIFEST-") == 0) return FileKind::kManifest;
  return FileKind::kOther;
}

FaultEnv::FaultEnv() : leveldb::EnvWrapper(leveldb::Env::Default()) {}

FaultEnv::~FaultEnv() = default;

void FaultEnv::CutPower() { power_cut_.store(true); }

void FaultEnv::CutPowerAt(uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  cut_countdown_ = n;
}

void FaultEnv::FailAt(Op op, uint64_t n, FileKind kind) {
  std::lock_guard<std::mutex> l(mu_);
  fail_op_ = op;
  fail_kind_ = kind;
  fail_countdown_ = n;
}

uint64_t FaultEnv::injected_failures() const {
  std::lock_guard<std::mutex> l(mu_);
  return injected_;
}

namespace {
uint64_t CountOf(const std::map<FaultEnv::FileKind, uint64_t>& counts, FaultEnv::FileKind kind) {
  uint64_t n = 0;
  for (const auto& [k, count] : counts) {
    if (kind == FaultEnv::FileKind::kAny || k == kind) n += count;
  }
  return n;
}
}  // namespace

uint64_t FaultEnv::syncs(FileKind kind) const {
  std::lock_guard<std::mutex> l(mu_);
  return CountOf(syncs_, kind);
}

uint64_t FaultEnv::created(FileKind kind) const {
  std::lock_guard<std::mutex> l(mu_);
  return CountOf(created_, kind);
}

std::vector<FaultEnv::SyncSpan> FaultEnv::LogSyncSpans() const {
  std::lock_guard<std::mutex> l(mu_);
  return log_syncs_;
}

leveldb::Status FaultEnv::Admit(Op op, const std::string& fname) {
  ops_.fetch_add(1);
  std::lock_guard<std::mutex> l(mu_);
  if (power_cut_.load()) return leveldb::Status::IOError(fname, "power cut");
  if (cut_countdown_ > 0 && --cut_countdown_ == 0) {
    power_cut_.store(true);
    return leveldb::Status::IOError(fname, "power cut");
  }
  if (fail_countdown_ > 0 && op == fail_op_ &&
      (fail_kind_ == FileKind::kAny || fail_kind_ == KindOf(fname)) && --fail_countdown_ == 0) {
    ++injected_;
    return leveldb::Status::IOError(
        fname, op == Op::kWrite ? "injected write failure" : "injected sync failure");
  }
  return leveldb::Status::OK();
}

leveldb::Status FaultEnv::PowerCheck(const std::string& what) {
  if (power_cut_.load()) return leveldb::Status::IOError(what, "power cut");
  return leveldb::Status::OK();
}

void FaultEnv::Appended(const std::shared_ptr<FileState>& state, uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  state->size += n;
}

void FaultEnv::Synced(const std::shared_ptr<FileState>& state, int64_t start_us) {
  std::lock_guard<std::mutex> l(mu_);
  state->synced = state->size;
  state->ever_synced = true;
  FileKind kind = KindOf(state->name);
  ++syncs_[kind];
  if (kind == FileKind::kLog) log_syncs_.push_back({start_us, NowUs()});
  if (kind == FileKind::kManifest) {
    // LevelDB's PosixWritableFile syncs the directory before it syncs a MANIFEST file.
    std::string dir = DirName(state->name);
    for (auto& [name, other] : files_) {
      if (DirName(name) == dir) other->dir_synced = true;
    }
  }
}

void FaultEnv::Closed() {
  std::lock_guard<std::mutex> l(mu_);
  --open_files_;
}

leveldb::Status FaultEnv::Track(const std::string& fname, leveldb::WritableFile* file,
                                bool appendable, leveldb::WritableFile** result) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<FileState>& state = files_[fname];
  if (state == nullptr || !appendable) {
    ++created_[KindOf(fname)];
    state = std::make_shared<FileState>();
    state->name = fname;
    if (appendable) {
      // An existing file not written through this Env: durable as it is.
      uint64_t size = 0;
      if (this->target()->GetFileSize(fname, &size).ok()) {
        state->size = state->synced = size;
        state->ever_synced = true;
      }
    }
  }
  ++open_files_;
  *result = new FaultWritableFile(this, state, file);
  return leveldb::Status::OK();
}

leveldb::Status FaultEnv::NewWritableFile(const std::string& f, leveldb::WritableFile** r) {
  *r = nullptr;
  leveldb::Status s = PowerCheck(f);
  leveldb::WritableFile* file = nullptr;
  if (s.ok()) s = target()->NewWritableFile(f, &file);
  return s.ok() ? Track(f, file, false, r) : s;
}

leveldb::Status FaultEnv::NewAppendableFile(const std::string& f, leveldb::WritableFile** r) {
  *r = nullptr;
  leveldb::Status s = PowerCheck(f);
  leveldb::WritableFile* file = nullptr;
  if (s.ok()) s = target()->NewAppendableFile(f, &file);
  return s.ok() ? Track(f, file, true, r) : s;
}

leveldb::Status FaultEnv::RemoveFile(const std::string& f) {
  leveldb::Status s = PowerCheck(f);
  if (s.ok()) s = target()->RemoveFile(f);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    files_.erase(f);
  }
  return s;
}

leveldb::Status FaultEnv::RenameFile(const std::string& from, const std::string& to) {
  leveldb::Status s = PowerCheck(from);
  if (s.ok()) s = target()->RenameFile(from, to);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    files_.erase(to);
    auto it = files_.find(from);
    if (it != files_.end()) {
      it->second->name = to;
      files_[to] = it->second;
      files_.erase(it);
    }
  }
  return s;
}

leveldb::Status FaultEnv::CreateDir(const std::string& d) {
  leveldb::Status s = PowerCheck(d);
  return s.ok() ? target()->CreateDir(d) : s;
}

leveldb::Status FaultEnv::RemoveDir(const std::string& d) {
  leveldb::Status s = PowerCheck(d);
  return s.ok() ? target()->RemoveDir(d) : s;
}

leveldb::Status FaultEnv::DropUnsyncedData(uint64_t torn_seed) {
  std::lock_guard<std::mutex> l(mu_);
  if (open_files_ != 0) {
    return leveldb::Status::IOError("fault env", std::to_string(open_files_) + " files still open");
  }
  std::mt19937_64 rng(torn_seed);
  leveldb::Status result;
  drop_report_.clear();
  for (const auto& [name, state] : files_) {
    std::string base = BaseName(name);
    if (!state->ever_synced && !state->dir_synced) {
      if (unlink(name.c_str()) != 0 && errno != ENOENT && result.ok()) {
        result = leveldb::Status::IOError(name, std::strerror(errno));
      }
      drop_report_ += " " + base + ":removed";
      continue;
    }
    uint64_t keep = state->synced;
    if (torn_seed != 0 && state->size > keep) keep += rng() % (state->size - keep + 1);
    if (truncate(name.c_str(), static_cast<off_t>(keep)) != 0 && result.ok()) {
      result = leveldb::Status::IOError(name, std::strerror(errno));
    }
    if (keep != state->size) {
      drop_report_ += " " + base + ":" + std::to_string(state->size) + "->" + std::to_string(keep);
    }
  }
  files_.clear();
  power_cut_.store(false);
  cut_countdown_ = 0;
  fail_countdown_ = 0;
  return result;
}

}  // namespace mailjournal
