// S3Config: where and as whom an S3Client (mailjournal/s3_client.h) talks to an S3 bucket,
// and the credentials file it reads its keys from. Thread-safe (plain values and functions).
//
// Configuration keys (reserved for mailjournald.conf and the tool's options when shipping
// segments to S3 arrives; each names the S3Config member of the same name without "s3_"):
//
//   s3_endpoint     http://HOST:PORT or https://HOST[:PORT], no path: the S3 service, e.g.
//                   https://s3.eu-central-1.amazonaws.com or a site's own radosgw.
//   s3_region       the SigV4 signing region, e.g. eu-central-1 (radosgw: its zonegroup's
//                   name, "default" unless configured otherwise).
//   s3_bucket       the bucket (created with Object Lock enabled; s3_client.h CreateBucket).
//   s3_credentials  the credentials file below (the keys are never in the configuration).
//   s3_path_style   yes: http://HOST/BUCKET/KEY (radosgw, most private S3 services);
//                   no: http://BUCKET.HOST/KEY (virtual-hosted style, AWS's default).
//   s3_ca_file      a PEM file of CA certificates to verify an https endpoint with,
//                   instead of the system's (a site's private CA); empty: the system's.
//
// Credentials file format (s3_credentials): text, one `key = value` a line; blank lines
// and lines whose first non-blank character is '#' are ignored; spaces around the key and
// the value are stripped. Both keys are required, each once, and nothing else is allowed:
//
//   # S3 user mailjournal-mta1 (radosgw-admin user create, or an IAM user's access key)
//   access_key = AKIAIOSFODNN7EXAMPLE
//   secret_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
//
// The file must be a regular file readable only by its owner (mode 0600 or 0400, owned by
// the user the daemon runs as): LoadS3Credentials refuses a file that its group or others
// may read or write, as ssh refuses such a private key.
#ifndef MAILJOURNAL_S3_CONFIG_H_
#define MAILJOURNAL_S3_CONFIG_H_

#include <string>

#include "mailjournal/status.h"

namespace mailjournal {

struct S3Config {
  std::string endpoint;  // "http://127.0.0.1:7480"; a trailing '/' is allowed
  std::string region;
  std::string bucket;
  std::string access_key;
  std::string secret_key;
  bool path_style = true;
  std::string ca_file;  // "" : the system's CA certificates
  // A request that cannot connect within this many seconds fails (transiently).
  long connect_timeout_seconds = 10;
  // A request that moves fewer than 1 byte/s for this many seconds fails (transiently);
  // there is no limit on a whole request's time, so large objects can take what they need.
  long stall_timeout_seconds = 60;
};

// Checks `config` as a whole: endpoint http:// or https:// with a host and no path, query
// or user; region, access key and secret key not empty; bucket a valid S3 bucket name (3 to
// 63 characters of a-z, 0-9, '.', '-', starting and ending with a letter or digit).
// InvalidArgument naming the first problem otherwise.
Status ValidateS3Config(const S3Config& config);

// Reads the credentials file at `path` (format above) into config->access_key and
// config->secret_key. On error config is unchanged and the status names the file:
// NotFound (no such file), PermissionDenied (group/other may read or write it, or it
// cannot be read), InvalidArgument (not a regular file, a malformed line, an unknown key,
// a key twice or missing), IOError (a read failed).
Status LoadS3Credentials(const std::string& path, S3Config* config);

}  // namespace mailjournal

#endif  // MAILJOURNAL_S3_CONFIG_H_
