#!/usr/bin/env python3
"""Shipping sealed segments to S3 Object Lock (mailjournald(8), SHIPPING TO S3), end to end:
a real Postfix, the daemon, and a real S3 server (a private Ceph radosgw, tests/s3/radosgw.py).

The bucket is made with `mailjournal ship create-bucket -c CONF`; the daemon cuts segments of 5
entries (segment_entries) and checkpoints every second.  What is in the bucket is read with
boto3 (tests/s3/s3_inspect.py), not with our client.  The steps run in order (test_1 .. test_5):
1. segments arrive under the MTA's prefix, COMPLIANCE, retain-until the latest of their
   messages', their bytes verify offline (`mailjournal segment verify`), and the ship entries
   name them exactly (object, version, size, SHA-256);
2. the server refuses to delete a shipped version or to shorten its retention (AccessDenied);
3. a hold placed after shipping turns the object's S3 legal hold ON, its release OFF;
4. with the gateway stopped, mail is accepted at once (no 451, end-of-message latency within a
   bound of the gateway-up latency) and status shows the backlog and the error; with the
   gateway back, the shipper catches up and every message is in exactly one object, the
   objects covering 1..N without gap or overlap;
5. a restarted daemon knows from its ship entries what it shipped and ships nothing twice;
6. an idle journal's last messages are shipped within about segment_seconds: the shipper asks
   for the checkpoint that closes their segment, as nothing else is committed.
Waiting is polling with deadlines; a segment is only complete when an entry follows it, so the
polls add entries with a recorded request (`mailjournal list`, an access entry).
"""

import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "s3"))
import harness   # noqa: E402
import radosgw   # noqa: E402
from test_proof import make_signing_key, message_bytes, remove_after  # noqa: E402

INSPECT = os.path.join(HERE, "..", "s3", "s3_inspect.py")
BUCKET = "mailjournal-ship-e2e"
PREFIX = "mta1"
SEGMENT_ENTRIES = 5


def journal_time(text):
    """A journal time ("2026-11-27T10:00:00.123456Z") as an aware datetime."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)


def iso_ceil_second(text):
    """A journal time rounded up to a whole second, as S3 keeps it, in S3's ISO form."""
    t = journal_time(text)
    if t.microsecond:
        t = t.replace(microsecond=0) + datetime.timedelta(seconds=1)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class ShipTest(harness.E2ETestCase):

    @classmethod
    def setUpClass(cls):
        cls.rgw = radosgw.RadosGateway()
        cls.rgw.__enter__()
        cls.addClassCleanup(cls.rgw.__exit__, None, None, None)
        cls.boto3_python = harness.python_with("boto3", "python3-boto3")
        cls.key, cls.vkey, _ = make_signing_key(cls)
        conf_dir = tempfile.mkdtemp(prefix="mj-e2e-ship-", dir=os.environ.get("MJ_E2E_TMP") or None)
        remove_after(cls, conf_dir)
        os.chmod(conf_dir, 0o755)
        cls.credentials = os.path.join(conf_dir, "s3-credentials")
        with open(cls.credentials, "w") as f:
            f.write("access_key = %s\nsecret_key = %s\n" % (cls.rgw.access_key, cls.rgw.secret_key))
        os.chmod(cls.credentials, 0o600)
        pw = harness.pwd.getpwnam(harness.DAEMON_USER)
        os.chown(cls.credentials, pw.pw_uid, pw.pw_gid)
        settings = {"s3_endpoint": cls.rgw.endpoint, "s3_region": cls.rgw.region,
                    "s3_bucket": BUCKET, "s3_prefix": PREFIX, "s3_credentials": cls.credentials,
                    "segment_entries": str(SEGMENT_ENTRIES)}
        cls.conf = os.path.join(conf_dir, "mailjournald.conf")
        with open(cls.conf, "w") as f:
            f.write("".join("%s = %s\n" % kv for kv in settings.items()))
        p = harness.run([harness.MAILJOURNAL, "ship", "create-bucket", "-c", cls.conf])
        assert b"created with Object Lock" in p.stdout, p.stdout
        args = ["--signing-key", cls.key, "--checkpoint-interval", "1"]
        for name, value in settings.items():
            args += ["--" + name.replace("_", "-"), value]
        cls.env = harness.E2E(daemon_args=args)
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        cls.tool = cls.env.tool
        cls.work = os.path.join(cls.env.base, "ship")
        os.makedirs(cls.work)

    # --- helpers -----------------------------------------------------------------------------

    def s3(self, *args):
        p = subprocess.run([self.boto3_python, INSPECT, self.rgw.endpoint, self.rgw.region,
                            self.rgw.access_key, self.rgw.secret_key, BUCKET] + [str(a) for a in args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        return json.loads(p.stdout)

    def shipping(self):
        return self.tool.status()["shipping"]

    def wait_shipped(self, seq, timeout=120):
        """Until entries 1..seq are shipped; each poll that finds them not yet shipped adds an
        entry (a recorded `list`), so that the segment holding seq gets complete."""
        def shipped():
            if self.shipping()["shipped_through"] >= seq:
                return True
            self.tool.ok("list", "--limit", "1")
            return False
        harness.wait_until(shipped, timeout, "entries 1..%d shipped" % seq, interval=0.5,
                           diag=self.env.diagnostics)

    def ship_entries(self, action="upload"):
        return [e for e in self.tool.every_entry() if e["kind"] == "ship" and e["action"] == action]

    def send(self, n):
        r = self.env.send(message_bytes(n))
        self.assertTrue(r.accepted, r)
        return r

    def message_seqs(self, results):
        return [self.env.entry_for_qid(r.queue_id)["seq"] for r in results]

    # --- the steps ----------------------------------------------------------------------------

    def test_1_segments_arrive_locked_until_their_messages_latest_retain_until(self):
        sent = [self.send(n) for n in range(1, 8)]
        self.env.wait_delivered(len(sent))
        seqs = self.message_seqs(sent)
        self.wait_shipped(max(seqs))
        messages = {e["seq"]: e for e in self.tool.all_entries()}
        uploads = self.ship_entries()
        self.assertTrue(uploads)
        versions = {(v["key"], v["version_id"]): v for v in self.s3("list", PREFIX + "/")}
        for ship in uploads:
            first, last = ship["first"], ship["last"]
            self.assertEqual(ship["object"],
                             "%s/segments/%020d-%020d.seg" % (PREFIX, first, last))
            self.assertIn((ship["object"], ship["version_id"]), versions)
            head = self.s3("head", ship["object"], ship["version_id"])
            self.assertEqual(head["mode"], "COMPLIANCE")
            self.assertEqual(head["size"], ship["size"])
            self.assertEqual(head["retain_until"], iso_ceil_second(ship["retain_until"]))
            held = [m["retain_until"] for s, m in messages.items() if first <= s <= last]
            if held:
                self.assertEqual(head["retain_until"], iso_ceil_second(max(held)), ship)
            else:   # no message: at least a day from now (the rule of mailjournald(8))
                self.assertGreater(journal_time(ship["retain_until"]),
                                   journal_time(ship["time"]) + datetime.timedelta(hours=23))
            path = os.path.join(self.work, "%d-%d.seg" % (first, last))
            self.s3("get", ship["object"], ship["version_id"], path)
            with open(path, "rb") as f:
                data = f.read()
            self.assertEqual(len(data), ship["size"])
            self.assertEqual(hashlib.sha256(data).hexdigest(), ship["sha256"])
            p = subprocess.run([harness.MAILJOURNAL, "--socket", "/nonexistent/admin.sock", "segment",
                                "verify", "--vkey", self.vkey, path], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout)
        self.assertTrue(any(first <= s <= last for s in seqs
                            for first, last in [(u["first"], u["last"]) for u in uploads]))

    def test_2_the_server_refuses_to_delete_or_shorten_a_shipped_version(self):
        ship = self.ship_entries()[0]
        self.assertEqual(self.s3("delete", ship["object"], ship["version_id"])["error"], "AccessDenied")
        earlier = journal_time(ship["retain_until"]) - datetime.timedelta(days=1)
        self.assertEqual(self.s3("retain", ship["object"], ship["version_id"],
                                 earlier.strftime("%Y-%m-%dT%H:%M:%SZ"))["error"], "AccessDenied")
        self.assertEqual(self.s3("head", ship["object"], ship["version_id"])["retain_until"],
                         iso_ceil_second(ship["retain_until"]))

    def test_3_a_hold_after_shipping_is_an_s3_legal_hold_until_released(self):
        messages = [e["seq"] for e in self.tool.all_entries()]
        ship = next(u for u in self.ship_entries() if any(u["first"] <= s <= u["last"] for s in messages))
        seq = next(s for s in messages if ship["first"] <= s <= ship["last"])
        self.assertNotEqual(self.s3("head", ship["object"], ship["version_id"])["legal_hold"], "ON")

        def legal_hold_is(state):
            """Until the version's legal hold is `state` and the ship entry recording it is
            there (it is appended after the change is made)."""
            def check():
                changes = self.ship_entries("legal_hold")
                recorded = bool(changes) and changes[-1]["legal_hold"] == (state == "ON")
                if recorded and self.s3("head", ship["object"], ship["version_id"])["legal_hold"] == state:
                    return True
                self.tool.ok("list", "--limit", "1")   # an entry, so a checkpoint wakes the shipper
                return False
            harness.wait_until(check, 60, "legal hold %s on %s" % (state, ship["object"]),
                               interval=0.5, diag=self.env.diagnostics)

        self.tool.ok("hold", "add", "--case", "SHIP-1", "--reason", "shipped evidence", "--seq", str(seq))
        legal_hold_is("ON")
        changes = self.ship_entries("legal_hold")
        self.assertEqual([(c["object"], c["version_id"], c["legal_hold"]) for c in changes],
                         [(ship["object"], ship["version_id"], True)])
        self.tool.ok("hold", "release", "--case", "SHIP-1", "--reason", "case closed")
        legal_hold_is("OFF")
        changes = self.ship_entries("legal_hold")
        self.assertEqual([c["legal_hold"] for c in changes], [True, False])

    def test_4_mail_flows_while_s3_is_down_and_shipping_catches_up(self):
        up = [self.send(n) for n in range(20, 23)]
        up_latency = max((r.t_end - r.t_start).total_seconds() for r in up)
        self.rgw.stop_gateway()
        down = [self.send(n) for n in range(30, 30 + 2 * SEGMENT_ENTRIES)]
        for r in down:
            self.assertEqual(r.code, 250, r)
        down_latency = max((r.t_end - r.t_start).total_seconds() for r in down)
        self.assertLess(down_latency, 2 * up_latency + 1.0,
                        "end-of-message latency with S3 down %.3f s, up %.3f s" % (down_latency, up_latency))
        harness.wait_until(lambda: self.shipping()["last_error"], 60, "a shipping error in status",
                           interval=0.5, diag=self.env.diagnostics)
        st = self.shipping()
        self.assertGreaterEqual(st["backlog_entries"], 2 * SEGMENT_ENTRIES)
        self.assertIn("s3_unavailable", st["errors"])
        self.assertTrue(st["next_retry"])
        text = self.tool.ok("status").decode()
        self.assertIn("ship_backlog:", text)
        self.assertIn("ship_error:", text)

        self.rgw.start_gateway()
        restarted = time.monotonic()
        down_seqs = self.message_seqs(down + up)
        self.wait_shipped(max(down_seqs), timeout=180)
        sys.stderr.write("end-of-message latency, max: S3 up %.3f s, S3 down %.3f s; caught up %.1f s "
                         "after the gateway restarted (backlog was %d entries)\n" % (
                             up_latency, down_latency, time.monotonic() - restarted, st["backlog_entries"]))
        self.assertIsNone(self.shipping()["last_error"])
        uploads = sorted(self.ship_entries(), key=lambda u: u["first"])
        expected_first = 1
        for u in uploads:   # 1..N without gap or overlap
            self.assertEqual(u["first"], expected_first, uploads)
            expected_first = u["last"] + 1
        for seq in [e["seq"] for e in self.tool.all_entries()]:
            if seq < expected_first:
                holders = [u["object"] for u in uploads if u["first"] <= seq <= u["last"]]
                self.assertEqual(len(holders), 1, (seq, holders))
        for seq in down_seqs:
            self.assertLess(seq, expected_first)
        # The bucket holds every shipped object; a key beyond them is an upload in flight (its
        # ship entry follows), of entries after the shipped ones.
        keys = {v["key"] for v in self.s3("list", PREFIX + "/")}
        self.assertLessEqual({u["object"] for u in uploads}, keys)
        for key in keys - {u["object"] for u in uploads}:
            self.assertGreaterEqual(int(key.rsplit("/", 1)[1].split("-")[0]), expected_first, key)

    def test_5_a_restarted_daemon_knows_what_it_shipped_from_the_journal(self):
        before = self.shipping()["shipped_through"]
        self.env.daemon.stop()
        self.env.daemon.start()
        st = self.shipping()   # read from the ship entries at start, before any pass
        self.assertGreaterEqual(st["shipped_through"], before)
        sent = [self.send(n) for n in range(40, 40 + SEGMENT_ENTRIES)]
        self.wait_shipped(max(self.message_seqs(sent)))
        # nothing shipped twice: one upload entry and one version per object (the entries
        # first: an object listed may be an upload in flight, whose entry follows)
        uploads = self.ship_entries()
        shipped = {u["object"] for u in uploads}
        self.assertEqual(len(shipped), len(uploads))
        versions = self.s3("list", PREFIX + "/")
        self.assertEqual(sorted(v["key"] for v in versions if v["key"] in shipped), sorted(shipped))

    def test_6_an_idle_journal_ships_its_last_messages_within_segment_seconds(self):
        """A second MTA (prefix mta-idle) with segments of up to 1000 entries or 3 seconds:
        after two messages (and the `list` that finds their entries) nothing more is committed
        (the polls read the bucket, not the daemon), so only the shipper's closing checkpoint
        can complete their segment."""
        settings = {"s3_endpoint": self.rgw.endpoint, "s3_region": self.rgw.region,
                    "s3_bucket": BUCKET, "s3_prefix": "mta-idle", "s3_credentials": self.credentials,
                    "segment_entries": "1000", "segment_seconds": "3"}
        args = ["--signing-key", self.key, "--checkpoint-interval", "1"]
        for name, value in settings.items():
            args += ["--" + name.replace("_", "-"), value]
        env = harness.E2E(daemon_args=args)
        env.__enter__()
        self.addCleanup(env.close)
        sent = [env.send(message_bytes(n)) for n in (60, 61)]
        for r in sent:
            self.assertTrue(r.accepted, r)
        last_message = max(env.entry_for_qid(r.queue_id)["seq"] for r in sent)
        began = time.monotonic()

        def shipped_through():
            ends = [int(v["key"].rsplit("/", 1)[1].split("-")[1].split(".")[0])
                    for v in self.s3("list", "mta-idle/")]
            return max(ends, default=0)
        shipped = []
        harness.wait_until(lambda: shipped.append(shipped_through()) or shipped[-1] >= last_message, 60,
                           "the idle MTA's messages (up to entry %d) shipped" % last_message,
                           interval=0.5, diag=env.diagnostics)
        sys.stderr.write("idle journal: messages shipped %.1f s after the last was sent "
                         "(segment_seconds 3, checkpoint_interval 1)\n" % (time.monotonic() - began))
        # the closing checkpoint is the entry after the shipped segment
        after = [e for e in env.tool.every_entry() if e["seq"] > shipped[-1]]
        self.assertTrue(after, "a checkpoint entry follows the shipped segment")
        self.assertEqual(after[0]["kind"], "checkpoint")
        self.assertGreaterEqual(env.tool.status()["shipping"]["shipped_through"], last_message)


if __name__ == "__main__":
    harness.main()
