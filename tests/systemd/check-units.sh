#!/bin/sh
# Checks contrib/systemd/ (ctest: systemd_units) with systemd's own tools, as Debian 12's
# systemd 252 has them:
#  1. systemd-analyze verify of mailjournald.service must pass and print nothing (it prints
#     unknown keys and bad values but still exits 0). It needs ExecStart's binary and the
#     Documentation= pages to exist: a copy of the unit runs the built daemon (MAILJOURNALD)
#     and MANPATH points at the source's man pages.
#  2. systemd-sysusers and systemd-tmpfiles --create apply mailjournal.sysusers and
#     mailjournal.tmpfiles to an empty root (--root): the user exists and every directory gets
#     its owner, group and mode.
# Usage: check-units.sh SOURCE_DIR MAILJOURNALD
set -eu
src=$(cd "$1" && pwd)
daemon=$2
units=$src/contrib/systemd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. The unit.
mkdir -p "$tmp/unit" "$tmp/man/man5" "$tmp/man/man8"
ln -s "$src"/man/*.5 "$tmp/man/man5/"
ln -s "$src"/man/*.8 "$tmp/man/man8/"
sed "s|^ExecStart=/usr/sbin/mailjournald|ExecStart=$daemon|" "$units/mailjournald.service" \
  >"$tmp/unit/mailjournald.service"
grep -q "^ExecStart=$daemon\$" "$tmp/unit/mailjournald.service" ||
  fail "mailjournald.service: no ExecStart=/usr/sbin/mailjournald to point at the build"
out=$(MANPATH=$tmp/man systemd-analyze verify "$tmp/unit/mailjournald.service" 2>&1) ||
  fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify printed:
$out"
echo "systemd-analyze verify mailjournald.service: ok"

# 2. sysusers.d and tmpfiles.d, applied to an empty root that has a group postfix.
root=$tmp/root
mkdir -p "$root/etc" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d"
echo "postfix:x:4242:" >"$root/etc/group"
cp "$units/mailjournal.sysusers" "$root/usr/lib/sysusers.d/mailjournal.conf"
cp "$units/mailjournal.tmpfiles" "$root/usr/lib/tmpfiles.d/mailjournal.conf"
systemd-sysusers --root="$root" || fail "systemd-sysusers"
line=$(grep '^mailjournal:' "$root/etc/passwd") || fail "sysusers made no user mailjournal"
uid=$(echo "$line" | cut -d: -f3)
gid=$(echo "$line" | cut -d: -f4)
shell=$(echo "$line" | cut -d: -f7)
grep -q "^mailjournal:x:$gid:" "$root/etc/group" || fail "no group mailjournal with gid $gid"
[ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] || fail "mailjournal's uid $uid is not a system uid"
[ "$shell" = /usr/sbin/nologin ] || fail "mailjournal's shell is $shell"
out=$(systemd-tmpfiles --create --root="$root" 2>&1) || fail "systemd-tmpfiles: $out"
[ -z "$out" ] || fail "systemd-tmpfiles printed: $out"
check_dir() {  # path mode uid gid
  got=$(stat -c '%a %u %g' "$root$1") || fail "tmpfiles made no $1"
  [ "$got" = "$2 $3 $4" ] || fail "$1: mode/uid/gid $got, expected $2 $3 $4"
}
check_dir /run/mailjournal 755 "$uid" "$gid"
check_dir /var/lib/mailjournal 700 "$uid" "$gid"
check_dir /etc/mailjournal/index-keys 700 "$uid" "$gid"
check_dir /var/spool/postfix/mailjournal 2750 "$uid" 4242
echo "sysusers.d and tmpfiles.d: ok (user mailjournal uid $uid)"
