#!/bin/sh
# Installs every Debian 12 package that building, testing, packaging (debian/) and the demo
# need. man-db: mailjournal help shows pages with man(1) (e2e_operator; mandoc without it).
# radosgw, ceph-mon, ceph-osd: a private single-node Ceph with the RADOS Gateway, the real S3
# server (Object Lock) of tests/s3/radosgw.py; python3-boto3 cross-checks the S3 client there.
# Idempotent; run as root. Postfix is installed unconfigured ("No configuration"):
# the tests and the demo run their own private Postfix instances on 127.0.0.1.
set -eu
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config ca-certificates \
  libmilter-dev libsystemd-dev libleveldb-dev libssl-dev libyaml-cpp-dev \
  libboost-test-dev nlohmann-json3-dev libcli11-dev \
  clang libclang-rt-14-dev openssl \
  libzstd-dev zstd libarchive-dev libgmime-3.0-dev libicu-dev libxml2-dev libhyperscan-dev \
  postfix miltertest mandoc man-db python3 python3-plyvel python3-prometheus-client procps \
  m4 mount libwrap0 libdb5.3 libldap-2.5-0 liblockfile1 libnsl2 libsasl2-2 libssl3 \
  debhelper lintian git \
  libcurl4-openssl-dev radosgw ceph-mon ceph-osd python3-boto3 >/dev/null
# Sendmail for tests/e2e/test_sendmail.py. sendmail-bin conflicts with postfix as a package, so
# it is never installed: its .debs (and sendmail-base and sendmail-cf, for the m4 files) are
# unpacked into a private prefix; m4 and the libraries above are what its binary needs.
SENDMAIL_CACHE=/var/cache/mailjournal-ci/sendmail
sendmail_version=$(apt-cache show --no-all-versions sendmail-bin | sed -n 's/^Version: //p')
if [ "$(cat "$SENDMAIL_CACHE/version" 2>/dev/null)" != "$sendmail_version" ]; then
  rm -rf "$SENDMAIL_CACHE"
  mkdir -p "$SENDMAIL_CACHE/debs" "$SENDMAIL_CACHE/root"
  (cd "$SENDMAIL_CACHE/debs" &&
    apt-get download -qq -o APT::Sandbox::User=root sendmail-bin sendmail-base sendmail-cf)
  for deb in "$SENDMAIL_CACHE"/debs/*.deb; do dpkg-deb -x "$deb" "$SENDMAIL_CACHE/root"; done
  echo "$sendmail_version" >"$SENDMAIL_CACHE/version"
fi
# Debian starts the system Postfix on install; its port 25 is not ours to use.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now postfix >/dev/null 2>&1 || true
fi
postfix status >/dev/null 2>&1 && postfix stop >/dev/null 2>&1 || true
exit 0
