#!/bin/sh
# The Debian package (ctest: package), as root on Debian 12:
#  1. builds it with dpkg-buildpackage -us -uc -b from a clean copy of the source tree (the
#     files git knows, without build directories), timed;
#  2. runs lintian: no errors (warnings are printed);
#  3. installs it (apt-get install ./mailjournal_*.deb) and checks what an operator gets: the
#     user, the conffile, no policy, the unit installed but neither enabled nor started,
#     systemd-analyze verify of the installed unit, the tmpfiles.d directories, the manual pages
#     and the examples;
#  4. starts the installed daemon as systemd would (as the user mailjournal, with the installed
#     mailjournald.conf, its sockets in the tmpfiles.d directories) under a policy written to
#     /etc/mailjournal/policy.yaml, and asks it for its status with the installed tool;
#  5. runs a few of the end-to-end capture tests (tests/e2e/test_capture.py) against the
#     installed binaries;
#  6. purges the package and removes what the test made (the user, the directories) unless it
#     was there before.
# Exits 77 (skipped) when not root or the packaging tools are missing, and fails at once if a
# package mailjournal is already installed (it is not this test's to remove).
# Usage: run.sh SOURCE_DIR
set -eu
src=$(cd "$1" && pwd)
skip() { echo "SKIP: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || skip "must run as root (installs the package)"
for tool in dpkg-buildpackage dh lintian apt-get git; do
  command -v $tool >/dev/null || skip "missing $tool (contrib/install-deps.sh installs it)"
done
if dpkg-query -W -f '${Status}' mailjournal 2>/dev/null | grep -q 'installed$'; then
  fail "a package mailjournal is installed already; remove it first (apt-get purge mailjournal)"
fi

# The test writes the policy the operator would; it must not replace someone's.
[ ! -e /etc/mailjournal/policy.yaml ] ||
  fail "/etc/mailjournal/policy.yaml exists; this test writes its own there (move it away first)"
# What exists before, so that the clean-up removes only what the test made and gives the
# directories that tmpfiles.d adjusts (owner, mode) back their owner and mode.
had_user=no
getent passwd mailjournal >/dev/null && had_user=yes
made_dirs=
kept_dirs=
for d in /etc/mailjournal /etc/mailjournal/index-keys /var/lib/mailjournal /run/mailjournal \
  /var/spool/postfix/mailjournal; do
  if [ -e "$d" ]; then
    kept_dirs="$kept_dirs $d=$(stat -c '%u:%g=%a' "$d")"
  else
    made_dirs="$made_dirs $d"
  fi
done
made_files="/etc/mailjournal/policy.yaml /etc/mailjournal/default.crt"
tmp=$(mktemp -d /tmp/mj-package-XXXXXX)
daemon_pid=
cleanup() {
  [ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
  if dpkg-query -W -f '${Status}' mailjournal 2>/dev/null | grep -q 'installed$'; then
    apt-get purge -y -qq mailjournal >/dev/null 2>&1 || true
  fi
  rm -f $made_files
  for d in $made_dirs; do rm -rf "$d"; done
  for kept in $kept_dirs; do
    d=${kept%%=*} owner_mode=${kept#*=}
    chown "${owner_mode%=*}" "$d" && chmod "${owner_mode#*=}" "$d" || true
  done
  if [ $had_user = no ] && getent passwd mailjournal >/dev/null; then
    userdel mailjournal 2>/dev/null || true
    getent group mailjournal >/dev/null && groupdel mailjournal 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# 1. Build from a clean copy.
mkdir "$tmp/src"
git -C "$src" ls-files -z --cached --others --exclude-standard |
  (cd "$src" && tar --null -T - -cf -) | tar -xf - -C "$tmp/src"
[ -x "$tmp/src/debian/rules" ] || fail "no debian/rules in the copy of $src"
start=$(date +%s)
if ! (cd "$tmp/src" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$tmp/build.log" 2>&1; then
  tail -50 "$tmp/build.log"
  fail "dpkg-buildpackage (log above)"
fi
echo "dpkg-buildpackage -us -uc -b -j$(nproc): $(($(date +%s) - start)) s"
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
deb=$(ls "$tmp"/mailjournal_"$version"_*.deb)
changes=$(ls "$tmp"/mailjournal_"$version"_*.changes)
# The changelog's version is the project's (CMakeLists.txt, project(... VERSION)).
grep -q "^project(mailjournal VERSION $version " "$src/CMakeLists.txt" ||
  fail "debian/changelog's version $version is not CMakeLists.txt's project version"

# 2. lintian: errors fail, warnings are shown.
lintian --fail-on error --info "$changes" >"$tmp/lintian.log" 2>&1 || {
  cat "$tmp/lintian.log"
  fail "lintian found errors"
}
echo "lintian: no errors; $(grep -c '^W:' "$tmp/lintian.log" || true) warning(s)"
grep '^[WI]:' "$tmp/lintian.log" | sed 's/^/  /' || true

# 3. Install, then check what the operator has.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" \
  >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "apt-get install $deb"; }
getent passwd mailjournal | grep -q ':/usr/sbin/nologin$' || fail "no system user mailjournal"
conf=/etc/mailjournal/mailjournald.conf
dpkg-query -W -f '${Conffiles}\n' mailjournal | grep -q " $conf " || fail "$conf is not a conffile"
grep -q '^user = mailjournal$' $conf || fail "$conf does not set user = mailjournal"
[ ! -e /etc/mailjournal/policy.yaml ] || fail "the package installed a policy"
unit=$(dpkg -L mailjournal | grep '/systemd/system/mailjournald.service$') || fail "no unit"
[ ! -e /etc/systemd/system/multi-user.target.wants/mailjournald.service ] ||
  fail "mailjournald.service is enabled"
if [ -d /run/systemd/system ]; then
  [ "$(systemctl is-enabled mailjournald.service || true)" = disabled ] || fail "unit not disabled"
  ! systemctl -q is-active mailjournald.service || fail "mailjournald.service was started"
fi
out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify $unit: $out"
[ -z "$out" ] || fail "systemd-analyze verify $unit printed: $out"
[ "$(stat -c '%a %U %G' /var/lib/mailjournal)" = "700 mailjournal mailjournal" ] ||
  fail "/var/lib/mailjournal: $(stat -c '%a %U %G' /var/lib/mailjournal)"
[ "$(stat -c '%a %U %G' /var/spool/postfix/mailjournal)" = "2750 mailjournal postfix" ] ||
  fail "/var/spool/postfix/mailjournal: $(stat -c '%a %U %G' /var/spool/postfix/mailjournal)"
for page in "$src"/man/*.[58]; do
  name=$(basename "$page")
  found=$(man -w "${name##*.}" "${name%.*}") || fail "man -w does not find $name"
  mandoc -Tlint -W warning "$found" || fail "installed $found is not clean under mandoc -Tlint"
done
examples=/usr/share/doc/mailjournal/examples
for f in postfix/main.cf.fragment sendmail/mailjournal.mc systemd/mailjournald.service policy.yaml \
  mailjournald.conf.example; do
  [ -f "$examples/$f" ] || fail "no example $examples/$f"
done
/usr/sbin/mailjournald --version | grep -qx "mailjournald $version" ||
  fail "mailjournald --version: $(/usr/sbin/mailjournald --version)"
echo "installed: user, conffile, unit (disabled, not started), directories, man pages, examples"

# 4. The installed daemon as the unit starts it: as mailjournal, with the installed
# configuration, once the operator has written a policy.
mkdir -m 0755 "$tmp/keys"
echo "package test passphrase" >"$tmp/passphrase"
/usr/bin/mailjournal keygen --department default -o "$tmp/keys" --passphrase-file "$tmp/passphrase" \
  >/dev/null 2>"$tmp/keygen.log" || { cat "$tmp/keygen.log"; fail "mailjournal keygen"; }
install -m 0644 "$tmp/keys/default.crt" /etc/mailjournal/default.crt
cat >/etc/mailjournal/policy.yaml <<'EOF'
version: 1
retention:
  standard: 7y
departments:
  - name: default
    retention: standard
    keys: [default.crt]
EOF
# setpriv execs the daemon (runuser would stay its parent and SIGKILL it at our SIGTERM).
setpriv --reuid=mailjournal --regid=mailjournal --init-groups -- \
  /usr/sbin/mailjournald --foreground >"$tmp/daemon.log" 2>&1 &
daemon_pid=$!
deadline=$(($(date +%s) + 30))
until [ -S /run/mailjournal/admin.sock ] && [ -S /var/spool/postfix/mailjournal/milter.sock ]; do
  kill -0 $daemon_pid 2>/dev/null || { cat "$tmp/daemon.log"; fail "mailjournald exited"; }
  [ "$(date +%s)" -lt $deadline ] || { cat "$tmp/daemon.log"; fail "no sockets after 30 s"; }
  sleep 0.1
done
[ "$(stat -c '%U %G %a' /var/spool/postfix/mailjournal/milter.sock)" = "mailjournal postfix 660" ] ||
  fail "milter socket: $(stat -c '%U %G %a' /var/spool/postfix/mailjournal/milter.sock)"
/usr/bin/mailjournal status >"$tmp/status.txt" 2>&1 || { cat "$tmp/status.txt"; fail "mailjournal status"; }
kill -TERM $daemon_pid
wait $daemon_pid || { cat "$tmp/daemon.log"; fail "mailjournald did not stop cleanly"; }
daemon_pid=
grep -q 'mailjournald stopped' "$tmp/daemon.log" || { cat "$tmp/daemon.log"; fail "no clean stop"; }
echo "installed mailjournald ran as mailjournal with the installed configuration"

# 5. End-to-end capture tests against the installed programs.
(cd "$src/tests/e2e" && MAILJOURNALD=/usr/sbin/mailjournald MAILJOURNAL=/usr/bin/mailjournal \
  python3 -m unittest \
    test_capture.CaptureTest.test_recipients_in_rcpt_order_with_bcc_and_params \
    test_capture.CaptureTest.test_two_messages_one_connection \
    test_capture.CaptureTest.test_null_sender \
    test_capture.CaptureTest.test_sendmail_submission_journaled) ||
  fail "end-to-end tests against the installed binaries"

# 6. Purge: nothing of the package is left.
apt-get purge -y -qq mailjournal >/dev/null 2>&1 || fail "apt-get purge mailjournal"
[ ! -e /usr/sbin/mailjournald ] && [ ! -e $conf ] || fail "files left after the purge"
echo "package: ok"
