#include "mailjournal/message_writer.h"

#include <exception>

#include "mailjournal/sha256.h"

namespace mailjournal {

struct MessageWriter::HashState {
  Sha256 sha;
};

MessageWriter::MessageWriter(Journal* journal) : journal_(journal), hash_(new HashState) {
  error_ = journal_->BeginTransaction(&txn_);
  buffer_.reserve(kMaxChunkSize);
}

MessageWriter::~MessageWriter() { Abort(); }

Status MessageWriter::Append(std::string_view bytes) {
  if (finished_) return Status::Internal("message writer: append after commit or abort");
  if (!error_.ok()) return error_;
  hash_->sha.Update(bytes);
  size_ += bytes.size();
  while (!bytes.empty()) {
    size_t room = kMaxChunkSize - buffer_.size();
    size_t n = bytes.size() < room ? bytes.size() : room;
    buffer_.append(bytes.data(), n);
    bytes.remove_prefix(n);
    // Stage only when more bytes follow a full chunk, so that a message of exactly one
    // chunk is written once, by the commit.
    if (buffer_.size() == kMaxChunkSize && !bytes.empty()) {
      error_ = journal_->StageChunk(txn_, staged_chunks_, buffer_);
      if (!error_.ok()) return error_;
      ++staged_chunks_;
      buffer_.clear();
    }
  }
  return Status::OK();
}

Status MessageWriter::Commit(MessageEntry entry, const Journal::Finalizer& finalize, uint64_t* seq,
                             MessageEntry* stored) {
  if (finished_) return Status::Internal("message writer: commit after commit or abort");
  if (!error_.ok()) return error_;
  entry.content.size = size_;
  entry.content.sha256 = hash_->sha.Final();
  entry.content.txn = txn_;
  entry.content.chunks = staged_chunks_ + (buffer_.empty() ? 0 : 1);
  Status s = journal_->CommitMessage(&entry, buffer_, finalize, terms_, seq);
  if (!s.ok()) {
    error_ = s;
    Abort();
    return s;
  }
  finished_ = true;
  buffer_.clear();
  if (stored != nullptr) *stored = std::move(entry);
  return s;
}

void MessageWriter::Abort() {
  if (finished_) return;
  finished_ = true;
  buffer_.clear();
  if (staged_chunks_ > 0) {
    // A failure here leaves the chunks for the cleanup at the next open.
    journal_->AbortTransaction(txn_, staged_chunks_);
  }
}

}  // namespace mailjournal
