#!/bin/sh
# Installs every Debian 12 package that building, testing and the demo need.
# Idempotent; run as root. Postfix is installed unconfigured ("No configuration"):
# the tests and the demo run their own private Postfix instances on 127.0.0.1.
set -eu
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config ca-certificates \
  libmilter-dev libleveldb-dev libssl-dev libyaml-cpp-dev \
  libboost-test-dev nlohmann-json3-dev libcli11-dev \
  clang libclang-rt-14-dev openssl \
  libzstd-dev zstd libgmime-3.0-dev libicu-dev libxml2-dev \
  postfix miltertest mandoc python3 python3-plyvel procps >/dev/null
# Debian starts the system Postfix on install; its port 25 is not ours to use.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now postfix >/dev/null 2>&1 || true
fi
postfix status >/dev/null 2>&1 && postfix stop >/dev/null 2>&1 || true
exit 0
