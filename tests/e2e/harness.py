"""End-to-end test harness for mailjournal.

Everything runs inside one fresh temporary directory:

* a private Postfix instance (own config, queue and data directories, ``postfix -c DIR``),
  bound to 127.0.0.1 only, smtpd on a free high port, no chroot, relaying everything to
* a sink: by default a small byte-exact SMTP server written here (``RawSink``), optionally
  Postfix's ``smtp-sink -d`` (``MJ_E2E_SINK=smtp-sink``), see the notes below;
* mailjournald (``MAILJOURNALD``, default build/milter/mailjournald) listening on a unix
  milter socket and an admin socket in the temp dir, dropping privileges to ``MJ_E2E_USER``
  (default ``nobody``) because the tests run as root, with ``--policy`` naming a policy file
  written into ``policy/`` in the temp dir (``DEFAULT_POLICY`` unless the test supplies its
  own YAML text and extra files such as include lists), together with ``keys/e2e.crt``, the
  certificate of the test process's one key pair (``e2e_keys()``), which every department of
  every policy here lists, so every message is sealed;
* helpers to send raw messages with smtplib, submit with Postfix's sendmail(1), wait for
  delivery with deadlines, strip Postfix's Received header from a delivered copy, and drive
  the ``mailjournal`` tool (``MAILJOURNAL``, default build/store/mailjournal), whose exports
  open sealed messages with the e2e private key (``--key``, ``--passphrase-file``) by default.

Why not smtp-sink by default (facts measured with Postfix 3.7.11):
* smtp-sink does not announce SMTPUTF8, so Postfix bounces every SMTPUTF8 message
  ("SMTPUTF8 is required, but was not offered").
* Its dump files are dot-unstuffed but every CRLF is written as LF and an extra empty line is
  appended after the message.  Since Postfix only ever sends CRLF line ends this is reversible,
  but the RawSink keeps the bytes as they came off the wire, with nothing to reverse.

Requirements: root (Postfix must start master as root), Debian's postfix package.
Environment knobs: MAILJOURNALD, MAILJOURNAL, MJ_E2E_USER, MJ_E2E_SINK=raw|smtp-sink,
MJ_E2E_KEEP=1 (keep the temp dir), MJ_E2E_TMP (parent of the temp dir).
"""

import atexit
import base64
import collections
import contextlib
import datetime
import grp
import hashlib
import itertools
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import smtplib
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
MAILJOURNALD = os.environ.get("MAILJOURNALD", os.path.join(REPO, "build", "milter", "mailjournald"))
MAILJOURNAL = os.environ.get("MAILJOURNAL", os.path.join(REPO, "build", "store", "mailjournal"))
DAEMON_USER = os.environ.get("MJ_E2E_USER", "nobody")
SINK_KIND = os.environ.get("MJ_E2E_SINK", "raw")
MYHOSTNAME = "mx.test.invalid"
SKIP_EXIT = 77  # ctest SKIP_RETURN_CODE

CRLF = b"\r\n"

# The certificate of the test process's key pair (e2e_keys()), relative to the policy file:
# write_policy_dir (and so every E2E environment) writes it into every policy directory, and
# every department of every policy in these tests lists it (or a key of its own), so that
# every message the daemon journals is sealed, as it must be once sealing is mandatory.
E2E_CERT = "keys/e2e.crt"

# The policy every E2E environment gets unless a test supplies its own: one retention class,
# only the required default department (so every message is "default", 7 years, sealed to
# the e2e key).
DEFAULT_POLICY = """\
# mailjournal e2e default policy
version: 1
retention:
  standard: 7y
departments:
  - name: default
    retention: standard
    keys: [%s]
""" % E2E_CERT
DEFAULT_DEPARTMENTS = ["default"]
DEFAULT_RETENTION = ("standard", 7)   # class name, years


class HarnessError(AssertionError):
    """A harness step failed (timeout, process died); an AssertionError so tests fail, not error."""


# --------------------------------------------------------------------------------------------
# small utilities

def wait_until(predicate, timeout, what, interval=0.05, diag=None):
    """Poll predicate() until it returns a true value; return that value or raise on timeout."""
    deadline = time.monotonic() + timeout
    delay = min(interval, 0.01)
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            extra = ""
            if diag is not None:
                try:
                    extra = "\n" + diag()
                except Exception as exc:  # diagnostics must never hide the timeout
                    extra = "\n(diagnostics failed: %r)" % exc
            raise HarnessError("timed out after %.1fs waiting for %s%s" % (timeout, what, extra))
        time.sleep(delay)
        delay = min(delay * 2, interval)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tcp_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def unix_accepts(path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(path)
            return True
    except OSError:
        return False


def run(cmd, check=True, timeout=60, **kw):
    """subprocess.run with captured bytes output and a readable failure."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise HarnessError("command %r failed with %d\nstdout: %s\nstderr: %s" % (
            cmd, p.returncode, p.stdout.decode(errors="replace")[-2000:],
            p.stderr.decode(errors="replace")[-2000:]))
    return p


def tail(path, nbytes=6000):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - nbytes))
            return f.read().decode(errors="replace")
    except OSError as exc:
        return "(cannot read %s: %s)" % (path, exc)


def stop_process(proc, timeout=10):
    """Terminate a subprocess.Popen still running and wait for it; kill it if it outlives
    timeout seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie still answers kill(0); treat it as dead
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def random_text_message(marker, size, rng, sender, msgid_domain, extra_headers=b""):
    """A message of about size bytes (more only when the header is longer) with marker (str) in
    Subject, Message-ID and the first body line, From: sender (bytes) and the Message-ID in
    msgid_domain (bytes); extra_headers (bytes, CRLF-terminated fields) go after Date.  The body
    is base64 text of random bytes from rng (random.Random: it does not compress), in lines of
    76, with a line starting with a dot now and then (dot-stuffing on the wire)."""
    m = marker.encode()
    head = (b"From: " + sender + b"\r\nTo: rcpt@example.net\r\nSubject: " + m +
            b"\r\nMessage-ID: <" + m + b"@" + msgid_domain + b">\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n" +
            extra_headers + b"\r\n" + m + b"\r\n")
    need = max(0, size - len(head))
    text = base64.b64encode(rng.randbytes(need * 3 // 4 + 3))[:need]
    lines = [text[i:i + 76] for i in range(0, len(text), 76)]
    for i in range(0, len(lines), 97):
        lines[i] = b"." + lines[i][1:]
    return head + b"\r\n".join(lines) + b"\r\n"


def split_headers(msg):
    """Return a list of raw header fields (each including its line ends) and the rest.

    A header field continues on lines starting with SP or HT.  Line ends are CRLF or LF.
    The rest starts at the first line that is not part of a header (normally the empty line).
    """
    fields = []
    pos = 0
    n = len(msg)
    while pos < n:
        eol = msg.find(b"\n", pos)
        end = n if eol < 0 else eol + 1
        line = msg[pos:end]
        if line in (b"\r\n", b"\n"):
            break
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        elif re.match(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:", line):
            fields.append(line)
        else:
            break
        pos = end
    return fields, msg[pos:]


POSTFIX_QID_RE = re.compile(rb"\bid\s+([0-9A-Za-z]+)\s*[;\r\n]")


def quit_smtp(smtp):
    """End an smtplib session politely if the server still listens, else just close it."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        try:
            smtp.close()
        except OSError:
            pass


def strip_postfix_received(raw, myhostname=MYHOSTNAME):
    """Remove the top Received header Postfix prepends; return (content, queue_id)."""
    fields, _ = split_headers(raw)
    if not fields or not fields[0].lower().startswith(b"received:"):
        raise HarnessError("delivered message does not start with a Received header: %r" % raw[:300])
    first = fields[0]
    if (b"by " + myhostname.encode() + b" (Postfix") not in first:
        raise HarnessError("top Received header is not Postfix's own: %r" % first)
    m = POSTFIX_QID_RE.search(first)
    if not m:
        raise HarnessError("no queue id in Postfix Received header: %r" % first)
    return raw[len(first):], m.group(1).decode()


def header_values(msg, name):
    fields, _ = split_headers(msg)
    name = name.lower().encode()
    out = []
    for f in fields:
        k, _, v = f.partition(b":")
        if k.strip().lower() == name:
            out.append(v.strip())
    return out


def parse_iso(ts):
    """Parse the journal's ISO 8601 UTC time ('...Z', optional fraction)."""
    if ts.endswith("Z"):
        ts = ts[:-1] + "+00:00"
    return datetime.datetime.fromisoformat(ts)


def add_years(t, years):
    """Calendar arithmetic of the policy: same month, day and time, `years` later; 29 February
    in a year without one becomes 1 March (never shorter than the period)."""
    try:
        return t.replace(year=t.year + years)
    except ValueError:   # 29 February -> 1 March
        return t.replace(year=t.year + years, month=3, day=1)


def retain_until_for(entry_time, years=0, days=0):
    """The retain-until time the policy gives a message committed at entry_time (ISO text)."""
    t = parse_iso(entry_time)
    return add_years(t, years) + datetime.timedelta(days=days)


def write_file_atomic(path, data, mode=0o644):
    """Write path so that a reader sees either the old or the new content, never a mix."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = "%s.tmp.%d.%d" % (path, os.getpid(), threading.get_ident())
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------
# the test process's key pair

KeyPair = collections.namedtuple("KeyPair", "dir key cert passphrase_file fingerprint cert_pem")

_e2e_keys = None
_e2e_keys_lock = threading.Lock()
E2E_PASSPHRASE = "e2e passphrase, not a secret\n"


_PYTHON_WITH = {}


def parse_time(text):
    """Seconds since the epoch of a journal time ("2026-11-27T10:00:00.123456Z")."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def iso_time(seconds):
    """The ISO 8601 UTC text of seconds since the epoch, as the tool's options take it."""
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def python_with(module, package):
    """A Python interpreter that can import `module` (from the Debian package `package`):
    this one may be another Python (pyenv) than the one Debian's packages install into, so
    the tests run such a module in a child process of the interpreter found here."""
    if module not in _PYTHON_WITH:
        for exe in (sys.executable, "/usr/bin/python3"):
            if exe and os.access(exe, os.X_OK) and subprocess.run(
                    [exe, "-c", "import " + module], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL).returncode == 0:
                _PYTHON_WITH[module] = exe
                break
        else:
            raise HarnessError("no Python with %s: install %s (contrib/install-deps.sh)" %
                               (module, package))
    return _PYTHON_WITH[module]


def plyvel_python():
    """A Python interpreter that can import plyvel, for editing a closed journal's LevelDB."""
    return python_with("plyvel", "python3-plyvel")


def e2e_keys():
    """The one key pair of this test process, made on first use with `mailjournal keygen
    --department e2e` (about 0.5 s) and kept until the process exits (MJ_E2E_KEEP=1 keeps it,
    so that a kept journal can still be opened).  Returns a KeyPair: the directory (mode 0755),
    the private key (e2e.key, 0600 as keygen writes it: the daemon's user cannot read it), the
    certificate (e2e.crt, 0644), the passphrase file (0600), the SHA-256 fingerprint keygen
    prints, and the certificate's PEM text (what goes next to the policies as E2E_CERT)."""
    global _e2e_keys
    with _e2e_keys_lock:
        if _e2e_keys is None:
            d = tempfile.mkdtemp(prefix="mj-e2e-keys-", dir=os.environ.get("MJ_E2E_TMP") or None)
            if not os.environ.get("MJ_E2E_KEEP"):
                atexit.register(shutil.rmtree, d, True)
            os.chmod(d, 0o755)
            passfile = os.path.join(d, "passphrase")
            fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(E2E_PASSPHRASE)
            p = run([MAILJOURNAL, "keygen", "--department", "e2e", "-o", d, "--passphrase-file", passfile,
                     "--format", "json"], timeout=120)
            out = json.loads(p.stdout.decode("utf-8"))
            key, cert = os.path.join(d, "e2e.key"), os.path.join(d, "e2e.crt")
            with open(cert) as f:
                cert_pem = f.read()
            _e2e_keys = KeyPair(d, key, cert, passfile, out["fingerprint"], cert_pem)
        return _e2e_keys


def department_keys(directory, department, passphrase_file):
    """A department's key pair made with `mailjournal keygen --department NAME -o DIRECTORY
    --passphrase-file FILE` (root's; the private key 0600, encrypted with the passphrase):
    a KeyPair like e2e_keys()'s."""
    os.makedirs(directory, exist_ok=True)
    p = run([MAILJOURNAL, "keygen", "--department", department, "-o", directory, "--passphrase-file",
             passphrase_file, "--format", "json"], timeout=120)
    cert = os.path.join(directory, department + ".crt")
    with open(cert) as f:
        cert_pem = f.read()
    return KeyPair(directory, os.path.join(directory, department + ".key"), cert, passphrase_file,
                   json.loads(p.stdout.decode("utf-8"))["fingerprint"], cert_pem)


def open_sealed(stored, keys=None):
    """Open a sealed message's stored form (CMS, as `export --sealed` or the admin protocol's
    export give it) with the standard tools, as mailjournal-format(5) shows: openssl cms
    -decrypt | zstd -d.  Uses the e2e key unless keys (a KeyPair) is given."""
    keys = keys or e2e_keys()
    p = subprocess.run("openssl cms -decrypt -binary -inform DER -inkey %s -passin file:%s | zstd -q -d" % (
        shlex.quote(keys.key), shlex.quote(keys.passphrase_file)), shell=True, input=stored,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if p.returncode != 0:
        raise HarnessError("openssl cms -decrypt | zstd -d failed (%d): %s" % (
            p.returncode, p.stderr.decode(errors="replace")[-2000:]))
    return p.stdout


def content_mismatch(entry, content):
    """None when the entry's size and digest describe content, the captured bytes: for a sealed
    entry its seal's plain_size and salted plain_digest (size and sha256 describe the stored
    CMS then), for an unsealed one size and sha256.  Otherwise a description of the mismatch."""
    if entry.get("sealed"):
        seal = entry["seal"]
        digest = hashlib.sha256(bytes.fromhex(seal["salt"]) + content).hexdigest()
        if (seal["plain_size"], seal["plain_digest"]) != (len(content), digest):
            return "sealed entry %s: plain_size %d, plain_digest %s; content: %d bytes, salted digest %s" % (
                entry.get("seq"), seal["plain_size"], seal["plain_digest"], len(content), digest)
        return None
    if (entry["size"], entry["sha256"]) != (len(content), sha256(content)):
        return "entry %s: size %d, sha256 %s; content: %d bytes, sha256 %s" % (
            entry.get("seq"), entry["size"], entry["sha256"], len(content), sha256(content))
    return None


def file_record(path, text=False):
    """What a policy entry (text=False) or policy show (text=True) says about a file now on
    disk: {"path", "size", "sha256"} or {"path", "size", "text"}."""
    with open(path, "rb") as f:
        data = f.read()
    if text:
        return {"path": path, "size": len(data), "text": data.decode("utf-8")}
    return {"path": path, "size": len(data), "sha256": sha256(data)}


def write_policy_dir(directory, text, files=None, name="policy.yaml", e2e_cert=True):
    """Write a policy file (and extra files, e.g. include lists, relative to it) into
    directory, readable by the unprivileged daemon; return the policy file's path.
    With e2e_cert (the default), the certificate of e2e_keys() is written as E2E_CERT too,
    unless files has that path itself."""
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)
    files = dict(files or {})
    if e2e_cert and E2E_CERT not in files:
        files = dict([(E2E_CERT, e2e_keys().cert_pem)] + list(files.items()))
    for rel, content in files.items():
        path = os.path.join(directory, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.chmod(os.path.dirname(path), 0o755)
        write_file_atomic(path, content)
    path = os.path.join(directory, name)
    write_file_atomic(path, text)
    return path


def line_col(text, needle, occurrence=1):
    """1-based (line, column) of the occurrence-th needle in text (columns count characters)."""
    pos = -1
    for _ in range(occurrence):
        pos = text.index(needle, pos + 1)
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


KIND_LETTERS = {"policy": "P", "key": "K", "message": "M"}


def kinds(entries):
    """The kinds of entries as one string: P = policy, K = key, M = message.  Each load of a
    policy journals a policy entry, followed by a key entry for every key it adds to or
    removes from a department compared with the policy in force before (after a restart: the
    journal's newest), so the first start with DEFAULT_POLICY journals "PK" and a restart or
    reload with the same keys "P".  Access entries (the audit trail, which records the test's
    own admin requests too) are left out."""
    return "".join(KIND_LETTERS.get(e["kind"], "?") for e in entries if e["kind"] != "access")


LOADED_RE = re.compile(r"policy (\S+) loaded \((.*?)\): seq=(\d+) digest=([0-9a-f]{64})")
REFUSED_RE = re.compile(r"policy (\S+): (\d+) error\(s\); the running policy stays in force")


def mbox_expected(entries_and_bytes):
    """mboxrd per the spec: From line, CRLF -> LF, >*From quoting, blank line after each."""
    out = bytearray()
    for entry, data in entries_and_bytes:
        addr = entry["mail_from"] or "MAILER-DAEMON"
        t = parse_iso(entry["time"]).astimezone(datetime.timezone.utc)
        out += b"From " + addr.encode() + b" " + time.asctime(t.timetuple()).encode() + b"\n"
        body = data.replace(b"\r\n", b"\n")
        lines = body.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
            trailing = True
        else:
            trailing = False
        for i, line in enumerate(lines):
            if re.match(rb">*From ", line):
                line = b">" + line
            out += line
            if i < len(lines) - 1 or trailing:
                out += b"\n"
        out += b"\n"
    return bytes(out)


# --------------------------------------------------------------------------------------------
# reaper: cleans up even when the test process is SIGKILLed (ctest timeout)

REAPER_CODE = r"""
import os, signal, subprocess, sys, time, shutil
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
actions = []
for line in sys.stdin:
    line = line.rstrip("\n")
    if line == "done":
        sys.exit(0)
    actions.append(line.split(" ", 1))
def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
for kind, arg in reversed(actions):
    try:
        if kind == "pid":
            pid, exe = arg.split(" ", 1)
            pid = int(pid)
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    if exe.encode() not in f.read():
                        continue
            except OSError:
                continue
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not alive(pid):
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        elif kind == "postfix":
            subprocess.run(["postfix", "-c", arg, "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
            subprocess.run(["postfix", "-c", arg, "abort"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        elif kind == "umount":
            subprocess.run(["umount", "-l", arg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        elif kind == "rmtree" and not os.environ.get("MJ_E2E_KEEP"):
            shutil.rmtree(arg, ignore_errors=True)
        elif kind in ("userdel", "groupdel"):
            subprocess.run([kind, arg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    except Exception as exc:
        sys.stderr.write("mj-e2e reaper: %s %s: %r\n" % (kind, arg, exc))
"""


class Reaper:
    """A detached helper process told what to undo; if this process dies without saying
    'done', it stops Postfix, kills the daemon and removes the temp dir by itself."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", REAPER_CODE, "mj-e2e-reaper"], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, start_new_session=True)

    def note(self, *words):
        if self.proc and self.proc.poll() is None:
            self.proc.stdin.write((" ".join(str(w) for w in words) + "\n").encode())
            self.proc.stdin.flush()

    def done(self):
        if self.proc is None:
            return
        try:
            self.proc.stdin.write(b"done\n")
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc = None


_live_envs = []


def close_all_envs():
    for env in list(_live_envs):
        try:
            env.close()
        except Exception as exc:
            sys.stderr.write("cleanup failed: %r\n" % exc)


class UnixAccounts:
    """Unix groups and users made for one test with groupadd and useradd, under unique names
    (PREFIX-HEX), without home directories or login shells; close() removes them, and so does
    a reaper of their own should this process be killed first."""

    def __init__(self):
        self.reaper = Reaper()
        self.users, self.groups = [], []

    @staticmethod
    def _unique(prefix):
        return "%s-%s" % (prefix, os.urandom(4).hex())

    def group(self, prefix):
        """A new group; returns its grp.struct_group."""
        name = self._unique(prefix)
        self.reaper.note("groupdel", name)
        run(["groupadd", name])
        self.groups.append(name)
        return grp.getgrnam(name)

    def user(self, prefix, group, groups=()):
        """A new user whose primary group is group (a name) and who is a member of groups
        (names) too; returns its pwd.struct_passwd."""
        name = self._unique(prefix)
        self.reaper.note("userdel", name)
        cmd = ["useradd", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
               "--no-user-group", "--gid", group]
        if groups:
            cmd += ["--groups", ",".join(groups)]
        run(cmd + [name])
        self.users.append(name)
        return pwd.getpwnam(name)

    def close(self):
        problems = []
        for kind, names in (("userdel", self.users), ("groupdel", self.groups)):
            for name in reversed(names):
                p = run([kind, name], check=False)
                if p.returncode != 0:
                    problems.append("%s %s: %s" % (kind, name, p.stderr.decode(errors="replace").strip()))
        self.users, self.groups = [], []
        self.reaper.done()
        if problems:
            raise HarnessError("; ".join(problems))


# --------------------------------------------------------------------------------------------
# sinks

class Delivery:
    """One mail transaction received by the sink."""

    def __init__(self, index, envelope, raw):
        self.index = index
        self.envelope = envelope    # dict: helo, mail (MAIL args), rcpt (list of RCPT args), client
        self.raw = raw              # message bytes exactly as received (dot-unstuffed)
        self._split = None

    def _do_split(self):
        if self._split is None:
            self._split = strip_postfix_received(self.raw)
        return self._split

    @property
    def content(self):
        """Delivered bytes minus Postfix's own Received header."""
        return self._do_split()[0]

    @property
    def queue_id(self):
        return self._do_split()[1]

    def header(self, name):
        return header_values(self.raw, name)

    def __repr__(self):
        return "<Delivery %d qid=%s %d bytes>" % (self.index, self.queue_id, len(self.raw))


class RawSink:
    """A byte-exact SMTP sink.  Announces 8BITMIME, SMTPUTF8 and PIPELINING (no DSN, no CHUNKING).

    Each transaction is written as NNNNNN.eml (the dot-unstuffed DATA bytes, line ends untouched)
    and then NNNNNN.json (envelope), the .json last and by rename, so a .json means complete.
    """

    supports_smtputf8 = True

    def __init__(self, dump_dir, port=None):
        self.dump_dir = dump_dir
        self.port = port or free_port()
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.server = None
        self.thread = None

    def _next(self):
        with self._lock:
            return next(self._counter)

    def start(self):
        os.makedirs(self.dump_dir, exist_ok=True)
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 120

            def reply(self, text):
                self.wfile.write(text)
                self.wfile.flush()

            def handle(self):
                try:
                    self.converse()
                except (BrokenPipeError, ConnectionResetError):
                    pass   # the client went away (e.g. closed right after QUIT)

            def converse(self):
                self.reply(b"220 rawsink.test.invalid ESMTP\r\n")
                helo = None
                mail = None
                rcpts = []
                while True:
                    line = self.rfile.readline(1 << 20)
                    if not line:
                        return
                    cmd = line.rstrip(b"\r\n")
                    verb = cmd.split(b" ", 1)[0].upper()
                    arg = cmd[len(verb):].strip()
                    if verb == b"EHLO":
                        helo = arg
                        self.reply(b"250-rawsink.test.invalid\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
                                   b"250-SIZE 209715200\r\n250 PIPELINING\r\n")
                    elif verb == b"HELO":
                        helo = arg
                        self.reply(b"250 rawsink.test.invalid\r\n")
                    elif verb == b"MAIL":
                        mail, rcpts = cmd[len(b"MAIL FROM:"):], []
                        self.reply(b"250 2.1.0 Ok\r\n")
                    elif verb == b"RCPT":
                        rcpts.append(cmd[len(b"RCPT TO:"):])
                        self.reply(b"250 2.1.5 Ok\r\n")
                    elif verb == b"DATA":
                        if mail is None or not rcpts:
                            self.reply(b"503 5.5.1 Error: need MAIL and RCPT\r\n")
                            continue
                        self.reply(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        data = bytearray()
                        while True:
                            l = self.rfile.readline()
                            if not l:
                                return  # connection lost in DATA: not delivered
                            if l == b".\r\n":
                                break
                            if l.startswith(b"."):
                                l = l[1:]
                            data += l
                        n = sink._next()
                        base = os.path.join(sink.dump_dir, "%06d" % n)
                        env = {"helo": (helo or b"").decode("utf-8", "surrogateescape"),
                               "mail": mail.decode("utf-8", "surrogateescape"),
                               "rcpt": [r.decode("utf-8", "surrogateescape") for r in rcpts],
                               "client": self.client_address[0]}
                        with open(base + ".eml.tmp", "wb") as f:
                            f.write(data)
                        os.rename(base + ".eml.tmp", base + ".eml")
                        with open(base + ".json.tmp", "w") as f:
                            json.dump(env, f)
                        os.rename(base + ".json.tmp", base + ".json")
                        mail, rcpts = None, []
                        self.reply(b"250 2.0.0 Ok: delivered as %06d\r\n" % n)
                    elif verb == b"RSET":
                        mail, rcpts = None, []
                        self.reply(b"250 2.0.0 Ok\r\n")
                    elif verb == b"QUIT":
                        self.reply(b"221 2.0.0 Bye\r\n")
                        return
                    elif verb in (b"NOOP",):
                        self.reply(b"250 2.0.0 Ok\r\n")
                    else:
                        self.reply(b"502 5.5.2 Error: command not recognized\r\n")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="rawsink", daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def count(self):
        return sum(1 for n in os.listdir(self.dump_dir) if n.endswith(".json"))

    def deliveries(self):
        out = []
        for name in sorted(os.listdir(self.dump_dir)):
            if not name.endswith(".json"):
                continue
            base = os.path.join(self.dump_dir, name[:-5])
            with open(base + ".json") as f:
                env = json.load(f)
            with open(base + ".eml", "rb") as f:
                raw = f.read()
            out.append(Delivery(int(name[:-5]), env, raw))
        return out


class SmtpSinkProcess:
    """Postfix's smtp-sink with -d (one file per transaction).  No SMTPUTF8.

    Dump format (measured): X-Client-Addr, X-Client-Proto, X-Helo-Args, X-Mail-Args,
    X-Rcpt-Args* lines, a 3-line 'Received: ... (smtp-sink) ...' header, then the message,
    dot-unstuffed, every line end written as LF, plus one extra empty line.
    """

    supports_smtputf8 = False

    def __init__(self, dump_dir, port=None):
        self.dump_dir = dump_dir
        self.port = port or free_port()
        self.proc = None
        # smtp-sink writes the dump file while it receives: a file is complete only once
        # Postfix logged the delivery (set by E2E to a maillog check)
        self.is_complete = lambda queue_id: True

    def start(self):
        os.makedirs(self.dump_dir, exist_ok=True)
        shutil.chown(self.dump_dir, user="postfix")
        self.proc = subprocess.Popen(
            ["smtp-sink", "-u", "postfix", "-d", self.dump_dir + "/", "127.0.0.1:%d" % self.port, "100"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: tcp_accepts(self.port), 10, "smtp-sink to listen")

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def _files(self):
        return sorted(n for n in os.listdir(self.dump_dir) if not n.startswith("."))

    def count(self):
        return len(self.deliveries())

    def deliveries(self):
        out = []
        for i, name in enumerate(self._files(), 1):
            with open(os.path.join(self.dump_dir, name), "rb") as f:
                data = f.read()
            try:
                d = self._parse(i, data)
                complete = data.endswith(b"\n\n") and self.is_complete(d.queue_id)
            except (ValueError, HarnessError):
                complete = False
            if complete:
                out.append(d)
        return out

    def _parse(self, i, data):
        env = {"helo": "", "mail": "", "rcpt": [], "client": ""}
        pos = 0
        while True:
            eol = data.index(b"\n", pos)
            line = data[pos:eol]
            if not line.startswith(b"X-"):
                break
            k, _, v = line.partition(b": ")
            v = v.decode("utf-8", "surrogateescape")
            if k == b"X-Helo-Args":
                env["helo"] = v
            elif k == b"X-Mail-Args":
                env["mail"] = v
            elif k == b"X-Rcpt-Args":
                env["rcpt"].append(v)
            elif k == b"X-Client-Addr":
                env["client"] = v
            pos = eol + 1
        # the 3-line smtp-sink Received header
        for _ in range(3):
            pos = data.index(b"\n", pos) + 1
        body = data[pos:]
        if body.endswith(b"\n\n"):
            body = body[:-1]
        return Delivery(i, env, body.replace(b"\n", b"\r\n"))


def make_sink(dump_dir):
    if SINK_KIND == "smtp-sink":
        return SmtpSinkProcess(dump_dir)
    return RawSink(dump_dir)


# --------------------------------------------------------------------------------------------
# Postfix

MASTER_CF = """\
# private test instance: no chroot, smtpd on loopback only
127.0.0.1:{smtp_port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class PostfixInstance:
    def __init__(self, base, relay_port, milter_spec=None, extra_main=None):
        self.base = base
        self.conf_dir = os.path.join(base, "postfix-conf")
        self.queue_dir = os.path.join(base, "postfix-queue")
        self.data_dir = os.path.join(base, "postfix-data")
        self.maillog = os.path.join(base, "maillog")
        self.smtp_port = free_port()
        self.relay_port = relay_port
        self.milter_spec = milter_spec
        self.extra_main = dict(extra_main or {})
        self.started = False

    def main_cf(self):
        milters = self.milter_spec or ""
        settings = [
            ("compatibility_level", "3.6"),
            ("queue_directory", self.queue_dir),
            ("data_directory", self.data_dir),
            ("meta_directory", "/etc/postfix"),
            ("mail_owner", "postfix"),
            ("setgid_group", "postdrop"),
            ("inet_interfaces", "127.0.0.1"),
            ("inet_protocols", "ipv4"),
            ("smtp_bind_address", "127.0.0.1"),
            ("myhostname", MYHOSTNAME),
            ("mydomain", "test.invalid"),
            ("myorigin", "test.invalid"),
            ("mydestination", ""),
            ("relay_domains", ""),
            ("local_recipient_maps", ""),
            ("alias_maps", ""),
            ("alias_database", ""),
            ("mynetworks", "127.0.0.0/8"),
            ("relayhost", "[127.0.0.1]:%d" % self.relay_port),
            ("smtpd_relay_restrictions", "permit_mynetworks, reject"),
            # one recipient can be refused on purpose (test of rejected RCPT)
            ("smtpd_recipient_restrictions",
             "check_recipient_access inline:{ refused@example.net=REJECT }, permit"),
            ("smtp_tls_security_level", "none"),
            ("smtpd_tls_security_level", "none"),
            ("enable_long_queue_ids", "yes"),
            ("smtputf8_enable", "yes"),
            ("message_size_limit", "67108864"),
            ("mailbox_size_limit", "0"),
            # keep content untouched on the way to the sink
            ("disable_mime_output_conversion", "yes"),
            ("smtp_line_length_limit", "0"),
            ("smtpd_forbid_bare_newline", "no"),
            ("maillog_file", self.maillog),
            ("maillog_file_prefixes", self.base),
            ("biff", "no"),
            ("append_dot_mydomain", "no"),
            ("smtp_dns_support_level", "disabled"),
            ("smtp_host_lookup", "native"),
            ("smtpd_peername_lookup", "yes"),
            ("queue_run_delay", "1s"),
            ("minimal_backoff_time", "1s"),
            ("maximal_backoff_time", "2s"),
            ("smtpd_milters", milters),
            ("non_smtpd_milters", milters),
            ("milter_default_action", "tempfail"),
            ("milter_protocol", "6"),
            ("milter_connect_timeout", "10s"),
        ]
        d = dict(settings)
        d.update(self.extra_main)
        return "".join("%s = %s\n" % (k, v) for k, v in d.items())

    def write_config(self, extra_master=""):
        """Write main.cf and master.cf (plus the lines extra_master) into conf_dir; enough
        for postconf -c conf_dir, without starting Postfix."""
        for d in (self.conf_dir, self.queue_dir, self.data_dir):
            os.makedirs(d, exist_ok=True)
        shutil.chown(self.data_dir, user="postfix")
        with open(os.path.join(self.conf_dir, "main.cf"), "w") as f:
            f.write(self.main_cf())
        with open(os.path.join(self.conf_dir, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(smtp_port=self.smtp_port) + extra_master)

    def start(self):
        self.write_config()
        run(["postfix", "-c", self.conf_dir, "check"])
        run(["postfix", "-c", self.conf_dir, "start"])
        self.started = True
        wait_until(lambda: tcp_accepts(self.smtp_port), 20, "Postfix smtpd on port %d" % self.smtp_port,
                   diag=lambda: tail(self.maillog))

    def master_pid(self):
        try:
            with open(os.path.join(self.queue_dir, "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        if not self.started:
            return
        pid = self.master_pid()
        run(["postfix", "-c", self.conf_dir, "stop"], check=False)
        if pid:
            try:
                wait_until(lambda: not pid_alive(pid), 20, "Postfix master %d to exit" % pid)
            except HarnessError:
                run(["postfix", "-c", self.conf_dir, "abort"], check=False)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.started = False

    def postconf(self, **settings):
        run(["postconf", "-c", self.conf_dir] + ["%s=%s" % kv for kv in settings.items()])

    def reload(self):
        run(["postfix", "-c", self.conf_dir, "reload"])

    def queue_listing(self):
        return run(["postqueue", "-c", self.conf_dir, "-p"]).stdout.decode(errors="replace")

    def queue_empty(self):
        return "Mail queue is empty" in self.queue_listing()

    def queue_ids(self):
        ids = []
        for line in self.queue_listing().splitlines():
            m = re.match(r"^([0-9A-Za-z]{6,})[*!]?\s", line)
            if m and not line.startswith("-"):
                ids.append(m.group(1))
        return ids

    def flush(self):
        run(["postqueue", "-c", self.conf_dir, "-f"])

    def kick_pickup(self):
        """Make pickup scan maildrop now (postqueue -f does not do that)."""
        run(["postkick", "-c", self.conf_dir, "public", "pickup", "W"])

    def log(self):
        try:
            with open(self.maillog, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def sendmail(self, raw, sender, rcpts, extra_args=()):
        """Submit with Postfix's sendmail(1) (postdrop -> maildrop -> pickup -> cleanup)."""
        cmd = ["sendmail", "-C", self.conf_dir, "-i", "-f", sender] + list(extra_args) + ["--"] + list(rcpts)
        return run(cmd, input=raw)


# --------------------------------------------------------------------------------------------
# mailjournald and mailjournal

class Journald:
    def __init__(self, base, journal_dir, milter_sock, admin_sock, user=DAEMON_USER, binary=MAILJOURNALD,
                 extra_args=(), policy=None, extra_env=None, index_keys=None):
        self.base = base
        self.journal_dir = journal_dir
        self.milter_sock = milter_sock
        self.admin_sock = admin_sock
        self.user = user
        self.binary = binary
        self.extra_args = list(extra_args)
        self.policy = policy   # the --policy file (None: none given, the daemon's default)
        self.extra_env = dict(extra_env or {})   # added to this process's environment
        # --index-keys: the departments' search index keys (outside the journal); None: the
        # daemon's default (/etc/mailjournal/index-keys), never wanted in a test
        self.index_keys = index_keys
        # --socket-mode of both sockets: open to every local user unless a test sets another
        # (and gives the sockets' directories the groups that must get in).
        self.socket_mode = "0666"
        self.log_path = os.path.join(base, "mailjournald.log")
        self.proc = None
        self.starts = 0
        self.on_start = None

    @property
    def milter_spec(self):
        return "unix:" + self.milter_sock

    def argv(self):
        a = [self.binary, "--foreground", "--journal", self.journal_dir,
             "--milter-socket", self.milter_spec, "--admin-socket", self.admin_sock,
             "--socket-mode", self.socket_mode]
        if self.policy is not None:
            a += ["--policy", self.policy]
        if self.index_keys is not None and "--index-keys" not in self.extra_args:
            a += ["--index-keys", self.index_keys]
        if os.geteuid() == 0 and self.user:
            a += ["--user", self.user]
        return a + self.extra_args

    def start(self, wait=True, timeout=30):
        if self.proc is not None and self.proc.poll() is None:
            raise HarnessError("mailjournald already running")
        self.starts += 1
        self._log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        with open(self.log_path, "ab") as log:
            log.write(b"===== start %d: %s\n" % (self.starts, " ".join(self.argv()).encode()))
            log.flush()
            env = dict(os.environ, **self.extra_env) if self.extra_env else None
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True, env=env)
        if self.on_start is not None:
            self.on_start(self.proc.pid)
        if wait:
            self.wait_ready(timeout)
        return self.proc

    def wait_ready(self, timeout=30):
        def ready():
            if self.proc.poll() is not None:
                raise HarnessError("mailjournald exited with %s during start-up\n%s" % (
                    self.proc.returncode, self.log_text()))
            return unix_accepts(self.milter_sock) and unix_accepts(self.admin_sock)
        wait_until(ready, timeout, "mailjournald sockets", diag=self.log_text)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def memory_kib(self, field="VmHWM"):
        """A memory figure of the running daemon from /proc/PID/status, in KiB: VmHWM (peak
        resident set size), VmRSS, ...  The daemon never forks, so PID is the one started here."""
        if not self.running():
            raise HarnessError("mailjournald is not running")
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                name, _, value = line.partition(":")
                if name == field:
                    number, unit = value.split()
                    if unit != "kB":
                        raise HarnessError("unexpected unit in /proc/PID/status: %r" % line)
                    return int(number)
        raise HarnessError("no %s in /proc/%d/status" % (field, self.proc.pid))

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signal the daemon and wait for it; return its exit status (None if it was not running)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise HarnessError("mailjournald did not exit within %ss after signal %s\n%s" % (
                    timeout, sig, self.log_text()))
        rc = self.proc.returncode
        self.proc = None
        return rc

    def kill(self):
        return self.stop(sig=signal.SIGKILL)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def wait_log(self, text, timeout=10, current=True):
        """Wait until text (a substring) appears in the log (of the current run by default)."""
        get = self.current_log if current else self.log_text
        return wait_until(lambda: text in get(), timeout, "%r in the mailjournald log" % text, diag=get)

    def current_log(self):
        """Log of the current (last) run only."""
        with open(self.log_path, "rb") as f:
            f.seek(getattr(self, "_log_offset", 0))
            return f.read().decode(errors="replace")

    def reload_outcomes(self):
        """The policy load outcomes of the current run, in log order: ("loaded", reason, seq,
        digest) or ("refused", error_count)."""
        out = []
        for line in self.current_log().splitlines():
            m = LOADED_RE.search(line)
            if m:
                out.append(("loaded", m.group(2), int(m.group(3)), m.group(4)))
                continue
            m = REFUSED_RE.search(line)
            if m:
                out.append(("refused", int(m.group(2))))
        return out

    def signal_reload(self, timeout=30):
        """SIGUSR1, then wait for the daemon to log the outcome; return that outcome (see
        reload_outcomes).  Reloads must not overlap (one at a time from the test)."""
        before = len(self.reload_outcomes())
        self.proc.send_signal(signal.SIGUSR1)
        outcomes = wait_until(lambda: len(self.reload_outcomes()) > before and self.reload_outcomes(),
                              timeout, "the outcome of the SIGUSR1 reload in the log", diag=self.current_log)
        return outcomes[before]


USE_E2E_KEYS = object()   # Tool's default: open sealed mail with e2e_keys(), made on first export


class Tool:
    """Runs mailjournal against the daemon's admin socket (or --journal DIR).

    Every `export` opens sealed messages with a key pair: unless the arguments already have
    --key or --sealed, or the call says key=False, `--key KEY --passphrase-file FILE` of keys
    (default: e2e_keys(); None: no key) is appended to it, so that exports compare byte for
    byte with the delivered copy whether the journal holds the messages sealed or not."""

    def __init__(self, socket_path=None, journal_dir=None, binary=MAILJOURNAL, keys=USE_E2E_KEYS,
                 index_keys=None):
        self.socket_path = socket_path
        self.journal_dir = journal_dir
        self.index_keys = index_keys   # --index-keys with --journal (None: the tool's default)
        self.binary = binary
        self._keys = keys

    @property
    def keys(self):
        """The KeyPair exports use, or None."""
        if self._keys is USE_E2E_KEYS:
            self._keys = e2e_keys()
        return self._keys

    def key_args(self):
        k = self.keys
        return [] if k is None else ["--key", k.key, "--passphrase-file", k.passphrase_file]

    def argv(self, args, journal=False, key=True):
        args = [str(a) for a in args]
        if key and args[:1] == ["export"] and "--key" not in args and "--sealed" not in args:
            args += self.key_args()
        if journal:
            ik = [] if self.index_keys is None else ["--index-keys", self.index_keys]
            return [self.binary, "--journal", self.journal_dir] + ik + args
        return [self.binary, "--socket", self.socket_path] + args

    def run(self, *args, journal=False, timeout=120, as_user=None, key=True):
        """key=False: no automatic --key for export (to see what happens without one)."""
        cmd = self.argv(args, journal, key)
        if as_user:
            cmd = ["runuser", "-u", as_user, "--"] + cmd
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)

    def ok(self, *args, journal=False, **kw):
        p = self.run(*args, journal=journal, **kw)
        if p.returncode != 0:
            raise HarnessError("mailjournal %s -> exit %d\nstderr: %s" % (
                " ".join(map(str, args)), p.returncode, p.stderr.decode(errors="replace")))
        return p.stdout

    @staticmethod
    def parse_jsonl(out):
        return [json.loads(l) for l in out.decode("utf-8").splitlines() if l.strip()]

    def list(self, *args, journal=False):
        return self.parse_jsonl(self.ok("list", "--format", "json", *args, journal=journal))

    def all_entries(self, journal=False):
        """Every message entry (no --limit: the tool pages through the daemon's 1000-entry cap).
        `list` shows message entries only; see every_entry for policy entries too."""
        return self.list(journal=journal)

    def every_entry(self, journal=False):
        """Entries of every kind (list --all): policy loads and messages, seq 1..last_seq."""
        return self.list("--all", journal=journal)

    def policy_entries(self, journal=False):
        return [e for e in self.every_entry(journal=journal) if e["kind"] == "policy"]

    def show(self, seq, journal=False):
        out = self.ok("show", str(seq), "--format", "json", journal=journal)
        return json.loads(out.decode("utf-8"))

    def status(self, journal=False):
        return json.loads(self.ok("status", "--format", "json", journal=journal).decode("utf-8"))

    def last_seq(self, journal=False):
        """The journal's last sequence number (status, the one request the audit trail does
        not record, so asking does not change it)."""
        st = self.status(journal=journal)
        return st.get("status", st)["last_seq"]

    def export(self, seq, journal=False, key=True):
        """The captured bytes of message seq (sealed ones opened with the Tool's key)."""
        return self.ok("export", str(seq), journal=journal, key=key)

    def export_stored(self, seq, journal=False):
        """The stored bytes of message seq (export --sealed: a sealed message unopened)."""
        return self.ok("export", "--sealed", str(seq), journal=journal)

    def search(self, query, *args, keys=(), journal=False, as_user=None, timeout=120):
        """mailjournal search --format json ARGS [--key K ... --passphrase-file F] -- QUERY
        (query: one string, after "--" so that "-word" is not an option).  keys: KeyPairs
        sharing one passphrase file (none: the daemon's unconfirmed candidates).  Returns the
        CompletedProcess with .hits, the parsed JSON lines (None unless exit 0)."""
        key_args = []
        for k in keys:
            key_args += ["--key", k.key]
        if keys:
            key_args += ["--passphrase-file", keys[0].passphrase_file]
        p = self.run("search", "--format", "json", *args, *key_args, "--", query, journal=journal,
                     as_user=as_user, timeout=timeout, key=False)
        p.hits = self.parse_jsonl(p.stdout) if p.returncode == 0 else None
        return p

    # -- policy
    def policy_show(self, journal=False):
        return json.loads(self.ok("policy", "show", "--format", "json", journal=journal).decode("utf-8"))

    def policy_digest(self, journal=False):
        return self.policy_show(journal=journal)["digest"]

    def policy_reload(self):
        """mailjournal policy reload; returns the CompletedProcess (exit 0 or 78)."""
        return self.run("policy", "reload")

    def policy_check(self, path, *args):
        return subprocess.run([self.binary, "policy", "check", path] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60)

    def policy_explain(self, mail_from, rcpts, policy=None, time=None, fmt="json"):
        """policy explain through the daemon (policy=None) or with --policy FILE; JSON parsed
        for fmt="json", text otherwise."""
        args = ["policy", "explain"]
        if policy is not None:
            args += ["--policy", policy]
        args += ["--from", mail_from]
        for r in rcpts:
            args += ["--rcpt", r]
        if time is not None:
            args += ["--time", time]
        args += ["--format", fmt]
        if policy is not None:
            cmd = [self.binary] + args   # needs no daemon
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            if p.returncode != 0:
                raise HarnessError("%r -> exit %d\nstderr: %s" % (cmd, p.returncode, p.stderr.decode(errors="replace")))
            out = p.stdout
        else:
            out = self.ok(*args)
        return json.loads(out.decode("utf-8")) if fmt == "json" else out.decode("utf-8")


# --------------------------------------------------------------------------------------------
# the whole environment

class SendResult:
    def __init__(self):
        self.stage = None          # last stage reached: connect, ehlo, mail, rcpt, data, eod
        self.code = None           # reply code of the last stage
        self.reply = b""
        self.rcpt_replies = []
        self.queue_id = None
        self.client_port = None
        self.t_start = None
        self.t_end = None

    @property
    def accepted(self):
        return self.stage == "eod" and self.code is not None and 200 <= self.code < 300

    def __repr__(self):
        return "<SendResult stage=%s code=%s reply=%r qid=%s>" % (self.stage, self.code, self.reply, self.queue_id)


QUEUED_AS_RE = re.compile(rb"queued as ([0-9A-Za-z]+)")


class E2E:
    """Sink + Postfix + (optionally) mailjournald in a fresh temp dir.  Use as a context manager."""

    def __init__(self, start_daemon=True, extra_main=None, daemon_args=(), prepare_journal=None,
                 policy=None, policy_files=None, e2e_cert=True, sink=None, daemon_env=None):
        """prepare_journal(env, path): called after the journal directory exists and before
        anything is started (e.g. to mount a tmpfs there); cleanups it registers with
        env.add_cleanup run after the daemon has stopped.

        policy: the YAML text of the daemon's policy (default DEFAULT_POLICY), written to
        policy/policy.yaml in the temp dir and passed with --policy; policy_files: extra files
        {relative path: text} written next to it (include lists, key files).  The e2e
        certificate is written as E2E_CERT (keys/e2e.crt) next to it too, unless policy_files
        has that path or e2e_cert is false (for a test that never starts the daemon and must
        run without the binaries); a policy's departments name it with `keys: [keys/e2e.crt]`.
        env.tool exports with the e2e key (see Tool).

        sink: a sink object to relay to instead of make_sink()'s (anything with start(), stop()
        and port; a `proc` attribute, the sink's process, is killed by the reaper too); E2E
        starts and stops it.  The milters Postfix calls are set like any other main.cf
        setting: extra_main={"smtpd_milters": SPEC, "non_smtpd_milters": SPEC} ("" for none)
        replaces the daemon's socket.

        daemon_env: environment variables {name: value} added to the daemon's (e.g. the
        LD_PRELOAD shim of test_slowdisk.py); they stay for its restarts (env.daemon.extra_env)."""
        self._stack = contextlib.ExitStack()
        self.start_daemon = start_daemon
        self.extra_main = extra_main
        self.daemon_args = daemon_args
        self.prepare_journal = prepare_journal
        self.policy_text = DEFAULT_POLICY if policy is None else policy
        self.policy_files = dict(policy_files or {})
        self.e2e_cert = e2e_cert
        self.sink = sink
        self.daemon_env = dict(daemon_env or {})

    def add_cleanup(self, fn, *args, **kw):
        self._stack.callback(fn, *args, **kw)

    # -- lifecycle
    def __enter__(self):
        try:
            self._setup()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc):
        self._stack.close()
        return False

    def close(self):
        self._stack.close()

    def _setup(self):
        self.reaper = Reaper()
        self._stack.callback(self.reaper.done)
        _live_envs.append(self)
        self._stack.callback(lambda: self in _live_envs and _live_envs.remove(self))
        parent = os.environ.get("MJ_E2E_TMP") or None
        self.base = tempfile.mkdtemp(prefix="mj-e2e-", dir=parent)
        self.reaper.note("rmtree", self.base)
        self._stack.callback(self._remove_base)
        os.chmod(self.base, 0o755)
        pw = pwd.getpwnam(DAEMON_USER)
        self.daemon_uid, self.daemon_gid = pw.pw_uid, pw.pw_gid
        self.run_dir = os.path.join(self.base, "run")
        os.makedirs(self.run_dir)
        os.chown(self.run_dir, self.daemon_uid, self.daemon_gid)
        self.journal_dir = os.path.join(self.base, "journal")
        os.makedirs(self.journal_dir, exist_ok=True)
        if self.prepare_journal is not None:
            self.prepare_journal(self, self.journal_dir)
        os.chown(self.journal_dir, self.daemon_uid, self.daemon_gid)

        if self.sink is None:
            self.sink = make_sink(os.path.join(self.base, "sink"))
        self.sink.start()
        if getattr(self.sink, "proc", None) is not None:
            self.reaper.note("pid", self.sink.proc.pid, self.sink.proc.args[0])
        self._stack.callback(self.sink.stop)

        self.policy_dir = os.path.join(self.base, "policy")
        self.e2e_cert_path = os.path.join(self.policy_dir, E2E_CERT)
        if self.e2e_cert:
            self.reaper.note("rmtree", e2e_keys().dir)   # atexit removes it, unless SIGKILLed
        self.policy_path = write_policy_dir(self.policy_dir, self.policy_text, self.policy_files,
                                            e2e_cert=self.e2e_cert)

        # The search index keys: the daemon makes the directory (for its user) at start-up.
        self.index_keys_dir = os.path.join(self.base, "index-keys")
        self.daemon = Journald(self.base, self.journal_dir, os.path.join(self.run_dir, "milter.sock"),
                               os.path.join(self.run_dir, "admin.sock"), extra_args=self.daemon_args,
                               policy=self.policy_path, extra_env=self.daemon_env,
                               index_keys=self.index_keys_dir)
        self.daemon.on_start = lambda pid: self.reaper.note("pid", pid, self.daemon.binary)
        self._stack.callback(self._stop_daemon_quietly)
        self.tool = Tool(self.daemon.admin_sock, self.journal_dir, keys=e2e_keys() if self.e2e_cert else None,
                         index_keys=self.index_keys_dir)

        self.mta = self.make_mta()
        # The milter before the MTA, as an operator starts them: Postfix's own readiness probe
        # (a connection closed at once) would otherwise meet no milter and log a milter-reject
        # at CONNECT, which tests that check the log for rejects would take for a lost message.
        if self.start_daemon:
            self.daemon.start()
        self.mta.start()
        self._stack.callback(self.mta.stop)

    def make_mta(self):
        """The MTA the tests send to, not yet started: the private Postfix instance (also
        self.postfix).  A subclass may return another MTA instead (tests/e2e/sendmail.py): an
        object with start(), stop(), smtp_port (its SMTP port on 127.0.0.1) and maillog (the
        file diagnostics() shows)."""
        self.postfix = PostfixInstance(self.base, self.sink.port, self.daemon.milter_spec, self.extra_main)
        self.reaper.note("postfix", self.postfix.conf_dir)
        if isinstance(self.sink, SmtpSinkProcess):
            self.sink.is_complete = lambda qid: re.search(
                r"\b%s: to=.*status=sent" % re.escape(qid), self.postfix.log()) is not None
        return self.postfix

    def _stop_daemon_quietly(self):
        try:
            self.daemon.stop()
        except HarnessError as exc:
            sys.stderr.write("warning: %s\n" % exc)

    def _remove_base(self):
        if os.environ.get("MJ_E2E_KEEP"):
            sys.stderr.write("keeping %s\n" % self.base)
            return
        shutil.rmtree(self.base, ignore_errors=True)

    def diagnostics(self):
        return ("---- mailjournald log (tail) ----\n%s\n---- MTA log (tail) ----\n%s\n" % (
            tail(self.daemon.log_path), tail(self.mta.maillog)))

    # -- sending
    def connect(self, helo="client.test.invalid"):
        s = smtplib.SMTP("127.0.0.1", self.mta.smtp_port, local_hostname=helo, timeout=120)
        return s

    def send(self, raw, mail_from="sender@example.org", rcpts=("rcpt@example.net",), mail_options=(),
             rcpt_options=None, helo="client.test.invalid", smtp=None):
        """One transaction with exact bytes (smtplib dot-stuffs and adds a final CRLF if missing).

        Never raises on SMTP replies: returns a SendResult with the stage reached and its reply.
        rcpt_options: None or a list (one list of options per recipient).
        With smtp=an open smtplib.SMTP the transaction runs on that connection (left open).
        """
        r = SendResult()
        r.t_start = datetime.datetime.now(datetime.timezone.utc)
        own = smtp is None
        try:
            if own:
                r.stage = "connect"
                try:
                    smtp = self.connect(helo)
                except smtplib.SMTPConnectError as exc:
                    r.code, r.reply = exc.smtp_code, exc.smtp_error
                    return r
                r.stage = "ehlo"
                code, msg = smtp.ehlo(helo)
                r.code, r.reply = code, msg
                if code != 250:
                    return r
            r.client_port = smtp.sock.getsockname()[1]
            r.stage = "mail"
            code, msg = smtp.mail(mail_from, list(mail_options))
            r.code, r.reply = code, msg
            if code != 250:
                smtp.rset()
                return r
            r.stage = "rcpt"
            ok = 0
            for i, rc in enumerate(rcpts):
                opts = list(rcpt_options[i]) if rcpt_options else []
                code, msg = smtp.rcpt(rc, opts)
                r.rcpt_replies.append((code, msg))
                if code in (250, 251):
                    ok += 1
                r.code, r.reply = code, msg
            if ok == 0:
                smtp.rset()
                return r
            r.stage = "data"
            try:
                # raises SMTPDataError when the DATA command itself is refused;
                # otherwise returns the reply to the end of data
                code, msg = smtp.data(raw)
            except smtplib.SMTPDataError as exc:
                r.code, r.reply = exc.smtp_code, exc.smtp_error
                smtp.rset()
                return r
            r.stage = "eod"
            r.code, r.reply = code, msg
            m = QUEUED_AS_RE.search(msg or b"")
            if m:
                r.queue_id = m.group(1).decode()
            return r
        except smtplib.SMTPServerDisconnected as exc:
            r.reply = str(exc).encode()
            r.code = None
            return r
        finally:
            r.t_end = datetime.datetime.now(datetime.timezone.utc)
            if own and smtp is not None:
                quit_smtp(smtp)

    def send_ok(self, raw, **kw):
        r = self.send(raw, **kw)
        if not r.accepted:
            raise HarnessError("message not accepted: %r\n%s" % (r, self.diagnostics()))
        return r

    def sendmail(self, raw, sender, rcpts, extra_args=()):
        return self.postfix.sendmail(raw, sender, rcpts, extra_args)

    # -- waiting and reading deliveries
    def wait_delivered(self, count, timeout=60):
        """Wait until the sink holds at least count transactions and Postfix's queue is empty."""
        wait_until(lambda: self.sink.count() >= count, timeout,
                   "%d deliveries at the sink (have %d)" % (count, self.sink.count()),
                   interval=0.1, diag=lambda: self.postfix.queue_listing() + self.diagnostics())
        wait_until(self.postfix.queue_empty, timeout, "Postfix queue to drain", interval=0.1,
                   diag=lambda: self.postfix.queue_listing() + self.diagnostics())
        return self.sink.deliveries()

    def delivery_for(self, queue_id, timeout=60):
        def find():
            for d in self.sink.deliveries():
                if d.queue_id == queue_id:
                    return d
            return None
        return wait_until(find, timeout, "delivery of queue id %s" % queue_id, interval=0.1,
                          diag=lambda: self.postfix.queue_listing() + self.diagnostics())

    def delivery_matching(self, predicate, timeout=60, what="a matching delivery"):
        def find():
            for d in self.sink.deliveries():
                if predicate(d):
                    return d
            return None
        return wait_until(find, timeout, what, interval=0.1,
                          diag=lambda: self.postfix.queue_listing() + self.diagnostics())

    # -- policy
    def restrict_sockets(self, socket_group):
        """Before the daemon starts: its sockets' directories give the sockets their groups,
        postfix for the milter socket, `socket_group` (a grp entry) for the admin socket (mode
        0660); others cannot enter them."""
        os.chown(self.run_dir, self.daemon_uid, grp.getgrnam("postfix").gr_gid)
        os.chmod(self.run_dir, 0o2750)
        admin_dir = os.path.join(self.base, "admin")
        os.mkdir(admin_dir)
        os.chown(admin_dir, self.daemon_uid, socket_group.gr_gid)
        os.chmod(admin_dir, 0o2750)
        self.daemon.socket_mode = "0660"
        self.daemon.admin_sock = self.tool.socket_path = os.path.join(admin_dir, "admin.sock")

    def write_policy(self, text, files=None):
        """Replace the daemon's policy file (atomically: a reload sees old or new, never a mix)
        and the given extra files; the daemon reads it at the next reload or start."""
        self.policy_text = text
        self.policy_files.update(files or {})
        write_policy_dir(self.policy_dir, text, files, e2e_cert=self.e2e_cert)
        return self.policy_path

    def reload_policy(self, via="tool", timeout=30):
        """Reload with `mailjournal policy reload` (via="tool") or SIGUSR1 (via="signal") and
        return (seq, digest) of the new policy entry; raise if the reload was refused."""
        if via == "signal":
            outcome = self.daemon.signal_reload(timeout)
            if outcome[0] != "loaded":
                raise HarnessError("SIGUSR1 reload refused: %r\n%s" % (outcome, self.daemon.current_log()[-3000:]))
            if outcome[1] != "reload (SIGUSR1)":
                raise HarnessError("unexpected reload reason %r" % (outcome,))
            return outcome[2], outcome[3]
        p = self.tool.policy_reload()
        if p.returncode != 0:
            raise HarnessError("mailjournal policy reload -> exit %d\nstderr: %s" % (
                p.returncode, p.stderr.decode(errors="replace")))
        m = re.match(rb"^policy reloaded: seq=(\d+) digest=([0-9a-f]{64})\n$", p.stdout)
        if not m:
            raise HarnessError("unexpected output of mailjournal policy reload: %r" % p.stdout)
        return int(m.group(1)), m.group(2).decode()

    # -- journal helpers
    def entries(self):
        """The message entries (mailjournal list), oldest first."""
        return self.tool.all_entries()

    def every_entry(self):
        """Entries of every kind (mailjournal list --all)."""
        return self.tool.every_entry()

    def entries_for_qid(self, queue_id):
        return [e for e in self.entries() if e.get("queue_id") == queue_id]

    def entry_for_qid(self, queue_id):
        found = self.entries_for_qid(queue_id)
        if len(found) != 1:
            raise HarnessError("expected exactly one journal entry with queue_id %s, found %d\n%s" % (
                queue_id, len(found), self.diagnostics()))
        return found[0]


# --------------------------------------------------------------------------------------------
# test-case support

def require_environment():
    """Exit 77 (skip) when the e2e prerequisites are missing; return normally otherwise."""
    problems = []
    if os.geteuid() != 0:
        problems.append("must run as root (private Postfix instance)")
    for tool in ("postfix", "postconf", "postqueue", "sendmail", "postkick"):
        if shutil.which(tool) is None and not os.path.exists("/usr/sbin/" + tool):
            problems.append("missing %s (install postfix)" % tool)
    try:
        pwd.getpwnam(DAEMON_USER)
    except KeyError:
        problems.append("no user %s (MJ_E2E_USER)" % DAEMON_USER)
    return problems


def require_binaries(*paths):
    missing = [p for p in paths if not os.access(p, os.X_OK)]
    return ["missing binary %s (build first)" % p for p in missing]


class E2ETestCase(unittest.TestCase):
    """Prints the fixture's logs when a test fails."""

    env = None  # set by subclasses (class- or test-level fixture)
    maxDiff = 4000

    def assert_entry_content(self, entry, content):
        """The entry's size and digest describe content, sealed or not (content_mismatch)."""
        problem = content_mismatch(entry, content)
        if problem:
            self.fail(problem)

    def assert_sealed_to_e2e(self, entry):
        """The entry is sealed to the e2e key alone."""
        self.assertTrue(entry.get("sealed"), entry)
        self.assertEqual(entry["seal"]["recipients"], [e2e_keys().fingerprint], entry)

    def run(self, result=None):
        if result is None:
            result = self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        env = getattr(self, "env", None)
        if len(result.failures) + len(result.errors) > before and env is not None:
            try:
                sys.stderr.write("\n==== diagnostics for %s (temp dir %s) ====\n%s" % (
                    self.id(), env.base, env.diagnostics()))
            except Exception:
                pass
        return out


def main(needs_binaries=(MAILJOURNALD, MAILJOURNAL)):
    """unittest.main wrapper: exit 77 when prerequisites are missing, non-zero on failure."""
    problems = require_environment() + require_binaries(*needs_binaries)
    if problems:
        sys.stderr.write("SKIP: " + "; ".join(problems) + "\n")
        sys.exit(SKIP_EXIT)
    def interrupted(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)
    try:
        unittest.main(verbosity=2)
    finally:
        close_all_envs()


def bytes_diff(expected, actual, context=60):
    """Short human description of the first difference between two byte strings."""
    if expected == actual:
        return "identical"
    n = min(len(expected), len(actual))
    i = next((k for k in range(n) if expected[k] != actual[k]), n)
    return ("lengths %d (expected) vs %d (actual); first difference at offset %d:\n"
            "  expected: %r\n  actual:   %r" % (len(expected), len(actual), i,
                                                expected[max(0, i - context):i + context],
                                                actual[max(0, i - context):i + context]))


def sha256(data):
    return hashlib.sha256(data).hexdigest()
