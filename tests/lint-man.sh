#!/bin/sh
# Fails when any man page has a mandoc warning (or worse). Given the programs
# (lint-man.sh MAILJOURNAL MAILJOURNALD, as ctest's man_lint does), also when a command or
# option their --help shows is not documented, or a page's SEE ALSO misses another page
# (man-coverage.py).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../man"
out=$(for f in *.[1-9]; do mandoc -Tlint -W warning "$f" 2>&1; done)
if [ -n "$out" ]; then
  printf '%s\n' "$out"
  exit 1
fi
echo "man pages: $(ls *.[1-9] | wc -l) checked, no warnings"
if [ $# -ge 2 ]; then
  python3 "$here/man-coverage.py" "$here/../man" "$1" "$2"
  echo "man pages: every command, option and page cross-reference documented"
fi
