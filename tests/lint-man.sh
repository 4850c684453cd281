#!/bin/sh
# Fails when any man page has a mandoc warning (or worse).
set -eu
cd "$(dirname "$0")/../man"
out=$(for f in *.[1-9]; do mandoc -Tlint -W warning "$f" 2>&1; done)
if [ -n "$out" ]; then
  printf '%s\n' "$out"
  exit 1
fi
echo "man pages: $(ls *.[1-9] | wc -l) checked, no warnings"
