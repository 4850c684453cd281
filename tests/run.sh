#!/bin/sh
# Sets up a fresh Debian 12 machine and runs the whole test suite: installs the packages,
# builds, then runs every test through ctest (unit tests, end-to-end tests against private
# Postfix instances on 127.0.0.1, man page lint). Run as root: the tests start Postfix.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "tests/run.sh: run as root (the end-to-end tests start Postfix instances)" >&2
  exit 77
fi
sh contrib/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure --timeout 1200
