// MessageWriter: streams one message's bytes into a journal transaction.
//
// Bytes are appended as they arrive; full chunks are staged in the journal at once so
// memory stays bounded (at most one chunk, kMaxChunkSize bytes, is buffered). Commit()
// writes the last chunk and the entry in one synced write. A writer that is destroyed
// without a successful Commit() aborts its transaction.
//
// Thread-safety: a writer is used by one thread at a time; different writers may be used
// concurrently on the same journal.
#ifndef MAILJOURNAL_MESSAGE_WRITER_H_
#define MAILJOURNAL_MESSAGE_WRITER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mailjournal/entry.h"
#include "mailjournal/journal.h"
#include "mailjournal/status.h"

namespace mailjournal {

class MessageWriter {
 public:
  // REQUIRES: journal outlives the writer.
  explicit MessageWriter(Journal* journal);
  ~MessageWriter();
  MessageWriter(const MessageWriter&) = delete;
  MessageWriter& operator=(const MessageWriter&) = delete;

  // Appends captured bytes. Errors are sticky: after a failed Append every later Append and
  // Commit return the first error.
  Status Append(std::string_view bytes);

  // Commits the message: `entry` carries its envelope and classification, the writer adds
  // the content reference; `finalize` as for Journal::CommitMessage. On success sets *seq
  // and, if not null, *stored (the entry as stored). After Commit (successful or not) the
  // writer is finished; further calls are errors.
  // The message's search postings, committed with it (Journal::CommitMessage).
  void SetTerms(std::vector<TermSet> terms) { terms_ = std::move(terms); }

  Status Commit(MessageEntry entry, const Journal::Finalizer& finalize, uint64_t* seq,
                MessageEntry* stored);

  // Abandons the message and removes what was staged. Idempotent.
  void Abort();

  // Abandons the message without touching the journal: what was staged stays until the
  // journal's next open removes it. For a journal that is being closed.
  void Abandon() { finished_ = true; }

  uint64_t size() const { return size_; }
  // The first error so far (OK if none).
  const Status& status() const { return error_; }

 private:
  struct HashState;

  Journal* const journal_;
  std::unique_ptr<HashState> hash_;
  uint64_t txn_ = 0;
  std::string buffer_;
  std::vector<TermSet> terms_;
  uint32_t staged_chunks_ = 0;
  uint64_t size_ = 0;
  Status error_;
  bool finished_ = false;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_MESSAGE_WRITER_H_
