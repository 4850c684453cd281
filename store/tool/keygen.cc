#include "keygen.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/ui.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "mailjournal/checkpoint.h"
#include "mailjournal/openssl_util.h"
#include "mailjournal/policy.h"
#include "mailjournal/seal.h"

namespace mailjournal {

namespace {

using BignumPtr = OpenSslPtr<BIGNUM, BN_free>;
using P8InfoPtr = OpenSslPtr<PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free>;
using SigPtr = OpenSslPtr<X509_SIG, X509_SIG_free>;
using UiPtr = OpenSslPtr<UI, UI_free>;
using ExtPtr = OpenSslPtr<X509_EXTENSION, X509_EXTENSION_free>;

// OpenSSL failed: Internal with its reasons.
Status OpenSslError(const std::string& what) { return Status::Internal(OpenSslErrors(what)); }

// A file this process created; removed on destruction unless Keep() was called.
class CreatedFile {
 public:
  CreatedFile() = default;
  ~CreatedFile() {
    if (fd_ >= 0) close(fd_);
    if (!path_.empty() && !kept_) unlink(path_.c_str());
  }
  CreatedFile(const CreatedFile&) = delete;
  CreatedFile& operator=(const CreatedFile&) = delete;

  // Creates `path` exclusively with exactly `mode` (whatever the umask).
  Status Create(const std::string& path, mode_t mode) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
      if (errno == EEXIST) return Status::IOError(path + ": already exists; not overwritten");
      return Status::IOError("cannot create " + path + ": " + std::strerror(errno));
    }
    fd_ = fd;
    path_ = path;
    if (fchmod(fd_, mode) != 0) return Status::IOError(path + ": chmod: " + std::strerror(errno));
    return Status::OK();
  }

  // Writes all bytes, fsyncs and closes.
  Status WriteAndClose(const char* data, size_t size) {
    while (size > 0) {
      ssize_t n = write(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::IOError("cannot write " + path_ + ": " + std::strerror(errno));
      data += n;
      size -= static_cast<size_t>(n);
    }
    if (fsync(fd_) != 0) return Status::IOError("cannot sync " + path_ + ": " + strerror(errno));
    int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) return Status::IOError("cannot write " + path_ + ": " + strerror(errno));
    return Status::OK();
  }

  void Keep() { kept_ = true; }

 private:
  int fd_ = -1;
  std::string path_;
  bool kept_ = false;
};

std::string MemoryBioBytes(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

// The encrypted PKCS#8 PEM of `pkey`.
Status EncryptPrivateKey(EVP_PKEY* pkey, const Passphrase& passphrase, std::string* pem) {
  // PKCS8_encrypt rather than PEM_write_bio_PKCS8PrivateKey: the same PBES2 structure, but
  // with an iteration count fit for a key file that must resist guessing for decades.
  P8InfoPtr p8(EVP_PKEY2PKCS8(pkey));
  if (!p8) return OpenSslError("cannot encode the private key");
  SigPtr encrypted(PKCS8_encrypt(-1, EVP_aes_256_cbc(), passphrase.data(),
                                 static_cast<int>(passphrase.size()), nullptr, 16,
                                 kKeygenPbkdf2Iterations, p8.get()));
  if (!encrypted) return OpenSslError("cannot encrypt the private key");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PKCS8(bio.get(), encrypted.get()) != 1) {
    return OpenSslError("cannot write the private key as PEM");
  }
  *pem = MemoryBioBytes(bio.get());
  return Status::OK();
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError(std::string("cannot add certificate extension ") + OBJ_nid2sn(nid));
  }
  return Status::OK();
}

// A random positive serial number of 128 bits.
Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  BignumPtr bn;
  do {
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) return OpenSslError("cannot make a serial number");
    bn.reset(BN_bin2bn(bytes, sizeof(bytes), nullptr));
    if (!bn) return OpenSslError("cannot make a serial number");
  } while (BN_is_zero(bn.get()));
  if (BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslError("cannot set the serial number");
  }
  return Status::OK();
}

Status MakeCertificate(EVP_PKEY* pkey, const std::string& department, int days, X509Ptr* out) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return OpenSslError("cannot make a certificate");
  }
  Status s = SetRandomSerial(cert.get());
  if (!s.ok()) return s;
  std::string cn = "mailjournal department " + department;
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1) {
    return OpenSslError("cannot set the certificate's subject");
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr) == nullptr) {
    return OpenSslError("cannot set the certificate's validity");
  }
  if (X509_set_pubkey(cert.get(), pkey) != 1) return OpenSslError("cannot set the public key");
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  s = AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
  if (s.ok()) s = AddExtension(cert.get(), &ctx, NID_key_usage, "critical,keyEncipherment");
  if (s.ok()) s = AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  if (!s.ok()) return s;
  if (X509_sign(cert.get(), pkey, EVP_sha256()) <= 0) {
    return OpenSslError("cannot sign the certificate");
  }
  *out = std::move(cert);
  return Status::OK();
}

std::string NotAfterDay(X509* cert) {
  struct tm tm;
  char buf[32];
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1 ||
      strftime(buf, sizeof(buf), "%Y-%m-%d", &tm) == 0) {
    return "";
  }
  return buf;
}

}  // namespace

Passphrase::~Passphrase() { Clear(); }

void Passphrase::Assign(const char* bytes, size_t size) {
  Clear();
  if (size > kMaxSize) size = kMaxSize;
  std::memcpy(buf_, bytes, size);
  size_ = size;
}

void Passphrase::Clear() {
  OPENSSL_cleanse(buf_, sizeof(buf_));
  size_ = 0;
}

Status ReadPassphraseFile(const std::string& path, Passphrase* passphrase) {
  passphrase->Clear();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::NotFound("cannot open passphrase file " + path + ": " + std::strerror(errno));
  }
  char buf[Passphrase::kMaxSize + 2];
  size_t size = 0;
  Status s;
  while (size < sizeof(buf) && std::memchr(buf, '\n', size) == nullptr) {
    ssize_t n = read(fd, buf + size, sizeof(buf) - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) s = Status::IOError("cannot read passphrase file " + path + ": " + strerror(errno));
    if (n <= 0) break;
    size += static_cast<size_t>(n);
  }
  close(fd);
  const char* nl = static_cast<const char*>(std::memchr(buf, '\n', size));
  size_t line = nl != nullptr ? static_cast<size_t>(nl - buf) : size;
  if (!s.ok()) {
  } else if (line == 0) {
    s = Status::InvalidArgument("passphrase file " + path + ": the first line is empty");
  } else if (line > Passphrase::kMaxSize) {
    s = Status::InvalidArgument("passphrase file " + path + ": the passphrase is longer than " +
                                std::to_string(Passphrase::kMaxSize) + " bytes");
  } else if (std::memchr(buf, '\0', line) != nullptr) {
    s = Status::InvalidArgument("passphrase file " + path + ": the passphrase holds a NUL byte");
  } else {
    passphrase->Assign(buf, line);
  }
  OPENSSL_cleanse(buf, sizeof(buf));
  return s;
}

Status PromptNewPassphrase(const std::string& what, Passphrase* passphrase) {
  passphrase->Clear();
  char first[Passphrase::kMaxSize + 1] = {};
  char second[Passphrase::kMaxSize + 1] = {};
  std::string prompt1 = "Passphrase for " + what + ": ";
  std::string prompt2 = "Passphrase for " + what + " (again): ";
  UiPtr ui(UI_new());
  Status s;
  if (!ui ||
      UI_add_input_string(ui.get(), prompt1.c_str(), 0, first, 0, Passphrase::kMaxSize) < 0 ||
      UI_add_input_string(ui.get(), prompt2.c_str(), 0, second, 0, Passphrase::kMaxSize) < 0) {
    s = OpenSslError("cannot prompt for a passphrase");
  } else if (UI_process(ui.get()) != 0) {
    ERR_clear_error();
    s = Status::IOError("cannot read a passphrase from the terminal (interrupted?)");
  } else if (std::strcmp(first, second) != 0) {
    s = Status::InvalidArgument("the passphrases do not match");
  } else if (first[0] == '\0') {
    s = Status::InvalidArgument("empty passphrase refused");
  } else {
    passphrase->Assign(first, std::strlen(first));
  }
  ui.reset();  // UI_free cleanses the UI's own copies
  OPENSSL_cleanse(first, sizeof(first));
  OPENSSL_cleanse(second, sizeof(second));
  return s;
}

Status GenerateDepartmentKey(const KeygenOptions& options, const Passphrase& passphrase,
                             KeygenResult* result) {
  const std::string& dept = options.department;
  if (!IsValidPolicyName(dept)) {
    return Status::InvalidArgument("invalid department name '" + dept +
                                   "' (a lower-case letter or digit, then letters, digits, "
                                   "'_', '.' or '-', as in mailjournal.yaml(5))");
  }
  // The certificate's CN ("mailjournal department NAME") may have at most 64 characters.
  if (dept.size() > 41) {
    return Status::InvalidArgument("department name '" + dept +
                                   "' is too long for a certificate (at most 41 characters)");
  }
  if (options.days < 1 || options.days > kKeygenMaxDays) {
    return Status::InvalidArgument("--days must be between 1 and " +
                                   std::to_string(kKeygenMaxDays));
  }
  if (passphrase.empty()) return Status::InvalidArgument("empty passphrase refused");

  struct stat st;
  if (stat(options.dir.c_str(), &st) != 0) {
    return Status::IOError("cannot use directory " + options.dir + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return Status::IOError(options.dir + ": not a directory");
  std::string base = options.dir + (options.dir.back() == '/' ? "" : "/") + dept;
  std::string key_path = base + ".key", cert_path = base + ".crt";
  // Refuse before the slow key generation; O_EXCL below is what guarantees it.
  for (const std::string& p : {key_path, cert_path}) {
    if (lstat(p.c_str(), &st) == 0) return Status::IOError(p + ": already exists; not overwritten");
  }

  ERR_clear_error();
  PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(kKeygenRsaBits)));
  if (!pkey) return OpenSslError("cannot generate an RSA key");
  std::string key_pem;
  Status s = EncryptPrivateKey(pkey.get(), passphrase, &key_pem);
  if (!s.ok()) return s;
  X509Ptr cert;
  s = MakeCertificate(pkey.get(), dept, options.days, &cert);
  if (!s.ok()) return s;
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
    return OpenSslError("cannot write the certificate as PEM");
  }
  std::string cert_pem = MemoryBioBytes(bio.get());
  Sha256Digest fingerprint;
  s = CertificateKeyFingerprint(cert_pem, &fingerprint);
  if (!s.ok()) return s;

  CreatedFile key_file, cert_file;
  s = key_file.Create(key_path, 0600);
  if (s.ok()) s = cert_file.Create(cert_path, 0644);
  if (s.ok()) s = key_file.WriteAndClose(key_pem.data(), key_pem.size());
  if (s.ok()) s = cert_file.WriteAndClose(cert_pem.data(), cert_pem.size());
  if (s.ok()) {
    int dir_fd = open(options.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0 || fsync(dir_fd) != 0) {
      s = Status::IOError("cannot sync directory " + options.dir + ": " + std::strerror(errno));
    }
    if (dir_fd >= 0) close(dir_fd);
  }
  if (!s.ok()) return s;  // the destructors remove what was created
  key_file.Keep();
  cert_file.Keep();
  result->key_path = key_path;
  result->certificate_path = cert_path;
  result->fingerprint = HexEncode(
      std::string_view(reinterpret_cast<const char*>(fingerprint.data()), fingerprint.size()));
  result->not_after = NotAfterDay(cert.get());
  return Status::OK();
}

Status GenerateSigningKey(const std::string& origin, const std::string& dir,
                          SigningKeyResult* result) {
  std::string signer, verifier;
  Status s = GenerateNoteKey(origin, &signer, &verifier);
  if (!s.ok()) return s;
  std::string base = dir + (!dir.empty() && dir.back() == '/' ? "" : "/") + "checkpoint";
  signer += "\n";
  verifier += "\n";
  CreatedFile key_file, verifier_file;
  s = key_file.Create(base + ".key", 0600);
  if (s.ok()) s = verifier_file.Create(base + ".vkey", 0644);
  if (s.ok()) s = key_file.WriteAndClose(signer.data(), signer.size());
  if (s.ok()) s = verifier_file.WriteAndClose(verifier.data(), verifier.size());
  OPENSSL_cleanse(&signer[0], signer.size());
  if (!s.ok()) return s;
  key_file.Keep();
  verifier_file.Keep();
  result->key_path = base + ".key";
  result->verifier_path = base + ".vkey";
  verifier.pop_back();
  result->verifier_key = verifier;
  return Status::OK();
}

}  // namespace mailjournal
