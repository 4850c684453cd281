// forge_dispose: appends a dispose entry for message SEQ to a stopped daemon's journal now,
// through the journal library and bypassing the retention's rules, as an insider with write
// access to the journal could. For tests/e2e/test_retention.py: `verify` must catch it.
//
//   forge_dispose JOURNAL_DIR SEQ
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "mailjournal/journal.h"

int main(int argc, char** argv) {
  using namespace mailjournal;
  if (argc != 3) {
    std::fprintf(stderr, "usage: forge_dispose JOURNAL_DIR SEQ\n");
    return 64;
  }
  JournalOptions options;
  options.dir = argv[1];
  options.create_if_missing = false;
  std::unique_ptr<Journal> journal;
  Status s = OpenJournal(options, &journal);
  uint64_t seq = std::strtoull(argv[2], nullptr, 10);
  MessageEntry m;
  if (s.ok()) s = journal->ReadMessage(seq, &m);
  std::vector<Entry> disposals(1);
  disposals[0].kind = EntryKind::kDispose;
  disposals[0].dispose.message = seq;
  disposals[0].dispose.retention = m.classification.retention;
  disposals[0].dispose.retain_until_us = m.classification.retain_until_us;
  disposals[0].dispose.policy_digest = m.classification.policy_digest;
  disposals[0].dispose.actor = Actor{0, "forger"};
  uint64_t first = 0;
  if (s.ok()) s = journal->DisposeMessages(&disposals, &first);
  if (!s.ok()) {
    std::fprintf(stderr, "forge_dispose: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("%llu\n", static_cast<unsigned long long>(first));
  return 0;
}
