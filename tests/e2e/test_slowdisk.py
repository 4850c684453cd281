#!/usr/bin/env python3
"""A slow disk (issue 6): mailjournald answers within Postfix's timeouts or tempfails, and never
lets a message through before the synced write that holds it has returned.

The disk is made slow from outside the product: the daemon runs with LD_PRELOAD of
tests/e2e/slow_sync.c (CMake target slow_sync, `libslow_sync.so`; MJ_SLOW_SYNC_SO names it),
which delays every fsync/fdatasync/sync_file_range on a file under the journal directory by the
latency written in a control file (milliseconds, re-read while a call waits, so lowering it
releases waiting calls) and logs each such call's start and end (CLOCK_MONOTONIC, the clock of
time.monotonic()) to a file.  Postfix runs with milter_content_timeout = 5s (end of message,
body), milter_command_timeout = 10s (connect, HELO, MAIL, RCPT) and, as in every e2e test,
milter_default_action = tempfail.  The clients are threads with their own connections that
record when they started sending the message data (t_data) and when the reply came (t_reply).

1. Moderate latency (300 ms per sync) under load: 4 clients, 5 messages each (small, 30 kB and
   1.5 MB: the big ones are staged in chunks while other commits sync, and the ~6 MB written
   make LevelDB switch logs, whose old log the journal syncs on close).  Every message gets 250,
   is delivered and journaled once, and its export (opened with the e2e key) is byte-identical
   to the delivery.  For every one, the shim logged a delayed sync of the journal's LevelDB log
   that started after t_data and ended before t_reply: the 250 came after a sync that started
   after the message's end of data had been sent, so no earlier sync could have covered it
   (and so every end-of-data answer took at least 300 ms).
2. Syncs held longer than Postfix waits (60 s, until phase 3 releases them): 4 clients, one
   message each.  Every one gets 4xx, none is delivered; a session that reached the end of data
   is refused there within milter_content_timeout plus slack.  While the syncs are held:
   `mailjournal status` over the admin socket answers within 5 s and its last_seq has not moved
   (an entry is not visible before its sync returned), and a new SMTP session's EHLO, MAIL FROM
   and RCPT TO (callbacks that need no sync) get 250 within 5 s, or 4xx within
   milter_command_timeout: libmilter's worker pool (Debian's libmilter 8.17) sometimes leaves a
   session that arrives together with others unserved while every worker thread is blocked in an
   end-of-message callback, until one returns; Postfix then refuses that session at its timeout
   for the event it waits on (fail-closed; such sessions are counted on stderr).  The shim log proves a journal sync was
   held from before the first refusal until after those checks.
3. The latency is removed (0 in the control file; the held syncs return): without restarting
   anything, the held commits complete (a message refused at the end of data is then journaled
   although Postfix refused it, if its end-of-message callback ran: at-least-once, a duplicate
   of the client's retry, mailjournald(8) LIMITATIONS), a new message gets 250, the clients'
   retries of the refused messages get 250 and are delivered, and `mailjournal verify` passes.  Finally nothing was
   delivered that is not journaled with identical bytes, no queue id is journaled twice, and
   the refused transactions were never delivered.

Each message has its own MAIL FROM (slow-<marker>@example.org), which the journal's envelope
(not sealed) and the sink's envelope show.  The journal holds the policy, its key and messages,
and the audit trail's access entries of the test's own requests (every one but status; each is
a synced write, so phase 1's listings and exports wait 300 ms each too).  About 35 s (up to 45 s
when a session is left unserved in phase 2).

Run: python3 tests/e2e/test_slowdisk.py   (as root; exit 77 = skipped, prerequisites missing)
     MJ_SLOW_SYNC_SO=PATH (default build/tests/libslow_sync.so), MAILJOURNALD, MAILJOURNAL.
"""

import json
import os
import random
import re
import smtplib
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness   # noqa: E402

SHIM = os.environ.get("MJ_SLOW_SYNC_SO", os.path.join(harness.REPO, "build", "tests", "libslow_sync.so"))

CONTENT_TIMEOUT_S = 5      # Postfix's milter_content_timeout here (end of message and body)
COMMAND_TIMEOUT_S = 10     # Postfix's milter_command_timeout here (connect, HELO, MAIL, RCPT)
MODERATE_MS = 300          # phase 1: every sync under the journal takes this long
STUCK_MS = 60000           # phase 2: longer than phase 2 lasts; released by writing 0
CLIENTS = 4
PHASE1_SIZES = [1500, 1536 * 1024, 2500, 30 * 1024, 800]   # per client, in order
SLACK_S = 3                # scheduling slack on top of Postfix's timeout

LOG_FILE_RE = re.compile(r"/db/\d+\.log$")


def make_message(marker, size, rng):
    """About size bytes, marker in Subject and Message-ID; base64 of random bytes (it does not
    compress), with a line starting with a dot now and then (dot-stuffing on the wire)."""
    return harness.random_text_message(marker, size, rng, b"Slow <slow@example.org>", b"slowdisk.e2e.test")


class TimedSMTP(smtplib.SMTP):
    """smtplib.SMTP that remembers when it last started sending: after data(), when the message
    bytes (and the final dot) started to go out."""

    last_send = None

    def send(self, s):
        self.last_send = time.monotonic()
        super().send(s)


class Sent:
    def __init__(self, marker, raw):
        self.marker = marker
        self.raw = raw
        self.sender = "slow-%s@example.org" % marker
        self.result = None
        self.error = None
        self.t_start = None   # monotonic: before connecting
        self.t_data = None    # monotonic: the message data started to go out (None: not reached)
        self.t_reply = None   # monotonic: the last reply was read

    @property
    def latency(self):
        return self.t_reply - self.t_data

    def __repr__(self):
        return "<%s %s %s>" % (self.marker, self.result, self.error or "")


def refused_at(stage, code, reply):
    r = harness.SendResult()
    r.stage, r.code, r.reply = stage, code, reply
    return r


def send_timed(env, s):
    """One transaction of s on its own connection; fills s.result (a harness.SendResult, also
    for a refused greeting or EHLO), s.t_start, s.t_data, s.t_reply."""
    smtp = None
    s.t_start = time.monotonic()
    try:
        try:
            smtp = TimedSMTP("127.0.0.1", env.postfix.smtp_port, local_hostname="slow.test.invalid", timeout=120)
        except smtplib.SMTPConnectError as exc:
            s.result = refused_at("connect", exc.smtp_code, exc.smtp_error)
            return
        code, msg = smtp.ehlo("slow.test.invalid")
        if code != 250:
            s.result = refused_at("ehlo", code, msg)
            return
        s.result = env.send(s.raw, mail_from=s.sender, rcpts=["rcpt@example.net"], smtp=smtp)
        if s.result.stage == "eod":
            s.t_data = smtp.last_send
    except (smtplib.SMTPException, OSError) as exc:
        s.error = repr(exc)
    finally:
        s.t_reply = time.monotonic()
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def run_clients(env, batches, timeout):
    """batches: one list of Sent per client; each client thread sends its list in order."""
    errors = []

    def client(batch):
        try:
            for s in batch:
                send_timed(env, s)
        except Exception as exc:   # a bug in the test: fail, not hang
            errors.append(repr(exc))

    threads = [threading.Thread(target=client, args=(b,), daemon=True) for b in batches]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        raise harness.HarnessError("SMTP clients still running after %ds" % timeout)
    if errors:
        raise harness.HarnessError("client errors: %s" % errors)


class SlowDisk:
    """The shim's control file and log, in the environment's temp dir."""

    def __init__(self, env):
        d = os.path.join(env.base, "slowdisk")
        os.mkdir(d)
        os.chmod(d, 0o755)
        self.control = os.path.join(d, "control")
        self.log = os.path.join(d, "sync.log")
        self.set_ms(0)
        os.chmod(self.control, 0o644)
        open(self.log, "w").close()
        os.chmod(self.log, 0o666)   # the daemon writes it after dropping privileges
        self.env_vars = {"LD_PRELOAD": SHIM, "MJ_SLOW_SYNC_PREFIX": env.journal_dir + "/",
                         "MJ_SLOW_SYNC_CONTROL": self.control, "MJ_SLOW_SYNC_LOG": self.log}

    def set_ms(self, ms):
        harness.write_file_atomic(self.control, "%d\n" % ms)

    def records(self):
        """(start, end, delay_ms, rc, function, path) per completed sync, start/end in seconds."""
        out = []
        with open(self.log) as f:
            for line in f:
                w = line.rstrip("\n").split(" ", 6)
                if len(w) != 7 or w[0] != "sync":
                    raise harness.HarnessError("bad line in the shim log: %r" % line)
                out.append((int(w[1]) / 1e9, int(w[2]) / 1e9, int(w[3]), int(w[4]), w[5], w[6]))
        return out


class SlowDiskTest(harness.E2ETestCase):
    def test_slow_disk(self):
        t0 = time.monotonic()
        env = harness.E2E(start_daemon=False, extra_main={"milter_content_timeout": "%ds" % CONTENT_TIMEOUT_S,
                                                          "milter_command_timeout": "%ds" % COMMAND_TIMEOUT_S})
        env.__enter__()
        self.addCleanup(env.close)
        self.env = env
        self.assertEqual(env.postfix.main_cf().count("milter_default_action = tempfail\n"), 1)
        disk = SlowDisk(env)
        self.addCleanup(disk.set_ms, 0)   # runs before env.close: a failed test stops the daemon quickly
        env.daemon.extra_env.update(disk.env_vars)
        env.daemon.start()
        env.daemon.wait_log(" started: ")   # its sockets accept before its journal is open
        pid = env.daemon.proc.pid
        rng = random.Random(6)
        timings = {}

        # ---- 1. 300 ms per sync, 4 concurrent clients
        disk.set_ms(MODERATE_MS)
        phase1 = [[Sent("p1-c%d-%d" % (c, i), None) for i, _ in enumerate(PHASE1_SIZES)] for c in range(CLIENTS)]
        for batch in phase1:
            for s, size in zip(batch, PHASE1_SIZES):
                s.raw = make_message(s.marker, size, rng)
        t = time.monotonic()
        run_clients(env, phase1, 120)
        timings["phase 1 load"] = time.monotonic() - t
        p1 = [s for b in phase1 for s in b]
        for s in p1:
            self.assertIsNone(s.error, s)
            self.assertTrue(s.result.accepted, "%r (a 300 ms sync is well within the 5 s timeout)" % s)
            self.assertTrue(s.result.queue_id, s)
        deliveries = {d.queue_id: d for d in env.wait_delivered(len(p1), timeout=60)}
        syncs = disk.records()
        log_syncs = [r for r in syncs if LOG_FILE_RE.search(r[5]) and r[2] == MODERATE_MS and r[3] == 0]
        self.assertTrue(log_syncs, "the shim delayed no sync of the journal's log: is it preloaded?\n%s" % syncs[:20])
        by_qid = self.journal_by_qid(env)
        for s in p1:
            with self.subTest(message=s.marker):
                q = s.result.queue_id
                self.assertGreaterEqual(s.latency, MODERATE_MS / 1000,
                                        "%s: 250 %.3f s after its data, faster than one sync" % (s.marker, s.latency))
                covering = [r for r in log_syncs if r[0] >= s.t_data and r[1] <= s.t_reply]
                self.assertTrue(covering, "%s: no delayed sync of the journal's log between its data (%.3f) and "
                                "its 250 (%.3f); syncs around it: %s" % (
                                    s.marker, s.t_data, s.t_reply,
                                    [r[:3] for r in log_syncs if r[1] >= s.t_data - 1 and r[0] <= s.t_reply + 1]))
                self.assertIn(q, deliveries, "250 but not delivered")
                self.assertEqual(len(by_qid.get(q, [])), 1, "250 but not journaled exactly once")
                e = by_qid[q][0]
                self.assertEqual(e["mail_from"], s.sender, e)
                self.assertIn(s.marker.encode(), deliveries[q].content)
                exported = env.tool.export(e["seq"])
                self.assertEqual(exported, deliveries[q].content, harness.bytes_diff(deliveries[q].content, exported))
                self.assert_entry_content(e, exported)
        logs = sorted({r[5] for r in syncs if LOG_FILE_RE.search(r[5])})
        lat = sorted(s.latency for s in p1)
        sys.stderr.write("\nphase 1: %d messages, end-of-data latency min %.3f / median %.3f / max %.3f s; "
                         "%d delayed syncs, %d of the log (files: %s)\n" % (
                             len(p1), lat[0], lat[len(lat) // 2], lat[-1], len(syncs), len(log_syncs),
                             ", ".join(os.path.basename(p) for p in logs)))

        # ---- 2. syncs held for longer than Postfix waits
        last_seq_before = self.last_seq(env)
        disk.set_ms(STUCK_MS)
        t_stuck = time.monotonic()
        phase2 = [[Sent("p2-c%d" % c, None)] for c in range(CLIENTS)]
        for b in phase2:
            b[0].raw = make_message(b[0].marker, 3000, rng)
        run_clients(env, phase2, CONTENT_TIMEOUT_S + COMMAND_TIMEOUT_S + 60)
        timings["phase 2 refusals"] = time.monotonic() - t_stuck
        p2 = [b[0] for b in phase2]
        for s in p2:
            with self.subTest(message=s.marker):
                self.assertIsNone(s.error, s)
                self.assertTrue(s.result.code is not None and s.result.code // 100 == 4, s)
                # normally refused at the end of data, after Postfix waited CONTENT_TIMEOUT_S;
                # a session libmilter left unserved (see the report below) at an earlier stage
                self.assertLessEqual(s.t_reply - s.t_start, COMMAND_TIMEOUT_S + CONTENT_TIMEOUT_S + SLACK_S, s)
                if s.result.stage == "eod":
                    self.assertLessEqual(s.latency, CONTENT_TIMEOUT_S + SLACK_S, s)
        at_eod = [s for s in p2 if s.result.stage == "eod"]
        self.assertTrue(at_eod, "no refused message reached the end of data: %s" % p2)
        # the daemon answers what needs no sync, while a sync is held
        t_probe = time.monotonic()
        status = env.tool.status()
        status = status.get("status", status)
        t_status = time.monotonic() - t_probe
        self.assertLess(t_status, 5, "mailjournal status took %.1f s while syncs were held" % t_status)
        self.assertEqual(status["last_seq"], last_seq_before,
                         "entries became visible while the syncs that hold them had not returned")
        probe = Sent("p2-probe", None)
        probe_steps = self.probe_session(env, probe)
        t_probe_end = time.monotonic()
        # MAIL and RCPT need no sync: answered at once, unless libmilter's worker pool left the
        # session unserved behind the blocked end-of-message callbacks; then Postfix's
        # milter_command_timeout refuses it with 4xx.  Never a 250 for a message, never a hang.
        codes = [c for _, c, _ in probe_steps]
        if codes == [250, 250, 250]:
            self.assertLess(probe_steps[-1][2], 5, "EHLO, MAIL, RCPT took %s while syncs were held" % probe_steps)
        else:
            self.assertEqual(codes[-1] // 100, 4, probe_steps)
            self.assertLessEqual(probe_steps[-1][2], COMMAND_TIMEOUT_S + SLACK_S, probe_steps)
        sys.stderr.write("phase 2: refusals (stage, code, seconds after connecting): %s; status %.3f s, probe %s "
                         "while held\n" % ([(s.result.stage, s.result.code, round(s.t_reply - s.t_start, 1)) for s in p2],
                                           t_status, probe_steps))
        self.assertTrue(env.daemon.running(), env.daemon.current_log())
        self.assertFalse([d for d in env.sink.deliveries() if d.envelope["mail"].startswith("<slow-p2-")],
                         "a refused message was delivered")

        # ---- 3. the disk is fast again: no restart
        disk.set_ms(0)
        t_release = time.monotonic()
        # the held commit completes: its messages are journaled although Postfix refused them
        harness.wait_until(lambda: self.last_seq(env) > last_seq_before, 30,
                           "the held commit to complete", interval=0.1, diag=env.diagnostics)
        held = [r for r in disk.records() if LOG_FILE_RE.search(r[5]) and r[2] == STUCK_MS
                and r[0] < min(s.t_reply for s in at_eod) and r[1] > t_probe_end]
        self.assertTrue(held, "no journal sync was held across the probes: %s" % [
            r[:3] + r[5:] for r in disk.records() if r[1] >= t_stuck])
        attempts = []

        def accepted_again():
            s = Sent("p3-fresh-%d" % len(attempts), None)
            s.raw = make_message(s.marker, 2000, rng)
            send_timed(env, s)
            attempts.append(s)
            return s.result is not None and s.result.accepted
        harness.wait_until(accepted_again, 30, "mail accepted again after the latency was removed",
                           interval=0.5, diag=env.diagnostics)
        timings["recovery"] = time.monotonic() - t_release
        retries = [[Sent(s.marker, s.raw)] for s in p2]   # the clients retry the same messages
        run_clients(env, retries, 60)
        p3 = [attempts[-1]] + [b[0] for b in retries]
        for s in p3:
            self.assertIsNone(s.error, s)
            self.assertTrue(s.result.accepted, s)
        self.assertEqual(env.daemon.proc.pid, pid, "the daemon was restarted")
        self.assertEqual(env.daemon.starts, 1)
        for s in p3:
            env.delivery_for(s.result.queue_id)
        verified = self.last_seq(env)   # status: the one request the audit trail does not record
        p = env.tool.run("verify", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        report = json.loads(p.stdout)
        self.assertTrue(report["intact"], report)

        # ---- everything: nothing delivered that is not journaled, byte for byte
        deliveries = {d.queue_id: d for d in env.wait_delivered(len(p1) + len(p3))}
        self.assertEqual(len(deliveries), len(p1) + len(p3))
        by_qid = self.journal_by_qid(env)
        every = env.every_entry()
        self.assertEqual([e["seq"] for e in every], list(range(1, len(every) + 1)))
        # verify covered every entry there was when it was asked; its own access entry (the
        # audit trail, recorded before the answer) comes right after them
        self.assertEqual(report["entries"], verified)
        self.assertEqual((every[verified]["kind"], every[verified]["operation"]), ("access", "verify"))
        # the entries made by mail and starts: the policy and its key, then messages only
        recorded = [e for e in every if e["kind"] != "access"]
        self.assertEqual(harness.kinds(recorded), "PK" + "M" * (len(recorded) - 2))
        for q, d in deliveries.items():
            with self.subTest(delivery=q):
                self.assertEqual(len(by_qid.get(q, [])), 1, "delivered but not journaled exactly once")
                e = by_qid[q][0]
                self.assertEqual("<%s>" % e["mail_from"], d.envelope["mail"].split()[0])
                if e["mail_from"].startswith("slow-p1-"):
                    continue   # compared above
                exported = env.tool.export(e["seq"])
                self.assertEqual(exported, d.content, harness.bytes_diff(d.content, exported))
        twice = {q: es for q, es in by_qid.items() if len(es) > 1}
        self.assertFalse(twice, "queue ids journaled twice")
        delivered_qids = set(deliveries)
        refused_entries = [e for es in by_qid.values() for e in es if e["queue_id"] not in delivered_qids]
        for s in p2:
            mine = [e for es in by_qid.values() for e in es if e["mail_from"] == s.sender]
            kept = [e for e in mine if e["queue_id"] not in delivered_qids]
            # the retry's entry, and for a message refused at the end of data its own if its
            # end-of-message callback ran (journaled when the held sync returned; not when
            # libmilter left the session unserved until Postfix gave up on an earlier event)
            self.assertLessEqual(len(kept), 1 if s.result.stage == "eod" else 0, (s.marker, s.result, mine))
            self.assertEqual(len(mine), len(kept) + 1, (s.marker, s.result, mine))
        # ... at least those of the commit whose sync was held
        self.assertGreaterEqual(len(refused_entries), 1, refused_entries)
        self.assertEqual(len(refused_entries), len(recorded) - len(deliveries) - 2, "(2: the policy and its key)")
        timings["whole test"] = time.monotonic() - t0
        starved = (len([s for s in p2 if s.result.stage != "eod"]) + (codes != [250, 250, 250]) +
                   len(at_eod) - len(refused_entries))
        if starved:
            sys.stderr.write("phase 2: %d session(s) left unserved by libmilter's worker pool while the end-of-message "
                             "callbacks were blocked, refused at Postfix's milter timeouts\n" % starved)
        sys.stderr.write("phase 3: %d of %d messages refused at the end of data were journaled (duplicates of their "
                         "retries); %d retries accepted\n" % (len(refused_entries), len(at_eod), len(retries)))
        sys.stderr.write("timings: %s\n" % ", ".join("%s %.1f s" % kv for kv in timings.items()))

    @staticmethod
    def probe_session(env, s):
        """EHLO, MAIL FROM, RCPT TO on a new session, then RSET; returns [(step, code, seconds
        since connecting)] up to the first reply that is not 250."""
        steps = []
        s.t_start = time.monotonic()
        try:
            smtp = TimedSMTP("127.0.0.1", env.postfix.smtp_port, local_hostname="probe.test.invalid", timeout=120)
        except smtplib.SMTPConnectError as exc:
            return [("connect", exc.smtp_code, time.monotonic() - s.t_start)]
        try:
            for step, call in (("ehlo", lambda: smtp.ehlo("probe.test.invalid")),
                               ("mail", lambda: smtp.mail(s.sender)),
                               ("rcpt", lambda: smtp.rcpt("rcpt@example.net"))):
                code = call()[0]
                steps.append((step, code, round(time.monotonic() - s.t_start, 3)))
                if code != 250:
                    break
            smtp.rset()
        except smtplib.SMTPServerDisconnected:
            steps.append(("disconnected", 0, round(time.monotonic() - s.t_start, 3)))
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
        return steps

    @staticmethod
    def journal_by_qid(env):
        out = {}
        for e in env.entries():
            out.setdefault(e["queue_id"], []).append(e)
        return out

    @staticmethod
    def last_seq(env):
        status = env.tool.status()
        return status.get("status", status)["last_seq"]


if __name__ == "__main__":
    harness.main(needs_binaries=(harness.MAILJOURNALD, harness.MAILJOURNAL, SHIM))
