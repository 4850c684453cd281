#!/bin/sh
# Sets up a fresh Debian 12 machine and runs the whole test suite, as root: installs the
# packages, builds (contrib/setup.sh), then runs every test through ctest (unit tests,
# end-to-end tests against private Postfix instances on 127.0.0.1, the policy fuzzer, man
# page lint).
set -eu
cd "$(dirname "$0")/.."
sh contrib/setup.sh tests/run.sh
cd build
ctest --output-on-failure --timeout 1200
