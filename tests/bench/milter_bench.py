#!/usr/bin/env python3
"""milter_bench: mailjournald alone against the do-nothing null_milter, over the milter
protocol, with no MTA (issue 6, "mailjournald alone"; tests/bench/README.md).

    sudo tests/bench/milter_bench.py build        # BUILD_DIR: a CMake build of this tree

In one temp dir (under --tmp, default the system's; removed at the end, even on failure or
if this script is killed) it makes two RSA-3072 recipient certificates with `openssl req` (as
tests/unit/test_util.cc does), a policy that seals every message to a department key and an
escrow key, and a checkpoint signing key (`mailjournal keygen --signing`); it starts
null_milter and mailjournald on unix sockets, both unprivileged (user MJ_E2E_USER, default
nobody, as the e2e harness runs the daemon; mailjournald drops to it with --user); null_milter
negotiates the protocol steps mailjournald negotiates (`milter_load --negotiate-only`, then
`null_milter --steps`: on a unix: socket mailjournald asks for no replies to some events, and
the baseline must send the same round trips). Then, each step with tests/bench/milter_load
(the MTA side of the milter protocol) run from the temp dir, on the journal's file system:

1. throughput: --runs R times, interleaved null, mailjournald, null, mailjournald, ...:
   --messages M messages of --size S bytes over --connections C connections (100 messages
   per connection); then the medians and the ratio mailjournald / null_milter (goal >= 0.80);
2. latency: mailjournald, then null_milter, paced at half mailjournald's median messages/s:
   the end-of-message answer time (goal: p99 <= 5 ms);
3. the journal: mailjournald is stopped and `mailjournal verify` must find exactly the
   messages answered CONTINUE, intact;
4. memory: a fresh mailjournald on an empty journal, --memory-connections connections
   (default 100) each sending one message of --memory-size bytes (default 25,000,000): its
   peak RSS (VmHWM, reset just before the run; goal < 300 MB), and null_milter's for the same
   load; then verify again. The journal's file system must have 3 times the bytes sent free
   (the script checks, and says so).

With --supervision (issue 11) it runs instead two mailjournalds side by side: one with the
policy above, one with the same policy plus a `supervision` section that gives each department
(retail and default) a lexicon of --terms generated terms (two thirds Chinese, of 2 to 4
characters; one third English words and two-word phrases; a few words of milter_load's text,
so that some messages are flagged) and five patterns, and a 2% sample; --runs interleaved
throughput runs of each (plain, supervised, plain, ...), then the median messages/s of each
and their ratio (goal: the supervised daemon keeps at least 90%). Both daemons index (every
department does, by default), so the text is extracted in both: the difference is the
lexicon matching and the sample draw.

Exit status: 0 when every message of every step was answered CONTINUE or ACCEPT and the
journal verified; 1 otherwise; 2 for a usage error; 77 when a prerequisite is missing. The
goals are printed as met or not, they do not change the exit status.
"""

import argparse
import datetime
import json
import os
import platform
import pwd
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SKIP_EXIT = 77

# A detached process that undoes what it was told (kill these processes, remove this
# directory) if the benchmark dies without saying "done": the daemons run in sessions of
# their own, so nothing else would stop them.
REAPER = r"""
import os, shutil, signal, sys, time
pids, dirs = {}, []
for line in sys.stdin:
    kind, _, arg = line.rstrip("\n").partition(" ")
    if kind == "done":
        sys.exit(0)
    if kind == "pid":
        pid, _, exe = arg.partition(" ")
        pids[int(pid)] = exe
    elif kind == "forget":
        pids.pop(int(arg), None)
    elif kind == "rmtree":
        dirs.append(arg)
def same(pid, exe):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return exe.encode() in f.read()
    except OSError:
        return False
for pid, exe in pids.items():
    if same(pid, exe):
        os.kill(pid, signal.SIGTERM)
        for _ in range(150):
            time.sleep(0.1)
            if not same(pid, exe):
                break
        else:
            os.kill(pid, signal.SIGKILL)
for d in dirs:
    shutil.rmtree(d, ignore_errors=True)
"""

POLICY = """\
# milter_bench: every message from @bank.example is in retail, sealed to retail.crt and
# to the escrow key; any other sender's to the escrow key alone.
version: 1
retention:
  standard-7y: 7y
escrow: [escrow.crt]
departments:
  - name: retail
    members: ['@bank.example']
    retention: standard-7y
    keys: [retail.crt]
  - name: default
    retention: standard-7y
"""


class BenchError(Exception):
    pass


def supervision_section(terms, seed=11):
    """A supervision section: a lexicon of `terms` generated terms and five patterns for each
    of retail and default, with a 2% sample."""
    import random
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"

    def english():
        return "".join(rng.choice(letters) for _ in range(rng.randint(5, 10)))

    def chinese():
        return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(2, 4)))

    out = "supervision:\n  lexicons:\n"
    for dept in ("retail", "default"):
        # milter_load's text has retail's first two terms, and none of default's: every
        # message is flagged, and every scan still reads the whole text (default's lexicon,
        # which retail applies too, is never found): the matcher's worst case.
        words = ["compliance", "overdue invoice"] if dept == "retail" else []
        while len(words) < terms:
            r = rng.random()
            words.append(chinese() if r < 2 / 3 else english() if r < 5 / 6 else english() + " " + english())
        out += "    - name: %s-lexicon\n      severity: high\n      terms:\n" % dept
        out += "".join("        - %s\n" % json.dumps(w, ensure_ascii=False) for w in words)
        out += "      patterns: ['risk[- ]?free', 'guaranteed\\s+(return|yield)', '\\b1\\d\\d ?% return', "
        out += "'稳赚.{0,3}不赔', 'wire\\s+to\\s+account\\s+\\d{8,}']\n"
    out += "  departments:\n"
    # milter_load's messages are retail's alone; it applies default's lexicon too, so that its
    # scans read every text to the end.
    out += "    - {name: retail, lexicons: [retail-lexicon, default-lexicon], sample: 2%}\n"
    out += "    - {name: default, lexicons: [default-lexicon], sample: 2%}\n"
    return out


def log(text=""):
    print(text, flush=True)


def run(cmd, timeout=120, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                       **kw)
    if p.returncode != 0:
        raise BenchError("%s exited %d:\n%s" % (" ".join(map(shlex.quote, cmd)), p.returncode,
                                                p.stdout.decode(errors="replace")[-3000:]))
    return p.stdout.decode(errors="replace")


def unix_accepts(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(path)
            return True
        except OSError:
            return False


def proc_status(pid, field):
    """A /proc/PID/status figure in kB (VmHWM, VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise BenchError("no %s in /proc/%d/status" % (field, pid))


class Filter:
    """null_milter or mailjournald, started unprivileged in its own session."""

    def __init__(self, name, argv, sockets, log_path, note, user=None):
        """note(*words): tells the reaper (see REAPER) about the process."""
        self.name, self.argv, self.sockets, self.log_path = name, argv, sockets, log_path
        self.note, self.user, self.proc = note, user, None

    def start(self, timeout=60):
        with open(self.log_path, "ab") as out:
            kw = {}
            if self.user is not None:
                kw = dict(user=self.user.pw_uid, group=self.user.pw_gid, extra_groups=[])
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=out, start_new_session=True, **kw)
        self.note("pid", self.proc.pid, self.argv[0])
        deadline = time.monotonic() + timeout
        while not all(unix_accepts(s) for s in self.sockets):
            if self.proc.poll() is not None:
                raise BenchError("%s exited %s during start-up:\n%s" % (
                    self.name, self.proc.returncode, self.log_tail()))
            if time.monotonic() > deadline:
                raise BenchError("%s: sockets not ready after %ss" % (self.name, timeout))
            time.sleep(0.05)

    @property
    def pid(self):
        return self.proc.pid

    def stop(self, timeout=60):
        """SIGTERM, wait (libmilter takes about 5 s to return), then SIGKILL; the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.note("forget", self.proc.pid)
        self.proc = None
        return rc

    def log_tail(self, nbytes=4000):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(0, os.path.getsize(self.log_path) - nbytes))
                return f.read().decode(errors="replace")
        except OSError:
            return ""


class Bench:
    def __init__(self, args):
        self.args = args
        build = os.path.abspath(args.build_dir)
        self.bin = {
            "mailjournald": os.path.join(build, "milter", "mailjournald"),
            "mailjournal": os.path.join(build, "store", "mailjournal"),
            "null_milter": os.path.join(build, "tests", "null_milter"),
            "milter_load": os.path.join(build, "tests", "milter_load"),
        }
        self.user = pwd.getpwnam(os.environ.get("MJ_E2E_USER", "nobody"))
        self.reaper = None
        self.work = None
        self.filters = []
        self.failures = []  # what went wrong, for the exit status
        self.steps = None   # the SMFIP_* steps mailjournald negotiates, "0x..."

    # -- setup -------------------------------------------------------------------------------

    def check_prerequisites(self):
        if os.geteuid() != 0:
            log("milter_bench: run as root (the daemon drops to an unprivileged user)")
            sys.exit(SKIP_EXIT)
        missing = [p for p in self.bin.values() if not os.access(p, os.X_OK)]
        if missing or shutil.which("openssl") is None:
            log("milter_bench: missing: %s (build with cmake --build %s)" % (
                ", ".join(missing or ["openssl"]), self.args.build_dir))
            sys.exit(SKIP_EXIT)

    def setup(self):
        self.reaper = subprocess.Popen([sys.executable, "-c", REAPER, "milter-bench-reaper"],
                                       stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                       start_new_session=True)
        self.work = tempfile.mkdtemp(prefix="milter-bench-", dir=self.args.tmp)
        if not self.args.keep:
            self.reaper_note("rmtree", self.work)
        os.chmod(self.work, 0o755)
        self.policy_dir = os.path.join(self.work, "policy")
        self.sock_dir = os.path.join(self.work, "sock")
        self.signing_dir = os.path.join(self.work, "signing")
        for d in (self.policy_dir, self.sock_dir, self.signing_dir):
            os.mkdir(d, 0o755)
        os.chown(self.sock_dir, self.user.pw_uid, self.user.pw_gid)
        t0 = time.monotonic()
        for name in ("retail", "escrow"):
            base = os.path.join(self.policy_dir, name)
            run(["openssl", "req", "-x509", "-newkey", "rsa:3072", "-nodes", "-keyout",
                 base + ".key", "-out", base + ".crt", "-subj", "/CN=%s-bench" % name, "-days",
                 "3650"])
            os.chmod(base + ".crt", 0o644)
            os.chmod(base + ".key", 0o600)  # the officers' keys: never the daemon's
        policies = {"policy.yaml": POLICY}
        if self.args.supervision:
            policies["supervised.yaml"] = POLICY + supervision_section(self.args.terms)
        for name, text in policies.items():
            with open(os.path.join(self.policy_dir, name), "w") as f:
                f.write(text)
            os.chmod(os.path.join(self.policy_dir, name), 0o644)
        run([self.bin["mailjournal"], "keygen", "--signing", "bench.example/journal", "-o",
             self.signing_dir])
        log("setup:    %s: two RSA-3072 certificates (openssl req), policy, checkpoint signing "
            "key in %.1f s; filters run as %s" % (self.work, time.monotonic() - t0,
                                                    self.user.pw_name))

    def reaper_note(self, *words):
        if self.reaper is not None and self.reaper.poll() is None:
            self.reaper.stdin.write((" ".join(str(w) for w in words) + "\n").encode())
            self.reaper.stdin.flush()

    def negotiated_steps(self, f):
        """The SMFIP_* steps filter f negotiates with an MTA that offers them all."""
        out = run([self.bin["milter_load"], "--socket", f.spec, "--negotiate-only"])
        fields = dict(kv.split("=", 1) for kv in out.split())
        return fields["steps"]

    def null_milter(self, tag, steps):
        sock = os.path.join(self.sock_dir, "null-%s.sock" % tag)
        f = Filter("null_milter", [self.bin["null_milter"], "unix:" + sock, "--steps", steps],
                   [sock],
                   os.path.join(self.work, "null_milter.log"), self.reaper_note, user=self.user)
        f.spec = "unix:" + sock
        self.filters.append(f)
        f.start()
        return f

    def mailjournald(self, tag, policy="policy.yaml"):
        journal = os.path.join(self.work, "journal-" + tag)
        os.mkdir(journal, 0o750)
        os.chown(journal, self.user.pw_uid, self.user.pw_gid)
        # Each daemon's own search index keys, in the temp dir (the default is under /etc).
        index_keys = os.path.join(self.work, "index-keys-" + tag)
        os.mkdir(index_keys, 0o700)
        os.chown(index_keys, self.user.pw_uid, self.user.pw_gid)
        milter = os.path.join(self.sock_dir, "mj-%s.sock" % tag)
        admin = os.path.join(self.sock_dir, "admin-%s.sock" % tag)
        argv = [self.bin["mailjournald"], "--foreground", "--journal", journal,
                "--milter-socket", "unix:" + milter, "--admin-socket", admin,
                "--socket-mode", "0666", "--policy",
                os.path.join(self.policy_dir, policy), "--user", self.user.pw_name,
                "--signing-key", os.path.join(self.signing_dir, "checkpoint.key"),
                "--index-keys", index_keys]
        f = Filter("mailjournald", argv, [milter, admin],
                   os.path.join(self.work, "mailjournald-%s.log" % tag), self.reaper_note)
        f.spec, f.journal = "unix:" + milter, journal
        self.filters.append(f)
        f.start()
        return f

    def teardown(self):
        for f in self.filters:
            try:
                f.stop()
            except Exception as exc:  # keep cleaning up
                log("milter_bench: stopping %s: %r" % (f.name, exc))
        if self.work and not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        elif self.work:
            log("kept:     %s" % self.work)
        self.work = None
        if self.reaper is not None:
            try:
                self.reaper.stdin.write(b"done\n")
                self.reaper.stdin.close()
            except OSError:
                pass
            self.reaper.wait(10)
            self.reaper = None

    # -- steps -------------------------------------------------------------------------------

    def load(self, f, header, extra, label):
        """One milter_load invocation against filter f; its result lines as dicts."""
        cmd = [self.bin["milter_load"], "--socket", f.spec, "--pid", str(f.pid)] + extra
        if not header:
            cmd.append("--no-header")
        log("--- %s: %s" % (label, " ".join(cmd)))
        p = subprocess.run(cmd, cwd=self.work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=1800)
        out = p.stdout.decode(errors="replace")
        sys.stdout.write(out)
        sys.stdout.flush()
        results = []
        for line in out.splitlines():
            if line.startswith("result run="):
                fields = dict(kv.split("=", 1) for kv in line.split()[1:])
                results.append({k: float(v) for k, v in fields.items()})
        if p.returncode != 0 or not results:
            self.failures.append("%s: milter_load exited %d" % (label, p.returncode))
            if f.proc is not None and f.proc.poll() is not None:
                raise BenchError("%s died (exit %s):\n%s" % (f.name, f.proc.returncode,
                                                             f.log_tail()))
        return results

    def throughput(self, null, mj):
        a = self.args
        params = ["--connections", str(a.connections), "--messages", str(a.messages), "--size",
                  str(a.size), "--runs", "1"]
        res = {"null": [], "mj": []}
        profile = None
        for i in range(a.runs):
            res["null"] += self.load(null, i == 0, params, "throughput %d, null_milter" % (i + 1))
            if a.perf and i == min(1, a.runs - 1):
                profile = self.start_perf(mj.pid)
            res["mj"] += self.load(mj, i == 0, params, "throughput %d, mailjournald" % (i + 1))
            if profile is not None:
                self.stop_perf(profile)
                profile = None
        return res

    def start_perf(self, pid):
        log("--- perf record -p %d -o %s (this run only)" % (pid, self.args.perf))
        p = subprocess.Popen(["perf", "record", "-F", "499", "--call-graph", "dwarf,16384",
                              "-p", str(pid), "-o", self.args.perf], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(1)
        return p

    def stop_perf(self, p):
        p.send_signal(signal.SIGINT)
        p.wait(120)
        log("--- profile: perf report -i %s --no-children --sort symbol" % self.args.perf)

    def latency(self, null, mj, peak):
        rate = max(1, int(peak / 2))
        messages = max(self.args.messages, rate * 10)
        params = ["--connections", str(self.args.connections), "--messages", str(messages),
                  "--size", str(self.args.size), "--rate", str(rate), "--runs", "1",
                  "--sync-probe"]
        mj_r = self.load(mj, False, params, "latency, mailjournald at %d msg/s" % rate)
        null_r = self.load(null, False, params, "latency, null_milter at %d msg/s" % rate)
        return rate, mj_r, null_r

    def verify(self, mj, expected):
        """Stops the daemon, then `mailjournal verify`: exactly `expected` messages, intact."""
        rc = mj.stop()
        if rc != 0:
            self.failures.append("mailjournald exited %s at stop" % rc)
        t0 = time.monotonic()
        out = run([self.bin["mailjournal"], "--journal", mj.journal, "verify", "--verifier-key",
                   os.path.join(self.signing_dir, "checkpoint.vkey"), "--format", "json"],
                  timeout=1800)
        v = json.loads(out)
        ok = v.get("intact") is True and v.get("messages") == expected
        log("verify:   %s: %s messages (expected %d), %s entries, %s checkpoints, intact %s, "
            "%.1f MB of stored content, %.1f s%s" % (
                mj.journal, v.get("messages"), expected, v.get("entries"), v.get("checkpoints"),
                v.get("intact"), v.get("content_bytes", 0) / 1e6, time.monotonic() - t0,
                "" if ok else " -- NOT AS EXPECTED: " + v.get("problem", "")))
        if not ok:
            self.failures.append("verify of %s" % mj.journal)

    def memory(self):
        a = self.args
        total = a.memory_connections * a.memory_size
        st = os.statvfs(self.work)
        free = st.f_bavail * st.f_frsize
        need = 3 * total
        log("memory:   %d connections x 1 message of %d bytes = %.2f GB; journal file system "
            "has %.1f GB free, %.1f GB required (3 x: LevelDB's log, its tables, compaction's "
            "copy; sealed text is smaller)" % (a.memory_connections, a.memory_size, total / 1e9,
                                                free / 1e9, need / 1e9))
        if free < need:
            self.failures.append("memory benchmark not run: not enough free space")
            log("memory:   NOT RUN: not enough free space in %s (use --tmp)" % self.work)
            return None
        params = ["--connections", str(a.memory_connections), "--messages",
                  str(a.memory_connections), "--per-connection", "1", "--size", str(a.memory_size),
                  "--runs", "1"]
        mj = self.mailjournald("memory")
        rss0 = proc_status(mj.pid, "VmRSS")
        hwm0 = proc_status(mj.pid, "VmHWM")
        mj_r = self.load(mj, False, params, "memory, mailjournald")
        if mj_r:
            mj_r[0]["rss_before_kb"], mj_r[0]["hwm_start_kb"] = rss0, hwm0
        self.verify(mj, int(sum(r["ok"] for r in mj_r)))
        shutil.rmtree(mj.journal, ignore_errors=True)
        null = self.null_milter("memory", self.steps)
        null_r = self.load(null, False, params, "memory, null_milter")
        null.stop()
        return mj_r, null_r

    # -- report ------------------------------------------------------------------------------

    def print_header(self):
        def first_line(cmd):
            try:
                return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      timeout=30).stdout.decode(errors="replace").splitlines()[0]
            except Exception:
                return "?"
        log("milter_bench: mailjournald alone against null_milter, over the milter protocol "
            "(issue 6)")
        log("date:     %s" % datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S UTC"))
        log("tree:     %s (git describe --always --dirty)" % first_line(
            ["git", "-C", REPO, "describe", "--always", "--dirty"]))
        log("binaries: %s; %s; %s" % (", ".join(self.bin.values()),
                                      first_line([self.bin["mailjournald"], "--version"]),
                                      first_line(["openssl", "version"])))
        log("command:  %s" % " ".join(map(shlex.quote, sys.argv)))
        log("host:     %s, %d cores, Linux %s" % (platform.node(), os.cpu_count(),
                                                  platform.release()))

    def summary(self, thr, lat, mem):
        a = self.args
        med = lambda rs, k: statistics.median(r[k] for r in rs) if rs else float("nan")
        log()
        log("=" * 100)
        log("summary: %d connections, %d messages of %d bytes per run, %d interleaved runs "
            "each; medians" % (a.connections, a.messages, a.size, a.runs))
        log("%-13s %-28s %8s %6s %-22s %9s %9s" % ("filter", "msg/s per run", "median", "MB/s",
                                                   "EOM ms p50/p99/max", "CPU us/msg",
                                                   "peak RSS"))
        for key, name in (("null", "null_milter"), ("mj", "mailjournald")):
            rs = thr[key]
            log("%-13s %-28s %8.0f %6.1f %-22s %9.0f %7.1f MB" % (
                name, " / ".join("%.0f" % r["msg_per_s"] for r in rs), med(rs, "msg_per_s"),
                med(rs, "mb_per_s"), "%.2f / %.2f / %.1f" % (
                    med(rs, "eom_p50_ms"), med(rs, "eom_p99_ms"), med(rs, "eom_max_ms")),
                med(rs, "filter_cpu_us"), med(rs, "filter_hwm_kb") / 1024))
        for key, name in (("null", "null_milter"), ("mj", "mailjournald")):
            rs = thr[key]
            if rs and "others_cores" in rs[0]:
                log("  during %s's runs: other processes took %s cores (of %d); milter_load %s "
                    "us/msg" % (name, " / ".join("%.2f" % r["others_cores"] for r in rs),
                                os.cpu_count(),
                                " / ".join("%.0f" % r["client_cpu_us"] for r in rs)))
        pairs = [m["msg_per_s"] / n["msg_per_s"] for n, m in zip(thr["null"], thr["mj"])]
        ratio = med(thr["mj"], "msg_per_s") / med(thr["null"], "msg_per_s")
        log("ratio mailjournald / null_milter: %.2f (medians); per interleaved pair %s; goal >= "
            "0.80: %s" % (ratio, " / ".join("%.2f" % x for x in pairs),
                          "met" if ratio >= 0.80 else "NOT met"))
        log("filter CPU per message: mailjournald %.0f us, null_milter %.0f us (%.1f x)" % (
            med(thr["mj"], "filter_cpu_us"), med(thr["null"], "filter_cpu_us"),
            med(thr["mj"], "filter_cpu_us") / med(thr["null"], "filter_cpu_us")))
        if lat:
            rate, mj_r, null_r = lat
            if mj_r and null_r:
                m, n = mj_r[0], null_r[0]
                log("latency at %d msg/s (half of mailjournald's median): EOM p50 / p99 / max "
                    "ms: mailjournald %.2f / %.2f / %.1f, null_milter %.2f / %.2f / %.1f; "
                    "mailjournald kept %.0f msg/s (start lag p99 %.1f ms), other processes took "
                    "%.2f cores; goal p99 <= 5 ms: %s" % (
                        rate, m["eom_p50_ms"], m["eom_p99_ms"], m["eom_max_ms"], n["eom_p50_ms"],
                        n["eom_p99_ms"], n["eom_max_ms"], m["msg_per_s"], m.get("lag_p99_ms", 0),
                        m.get("others_cores", float("nan")),
                        "met" if m["eom_p99_ms"] <= 5 else "NOT met"))
        if mem:
            mj_r, null_r = mem
            if mj_r:
                m = mj_r[0]
                log("memory: %d connections x %d bytes: mailjournald peak RSS (VmHWM) %.1f MB "
                    "(RSS %.1f MB before the run, VmHWM %.1f MB since start before it; up to %d "
                    "threads), %.1f s, CPU %.0f ms/msg; null_milter %.1f MB; goal < 300 MB: %s" % (
                        a.memory_connections, a.memory_size, m["filter_hwm_kb"] / 1024,
                        m["rss_before_kb"] / 1024, m["hwm_start_kb"] / 1024,
                        m.get("filter_max_threads", 0), m["seconds"], m["filter_cpu_us"] / 1000,
                        null_r[0]["filter_hwm_kb"] / 1024 if null_r else float("nan"),
                        "met" if m["filter_hwm_kb"] < 300 * 1024 else "NOT met"))
        for f in self.failures:
            log("FAILED: %s" % f)

    def supervision_main(self):
        """--supervision: plain and supervised mailjournald, interleaved; the ratio."""
        a = self.args
        self.check_prerequisites()
        self.print_header()
        res = {"plain": [], "supervised": []}
        try:
            self.setup()
            plain = self.mailjournald("plain")
            supervised = self.mailjournald("supervised", "supervised.yaml")
            params = ["--connections", str(a.connections), "--messages", str(a.messages), "--size",
                      str(a.size), "--runs", "1"]
            for i in range(a.runs):
                res["plain"] += self.load(plain, i == 0, params, "run %d, without supervision" % (i + 1))
                res["supervised"] += self.load(supervised, False, params,
                                               "run %d, %d-term lexicons" % (i + 1, a.terms))
            supervised.stop()
            out = run([self.bin["mailjournal"], "--journal", supervised.journal, "list", "--format",
                       "json"], timeout=600)
            entries = [json.loads(line) for line in out.splitlines() if line.strip()]
            log("supervised journal: %d messages, %d flagged, %d sampled" % (
                len(entries), sum(1 for e in entries if e.get("flags")),
                sum(1 for e in entries if e.get("sampled"))))
        except BenchError as exc:
            self.failures.append(str(exc))
        finally:
            self.teardown()
        if res["plain"] and res["supervised"]:
            p = statistics.median(r["msg_per_s"] for r in res["plain"])
            q = statistics.median(r["msg_per_s"] for r in res["supervised"])
            cpu_p = statistics.median(r.get("filter_cpu_us", float("nan")) for r in res["plain"])
            cpu_q = statistics.median(r.get("filter_cpu_us", float("nan")) for r in res["supervised"])
            log("")
            log("runs msg/s, without supervision: %s" % " / ".join("%.0f" % r["msg_per_s"] for r in res["plain"]))
            log("runs msg/s, with %d-term lexicons per department: %s" % (
                a.terms, " / ".join("%.0f" % r["msg_per_s"] for r in res["supervised"])))
            log("median msg/s: %.0f without, %.0f with; ratio %.3f (goal >= 0.90: %s); "
                "daemon CPU us/msg median %.0f without, %.0f with" % (
                    p, q, q / p, "met" if q / p >= 0.9 else "NOT met", cpu_p, cpu_q))
        for f in self.failures:
            log("FAILED: %s" % f)
        return 1 if self.failures else 0

    def main(self):
        a = self.args
        if a.supervision:
            return self.supervision_main()
        self.check_prerequisites()
        self.print_header()
        thr, lat, mem = {"null": [], "mj": []}, None, None
        try:
            self.setup()
            mj = self.mailjournald("run")
            self.steps = self.negotiated_steps(mj)
            null = self.null_milter("run", self.steps)
            log("steps:    mailjournald negotiates SMFIP_* steps %s on its unix: socket; "
                "null_milter is started to negotiate the same (--steps)" % self.steps)
            thr = self.throughput(null, mj)
            if thr["mj"]:
                lat = self.latency(null, mj, statistics.median(r["msg_per_s"] for r in thr["mj"]))
            ok = sum(r["ok"] for r in thr["mj"]) + (sum(r["ok"] for r in lat[1]) if lat else 0)
            self.verify(mj, int(ok))
            null.stop()
            if not a.no_memory:
                mem = self.memory()
        except BenchError as exc:
            self.failures.append(str(exc))
        finally:
            self.teardown()
        self.summary(thr, lat, mem)
        return 1 if self.failures else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("build_dir", help="CMake build directory (milter/, store/, tests/ in it)")
    p.add_argument("--connections", type=int, default=20)
    p.add_argument("--messages", type=int, default=5000, help="per throughput run")
    p.add_argument("--size", type=int, default=20000)
    p.add_argument("--runs", type=int, default=3, help="interleaved runs of each filter")
    p.add_argument("--memory-connections", type=int, default=100)
    p.add_argument("--memory-size", type=int, default=25000000)
    p.add_argument("--no-memory", action="store_true", help="leave out the memory benchmark")
    p.add_argument("--perf", metavar="FILE",
                   help="perf record mailjournald's second throughput run into FILE")
    p.add_argument("--supervision", action="store_true",
                   help="compare mailjournald with and without supervision lexicons (only that)")
    p.add_argument("--terms", type=int, default=1000, help="terms per department's lexicon")
    p.add_argument("--tmp", help="parent of the temp dir (default: the system's)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = p.parse_args()
    bench = Bench(args)

    def interrupted(signum, frame):
        raise KeyboardInterrupt
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)
    try:
        sys.exit(bench.main())
    except KeyboardInterrupt:
        bench.teardown()
        log("milter_bench: interrupted")
        sys.exit(1)


if __name__ == "__main__":
    main()
