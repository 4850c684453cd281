#!/usr/bin/env python3
"""postfix_bench: messages/s through Postfix, without a milter, with a do-nothing milter and
with mailjournald (issue 6, "through Postfix"; tests/bench/README.md).

    sudo python3 tests/bench/postfix_bench.py --build build

smtp-source -> a private Postfix on 127.0.0.1 -> smtp-sink, one realistic 20 kB text message
(written here, deterministic) sent N times over S concurrent sessions, one message per SMTP
connection, in three variants run back to back and interleaved (a, b, c, a, b, c, ...):

  a  Postfix with no milter
  b  Postfix with null_milter (tests/bench/null_milter.cc), the do-nothing libmilter filter,
     negotiating the protocol steps mailjournald negotiates (--null-steps)
  c  Postfix with mailjournald: every message sealed (CMS, RSA-3072) to a department key and
     an escrow key, classified by a policy, appended to the Merkle tree, signed checkpoints

Everything is started by the end-to-end harness (tests/e2e/harness.py, class E2E): a fresh
temp dir, Postfix, the sink and the daemon for every run, all torn down after it, even on
failure (and by the harness's reaper if this process is killed).  Both milters listen on a
unix socket, as the harness runs mailjournald.  The same Postfix settings are used in every
variant (BENCH_MAIN below: in_flow_delay = 0 among them); only the milter lists differ.

Throughput is end to end: messages / the time from starting smtp-source (its first
connection) until smtp-sink has received the N-th message (smtp-sink -c prints its counters
after every message; a thread reads them as they come).  After every run the Postfix log must
show exactly N deliveries (status=sent) and the queue must be empty; after every run of c the
daemon is stopped and `mailjournal verify` (with the checkpoints' verifier key and the
off-host copies) must report N messages in an intact journal, and `mailjournal list` the queue
ids of exactly the N messages delivered, each sealed to the two keys.  Any difference stops
the benchmark (exit 1): it must not measure a broken path.

Environment: MAILJOURNALD, MAILJOURNAL, NULL_MILTER, MILTER_LOAD (binaries, instead of --build),
MJ_E2E_USER, MJ_E2E_TMP, MJ_E2E_KEEP as for the e2e tests.  Exit 77 when a prerequisite is
missing.
"""

import argparse
import collections
import contextlib
import datetime
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SKIP_EXIT = 77

VARIANTS = {
    "a": "Postfix, no milter",
    "b": "Postfix + null_milter",
    "c": "Postfix + mailjournald",
}

SENDER = "anna.weber@bank.example"
RECIPIENT = "client.0427@customer.example"
HELO = "mx3.bank.example"

# The same in every variant; the harness's own settings (tests/e2e/harness.py, main_cf) apply
# otherwise: milter_protocol 6, milter_default_action tempfail, milter_connect_timeout 10s,
# relayhost the sink, no TLS, no DNS.
BENCH_MAIN = {
    # Postfix's flow control: when messages arrive faster than qmgr takes them, smtpd pauses
    # up to in_flow_delay (default 1s) before each new message; it would throttle smtp-source
    # and time the pauses rather than the path, so it is off in every variant.  The queue
    # then grows while smtp-source sends and drains after it (the "drain s" column).
    "in_flow_delay": "0",
    # 20 smtpd, 20 cleanup (unlimited in the harness's master.cf) and the smtp clients fit
    # well within the default of 100: given explicitly so that the report shows it.
    "default_process_limit": "100",
    # the default of 20 concurrent deliveries to the sink could cap the delivery side
    "smtp_destination_concurrency_limit": "50",
}

POSTCONF_SHOWN = [
    "mail_version", "smtpd_milters", "non_smtpd_milters", "milter_protocol",
    "milter_default_action", "milter_connect_timeout", "milter_command_timeout",
    "milter_content_timeout", "in_flow_delay", "default_process_limit",
    "smtp_destination_concurrency_limit", "initial_destination_concurrency",
    "smtpd_client_connection_count_limit", "smtpd_client_event_limit_exceptions",
    "smtp_connection_cache_on_demand", "max_use", "enable_long_queue_ids",
]

POLICY = """\
# postfix_bench: senders @bank.example are "retail", sealed to its key and the escrow key
version: 1
retention:
  standard-7y: 7y
escrow: [keys/escrow.crt]
departments:
  - name: retail
    members: ['@bank.example']
    retention: standard-7y
    keys: [keys/e2e.crt]
  - name: default
    retention: standard-7y
"""

SIGNING_ORIGIN = "mx.bank.example/journal"


def die(msg, code=1):
    sys.stderr.write("postfix_bench: %s\n" % msg)
    sys.exit(code)


# --------------------------------------------------------------------------------------------
# the message

# Business-mail vocabulary (tests/bench/commit_bench.cc uses the same), drawn with Zipf weights
# so that the text compresses roughly as correspondence does.
WORDS = """the to and of a in for is on that we you this with be are as have it will please our
your at by from not can or an account payment if all has been would client regards thank team
meeting review report attached find below balance transfer loan rate credit statement compliance
request approval deadline quarter contract invoice amount EUR USD terms confirm schedule call
tomorrow Monday Friday update document signature customer portfolio risk limit branch mortgage
interest fee draft final version comments changes agreed proposal office number reference details
information following regarding issue resolved pending received sent next week month year date
time should could also any more other there which their they was were about into out up so no
one two three new per dear best kind hello hi thanks let me know questions further soon possible
asap note internal external audit policy procedure approved rejected signed copy original scan
PDF spreadsheet figures Q3 Q4 forecast budget costs savings settlement trade order bond equity
fund market price volume position exposure collateral""".split()

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def make_message(size, seed=20261127):
    """The lines (without line ends) of one mail of exactly `size` bytes on the wire (CRLF after
    every line, as smtp-source -F sends them): the header block of a message relayed by a
    bank's outbound MX (two Received, DKIM-Signature, From, To, Cc, Subject, Date, Message-ID,
    In-Reply-To, References, MIME headers) and a text/plain reply of Zipf-distributed business
    words in lines of at most 72 columns, with paragraphs and quoted ("> ") blocks."""
    r = random.Random(seed)

    def chars(n, alphabet):
        return "".join(r.choice(alphabet) for _ in range(n))

    mid = "<%s@bank.example>" % chars(20, ALNUM)
    parent = "<%s@customer.example>" % chars(24, ALNUM)
    head = [
        "Received: from gw2.bank.example (gw2.bank.example [192.0.2.17])",
        "\tby mx3.bank.example (Postfix) with ESMTPS id %s" % chars(12, ALNUM),
        "\tfor <%s>; Fri, 27 Nov 2026 09:41:12 +0100 (CET)" % RECIPIENT,
        "Received: from [10.1.20.144] (unknown [10.1.0.1])",
        "\tby gw2.bank.example (Postfix) with ESMTPSA id %s" % chars(12, ALNUM),
        "\tfor <%s>; Fri, 27 Nov 2026 09:41:11 +0100 (CET)" % RECIPIENT,
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=bank.example;",
        "\ts=sel2026; t=1795768871; bh=%s=;" % chars(43, B64),
        "\th=From:To:Cc:Subject:Date:Message-ID:In-Reply-To:References;",
        "\tb=%s" % chars(64, B64),
        "\t %s" % chars(64, B64),
        "\t %s" % chars(64, B64),
        "\t %s" % chars(64, B64),
        "\t %s==" % chars(42, B64),
        "From: Anna Weber <%s>" % SENDER,
        "To: Client 0427 <%s>" % RECIPIENT,
        "Cc: Retail Desk <retail.desk@bank.example>",
        "Subject: Re: account 418220 statement review for Q3",
        "Date: Fri, 27 Nov 2026 09:41:11 +0100",
        "Message-ID: %s" % mid,
        "In-Reply-To: %s" % parent,
        "References: %s" % parent,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8; format=flowed",
        "Content-Transfer-Encoding: 7bit",
        "",
    ]
    wire = sum(len(line) + 2 for line in head)
    weights = [1.0 / (i + 1) for i in range(len(WORDS))]
    body = []
    line = []
    quoted = False
    while True:
        word = r.choices(WORDS, weights)[0] if r.randrange(40) else str(r.randrange(1000000))
        text = " ".join(line)
        if line and len(text) + 1 + len(word) > 72:
            out = ("> " if quoted else "") + text
            body.append(out + ("." if r.randrange(6) == 0 else ""))
            if body[-1].endswith("."):
                body.append("> " if quoted else "")
            if r.randrange(8) == 0:
                quoted = not quoted
            line = []
            if wire + sum(len(b) + 2 for b in body) >= size - 200:
                break
        line.append(word)
    signature = ["", "Kind regards,", "Anna Weber", "Retail Banking, Bank Example AG"]
    used = wire + sum(len(b) + 2 for b in body + signature)
    if used > size - 2:
        raise ValueError("message size %d too small" % size)
    # complete the exact size with lines of words of at most 72 columns
    rest = size - used
    while rest > 0:
        take = rest - 2 if rest - 2 <= 72 else min(72, rest - 5)   # leave >= 3 for a next line
        words = ""
        while len(words) < take:
            words += (" " if words else "") + r.choices(WORDS, weights)[0]
        body.append(words[:take].rstrip(" ").ljust(take, "s"))
        rest -= take + 2
    body += signature
    lines = head + body
    assert sum(len(line) + 2 for line in lines) == size, sum(len(line) + 2 for line in lines)
    return lines


# --------------------------------------------------------------------------------------------
# machine facts and CPU accounting

HZ = os.sysconf("SC_CLK_TCK")


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def proc_stat(pid):
    """(ppid, utime + stime, cutime + cstime) of pid in ticks, or None when it is gone."""
    text = read("/proc/%d/stat" % pid)
    if not text:
        return None
    rest = text.rsplit(")", 1)[1].split()
    return int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14])


def process_cpu(pid):
    """CPU ticks used by pid (all its threads) so far; 0 when it is gone."""
    st = proc_stat(pid) if pid else None
    return st[1] if st else 0


def tree_cpu(root):
    """CPU ticks of root, of its children that it has reaped (cutime) and of its live children:
    for Postfix's master, all of Postfix (its processes come and go, max_use).  The difference
    of two readings is exactly the CPU used in between."""
    st = proc_stat(root) if root else None
    if st is None:
        return 0
    total = st[1] + st[2]
    for name in os.listdir("/proc"):
        if name.isdigit():
            child = proc_stat(int(name))
            if child and child[0] == root:
                total += child[1]
    return total


def machine_cpu():
    """(busy, iowait, steal, total) ticks of all CPUs from /proc/stat."""
    fields = [int(x) for x in read("/proc/stat").splitlines()[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    total = user + nice + system + idle + iowait + irq + softirq + steal
    return total - idle - iowait - steal, iowait, steal, total


def disk_sectors_written(dev):
    for line in read("/proc/diskstats").splitlines():
        f = line.split()
        if len(f) > 9 and f[2] == dev:
            return int(f[9])
    return 0


def mount_of(path):
    p = subprocess.run(["findmnt", "-n", "-o", "SOURCE,FSTYPE,OPTIONS", "-T", path],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return p.stdout.strip()


def block_device(source):
    """The disk name under /sys/block of a mount source such as /dev/vda or /dev/vda1."""
    name = os.path.basename(source)
    if os.path.isdir("/sys/block/%s" % name):
        return name
    for disk in os.listdir("/sys/block"):
        if os.path.isdir("/sys/block/%s/%s" % (disk, name)):
            return disk
    return name


def fdatasync_probe(directory, count=200):
    """Median milliseconds of a 4 kB append + fdatasync in directory."""
    path = os.path.join(directory, "fdatasync-probe")
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        block = os.urandom(4096)
        for _ in range(count):
            t = time.perf_counter()
            os.write(fd, block)
            os.fdatasync(fd)
            times.append(time.perf_counter() - t)
    finally:
        os.close(fd)
        os.unlink(path)
    return statistics.median(times) * 1000


def first_line(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
        return (p.stdout.strip().splitlines() or ["?"])[0]
    except (OSError, subprocess.SubprocessError):
        return "?"


def print_machine(tmp_parent, args, binaries, message_path, message_size, message_lines):
    cpuinfo = read("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
    flags = re.search(r"^flags\s*:\s*(.*)$", cpuinfo, re.M)
    flags = set(flags.group(1).split()) if flags else set()
    mem = re.search(r"^MemTotal:\s*(\d+) kB", read("/proc/meminfo"), re.M)
    mount = mount_of(tmp_parent)
    source = mount.split()[0] if mount else "?"
    dev = block_device(source)
    rota = read("/sys/block/%s/queue/rotational" % dev).strip()
    driver = os.path.basename(os.path.realpath("/sys/block/%s/device/driver" % dev)) \
        if os.path.exists("/sys/block/%s/device/driver" % dev) else "?"
    print("postfix_bench (issue 6, through Postfix)  %s" % datetime.datetime.now(
        datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))
    print("machine:   %d cores (%s; %s), %.1f GB RAM, %s" % (
        os.cpu_count(), model.group(1) if model else "?",
        " ".join(f for f in ("aes", "sha_ni", "avx2", "avx512f", "hypervisor") if f in flags),
        int(mem.group(1)) / 1e6 if mem else 0, platform.platform()))
    print("kernel:    %s; load average %s" % (platform.release(), " ".join(read("/proc/loadavg").split()[:3])))
    print("disk:      temp dirs (Postfix queue, journal) in %s: %s; /dev/%s rotational=%s driver=%s; "
          "4 kB fdatasync median %.2f ms" % (tmp_parent, mount, dev, rota, driver, fdatasync_probe(tmp_parent)))
    print("postfix:   %s; smtp-source, smtp-sink from %s" % (
        first_line(["postconf", "-d", "-h", "mail_version"]), os.path.dirname(shutil.which("smtp-source"))))
    print("versions:  %s; %s; libmilter %s" % (
        first_line([binaries["mailjournal"], "--version"]), first_line(["openssl", "version"]),
        first_line(["dpkg-query", "-W", "-f", "${Version}", "libmilter1.0.1"])))
    for name in ("mailjournald", "mailjournal", "null_milter", "milter_load"):
        st = os.stat(binaries[name])
        print("binary:    %-12s %s (%s)" % (name, binaries[name], datetime.datetime.fromtimestamp(
            st.st_mtime, datetime.timezone.utc).strftime("built %Y-%m-%d %H:%M UTC")))
    head = first_line(["git", "-C", REPO, "log", "-1", "--format=%h %s"])
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
    print("source:    %s%s (of %s; the binaries may come from elsewhere)" % (
        head, ", working tree modified" if dirty else "", REPO))
    print("command:   %s" % " ".join(sys.argv))
    print("load:      smtp-source -s %d -m %d%s -F message (one message per SMTP connection%s), "
          "one recipient; smtp-sink -c" % (
              args.sessions, args.messages, " -d" if args.reuse_connections else "",
              "; -d: all of a session's messages on one connection" if args.reuse_connections else ""))
    zs = subprocess.run("zstd -3 -c %s | wc -c" % message_path, shell=True, stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL, text=True).stdout.strip() if shutil.which("zstd") else ""
    print("message:   %d bytes as received and captured (%d lines + the empty line smtp-source adds, "
          "CRLF; 26 header lines, text/plain body)%s" % (message_size, message_lines, "; zstd -3 of the LF file: %s bytes" % zs if zs else ""))
    print("runs:      %d per variant, interleaved %s; variants: %s" % (
        args.runs, ",".join(args.variants), "; ".join("%s = %s" % (v, VARIANTS[v]) for v in args.variants)))
    print("c:         sealed to 2 RSA-3072 keys (department retail + escrow, policy below), "
          "signed checkpoints every %s s and at stop, off-host copies%s" % (
              args.checkpoint_interval, "; JOURNAL ON A TMPFS (--journal-tmpfs): a diagnostic, "
              "not the benchmark's figure" if args.journal_tmpfs else ""))
    print("postfix settings in every variant (besides the harness's): %s" % ", ".join(
        "%s = %s" % kv for kv in BENCH_MAIN.items()))
    sys.stdout.flush()


# --------------------------------------------------------------------------------------------
# the benchmark

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", help="build directory (binaries: milter/mailjournald, store/mailjournal, "
                                    "tests/null_milter); default: the environment or build/")
    ap.add_argument("--messages", type=int, default=5000, help="messages per run (default 5000)")
    ap.add_argument("--sessions", type=int, default=20, help="concurrent SMTP sessions (default 20)")
    ap.add_argument("--size", type=int, default=20000,
                    help="message bytes as Postfix receives them (default 20000)")
    ap.add_argument("--runs", type=int, default=3, help="runs per variant (default 3)")
    ap.add_argument("--variants", default="abc", help="which variants, in round order (default abc)")
    ap.add_argument("--reuse-connections", action="store_true",
                    help="smtp-source -d: send a session's messages over one connection")
    ap.add_argument("--null-steps", default="mailjournald", metavar="mailjournald|default|MASK",
                    help="the SMFIP_* steps null_milter negotiates: those mailjournald negotiates on its "
                         "unix: socket (the default; asked with milter_load --negotiate-only), null_milter's "
                         "own default, or MASK (null_milter --steps)")
    ap.add_argument("--checkpoint-interval", type=int, default=60,
                    help="mailjournald --checkpoint-interval (default 60, the daemon's default)")
    ap.add_argument("--journal-tmpfs", action="store_true",
                    help="a diagnostic, not the benchmark: c's journal on a tmpfs (its syncs cost nothing, "
                         "nothing is durable), to tell the journal's disk waits from its CPU")
    ap.add_argument("--perf", metavar="DIR",
                    help="record the machine with perf (-a, dwarf call graphs) during every run of c into DIR and print "
                         "its profile; slows c down: do not take those figures as the benchmark's")
    ap.add_argument("--timeout", type=float, default=0,
                    help="seconds a run may take (default: max(180, messages / 20))")
    args = ap.parse_args()
    if not args.variants or any(v not in VARIANTS for v in args.variants):
        die("--variants takes letters of abc")
    if args.messages < 1 or args.sessions < 1 or args.runs < 1:
        die("--messages, --sessions and --runs must be positive")

    build = args.build and os.path.abspath(args.build)
    binaries = {
        "mailjournald": os.path.join(build, "milter", "mailjournald") if build else
        os.environ.get("MAILJOURNALD", os.path.join(REPO, "build", "milter", "mailjournald")),
        "mailjournal": os.path.join(build, "store", "mailjournal") if build else
        os.environ.get("MAILJOURNAL", os.path.join(REPO, "build", "store", "mailjournal")),
        "null_milter": os.path.join(build, "tests", "null_milter") if build else
        os.environ.get("NULL_MILTER", os.path.join(REPO, "build", "tests", "null_milter")),
        "milter_load": os.path.join(build, "tests", "milter_load") if build else
        os.environ.get("MILTER_LOAD", os.path.join(REPO, "build", "tests", "milter_load")),
    }
    # the harness reads its binaries from the environment when it is imported
    os.environ["MAILJOURNALD"] = binaries["mailjournald"]
    os.environ["MAILJOURNAL"] = binaries["mailjournal"]
    sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
    global harness
    import harness   # noqa: E402

    problems = harness.require_environment() + harness.require_binaries(*binaries.values())
    for tool in ("smtp-source", "smtp-sink"):
        if shutil.which(tool) is None:
            problems.append("missing %s (install postfix)" % tool)
    if args.perf and shutil.which("perf") is None:
        problems.append("--perf needs perf (linux-perf)")
    if problems:
        die("SKIP: " + "; ".join(problems), SKIP_EXIT)

    def interrupted(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)

    work = tempfile.mkdtemp(prefix="mj-postfix-bench-", dir=os.environ.get("MJ_E2E_TMP") or None)
    bench = None
    try:
        os.chmod(work, 0o755)
        bench = Bench(args, binaries, work)
        bench.reaper.note("rmtree", work)
        bench.run()
    except KeyboardInterrupt:
        die("interrupted; everything started was stopped")
    except harness.HarnessError as exc:
        die("FAILED: %s" % exc)
    finally:
        harness.close_all_envs()
        if bench is not None:
            bench.reaper.done()
        if os.environ.get("MJ_E2E_KEEP"):
            sys.stderr.write("keeping %s\n" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


class CountingSink:
    """Postfix's smtp-sink without a dump: -c makes it print its counters ("sess=N quit=N
    mesg=N", CR-terminated) after every session, QUIT and message; a thread reads them and
    notes the time the target message count was reached."""

    def __init__(self, target):
        self.port = harness.free_port()
        self.target = target
        self.proc = None
        self.messages = 0
        self.reached = threading.Event()
        self.reached_at = None
        self.last_change = time.monotonic()
        self._stderr = None

    def start(self):
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(["smtp-sink", "-c", "-u", "postfix", "127.0.0.1:%d" % self.port, "256"],
                                     stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL)
        threading.Thread(target=self._read, name="smtp-sink -c", daemon=True).start()
        harness.wait_until(lambda: harness.tcp_accepts(self.port), 10, "smtp-sink to listen")

    def _read(self):
        buf = b""
        out = self.proc.stdout
        while True:
            chunk = out.read1(65536)
            if not chunk:
                return
            now = time.monotonic()
            buf += chunk
            *records, buf = buf.split(b"\r")
            for rec in records:
                m = re.search(rb"mesg=(\d+)", rec)
                if m and int(m.group(1)) != self.messages:
                    self.messages = int(m.group(1))
                    self.last_change = now
                    if self.messages >= self.target and not self.reached.is_set():
                        self.reached_at = now
                        self.reached.set()

    def stop(self):
        if self.proc is not None:
            harness.stop_process(self.proc)
            self.proc = None

    def stderr_text(self):
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-2000:]


Run = collections.namedtuple("Run", "variant round e2e accepted seconds drain cores postfix_ms milter_ms "
                                    "source_ms sink_ms others disk_mb load")


class Bench:
    def __init__(self, args, binaries, work):
        self.args = args
        self.binaries = binaries
        self.work = work
        self.timeout = args.timeout or max(180.0, args.messages / 20.0)
        self.message_path = os.path.join(work, "message.txt")
        # smtp-source sends CRLF after every line of the file and one more CRLF (an empty last
        # line) before the final dot: the message as Postfix receives it is the file + 2 bytes
        lines = make_message(args.size - 2)
        with open(self.message_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.message_path, 0o644)
        self.message_lines = len(lines)
        self.results = []
        self.settings = {}
        self.perf_reports = []
        self.dev = block_device((mount_of(work).split() or ["?"])[0])
        # kills what this class starts itself (null_milter) if this process is killed; E2E has
        # its own for the rest
        self.reaper = harness.Reaper()

    # -- keys, made once
    def make_keys(self):
        e2e = harness.e2e_keys()   # the department key (keys/e2e.crt in every policy dir)
        keys = os.path.join(self.work, "keys")
        os.makedirs(keys)
        os.chmod(keys, 0o755)
        passfile = os.path.join(keys, "passphrase")
        with open(passfile, "w") as f:
            f.write("postfix_bench escrow passphrase\n")
        os.chmod(passfile, 0o600)
        out = json.loads(harness.run([self.binaries["mailjournal"], "keygen", "--department", "escrow", "-o",
                                      keys, "--passphrase-file", passfile, "--format", "json"]).stdout)
        with open(os.path.join(keys, "escrow.crt")) as f:
            self.escrow_pem = f.read()
        self.fingerprints = [e2e.fingerprint, out["fingerprint"]]   # department key, then escrow
        signing = os.path.join(self.work, "signing")
        os.makedirs(signing)
        os.chmod(signing, 0o700)   # root's: the daemon reads the key before dropping privileges
        harness.run([self.binaries["mailjournal"], "keygen", "--signing", SIGNING_ORIGIN, "-o", signing])
        self.signing_key = os.path.join(signing, "checkpoint.key")
        self.verifier_key = os.path.join(signing, "checkpoint.vkey")

    def run(self):
        a = self.args
        print_machine(os.path.dirname(self.work), a, self.binaries, self.message_path, a.size, self.message_lines)
        if "b" in a.variants or "c" in a.variants:
            self.make_keys()
        if "b" in a.variants:
            self.null_steps = a.null_steps
            if a.null_steps == "mailjournald":
                self.null_steps = self.mailjournald_steps()
                print("null_milter: --steps %s, the SMFIP_* steps mailjournald negotiates on its unix: socket "
                      "(milter_load --negotiate-only against a mailjournald started for it); checked against "
                      "null_milter's in every run of b" % self.null_steps)
            else:
                print("null_milter: %s" % ("its default steps" if a.null_steps == "default" else
                                          "--steps " + a.null_steps))
        if "c" in a.variants:
            print("policy (c):\n    " + POLICY.rstrip("\n").replace("\n", "\n    "))
        print()
        print("%-3s %5s %9s %9s %7s %7s %6s %8s %8s %8s %7s %6s %7s %5s" % (
            "run", "var", "e2e msg/s", "acc msg/s", "time s", "drain s", "cores", "postfix", "milter",
            "source", "sink", "others", "disk MB", "load"))
        print("%-3s %5s %9s %9s %7s %7s %6s %8s %8s %8s %7s %6s %7s %5s" % (
            "", "", "", "", "", "", "", "ms/msg", "ms/msg", "ms/msg", "ms/msg", "cores", "", ""))
        sys.stdout.flush()
        for rnd in range(1, a.runs + 1):
            for v in a.variants:
                r = self.run_one(v, rnd)
                self.results.append(r)
                print("%-3d %5s %9.1f %9.1f %7.2f %7.2f %6.2f %8.2f %8s %8.2f %7.2f %6.2f %7.0f %5s" % (
                    r.round, r.variant, r.e2e, r.accepted, r.seconds, r.drain, r.cores, r.postfix_ms,
                    "-" if r.milter_ms is None else "%.2f" % r.milter_ms, r.source_ms, r.sink_ms, r.others,
                    r.disk_mb, r.load))
                while self.perf_reports:
                    self.print_perf(*self.perf_reports.pop(0), r.milter_ms)
                sys.stdout.flush()
        self.summary()

    def postfix_settings(self, env, variant):
        """Postfix's effective settings of POSTCONF_SHOWN in this variant (first run only)."""
        if variant not in self.settings:
            p = harness.run(["postconf", "-c", env.postfix.conf_dir] + POSTCONF_SHOWN)
            self.settings[variant] = p.stdout.decode().replace(env.base, "$TMP").splitlines()

    def print_settings(self):
        first = None
        for v in self.args.variants:
            lines = self.settings[v]
            if first is None:
                first = lines
                print("postfix settings (%s; $TMP is the run's temp dir):\n    %s" % (v, "\n    ".join(lines)))
            else:
                print("  in %s: %s" % (v, "; ".join(line for line in lines if line not in first) or "the same"))

    def run_one(self, variant, rnd):
        a = self.args
        sink = CountingSink(a.messages)
        extra = dict(BENCH_MAIN)
        kw = {}
        offhost = None
        milter_pid = None
        with contextlib.ExitStack() as stack:
            if variant == "a":
                extra.update(smtpd_milters="", non_smtpd_milters="")
                kw = dict(start_daemon=False, e2e_cert=False)
            elif variant == "b":
                # started before Postfix: the harness's probe of smtpd makes smtpd call the milter
                milter_pid, sock = self.start_null_milter(stack)
                extra.update(smtpd_milters=sock, non_smtpd_milters=sock)
                kw = dict(start_daemon=False, e2e_cert=False)
            else:
                offhost = tempfile.mkdtemp(prefix="offhost-", dir=self.work)
                os.chown(offhost, *pwd_ids())
                kw = self.daemon_kw(offhost)
            env = stack.enter_context(harness.E2E(extra_main=extra, sink=sink, **kw))
            if variant == "c":
                milter_pid = env.daemon.proc.pid
            self.postfix_settings(env, variant)
            return self.measure(env, variant, rnd, sink, milter_pid, offhost)

    def daemon_kw(self, offhost=None):
        """The E2E arguments of variant c (signed checkpoints when offhost is given)."""
        kw = dict(policy=POLICY, policy_files={"keys/escrow.crt": self.escrow_pem})
        if offhost:
            kw["daemon_args"] = ["--signing-key", self.signing_key, "--checkpoint-dir", offhost,
                                 "--checkpoint-interval", str(self.args.checkpoint_interval)]
            if self.args.journal_tmpfs:
                kw["prepare_journal"] = mount_tmpfs
        return kw

    def negotiated_steps(self, spec):
        """The SMFIP_* steps the milter at spec negotiates with an MTA that offers them all."""
        out = harness.run([self.binaries["milter_load"], "--socket", spec, "--negotiate-only"]).stdout.decode()
        return dict(kv.split("=", 1) for kv in out.split())["steps"]

    def mailjournald_steps(self):
        with harness.E2E(extra_main=dict(BENCH_MAIN), sink=CountingSink(1), **self.daemon_kw()) as env:
            return self.negotiated_steps(env.daemon.milter_spec)

    def start_null_milter(self, stack):
        """null_milter on a unix socket in a directory of its own, as the daemon's user (the
        socket mode 0666, as the harness gives mailjournald's); returns (pid, milter spec)."""
        sockdir = tempfile.mkdtemp(prefix="null-milter-", dir=self.work)
        os.chmod(sockdir, 0o755)
        os.chown(sockdir, *pwd_ids())
        sock = os.path.join(sockdir, "null.sock")
        log = stack.enter_context(open(os.path.join(self.work, os.path.basename(sockdir) + ".log"), "wb"))
        steps = [] if self.null_steps == "default" else ["--steps", self.null_steps]
        proc = subprocess.Popen([self.binaries["null_milter"], "unix:" + sock] + steps, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, user=harness.DAEMON_USER, umask=0o111,
                                start_new_session=True)
        self.reaper.note("pid", proc.pid, self.binaries["null_milter"])
        stack.callback(harness.stop_process, proc)
        harness.wait_until(lambda: proc.poll() is None and harness.unix_accepts(sock), 10,
                           "null_milter to listen", diag=lambda: harness.tail(log.name))
        if steps and int_hex(self.negotiated_steps("unix:" + sock)) != int_hex(self.null_steps):
            raise harness.HarnessError("null_milter negotiates %s, not %s" % (
                self.negotiated_steps("unix:" + sock), self.null_steps))
        return proc.pid, "unix:" + sock

    def measure(self, env, variant, rnd, sink, milter_pid, offhost):
        a = self.args
        master = env.postfix.master_pid()
        load = read("/proc/loadavg").split()[0]
        cmd = ["smtp-source", "-s", str(a.sessions), "-m", str(a.messages), "-F", self.message_path,
               "-f", SENDER, "-t", RECIPIENT, "-M", HELO]
        if a.reuse_connections:
            cmd.insert(1, "-d")
        cmd.append("127.0.0.1:%d" % env.postfix.smtp_port)
        source_err = tempfile.TemporaryFile()
        source = {}

        # the log before the run holds the harness's probe of smtpd, which may have found the
        # daemon not yet listening (a milter-reject of CONNECT): only the run's part is checked
        log_start = len(env.postfix.log())
        m0, pf0, ml0, sk0, d0 = machine_cpu(), tree_cpu(master), process_cpu(milter_pid), \
            process_cpu(sink.proc.pid), disk_sectors_written(self.dev)
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=source_err, stderr=source_err)

        def wait_source():
            _, status, usage = os.wait4(proc.pid, 0)
            source["done"] = time.monotonic()
            source["rc"] = os.waitstatus_to_exitcode(status)
            source["cpu"] = usage.ru_utime + usage.ru_stime
            proc.returncode = source["rc"]
        waiter = threading.Thread(target=wait_source, daemon=True)
        waiter.start()
        perf = None
        failure = None
        try:
            perf = self.start_perf(milter_pid, variant, rnd)
            deadline = t0 + self.timeout
            while not sink.reached.wait(0.1):
                now = time.monotonic()
                if source.get("rc"):
                    failure = "smtp-source exited with %d" % source["rc"]
                elif now > deadline:
                    failure = "not all messages at the sink after %.0f s" % self.timeout
                elif now - max(sink.last_change, t0) > 60:
                    failure = "no message reached the sink for 60 s"
                if failure:
                    break
            t1 = sink.reached_at or time.monotonic()
            m1, pf1, ml1, sk1, d1 = machine_cpu(), tree_cpu(master), process_cpu(milter_pid), \
                process_cpu(sink.proc.pid), disk_sectors_written(self.dev)
        finally:
            self.stop_perf(perf)
            if failure or not sink.reached.is_set():
                proc.kill()
            waiter.join(60)
        source_err.seek(0)
        source_text = source_err.read().decode(errors="replace")[-2000:]
        if failure or source.get("rc") != 0:
            raise harness.HarnessError("run %d %s: %s (sink has %d of %d)\nsmtp-source: %s\nsmtp-sink: %s\n%s" % (
                rnd, variant, failure or "smtp-source exited with %s" % source.get("rc"), sink.messages,
                a.messages, source_text, sink.stderr_text(), env.diagnostics()))
        self.check_delivered(env, variant, rnd, sink, log_start)
        if variant == "c":
            self.check_journal(env, rnd, offhost)

        n = a.messages
        secs = t1 - t0
        busy = (m1[0] - m0[0]) / HZ
        ours = (pf1 - pf0 + ml1 - ml0 + sk1 - sk0) / HZ + source["cpu"]
        return Run(variant, rnd, n / secs, n / (source["done"] - t0), secs, t1 - source["done"],
                   busy / secs, (pf1 - pf0) / HZ / n * 1000,
                   None if milter_pid is None else (ml1 - ml0) / HZ / n * 1000,
                   source["cpu"] / n * 1000, (sk1 - sk0) / HZ / n * 1000, max(0.0, busy - ours) / secs,
                   (d1 - d0) * 512 / 1e6, load)

    def check_delivered(self, env, variant, rnd, sink, log_start):
        """Exactly N deliveries in Postfix's log, no other outcome, the queue empty, N at the sink."""
        n = self.args.messages

        def sent():
            return len(re.findall(r" status=sent ", env.postfix.log()))
        harness.wait_until(lambda: sent() >= n, 60, "%d status=sent in the Postfix log (have %d)" % (n, sent()),
                           interval=0.1, diag=env.diagnostics)
        harness.wait_until(env.postfix.queue_empty, 60, "the Postfix queue to drain", interval=0.1,
                           diag=lambda: env.postfix.queue_listing() + env.diagnostics())
        log = env.postfix.log()
        problems = []
        if sent() != n:
            problems.append("%d status=sent, not %d" % (sent(), n))
        bad = re.compile(r" (status=deferred|status=bounced|milter-reject|reject|fatal|panic|error)\b|"
                         r" warning: .*[Mm]ilter")
        lines = [line for line in log[log_start:].splitlines() if bad.search(line)]
        if lines:
            problems.append("%d lines of trouble in the Postfix log, the first ones:\n  %s" % (
                len(lines), "\n  ".join(lines[:12])))
        # other warnings are reported, e.g. "file system clock is 1 seconds ahead of local clock"
        # (this virtual machine's clocks), after which cleanup resets the queue file's times
        warnings = collections.Counter(re.sub(r"^.*?warning: ", "", line) for line in log[log_start:].splitlines()
                                       if " warning: " in line)
        for text, count in sorted(warnings.items()):
            print("    (run %d %s: Postfix warned %d time(s): %s)" % (rnd, variant, count, text))
        if sink.messages != n:
            problems.append("smtp-sink counted %d messages" % sink.messages)
        if problems:
            raise harness.HarnessError("run %d %s: %s\n%s" % (rnd, variant, "; ".join(problems), env.diagnostics()))
        self.sent_qids = set(re.findall(r"\b([0-9A-Za-z]{12,}): to=<[^>]*>, relay=.* status=sent ", log))
        if len(self.sent_qids) != n:
            raise harness.HarnessError("run %d %s: %d distinct queue ids delivered, not %d" % (
                rnd, variant, len(self.sent_qids), n))

    def check_journal(self, env, rnd, offhost):
        """Stop the daemon (it makes its last checkpoint), then verify the whole journal with the
        verifier key and the off-host copies, and compare its messages with the deliveries."""
        n = self.args.messages
        rc = env.daemon.stop()
        if rc != 0:
            raise harness.HarnessError("run %d c: mailjournald exited with %s\n%s" % (rnd, rc, env.diagnostics()))
        p = env.tool.run("verify", "--verifier-key", self.verifier_key, "--checkpoints", offhost,
                         "--format", "json", journal=True, timeout=600)
        report = json.loads(p.stdout.decode() or "{}")
        if p.returncode != 0 or not report.get("intact") or report.get("messages") != n \
                or not report.get("signatures_checked") or report.get("off_host", 0) < 1:
            raise harness.HarnessError("run %d c: mailjournal verify exit %d: %s %s" % (
                rnd, p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")))
        entries = env.tool.all_entries(journal=True)
        qids = [e.get("queue_id") for e in entries]
        problems = []
        if len(entries) != n or set(qids) != self.sent_qids or len(set(qids)) != n:
            problems.append("%d message entries, %d distinct queue ids, %d of them delivered" % (
                len(entries), len(set(qids)), len(set(qids) & self.sent_qids)))
        bad = [e["seq"] for e in entries if not e.get("sealed") or e["seal"]["recipients"] != self.fingerprints
               or e.get("departments") != ["retail"] or e["seal"]["plain_size"] != self.args.size]
        if bad:
            problems.append("%d entries not sealed to [retail, escrow] with %d bytes captured, e.g. %s" % (
                len(bad), self.args.size, json.dumps(next(e for e in entries if e["seq"] == bad[0]))))
        if problems:
            raise harness.HarnessError("run %d c: %s" % (rnd, "; ".join(problems)))
        self.last_verify = report

    # -- perf
    def start_perf(self, pid, variant, rnd):
        if not self.args.perf or variant != "c":
            return None
        os.makedirs(self.args.perf, exist_ok=True)
        out = os.path.join(self.args.perf, "mailjournald-run%d.data" % rnd)
        # system-wide, reported for the daemon's pid: `perf record -p PID` attaches to the
        # threads that exist when it starts and lost most samples of the threads libmilter
        # starts later (measured: 339 samples of the expected ~2,300)
        proc = subprocess.Popen(["perf", "record", "-a", "-F", "149", "--call-graph", "dwarf,16384", "-o", out],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return proc, out, pid

    def stop_perf(self, perf):
        if perf is None:
            return
        proc, out, pid = perf
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self.perf_reports.append((out, pid))

    def print_perf(self, out, pid, milter_ms):
        def report(*opts):
            p = subprocess.run(["perf", "report", "-i", out, "--stdio", "-g", "none"] + list(opts),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=900)
            return [" ".join(line.split()) for line in p.stdout.splitlines() if line.strip() and not line.startswith("#")]
        print("    perf %s: the whole machine by command (share of all samples):\n        %s" % (
            out, "\n        ".join(report("--sort", "comm", "--percent-limit", "1")[:14])))
        p = subprocess.run(["perf", "script", "-i", out, "--pid", str(pid), "-F", "tid,ip,sym,dso"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=900)
        shares, samples, threads = perf_breakdown(p.stdout)
        print("    mailjournald (pid %d): %d samples in %d distinct threads; where its CPU goes (each sample "
              "counted once, in the first matching row; ~ms/msg = share x the run's %.2f ms/msg):" % (
                  pid, samples, threads, milter_ms))
        for name, share in shares:
            print("        %5.1f%%  %5.2f  %s" % (100 * share, share * milter_ms, name))
        print("    mailjournald's self time by DSO and symbol, >= 1.5%%:\n        %s" % "\n        ".join(
            report("--pid", str(pid), "--percentage", "relative", "--no-children", "--sort", "dso,symbol",
                   "--percent-limit", "1.5")[:20]))

    # -- summary
    def summary(self):
        a = self.args
        print()
        self.print_settings()
        by = {v: [r for r in self.results if r.variant == v] for v in a.variants}
        med = {v: statistics.median(r.e2e for r in runs) for v, runs in by.items()}
        print()
        print("medians over %d runs of %d messages (%d sessions, %d bytes):" % (a.runs, a.messages, a.sessions, a.size))
        for v in a.variants:
            runs = by[v]
            print("  %s %-24s e2e %7.1f msg/s (runs %s); accepted %7.1f msg/s; cores %.2f; CPU ms/msg: "
                  "postfix %.2f, milter %s, source %.2f, sink %.2f; others %.2f cores" % (
                      v, VARIANTS[v], med[v], " / ".join("%.1f" % r.e2e for r in runs),
                      statistics.median(r.accepted for r in runs), statistics.median(r.cores for r in runs),
                      statistics.median(r.postfix_ms for r in runs),
                      "-" if runs[0].milter_ms is None else "%.2f" % statistics.median(r.milter_ms for r in runs),
                      statistics.median(r.source_ms for r in runs), statistics.median(r.sink_ms for r in runs),
                      statistics.median(r.others for r in runs)))
        for x, y, goal in (("c", "b", " (goal >= 0.90)"), ("c", "a", ""), ("b", "a", "")):
            if x in med and y in med:
                rounds = [rx.e2e / ry.e2e for rx, ry in zip(by[x], by[y])]
                print("  ratio %s/%s: %.3f of the medians%s; per round %s (median %.3f)" % (
                    x, y, med[x] / med[y], goal, " / ".join("%.3f" % q for q in rounds), statistics.median(rounds)))
        # CPU per message does not depend on how much of the machine others take
        cpu = {v: statistics.median(ours_ms(r) for r in runs) for v, runs in by.items()}
        print("CPU of the path (Postfix + milter + smtp-source + smtp-sink), ms per message, median: %s" % "; ".join(
            "%s %.2f (%.0f msg/s if %d cores did nothing else)" % (v, cpu[v], os.cpu_count() * 1000 / cpu[v],
                                                                   os.cpu_count()) for v in a.variants))
        for x, y in (("c", "b"), ("c", "a"), ("b", "a")):
            if x in cpu and y in cpu:
                print("  CPU ratio %s/%s: %.3f (the throughput ratio if the path stays CPU-bound)" % (
                    x, y, cpu[y] / cpu[x]))
        if "c" in a.variants:
            v = self.last_verify
            print("  journal check after every c run: mailjournal verify intact, %d messages, %d checkpoints, "
                  "%d signatures, %d off-host (last run); list: every delivered queue id once, sealed to 2 keys" % (
                      v["messages"], v["checkpoints"], v["signatures"], v["off_host"]))


# perf_breakdown's rows: a sample goes to the first row one of whose markers is in its call chain
# (a marker is a symbol, or a symbol prefix ending in "_" or "::", or a DSO name in brackets).
PERF_ROWS = [
    ("Sealer::Create: parsing the recipient certificates (PEM_read_bio_X509)",
     ["PEM_ASN1_read_bio", "PEM_read_bio_X509"]),
    ("Sealer::Create: the keys' fingerprints (SpkiFingerprint: i2d_PUBKEY, SHA-256)",
     ["mailjournal::(anonymous namespace)::SpkiFingerprint"]),
    ("Sealer::Create: RSA-OAEP wraps of the content key (CMS_RecipientInfo_encrypt)", ["CMS_RecipientInfo_encrypt"]),
    ("Sealer::Create: the rest", ["mailjournal::Sealer::Create"]),
    ("zstd", ["ZSTD_", "[libzstd]"]),
    ("rest of sealing (CMS stream, AES-256-GCM, digests)", ["mailjournal::Sealer::"]),
    ("journal commit (MessageWriter::Commit: entry, tree, LevelDB write, sync)", ["mailjournal::MessageWriter::Commit"]),
    ("LevelDB otherwise (compaction thread)", ["leveldb::", "[libleveldb]"]),
    ("rest of mailjournald (session, staging, policy, admin, checkpoints)", ["mailjournal::"]),
    ("thread start and exit (libmilter: a thread per connection; stacks, per-thread OpenSSL and malloc state)",
     ["__x64_sys_clone3", "kernel_clone", "do_exit", "tcache_thread_shutdown", "__GI___nptl_deallocate_tsd",
      "__x64_sys_madvise", "__x64_sys_munmap", "__x64_sys_mmap"]),
    ("libmilter: the protocol, socket reads and writes, poll", ["mi_", "[libmilter]"]),
]


def perf_breakdown(script):
    """(rows [(name, share)], samples, distinct threads) from `perf script -F tid,ip,sym,dso`."""
    counts = collections.Counter()
    tids = set()
    samples = 0
    for block in script.split("\n\n"):
        lines = block.strip("\n").splitlines()
        if not lines:
            continue
        samples += 1
        tids.add(lines[0].split()[0])
        chain = []
        for line in lines[1:]:
            m = re.match(r"\s*[0-9a-f]+ (.*) \(([^()]*)\)\s*$", line)
            if m:
                chain.append((m.group(1), "[%s]" % os.path.basename(m.group(2)).split(".so")[0]))
        for name, markers in PERF_ROWS:
            if any(mk in (sym, dso) or (mk[-1] in "_:" and sym.startswith(mk)) for sym, dso in chain for mk in markers):
                counts[name] += 1
                break
        else:
            counts["other (kernel: page faults, TLB flushes, timers ...)"] += 1
    rows = [(name, counts[name] / samples) for name, _ in PERF_ROWS if counts[name]]
    other = [k for k in counts if k.startswith("other")]
    rows += [(k, counts[k] / samples) for k in other]
    return rows, samples, len(tids)


def mount_tmpfs(env, path):
    """E2E prepare_journal for --journal-tmpfs."""
    harness.run(["mount", "-t", "tmpfs", "-o", "size=2g,mode=0755,uid=%d,gid=%d" % (env.daemon_uid, env.daemon_gid),
                 "mj-postfix-bench-journal", path])
    env.reaper.note("umount", path)
    env.add_cleanup(lambda: subprocess.run(["umount", "-l", path]))


def int_hex(text):
    """A mask as milter_load prints it (0x...), from any spelling strtoul takes."""
    return "0x%x" % int(text, 0)


def ours_ms(r):
    return r.postfix_ms + (r.milter_ms or 0) + r.source_ms + r.sink_ms


def pwd_ids():
    import pwd
    pw = pwd.getpwnam(harness.DAEMON_USER)
    return pw.pw_uid, pw.pw_gid


if __name__ == "__main__":
    main()
