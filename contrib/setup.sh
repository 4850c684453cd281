#!/bin/sh
# Prepares a fresh Debian 12 machine, as root: installs every package (install-deps.sh)
# and builds the project into build/. Shared by tests/run.sh and contrib/demo/run-demo.sh,
# which run Postfix instances and therefore need root too.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "${1:-setup.sh}: run as root (it installs packages and starts Postfix instances)" >&2
  exit 77
fi
sh contrib/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
