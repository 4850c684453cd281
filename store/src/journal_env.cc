#include "journal_env.h"

#include <memory>

namespace mailjournal {

namespace {

class GuardedFile : public leveldb::WritableFile {
 public:
  GuardedFile(leveldb::WritableFile* base, bool is_log) : base_(base), is_log_(is_log) {}

  ~GuardedFile() override {
    if (!closed_) Close();
  }

  leveldb::Status Append(const leveldb::Slice& data) override {
    return Checked(error_.ok() ? base_->Append(data) : error_);
  }
  leveldb::Status Flush() override { return Checked(error_.ok() ? base_->Flush() : error_); }
  leveldb::Status Sync() override { return Checked(error_.ok() ? base_->Sync() : error_); }

  leveldb::Status Close() override {
    closed_ = true;
    leveldb::Status synced = is_log_ && error_.ok() ? Sync() : error_;
    leveldb::Status closed = base_->Close();
    return synced.ok() ? closed : synced;
  }

 private:
  leveldb::Status Checked(const leveldb::Status& s) {
    if (!s.ok() && error_.ok()) error_ = s;
    return s;
  }

  std::unique_ptr<leveldb::WritableFile> base_;
  const bool is_log_;
  leveldb::Status error_;  // the first failure; every later operation returns it
  bool closed_ = false;
};

bool IsLog(const std::string& name) {
  return name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0;
}

}  // namespace

leveldb::Status JournalEnv::NewWritableFile(const std::string& name,
                                            leveldb::WritableFile** result) {
  leveldb::WritableFile* base = nullptr;
  leveldb::Status s = target()->NewWritableFile(name, &base);
  *result = s.ok() ? new GuardedFile(base, IsLog(name)) : nullptr;
  return s;
}

leveldb::Status JournalEnv::NewAppendableFile(const std::string& name,
                                              leveldb::WritableFile** result) {
  leveldb::WritableFile* base = nullptr;
  leveldb::Status s = target()->NewAppendableFile(name, &base);
  *result = s.ok() ? new GuardedFile(base, IsLog(name)) : nullptr;
  return s;
}

}  // namespace mailjournal
