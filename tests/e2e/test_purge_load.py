#!/usr/bin/env python3
"""A purge of 100,000 expired messages while mail flows (issue 7): no tempfail caused, the
daemon's memory bounded.

The daemon runs under the fake_clock shim (MJ_FAKE_CLOCK_SO).  100,000 small messages are
journaled through its milter socket by tests/bench/milter_load (MJ_MILTER_LOAD: the MTA's side
of the milter protocol, as Postfix speaks it), the clock moves two days on so that they have
all expired (retention 1d), then `mailjournal purge` runs while milter_load keeps sending mail
at a steady rate; every message of that flow must be answered CONTINUE (milter_load exits 1
on any other answer, a tempfail included).  The daemon's resident memory is sampled during the
purge; its growth over the level before the purge must stay under MAX_GROWTH_MB (the purge
works in batches of 1000 messages).  The bound applies to the daemon's own (anonymous)
memory, RssAnon; VmRSS, printed too, also counts the journal's table files that LevelDB maps
into memory to read them, which grows with the journal read (page cache, reclaimable).  Afterwards `verify` accounts for every disposal.

The figures (fill rate, purge time, memory, the flow's latency during the purge) are printed
for the issue note; the pass/fail conditions are the ones above, not times."""
import json
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness   # noqa: E402
from test_retention import Clock, shim, DAY, ONE_DAY_POLICY as POLICY   # noqa: E402

N_EXPIRED = int(os.environ.get("MJ_PURGE_LOAD_MESSAGES", "100000"))
MAX_GROWTH_MB = 64
FLOW_RATE = 100          # messages/s of the mail flow during the purge
FLOW_BATCH = 200         # messages per milter_load run of the flow (2 s each)


def log(msg):
    sys.stderr.write("test_purge_load: %s\n" % msg)
    sys.stderr.flush()


def memory_kb(pid):
    """(VmRSS, RssAnon) of a process, in kB.  RssAnon is the process's own memory; the rest of
    VmRSS is mostly the journal's table files, which LevelDB maps to read them: page cache
    that grows with what is read and that the kernel reclaims under pressure."""
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                fields[key] = int(value.split()[0])
    if len(fields) != 2:
        raise harness.HarnessError("no VmRSS/RssAnon for pid %d" % pid)
    return fields["VmRSS"], fields["RssAnon"]


def results(out):
    """milter_load's "result run=..." lines as dicts of numbers."""
    found = []
    for line in out.splitlines():
        if line.startswith("result run="):
            found.append({k: float(v) for k, v in (kv.split("=", 1) for kv in line.split()[1:])})
    return found


class PurgeLoadTest(harness.E2ETestCase):
    def milter_load(self, *args):
        binary = os.environ.get("MJ_MILTER_LOAD")
        self.assertTrue(binary and os.path.exists(binary), "MJ_MILTER_LOAD: milter_load is not built")
        cmd = [binary, "--socket", self.env.daemon.milter_spec, "--no-header", "--runs", "1",
               "--pid", str(self.env.daemon.proc.pid)] + list(args)
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=1800)

    def test_purge_of_100000_expired_messages_while_mail_flows(self):
        clock = Clock()
        self.addCleanup(clock.close)
        env = harness.E2E(policy=POLICY, daemon_env={"LD_PRELOAD": shim(), "MJ_FAKE_CLOCK_FILE": clock.path})
        env.__enter__()
        self.addCleanup(env.close)
        self.env = env
        pid = env.daemon.proc.pid

        started = time.monotonic()
        p = self.milter_load("--connections", "8", "--messages", str(N_EXPIRED), "--size", "2000",
                             "--recipients", "1", "--per-connection", "500")
        out = p.stdout.decode(errors="replace")
        self.assertEqual(p.returncode, 0, out)
        fill_s = time.monotonic() - started
        log("journaled %d messages in %.1f s (%.0f/s)" % (N_EXPIRED, fill_s, N_EXPIRED / fill_s))
        last_before = env.tool.last_seq()

        clock.set(2 * DAY)   # everything journaled so far has expired
        rss_before, anon_before = memory_kb(pid)
        flow = {"runs": [], "failed": [], "stop": False}

        def send_flow():
            while not flow["stop"]:
                begun = time.monotonic()
                r = self.milter_load("--connections", "4", "--messages", str(FLOW_BATCH), "--size", "2000",
                                     "--recipients", "1", "--rate", str(FLOW_RATE))
                text = r.stdout.decode(errors="replace")
                for run in results(text):
                    run["begun"], run["ended"] = begun, time.monotonic()
                    flow["runs"].append(run)
                if r.returncode != 0:
                    flow["failed"].append(text)
        samples = []
        sampling = {"stop": False}

        def sample_rss():
            while not sampling["stop"]:
                samples.append(memory_kb(pid))
                time.sleep(0.2)   # a measurement interval, not synchronisation
        flow_thread = threading.Thread(target=send_flow)
        rss_thread = threading.Thread(target=sample_rss)
        flow_thread.start()
        rss_thread.start()
        try:
            # the flow is under way before the purge starts
            harness.wait_until(lambda: flow["runs"] or flow["failed"], 60, "a first run of the mail flow")
            started = time.monotonic()
            purge = env.tool.run("purge", "--format", "json", timeout=1800)
            ended = time.monotonic()
            purge_s = ended - started
        finally:
            flow["stop"] = True
            sampling["stop"] = True
            flow_thread.join(600)
            rss_thread.join(60)
        # runs of the flow that were sending while the purge ran
        runs_during = len([r for r in flow["runs"] if r["begun"] < ended and r["ended"] > started])
        self.assertEqual(purge.returncode, 0, purge.stderr)
        report = json.loads(purge.stdout)
        report = report.get("report", report)
        peak_rss = max(s[0] for s in samples)
        peak_anon = max(s[1] for s in samples)
        growth_mb = (peak_anon - anon_before) / 1024.0
        flowed = sum(r.get("messages", 0) for r in flow["runs"])
        p99 = max((r.get("eom_p99_ms", 0) for r in flow["runs"]), default=0)
        log("purge: %d disposed of in %.1f s (%.0f/s); daemon memory before / peak during (%d samples):"
            " own (RssAnon) %.1f / %.1f MB (+%.1f MB), resident with mapped tables (VmRSS) %.1f / %.1f MB;"
            " mail flow: %d messages in %d runs (%d during the purge), worst run p99 %.2f ms" % (
                report["disposed"], purge_s, report["disposed"] / purge_s, len(samples),
                anon_before / 1024.0, peak_anon / 1024.0, growth_mb, rss_before / 1024.0, peak_rss / 1024.0,
                flowed, len(flow["runs"]), runs_during, p99))
        self.assertEqual(flow["failed"], [], "the mail flow got answers other than CONTINUE during the purge")
        self.assertGreater(runs_during, 0)
        self.assertEqual(report["disposed"], N_EXPIRED, report)
        self.assertEqual(report["held"], 0, report)
        self.assertLess(growth_mb, MAX_GROWTH_MB)

        # every disposal accounted for; the flow's messages (not yet expired) kept
        p = env.tool.run("verify", "--format", "json", timeout=1800)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        v = json.loads(p.stdout)
        v = v.get("report", v)
        self.assertEqual(v["disposals"], N_EXPIRED, v)
        self.assertGreaterEqual(v["messages"], N_EXPIRED + flowed)
        self.assertGreater(env.tool.last_seq(), last_before + N_EXPIRED)


if __name__ == "__main__":
    harness.main()
