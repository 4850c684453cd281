#include "mailjournal/journal_summary.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mailjournal {

namespace {

// Adds the sizes of the regular files under directory `dirfd` (closed here), recursively.
Status AddDirectoryBytes(int dirfd, const std::string& path, uint64_t* total) {
  DIR* d = fdopendir(dirfd);
  if (d == nullptr) {
    close(dirfd);
    return Status::IOError(path + ": " + std::strerror(errno));
  }
  Status s;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    // Files may vanish meanwhile (LevelDB compactions): those are skipped.
    if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISREG(st.st_mode)) {
      *total += static_cast<uint64_t>(st.st_size);
    } else if (S_ISDIR(st.st_mode)) {
      int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0 && s.ok()) {
        s = AddDirectoryBytes(sub, path + "/" + name, total);
      } else if (sub >= 0) {
        close(sub);
      }
    }
  }
  closedir(d);
  return s;
}

}  // namespace

Status DirectoryBytes(const std::string& dir, uint64_t* bytes) {
  *bytes = 0;
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("journal " + dir + ": " + std::strerror(errno));
  uint64_t total = 0;
  Status s = AddDirectoryBytes(fd, "journal " + dir, &total);
  *bytes = s.ok() ? total : 0;
  return s;
}

Status SummarizeJournal(Journal* journal, const std::string& dir, JournalSummary* summary) {
  *summary = JournalSummary();
  Sha256Digest root;
  journal->TreeHead(&summary->tree_size, &root);
  Status s = DirectoryBytes(dir, &summary->disk_bytes);
  Status scan =
      journal->ScanKind(EntryKind::kCheckpoint, 0, true, [summary](uint64_t seq, const Entry& e) {
        summary->checkpoint_seq = seq;
        summary->checkpoint_tree_size = seq - 1;
        summary->checkpoint_time_us = e.time_us();
        return false;
      });
  return s.ok() ? scan : s;
}

}  // namespace mailjournal
