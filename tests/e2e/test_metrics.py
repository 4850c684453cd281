#!/usr/bin/env python3
"""mailjournald's metrics file and `mailjournal status` (issue 9, parts 4 and 5).

MetricsTest runs the daemon with --metrics-dir DIR --metrics-interval 1, a checkpoint
signing key and an off-host checkpoint directory, sends messages through Postfix and polls
DIR/mailjournald.prom (no fixed sleeps) until it shows them: messages and bytes committed
(compared with the journal's own entries and the exported bytes), group commits, journal
size (against the directory's files), tree size (against status), the checkpoint and its
off-host copy, policy loads, the last verify. Every read of the file is checked with a
strict parser of the text format (exposition format 0.0.4), and with prometheus_client's
parser (python3-prometheus-client). The same figures are asserted in
`mailjournal status` (JSON and text).

DiskFullMetricsTest puts the journal on a 4 MB tmpfs: an 8 MB message is answered 451 and
counted as mailjournal_tempfails_total{reason="disk_full"}; status says so too. Then, with
the daemon stopped, `mailjournal status --journal` reports what the journal holds and that
the daemon's figures are unavailable.

Run: python3 tests/e2e/test_metrics.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus       # noqa: E402
import harness      # noqa: E402
import test_proof   # noqa: E402  (its signing key and checkpoint directory helpers)

METRICS_FILE = "mailjournald.prom"
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE_RE = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)?\})? (\S+)$" % (NAME, LABEL, LABEL))
VALUE_RE = re.compile(r"^(?:[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|\+Inf|-Inf|NaN)$")
TEMPFAIL_REASONS = {"shutting_down", "mta_not_byte_exact", "no_policy", "policy_incomplete",
                    "seal_failed", "journal_write_failed", "commit_failed", "disk_full",
                    "internal_error"}


class ParseError(AssertionError):
    pass


def unescape(value):
    return re.sub(r'\\([\\"n])', lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse_metrics(text):
    """Strict parser of the Prometheus text format as mailjournald writes it: returns
    ({family: type}, {(sample name, ((label, value), ...)): float}); raises ParseError for
    anything out of place (a sample before its family's HELP and TYPE, a family twice, a bad
    name, label or value, a duplicate sample, histogram buckets that are not cumulative or
    whose +Inf bucket differs from _count)."""
    if not text.endswith("\n"):
        raise ParseError("the file does not end with a newline")
    types, samples = {}, {}
    family = ftype = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d: %r" % (n, line)
        if line.startswith("# HELP "):
            parts = line.split(" ", 3)
            if len(parts) < 4 or not re.match("^mailjournal_[a-z0-9_]+$", parts[2]):
                raise ParseError("bad HELP, " + where)
            if parts[2] in types:
                raise ParseError("family twice, " + where)
            family, ftype = parts[2], None
        elif line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[2] != family or ftype is not None:
                raise ParseError("TYPE not right after its HELP, " + where)
            if parts[3] not in ("counter", "gauge", "histogram"):
                raise ParseError("unknown type, " + where)
            ftype = types[family] = parts[3]
        elif line.startswith("#") or not line:
            raise ParseError("unexpected line, " + where)
        else:
            m = SAMPLE_RE.match(line)
            if not m or not VALUE_RE.match(m.group(3)):
                raise ParseError("bad sample, " + where)
            name = m.group(1)
            allowed = {family + s for s in ("_bucket", "_sum", "_count")} if ftype == "histogram" else {family}
            if ftype is None or name not in allowed:
                raise ParseError("sample outside its family %s, %s" % (family, where))
            labels = tuple((k, unescape(v)) for k, v in
                           re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            if ftype == "counter" and not name.endswith("_total"):
                raise ParseError("counter without _total, " + where)
            key = (name, labels)
            if key in samples:
                raise ParseError("sample twice, " + where)
            samples[key] = float(m.group(3))
    for fam, t in types.items():
        if t != "histogram":
            continue
        buckets = [(float(dict(l)["le"]), v) for (nm, l), v in samples.items() if nm == fam + "_bucket"]
        buckets.sort()
        counts = [v for _, v in buckets]
        if not buckets or buckets[-1][0] != float("inf") or counts != sorted(counts):
            raise ParseError("%s: buckets not cumulative up to +Inf: %r" % (fam, buckets))
        if counts[-1] != samples.get((fam + "_count", ())):
            raise ParseError("%s: +Inf bucket %r differs from _count" % (fam, counts[-1]))
        if (fam + "_sum", ()) not in samples:
            raise ParseError("%s: no _sum" % fam)
    return types, samples


PROMETHEUS_PARSE = """
import json, sys
from prometheus_client.parser import text_string_to_metric_families
print(json.dumps([[s.name, sorted(s.labels.items()), s.value]
                  for fam in text_string_to_metric_families(sys.stdin.read())
                  for s in fam.samples]))
"""


def prometheus_client_parse(text):
    """{(name, labels): value} by prometheus_client's own parser (python3-prometheus-client),
    run by a Python that has it."""
    python = harness.python_with("prometheus_client", "python3-prometheus-client")
    p = subprocess.run([python, "-c", PROMETHEUS_PARSE], input=text, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    if p.returncode != 0:
        raise ParseError("prometheus_client cannot parse the file: " + p.stderr)
    return {(name, tuple(tuple(kv) for kv in labels)): value
            for name, labels, value in json.loads(p.stdout)}


class Metrics:
    """One reading of the metrics file."""

    def __init__(self, text):
        self.text = text
        self.types, self.samples = parse_metrics(text)

    def get(self, name, **labels):
        """The sample's value, or None when the file does not have it."""
        return self.samples.get((name, tuple(sorted(labels.items()))) if labels else (name, ()))

    def __repr__(self):
        return self.text


def directory_bytes(path):
    """The apparent bytes of the regular files under path (the journal keeps LevelDB in db/)."""
    total = 0
    for root, dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except FileNotFoundError:
                continue
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


class MetricsTestBase(harness.E2ETestCase):
    metrics_dir = None

    @classmethod
    def make_metrics_dir(cls):
        d = tempfile.mkdtemp(prefix="mj-e2e-metrics-", dir=os.environ.get("MJ_E2E_TMP") or None)
        test_proof.remove_after(cls, d)
        pw = harness.pwd.getpwnam(harness.DAEMON_USER)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        return d

    def read_metrics(self):
        with open(os.path.join(self.metrics_dir, METRICS_FILE), encoding="utf-8") as f:
            text = f.read()
        m = Metrics(text)
        theirs = prometheus_client_parse(text)  # an independent parser reads the same samples
        ours = {(n, tuple(sorted(l))): v for (n, l), v in m.samples.items()}
        self.assertEqual(theirs, ours)
        return m

    def wait_metrics(self, predicate, what, timeout=30):
        """Polls the metrics file (rewritten every second) until predicate(metrics) holds;
        returns that reading."""
        seen = []

        def check():
            try:
                m = self.read_metrics()
            except FileNotFoundError:
                return False
            seen[:] = [m]
            return predicate(m)
        harness.wait_until(check, timeout, what, interval=0.2,
                           diag=lambda: "last metrics read:\n%s" % (seen[0].text if seen else "(none)"))
        return seen[0]

    def status(self, journal=False):
        return self.env.tool.status(journal=journal)


class MetricsTest(MetricsTestBase):
    N = 5

    @classmethod
    def setUpClass(cls):
        cls.key, cls.vkey, _ = test_proof.make_signing_key(cls)
        cls.offhost = test_proof.make_checkpoint_dir(cls)
        cls.metrics_dir = cls.make_metrics_dir()
        cls.env = harness.E2E(daemon_args=[
            "--metrics-dir", cls.metrics_dir, "--metrics-interval", "1",
            "--signing-key", cls.key, "--checkpoint-interval", "1", "--checkpoint-dir", cls.offhost])
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        cls.t_first_send = time.monotonic()
        cls.sent = [cls.env.send_ok(corpus.big_message(3000 + 1000 * i, seed=i, name="metrics-%d" % i))
                    for i in range(cls.N)]
        cls.env.wait_delivered(cls.N)

    def committed(self):
        """The journal's entries of the messages sent, and their exported (captured) bytes."""
        entries = [self.env.entry_for_qid(r.queue_id) for r in self.sent]
        exported = [self.env.tool.export(e["seq"]) for e in entries]
        return entries, exported

    def test_messages_and_bytes_committed(self):
        m = self.wait_metrics(lambda m: m.get("mailjournal_messages_committed_total") == self.N,
                              "messages_committed_total == %d" % self.N)
        entries, exported = self.committed()
        self.assertEqual(m.get("mailjournal_message_bytes_committed_total"), sum(len(x) for x in exported))
        self.assertEqual(m.get("mailjournal_message_bytes_committed_total"),
                         sum(e["seal"]["plain_size"] for e in entries))
        self.assertEqual(m.get("mailjournal_stored_bytes_committed_total"), sum(e["size"] for e in entries))
        # every message took one commit; every commit (policy, messages, checkpoints, audit
        # entries) went through a synced group write
        self.assertEqual(m.get("mailjournal_commit_duration_seconds_count"), self.N)
        self.assertGreater(m.get("mailjournal_commit_duration_seconds_sum"), 0)
        self.assertLessEqual(m.get("mailjournal_commit_duration_seconds_bucket", le="10"), self.N)
        groups = m.get("mailjournal_group_commit_size_count")
        self.assertGreaterEqual(m.get("mailjournal_group_commit_size_sum"), self.N + 1)  # + the policy's
        self.assertGreaterEqual(groups, 1)
        self.assertLessEqual(groups, m.get("mailjournal_group_commit_size_sum"))
        # the harness's default department indexes: every message was indexed in full
        self.assertEqual(m.get("mailjournal_messages_indexed_total"), self.N)
        self.assertEqual(m.get("mailjournal_messages_index_incomplete_total"), 0)
        for reason in TEMPFAIL_REASONS:
            self.assertEqual(m.get("mailjournal_tempfails_total", reason=reason), 0, reason)
        self.assertEqual({dict(l)["reason"] for (n, l) in m.samples if n == "mailjournal_tempfails_total"},
                         TEMPFAIL_REASONS)

    def test_file_is_replaced_atomically_and_readable_by_all(self):
        path = os.path.join(self.metrics_dir, METRICS_FILE)
        first = os.stat(path)
        self.assertEqual(first.st_mode & 0o777, 0o644)
        # rewritten every second: a new inode each time (rename), no temporary file left
        harness.wait_until(lambda: os.stat(path).st_ino != first.st_ino, 10, "the file rewritten")
        # besides the file, at most the temporary one of a write in progress (a name the
        # textfile collector ignores: it reads *.prom only)
        others = set(os.listdir(self.metrics_dir)) - {METRICS_FILE}
        self.assertLessEqual(others, {"." + METRICS_FILE + ".tmp"})

    def test_build_info_and_start_time(self):
        m = self.read_metrics()
        version = harness.run([harness.MAILJOURNALD, "--version"]).stdout.decode().split()[-1]
        self.assertEqual(m.get("mailjournal_build_info", version=version), 1, m)
        started = harness.parse_iso(self.status()["started"]).timestamp()
        self.assertAlmostEqual(m.get("mailjournal_start_time_seconds"), started, delta=0.001)
        self.assertEqual(m.types["mailjournal_start_time_seconds"], "gauge")
        self.assertEqual(m.types["mailjournal_commit_duration_seconds"], "histogram")
        self.assertEqual(m.types["mailjournal_tempfails_total"], "counter")

    def test_journal_size_tree_size_and_checkpoints(self):
        st = {}

        def settled(m):
            # status records nothing, so its last_seq is the tree the metrics must show once
            # the checkpointer has covered it and the copy is off-host
            st.update(self.status())
            return (m.get("mailjournal_tree_size") == st["last_seq"]
                    and m.get("mailjournal_last_checkpoint_tree_size") == st["last_seq"] - 1
                    and m.get("mailjournal_last_offhost_checkpoint_tree_size") == st["last_seq"] - 1
                    and m.get("mailjournal_journal_size_bytes") == directory_bytes(self.env.journal_dir))
        m = self.wait_metrics(settled, "tree, checkpoint, off-host copy and journal size current")
        self.assertGreater(m.get("mailjournal_journal_size_bytes"), 0)
        cp = st["last_checkpoint"]
        self.assertEqual(cp["seq"], st["last_seq"])
        self.assertEqual(cp["tree_size"], st["last_seq"] - 1)
        self.assertAlmostEqual(m.get("mailjournal_last_checkpoint_timestamp_seconds"),
                               harness.parse_iso(cp["time"]).timestamp(), delta=0.001)
        # the copy is of that checkpoint: same commit time
        self.assertEqual(m.get("mailjournal_last_offhost_checkpoint_timestamp_seconds"),
                         m.get("mailjournal_last_checkpoint_timestamp_seconds"))
        copy_file = os.path.join(self.offhost, "checkpoint.%020d" % cp["tree_size"])
        self.assertTrue(os.path.exists(copy_file), copy_file)
        self.assertEqual(st["daemon"]["last_offhost_copy"]["tree_size"], cp["tree_size"])
        self.assertEqual(st["tree_size"], st["last_seq"])
        self.assertEqual(st["journal_bytes"], m.get("mailjournal_journal_size_bytes"))

    def test_policy_loads_ok_and_failed(self):
        before = self.read_metrics()
        ok0 = before.get("mailjournal_policy_loads_total", result="ok")
        failed0 = before.get("mailjournal_policy_loads_total", result="failed")
        self.assertGreaterEqual(ok0, 1)   # the load at start
        self.env.reload_policy()
        good = self.env.policy_text
        self.env.write_policy("version: 1\nno_such_key: [\n")
        try:
            self.assertEqual(self.env.tool.policy_reload().returncode, 78)
        finally:
            self.env.write_policy(good)
        m = self.wait_metrics(lambda m: m.get("mailjournal_policy_loads_total", result="failed") == failed0 + 1,
                              "one failed policy load counted")
        self.assertEqual(m.get("mailjournal_policy_loads_total", result="ok"), ok0 + 1)
        st = self.status()
        self.assertEqual(st["daemon"]["policy_loads"], {"ok": ok0 + 1, "failed": failed0 + 1})
        # the digest status shows is the active policy's (policy show)
        self.assertEqual(st["policy"]["digest"], self.env.tool.policy_digest())

    def test_last_verify_result(self):
        self.assertIsNone(self.read_metrics().get("mailjournal_last_verify_success"))
        t0 = time.time()
        self.assertEqual(self.env.tool.run("verify").returncode, 0)
        m = self.wait_metrics(lambda m: m.get("mailjournal_last_verify_success") is not None,
                              "the verify recorded")
        self.assertEqual(m.get("mailjournal_last_verify_success"), 1)
        self.assertGreaterEqual(m.get("mailjournal_last_verify_timestamp_seconds"), t0 - 0.001)
        self.assertLessEqual(m.get("mailjournal_last_verify_timestamp_seconds"), time.time())
        lv = self.status()["daemon"]["last_verify"]
        self.assertEqual((lv["checked"], lv["intact"], lv["problem"]), (True, True, ""))
        # checked against another signing key's verifier key, the journal's checkpoints do
        # not verify: the last verify is a failure now
        _, other_vkey, _ = test_proof.make_signing_key(type(self))
        self.assertEqual(self.env.tool.run("verify", "--verifier-key", other_vkey).returncode, 65)
        m = self.wait_metrics(lambda m: m.get("mailjournal_last_verify_success") == 0,
                              "the failed verify recorded")
        lv = self.status()["daemon"]["last_verify"]
        self.assertEqual((lv["checked"], lv["intact"]), (True, False))
        self.assertTrue(lv["problem"])
        text = self.env.tool.ok("status").decode("utf-8")
        self.assertRegex(text, r"(?m)^last_verify:\s+\S+Z \(\d+ s ago\): NOT INTACT: \S")

    def test_status_json_shows_daemon_health_and_rates(self):
        self.wait_metrics(lambda m: m.get("mailjournal_messages_committed_total") == self.N, "commits")
        st = self.status()
        self.assertEqual(st["mode"], "daemon")
        self.assertEqual(st["pid"], self.env.daemon.proc.pid)
        self.assertTrue(st["version"])
        self.assertIsInstance(st["uptime_s"], int)
        self.assertEqual(st["problems"], [])
        d = st["daemon"]
        self.assertEqual(d["messages_committed"], self.N)
        entries, exported = self.committed()
        self.assertEqual(d["message_bytes_committed"], sum(len(x) for x in exported))
        self.assertEqual(d["stored_bytes_committed"], sum(e["size"] for e in entries))
        if time.monotonic() - self.t_first_send < 50:   # all of them within the last minute
            self.assertEqual(d["messages_last_minute"], self.N)
        self.assertGreater(d["messages_per_minute_15m"], 0)
        self.assertEqual(d["tempfails_total"], 0)
        self.assertEqual(set(d["tempfails"]), TEMPFAIL_REASONS)
        self.assertIsNone(d["last_tempfail"])
        self.assertEqual(d["messages_indexed"], self.N)

    def test_status_text(self):
        st = self.status()
        text = self.env.tool.ok("status").decode("utf-8")
        self.assertRegex(text, r"(?m)^tree_size:\s+\d+$")
        self.assertRegex(text, r"(?m)^policy:\s+digest %s, seq %d, " % (st["policy"]["digest"], st["policy"]["seq"]))
        self.assertRegex(text, r"(?m)^checkpoint:\s+seq \d+, tree_size \d+, \S+Z \(\d+ s ago\)$")
        self.assertRegex(text, r"(?m)^messages:\s+\d+ in the last minute, [0-9.]+ per minute since start; "
                               r"%d since start \(" % st["daemon"]["messages_committed"])
        self.assertRegex(text, r"(?m)^tempfails:\s+0 since start$")
        self.assertRegex(text, r"(?m)^offhost_copy:\s+(tree_size \d+, checkpoint of \S+Z \(\d+ s ago\)|none)$")
        self.assertRegex(text, r"(?m)^last_verify:\s+")
        self.assertNotIn("unavailable", text)


class DiskFullMetricsTest(MetricsTestBase):
    def test_disk_full_tempfail_is_counted_then_status_offline(self):
        def mount_tmpfs(env, path):
            p = subprocess.run(["mount", "-t", "tmpfs", "-o",
                                "size=4m,mode=0755,uid=%d,gid=%d" % (env.daemon_uid, env.daemon_gid),
                                "mj-e2e-journal", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if p.returncode != 0:
                raise unittest.SkipTest("cannot mount a tmpfs: %s" % p.stderr.decode(errors="replace"))
            env.reaper.note("umount", path)
            env.add_cleanup(lambda: subprocess.run(["umount", "-l", path]))
        self.metrics_dir = self.make_metrics_dir()
        self.env = env = harness.E2E(prepare_journal=mount_tmpfs,
                                     daemon_args=["--metrics-dir", self.metrics_dir, "--metrics-interval", "1"])
        env.__enter__()
        self.addCleanup(env.close)
        r1 = env.send_ok(b"Subject: small\r\n\r\nsmall\r\n")
        env.delivery_for(r1.queue_id)
        big = corpus.big_message(8 * 1024 * 1024, seed=7, name="too-big")
        r2 = env.send(big, rcpts=["big@example.net"])
        self.assertEqual((r2.stage, r2.code), ("eod", 451), r2)
        m = self.wait_metrics(lambda m: m.get("mailjournal_tempfails_total", reason="disk_full") == 1,
                              'tempfails_total{reason="disk_full"} == 1')
        self.assertEqual(sum(v for (n, l), v in m.samples.items() if n == "mailjournal_tempfails_total"), 1)
        self.assertEqual(m.get("mailjournal_messages_committed_total"), 1)
        d = self.status()["daemon"]
        self.assertEqual((d["tempfails_total"], d["tempfails"]["disk_full"]), (1, 1))
        self.assertEqual(d["last_tempfail"]["reason"], "disk_full")
        text = env.tool.ok("status").decode("utf-8")
        self.assertRegex(text, r"(?m)^tempfails:\s+1 since start \(disk_full 1\); last \S+Z \(\d+ s ago\): disk_full$")

        # daemon stopped: the journal's own figures, and the daemon's said to be unavailable
        last_seq = self.status()["last_seq"]
        self.assertEqual(env.daemon.stop(), 0, env.daemon.current_log())
        # room again, so that the tool can open the journal (LevelDB writes when it opens)
        subprocess.run(["mount", "-o", "remount,size=64m", env.journal_dir], check=True)
        final = self.read_metrics()   # written once more at the stop
        self.assertEqual(final.get("mailjournal_tempfails_total", reason="disk_full"), 1)
        st = self.status(journal=True)
        self.assertEqual(st["mode"], "offline")
        self.assertIsNone(st["daemon"])
        self.assertEqual(st["tree_size"], last_seq)
        self.assertIsNone(st["last_checkpoint"])   # no signing key in this test
        self.assertEqual(len(st["policy"]["digest"]), 64)
        text = env.tool.ok("status", journal=True).decode("utf-8")
        self.assertRegex(text, r"(?m)^daemon:\s+figures unavailable ")
        self.assertRegex(text, r"(?m)^checkpoint:\s+none$")
        self.assertNotRegex(text, r"(?m)^messages:")


class UnwritableMetricsDirTest(MetricsTestBase):
    def test_a_failing_write_is_logged_once_and_its_recovery_too(self):
        parent = self.make_metrics_dir()
        self.metrics_dir = os.path.join(parent, "not-yet")   # missing: every write fails
        self.env = env = harness.E2E(daemon_args=["--metrics-dir", self.metrics_dir,
                                                  "--metrics-interval", "1"])
        env.__enter__()
        self.addCleanup(env.close)
        failed = "metrics: %s/.mailjournald.prom.tmp: No such file or directory" % self.metrics_dir
        env.daemon.wait_log(failed)
        # mail goes on meanwhile
        r = env.send_ok(b"Subject: while failing\r\n\r\nbody\r\n")
        env.delivery_for(r.queue_id)
        # three more intervals (the daemon's own uptime, not a sleep here): still one warning
        harness.wait_until(lambda: self.status()["uptime_s"] >= 4, 30, "4 s of uptime")
        self.assertEqual(env.daemon.current_log().count(failed), 1, env.daemon.current_log())
        os.mkdir(self.metrics_dir)
        pw = harness.pwd.getpwnam(harness.DAEMON_USER)
        os.chown(self.metrics_dir, pw.pw_uid, pw.pw_gid)
        m = self.wait_metrics(lambda m: m.get("mailjournal_messages_committed_total") == 1,
                              "the file written once the directory exists")
        env.daemon.wait_log("metrics: %s/%s written again" % (self.metrics_dir, METRICS_FILE))
        self.assertEqual(env.daemon.current_log().count(failed), 1)
        self.assertEqual(m.get("mailjournal_tempfails_total", reason="disk_full"), 0)


if __name__ == "__main__":
    harness.main()
