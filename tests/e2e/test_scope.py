#!/usr/bin/env python3
"""The capture scope (issue 12), through the real Postfix.

One daemon whose policy captures the department `brokerage` and the address
ceo@bank.example (`capture: [brokerage, Ceo+tag@Bank.Example]`, normalised as member rules):

* In scope: mail whose sender is in brokerage, mail one of whose recipients is the listed
  address (normalised), and mail whose only brokerage address is a Bcc-only envelope
  recipient are each journaled exactly once, the bytes Postfix delivered.
* Out of scope (retail staff to a partner; partner to partner): Postfix delivers the exact
  bytes to every recipient, the journal's message entries are unchanged, the daemon counts
  each one (mailjournal_messages_out_of_scope_total in the metrics file, and `status`) and
  logs exactly one line per message, `QID: out of capture scope, not journaled`, with no
  address of it anywhere in its log.
* `mailjournal policy check` warns on stderr (exit 0, in text and JSON) naming the scope,
  and stays quiet for a policy without `capture`; `policy explain` (offline with --policy,
  and through the daemon; JSON and text) says whether a message would be captured and which
  address and entry put it in scope, or that none did.
* `mailjournal status` shows the scope in force and the count (JSON and text).
* Reloads: one that widens the scope (adds retail; `mailjournal policy reload`) takes effect
  for the next message; one that narrows it (only the address; SIGUSR1) too. Across each, a
  transaction held open (MAIL FROM, RCPT and the headers before the reload, the body after)
  keeps the scope of its MAIL FROM: the one in scope before the narrowing is journaled, the
  one out of scope before the widening is not; neither is tempfailed or lost, both delivered.

Run: python3 tests/e2e/test_scope.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness   # noqa: E402

POLICY = """\
version: 1
options:
  strip_subaddress: true
retention:
  r7: 7y
departments:
  - name: brokerage
    members: ["@brokerage.bank.example"]
    retention: r7
    keys: [keys/e2e.crt]
  - name: retail
    members: ["@retail.bank.example"]
    retention: r7
    keys: [keys/e2e.crt]
  - name: default
    retention: r7
    keys: [keys/e2e.crt]
capture:
{capture}"""
SCOPED = POLICY.format(capture="  - brokerage\n  - Ceo+tag@Bank.Example\n")
WIDE = POLICY.format(capture="  - brokerage\n  - retail\n  - Ceo+tag@Bank.Example\n")
NARROW = POLICY.format(capture="  - ceo@bank.example\n")
ALL = POLICY.format(capture="  all\n")

WARNING = ("%s: warning: capture scope is not all: only mail of departments brokerage; addresses "
           "Ceo+tag@Bank.Example is journaled; all other mail passes unrecorded and cannot be "
           "recovered (mailjournal.yaml(5), CAPTURE SCOPE)\n")
OUT_LINE_RE = r"^.*mailjournald: %s: out of capture scope, not journaled$"


def message(token, mail_from, to):
    return ("From: %s\r\nTo: %s\r\nSubject: scope %s\r\nMessage-ID: <%s@e2e.test>\r\n"
            "Date: Sat, 28 Nov 2026 07:00:00 +0000\r\n\r\nbody of %s\r\n" % (
                mail_from, ", ".join(to), token, token, token)).encode()


class ScopeTest(harness.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.metrics_dir = tempfile.mkdtemp(prefix="mj-e2e-scope-metrics-", dir=os.environ.get("MJ_E2E_TMP") or None)
        cls.addClassCleanup(shutil.rmtree, cls.metrics_dir, True)
        pw = harness.pwd.getpwnam(harness.DAEMON_USER)
        os.chown(cls.metrics_dir, pw.pw_uid, pw.pw_gid)
        cls.env = harness.E2E(policy=SCOPED, daemon_args=["--metrics-dir", cls.metrics_dir,
                                                           "--metrics-interval", "1"])
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)

    # -- helpers
    def send(self, token, mail_from, rcpts, to=None):
        data = message(token, mail_from, to if to is not None else rcpts)
        r = self.env.send(data, mail_from=mail_from, rcpts=rcpts)
        self.assertTrue(r.accepted, "%s: %r\n%s" % (token, r, self.env.diagnostics()))
        return r, data

    def assert_delivered(self, r, data, rcpts):
        d = self.env.delivery_for(r.queue_id)
        self.assertEqual(d.content, data)
        self.assertEqual([x.split()[0] for x in d.envelope["rcpt"]], ["<%s>" % a for a in rcpts])

    def assert_journaled(self, r, data, policy=None):
        self.env.delivery_for(r.queue_id)
        e = self.env.entry_for_qid(r.queue_id)
        self.assert_entry_content(e, data)
        if policy is not None:
            self.assertEqual(e["policy"], policy)
        return e

    def assert_not_journaled(self, r):
        self.assertEqual(self.env.entries_for_qid(r.queue_id), [])
        log = self.env.daemon.log_text()
        lines = [line for line in log.splitlines() if r.queue_id in line]
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], OUT_LINE_RE % re.escape(r.queue_id))

    def out_of_scope_metric(self):
        path = os.path.join(self.metrics_dir, "mailjournald.prom")
        try:
            with open(path, encoding="utf-8") as f:
                m = re.search(r"^mailjournal_messages_out_of_scope_total (\d+)$", f.read(), re.M)
        except FileNotFoundError:
            return None
        return int(m.group(1)) if m else None

    def wait_out_of_scope(self, n):
        harness.wait_until(lambda: self.out_of_scope_metric() == n, 30,
                           "mailjournal_messages_out_of_scope_total %d (have %s)" % (n, self.out_of_scope_metric()))
        self.assertEqual(self.env.tool.status()["daemon"]["messages_out_of_scope"], n)

    def held_open(self, token, mail_from, rcpt, between):
        """One transaction: MAIL FROM, RCPT and the headers, then between(), then the body;
        returns (SendResult-like queue id, data)."""
        data = message(token, mail_from, [rcpt])
        smtp = self.env.connect()
        try:
            smtp.ehlo("client.test.invalid")
            self.assertEqual(smtp.mail(mail_from)[0], 250)
            self.assertEqual(smtp.rcpt(rcpt)[0], 250)
            smtp.putcmd("data")
            self.assertEqual(smtp.getreply()[0], 354)
            half = data.index(b"\r\n\r\n") + 4
            smtp.send(data[:half])
            between()
            smtp.send(data[half:] + b".\r\n")
            code, reply = smtp.getreply()
            self.assertEqual(code, 250, reply)
            m = harness.QUEUED_AS_RE.search(reply)
            self.assertIsNotNone(m, reply)
        finally:
            harness.quit_smtp(smtp)

        class Sent:
            queue_id = m.group(1).decode()
        return Sent(), data

    # -- the test (one daemon: the steps build on each other)
    def test_scope(self):
        env = self.env
        scoped = env.tool.policy_digest()

        # 1. in scope: by sender (department), by a recipient (the listed address, spelt
        # otherwise), by a Bcc-only recipient (department)
        by_sender = self.send("by-sender", "trader@brokerage.bank.example", ["client@partner.example"])
        by_rcpt = self.send("by-rcpt", "client@partner.example",
                            ["a@partner.example", "CEO+board@bank.example"])
        bcc = self.send("by-bcc", "client@partner.example", ["friend@partner.example", "desk@brokerage.bank.example"],
                        to=["friend@partner.example"])
        for r, data in (by_sender, by_rcpt, bcc):
            self.assert_journaled(r, data, scoped)
        d = env.delivery_for(bcc[0].queue_id)
        self.assertNotIn(b"desk@brokerage", d.content)   # only the envelope names it
        before = env.entries()
        self.assertEqual(len(before), 3)

        # 2. out of scope: delivered, not journaled, counted, one line without an address
        out_retail = self.send("out-retail", "alice.out@retail.bank.example", ["client.out@partner.example"])
        out_partner = self.send("out-partner", "x.out@partner.example", ["y.out@partner.example", "z.out@partner.example"])
        for (r, data), rcpts in ((out_retail, ["client.out@partner.example"]),
                                 (out_partner, ["y.out@partner.example", "z.out@partner.example"])):
            self.assert_delivered(r, data, rcpts)
        self.wait_out_of_scope(2)
        for r, _ in (out_retail, out_partner):
            self.assert_not_journaled(r)
        self.assertEqual(env.entries(), before)
        log = env.daemon.log_text()
        self.assertNotIn(".out@", log)
        self.assertNotIn(": tempfail: ", log)
        self.assertIn("capture scope: only mail of departments brokerage; addresses Ceo+tag@Bank.Example "
                      "is journaled (mailjournal.yaml(5))", log)

        # 3. policy check warns, in both formats, exit 0; not for `all` or no `capture`
        p = env.tool.policy_check(env.policy_path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.decode(), WARNING % env.policy_path)
        self.assertRegex(p.stdout.decode(), r"^%s: ok: 3 departments" % re.escape(env.policy_path))
        p = env.tool.policy_check(env.policy_path, "--format", "json")
        self.assertEqual((p.returncode, p.stderr.decode()), (0, WARNING % env.policy_path))
        self.assertEqual(json.loads(p.stdout)["digest"], scoped)
        for name, text in (("all.yaml", ALL), ("absent.yaml", POLICY.split("capture:")[0])):
            other = os.path.join(env.base, name)
            with open(other, "w") as f:
                f.write(text.replace("keys/e2e.crt", env.e2e_cert_path))
            for fmt in ("text", "json"):
                p = env.tool.policy_check(other, "--format", fmt)
                self.assertEqual((p.returncode, p.stderr), (0, b""), name)

        # 4. explain: captured or not, and why; offline and through the daemon agree
        pol = env.policy_path
        rule_line, rule_col = harness.line_col(SCOPED, "\"@brokerage")
        entry_line, entry_col = harness.line_col(SCOPED, "- brokerage\n")
        rule_at = "%s:%d:%d" % (pol, rule_line, rule_col)
        entry_at = "%s:%d:%d" % (pol, entry_line, entry_col + 2)   # the entry after "- "
        for policy in (pol, None):
            x = env.tool.policy_explain("client@partner.example", ["friend@partner.example",
                                                                   "desk@brokerage.bank.example"], policy=policy)
            self.assertEqual(x["capture"], {
                "scope": "departments brokerage; addresses Ceo+tag@Bank.Example", "captured": True,
                "entry": "brokerage", "where": entry_at,
                "reason": "recipient desk@brokerage.bank.example is in department brokerage (rule "
                          "'@brokerage.bank.example' at %s), listed in 'capture' at %s" % (rule_at, entry_at)})
            x = env.tool.policy_explain("x.out@partner.example", ["y.out@partner.example"], policy=policy)
            self.assertEqual((x["capture"]["captured"], x["capture"]["entry"], x["capture"]["where"]), (False, "", ""))
            x = env.tool.policy_explain("", ["ceo@bank.example"], policy=policy)
            self.assertEqual((x["capture"]["captured"], x["capture"]["entry"]), (True, "Ceo+tag@Bank.Example"))
            text = env.tool.policy_explain("alice@retail.bank.example", ["client@partner.example"], policy=policy,
                                           fmt="text")
            self.assertIn("\ncapture:     NO, not journaled: neither its sender nor any recipient is listed in "
                          "'capture' or belongs to a department listed there (its departments: retail)\n", text)
            text = env.tool.policy_explain("trader@brokerage.bank.example", ["client@partner.example"],
                                           policy=policy, fmt="text")
            self.assertIn("\ncapture:     yes: sender trader@brokerage.bank.example is in department brokerage",
                          text)

        # 5. a reload that widens the scope (retail too), with a retail message held open
        # across it: out of scope at its MAIL FROM, so not journaled, and delivered
        def widen():
            env.write_policy(WIDE)
            self.widened = env.reload_policy("tool")
        straddle_widen = self.held_open("straddle-widen", "bob.out@retail.bank.example", "c.out@partner.example",
                                        widen)
        wide_seq, wide = self.widened
        retail_now = self.send("retail-now", "alice@retail.bank.example", ["client@partner.example"])
        self.assert_journaled(retail_now[0], retail_now[1], wide)
        self.assert_delivered(straddle_widen[0], straddle_widen[1], ["c.out@partner.example"])
        self.wait_out_of_scope(3)
        self.assert_not_journaled(straddle_widen[0])
        self.assertGreater(env.entry_for_qid(retail_now[0].queue_id)["seq"], wide_seq)

        # 6. a reload that narrows it (the address only; SIGUSR1), with a brokerage message held
        # open across it: in scope at its MAIL FROM, so journaled under the wider policy
        def narrow():
            env.write_policy(NARROW)
            self.narrowed = env.reload_policy("signal")
        straddle_narrow = self.held_open("straddle-narrow", "trader@brokerage.bank.example", "client@partner.example",
                                         narrow)
        narrow_seq, narrowed = self.narrowed
        e = self.assert_journaled(straddle_narrow[0], straddle_narrow[1], wide)
        self.assertGreater(e["seq"], narrow_seq)   # committed after the narrowing was journaled
        brokerage_now = self.send("brokerage-now", "trader.out@brokerage.bank.example", ["client.out@partner.example"])
        ceo_now = self.send("ceo-now", "ceo@bank.example", ["client@partner.example"])
        self.assert_delivered(brokerage_now[0], brokerage_now[1], ["client.out@partner.example"])
        self.assert_journaled(ceo_now[0], ceo_now[1], narrowed)
        self.wait_out_of_scope(4)
        self.assert_not_journaled(brokerage_now[0])

        # the narrowing is itself journaled: the policy entries prove the scope in force when
        policies = [p for p in env.every_entry() if p["kind"] == "policy"]
        self.assertEqual([(p["digest"], p["reason"]) for p in policies],
                         [(scoped, "start"), (wide, "reload (admin socket)"), (narrowed, "reload (SIGUSR1)")])
        # nothing lost or tempfailed: every message delivered, the journal holds exactly those in
        # scope at their MAIL FROM
        env.wait_delivered(10)
        self.assertEqual(env.sink.count(), 10)
        self.assertEqual(len(env.entries()), 6)
        self.assertNotIn(": tempfail: ", env.daemon.log_text())
        self.assertNotIn(".out@", env.daemon.log_text())
        self.assertNotIn("milter-reject", env.postfix.log())
        status = env.tool.status()["daemon"]
        self.assertEqual((status["tempfails_total"], status["capture"], status["messages_out_of_scope"]),
                         (0, "addresses ceo@bank.example", 4))
        self.assertRegex(env.tool.ok("status").decode(),
                         r"(?m)^capture:\s+addresses ceo@bank\.example; 4 messages out of scope since start$")


if __name__ == "__main__":
    harness.main()
