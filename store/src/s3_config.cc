#include "mailjournal/s3_config.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace mailjournal {

namespace {

// A file a credentials file could never need to be larger than.
constexpr size_t kMaxCredentialsBytes = 64 * 1024;

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool ValidBucketName(const std::string& name) {
  if (name.size() < 3 || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return alnum(name.front()) && alnum(name.back());
}

// Reads all of fd (at most kMaxCredentialsBytes).
Status ReadAll(int fd, const std::string& path, std::string* text) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError(path + ": " + std::strerror(errno));
    if (n == 0) return Status::OK();
    text->append(buf, static_cast<size_t>(n));
    OPENSSL_cleanse(buf, sizeof buf);
    if (text->size() > kMaxCredentialsBytes) {
      return Status::InvalidArgument(path + ": too large for a credentials file");
    }
  }
}

}  // namespace

Status ValidateS3Config(const S3Config& config) {
  const std::string& e = config.endpoint;
  size_t host_at;
  if (e.rfind("http://", 0) == 0) {
    host_at = 7;
  } else if (e.rfind("https://", 0) == 0) {
    host_at = 8;
  } else {
    return Status::InvalidArgument("s3 endpoint '" + e + "': must start with http:// or https://");
  }
  std::string host = e.substr(host_at);
  if (!host.empty() && host.back() == '/') host.pop_back();
  if (host.empty() || host.find_first_of("/?#@ ") != std::string::npos) {
    return Status::InvalidArgument("s3 endpoint '" + e +
                                   "': must be SCHEME://HOST[:PORT], without a path or user");
  }
  if (config.region.empty()) return Status::InvalidArgument("s3 region: not set");
  if (!ValidBucketName(config.bucket)) {
    return Status::InvalidArgument("s3 bucket '" + config.bucket +
                                   "': not a valid bucket name (3 to 63 of a-z 0-9 . -, starting "
                                   "and ending with a letter or digit)");
  }
  if (config.access_key.empty() || config.secret_key.empty()) {
    return Status::InvalidArgument("s3 credentials: access key or secret key not set");
  }
  if (config.connect_timeout_seconds <= 0 || config.stall_timeout_seconds <= 0) {
    return Status::InvalidArgument("s3 timeouts: must be positive");
  }
  return Status::OK();
}

Status LoadS3Credentials(const std::string& path, S3Config* config) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound(path + ": no such credentials file");
    if (err == EACCES) return Status::PermissionDenied(path + ": " + std::strerror(err));
    return Status::IOError(path + ": " + std::strerror(err));
  }
  struct stat st;
  Status s;
  std::string text;
  if (fstat(fd, &st) != 0) {
    s = Status::IOError(path + ": " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    s = Status::InvalidArgument(path + ": not a regular file");
  } else if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    s = Status::PermissionDenied(path +
                                 ": the S3 credentials file is accessible to its group or "
                                 "others (mode " +
                                 mode + "); it must be readable by its owner only: chmod 600 " +
                                 path);
  } else {
    s = ReadAll(fd, path, &text);
  }
  close(fd);
  std::string access_key, secret_key;
  size_t line_no = 0, pos = 0;
  while (s.ok() && pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = Trim(text.substr(pos, eol - pos));
    pos = eol + 1;
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::string where = path + ":" + std::to_string(line_no) + ": ";
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      s = Status::InvalidArgument(where + "expected 'access_key = ...' or 'secret_key = ...'");
      break;
    }
    std::string key = Trim(line.substr(0, eq));
    std::string value = Trim(line.substr(eq + 1));
    std::string* slot = key == "access_key"   ? &access_key
                        : key == "secret_key" ? &secret_key
                                              : nullptr;
    if (slot == nullptr) {
      s = Status::InvalidArgument(where + "unknown key '" + key +
                                  "' (only access_key and secret_key)");
    } else if (!slot->empty()) {
      s = Status::InvalidArgument(where + key + " given twice");
    } else if (value.empty()) {
      s = Status::InvalidArgument(where + key + " is empty");
    } else {
      *slot = value;
    }
    OPENSSL_cleanse(&line[0], line.size());
    OPENSSL_cleanse(&value[0], value.size());
  }
  if (!text.empty()) OPENSSL_cleanse(&text[0], text.size());
  if (s.ok() && (access_key.empty() || secret_key.empty())) {
    s = Status::InvalidArgument(path + ": needs both access_key and secret_key");
  }
  if (s.ok()) {
    config->access_key = std::move(access_key);
    config->secret_key = std::move(secret_key);
  }
  if (!secret_key.empty()) OPENSSL_cleanse(&secret_key[0], secret_key.size());
  return s;
}

}  // namespace mailjournal
