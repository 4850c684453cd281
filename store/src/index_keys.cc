#include "mailjournal/index_keys.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "mailjournal/openssl_util.h"

namespace mailjournal {

namespace {

constexpr char kFileHeader[] = "mailjournal-index-keys 1";
constexpr char kSuffix[] = ".key";
constexpr char kIdInput[] = "mailjournal index key id";

using MacPtr = OpenSslPtr<EVP_MAC, EVP_MAC_free>;
using MacCtxPtr = OpenSslPtr<EVP_MAC_CTX, EVP_MAC_CTX_free>;

std::string Hex(const std::array<uint8_t, 32>& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

bool ParseHex(const std::string& text, std::array<uint8_t, 32>* bytes) {
  if (text.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    unsigned value = 0;
    for (char c : text.substr(2 * i, 2)) {
      int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (digit < 0) return false;
      value = value * 16 + static_cast<unsigned>(digit);
    }
    (*bytes)[i] = static_cast<uint8_t>(value);
  }
  return true;
}

Status SyncDirectory(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(dir + ": " + std::strerror(errno));
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  return rc == 0 ? Status::OK() : Status::IOError(dir + ": fsync: " + std::strerror(err));
}

}  // namespace

struct TermHasher::State {
  MacCtxPtr ctx;
};

TermHasher::TermHasher(const IndexKey& key) : state_(new State) {
  MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  state_->ctx.reset(EVP_MAC_CTX_new(mac.get()));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  // Only fails without the default provider, which every other use of OpenSSL needs too.
  if (state_->ctx == nullptr ||
      EVP_MAC_init(state_->ctx.get(), key.secret.data(), key.secret.size(), params) != 1) {
    abort();
  }
}

TermHasher::~TermHasher() = default;

uint64_t TermHasher::Hash(std::string_view token) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  // A NULL key re-initialises with the key already set (OpenSSL 3 EVP_MAC_init).
  if (EVP_MAC_init(state_->ctx.get(), nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(state_->ctx.get(), reinterpret_cast<const unsigned char*>(token.data()),
                     token.size()) != 1 ||
      EVP_MAC_final(state_->ctx.get(), out, &len, sizeof out) != 1 || len < 8) {
    abort();  // cannot happen with a working HMAC; hashing wrongly would lose mail silently
  }
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | out[i];
  return v;
}

IndexKey MakeIndexKey(const std::array<uint8_t, 32>& secret) {
  IndexKey key;
  key.secret = secret;
  key.id = TermHasher(key).Hash(kIdInput);
  return key;
}

std::string IndexKeyStore::PathOf(const std::string& department) const {
  return dir_ + "/" + department + kSuffix;
}

Status IndexKeyStore::Load(const std::string& department, std::vector<IndexKey>* keys) {
  auto cached = cache_.find(department);
  if (cached != cache_.end()) {
    *keys = cached->second;
    return Status::OK();
  }
  std::string path = PathOf(department);
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return Status::NotFound(path + ": no index key");
    return Status::IOError(path + ": " + std::strerror(errno));
  }
  std::string line;
  if (!std::getline(in, line) || line != kFileHeader) {
    return Status::Corruption(path + ":1: not an index key file");
  }
  std::vector<IndexKey> loaded;
  for (int number = 2; std::getline(in, line); ++number) {
    std::array<uint8_t, 32> secret;
    if (!ParseHex(line, &secret)) {
      return Status::Corruption(path + ":" + std::to_string(number) +
                                ": not a key (64 lower-case hex digits)");
    }
    loaded.push_back(MakeIndexKey(secret));
  }
  if (loaded.empty()) return Status::Corruption(path + ": no key in the file");
  cache_[department] = loaded;
  *keys = std::move(loaded);
  return Status::OK();
}

Status IndexKeyStore::Write(const std::string& department, const std::vector<IndexKey>& keys) {
  if (mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::IOError(dir_ + ": cannot create: " + std::strerror(errno));
  }
  std::string text = std::string(kFileHeader) + "\n";
  for (const IndexKey& k : keys) text += Hex(k.secret) + "\n";
  std::string path = PathOf(department);
  std::string temp = path + ".new";
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError(temp + ": " + std::strerror(errno));
  // Root (the offline tool) writes the file for the directory's owner, the daemon's user,
  // who must go on reading it.
  struct stat dir_stat;
  bool ok = stat(dir_.c_str(), &dir_stat) == 0 &&
            (geteuid() != 0 || fchown(fd, dir_stat.st_uid, dir_stat.st_gid) == 0) &&
            write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            fsync(fd) == 0;
  int err = errno;
  close(fd);
  std::fill(text.begin(), text.end(), '\0');
  if (!ok || rename(temp.c_str(), path.c_str()) != 0) {
    if (ok) err = errno;
    unlink(temp.c_str());
    return Status::IOError(path + ": " + std::strerror(err));
  }
  Status s = SyncDirectory(dir_);
  if (s.ok()) cache_[department] = keys;
  return s;
}

Status IndexKeyStore::Keys(const std::string& department, bool create,
                           std::vector<IndexKey>* keys) {
  {
    std::lock_guard<std::mutex> l(mu_);
    Status s = Load(department, keys);
    if (!s.IsNotFound() || !create) return s;
    std::array<uint8_t, 32> secret;
    if (RAND_bytes(secret.data(), secret.size()) != 1) {
      return Status::Internal(OpenSslErrors("index key: no random bytes"));
    }
    keys->assign(1, MakeIndexKey(secret));
    s = Write(department, *keys);
    if (!s.ok()) return s;
  }
  if (observer_) observer_(department, keys->front(), "created");
  return Status::OK();
}

Status IndexKeyStore::Departments(std::vector<std::string>* departments) {
  departments->clear();
  DIR* d = opendir(dir_.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return Status::OK();
    return Status::IOError(dir_ + ": " + std::strerror(errno));
  }
  const size_t suffix = std::strlen(kSuffix);
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > suffix && name.compare(name.size() - suffix, suffix, kSuffix) == 0) {
      departments->push_back(name.substr(0, name.size() - suffix));
    }
  }
  closedir(d);
  std::sort(departments->begin(), departments->end());
  return Status::OK();
}

Status IndexKeyStore::Rotate(const std::string& department, IndexKey* key) {
  std::unique_lock<std::mutex> l(mu_);
  std::vector<IndexKey> keys;
  Status s = Load(department, &keys);
  if (!s.ok() && !s.IsNotFound()) return s;
  std::array<uint8_t, 32> secret;
  if (RAND_bytes(secret.data(), secret.size()) != 1) {
    return Status::Internal(OpenSslErrors("index key: no random bytes"));
  }
  *key = MakeIndexKey(secret);
  keys.insert(keys.begin(), *key);
  s = Write(department, keys);
  l.unlock();
  if (s.ok() && observer_) observer_(department, *key, "rotated");
  return s;
}

Status IndexKeyStore::RetireOld(const std::string& department) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<IndexKey> keys;
  Status s = Load(department, &keys);
  if (!s.ok()) return s;
  keys.resize(1);
  return Write(department, keys);
}

}  // namespace mailjournal
