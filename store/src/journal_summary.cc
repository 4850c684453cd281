#include "mailjournal/journal_summary.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace mailjournal {

Status DirectoryBytes(const std::string& dir, uint64_t* bytes) {
  *bytes = 0;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Status::IOError("journal " + dir + ": " + std::strerror(errno));
  uint64_t total = 0;
  while (struct dirent* e = readdir(d)) {
    struct stat st;
    // Files may vanish meanwhile (LevelDB compactions): those are skipped.
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
      total += static_cast<uint64_t>(st.st_size);
    }
  }
  closedir(d);
  *bytes = total;
  return Status::OK();
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
