#!/usr/bin/env python3
"""`mailjournal hold add | release | list` and `mailjournal purge` against a running mailjournald
(issue 7; mailjournal-hold(8), mailjournal-purge(8)).

* hold list shows the policy's hold and a hold placed with the tool, each with its source,
  entry, placed_by, time (tool holds) and normalised scope, in JSON and in text.
* hold add prints the hold entry's seq; the journal's hold and release entries (list --all)
  carry the case, the reason, the scope and the caller's uid and user name (root here).
* Refusals, with their message and exit status: the same case twice, a case the policy holds,
  a scope that names nothing, an unknown department, a bad address or time, until before
  since, releasing a policy hold (edit the policy), releasing a case that is not held; none of
  them appends a hold or release entry.
* purge --dry-run and purge: nothing has expired (the shortest period is a day), so the
  report is all zeros, in JSON and in text; the messages are still there and verify passes.
* The purge report in text with real disposals, the daemon's clock moved past the retention
  by the fake_clock shim of test_retention.py (MJ_FAKE_CLOCK_SO): held by a tool hold and a
  policy hold, --limit, the message and dispose entry ranges.

Retention with an injected clock (real disposals, holds of each scope kind keeping messages)
is tested by the unit tests; this test covers the commands and their output.

Run: python3 tests/e2e/test_holdcli.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness          # noqa: E402
import test_retention   # noqa: E402  (its fake clock)

POLICY_CASE = "SEC-2026-014"
POLICY = """\
version: 1
retention:
  retail_5y: 5y
  brokerage_20y: 20y
  general_7y: 7y
departments:
  - name: retail
    members: ["@retail.bank.example"]
    retention: retail_5y
    keys: [keys/e2e.crt]
  - name: brokerage
    members: ["@brokerage.bank.example"]
    retention: brokerage_20y
    keys: [keys/e2e.crt]
  - name: default
    retention: general_7y
    keys: [keys/e2e.crt]
holds:
  - case: %s
    reason: SEC inquiry 2026-014
    placed_by: legal.wang
    scope:
      departments: [brokerage]
      since: 2026-01-01
""" % POLICY_CASE

# What hold list says of the policy's hold (the policy is entry 1: loaded at start, no reload).
POLICY_HOLD = {"case": POLICY_CASE, "reason": "SEC inquiry 2026-014", "placed_by": "legal.wang",
               "source": "policy", "seq": 1,
               "scope": {"departments": ["brokerage"], "since": "2026-01-01T00:00:00.000000Z"}}
POLICY_HOLD_TEXT = ("case:        SEC-2026-014\n"
                    "source:      policy (entry 1)\n"
                    "placed_by:   legal.wang\n"
                    "reason:      SEC inquiry 2026-014\n"
                    "scope:       departments=brokerage since=2026-01-01T00:00:00.000000Z\n")

ROOT = {"uid": 0, "user": "root"}
ZERO_REPORT = {"expired": 0, "disposed": 0, "held": 0, "not_permitted": 0, "held_by": {},
               "messages": [], "entries": []}


def msg(token):
    return ("Subject: %s\r\nMessage-ID: <%s@e2e.test>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\n"
            "body of %s\r\n" % (token, token, token)).encode()


class HoldCliTest(harness.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = harness.E2E(policy=POLICY)
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        cls.tool = cls.env.tool
        cls.env.send_ok(msg("retail"), mail_from="alice@retail.bank.example",
                        rcpts=["client@partner.example"])
        cls.env.send_ok(msg("brokerage"), mail_from="jane@brokerage.bank.example",
                        rcpts=["client@partner.example"])
        cls.messages = cls.env.entries()
        assert [m["departments"] for m in cls.messages] == [["retail"], ["brokerage"]], cls.messages

    # -- helpers
    def holds(self):
        out = self.tool.ok("hold", "list", "--format", "json")
        self.assertEqual(out.count(b"\n"), 1, out)   # one object on one line
        listed = json.loads(out)
        self.assertEqual(set(listed), {"holds"}, listed)
        return listed["holds"]

    def hold_entries(self):
        """The journal's hold and release entries, oldest first."""
        return [e for e in self.env.every_entry() if e["kind"] in ("hold", "release")]

    def add(self, case, *scope, reason="e2e"):
        """hold add with JSON output; returns the hold entry's seq. The hold is released when
        the test ends (unless the test released it)."""
        out = self.tool.ok("hold", "add", "--case", case, "--reason", reason, *scope, "--format", "json")
        placed = json.loads(out)
        self.assertEqual(set(placed), {"case", "seq"}, placed)
        self.assertEqual(placed["case"], case)
        self.addCleanup(self.release_if_held, case)
        return placed["seq"]

    def release_if_held(self, case):
        if any(h["case"] == case and h["source"] == "journal" for h in self.holds()):
            self.tool.ok("hold", "release", "--case", case, "--reason", "test cleanup")

    def assert_refused(self, args, code, message):
        """The command fails with exit status code and exactly one stderr line, message."""
        before = self.hold_entries()
        p = self.tool.run(*args)
        self.assertEqual((p.returncode, p.stderr.decode(), p.stdout), (code, "mailjournal: %s\n" % message, b""),
                         args)
        self.assertEqual(self.hold_entries(), before, "a refused %r appended a hold or release entry" % (args,))

    # -- hold add / list / release
    def test_list_shows_the_policy_hold_and_a_tool_hold(self):
        retail, brokerage = self.messages
        seq = self.add("INQ-7", "--department", "retail", "--department", "brokerage",
                       "--address", "Alice@Retail.Bank.Example", "--since", "2026-11-01",
                       "--until", "2027-01-01T08:00:00+08:00", "--seq", str(retail["seq"]),
                       "--seq", "%d-%d" % (brokerage["seq"], brokerage["seq"] + 5), reason="FINRA request 7")
        entry = self.tool.show(seq)
        scope = {"departments": ["retail", "brokerage"], "addresses": ["alice@retail.bank.example"],
                 "since": "2026-11-01T00:00:00.000000Z", "until": "2027-01-01T00:00:00.000000Z",
                 "seqs": [[retail["seq"], retail["seq"]], [brokerage["seq"], brokerage["seq"] + 5]]}
        self.assertEqual(entry, {"seq": seq, "kind": "hold", "time": entry["time"], "case": "INQ-7",
                                 "reason": "FINRA request 7", "by": ROOT, "scope": scope})
        tool_hold = {"case": "INQ-7", "reason": "FINRA request 7", "placed_by": "root", "source": "journal",
                     "seq": seq, "time": entry["time"], "scope": scope}
        self.assertEqual(self.holds(), [POLICY_HOLD, tool_hold])

        text = self.tool.ok("hold", "list").decode()
        self.assertEqual(text, POLICY_HOLD_TEXT + "\n" + (
            "case:        INQ-7\n"
            "source:      journal (entry %d)\n"
            "placed_by:   root\n"
            "time:        %s\n"
            "reason:      FINRA request 7\n"
            "scope:       departments=retail,brokerage addresses=alice@retail.bank.example "
            "since=2026-11-01T00:00:00.000000Z until=2027-01-01T00:00:00.000000Z seqs=%d,%d-%d\n" % (
                seq, entry["time"], retail["seq"], brokerage["seq"], brokerage["seq"] + 5)))

    def test_release_removes_the_hold_and_both_are_journaled_with_the_caller(self):
        out = self.tool.ok("hold", "add", "--case", "INQ-8", "--reason", "preserve alice's mail",
                           "--address", "alice@retail.bank.example")
        self.addCleanup(self.release_if_held, "INQ-8")
        placed = self.hold_entries()[-1]   # written before the answer
        self.assertEqual(out.decode(), "hold placed: case=INQ-8 seq=%d\n" % placed["seq"])
        self.assertIn("INQ-8", [h["case"] for h in self.holds()])

        out = self.tool.ok("hold", "release", "--case", "INQ-8", "--reason", "inquiry closed")
        released = self.hold_entries()[-1]
        self.assertEqual(out.decode(), "hold released: case=INQ-8 seq=%d\n" % released["seq"])
        self.assertGreater(released["seq"], placed["seq"])
        self.assertEqual(placed, {"seq": placed["seq"], "kind": "hold", "time": placed["time"], "case": "INQ-8",
                                  "reason": "preserve alice's mail", "by": ROOT,
                                  "scope": {"addresses": ["alice@retail.bank.example"]}})
        self.assertEqual(released, {"seq": released["seq"], "kind": "release", "time": released["time"],
                                    "case": "INQ-8", "reason": "inquiry closed", "by": ROOT})
        self.assertGreaterEqual(harness.parse_iso(released["time"]), harness.parse_iso(placed["time"]))
        self.assertEqual(self.holds(), [POLICY_HOLD])
        self.assertEqual(self.tool.ok("hold", "list").decode(), POLICY_HOLD_TEXT)

        # released: it can be placed again under the same case id, and released again
        again = self.add("INQ-8", "--department", "retail")
        self.assertGreater(again, released["seq"])
        self.assertEqual([h["case"] for h in self.holds()], [POLICY_CASE, "INQ-8"])

    def test_same_case_twice_is_refused(self):
        seq = self.add("INQ-9", "--department", "retail")
        self.assert_refused(["hold", "add", "--case", "INQ-9", "--reason", "again", "--department", "brokerage"],
                            64, "hold INQ-9: a hold of this case is in force already (entry %d)" % seq)
        self.assert_refused(["hold", "add", "--case", POLICY_CASE, "--reason", "again", "--department", "retail"],
                            64, "hold %s: a hold of this case is in force already (in the policy file)" % POLICY_CASE)
        self.assertEqual([h["case"] for h in self.holds()], [POLICY_CASE, "INQ-9"])

    def test_releasing_a_policy_hold_says_to_edit_the_policy(self):
        self.assert_refused(["hold", "release", "--case", POLICY_CASE, "--reason", "closed"], 64,
                            "hold %s is in the policy file: remove it there and reload" % POLICY_CASE)
        self.assertEqual(self.holds(), [POLICY_HOLD])

    def test_releasing_a_case_not_held_is_refused(self):
        self.assert_refused(["hold", "release", "--case", "NO-SUCH", "--reason", "closed"], 66,
                            "hold NO-SUCH: no hold of this case is in force")

    def test_bad_scopes_are_refused(self):
        base = ["hold", "add", "--case", "BAD-1", "--reason", "e2e"]
        self.assert_refused(base, 64, "hold BAD-1: the scope names nothing "
                                      "(give --department, --address, --since, --until or --seq)")
        self.assert_refused(base + ["--department", "treasury"], 64,
                            "department 'treasury': not in the policy in force")
        self.assert_refused(base + ["--address", "retail.bank.example"], 64,
                            "address 'retail.bank.example': expected local@domain")
        self.assert_refused(base + ["--since", "2026-12-01", "--until", "2026-11-01"], 64,
                            "hold BAD-1: --until must be later than --since")
        p = self.tool.run(*(base + ["--since", "yesterday"]))
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertRegex(p.stderr.decode(), r"^mailjournal: .*yesterday.*\n$")
        # the tool checks --seq itself, before it asks the daemon
        p = self.tool.run(*(base + ["--seq", "9-3"]))
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("'9-3': expected a sequence number N or a range N-M", p.stderr.decode())
        self.assertEqual(self.holds(), [POLICY_HOLD])

    # -- purge
    def test_purge_dry_run_and_purge_dispose_of_nothing_unexpired(self):
        before = self.env.entries()
        report = json.loads(self.tool.ok("purge", "--dry-run", "--format", "json"))
        self.assertEqual(report, dict(ZERO_REPORT, dry_run=True))
        self.assertEqual(self.tool.ok("purge", "--dry-run").decode(),
                         "dry run:       nothing was disposed of\n"
                         "expired:       0\n"
                         "would dispose: 0\n"
                         "held:          0\n"
                         "not permitted: 0\n"
                         "messages:      none\n")
        report = json.loads(self.tool.ok("purge", "--limit", "5", "--format", "json"))
        self.assertEqual(report, dict(ZERO_REPORT, dry_run=False))
        self.assertEqual(self.tool.ok("purge").decode(),
                         "expired:       0\n"
                         "disposed:      0\n"
                         "held:          0\n"
                         "not permitted: 0\n"
                         "messages:      none\n"
                         "entries:       none\n")
        self.assertEqual(self.env.entries(), before)
        self.assertEqual([e for e in self.env.every_entry() if e["kind"] == "dispose"], [])
        for m in before:
            self.assert_entry_content(m, self.tool.export(m["seq"]))
        self.tool.ok("verify")

    def test_purge_is_recorded_in_the_audit_trail(self):
        self.tool.ok("purge", "--dry-run", "--limit", "3")
        last = [e for e in self.env.every_entry() if e["kind"] == "access" and e["operation"] == "purge"][-1]
        self.assertEqual((last["by"], last["allowed"], last["outcome"], last["arguments"]),
                         (ROOT, True, "", {"dry_run": True, "limit": 3}))


EXPIRING_POLICY = test_retention.ONE_DAY_POLICY + """\
holds:
  - case: POL-1
    reason: regulator's inquiry
    placed_by: legal.wang
    scope:
      addresses: [held@outside.example]
"""


class PurgeReportTest(harness.E2ETestCase):
    """The text report of purges that dispose of mail and keep some of it."""

    def test_text_report_of_disposals_holds_and_limit(self):
        clock = test_retention.Clock()
        self.addCleanup(clock.close)
        env = harness.E2E(policy=EXPIRING_POLICY,
                          daemon_env={"LD_PRELOAD": test_retention.shim(), "MJ_FAKE_CLOCK_FILE": clock.path})
        env.__enter__()
        self.addCleanup(env.close)
        self.env = env
        tool = env.tool
        for tag, rcpt in (("m1", "a@outside.example"), ("m2", "b@outside.example"),
                          ("m3", "held@outside.example"), ("m4", "c@outside.example")):
            env.send_ok(msg(tag), mail_from="x@outside.example", rcpts=[rcpt])
        m1, m2, m3, m4 = [e["seq"] for e in env.entries()]
        tool.ok("hold", "add", "--case", "CASE-T", "--reason", "e2e", "--seq", str(m2))
        clock.set(test_retention.DAY + 60)   # every message has expired

        self.assertEqual(tool.ok("purge", "--dry-run").decode(),
                         "dry run:       nothing was disposed of\n"
                         "expired:       4\n"
                         "would dispose: 2\n"
                         "held:          2\n"
                         "held by:       CASE-T (1)\n"
                         "held by:       POL-1 (1)\n"
                         "not permitted: 0\n"
                         "messages:      %d, %d\n" % (m1, m4))
        # the oldest retain-until date first
        report = json.loads(tool.ok("purge", "--limit", "1", "--format", "json"))
        (first,) = [e["seq"] for e in env.every_entry() if e["kind"] == "dispose"]
        self.assertEqual(report, {"dry_run": False, "expired": 1, "disposed": 1, "held": 0, "not_permitted": 0,
                                  "held_by": {}, "messages": [[m1, m1]], "entries": [[first, first]]})
        out = tool.ok("purge").decode()
        (second,) = [e["seq"] for e in env.every_entry() if e["kind"] == "dispose" and e["seq"] != first]
        self.assertEqual(out, "expired:       3\n"
                              "disposed:      1\n"
                              "held:          2\n"
                              "held by:       CASE-T (1)\n"
                              "held by:       POL-1 (1)\n"
                              "not permitted: 0\n"
                              "messages:      %d\n"
                              "entries:       %d\n" % (m4, second))
        stored = [seq for seq in (m1, m2, m3, m4) if tool.run("export", "--sealed", str(seq)).returncode == 0]
        self.assertEqual(stored, [m2, m3])
        tool.ok("verify")


if __name__ == "__main__":
    harness.main()
