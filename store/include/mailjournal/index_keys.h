// Index keys: the per-department secrets that turn search tokens into the keyed hashes the
// journal stores (mailjournal-search(8), WHAT THE INDEX REVEALS).
//
// A term's hash is the first 64 bits (big-endian) of HMAC-SHA-256(secret, token); a key's
// id, which names it in the journal, is the same of the fixed string "mailjournal index key
// id". The journal never holds a secret: keys live in their own directory (mailjournald's
// index_keys setting), one file per department, DEPARTMENT.key, mode 0600:
//   mailjournal-index-keys 1
//   <64 hex digits>      the current key: new messages are indexed with it
//   <64 hex digits>      older keys whose postings are still in the journal (after a
//   ...                  rotation, until reindex drops them); searches use them all
// The daemon creates a department's file, with one random key, the first time it indexes a
// message of that department.
//
// Thread-safety: IndexKeyStore is thread-safe; a TermHasher is used by one thread.
#ifndef MAILJOURNAL_INDEX_KEYS_H_
#define MAILJOURNAL_INDEX_KEYS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mailjournal/status.h"

namespace mailjournal {

struct IndexKey {
  std::array<uint8_t, 32> secret{};
  uint64_t id = 0;
};

// A key from its secret (computes the id).
IndexKey MakeIndexKey(const std::array<uint8_t, 32>& secret);

// Hashes tokens with one key.
class TermHasher {
 public:
  explicit TermHasher(const IndexKey& key);
  ~TermHasher();
  TermHasher(const TermHasher&) = delete;
  TermHasher& operator=(const TermHasher&) = delete;
  uint64_t Hash(std::string_view token);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

class IndexKeyStore {
 public:
  // `dir`: the key directory. It is created (mode 0700) when a key is first created.
  explicit IndexKeyStore(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }

  // Told of every key the store makes, once it is written, outside the store's lock:
  // a department's first key (reason "created", by Keys) and a rotation's ("rotated").
  // The daemon journals them (index_key entries). Set before the store is shared.
  using NewKeyObserver = std::function<void(const std::string& department, const IndexKey& key,
                                            const std::string& reason)>;
  void SetNewKeyObserver(NewKeyObserver observer) { observer_ = std::move(observer); }

  // Sets *keys to the department's keys, current first. NotFound when it has none yet;
  // with `create`, a first key is made and written (durably) instead. IOError or
  // Corruption ("FILE: what is wrong") when the file cannot be read, written or parsed.
  Status Keys(const std::string& department, bool create, std::vector<IndexKey>* keys);

  // The departments that have a key file, sorted.
  Status Departments(std::vector<std::string>* departments);

  // Makes a new random key the department's current one; the others stay (searches still
  // use them) until retired. Sets *key to it.
  Status Rotate(const std::string& department, IndexKey* key);

  // Removes every key of the department but the current one (after a reindex dropped
  // their postings).
  Status RetireOld(const std::string& department);

 private:
  std::string PathOf(const std::string& department) const;
  Status Load(const std::string& department, std::vector<IndexKey>* keys);
  Status Write(const std::string& department, const std::vector<IndexKey>& keys);

  const std::string dir_;
  NewKeyObserver observer_;
  std::mutex mu_;
  std::map<std::string, std::vector<IndexKey>> cache_;  // GUARDED_BY(mu_)
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_INDEX_KEYS_H_
