#!/usr/bin/env python3
"""Retention end to end, with the daemon's wall clock moved by the fake_clock LD_PRELOAD shim
(tests/e2e/fake_clock.c; MJ_FAKE_CLOCK_SO): mail of departments with different periods is
disposed of by `mailjournal purge` exactly after its own retain-until date, multi-department
mail at the longest; legal holds of every scope kind (department, address, time window,
sequence number, the policy file) keep expired mail until they are released; disposed mail
cannot be exported; `verify` passes after purges and fails with 65 when content is deleted
without a dispose entry or a dispose entry is forged before the date (forge_dispose,
MJ_FORGE_DISPOSE: the journal library used behind the retention's back)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness   # noqa: E402

DAY = 86400
EX_DATAERR = 65
EX_NOINPUT = 66

POLICY = """\
version: 1
retention: {r1: 1d, r2: 2d, r3: 3d}
departments:
  - name: retail
    members: ["@retail.example"]
    retention: r1
    keys: [keys/e2e.crt]
  - name: insurance
    members: ["@insurance.example"]
    retention: r1
    keys: [keys/e2e.crt]
  - name: brokerage
    members: ["@broker.example"]
    retention: r3
    keys: [keys/e2e.crt]
  - name: default
    retention: r2
    keys: [keys/e2e.crt]
"""
# Everything kept one day: all mail in the default department.
ONE_DAY_POLICY = """\
version: 1
retention: {r1: 1d}
departments:
  - name: default
    retention: r1
    keys: [keys/e2e.crt]
"""
POLICY_HOLD = """\
holds:
  - case: POL-1
    reason: "regulator's inquiry"
    placed_by: legal.wang
    scope:
      addresses: [held.by.policy@outside.example]
"""


def message(tag):
    return ("Subject: retention %s\r\nMessage-ID: <%s@example.org>\r\n"
            "Date: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nbody of %s\r\n" % (tag, tag, tag)).encode()


class Clock:
    """The fake clock's offset file: readable by the daemon's unprivileged user."""

    def __init__(self):
        fd, self.path = tempfile.mkstemp(prefix="mj-e2e-clock-")
        os.close(fd)
        os.chmod(self.path, 0o644)
        self.set(0)

    def set(self, offset_s):
        with open(self.path + ".tmp", "w") as f:
            f.write("%d\n" % offset_s)
        os.chmod(self.path + ".tmp", 0o644)
        os.replace(self.path + ".tmp", self.path)

    def close(self):
        os.unlink(self.path)


def shim():
    so = os.environ.get("MJ_FAKE_CLOCK_SO")
    if not so or not os.path.exists(so):
        raise harness.HarnessError("MJ_FAKE_CLOCK_SO: the fake_clock shim is not built (tests/CMakeLists.txt)")
    return so


class RetentionTestBase(harness.E2ETestCase):
    def start(self, policy=POLICY):
        self.clock = Clock()
        self.addCleanup(self.clock.close)
        env = harness.E2E(policy=policy, daemon_env={"LD_PRELOAD": shim(), "MJ_FAKE_CLOCK_FILE": self.clock.path})
        env.__enter__()
        self.addCleanup(env.close)
        self.env = env
        return env

    def send(self, tag, mail_from, rcpts):
        r = self.env.send_ok(message(tag), mail_from=mail_from, rcpts=rcpts)
        self.env.delivery_for(r.queue_id)
        return self.env.entry_for_qid(r.queue_id)

    def purge(self, *args):
        out = self.env.tool.ok("purge", "--format", "json", *args)
        report = json.loads(out)
        return report.get("report", report)

    def stored(self, seq):
        """Whether the message's content can still be exported (66 once disposed of)."""
        p = self.env.tool.run("export", str(seq), "--sealed")
        if p.returncode == 0:
            return True
        self.assertEqual(p.returncode, EX_NOINPUT, p.stderr)
        self.assertIn(b"disposed of", p.stderr)
        return False

    def verify(self, journal=False):
        p = self.env.tool.run("verify", "--format", "json", journal=journal)
        return p.returncode, json.loads(p.stdout) if p.stdout.strip() else {}, p.stderr


class RetentionTest(RetentionTestBase):
    def test_disposal_by_date_and_holds_of_every_kind(self):
        env = self.start(POLICY + POLICY_HOLD)
        m = {}
        m["retail"] = self.send("retail", "ann@retail.example", ["client@outside.example"])
        m["brokerage"] = self.send("brokerage", "bob@broker.example", ["client@outside.example"])
        m["both"] = self.send("both", "ann@retail.example", ["bob@broker.example"])
        m["default"] = self.send("default", "x@outside.example", ["y@outside.example"])
        # expired with retail's mail, each kept by one hold
        m["by-seq"] = self.send("by-seq", "cat@retail.example", ["client@outside.example"])
        m["by-address"] = self.send("by-address", "dan@retail.example", ["Witness@Outside.example"])
        m["by-department"] = self.send("by-department", "eve@insurance.example", ["client@outside.example"])
        m["by-policy"] = self.send("by-policy", "fay@retail.example", ["held.by.policy@outside.example"])
        self.clock.set(3600)   # an hour later: the one message in the hold's time window
        m["by-time"] = self.send("by-time", "gus@retail.example", ["client@outside.example"])
        self.assertEqual({k: e["departments"] for k, e in m.items() if k in ("both", "default")},
                         {"both": ["brokerage", "retail"], "default": ["default"]})
        self.assertEqual(m["both"]["retention"], "r3")

        t0 = harness.parse_time(m["retail"]["time"])
        window = (harness.iso_time(t0 + 1800), harness.iso_time(t0 + 2 * 3600))
        holds = [
            ("CASE-SEQ", ["--seq", str(m["by-seq"]["seq"])]),
            ("CASE-ADDR", ["--address", "witness@outside.EXAMPLE"]),
            ("CASE-DEPT", ["--department", "insurance"]),
            ("CASE-TIME", ["--since", window[0], "--until", window[1]]),
        ]
        for case_id, scope in holds:
            env.tool.ok("hold", "add", "--case", case_id, "--reason", "litigation " + case_id, *scope)
        listed = json.loads(env.tool.ok("hold", "list", "--format", "json"))
        listed = listed.get("holds", listed)
        self.assertEqual(sorted(h["case"] for h in listed), sorted(["POL-1"] + [c for c, _ in holds]))

        def expect(offset, disposed, stored, held=None):
            self.clock.set(offset)
            report = self.purge()
            with self.subTest(offset=offset):
                self.assertEqual(report["disposed"], len(disposed), report)
                if held is not None:
                    self.assertEqual(report["held_by"], held, report)
                for k in m:
                    self.assertEqual(self.stored(m[k]["seq"]), k in stored, k)
                rc, v, err = self.verify()
                self.assertEqual(rc, 0, (v, err))
                self.assertTrue(v.get("intact", v.get("report", {}).get("intact")), v)

        everything = set(m)
        held = {"CASE-SEQ", "CASE-ADDR", "CASE-DEPT", "CASE-TIME", "POL-1"}
        kept_by = {"by-seq", "by-address", "by-department", "by-time", "by-policy"}
        # a minute before a day: nothing has expired
        expect(DAY - 60, [], everything)
        # a day and two hours on: retail's message went; the five held ones stayed
        expect(DAY + 2 * 3600, ["retail"], everything - {"retail"}, {c: 1 for c in held})
        # two days: the default department's
        expect(2 * DAY + 60, ["default"], everything - {"retail", "default"})
        # the holds lifted: the tool's released, the policy's removed from the file
        for case_id, _ in holds:
            env.tool.ok("hold", "release", "--case", case_id, "--reason", "case closed")
        p = env.tool.run("hold", "release", "--case", "POL-1", "--reason", "case closed")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"policy file", p.stderr)
        env.write_policy(POLICY)
        self.assertEqual(env.tool.policy_reload().returncode, 0)
        expect(2 * DAY + 120, sorted(kept_by), {"brokerage", "both"}, {})
        # three days: brokerage's, and the message of both departments (the longest period)
        expect(3 * DAY + 3600 + 60, ["brokerage", "both"], set())

        # every dispose entry names its message, the retention rule and date, and the caller
        every = env.every_entry()
        disposals = {e["message"]: e for e in every if e["kind"] == "dispose"}
        self.assertEqual(sorted(disposals), sorted(e["seq"] for e in m.values()))
        for k, e in m.items():
            d = disposals[e["seq"]]
            self.assertEqual((d["retention"], d["retain_until"]), (e["retention"], e["retain_until"]), k)
            self.assertGreaterEqual(harness.parse_time(d["time"]), harness.parse_time(e["retain_until"]))
            self.assertEqual(d["by"], {"uid": 0, "user": "root"})
        # holds and releases are journal entries with the caller's identity
        hold_entries = [e for e in every if e["kind"] in ("hold", "release")]
        self.assertEqual(len(hold_entries), 2 * len(holds))
        self.assertTrue(all(e["by"]["user"] == "root" for e in hold_entries))
        rc, v, err = self.verify()
        self.assertEqual(rc, 0, (v, err))


class TamperTest(RetentionTestBase):
    def test_verify_fails_on_loss_or_a_forged_disposal(self):
        env = self.start()
        first = self.send("first", "ann@retail.example", ["client@outside.example"])
        second = self.send("second", "bea@retail.example", ["client@outside.example"])
        self.assertEqual(env.daemon.stop(), 0, env.daemon.log_text())
        pristine = tempfile.mkdtemp(prefix="mj-e2e-pristine-")
        self.addCleanup(shutil.rmtree, pristine, True)
        shutil.copytree(env.journal_dir, os.path.join(pristine, "j"), symlinks=True)
        rc, v, err = self.verify(journal=True)
        self.assertEqual(rc, 0, (v, err))

        def restore():
            shutil.rmtree(env.journal_dir)
            shutil.copytree(os.path.join(pristine, "j"), env.journal_dir, symlinks=True)

        # the first message's content deleted, as a careless admin or an attacker might
        script = (
            "import plyvel, sys\n"
            "db = plyvel.DB(sys.argv[1])\n"
            "txns = sorted({k[1:9] for k, _ in db.iterator(prefix=b'c')})\n"
            "for k, _ in list(db.iterator(prefix=b'c' + txns[0])): db.delete(k, sync=True)\n"
            "db.close()\n")
        subprocess.run([harness.plyvel_python(), "-c", script, os.path.join(env.journal_dir, "db")], check=True)
        rc, v, err = self.verify(journal=True)
        self.assertEqual(rc, EX_DATAERR, (v, err))
        self.assertIn("message %d: its content is missing and no dispose entry accounts for it" % first["seq"],
                      json.dumps(v))

        # a dispose entry appended before the second message's retain-until date
        restore()
        forge = os.environ.get("MJ_FORGE_DISPOSE")
        self.assertTrue(forge and os.path.exists(forge), "MJ_FORGE_DISPOSE: forge_dispose is not built")
        subprocess.run([forge, env.journal_dir, str(second["seq"])], check=True, stdout=subprocess.PIPE)
        rc, v, err = self.verify(journal=True)
        self.assertEqual(rc, EX_DATAERR, (v, err))
        self.assertIn("disposed of message %d" % second["seq"], json.dumps(v))
        self.assertIn("before its retain-until date", json.dumps(v))


if __name__ == "__main__":
    harness.main()
