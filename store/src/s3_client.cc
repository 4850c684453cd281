#include "mailjournal/s3_client.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <utility>

#include "mailjournal/entry.h"
#include "mailjournal/openssl_util.h"
#include "mailjournal/time_util.h"

namespace mailjournal {

namespace {

// libcurl's and libxml2's process-wide set-up, once, from whichever thread comes first.
// Never undone: other code of the process may use either library.
CURLcode InitLibrariesOnce() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] {
    result = curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
  });
  return result;
}

// A digest of `bytes` with OpenSSL's EVP interface ("SHA256", "MD5"); "" if OpenSSL fails.
std::string Digest(const char* algorithm, std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_MD* md = EVP_MD_fetch(nullptr, algorithm, nullptr);
  bool ok = md != nullptr && EVP_Digest(bytes.data(), bytes.size(), out, &n, md, nullptr) == 1;
  EVP_MD_free(md);
  return ok ? std::string(reinterpret_cast<char*>(out), n) : std::string();
}

// RFC 3986 percent-encoding of everything but the unreserved characters (and '/' when
// keep_slash), upper-case hex: the form SigV4's canonical request uses.
std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// "2027-01-01T00:00:00Z", whole seconds rounded up.
std::string FormatRetainUntil(int64_t time_us) {
  int64_t secs = time_us / 1000000 + (time_us % 1000000 > 0 ? 1 : 0);
  time_t t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

S3LockMode ParseLockMode(const std::string& text) {
  if (text == "COMPLIANCE") return S3LockMode::kCompliance;
  if (text == "GOVERNANCE") return S3LockMode::kGovernance;
  return S3LockMode::kNone;
}

bool IsTransientCurlFailure(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_AGAIN:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

// libxml2 documents, owned.
struct XmlDocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocFree>;

// Parses an S3 answer's XML: no network access, no entity expansion, no messages on stderr.
XmlDocPtr ParseXml(const std::string& body) {
  if (body.empty() || body.size() > static_cast<size_t>(INT32_MAX)) return nullptr;
  return XmlDocPtr(xmlReadMemory(body.data(), static_cast<int>(body.size()), "s3-answer.xml",
                                 nullptr,
                                 XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
}

bool NameIs(const xmlNode* node, const char* name) {
  return node != nullptr && node->type == XML_ELEMENT_NODE &&
         std::strcmp(reinterpret_cast<const char*>(node->name), name) == 0;
}

// The first child element of `parent` with this local name (S3's namespace aside), or null.
const xmlNode* Child(const xmlNode* parent, const char* name) {
  for (const xmlNode* n = parent ? parent->children : nullptr; n != nullptr; n = n->next) {
    if (NameIs(n, name)) return n;
  }
  return nullptr;
}

std::string Text(const xmlNode* node) {
  if (node == nullptr) return "";
  xmlChar* content = xmlNodeGetContent(node);
  std::string out = content ? reinterpret_cast<const char*>(content) : "";
  xmlFree(content);
  return out;
}

std::string ChildText(const xmlNode* parent, const char* name) { return Text(Child(parent, name)); }

bool ParseUint(const std::string& text, uint64_t* value) {
  if (text.empty() || text.size() > 19) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *value = v;
  return true;
}

// libcurl callbacks.
size_t AppendBody(char* data, size_t size, size_t nmemb, void* out) {
  static_cast<std::string*>(out)->append(data, size * nmemb);
  return size * nmemb;
}

size_t AppendHeader(char* data, size_t size, size_t nmemb, void* out) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(out);
  std::string line(data, size * nmemb);
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new answer (after "100 Continue"): its own headers only
    return size * nmemb;
  }
  size_t colon = line.find(':');
  if (colon == std::string::npos) return size * nmemb;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  size_t b = line.find_first_not_of(" \t", colon + 1);
  size_t e = line.find_last_not_of(" \t\r\n");
  (*headers)[name] = (b == std::string::npos || e < b) ? "" : line.substr(b, e - b + 1);
  return size * nmemb;
}

struct UploadCursor {
  std::string_view body;
  size_t offset = 0;
};

size_t ReadBody(char* buffer, size_t size, size_t nitems, void* in) {
  auto* cursor = static_cast<UploadCursor*>(in);
  size_t n = std::min(size * nitems, cursor->body.size() - cursor->offset);
  std::memcpy(buffer, cursor->body.data() + cursor->offset, n);
  cursor->offset += n;
  return n;
}

int SeekBody(void* in, curl_off_t offset, int origin) {
  auto* cursor = static_cast<UploadCursor*>(in);
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > cursor->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  cursor->offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

struct SlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

const char* S3LockModeName(S3LockMode mode) {
  switch (mode) {
    case S3LockMode::kCompliance:
      return "COMPLIANCE";
    case S3LockMode::kGovernance:
      return "GOVERNANCE";
    case S3LockMode::kNone:
      break;
  }
  return "";
}

bool IsTransientS3Failure(const Status& status) {
  return status.code() == Status::Code::kUnavailable;
}

bool IsTransientHttpAnswer(long http_status, const std::string& s3_code) {
  return http_status >= 500 || http_status == 408 || http_status == 429 || s3_code == "SlowDown" ||
         s3_code == "RequestTimeout";
}

struct S3Client::CurlHandle {
  CURL* handle = nullptr;
  ~CurlHandle() {
    if (handle) curl_easy_cleanup(handle);
  }
};

struct S3Client::Request {
  const char* method = "GET";                              // GET, HEAD, PUT or DELETE
  std::string key;                                         // "" : the bucket itself
  std::vector<std::pair<std::string, std::string>> query;  // name, value ("" allowed)
  std::vector<std::string> headers;                        // "name: value"
  bool has_body = false;                                   // PUT with `body`
  std::string_view body;
};

struct S3Client::Response {
  long http_status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

S3Client::S3Client(S3Config config) : config_(std::move(config)), curl_(new CurlHandle) {
  if (!config_.endpoint.empty() && config_.endpoint.back() == '/') config_.endpoint.pop_back();
  if (InitLibrariesOnce() == CURLE_OK) curl_->handle = curl_easy_init();
}

S3Client::~S3Client() {
  if (!config_.secret_key.empty())
    OPENSSL_cleanse(&config_.secret_key[0], config_.secret_key.size());
}

Status S3Client::Perform(const Request& request, Response* response) {
  last_error_ = S3Error();
  std::string what = std::string("s3 ") + request.method + " " + config_.bucket +
                     (request.key.empty() ? "" : "/" + request.key);
  auto refuse = [&](Status s) {
    last_error_.message = s.message();
    return s;
  };
  Status valid = ValidateS3Config(config_);
  if (!valid.ok()) return refuse(Status::InvalidArgument(what + ": " + valid.message()));
  if (curl_->handle == nullptr) return refuse(Status::Internal(what + ": libcurl cannot start"));

  // URL: path style http://HOST/BUCKET/KEY or virtual-hosted http://BUCKET.HOST/KEY. The
  // query is sorted by name, every parameter written as name=value (even with an empty
  // value): libcurl 7.88 signs the query as it is given.
  std::string url;
  if (config_.path_style) {
    url = config_.endpoint + "/" + config_.bucket;
  } else {
    size_t host_at = config_.endpoint.find("://") + 3;
    url = config_.endpoint.substr(0, host_at) + config_.bucket + "." +
          config_.endpoint.substr(host_at);
  }
  url += "/" + UriEncode(request.key, true);
  if (config_.path_style && request.key.empty()) url.pop_back();  // http://HOST/BUCKET
  auto query = request.query;
  std::sort(query.begin(), query.end());
  for (size_t i = 0; i < query.size(); ++i) {
    url += (i == 0 ? "?" : "&") + UriEncode(query[i].first, false) + "=" +
           UriEncode(query[i].second, false);
  }

  // Headers: libcurl 7.88 does not hash the payload of an upload for SigV4, so the
  // x-amz-content-sha256 header is ours; Content-MD5 lets S3 check what arrived (and is
  // required with Object Lock). No "Expect:" to turn off libcurl's 100-continue: libcurl
  // 7.88 would sign that empty header, and S3 would then refuse the signature.
  std::string sha256 = Digest("SHA256", request.body);
  if (sha256.empty()) return refuse(Status::Internal(OpenSslErrors(what + ": SHA-256")));
  std::unique_ptr<curl_slist, SlistFree> headers;
  auto add_header = [&](const std::string& line) {
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  };
  add_header("x-amz-content-sha256: " + HexEncode(sha256));
  if (request.has_body) {
    std::string md5 = Digest("MD5", request.body);
    if (md5.empty()) return refuse(Status::Internal(OpenSslErrors(what + ": MD5")));
    add_header("Content-MD5: " + Base64Encode(md5));
  }
  for (const auto& h : request.headers) add_header(h);
  if (!headers) return refuse(Status::Internal(what + ": out of memory"));

  CURL* h = curl_->handle;
  curl_easy_reset(h);
  char error_buffer[CURL_ERROR_SIZE] = "";
  std::string sigv4 = "aws:amz:" + config_.region + ":s3";
  UploadCursor cursor{request.body, 0};
  response->http_status = 0;
  response->body.clear();
  response->headers.clear();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(h, CURLOPT_USERNAME, config_.access_key.c_str());
  curl_easy_setopt(h, CURLOPT_PASSWORD, config_.secret_key.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, config_.connect_timeout_seconds);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, config_.stall_timeout_seconds);
  if (!config_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, config_.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response->body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, AppendHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response->headers);
  std::string method = request.method;
  if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (method == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(h, CURLOPT_READDATA, &cursor);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, SeekBody);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &cursor);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method);
  }

  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    last_error_.message = error_buffer[0] ? error_buffer : curl_easy_strerror(rc);
    last_error_.transient = IsTransientCurlFailure(rc);
    std::string text = what + ": " + curl_easy_strerror(rc) +
                       (error_buffer[0] ? std::string(": ") + error_buffer : std::string());
    if (last_error_.transient) return Status::Unavailable(text + " (transient)");
    return Status::IOError(text);
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response->http_status);
  long status = response->http_status;
  if (status >= 200 && status < 300) return Status::OK();

  last_error_.http_status = status;
  auto request_id = response->headers.find("x-amz-request-id");
  if (request_id != response->headers.end()) last_error_.request_id = request_id->second;
  if (XmlDocPtr doc = ParseXml(response->body)) {
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    if (NameIs(root, "Error")) {
      last_error_.code = ChildText(root, "Code");
      last_error_.message = ChildText(root, "Message");
      std::string id = ChildText(root, "RequestId");
      if (!id.empty()) last_error_.request_id = id;
    }
  }
  last_error_.transient = IsTransientHttpAnswer(status, last_error_.code);
  std::string text = what + ": HTTP " + std::to_string(status);
  if (!last_error_.code.empty()) text += " " + last_error_.code;
  if (!last_error_.message.empty()) text += ": " + last_error_.message;
  if (!last_error_.request_id.empty()) text += " (request id " + last_error_.request_id + ")";
  if (last_error_.transient) return Status::Unavailable(text + " (transient)");
  if (status == 403) return Status::PermissionDenied(text);
  if (status == 404) return Status::NotFound(text);
  if (status >= 400 && status < 500) return Status::InvalidArgument(text);
  return Status::IOError(text);
}

Status S3Client::CreateBucket() {
  Request request;
  request.method = "PUT";
  request.has_body = true;
  request.headers.push_back("x-amz-bucket-object-lock-enabled: true");
  // Outside us-east-1 S3 wants the bucket's region in the body.
  std::string body;
  if (config_.region != "us-east-1") {
    body =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>" +
        config_.region + "</LocationConstraint></CreateBucketConfiguration>";
  }
  request.body = body;
  Response response;
  return Perform(request, &response);
}

Status S3Client::PutObject(const std::string& key, std::string_view body,
                           const S3PutOptions& options, S3PutResult* result) {
  Request request;
  request.method = "PUT";
  request.key = key;
  request.has_body = true;
  request.body = body;
  request.headers.push_back("Content-Type: application/octet-stream");
  if (options.lock_mode != S3LockMode::kNone) {
    if (options.retain_until_us <= 0) {
      last_error_ = S3Error();
      return Status::InvalidArgument("s3 PUT " + config_.bucket + "/" + key +
                                     ": a lock mode needs a retain-until date");
    }
    request.headers.push_back(std::string("x-amz-object-lock-mode: ") +
                              S3LockModeName(options.lock_mode));
    request.headers.push_back("x-amz-object-lock-retain-until-date: " +
                              FormatRetainUntil(options.retain_until_us));
  }
  if (options.legal_hold) request.headers.push_back("x-amz-object-lock-legal-hold: ON");
  Response response;
  Status s = Perform(request, &response);
  if (s.ok() && result != nullptr) {
    result->etag = response.headers["etag"];
    result->version_id = response.headers["x-amz-version-id"];
  }
  return s;
}

namespace {

Status InfoFromHeaders(const std::string& what, std::map<std::string, std::string>& headers,
                       S3ObjectInfo* info) {
  S3ObjectInfo out;
  if (!ParseUint(headers["content-length"], &out.size)) {
    return Status::IOError(what + ": no valid Content-Length in the answer");
  }
  out.etag = headers["etag"];
  out.version_id = headers["x-amz-version-id"];
  out.lock_mode = ParseLockMode(headers["x-amz-object-lock-mode"]);
  const std::string& until = headers["x-amz-object-lock-retain-until-date"];
  if (!until.empty()) {
    Status s = ParseTime(until, &out.retain_until_us);
    if (!s.ok()) return Status::IOError(what + ": retain-until date: " + s.message());
  }
  out.legal_hold = headers["x-amz-object-lock-legal-hold"] == "ON";
  *info = std::move(out);
  return Status::OK();
}

}  // namespace

Status S3Client::GetObject(const std::string& key, const std::string& version_id, std::string* body,
                           S3ObjectInfo* info) {
  Request request;
  request.method = "GET";
  request.key = key;
  if (!version_id.empty()) request.query.emplace_back("versionId", version_id);
  Response response;
  Status s = Perform(request, &response);
  if (!s.ok()) return s;
  S3ObjectInfo parsed;
  s = InfoFromHeaders("s3 GET " + config_.bucket + "/" + key, response.headers, &parsed);
  if (s.ok() && parsed.size != response.body.size()) {
    s = Status::IOError("s3 GET " + config_.bucket + "/" + key + ": got " +
                        std::to_string(response.body.size()) + " bytes, Content-Length " +
                        std::to_string(parsed.size));
  }
  if (!s.ok()) return s;
  *body = std::move(response.body);
  if (info != nullptr) *info = std::move(parsed);
  return s;
}

Status S3Client::HeadObject(const std::string& key, const std::string& version_id,
                            S3ObjectInfo* info) {
  Request request;
  request.method = "HEAD";
  request.key = key;
  if (!version_id.empty()) request.query.emplace_back("versionId", version_id);
  Response response;
  Status s = Perform(request, &response);
  if (!s.ok()) return s;
  return InfoFromHeaders("s3 HEAD " + config_.bucket + "/" + key, response.headers, info);
}

Status S3Client::ListObjects(const std::string& prefix, const std::string& continuation_token,
                             int max_keys, S3ListPage* page) {
  std::string what = "s3 GET " + config_.bucket + " (list " + prefix + ")";
  if (max_keys < 1 || max_keys > 1000) {
    last_error_ = S3Error();
    return Status::InvalidArgument(what + ": max-keys must be 1 to 1000");
  }
  Request request;
  request.method = "GET";
  request.query = {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(max_keys)}};
  if (!continuation_token.empty())
    request.query.emplace_back("continuation-token", continuation_token);
  Response response;
  Status s = Perform(request, &response);
  if (!s.ok()) return s;
  XmlDocPtr doc = ParseXml(response.body);
  const xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
  if (!NameIs(root, "ListBucketResult")) {
    return Status::IOError(what + ": the answer is not a ListBucketResult");
  }
  S3ListPage out;
  out.truncated = ChildText(root, "IsTruncated") == "true";
  out.next_continuation_token = ChildText(root, "NextContinuationToken");
  if (out.truncated && out.next_continuation_token.empty()) {
    return Status::IOError(what + ": truncated listing without a NextContinuationToken");
  }
  for (const xmlNode* n = root->children; n != nullptr; n = n->next) {
    if (!NameIs(n, "Contents")) continue;
    S3ListedObject object;
    object.key = ChildText(n, "Key");
    object.etag = ChildText(n, "ETag");
    object.last_modified = ChildText(n, "LastModified");
    if (object.key.empty() || !ParseUint(ChildText(n, "Size"), &object.size)) {
      return Status::IOError(what + ": a listed object without a key or size");
    }
    out.objects.push_back(std::move(object));
  }
  *page = std::move(out);
  return Status::OK();
}

Status S3Client::ListAllVersions(const std::string& prefix,
                                 std::vector<S3ListedVersion>* versions) {
  std::string what = "s3 GET " + config_.bucket + " (versions of " + prefix + ")";
  std::vector<S3ListedVersion> all;
  std::string key_marker, version_marker;
  for (;;) {
    Request request;
    request.method = "GET";
    request.query = {{"versions", ""}, {"prefix", prefix}, {"max-keys", "1000"}};
    if (!key_marker.empty()) request.query.emplace_back("key-marker", key_marker);
    if (!version_marker.empty()) request.query.emplace_back("version-id-marker", version_marker);
    Response response;
    Status s = Perform(request, &response);
    if (!s.ok()) return s;
    XmlDocPtr doc = ParseXml(response.body);
    const xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    if (!NameIs(root, "ListVersionsResult")) {
      return Status::IOError(what + ": the answer is not a ListVersionsResult");
    }
    for (const xmlNode* n = root->children; n != nullptr; n = n->next) {
      bool marker = NameIs(n, "DeleteMarker");
      if (!marker && !NameIs(n, "Version")) continue;
      S3ListedVersion v;
      v.key = ChildText(n, "Key");
      v.version_id = ChildText(n, "VersionId");
      v.is_latest = ChildText(n, "IsLatest") == "true";
      v.delete_marker = marker;
      v.etag = ChildText(n, "ETag");
      if (v.key.empty() || (!marker && !ParseUint(ChildText(n, "Size"), &v.size))) {
        return Status::IOError(what + ": a listed version without a key or size");
      }
      all.push_back(std::move(v));
    }
    if (ChildText(root, "IsTruncated") != "true") break;
    key_marker = ChildText(root, "NextKeyMarker");
    version_marker = ChildText(root, "NextVersionIdMarker");
    if (key_marker.empty()) {
      return Status::IOError(what + ": truncated listing without a NextKeyMarker");
    }
  }
  *versions = std::move(all);
  return Status::OK();
}

Status S3Client::ListAllObjects(const std::string& prefix, int page_size,
                                std::vector<S3ListedObject>* objects) {
  std::vector<S3ListedObject> all;
  std::string token;
  for (;;) {
    S3ListPage page;
    Status s = ListObjects(prefix, token, page_size, &page);
    if (!s.ok()) return s;
    std::move(page.objects.begin(), page.objects.end(), std::back_inserter(all));
    if (!page.truncated) break;
    token = page.next_continuation_token;
  }
  *objects = std::move(all);
  return Status::OK();
}

Status S3Client::PutObjectRetention(const std::string& key, const std::string& version_id,
                                    S3LockMode mode, int64_t retain_until_us) {
  return PutSubresource(
      key, version_id, "retention",
      std::string("<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>") +
          S3LockModeName(mode) + "</Mode><RetainUntilDate>" + FormatRetainUntil(retain_until_us) +
          "</RetainUntilDate></Retention>");
}

Status S3Client::PutObjectLegalHold(const std::string& key, const std::string& version_id,
                                    bool on) {
  return PutSubresource(
      key, version_id, "legal-hold",
      std::string("<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>") +
          (on ? "ON" : "OFF") + "</Status></LegalHold>");
}

Status S3Client::PutSubresource(const std::string& key, const std::string& version_id,
                                const std::string& subresource, std::string body) {
  Request request;
  request.method = "PUT";
  request.key = key;
  request.query.emplace_back(subresource, "");
  if (!version_id.empty()) request.query.emplace_back("versionId", version_id);
  request.has_body = true;
  request.body = std::move(body);
  Response response;
  return Perform(request, &response);
}

Status S3Client::DeleteObject(const std::string& key, const std::string& version_id) {
  Request request;
  request.method = "DELETE";
  request.key = key;
  if (!version_id.empty()) request.query.emplace_back("versionId", version_id);
  Response response;
  return Perform(request, &response);
}

}  // namespace mailjournal
