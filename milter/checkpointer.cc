#include "checkpointer.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "log.h"

namespace mailjournal {

Checkpointer::Checkpointer(Journal* journal, std::unique_ptr<NoteSigner> signer, int interval_s,
                           std::string dir, std::function<void()> on_checkpoint)
    : journal_(journal),
      signer_(std::move(signer)),
      interval_s_(interval_s),
      dir_(std::move(dir)),
      on_checkpoint_(std::move(on_checkpoint)) {}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Start() {
  // A journal that ends with a checkpoint (a clean stop) needs none until it grows.
  Entry last;
  uint64_t size = journal_->LastSequence();
  if (size > 0 && journal_->ReadEntry(size, &last).ok() && last.kind == EntryKind::kCheckpoint) {
    covered_ = size;
  }
  if (!dir_.empty()) RepairDirectory();
  thread_ = std::thread(&Checkpointer::Run, this);
}

void Checkpointer::RepairDirectory() {
  if (DIR* d = opendir(dir_.c_str())) {
    while (struct dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.rfind("checkpoint.", 0) == 0 && name.size() > 4 &&
          name.compare(name.size() - 4, 4, ".tmp") == 0) {
        unlink((dir_ + "/" + name).c_str());
      }
    }
    closedir(d);
  }
  // The newest checkpoint entry is the copy that matters: it covers all the others.
  Copy newest{0, 0, ""};
  journal_->Scan(0, true, [&](uint64_t seq, const Entry& e) {
    if (e.kind != EntryKind::kCheckpoint) return true;
    newest = Copy{seq - 1, e.time_us(), e.checkpoint.note};
    return false;
  });
  if (newest.note.empty()) return;
  uint64_t tree_size = newest.tree_size;
  Status s = WriteCopy(std::move(newest));
  if (!s.ok()) {
    Log(LOG_ERR, "checkpoint %llu: %s", static_cast<unsigned long long>(tree_size),
        s.message().c_str());
  }
}

Status Checkpointer::WriteCopy(Copy copy) {
  Status s = WriteFile(copy.tree_size, copy.note);
  if (!s.ok()) {
    unwritten_.push_back(std::move(copy));
    return s;
  }
  std::lock_guard<std::mutex> l(copy_mu_);
  if (copy.tree_size > copied_tree_size_) {
    copied_tree_size_ = copy.tree_size;
    copied_time_us_ = copy.time_us;
  }
  return s;
}

bool Checkpointer::LastCopy(uint64_t* tree_size, int64_t* checkpoint_time_us) const {
  std::lock_guard<std::mutex> l(copy_mu_);
  *tree_size = copied_tree_size_;
  *checkpoint_time_us = copied_time_us_;
  return copied_tree_size_ != 0;
}

void Checkpointer::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  uint64_t seq = 0;
  CheckpointIfGrown(&seq);
}

void Checkpointer::RequestCheckpoint() {
  {
    std::lock_guard<std::mutex> l(mu_);
    requested_ = true;
  }
  cv_.notify_all();
}

void Checkpointer::Run() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    cv_.wait_for(l, std::chrono::seconds(interval_s_), [this] { return stopping_ || requested_; });
    if (stopping_) break;
    bool own_entry = requested_;
    requested_ = false;
    l.unlock();
    uint64_t seq = 0;
    MakeCheckpoint(own_entry, &seq);
    l.lock();
  }
}

Status Checkpointer::CheckpointIfGrown(uint64_t* seq) { return MakeCheckpoint(false, seq); }

Status Checkpointer::MakeCheckpoint(bool own_entry, uint64_t* seq) {
  *seq = 0;
  std::vector<Copy> retry;
  retry.swap(unwritten_);
  for (Copy& copy : retry) {
    uint64_t tree_size = copy.tree_size;
    Status w = WriteCopy(std::move(copy));
    if (w.ok()) {
      Log(LOG_INFO, "checkpoint: tree_size=%llu copied to %s (retried)",
          static_cast<unsigned long long>(tree_size), dir_.c_str());
    } else {
      Log(LOG_ERR, "checkpoint %llu: %s", static_cast<unsigned long long>(tree_size),
          w.message().c_str());
    }
  }
  uint64_t size = journal_->LastSequence();
  // covered_ is the last checkpoint's own entry, the first entry its tree does not hold.
  if (size == 0 || size < covered_ || (size == covered_ && !own_entry)) return Status::OK();
  std::string note;
  int64_t time = 0;
  Status s = journal_->AppendCheckpoint(
      [&](uint64_t tree_size, const Sha256Digest& root, int64_t time_us, Entry* entry) {
        Checkpoint c{signer_->name(), tree_size, root, time_us};
        Status st = signer_->Sign(FormatCheckpoint(c), &note);
        entry->checkpoint.note = note;
        size = tree_size;
        time = time_us;
        return st;
      },
      seq);
  if (!s.ok()) {
    Log(LOG_ERR, "checkpoint: %s", s.message().c_str());
    return s;
  }
  covered_ = *seq;
  if (on_checkpoint_) on_checkpoint_();
  if (!dir_.empty()) s = WriteCopy(Copy{size, time, note});
  if (!s.ok()) {
    Log(LOG_ERR, "checkpoint %llu: %s", static_cast<unsigned long long>(size), s.message().c_str());
  } else {
    Log(LOG_INFO, "checkpoint: seq=%llu tree_size=%llu%s%s", static_cast<unsigned long long>(*seq),
        static_cast<unsigned long long>(size), dir_.empty() ? "" : " copied to ", dir_.c_str());
  }
  return s;
}

Status Checkpointer::WriteFile(uint64_t size, const std::string& note) {
  char name[64];
  std::snprintf(name, sizeof name, "/checkpoint.%020llu", static_cast<unsigned long long>(size));
  std::string path = dir_ + name, tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return Status::IOError(tmp + ": " + std::strerror(errno));
  const char* p = note.data();
  size_t left = note.size();
  Status s;
  while (left > 0 && s.ok()) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) s = Status::IOError(tmp + ": " + std::strerror(errno));
    if (n > 0) {
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  if (s.ok() && fsync(fd) != 0) s = Status::IOError(tmp + ": fsync: " + std::strerror(errno));
  if (close(fd) != 0 && s.ok()) s = Status::IOError(tmp + ": " + std::strerror(errno));
  if (s.ok() && link(tmp.c_str(), path.c_str()) != 0) {
    if (errno != EEXIST) {
      s = Status::IOError(path + ": " + std::strerror(errno));
    } else {
      std::ifstream in(path, std::ios::binary);
      std::string existing((std::istreambuf_iterator<char>(in)), {});
      if (existing != note) {
        s = Status::IOError(path +
                            ": exists with another checkpoint of this size; not replaced "
                            "(was the journal rolled back?)");
      }
    }
  }
  unlink(tmp.c_str());
  if (!s.ok()) return s;
  int dfd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || fsync(dfd) != 0) s = Status::IOError(dir_ + ": fsync: " + std::strerror(errno));
  if (dfd >= 0) close(dfd);
  return s;
}

}  // namespace mailjournal
