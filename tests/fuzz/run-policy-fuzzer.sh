#!/bin/sh
# Builds the policy loader's libFuzzer target with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in its own build tree, and runs it for a bounded time on a
# copy of the seed corpus (tests/fuzz/policy_corpus is never modified).
#
# Usage: tests/fuzz/run-policy-fuzzer.sh [SECONDS]     (default 60)
# Environment: MAILJOURNAL_FUZZ_BUILD (default: build-fuzz at the top of the repository).
# Exit status: 0 if the run ended without a crash, leak, timeout or sanitizer report;
# 1 otherwise (the log and the reproducing input are kept and their paths printed).
set -eu
seconds=${1:-60}
case "$seconds" in
  '' | *[!0-9]*)
    echo "usage: $0 [SECONDS]" >&2
    exit 64
    ;;
esac
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${MAILJOURNAL_FUZZ_BUILD:-$root/build-fuzz}

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DMAILJOURNAL_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target policy_fuzzer >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/policy-fuzz.XXXXXX")
cp -R "$root/tests/fuzz/policy_corpus" "$work/corpus"
mkdir "$work/artifacts"
log="$work/fuzz.log"

status=0
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  timeout --kill-after=30 $((seconds + 300)) "$build/tests/fuzz/policy_fuzzer" \
  -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -max_len=8192 \
  -print_final_stats=1 -dict="$root/tests/fuzz/policy.dict" \
  -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1 || status=$?

if [ "$status" -ne 0 ] ||
  grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$log" ||
  [ -n "$(ls -A "$work/artifacts")" ]; then
  tail -n 60 "$log" >&2
  echo "policy fuzzer: FAILED (exit $status); log $log, inputs in $work/artifacts" >&2
  exit 1
fi
grep -E '^(stat::|Done |#[0-9]+.*DONE)' "$log" || true
echo "policy fuzzer: ${seconds}s, no crash, corpus $(ls "$work/corpus" | wc -l) inputs"
rm -rf "$work"
