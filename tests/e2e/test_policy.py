#!/usr/bin/env python3
"""The YAML policy end to end (issue 3), through the real Postfix.

* Classification: a bank policy (retail 5y by domain and subdomain wildcard, brokerage 20y by
  domain + an include list of addresses + a glob, insurance 10y, default 7y, sub-address tags
  stripped).  Mail between departments gets the merged decision: the union of the departments,
  the longest retention, retain_until = commit time + period (calendar arithmetic), and the
  digest of the policy in force; `policy explain` (with --policy FILE and through the daemon,
  JSON and text) says the same for the same addresses.
* Reload under continuous load: 1,100 messages over several concurrent SMTP sessions while the
  policy is reloaded (SIGUSR1 and `mailjournal policy reload`, alternating two policies that
  classify a marker address differently): every message accepted, delivered and journaled
  exactly once, classified by the policy in force at its MAIL FROM, policy entries in reload
  order, and no end-of-data delay from the reloads.
* A session keeps the policy of its MAIL FROM across a reload.
* Broken reloads (YAML syntax, semantic errors, a bad include list, a missing file) are refused
  with FILE:LINE:COL on the tool's stderr and in the daemon log; the old policy stays in force
  and mail keeps flowing; a fixed file then reloads.
* A bad policy at start: exit 78, FILE:LINE:COL on stderr, nothing journaled.
* Sealing is mandatory: a department without keys (and no escrow key) is refused at start and
  at reload.
* `mailjournal policy check` on contrib/policy.yaml (the shipped example) passes.

Every department lists the harness's e2e certificate (keys/e2e.crt), so all mail is sealed.

Run: python3 tests/e2e/test_policy.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import json
import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness   # noqa: E402

CONTRIB_POLICY = os.path.join(harness.REPO, "contrib", "policy.yaml")

BROKERAGE_LIST = (
    "# brokerage staff, exported from the HR system\n"
    "trader.jane@bank.example\n"
    "\n"
    "  Ops.Lead@Bank.Example\r\n"          # indented, mixed case, CRLF: as HR exports come
    "analyst+team@bank.example\n"          # listed with a tag: the tag is stripped here too
)

# {MARKER} is where the marker address goes: in insurance (policy A) or brokerage (policy B)
BANK_POLICY = """\
# e2e: a bank with retail banking, securities brokerage and insurance
version: 1
options:
  strip_subaddress: true
retention:
  retail_5y: 5y
  general_7y: 7y
  insurance_10y: 10y
  brokerage_20y: 20y
departments:
  - name: retail
    members:
      - "@retail.bank.example"
      - "@*.branches.bank.example"
    retention: retail_5y
    keys: [keys/e2e.crt]
  - name: brokerage
    members:
      - "@brokerage.bank.example"
      - include: lists/brokerage-staff.txt
      - "*-desk@bank.example"{brokerage_marker}
    retention: brokerage_20y
    keys: [keys/e2e.crt]
  - name: insurance
    members:
      - "@insurance.bank.example"{insurance_marker}
    retention: insurance_10y
    keys: [keys/e2e.crt]
  - name: default
    retention: general_7y
    keys: [keys/e2e.crt]
"""
MARKER = "marker@bank.example"
MARKER_LINE = '\n      - "%s"' % MARKER
POLICY_A = BANK_POLICY.format(brokerage_marker="", insurance_marker=MARKER_LINE)   # marker: insurance
POLICY_B = BANK_POLICY.format(brokerage_marker=MARKER_LINE, insurance_marker="")   # marker: brokerage
POLICY_FILES = {"lists/brokerage-staff.txt": BROKERAGE_LIST}
YEARS = {"retail_5y": 5, "general_7y": 7, "insurance_10y": 10, "brokerage_20y": 20}
# how each policy classifies mail from the marker to an outside address
MARKER_DECISION = {"A": (["insurance"], "insurance_10y"),
                   "B": (["brokerage"], "brokerage_20y")}


class Case:
    def __init__(self, name, mail_from, rcpts, departments, retention, to=None):
        self.name = name
        self.mail_from = mail_from
        self.rcpts = rcpts
        self.departments = departments
        self.retention = retention
        self.to = to if to is not None else rcpts   # the visible To: header (Bcc: the rest)

    def data(self):
        return ("From: %s\r\nTo: %s\r\nSubject: policy case %s\r\nMessage-ID: <case-%s@e2e.test>\r\n"
                "Date: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nCase %s.\r\n" % (
                    self.mail_from or "MAILER-DAEMON@partner.example", ", ".join(self.to), self.name,
                    self.name, self.name)).encode()


CASES = [
    # the sender alone decides (brokerage by the include list); the outside recipient does not
    # add default to the message
    Case("sender-only", "trader.jane@bank.example", ["client@partner.example"], ["brokerage"],
         "brokerage_20y"),
    # a recipient alone decides
    Case("recipient-only", "customer@partner.example", ["claims@insurance.bank.example"],
         ["insurance"], "insurance_10y"),
    # between three departments: union, the longest retention wins
    Case("three-departments", "alice@retail.bank.example", ["bob@insurance.bank.example", "fx-desk@bank.example"],
         ["brokerage", "insurance", "retail"], "brokerage_20y"),
    Case("retail-to-insurance", "alice@retail.bank.example", ["bob@insurance.bank.example"],
         ["insurance", "retail"], "insurance_10y"),
    # a department alone: its own (short) retention, even the shortest class
    Case("retail-internal", "teller@kowloon.branches.bank.example", ["alice@retail.bank.example"], ["retail"],
         "retail_5y"),
    # a Bcc-only envelope recipient (a desk glob) decides the department
    Case("bcc-only", "alice@retail.bank.example", ["bob@retail.bank.example", "equities-desk@bank.example"],
         ["brokerage", "retail"], "brokerage_20y", to=["bob@retail.bank.example"]),
    # sub-address tags are stripped on both sides
    Case("sub-address", "alice+newsletter@retail.bank.example", ["trader.jane+deals@bank.example"],
         ["brokerage", "retail"], "brokerage_20y"),
    # upper case: domains and (by default) local parts compare without case
    Case("upper-case", "ALICE@RETAIL.BANK.EXAMPLE", ["OPS.LEAD@BANK.EXAMPLE"], ["brokerage", "retail"],
         "brokerage_20y"),
    # nothing matches: default; "@*.branches.bank.example" covers subdomains, not the domain itself
    Case("unmatched", "someone@partner.example", ["x@branches.bank.example", "y@bank.example"], ["default"],
         "general_7y"),
    # the null sender matches no rule; the recipient decides
    Case("null-sender", "", ["claims@insurance.bank.example"], ["insurance"], "insurance_10y"),
]


def msg(token):
    return ("Subject: %s\r\nMessage-ID: <%s@e2e.test>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\n"
            "body of %s\r\n" % (token, token, token)).encode()


def read(path):
    with open(path, "rb") as f:
        return f.read()


class PolicyTestBase(harness.E2ETestCase):
    def make_env(self, policy=POLICY_A, files=POLICY_FILES, **kw):
        env = harness.E2E(policy=policy, policy_files=files, **kw)
        env.__enter__()
        self.addCleanup(env.close)
        self.env = env
        return env

    def assert_decision(self, entry, departments, retention):
        self.assertEqual(entry["departments"], departments, entry)
        self.assertEqual(entry["retention"], retention, entry)
        self.assertRegex(entry["retain_until"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        self.assertEqual(harness.parse_iso(entry["retain_until"]),
                         harness.retain_until_for(entry["time"], YEARS[retention]), entry)


# ------------------------------------------------------------------------------------------------
class ClassificationTest(PolicyTestBase):
    """One daemon with the bank policy; every case sent once, checked several ways."""

    @classmethod
    def setUpClass(cls):
        cls.env = harness.E2E(policy=POLICY_A, policy_files=POLICY_FILES)
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        cls.results = {}
        for c in CASES:
            cls.results[c.name] = cls.env.send(c.data(), mail_from=c.mail_from, rcpts=c.rcpts)
        cls.digest = cls.env.tool.policy_digest()

    def entry(self, case):
        r = self.results[case.name]
        self.assertTrue(r.accepted, "%s: %r" % (case.name, r))
        self.env.delivery_for(r.queue_id)
        return self.env.entry_for_qid(r.queue_id)

    def test_policy_entry_at_start(self):
        every = self.env.every_entry()
        p = every[0]
        self.assertEqual((p["seq"], p["kind"], p["reason"], p["digest"]), (1, "policy", "start", self.digest))
        include = os.path.join(self.env.policy_dir, "lists", "brokerage-staff.txt")
        # files in the order first referenced: the key of retail comes before brokerage's list
        self.assertEqual(p["files"], [
            {"path": self.env.policy_path, "size": len(POLICY_A), "sha256": harness.sha256(POLICY_A.encode())},
            harness.file_record(self.env.e2e_cert_path),
            {"path": include, "size": len(BROKERAGE_LIST), "sha256": harness.sha256(BROKERAGE_LIST.encode())}])
        # then a key entry for each department the key is given to, in the policy's order
        recorded = [e for e in every if e["kind"] != "access"]   # the audit trail interleaves
        self.assertEqual(harness.kinds(every), "P" + "K" * 4 + "M" * (len(recorded) - 5))
        self.assertEqual([(k["seq"], k["action"], k["department"], k["escrow"], k["fingerprint"], k["file"],
                           k["policy"]) for k in every[1:5]],
                         [(i + 2, "added", d, False, harness.e2e_keys().fingerprint, self.env.e2e_cert_path,
                           self.digest) for i, d in enumerate(["retail", "brokerage", "insurance", "default"])])
        # the digest the daemon uses is the one `policy check` computes for the same file
        check = self.env.tool.policy_check(self.env.policy_path, "--format", "json")
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertEqual(json.loads(check.stdout), {"file": self.env.policy_path, "ok": True, "errors": [],
                                                    "digest": self.digest})
        self.assertIn("policy %s loaded (start): seq=1 digest=%s" % (self.env.policy_path, self.digest),
                      self.env.daemon.log_text())

    def test_policy_show(self):
        shown = self.env.tool.policy_show()
        include = os.path.join(self.env.policy_dir, "lists", "brokerage-staff.txt")
        cert = harness.file_record(self.env.e2e_cert_path, text=True)
        fingerprint = harness.e2e_keys().fingerprint
        departments = ["retail", "brokerage", "insurance", "default"]
        self.assertEqual(shown, {"seq": 1, "digest": self.digest, "keys": [
            {"department": d, "escrow": False, "file": self.env.e2e_cert_path, "fingerprint": fingerprint}
            for d in departments], "files": [
            {"path": self.env.policy_path, "size": len(POLICY_A), "text": POLICY_A},
            cert,
            {"path": include, "size": len(BROKERAGE_LIST), "text": BROKERAGE_LIST}]})
        text = self.env.tool.ok("policy", "show").decode("utf-8")
        self.assertTrue(text.startswith("seq:         1\ndigest:      %s\n" % self.digest + "".join(
            "key:         department=%s %s %s\n" % (d, fingerprint, self.env.e2e_cert_path) for d in departments)),
            text[:1000])
        self.assertIn("\n==> %s <==\n%s" % (self.env.policy_path, POLICY_A), text)
        self.assertIn("\n==> %s <==\n%s" % (self.env.e2e_cert_path, cert["text"]), text)
        self.assertIn("\n==> %s <==\n%s" % (include, BROKERAGE_LIST), text)

    def test_merged_decisions(self):
        for c in CASES:
            with self.subTest(case=c.name):
                e = self.entry(c)
                self.assertEqual(e["mail_from"], c.mail_from)
                self.assertEqual(e["rcpt"], c.rcpts)
                self.assert_decision(e, c.departments, c.retention)
                self.assertEqual(e["policy"], self.digest)
                self.assert_sealed_to_e2e(e)   # every department has the one e2e key

    def test_bcc_only_recipient_decides(self):
        c = next(c for c in CASES if c.name == "bcc-only")
        e = self.entry(c)
        d = self.env.delivery_for(self.results[c.name].queue_id)
        self.assertNotIn(b"equities-desk", d.content)                # not in any header
        self.assertNotIn(b"equities-desk", self.env.tool.export(e["seq"]))
        self.assertIn("<equities-desk@bank.example>", [x.split()[0] for x in d.envelope["rcpt"]])
        self.assertEqual(e["rcpt"][-1], "equities-desk@bank.example")
        self.assertIn("brokerage", e["departments"])

    def test_show_text_has_the_decision(self):
        e = self.entry(CASES[0])
        out = self.env.tool.ok("show", str(e["seq"])).decode("utf-8")
        self.assertIn("departments: brokerage\n", out)
        self.assertIn("retention:   brokerage_20y, retain until %s\n" % e["retain_until"], out)
        self.assertIn("policy:      %s\n" % self.digest, out)

    def test_explain_agrees_with_the_daemon(self):
        """explain with --policy FILE and through the daemon, for the recorded time, gives the
        decision the daemon recorded."""
        for c in CASES:
            with self.subTest(case=c.name):
                e = self.entry(c)
                offline = self.env.tool.policy_explain(c.mail_from, c.rcpts, policy=self.env.policy_path, time=e["time"])
                online = self.env.tool.policy_explain(c.mail_from, c.rcpts, time=e["time"])
                for x in (offline, online):
                    self.assertEqual((x["departments"], x["retention"], x["retain_until"], x["policy"], x["time"]),
                                     (e["departments"], e["retention"], e["retain_until"], e["policy"], e["time"]))
                    self.assertEqual(x["from"]["address"], c.mail_from)
                    self.assertEqual([m["address"] for m in x["rcpt"]], c.rcpts)
                    self.assertEqual(x["holds"], [])
                    self.assertEqual(x["keys"], [self.env.e2e_cert_path])
                    self.assertEqual(x["key_fingerprints"], [harness.e2e_keys().fingerprint])
                self.assertEqual(online["policy_seq"], 1)
                self.assertNotIn("policy_seq", offline)
                self.assertEqual({k: v for k, v in online.items() if k != "policy_seq"}, offline)
                # text: the same decision
                for args in (["--policy", self.env.policy_path], []):
                    cmd = ["policy", "explain"] + args + ["--from", c.mail_from, "--time", e["time"]]
                    for r in c.rcpts:
                        cmd += ["--rcpt", r]
                    text = (self.env.tool.ok(*cmd) if args == [] else
                            subprocess.run([self.env.tool.binary] + cmd, stdout=subprocess.PIPE, check=True).stdout)
                    text = text.decode("utf-8")
                    self.assertIn("\ndepartments: %s\n" % ", ".join(e["departments"]), text)
                    self.assertIn("\nretention:   %s, retain until %s\n" % (e["retention"], e["retain_until"]), text)
                    self.assertIn("policy:      %s%s\n" % (self.digest, "" if args else " (entry 1)"), text)
                    self.assertIn("\ntime:        %s\n" % e["time"], text)
                    self.assertIn("\nkey:         %s (fingerprint %s)\n" % (
                        self.env.e2e_cert_path, harness.e2e_keys().fingerprint), text)

    def test_explain_names_the_matching_rules(self):
        x = self.env.tool.policy_explain(
            "ALICE+news@Retail.Bank.Example",
            ["trader.jane+deals@bank.example", "OPS.LEAD@BANK.EXAMPLE", "analyst@bank.example", "fx-desk@bank.example",
             "teller@kowloon.branches.bank.example", "someone@partner.example"],
            policy=self.env.policy_path)
        pol, inc = self.env.policy_path, os.path.join(self.env.policy_dir, "lists", "brokerage-staff.txt")

        def where(path, text, needle):
            return "%s:%d:%d" % ((path,) + harness.line_col(text, needle))
        self.assertEqual((x["from"]["normalised"], x["from"]["departments"], x["from"]["rule"], x["from"]["where"]),
                         ("alice@retail.bank.example", ["retail"], "@retail.bank.example",
                          where(pol, POLICY_A, "\"@retail.bank.example\"")))
        expected = [
            ("trader.jane@bank.example", ["brokerage"], "trader.jane@bank.example", where(inc, BROKERAGE_LIST, "trader.jane")),
            ("ops.lead@bank.example", ["brokerage"], "Ops.Lead@Bank.Example", where(inc, BROKERAGE_LIST, "Ops.Lead")),
            ("analyst@bank.example", ["brokerage"], "analyst+team@bank.example", where(inc, BROKERAGE_LIST, "analyst")),
            ("fx-desk@bank.example", ["brokerage"], "*-desk@bank.example", where(pol, POLICY_A, "\"*-desk")),
            ("teller@kowloon.branches.bank.example", ["retail"], "@*.branches.bank.example",
             where(pol, POLICY_A, "\"@*.branches")),
            ("someone@partner.example", ["default"], "default", ""),
        ]
        self.assertEqual([(m["normalised"], m["departments"], m["rule"], m["where"]) for m in x["rcpt"]], expected)
        self.assertEqual((x["departments"], x["retention"]), (["brokerage", "retail"], "brokerage_20y"))
        text = self.env.tool.ok("policy", "explain", "--from", "", "--rcpt", "trader.jane+deals@bank.example").decode()
        self.assertIn("\nfrom:        <> -> default (no rule matched)\n", text)
        self.assertIn("\nrcpt:        trader.jane+deals@bank.example -> brokerage (rule \"trader.jane@bank.example\" at %s)\n"
                      % expected[0][3], text)

    def test_explain_calendar_arithmetic(self):
        # 29 February + 5 years is 1 March (never shorter), + 20 years is 29 February again;
        # the longest retention is compared by date
        pol = self.env.policy_path
        leap = "2024-02-29T10:00:00Z"
        for rcpts, retention, until in (
                (["alice@retail.bank.example"], "retail_5y", "2029-03-01T10:00:00.000000Z"),
                (["x@partner.example"], "retail_5y", "2029-03-01T10:00:00.000000Z"),
                (["claims@insurance.bank.example"], "insurance_10y", "2034-03-01T10:00:00.000000Z"),
                (["fx-desk@bank.example", "claims@insurance.bank.example"], "brokerage_20y", "2044-02-29T10:00:00.000000Z")):
            with self.subTest(rcpts=rcpts):
                for policy in (pol, None):
                    x = self.env.tool.policy_explain("teller@kowloon.branches.bank.example", rcpts, policy=policy, time=leap)
                    self.assertEqual((x["retention"], x["retain_until"], x["time"]),
                                     (retention, until, "2024-02-29T10:00:00.000000Z"))
        # a time zone in --time is honoured
        x = self.env.tool.policy_explain("a@retail.bank.example", ["b@retail.bank.example"], policy=pol,
                                         time="2026-03-01T02:30:00+08:00")
        self.assertEqual((x["time"], x["retain_until"]), ("2026-02-28T18:30:00.000000Z", "2031-02-28T18:30:00.000000Z"))

    def test_explain_usage_errors(self):
        for args in ((["--from", "a@b.example"]),   # --rcpt is required
                     (["--from", "a@b.example", "--rcpt", "c@d.example", "--time", "next tuesday"])):
            with self.subTest(args=args):
                p = self.env.tool.run("policy", "explain", *args)
                self.assertEqual(p.returncode, 64, p.stderr)
        p = subprocess.run([self.env.tool.binary, "policy", "explain", "--policy", os.path.join(self.env.base, "nope.yaml"),
                            "--from", "a@b.example", "--rcpt", "c@d.example"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(b"nope.yaml: cannot read policy: ", p.stderr)


# ------------------------------------------------------------------------------------------------
class LoadRecord:
    __slots__ = ("token", "thread", "ms", "mr", "eod0", "eod1", "code", "reply", "qid", "stage")

    def __init__(self, token, thread):
        self.token, self.thread = token, thread
        self.ms = self.mr = self.eod0 = self.eod1 = None
        self.code, self.reply, self.qid, self.stage = None, b"", None, "connect"

    @property
    def latency(self):
        return self.eod1 - self.eod0


class ReloadUnderLoadTest(PolicyTestBase):
    """1,400 messages over 6 concurrent SMTP sessions: the first 300 without reloads (the
    latency baseline), then 8 reloads (SIGUSR1 and the tool alternately) between policy A and
    policy B while the rest flows.  Across each reload the driver also holds one transaction
    open (MAIL FROM, RCPT and half the body before the reload, the rest after it)."""

    SESSIONS = 6
    TOTAL = 1400
    BASELINE = 300               # messages before the first reload
    RELOADS = 8
    PER_CONNECTION = 60          # then QUIT and reconnect
    MAX_RELOAD_LATENCY = 2.0     # seconds, end of data -> 250, for messages around a reload
    NEAR = (0.02, 0.1)           # a message is "during a reload" if its end of data is this close

    def transaction(self, smtp, rec, rcpt, between=None):
        """One SMTP transaction, timing MAIL FROM and the end of data (after the 354); with
        between, half the message is sent, between() runs, then the rest."""
        rec.ms = time.monotonic()
        code, reply = smtp.mail(MARKER)
        rec.mr = time.monotonic()
        rec.stage, rec.code, rec.reply = "mail", code, reply
        if code != 250:
            smtp.rset()
            return
        code, reply = smtp.rcpt(rcpt)
        rec.stage, rec.code, rec.reply = "rcpt", code, reply
        if code != 250:
            smtp.rset()
            return
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        rec.stage, rec.code, rec.reply = "data", code, reply
        if code != 354:
            smtp.rset()
            return
        data = msg(rec.token) + b".\r\n"
        if between is not None:
            half = data.index(b"\r\n\r\n") + 4
            smtp.send(data[:half])
            between()
            data = data[half:]
        rec.eod0 = time.monotonic()
        smtp.send(data)
        code, reply = smtp.getreply()
        rec.eod1 = time.monotonic()
        rec.stage, rec.code, rec.reply = "eod", code, reply
        m = harness.QUEUED_AS_RE.search(reply)
        rec.qid = m.group(1).decode() if m else None

    def test_reload_under_load(self):
        env = self.make_env()
        digest = {"A": env.tool.policy_digest()}
        records = []
        lock = threading.Lock()
        counter = iter(range(self.TOTAL))
        done = {"n": 0}
        errors = []

        def worker(t):
            smtp = None
            sent_on_conn = 0
            try:
                while True:
                    with lock:
                        i = next(counter, None)
                    if i is None:
                        break
                    if smtp is None:
                        smtp = env.connect("load%d.test.invalid" % t)
                        smtp.ehlo("load%d.test.invalid" % t)
                        sent_on_conn = 0
                    rec = LoadRecord("load-%04d" % i, t)
                    self.transaction(smtp, rec, "rcpt-%04d@partner.example" % i)
                    sent_on_conn += 1
                    with lock:
                        records.append(rec)
                        done["n"] += 1
                    if rec.code != 250 or rec.stage != "eod":
                        smtp.close()
                        smtp = None
                    elif sent_on_conn >= self.PER_CONNECTION:
                        smtp.quit()
                        smtp = None
            except Exception as exc:   # reported below: a worker must not die silently
                errors.append("session %d: %r" % (t, exc))
            finally:
                if smtp is not None:
                    try:
                        smtp.quit()
                    except (smtplib.SMTPException, OSError):
                        pass

        threads = [threading.Thread(target=worker, args=(t,), name="smtp-%d" % t) for t in range(self.SESSIONS)]
        t_begin = time.monotonic()
        for th in threads:
            th.start()
        # policy index 0 is the start policy (A); reload j (1..R) installs B, A, B, ... alternately
        reloads = []      # (name, via, start, done, seq, digest)
        straddlers = []   # (reload index, LoadRecord)
        step = (self.TOTAL - self.BASELINE) // (self.RELOADS + 1)
        straddle = env.connect("straddler.test.invalid")
        self.addCleanup(straddle.close)
        straddle.ehlo("straddler.test.invalid")
        try:
            for j in range(1, self.RELOADS + 1):
                harness.wait_until(lambda: done["n"] >= self.BASELINE + (j - 1) * step or errors, 120,
                                   "%d messages before reload %d" % (self.BASELINE + (j - 1) * step, j))
                if errors:
                    break
                name = "B" if j % 2 else "A"
                via = "signal" if j % 2 else "tool"
                env.write_policy(POLICY_B if name == "B" else POLICY_A)

                def reload():
                    t0 = time.monotonic()
                    seq, dg = env.reload_policy(via)
                    t1 = time.monotonic()
                    digest.setdefault(name, dg)
                    reloads.append((name, via, t0, t1, seq, dg))
                rec = LoadRecord("straddle-%d" % j, "straddler")
                self.transaction(straddle, rec, "straddle-%d@partner.example" % j, between=reload)
                self.assertEqual(len(reloads), j, "reload %d did not run" % j)
                straddlers.append((j, rec))
        finally:
            for th in threads:
                th.join(300)
        straddle.quit()
        t_end = time.monotonic()
        self.assertEqual(errors, [])
        self.assertFalse([th for th in threads if th.is_alive()])
        self.assertEqual(len(reloads), self.RELOADS)
        self.assertEqual(len(records), self.TOTAL)
        self.assertNotEqual(digest["A"], digest["B"])
        everything = records + [rec for _, rec in straddlers]

        # 1. every transaction got 250 at every step; nothing was tempfailed
        bad = [(r.token, r.stage, r.code, r.reply) for r in everything if not (r.stage == "eod" and r.code == 250 and r.qid)]
        self.assertEqual(bad, [], "%d of %d not accepted" % (len(bad), len(everything)))
        self.assertNotRegex(env.daemon.log_text(), r": tempfail: ")
        self.assertNotIn("milter-reject", env.postfix.log())

        # 2. delivered exactly once each
        env.wait_delivered(len(everything), timeout=300)
        delivered = {}
        for d in env.sink.deliveries():
            for v in d.header("Message-ID"):
                delivered.setdefault(v.decode(), []).append(d.queue_id)
        for r in everything:
            self.assertEqual(delivered.get("<%s@e2e.test>" % r.token), [r.qid], r.token)
        self.assertEqual(env.sink.count(), len(everything))

        # 3. journaled exactly once each, by the policy A or B, consistently
        every = env.every_entry()
        self.assertEqual([e["seq"] for e in every], list(range(1, len(every) + 1)))
        messages = [e for e in every if e["kind"] == "message"]
        by_qid = {}
        for e in messages:
            self.assertNotIn(e["queue_id"], by_qid, "journaled twice")
            by_qid[e["queue_id"]] = e
        self.assertEqual(set(by_qid), {r.qid for r in everything})
        self.assertEqual(len(messages), len(everything))
        name_of = {digest["A"]: "A", digest["B"]: "B"}
        for e in messages:
            self.assertIn(e["policy"], name_of, e)
            self.assert_decision(e, *MARKER_DECISION[name_of[e["policy"]]])

        # 4. the policy entries: the start, then one per reload in reload order
        policies = [e for e in every if e["kind"] == "policy"]
        self.assertEqual([(p["seq"], p["digest"], p["reason"]) for p in policies],
                         [(1, digest["A"], "start")] +
                         [(seq, dg, "reload (SIGUSR1)" if via == "signal" else "reload (admin socket)")
                          for (_, via, _, _, seq, dg) in reloads])
        self.assertEqual([digest[name] for (name, _, _, _, _, _) in reloads], [p["digest"] for p in policies[1:]])
        self.assertEqual(env.tool.policy_show()["seq"], reloads[-1][4])

        # 5. each message has the policy in force at its MAIL FROM.  Policy j (0: start) was
        # swapped in at some instant of [start_j, done_j] (the reload command's run); MAIL FROM
        # reached the milter at some instant of [ms, mr].  Policy j is possible for a message
        # iff start_j <= mr and done_{j+1} > ms.  Its entry also follows policy j's entry.
        starts = [float("-inf")] + [r[2] for r in reloads]
        dones = [float("-inf")] + [r[3] for r in reloads] + [float("inf")]
        names = ["A"] + [r[0] for r in reloads]
        seqs = [1] + [r[4] for r in reloads]
        clear = [0] * (self.RELOADS + 1)    # messages whose policy j is certain
        across = [0] * (self.RELOADS + 1)   # concurrent transactions in flight across reload j
        for r in everything:
            e = by_qid[r.qid]
            possible = [j for j in range(self.RELOADS + 1) if starts[j] <= r.mr and dones[j + 1] > r.ms]
            fits = [j for j in possible if digest[names[j]] == e["policy"]]
            self.assertTrue(fits, "%s (seq %d) has policy %s, possible policies %s" % (
                r.token, e["seq"], name_of[e["policy"]], [(j, names[j]) for j in possible]))
            self.assertGreater(e["seq"], min(seqs[j] for j in fits), r.token)
            if len(possible) == 1:
                clear[possible[0]] += 1
            if r.thread != "straddler":
                for j in range(1, self.RELOADS + 1):
                    if r.mr < starts[j] and r.eod1 > dones[j]:
                        across[j] += 1
        # every policy, the start one included, classified mail with no doubt about it (mail
        # whose MAIL FROM came after reload j returned and before reload j + 1 began)
        self.assertTrue(all(clear), clear)
        self.assertGreaterEqual(len([r for r in everything if r.ms >= reloads[0][2]]), 1000,
                                "fewer than 1,000 messages during the reloads")
        # the transactions held open across each reload keep the policy of their MAIL FROM and
        # commit after the new policy's entry
        for j, rec in straddlers:
            e = by_qid[rec.qid]
            self.assertLess(rec.mr, reloads[j - 1][2])
            self.assertEqual(e["policy"], digest[names[j - 1]], rec.token)
            self.assertGreater(e["seq"], seqs[j], rec.token)

        # 6. no delay from reloads: end-of-data latency of messages near a reload, against the
        # stretch before the first reload
        before, after = self.NEAR
        windows = [(t0 - before, t1 + after) for (_, _, t0, t1, _, _) in reloads]
        near = [r for r in everything if any(r.eod0 < w1 and r.eod1 > w0 for (w0, w1) in windows)]
        baseline = [r for r in records if r.eod1 < reloads[0][2]]
        reload_phase = [r for r in everything if r.eod0 >= reloads[0][2]]

        def ms(rs, f=max):
            return 1000 * f(r.latency for r in rs)

        def mean(xs):
            xs = list(xs)
            return sum(xs) / len(xs)
        report = ("reload under load: %d messages (%d concurrent sessions + %d held across reloads) in %.1f s; "
                  "%d reloads took %s ms; end-of-data latency: without reloads max %.1f ms, mean %.1f ms "
                  "(%d messages); during reloads max %.1f ms, mean %.1f ms (%d messages); whole reload phase "
                  "max %.1f ms (%d messages); straddlers %s ms; concurrent transactions in flight across each "
                  "reload: %s; messages whose policy was certain, per policy: %s" % (
                      len(everything), self.SESSIONS, len(straddlers), t_end - t_begin, len(reloads),
                      [round((t1 - t0) * 1000, 1) for (_, _, t0, t1, _, _) in reloads],
                      ms(baseline), ms(baseline, mean), len(baseline), ms(near), ms(near, mean), len(near),
                      ms(reload_phase), len(reload_phase),
                      [round(rec.latency * 1000, 1) for _, rec in straddlers], across[1:], clear))
        sys.stderr.write("\n" + report + "\n")
        self.assertGreaterEqual(len(baseline), self.BASELINE // 2, report)
        self.assertGreaterEqual(len(near), self.RELOADS, report)
        self.assertLess(ms(near) / 1000, self.MAX_RELOAD_LATENCY, report)
        self.assertLess(ms(reload_phase) / 1000, self.MAX_RELOAD_LATENCY, report)


# ------------------------------------------------------------------------------------------------
class SessionKeepsPolicyTest(PolicyTestBase):
    def test_transaction_keeps_the_policy_of_its_mail_from(self):
        env = self.make_env()
        digest_a = env.tool.policy_digest()
        smtp = env.connect()
        self.addCleanup(smtp.close)
        smtp.ehlo("keeper.test.invalid")
        self.assertEqual(smtp.mail(MARKER)[0], 250)
        self.assertEqual(smtp.rcpt("outside@partner.example")[0], 250)
        # the reload completes between RCPT and DATA
        env.write_policy(POLICY_B)
        seq_b, digest_b = env.reload_policy("tool")
        self.assertNotEqual(digest_a, digest_b)
        code, reply = smtp.data(msg("kept-policy"))
        self.assertEqual(code, 250, reply)
        qid1 = harness.QUEUED_AS_RE.search(reply).group(1).decode()
        # the next transaction on the same connection gets the new policy
        r2 = env.send(msg("new-policy"), mail_from=MARKER, rcpts=["outside@partner.example"], smtp=smtp)
        self.assertTrue(r2.accepted, r2)
        smtp.quit()
        e1, e2 = env.entry_for_qid(qid1), env.entry_for_qid(r2.queue_id)
        self.assertEqual(e1["policy"], digest_a)
        self.assert_decision(e1, *MARKER_DECISION["A"])
        self.assertGreater(e1["seq"], seq_b)    # committed after the reload, classified before it
        self.assertEqual(e2["policy"], digest_b)
        self.assert_decision(e2, *MARKER_DECISION["B"])


# ------------------------------------------------------------------------------------------------
class BrokenReloadTest(PolicyTestBase):
    """Broken files are refused and say why; the running policy stays in force."""

    @classmethod
    def setUpClass(cls):
        cls.env = harness.E2E(policy=POLICY_A, policy_files=POLICY_FILES)
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)

    def setUp(self):
        # each test starts from policy A on disk and in force
        self.env.write_policy(POLICY_A, POLICY_FILES)
        self.active = self.env.tool.policy_show()
        if self.active["files"][0]["text"] != POLICY_A:
            self.env.reload_policy("tool")
            self.active = self.env.tool.policy_show()

    def send_marker(self, token):
        r = self.env.send_ok(msg(token), mail_from=MARKER, rcpts=["outside@partner.example"])
        self.env.delivery_for(r.queue_id)
        return self.env.entry_for_qid(r.queue_id)

    def assert_refused(self, text, expected_errors, files=None, via="tool"):
        """Install a broken policy, reload it and check the refusal; expected_errors are the
        FILE:LINE:COL: message lines, in order."""
        env = self.env
        path = env.write_policy(text, files)
        n_entries = env.tool.status()["last_seq"]
        log_before = len(env.daemon.current_log())
        refusal = "policy %s: %d error(s); the running policy stays in force" % (path, len(expected_errors))
        if via == "tool":
            p = env.tool.policy_reload()
            self.assertEqual(p.returncode, 78, p.stderr)
            self.assertEqual(p.stdout, b"")
            self.assertEqual(p.stderr.decode(), "".join(l + "\n" for l in expected_errors) + "mailjournal: " + refusal + "\n")
        else:
            outcome = env.daemon.signal_reload()
            self.assertEqual(outcome, ("refused", len(expected_errors)))
        # nothing journaled but, for a reload asked through the tool, its access entry (the
        # audit trail records the request and its outcome); the old policy in force, mail flows
        # and is classified by it
        if via == "tool":
            self.assertEqual(env.tool.status()["last_seq"], n_entries + 1)
            audit = env.tool.show(n_entries + 1)
            self.assertEqual((audit["kind"], audit["operation"], audit["allowed"]), ("access", "policy_reload", True))
            self.assertIn(refusal, audit["outcome"])
        else:
            self.assertEqual(env.tool.status()["last_seq"], n_entries)
        self.assertEqual(env.tool.policy_show(), self.active)
        e = self.send_marker("after-refusal-%d" % n_entries)
        self.assertEqual(e["policy"], self.active["digest"])
        self.assert_decision(e, *MARKER_DECISION["A"])
        self.assertTrue(env.daemon.running())
        # the daemon says why in its log, whoever asked for the reload (the log line is
        # written before the answer, so a short deadline is plenty)
        harness.wait_until(lambda: refusal in env.daemon.current_log()[log_before:], 3,
                           "the refusal in the daemon log", diag=lambda: env.daemon.current_log()[log_before:])
        log = env.daemon.current_log()[log_before:]
        for line in expected_errors:
            self.assertIn(" mailjournald: %s\n" % line, log)
        self.assertIn(" mailjournald: %s\n" % refusal, log)
        self.assertNotIn(" loaded (", log)

    def syntax_error(self):
        text = POLICY_A.replace("  - name: brokerage\n", "  - name: brokerage: securities\n")
        line, col = harness.line_col(text, ": securities")
        return text, ["%s:%d:%d: YAML syntax error: illegal map value" % (self.env.policy_path, line, col)]

    def semantic_errors(self):
        text = (POLICY_A.replace("    retention: insurance_10y", "    retention: insurance_15y")
                .replace("    retention: retail_5y\n", "    retention: retail_5y\n    colour: blue\n"))
        p = self.env.policy_path
        return text, ["%s:%d:%d: unknown key 'colour' (expected one of: name, members, retention, keys, index)"
                      % ((p,) + harness.line_col(text, "colour")),
                      "%s:%d:%d: unknown retention class 'insurance_15y'" % ((p,) + harness.line_col(text, "insurance_15y"))]

    def test_syntax_error_signal(self):
        self.assert_refused(*self.syntax_error(), via="signal")

    def test_syntax_error_tool(self):
        self.assert_refused(*self.syntax_error(), via="tool")

    def test_semantic_errors_signal(self):
        self.assert_refused(*self.semantic_errors(), via="signal")

    def test_semantic_errors_tool(self):
        self.assert_refused(*self.semantic_errors(), via="tool")

    def without_default_keys(self):
        """Sealing is mandatory: a department without keys, in a policy without escrow keys."""
        text = POLICY_A.replace("    retention: general_7y\n    keys: [keys/e2e.crt]\n", "    retention: general_7y\n")
        self.assertNotEqual(text, POLICY_A)
        return text, ["%s:%d:%d: department 'default' has no keys and the policy names no escrow key: its mail "
                      "could not be sealed (give it 'keys' or add 'escrow')"
                      % ((self.env.policy_path,) + harness.line_col(text, "name: default"))]

    def test_department_without_keys_tool(self):
        self.assert_refused(*self.without_default_keys(), via="tool")

    def test_bad_include_list_signal(self):
        text = POLICY_A.replace("lists/brokerage-staff.txt", "lists/brokerage-bad.txt")
        bad_list = "ok.person@bank.example\nnot an address\n"
        inc = os.path.join(self.env.policy_dir, "lists", "brokerage-bad.txt")
        self.assert_refused(text, ["%s:2:1: invalid address 'not an address': expected exactly one '@'" % inc],
                            files={"lists/brokerage-bad.txt": bad_list}, via="signal")

    def test_missing_policy_file_signal(self):
        self.env.write_policy(POLICY_A)
        os.rename(self.env.policy_path, self.env.policy_path + ".away")
        self.addCleanup(lambda: os.path.exists(self.env.policy_path + ".away") and
                        os.rename(self.env.policy_path + ".away", self.env.policy_path))
        log_before = len(self.env.daemon.current_log())
        self.assertEqual(self.env.daemon.signal_reload(), ("refused", 1))
        log = self.env.daemon.current_log()[log_before:]
        self.assertIn("mailjournald: %s: cannot read policy: No such file or directory\n" % self.env.policy_path, log)
        self.assertEqual(self.env.tool.policy_show(), self.active)
        self.assertEqual(self.send_marker("after-missing")["policy"], self.active["digest"])

    def test_fixed_file_reloads_after_a_refusal(self):
        env = self.env
        for via in ("signal", "tool"):
            with self.subTest(via=via):
                broken, errors = self.semantic_errors()
                env.write_policy(broken)
                if via == "tool":
                    self.assertEqual(env.tool.policy_reload().returncode, 78)
                else:
                    self.assertEqual(env.daemon.signal_reload(), ("refused", len(errors)))
                self.assertEqual(env.tool.policy_show(), self.active)
                # fixed: the marker now in brokerage
                env.write_policy(POLICY_B)
                seq, digest = env.reload_policy(via)
                self.assertNotEqual(digest, self.active["digest"])
                shown = env.tool.policy_show()
                self.assertEqual((shown["seq"], shown["digest"], shown["files"][0]["text"]), (seq, digest, POLICY_B))
                self.assertEqual(env.tool.show(seq)["digest"], digest)
                e = self.send_marker("after-fix-%s" % via)
                self.assertEqual(e["policy"], digest)
                self.assert_decision(e, *MARKER_DECISION["B"])
                self.assertGreater(e["seq"], seq)
                # back to A for the next round
                env.write_policy(POLICY_A)
                env.reload_policy(via)
                self.active = env.tool.policy_show()

    def test_reload_via_tool_is_logged(self):
        """A successful reload through the admin socket is logged like one by SIGUSR1."""
        env = self.env
        env.write_policy(POLICY_B)
        seq, digest = env.reload_policy("tool")
        line = "policy %s loaded (reload (admin socket)): seq=%d digest=%s" % (env.policy_path, seq, digest)
        harness.wait_until(lambda: line in env.daemon.current_log(), 3, "the reload in the daemon log",
                           diag=lambda: env.daemon.current_log()[-2000:])


# ------------------------------------------------------------------------------------------------
class StartupPolicyTest(harness.E2ETestCase):
    """The daemon refuses to start with a bad policy; `mailjournal policy check`."""

    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="mj-e2e-policy-")
        self.addCleanup(shutil.rmtree, self.base, True)
        os.chmod(self.base, 0o755)
        self.run_dir = os.path.join(self.base, "run")
        os.mkdir(self.run_dir)
        shutil.chown(self.run_dir, user=harness.DAEMON_USER)
        self.journal = os.path.join(self.base, "journal")
        self.policy_dir = os.path.join(self.base, "policy")
        self.tool = harness.Tool()

    def write(self, text, files=POLICY_FILES):
        return harness.write_policy_dir(self.policy_dir, text, files)

    def start(self, policy, foreground=True, timeout=30):
        argv = [harness.MAILJOURNALD] + (["--foreground"] if foreground else []) + [
            "--journal", self.journal, "--milter-socket", "unix:" + os.path.join(self.run_dir, "m.sock"),
            "--admin-socket", os.path.join(self.run_dir, "a.sock"), "--socket-mode", "0666",
            "--user", harness.DAEMON_USER, "--policy", policy,
            "--index-keys", os.path.join(self.base, "index-keys")]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            raise harness.HarnessError("mailjournald with a bad policy did not exit within %ds" % timeout)
        return p.returncode, out, err

    def assert_start_refused(self, policy, errors):
        for foreground in (True, False):
            with self.subTest(foreground=foreground):
                rc, out, err = self.start(policy, foreground)
                self.assertEqual(rc, 78, err)
                text = err.decode()
                for line in errors:
                    self.assertRegex(text, r"(?m)^(\S+ mailjournald: )?%s$" % re.escape(line))
                self.assertRegex(text, r"(?m)^(\S+ )?mailjournald: cannot start: policy %s: %d error\(s\)" % (
                    re.escape(policy), len(errors)))
                self.assertFalse(os.path.exists(os.path.join(self.run_dir, "m.sock")), "milter socket left behind")
                # nothing was journaled: the journal holds no entry
                p = subprocess.run([harness.MAILJOURNAL, "--journal", self.journal, "status", "--format", "json"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(json.loads(p.stdout)["last_seq"], 0)

    def test_syntax_error_at_start(self):
        text = POLICY_A.replace("  - name: brokerage\n", "  - name: brokerage: securities\n")
        path = self.write(text)
        line, col = harness.line_col(text, ": securities")
        self.assert_start_refused(path, ["%s:%d:%d: YAML syntax error: illegal map value" % (path, line, col)])

    def test_semantic_errors_at_start(self):
        text = (POLICY_A.replace("    retention: insurance_10y", "    retention: insurance_15y")
                .replace('      - "*-desk@bank.example"', '      - "*-desk@bank.example"\n      - "@retail.bank.example"'))
        path = self.write(text)
        dup_line, dup_col = harness.line_col(text, '"@retail.bank.example"', 2)
        first = "%s:%d:%d" % ((path,) + harness.line_col(text, '"@retail.bank.example"'))
        self.assert_start_refused(path, [
            "%s:%d:%d: @retail.bank.example is a member of both retail and brokerage (first at %s)" % (
                path, dup_line, dup_col, first),
            "%s:%d:%d: unknown retention class 'insurance_15y'" % ((path,) + harness.line_col(text, "insurance_15y"))])

    def test_department_without_keys_at_start(self):
        text = POLICY_A.replace("    retention: general_7y\n    keys: [keys/e2e.crt]\n", "    retention: general_7y\n")
        path = self.write(text)
        self.assert_start_refused(path, [
            "%s:%d:%d: department 'default' has no keys and the policy names no escrow key: its mail could not "
            "be sealed (give it 'keys' or add 'escrow')" % ((path,) + harness.line_col(text, "name: default"))])

    def test_missing_policy_at_start(self):
        path = os.path.join(self.base, "no-such-policy.yaml")
        self.assert_start_refused(path, ["%s: cannot read policy: No such file or directory" % path])

    def test_good_policy_starts(self):
        path = self.write(POLICY_A)
        argv = [harness.MAILJOURNALD, "--foreground", "--journal", self.journal,
                "--milter-socket", "unix:" + os.path.join(self.run_dir, "m.sock"),
                "--admin-socket", os.path.join(self.run_dir, "a.sock"), "--user", harness.DAEMON_USER,
                "--policy", path, "--index-keys", os.path.join(self.base, "index-keys")]
        log_path = os.path.join(self.base, "daemon.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        harness.wait_until(lambda: proc.poll() is not None or harness.unix_accepts(os.path.join(self.run_dir, "a.sock")),
                           30, "the daemon's admin socket")
        self.assertIsNone(proc.poll(), harness.tail(log_path))
        tool = harness.Tool(socket_path=os.path.join(self.run_dir, "a.sock"))
        self.assertEqual(tool.policy_show()["files"][0]["path"], path)
        proc.terminate()
        self.assertEqual(proc.wait(30), 0)

    def test_policy_check(self):
        good = self.write(POLICY_A)
        p = self.tool.policy_check(good)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout.decode(), r"^%s: ok: 4 departments, 4 retention classes, 0 holds, 0 roles; "
                         r"digest [0-9a-f]{64}\n$" % re.escape(good))
        self.assertEqual(p.stderr, b"")
        bad_text = (POLICY_A.replace("    retention: insurance_10y", "    retention: insurance_15y")
                    .replace("  general_7y: 7y", "  general_7y: 7 years"))
        bad = self.write(bad_text)
        p = self.tool.policy_check(bad)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertEqual(p.stderr.decode(), (
            "%s:%d:%d: invalid retention period '7 years' (expected a positive number of years or days, e.g. 7y or 180d)\n"
            "%s:%d:%d: unknown retention class 'insurance_15y'\n") % (
                (bad,) + harness.line_col(bad_text, "7 years") + (bad,) + harness.line_col(bad_text, "insurance_15y")))
        p = self.tool.policy_check(bad, "--format", "json")
        self.assertEqual(p.returncode, 78, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual((out["ok"], [e["message"] for e in out["errors"]]),
                         (False, ["invalid retention period '7 years' (expected a positive number of years or days, e.g. 7y or 180d)",
                                  "unknown retention class 'insurance_15y'"]))

    def test_contrib_policy_checks(self):
        """The shipped example policy (contrib/policy.yaml) must pass `mailjournal policy check`.

        It names certificates (keys/NAME.crt) that are not shipped: each site makes its own with
        `mailjournal keygen`.  So the policy is checked in a copy of contrib/, with the e2e
        certificate standing in for each of them, and without them it must name each missing one."""
        self.assertTrue(os.path.isfile(CONTRIB_POLICY),
                        "%s does not exist: issue 3 requires a realistic example policy there" % CONTRIB_POLICY)
        with open(CONTRIB_POLICY) as f:
            text = f.read()
        certs = sorted(set(re.findall(r"\bkeys/[\w.-]+\.crt\b", text)))
        self.assertTrue(certs, "contrib/policy.yaml names no key file: mail would be stored unsealed")
        copy = os.path.join(self.base, "contrib")
        shutil.copytree(os.path.dirname(CONTRIB_POLICY), copy, ignore=shutil.ignore_patterns("keys"))
        path = os.path.join(copy, os.path.basename(CONTRIB_POLICY))
        p = self.tool.policy_check(path)
        self.assertEqual(p.returncode, 78, p.stderr)
        for rel in certs:
            self.assertIn(("cannot read key file '%s'" % os.path.join(copy, rel)).encode(), p.stderr)
        harness.write_policy_dir(copy, text, {rel: harness.e2e_keys().cert_pem for rel in certs},
                                 name=os.path.basename(CONTRIB_POLICY), e2e_cert=False)
        p = self.tool.policy_check(path)
        self.assertEqual(p.returncode, 0, "policy check %s (a copy of %s) -> %d\n%s" % (
            path, CONTRIB_POLICY, p.returncode, p.stderr.decode(errors="replace")))
        self.assertIn(b": ok: ", p.stdout)


if __name__ == "__main__":
    harness.main()
