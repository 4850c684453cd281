#!/usr/bin/env python3
"""kill -9 under continuous load (issue 6, section 3).

Several SMTP client threads send distinct messages (a unique marker in Subject and Message-ID;
small, medium and multi-chunk sizes) to the private Postfix, which passes them to mailjournald,
running with a checkpoint signing key (--checkpoint-interval 1, an off-host --checkpoint-dir).
While the load runs, the daemon is SIGKILLed at random moments and restarted, KILLS times.
Then the load stops, Postfix delivers everything queued, and the daemon stops cleanly.

After each kill (the daemon gone, its journal closed by the kernel), a copy of the journal is
read with python3-plyvel (key layout of mailjournal-format(5), KEYS) and must hold:
  * no pending-key ('p') and no chunk of a transaction of an earlier generation than the
    process just killed: each restart deletes the staged data of interrupted transactions;
  * no chunk that belongs to neither a message entry nor a pending-key, every message entry
    with exactly its chunks, entries dense from 1, mtree over all of them;
  * entries of the kinds this run makes only (policy, key, message, checkpoint, access), and
    exactly one access entry (the audit trail, written before the answer) for each request
    answered through the admin socket before the kill: the verify after each restart.
After each restart, `mailjournal verify --verifier-key --checkpoints` through the admin socket
(the load goes on meanwhile) exits 0.  At the end (clean stop):
  * every message for which a client got 250 is in the journal (by queue id), was delivered,
    and its export (with the e2e key) is byte-identical to what the sink received;
  * every delivery is journaled (nothing passed unrecorded), no queue id is journaled twice;
  * no pending-key and no stray chunk at all, an access entry for every answered request;
    `mailjournal --journal COPY verify` exits 0.

The kill moments come from a seeded random generator (the kind of trigger and its threshold:
"acks", a number of 250s; "staging", the journal growing while a multi-chunk message is being
transferred; "checkpoint", while the daemon writes an off-host checkpoint copy; "delay", a
random delay); the message sizes and bodies too.  The seed is printed;
MJ_CRASH_SEED=N replays the same plan (the interleaving with the load is timing-dependent).
Waiting is on observable state only (harness.wait_until); the clients' short back-off after a
4xx reply rate-limits them while the daemon is down and synchronises nothing.

Run: python3 tests/e2e/test_crash.py   (as root; exit 77 = skipped, prerequisites missing)
     MJ_CRASH_SEED=N MJ_CRASH_KILLS=5 MJ_CRASH_CLIENTS=4 MJ_CRASH_TRIGGERS=acks,staging,checkpoint,delay
     (optional; the defaults shown, the seed random).  A failure keeps the mj-crash-* directory it
     names: journal copies, signing key, off-host checkpoints, daemon log, maillog.
The long form, 20 kills and more: tests/crash/kill_loop.py (tests/crash/README.md).
"""

import collections
import json
import os
import pwd
import random
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness   # noqa: E402

ORIGIN = "mail.e2e.test/crash"
CHUNK = 65536


# --------------------------------------------------------------------------------------------
# reading a closed journal copy with plyvel, in a Python that has it (Debian's python3-plyvel)

plyvel_python = harness.plyvel_python


# Summarises the records that matter here (mailjournal-format(5), KEYS, ENTRY ENCODING):
# pending-keys, chunk-keys per txn, message entries' queue id / txn / chunks, access entries'
# operation, meta-keys.
SCAN_SCRIPT = r"""
import json, struct, sys, plyvel

def varint(data, i):
    v = shift = 0
    while True:
        c = data[i]; i += 1
        v |= (c & 0x7F) << shift; shift += 7
        if c < 0x80:
            return v, i

db = plyvel.DB(sys.argv[1], create_if_missing=False)
pending = [struct.unpack(">Q", k[1:])[0] for k in db.iterator(prefix=b"p", include_value=False) if len(k) == 9]
bad_keys = [k.hex() for k in db.iterator(prefix=b"p", include_value=False) if len(k) != 9]
chunks = {}
for k in db.iterator(prefix=b"c", include_value=False):
    if len(k) != 13:
        bad_keys.append(k.hex()); continue
    txn, idx = struct.unpack(">QI", k[1:])
    chunks.setdefault(txn, []).append(idx)
entries = []
for k, v in db.iterator(prefix=b"e"):
    seq = struct.unpack(">Q", k[1:])[0]
    e = {"seq": seq, "kind": v[3] if len(v) > 3 and v[:3] == b"MJ\x01" else -1}
    if e["kind"] == 1:
        i = 4
        while i < len(v):
            tag, i = varint(v, i); n, i = varint(v, i); val = v[i:i + n]; i += n
            if tag == 2: e["queue_id"] = val.decode("utf-8", "replace")
            elif tag == 13: e["txn"] = struct.unpack(">Q", val)[0]
            elif tag == 14: e["chunks"] = struct.unpack(">I", val)[0]
    elif e["kind"] == 8:
        i = 4
        while i < len(v):
            tag, i = varint(v, i); n, i = varint(v, i); val = v[i:i + n]; i += n
            if tag == 4: e["operation"] = val.decode("utf-8", "replace")
    entries.append(e)
leaves = sum(1 for _ in db.iterator(prefix=b"h", include_value=False))
gen = db.get(b"mgeneration")
tree = db.get(b"mtree")
db.close()
json.dump({"pending": pending, "chunks": {str(t): sorted(i) for t, i in chunks.items()},
           "entries": entries, "leaves": leaves, "bad_keys": bad_keys,
           "generation": struct.unpack(">Q", gen)[0] if gen and len(gen) == 8 else None,
           "tree_size": struct.unpack(">Q", tree[:8])[0] if tree and len(tree) >= 8 else None}, sys.stdout)
"""


def scan_journal(journal_dir):
    """The summary of SCAN_SCRIPT for the closed journal journal_dir (opened by plyvel: use a copy)."""
    p = subprocess.run([plyvel_python(), "-c", SCAN_SCRIPT, os.path.join(journal_dir, "db")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if p.returncode != 0:
        raise harness.HarnessError("plyvel scan of %s failed: %s" % (journal_dir, p.stderr.decode(errors="replace")))
    s = json.loads(p.stdout)
    s["chunks"] = {int(t): i for t, i in s["chunks"].items()}
    return s


def staging_problems(scan, generation=None, answered=None):
    """What is wrong with a journal's staged data and entries (a list of texts).  generation:
    the generation of the process that wrote last (after a kill); its transactions may still be
    pending, those of every earlier generation must be gone.  None: nothing may be pending.
    answered: the operations of the admin requests answered through the socket so far, in
    order; the journal must hold exactly their access entries (the audit trail writes each
    durably before the answer; status, not recorded, is not among them)."""
    problems = []
    if scan["bad_keys"]:
        problems.append("keys of the wrong length: %s" % scan["bad_keys"][:10])
    pending = set(scan["pending"])
    if generation is None:
        if pending:
            problems.append("%d pending-keys remain: txns %s" % (len(pending), sorted(pending)[:10]))
    else:
        old = sorted(t for t in pending if t >> 32 != generation)
        if old:
            problems.append("pending-keys of earlier generations than %d survived a restart: %s" % (
                generation, ["%d:%d" % (t >> 32, t & 0xFFFFFFFF) for t in old[:10]]))
    messages = [e for e in scan["entries"] if e["kind"] == 1]
    txns = {}
    for e in messages:
        if "txn" not in e or "chunks" not in e:
            problems.append("message entry %d without txn or chunks" % e["seq"])
            continue
        if e["txn"] in txns:
            problems.append("entries %d and %d share txn %d" % (txns[e["txn"]], e["seq"], e["txn"]))
        txns[e["txn"]] = e["seq"]
        if e["txn"] in pending:
            problems.append("entry %d's txn %d still has a pending-key" % (e["seq"], e["txn"]))
        have = scan["chunks"].get(e["txn"], [])
        if have != list(range(e["chunks"])):
            problems.append("entry %d (txn %d) records %d chunks, the journal has indices %s" % (
                e["seq"], e["txn"], e["chunks"], have[:10]))
    stray = sorted(t for t in scan["chunks"] if t not in txns and t not in pending)
    if stray:
        problems.append("chunks of %d transactions with neither an entry nor a pending-key: txns %s" % (
            len(stray), ["%d:%d" % (t >> 32, t & 0xFFFFFFFF) for t in stray[:10]]))
    seqs = [e["seq"] for e in scan["entries"]]
    if seqs != list(range(1, len(seqs) + 1)):
        problems.append("entry sequence numbers are not dense from 1")
    # message, policy, key, checkpoint, access (no holds, releases or disposals here)
    bad_kind = [e["seq"] for e in scan["entries"] if e["kind"] not in (1, 2, 3, 4, 8)]
    if bad_kind:
        problems.append("entries that do not decode or of a kind this run makes none of: %s" % bad_kind[:10])
    if answered is not None:
        recorded = [e.get("operation") for e in scan["entries"] if e["kind"] == 8]
        if recorded != list(answered):
            problems.append("access entries %s for the requests answered %s" % (recorded[:20], list(answered)[:20]))
    if scan["leaves"] != len(seqs):
        problems.append("%d leaf-keys for %d entries" % (scan["leaves"], len(seqs)))
    if scan["tree_size"] != len(seqs):
        problems.append("mtree covers %s entries, the journal has %d" % (scan["tree_size"], len(seqs)))
    return problems


# --------------------------------------------------------------------------------------------
# the load

def make_message(marker, size, rng):
    """A message of about size bytes with marker in Subject and Message-ID.  The body is base64
    text of random bytes (it does not compress: above 64 KiB the sealed form spans chunks),
    with an occasional line starting with a dot (dot-stuffing on the wire)."""
    return harness.random_text_message(marker, size, rng, b"Load <load@example.org>", b"crash.e2e.test",
                                       b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n")


def message_size(rng):
    """Small (60%), medium (25%) or multi-chunk (15%: 70 KB to 1.5 MB)."""
    x = rng.random()
    if x < 0.60:
        return rng.randint(300, 4000)
    if x < 0.85:
        return rng.randint(8000, 60000)
    return rng.randint(70000, 1500000)


class Sent:
    __slots__ = ("marker", "raw", "rcpts", "result", "error", "client", "t_end")

    def __init__(self, marker, raw, rcpts, client):
        self.marker, self.raw, self.rcpts, self.client = marker, raw, rcpts, client
        self.result = None
        self.error = None
        self.t_end = None


class Load:
    """clients threads sending distinct messages until stop(); each reuses its connection for a
    few transactions after a 250 and opens a new one after anything else."""

    BACKOFF = 0.05   # after a 4xx or a dropped connection: rate limit, not synchronisation

    def __init__(self, env, seed, clients):
        self.env = env
        self.seed = seed
        self.clients = clients
        self.lock = threading.Lock()
        self.sent = []
        self.accepted = 0
        self.tempfails = 0
        self.other = 0            # no reply (connection lost), 5xx, exceptions
        self.big_in_flight = 0    # multi-chunk messages between MAIL FROM and the reply to DATA
        self._stop = threading.Event()
        self.threads = []
        self.errors = []

    def start(self):
        for c in range(self.clients):
            t = threading.Thread(target=self._client, args=(c,), name="load-%d" % c, daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self, timeout=180):
        self._stop.set()
        for t in self.threads:
            t.join(timeout)
            if t.is_alive():
                raise harness.HarnessError("load thread %s did not stop within %ds" % (t.name, timeout))

    def counts(self):
        with self.lock:
            return len(self.sent), self.accepted, self.tempfails, self.other

    def _client(self, c):
        rng = random.Random("%d/client/%d" % (self.seed, c))
        smtp, reuse = None, 0
        n = 0
        while not self._stop.is_set():
            n += 1
            marker = "crash-%d-c%d-%05d" % (self.seed, c, n)
            size = message_size(rng)
            rcpts = ["rcpt-c%d@example.net" % c] + (["second@example.net"] if rng.random() < 0.2 else [])
            s = Sent(marker, make_message(marker, size, rng), rcpts, c)
            with self.lock:
                self.sent.append(s)
            big = size > CHUNK
            ok = False
            try:
                if smtp is None:
                    smtp = self.env.connect("client-%d.test.invalid" % c)
                    smtp.ehlo("client-%d.test.invalid" % c)
                    reuse = rng.randint(1, 4)
                if big:
                    with self.lock:
                        self.big_in_flight += 1
                try:
                    s.result = self.env.send(s.raw, mail_from="load-%d@example.org" % c, rcpts=rcpts, smtp=smtp)
                finally:
                    if big:
                        with self.lock:
                            self.big_in_flight -= 1
                ok = s.result.accepted
                if ok and not s.result.queue_id:
                    self.errors.append("%s: 250 without a queue id: %r" % (marker, s.result))
            except (smtplib.SMTPException, OSError, AttributeError) as exc:
                s.error = repr(exc)   # AttributeError: smtplib after the server dropped the connection
            except Exception as exc:  # a bug in the test: fail, but keep the load going
                s.error = repr(exc)
                self.errors.append("client %d, %s: unexpected %r" % (c, marker, exc))
            s.t_end = time.monotonic()
            with self.lock:
                if ok:
                    self.accepted += 1
                elif s.result is not None and s.result.code is not None and 400 <= s.result.code < 500:
                    self.tempfails += 1
                else:
                    self.other += 1
            if not ok or reuse <= 1:
                if smtp is not None:
                    harness.quit_smtp(smtp)
                smtp = None
                if not ok:
                    self._stop.wait(self.BACKOFF)
            else:
                reuse -= 1
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass


# --------------------------------------------------------------------------------------------
# the run

def dir_size(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


class CrashRun:
    """One run: environment, load, kills, final checks.  Failures are collected in
    self.problems (each names what failed); run() returns the report lines."""

    TRIGGERS = ("acks", "staging", "checkpoint", "delay")

    def __init__(self, seed, kills, clients=4, duration=0.0, out=sys.stderr, keep_on_failure=True, triggers=None):
        self.seed = seed
        self.work = None
        self.env = None
        self.triggers = tuple(triggers or self.TRIGGERS)
        unknown = set(self.triggers) - set(self.TRIGGERS)
        if unknown:
            raise ValueError("unknown triggers %s (known: %s)" % (sorted(unknown), ", ".join(self.TRIGGERS)))
        self.kills = kills
        self.clients = clients
        self.duration = duration
        self.out = out
        self.rng = random.Random("%d/plan" % seed)
        self.problems = []
        self.kill_log = []
        self.answered = []   # operations of the requests the daemon answered (audit trail)
        self.keep_on_failure = keep_on_failure

    def say(self, text):
        self.out.write(text + "\n")
        self.out.flush()

    def problem(self, text):
        self.problems.append(text)
        self.say("PROBLEM: " + text)

    # -- setup

    def _setup(self):
        parent = os.environ.get("MJ_E2E_TMP") or None
        self.work = tempfile.mkdtemp(prefix="mj-crash-", dir=parent)
        os.chmod(self.work, 0o755)
        keys = os.path.join(self.work, "signing")
        os.makedirs(keys, mode=0o700)
        p = harness.run([harness.MAILJOURNAL, "keygen", "--signing", ORIGIN, "-o", keys, "--format", "json"])
        json.loads(p.stdout)
        self.key = os.path.join(keys, "checkpoint.key")
        self.vkey = os.path.join(keys, "checkpoint.vkey")
        self.offhost = os.path.join(self.work, "offhost")
        os.makedirs(self.offhost)
        pw = pwd.getpwnam(harness.DAEMON_USER)
        os.chown(self.offhost, pw.pw_uid, pw.pw_gid)
        self.copies = os.path.join(self.work, "copies")
        os.makedirs(self.copies)
        env = harness.E2E(daemon_args=["--signing-key", self.key, "--checkpoint-interval", "1",
                                       "--checkpoint-dir", self.offhost])
        env.__enter__()
        self.env = env
        env.reaper.note("rmtree", self.work)   # if this process is killed (its reaper removes the rest)

    def _teardown(self, failed):
        env = self.env
        if self.work is None:
            return
        if failed and env is not None:
            for path in (env.daemon.log_path, env.postfix.maillog):
                try:
                    shutil.copy(path, self.work)
                except (OSError, AttributeError):
                    pass
        try:
            if env is not None:
                env.close()
        finally:
            if failed and self.keep_on_failure:
                self.say("kept for inspection: %s (journal copies in copies/, signing key, off-host checkpoints, "
                         "daemon log, maillog); MJ_E2E_KEEP=1 keeps the Postfix/journal temp dir too" % self.work)
            elif not os.environ.get("MJ_E2E_KEEP"):
                shutil.rmtree(self.work, ignore_errors=True)

    # -- helpers

    def _run_verify(self, journal_dir, offhost):
        args = ["verify", "--verifier-key", self.vkey] + (["--checkpoints", self.offhost] if offhost else []) + [
            "--format", "json"]
        t0 = time.monotonic()
        if journal_dir is None:
            p = self.env.tool.run(*args, timeout=600)
            cmd = "mailjournal --socket %s %s" % (self.env.daemon.admin_sock, " ".join(args))
            if p.returncode in (0, 65):   # answered: intact, or not (EX_DATAERR)
                self.answered.append("verify")
        else:
            p = harness.Tool(journal_dir=journal_dir).run(*args, journal=True, timeout=600)
            cmd = "mailjournal --journal %s %s" % (journal_dir, " ".join(args))
        dt = time.monotonic() - t0
        try:
            report = json.loads(p.stdout)
        except ValueError:
            report = {}
        ok = p.returncode == 0 and report.get("intact") is True
        text = "exit %d: %s%s\n  command: %s" % (p.returncode, p.stdout.decode(errors="replace")[-1500:],
                                               p.stderr.decode(errors="replace")[-1500:], cmd)
        return ok, dt, report, text

    def verify(self, journal_dir=None, label=""):
        """verify with the verifier key and against the off-host copies, through the admin socket
        (the daemon runs; the load goes on) or with --journal journal_dir; returns (seconds,
        report) and records a problem if it fails.  After a failure, verify runs again without
        the off-host copies, to tell a damaged journal from a bad checkpoint directory, and the
        seconds and report returned are those of that second run."""
        ok, dt, report, text = self._run_verify(journal_dir, offhost=True)
        if not ok:
            self.problem("%s: verify --checkpoints failed, %s" % (label, text))
            stray = sorted(n for n in os.listdir(self.offhost) if not re.match(r"checkpoint\.\d{20}\Z", n))
            if stray:
                self.problem("%s: files in the checkpoint directory that are not checkpoint.SIZE files: %s" % (
                    label, ", ".join("%s (%d bytes)" % (n, os.path.getsize(os.path.join(self.offhost, n)))
                                     for n in stray)))
            ok2, dt, report2, text2 = self._run_verify(journal_dir, offhost=False)
            self.say("%s: verify without --checkpoints: %s" % (label, "passes" if ok2 else "FAILS too, " + text2))
            if not ok2:
                self.problem("%s: verify without --checkpoints failed too, %s" % (label, text2))
            report = report2
        return dt, report

    def copy_journal(self, name):
        dest = os.path.join(self.copies, name)
        shutil.copytree(self.env.journal_dir, dest, symlinks=True)
        return dest

    def wait(self, predicate, timeout, what):
        return harness.wait_until(predicate, timeout, what, interval=0.01,
                                  diag=lambda: "load (sent, 250, 4xx, other): %r\n%s" % (
                                      self.load.counts(), self.env.diagnostics()))

    # -- kill moments

    def arm(self, i):
        """Draw kill i's trigger from the plan and wait for it; return (kind, description)."""
        kind = self.triggers[self.rng.randrange(len(self.triggers))]
        acks_before = self.load.counts()[1]
        # every trigger first waits for at least one 250 from this daemon's run
        n_acks = self.rng.randint(1, 40) if kind == "acks" else 1
        grow = self.rng.randint(16 * 1024, 512 * 1024)
        delay = self.rng.uniform(0.05, 2.5)
        dwell = self.rng.uniform(0.5, 1.5) * self.duration / max(1, self.kills) if self.duration else 0.0
        t_armed = time.monotonic()
        if dwell:
            self.wait(lambda: time.monotonic() >= t_armed + dwell, dwell + 5, "the dwell of kill %d" % i)
        self.wait(lambda: self.load.counts()[1] >= acks_before + n_acks, 60,
                  "%d more 250s before kill %d" % (n_acks, i))
        if kind == "acks":
            return kind, "after %d more 250s" % n_acks
        if kind == "staging":
            # a multi-chunk message is being transferred and the journal has grown by `grow`
            # bytes since it started: the kill most likely lands in its staging
            self.wait(lambda: self.load.big_in_flight > 0, 60, "a multi-chunk message in flight before kill %d" % i)
            base = dir_size(self.env.journal_dir)
            self.wait(lambda: dir_size(self.env.journal_dir) >= base + grow or self.load.big_in_flight == 0, 60,
                      "the journal to grow by %d bytes" % grow)
            return kind, "journal +%d KiB while a multi-chunk message was in flight (%s)" % (
                grow // 1024, "still in flight" if self.load.big_in_flight else "it had finished")
        if kind == "checkpoint":
            # the daemon writes each off-host copy as checkpoint.SIZE.tmp, then links it to
            # checkpoint.SIZE: kill while the copy is under way (polled tightly: it takes a few
            # ms), or right after the new file appeared if the copy was quicker than the poll
            before = set(os.listdir(self.offhost))
            new = harness.wait_until(lambda: set(os.listdir(self.offhost)) - before, 30,
                                     "a new off-host checkpoint", interval=0.0005)
            return kind, "off-host checkpoint copy under way (%s)" % ", ".join(sorted(new))
        t0 = time.monotonic()
        self.wait(lambda: time.monotonic() >= t0 + delay, delay + 5, "a random moment")
        return kind, "random moment %.2fs after the first 250" % delay

    def kill_and_restart(self, i):
        kind, trigger = self.arm(i)
        in_flight = self.load.big_in_flight
        t_kill = time.monotonic()
        pid = self.env.daemon.proc.pid
        rc = self.env.daemon.kill()
        if rc != -9:
            self.problem("kill %d: the daemon exited with %r before SIGKILL reached it" % (i, rc))
        # the journal as the kill left it
        copy = self.copy_journal("kill-%02d" % i)
        scan = scan_journal(copy)
        gen = scan["generation"]
        found = staging_problems(scan, generation=gen, answered=self.answered)
        for p in found:
            self.problem("kill %d (seed %d), journal copy %s: %s" % (i, self.seed, copy, p))
        pending_now = len(scan["pending"])
        if not found:   # kept as evidence otherwise
            shutil.rmtree(copy, ignore_errors=True)
        # restart (the harness waits for both sockets), then verify while the load goes on
        t0 = time.monotonic()
        self.env.daemon.start()
        t_restart = time.monotonic() - t0
        self.env.daemon.wait_log(" started: journal=")
        self.say("kill %2d/%d: %s: %s; the journal it left: generation %s, %d entries, %d pending txns; "
                 "restart %.2fs" % (i, self.kills, kind, trigger, gen, len(scan["entries"]), pending_now, t_restart))
        t_verify, report = self.verify(label="verify after restart %d (seed %d)" % (i, self.seed))
        self.say("          verify after restart %d: %.2fs (%s entries, %.1f MB of content)" % (
            i, t_verify, report.get("entries"), (report.get("content_bytes") or 0) / 1e6))
        self.kill_log.append({
            "kill": i, "t": t_kill, "pid": pid, "kind": kind, "trigger": trigger, "big_in_flight": in_flight,
            "generation": gen, "pending_at_kill": pending_now, "entries_at_kill": len(scan["entries"]),
            "restart_s": t_restart, "verify_s": t_verify, "verified_entries": report.get("entries"),
            "verified_bytes": report.get("content_bytes")})

    # -- final checks

    def final_checks(self):
        env = self.env
        load = self.load
        accepted = [s for s in load.sent if s.result is not None and s.result.accepted]
        # Postfix delivers everything queued
        env.postfix.flush()
        want = {s.result.queue_id for s in accepted}

        def delivered():
            have = {d.queue_id for d in env.sink.deliveries()}
            return want <= have and env.postfix.queue_empty()
        self.wait(delivered, 120, "Postfix to deliver all %d accepted messages" % len(want))
        deliveries = {d.queue_id: d for d in env.sink.deliveries()}
        rc = env.daemon.stop()
        if rc != 0:
            self.problem("clean stop: exit %r" % rc)
        stop_log = env.daemon.current_log()
        # the closed journal: staged data, dense entries, tree; verify; list; export
        scan_copy = self.copy_journal("final-scan")
        scan = scan_journal(scan_copy)
        found = staging_problems(scan, generation=None, answered=self.answered)
        for p in found:
            self.problem("final journal (seed %d), copy %s: %s" % (self.seed, scan_copy, p))
        if not found:
            shutil.rmtree(scan_copy, ignore_errors=True)
        copy = self.copy_journal("final")
        t_final_verify, report = self.verify(journal_dir=copy, label="final verify (seed %d)" % self.seed)
        tool = harness.Tool(journal_dir=copy)
        every = tool.every_entry(journal=True)
        entries = [e for e in every if e["kind"] == "message"]
        if [e["seq"] for e in every] != list(range(1, len(every) + 1)):
            self.problem("list --all: sequence numbers not dense")
        by_qid = collections.defaultdict(list)
        for e in entries:
            by_qid[e.get("queue_id")].append(e)
        dups = {q: [e["seq"] for e in es] for q, es in by_qid.items() if len(es) > 1}
        if dups:
            self.problem("queue ids journaled more than once: %s" % dict(list(dups.items())[:10]))
        # export every message entry that was accepted or delivered, in one call
        seqs = sorted({by_qid[q][0]["seq"] for q in want | set(deliveries) if q in by_qid})
        exported = {}
        if seqs:
            out_dir = os.path.join(self.copies, "export")
            os.makedirs(out_dir)
            p = tool.run("export", *seqs, "-o", out_dir, journal=True, timeout=600)
            if p.returncode != 0:
                self.problem("export of %d messages: exit %d: %s" % (len(seqs), p.returncode,
                                                                     p.stderr.decode(errors="replace")[-2000:]))
            for seq in seqs:
                path = os.path.join(out_dir, "%d.eml" % seq)
                if os.path.exists(path):
                    with open(path, "rb") as f:
                        exported[seq] = f.read()
        missing, not_delivered, differ = [], [], []
        for s in accepted:
            q = s.result.queue_id
            es = by_qid.get(q)
            if not es:
                missing.append(s)
                continue
            d = deliveries.get(q)
            if d is None:
                not_delivered.append(s)
                continue
            if s.marker.encode() not in d.content:
                differ.append("%s (queue id %s): the delivery does not hold the marker" % (s.marker, q))
            e = es[0]
            data = exported.get(e["seq"])
            if data is None:
                differ.append("%s (queue id %s, seq %d): not exported" % (s.marker, q, e["seq"]))
            elif data != d.content:
                differ.append("%s (queue id %s, seq %d): export differs from the delivery: %s" % (
                    s.marker, q, e["seq"], harness.bytes_diff(d.content, data)))
            else:
                bad = harness.content_mismatch(e, data)
                if bad:
                    differ.append("%s: %s" % (s.marker, bad))
        for s in load.sent:
            if s.result is not None and s.result.code is not None and s.result.code >= 500:
                self.problem("%s: permanent failure %d %r at stage %s" % (s.marker, s.result.code, s.result.reply,
                                                                          s.result.stage))
        if not missing and not differ:   # the exports are kept as evidence otherwise
            shutil.rmtree(os.path.join(self.copies, "export"), ignore_errors=True)
        for s in missing:
            self.problem("250 but not journaled (seed %d): %s queue id %s, reply %r at +%.2fs; kills at %s" % (
                self.seed, s.marker, s.result.queue_id, s.result.reply, s.t_end - self.t_start,
                ["+%.2fs" % (k["t"] - self.t_start) for k in self.kill_log if "t" in k]))
        for s in not_delivered:
            self.problem("250 but never delivered: %s queue id %s" % (s.marker, s.result.queue_id))
        for text in differ:
            self.problem(text)
        # nothing delivered that is not journaled (with identical bytes)
        acc_qids = want
        extra_deliveries = [q for q in deliveries if q not in acc_qids]
        for q in extra_deliveries:
            if q not in by_qid:
                self.problem("delivered but not journaled: queue id %s" % q)
            else:
                data = exported.get(by_qid[q][0]["seq"])
                if data != deliveries[q].content:
                    self.problem("delivered queue id %s (no 250 seen by a client) differs from its export" % q)
        journaled_not_acked = [q for q in by_qid if q not in acc_qids and q not in deliveries]
        # checkpoint entries whose off-host copy a kill interrupted (not retried after a restart)
        no_copy = [e["seq"] for e in every if e["kind"] == "checkpoint" and not os.path.exists(
            os.path.join(self.offhost, "checkpoint.%020d" % e["tree_size"]))]
        self.final = {"accepted": len(accepted), "deliveries": len(deliveries), "entries": len(entries),
                      "extra_deliveries": len(extra_deliveries), "journaled_not_acked": len(journaled_not_acked),
                      "exported": len(exported), "final_verify_s": t_final_verify, "no_offhost_copy": no_copy,
                      "final_verify_entries": report.get("entries"), "checkpoints": report.get("checkpoints"),
                      "off_host": report.get("off_host"), "stopped_line": "mailjournald stopped:" in stop_log}
        if not self.final["stopped_line"]:
            self.problem("no 'mailjournald stopped:' line at the clean stop")

    # -- main

    def run(self):
        self.say("crash test: seed=%d kills=%d clients=%d duration=%s triggers=%s" % (
            self.seed, self.kills, self.clients, self.duration or "-", ",".join(self.triggers)))
        self.t_start = time.monotonic()
        failed = True
        try:
            self._setup()
            self.load = Load(self.env, self.seed, self.clients)
            self.load.start()
            try:
                for i in range(1, self.kills + 1):
                    self.kill_and_restart(i)
                # the last run journals mail too
                acks = self.load.counts()[1]
                self.wait(lambda: self.load.counts()[1] >= acks + 5, 60, "5 more 250s after the last restart")
            finally:
                self.load.stop()
            self.t_load_end = time.monotonic()
            self.final_checks()
            self.problems.extend(self.load.errors)
            failed = bool(self.problems)
        finally:
            self._teardown(failed)
        return self.report()

    def report(self):
        sent, acc, tf, other = self.load.counts()
        errors = collections.Counter((s.error or "").split("(")[0] for s in self.load.sent if s.error)
        codes = collections.Counter(s.result.code for s in self.load.sent
                                    if s.result is not None and not s.result.accepted)
        big = sum(1 for s in self.load.sent if s.result is not None and s.result.accepted and len(s.raw) > CHUNK)
        lines = [
            "seed:                   %d" % self.seed,
            "kills:                  %d" % len(self.kill_log),
            "clients:                %d" % self.clients,
            "load time:              %.1fs (whole run %.1fs)" % (self.t_load_end - self.t_start,
                                                               time.monotonic() - self.t_start),
            "messages sent:          %d" % sent,
            "250 (accepted):         %d (%d of them multi-chunk)" % (acc, big),
            "4xx tempfails:          %d  (codes of refusals: %s)" % (tf, dict(codes)),
            "other (no reply, ...):  %d  %s" % (other, dict(errors) if errors else ""),
            "delivered:              %d (%d without a 250 seen by a client)" % (
                self.final["deliveries"], self.final["extra_deliveries"]),
            "journal messages:       %d (%d journaled but neither acknowledged nor delivered)" % (
                self.final["entries"], self.final["journaled_not_acked"]),
            "exports compared:       %d" % self.final["exported"],
            "pending txns at kills:  %s" % [k["pending_at_kill"] for k in self.kill_log],
            "restart times (s):      %s" % ["%.2f" % k["restart_s"] for k in self.kill_log],
            "verify times (s):       %s" % ["%.2f" % k["verify_s"] for k in self.kill_log],
            "verified entries:       %s" % [k["verified_entries"] for k in self.kill_log],
            "final verify:           %.2fs, %s entries, %s checkpoints, %s off-host" % (
                self.final["final_verify_s"], self.final["final_verify_entries"], self.final["checkpoints"],
                self.final["off_host"]),
            "checkpoints w/o copy:   %s (checkpoint entries without an off-host file)" % (
                self.final["no_offhost_copy"] or "none"),
            "triggers:               %s" % dict(collections.Counter(k["kind"] for k in self.kill_log)),
            "problems:               %d" % len(self.problems),
        ]
        return lines


def seed_from_env(name="MJ_CRASH_SEED"):
    value = os.environ.get(name)
    if value:
        return int(value)
    return random.SystemRandom().randrange(1, 2 ** 31)


# --------------------------------------------------------------------------------------------

class CrashTest(harness.E2ETestCase):
    KILLS = int(os.environ.get("MJ_CRASH_KILLS", "5"))
    CLIENTS = int(os.environ.get("MJ_CRASH_CLIENTS", "4"))
    TRIGGERS = [t for t in os.environ.get("MJ_CRASH_TRIGGERS", "").split(",") if t] or None

    def test_kill_9_under_load(self):
        seed = seed_from_env()
        replay = "MJ_CRASH_SEED=%d MJ_CRASH_KILLS=%d MJ_CRASH_CLIENTS=%d %spython3 %s" % (
            seed, self.KILLS, self.CLIENTS,
            "MJ_CRASH_TRIGGERS=%s " % ",".join(self.TRIGGERS) if self.TRIGGERS else "",
            os.path.relpath(os.path.abspath(__file__), harness.REPO))
        sys.stderr.write("\nseed %d; replay: %s\n" % (seed, replay))
        run = CrashRun(seed, self.KILLS, clients=self.CLIENTS, triggers=self.TRIGGERS)
        try:
            lines = run.run()
        except BaseException:
            sys.stderr.write("seed %d; replay: %s\n" % (seed, replay))
            raise
        sys.stderr.write("".join(l + "\n" for l in lines))
        self.assertEqual(len(run.kill_log), self.KILLS)
        self.assertGreater(run.final["accepted"], 0)
        self.assertFalse(run.problems, "seed %d; replay: %s\n%s" % (seed, replay, "\n".join(run.problems)))


if __name__ == "__main__":
    harness.main()
