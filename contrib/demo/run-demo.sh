#!/bin/sh
# The live demo on a fresh Debian 12 machine, as root: installs the packages, builds, starts
# a private Postfix on 127.0.0.1 with mailjournald attached, sends sample mail through it and
# shows what the journal recorded. Leaves nothing running; the system Postfix is not used.
set -eu
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -ne 0 ]; then
  echo "run-demo.sh: run as root (the demo starts a private Postfix instance)" >&2
  exit 77
fi
sh contrib/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec python3 contrib/demo/demo.py
