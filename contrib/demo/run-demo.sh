#!/bin/sh
# The live demo on a fresh Debian 12 machine, as root: installs the packages, builds
# (contrib/setup.sh), starts a private Postfix on 127.0.0.1 with mailjournald attached, sends
# sample mail through it and shows what the journal recorded. Leaves nothing running; the
# system Postfix is not used.
set -eu
cd "$(dirname "$0")/../.."
sh contrib/setup.sh contrib/demo/run-demo.sh >/dev/null
exec python3 contrib/demo/demo.py
