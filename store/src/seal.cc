#include "mailjournal/seal.h"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <zstd.h>

#include <mutex>
#include <vector>

#include "mailjournal/openssl_util.h"
#include "mailjournal/sha256.h"

namespace mailjournal {

namespace {

struct CmsFree {
  void operator()(CMS_ContentInfo* c) const { CMS_ContentInfo_free(c); }
};
struct ZstdDFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};
using CmsPtr = std::unique_ptr<CMS_ContentInfo, CmsFree>;

constexpr int kZstdLevel = 3;
// Smaller than level 3's defaults for an input of unknown size (a 2 MiB window, 512 KiB and
// 256 KiB match tables): a context takes 1.1 MiB instead of 3.6 MiB (each message being
// sealed holds one) and compresses a 20 KB message in 60 instead of 65 us of CPU, while the
// output grows by less than 0.3%: a 20 KB text message 7,481 -> 7,489 bytes, a 3 MB one with
// a base64 attachment 2,120,915 -> 2,126,896 bytes (zstd 1.5.4).
constexpr int kZstdWindowLog = 17;
constexpr int kZstdHashLog = 15;
constexpr int kZstdChainLog = 14;

// SHA-256 of the key's DER SubjectPublicKeyInfo.
Status SpkiFingerprint(EVP_PKEY* key, Sha256Digest* fingerprint) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return Status::Internal(OpenSslErrors("cannot encode a public key"));
  *fingerprint = Sha256::Of(std::string_view(reinterpret_cast<const char*>(der), len));
  OPENSSL_free(der);
  return Status::OK();
}

// Compression contexts, reused from one message to the next: a new context would clear its
// tables for every message, and a context per connection would find them cold. The most
// recently released context is handed out first, so its tables are likely in the cache;
// about as many exist as messages are being sealed at the same time.
class CompressorPool {
 public:
  // A context set up for sealing, or null when zstd cannot make one.
  ZSTD_CCtx* Acquire() {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!idle_.empty()) {
        ZSTD_CCtx* z = idle_.back();
        idle_.pop_back();
        return z;
      }
    }
    ZSTD_CCtx* z = ZSTD_createCCtx();
    if (z == nullptr ||
        ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, kZstdLevel)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_windowLog, kZstdWindowLog)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_hashLog, kZstdHashLog)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_chainLog, kZstdChainLog)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1))) {
      ZSTD_freeCCtx(z);
      return nullptr;
    }
    return z;
  }
  // Takes back a context from Acquire(), in any state (a frame may be unfinished).
  void Release(ZSTD_CCtx* z) {
    if (z == nullptr) return;
    if (!ZSTD_isError(ZSTD_CCtx_reset(z, ZSTD_reset_session_only))) {
      std::lock_guard<std::mutex> l(mu_);
      if (idle_.size() < kMaxIdle) {
        idle_.push_back(z);
        return;
      }
    }
    ZSTD_freeCCtx(z);
  }

 private:
  static constexpr size_t kMaxIdle = 64;  // at most about 70 MiB kept idle
  std::mutex mu_;
  std::vector<ZSTD_CCtx*> idle_;  // GUARDED_BY(mu_)
};

// Never destroyed: sealers may outlive static destruction at exit.
CompressorPool& Compressors() {
  static CompressorPool* pool = new CompressorPool;
  return *pool;
}

// Certificates are never encrypted: a PEM block claiming to be fails instead of prompting.
int NeverPrompt(char*, int, int, void*) { return 0; }

}  // namespace

struct Sealer::State {
  CmsPtr cms;
  BioPtr sink;                // memory BIO receiving sealed bytes; owned separately from the chain
  BIO* chain = nullptr;       // BIO_new_CMS(sink): plaintext (compressed) goes in here
  ZSTD_CCtx* zstd = nullptr;  // from Compressors() until Finish()
  std::string compressed;     // scratch buffer for zstd output
  std::string sealed;         // produced, not yet taken
  std::vector<Sha256Digest> recipients;
  Status error;
  bool finished = false;
};

Sealer::Sealer(std::unique_ptr<State> state) : state_(std::move(state)) {}

Sealer::~Sealer() {
  Compressors().Release(state_->zstd);
  // Free the filter BIOs BIO_new_CMS pushed, down to (not including) the sink.
  BIO* b = state_->chain;
  while (b != nullptr && b != state_->sink.get()) {
    BIO* next = BIO_pop(b);
    BIO_free(b);
    b = next;
  }
}

struct RecipientKey::State {
  X509Ptr certificate;
};

RecipientKey::RecipientKey(std::unique_ptr<State> state, const Sha256Digest& fingerprint)
    : state_(std::move(state)), fingerprint_(fingerprint) {}

RecipientKey::~RecipientKey() = default;

Status RecipientKey::Parse(std::string_view certificate_pem,
                           std::shared_ptr<const RecipientKey>* key) {
  ERR_clear_error();
  BioPtr bio = MemoryBio(certificate_pem);
  auto state = std::make_unique<State>();
  state->certificate.reset(PEM_read_bio_X509(bio.get(), nullptr, NeverPrompt, nullptr));
  if (!state->certificate) {
    return Status::InvalidArgument(OpenSslErrors("seal: bad recipient certificate"));
  }
  EVP_PKEY* pkey = X509_get0_pubkey(state->certificate.get());
  if (pkey == nullptr || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
    return Status::InvalidArgument("seal: recipient certificate does not hold an RSA key");
  }
  Sha256Digest fingerprint;
  Status s = SpkiFingerprint(pkey, &fingerprint);
  if (!s.ok()) return s;
  key->reset(new RecipientKey(std::move(state), fingerprint));
  return Status::OK();
}

Status Sealer::Create(const RecipientKeys& recipients, std::unique_ptr<Sealer>* sealer) {
  if (recipients.empty()) return Status::InvalidArgument("seal: no recipient certificate");
  ERR_clear_error();
  auto state = std::make_unique<State>();
  state->cms.reset(CMS_AuthEnvelopedData_create(EVP_aes_256_gcm()));
  if (!state->cms) return Status::Internal(OpenSslErrors("seal: cannot create CMS envelope"));
  for (const auto& recipient : recipients) {
    state->recipients.push_back(recipient->fingerprint());
    // CMS_add1_recipient_cert takes its own references to the certificate and its key.
    CMS_RecipientInfo* ri = CMS_add1_recipient_cert(
        state->cms.get(), recipient->state_->certificate.get(), CMS_KEY_PARAM);
    EVP_PKEY_CTX* ctx = ri == nullptr ? nullptr : CMS_RecipientInfo_get0_pkey_ctx(ri);
    if (ctx == nullptr || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) <= 0) {
      return Status::Internal(OpenSslErrors("seal: cannot add recipient"));
    }
  }
  state->sink.reset(BIO_new(BIO_s_mem()));
  state->chain = state->sink ? BIO_new_CMS(state->sink.get(), state->cms.get()) : nullptr;
  if (state->chain == nullptr) return Status::Internal(OpenSslErrors("seal: cannot start"));
  state->zstd = Compressors().Acquire();
  if (state->zstd == nullptr) return Status::Internal("seal: cannot set up zstd");
  state->compressed.resize(ZSTD_CStreamOutSize());
  sealer->reset(new Sealer(std::move(state)));
  return Status::OK();
}

Status Sealer::Drain() {
  char* data = nullptr;
  long n = BIO_get_mem_data(state_->sink.get(), &data);
  if (n > 0) {
    state_->sealed.append(data, static_cast<size_t>(n));
    BIO_reset(state_->sink.get());
  }
  return Status::OK();
}

Status Sealer::Append(std::string_view plaintext) {
  State& st = *state_;
  if (!st.error.ok()) return st.error;
  if (st.finished) return st.error = Status::Internal("seal: append after finish");
  ZSTD_inBuffer in{plaintext.data(), plaintext.size(), 0};
  while (in.pos < in.size) {
    ZSTD_outBuffer out{&st.compressed[0], st.compressed.size(), 0};
    size_t r = ZSTD_compressStream2(st.zstd, &out, &in, ZSTD_e_continue);
    if (ZSTD_isError(r))
      return st.error = Status::Internal(std::string("seal: zstd: ") + ZSTD_getErrorName(r));
    if (out.pos > 0 && BIO_write(st.chain, st.compressed.data(), static_cast<int>(out.pos)) !=
                           static_cast<int>(out.pos)) {
      return st.error = Status::Internal(OpenSslErrors("seal: encrypt"));
    }
  }
  return Drain();
}

Status Sealer::Finish() {
  State& st = *state_;
  if (!st.error.ok()) return st.error;
  if (st.finished) return st.error = Status::Internal("seal: finished twice");
  st.finished = true;
  ZSTD_inBuffer in{nullptr, 0, 0};
  size_t remaining;
  do {
    ZSTD_outBuffer out{&st.compressed[0], st.compressed.size(), 0};
    remaining = ZSTD_compressStream2(st.zstd, &out, &in, ZSTD_e_end);
    if (ZSTD_isError(remaining)) {
      return st.error =
                 Status::Internal(std::string("seal: zstd: ") + ZSTD_getErrorName(remaining));
    }
    if (out.pos > 0 && BIO_write(st.chain, st.compressed.data(), static_cast<int>(out.pos)) !=
                           static_cast<int>(out.pos)) {
      return st.error = Status::Internal(OpenSslErrors("seal: encrypt"));
    }
  } while (remaining != 0);
  Compressors().Release(st.zstd);
  st.zstd = nullptr;
  // Flushing the CMS BIO finishes the encryption and writes the tag and the BER ends.
  if (BIO_flush(st.chain) != 1) return st.error = Status::Internal(OpenSslErrors("seal: finish"));
  return Drain();
}

const std::vector<Sha256Digest>& Sealer::recipients() const { return state_->recipients; }

std::string Sealer::Take() {
  std::string out;
  out.swap(state_->sealed);
  return out;
}

Status CertificateKeyFingerprint(std::string_view certificate_pem, Sha256Digest* fingerprint) {
  ERR_clear_error();
  BioPtr bio = MemoryBio(certificate_pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  EVP_PKEY* key = cert ? X509_get0_pubkey(cert.get()) : nullptr;
  if (key == nullptr) return Status::InvalidArgument(OpenSslErrors("not a PEM certificate"));
  return SpkiFingerprint(key, fingerprint);
}

struct OpeningKey::State {
  PkeyPtr key;
};

OpeningKey::OpeningKey(std::unique_ptr<State> state, const Sha256Digest& fingerprint)
    : state_(std::move(state)), fingerprint_(fingerprint) {}

OpeningKey::~OpeningKey() = default;

Status OpeningKey::Load(const std::string& private_key_pem, const char* passphrase,
                        std::unique_ptr<OpeningKey>* key) {
  ERR_clear_error();
  auto state = std::make_unique<State>();
  BioPtr bio = MemoryBio(private_key_pem);
  state->key.reset(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>(passphrase)));
  if (!state->key) return Status::InvalidArgument(OpenSslErrors("cannot read the private key"));
  if (EVP_PKEY_get_base_id(state->key.get()) != EVP_PKEY_RSA) {
    return Status::InvalidArgument("the private key is not an RSA key");
  }
  Sha256Digest fingerprint;
  Status s = SpkiFingerprint(state->key.get(), &fingerprint);
  if (!s.ok()) return s;
  key->reset(new OpeningKey(std::move(state), fingerprint));
  return Status::OK();
}

Status OpeningKey::Open(std::string_view sealed, std::string* plaintext) const {
  ERR_clear_error();
  BioPtr in = MemoryBio(sealed);
  CmsPtr cms(d2i_CMS_bio(in.get(), nullptr));
  if (!cms) return Status::Corruption(OpenSslErrors("not a CMS structure"));
  BioPtr out(BIO_new(BIO_s_mem()));
  // Without a certificate OpenSSL tries the key on every recipient. CMS_DEBUG_DECRYPT turns
  // off the countermeasure against padding oracles (a key that unwraps nothing would get a
  // random content key and fail only at the GCM tag): this runs offline, on the officer's
  // machine, where no oracle is exposed, and the error then says where it failed.
  if (CMS_decrypt(cms.get(), state_->key.get(), nullptr, nullptr, out.get(),
                  CMS_BINARY | CMS_DEBUG_DECRYPT) != 1) {
    return Status::Corruption(OpenSslErrors("the sealed content does not open"));
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(out.get(), &data);
  std::unique_ptr<ZSTD_DCtx, ZstdDFree> zstd(ZSTD_createDCtx());
  std::string result;
  std::string buf(ZSTD_DStreamOutSize(), '\0');
  ZSTD_inBuffer zin{data, n > 0 ? static_cast<size_t>(n) : 0, 0};
  size_t r = 1;
  while (zin.pos < zin.size) {
    ZSTD_outBuffer zout{&buf[0], buf.size(), 0};
    r = ZSTD_decompressStream(zstd.get(), &zout, &zin);
    if (ZSTD_isError(r)) return Status::Corruption(std::string("zstd: ") + ZSTD_getErrorName(r));
    result.append(buf.data(), zout.pos);
  }
  if (r != 0) return Status::Corruption("the compressed content is truncated");
  plaintext->swap(result);
  return Status::OK();
}

}  // namespace mailjournal
