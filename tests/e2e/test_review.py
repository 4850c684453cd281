#!/usr/bin/env python3
"""The supervision review (issue 11) through a real Postfix and daemon, with real unix users.

The policy applies lexicons to two departments, brokerage and retail, and has one reviewer
role per department (operation `review`).  Users, each in the admin socket's group:

  brok      brokerage reviewer
  reta      retail reviewer
  plain     no role

Mail is sent through Postfix; the lexicons flag it at capture.  The tests, in order (their
names are numbered: the last stops the daemon):

1. Only reviewers of a department see its queue, highest severity first: brok sees the
   brokerage messages, reta the retail one and nothing of brokerage (asking for it is refused),
   plain is refused; every refusal is in the audit trail with the caller's name.
2. Decisions and tags through the socket as the unprivileged reviewer: `review mark` with a
   note, `tag add`/`remove`; reta may not mark a brokerage message; the queue then leaves the
   message out (and --status finds it); `mailjournal audit` shows the review and tag entries
   with brok's name; the note is nowhere in the journal's files in clear, shows as sealed to
   the reviewer without a key, and opens with the department's key (`review show --key`).
3. `verify` reports the journal intact with the decisions; then, daemon stopped, each forgery
   (tests/e2e/forge_review.cc, MJ_FORGE_REVIEW) makes it fail naming the entry: a review entry
   written straight into the database, a decision's status byte changed, a review entry
   appended through the library that names an entry that is not a message.

Needs the capture side of issue 11 (the policy's supervision section).
Run: python3 tests/e2e/test_review.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness   # noqa: E402

EX_DATAERR = 65
EX_NOPERM = 77

POLICY = """\
version: 1
retention: {r7: 7y}
departments:
  - name: retail
    members: ["@retail.example"]
    retention: r7
    keys: [%(e2e)s]
  - name: brokerage
    members: ["@brokerage.example"]
    retention: r7
    keys: [%(e2e)s]
  - name: default
    retention: r7
    keys: [%(e2e)s]
supervision:
  lexicons:
    - name: guarantees
      severity: high
      terms: ["guaranteed return"]
    - name: mis_selling
      severity: critical
      terms: [保本保收益, 稳赚不赔]
  departments:
    - name: brokerage
      lexicons: [guarantees, mis_selling]
    - name: retail
      lexicons: [guarantees]
access:
  - role: brokerage-reviewers
    groups: [%(brokerage)s]
    departments: [brokerage]
    operations: [review]
  - role: retail-reviewers
    groups: [%(retail)s]
    departments: [retail]
    operations: [review]
"""

# name: (mail_from, rcpt, body)
MAIL = {
    "b_high": ("bo@brokerage.example", "client@example.net", "A guaranteed return of 8%."),
    "b_critical": ("bo@brokerage.example", "client2@example.net", "本产品保本保收益，稳赚不赔。"),
    "b_clean": ("bo@brokerage.example", "client3@example.net", "Minutes of the meeting."),
    "r_high": ("ann@retail.example", "client4@example.net", "Our guaranteed return plan."),
}

NOTE = "Called the client back on 2026-11-28: the adviser overstated the product."


def refusal(user, what):
    return "mailjournal: user %s (uid %d) may not %s: no access role of the policy grants it\n" % (
        user.pw_name, user.pw_uid, what)


class ReviewTest(harness.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.accounts = harness.UnixAccounts()
        cls.addClassCleanup(cls.accounts.close)
        cls.socket_group = cls.accounts.group("mjsock")
        brokerage = cls.accounts.group("mjrb")
        retail = cls.accounts.group("mjrr")
        cls.brok = cls.accounts.user("mjb", cls.socket_group.gr_name, [brokerage.gr_name])
        cls.reta = cls.accounts.user("mjr", cls.socket_group.gr_name, [retail.gr_name])
        cls.plain = cls.accounts.user("mjp", cls.socket_group.gr_name)
        p = harness.run(["runuser", "-u", cls.brok.pw_name, "--", harness.MAILJOURNAL, "--version"],
                        check=False)
        if p.returncode != 0:
            raise harness.HarnessError("user %s cannot run %s: %s" % (
                cls.brok.pw_name, harness.MAILJOURNAL, p.stderr.decode(errors="replace")))

        cls.env = harness.E2E(start_daemon=False)
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        env = cls.env
        env.write_policy(POLICY % {"e2e": harness.E2E_CERT, "brokerage": brokerage.gr_name,
                                   "retail": retail.gr_name})
        env.restrict_sockets(cls.socket_group)
        env.daemon.start()
        cls.seq = {}
        for name, (mail_from, rcpt, body) in MAIL.items():
            raw = ("From: %s\r\nTo: %s\r\nSubject: review test %s\r\nMessage-ID: <%s@review.test>\r\n"
                   "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                   "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n" % (
                       mail_from, rcpt, name, name, body)).encode("utf-8")
            r = env.send_ok(raw, mail_from=mail_from, rcpts=[rcpt])
            env.delivery_for(r.queue_id)
            cls.seq[name] = env.entry_for_qid(r.queue_id)["seq"]

    # ------------------------------------------------------------------ helpers
    def tool_as(self, user, *args):
        return self.env.tool.run(*args, as_user=user.pw_name, key=False)

    def ok_as(self, user, *args):
        p = self.tool_as(user, *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def queue_as(self, user, *args):
        out = self.ok_as(user, "review", "queue", "--format", "json", *args)
        return [(m["seq"], m["severity"]) for m in self.env.tool.parse_jsonl(out)]

    def audit(self, *args):
        return self.env.tool.parse_jsonl(self.env.tool.ok("audit", "--format", "json", *args))

    def newest_of(self, user):
        (newest,) = self.audit("--user", user.pw_name, "--reverse", "--limit", "1")
        return newest

    def verify(self, journal=False):
        p = self.env.tool.run("verify", "--format", "json", journal=journal)
        return p.returncode, json.loads(p.stdout) if p.stdout.strip() else {}, p.stderr

    # ------------------------------------------------------------------ 1. the queue
    def test_1_only_reviewers_of_a_department_see_its_queue(self):
        s = self.seq
        self.assertEqual(self.queue_as(self.brok), [(s["b_critical"], "critical"), (s["b_high"], "high")])
        self.assertEqual(self.queue_as(self.brok, "--severity", "critical"), [(s["b_critical"], "critical")])
        self.assertEqual(self.queue_as(self.reta), [(s["r_high"], "high")])
        newest = self.newest_of(self.reta)
        self.assertEqual((newest["operation"], newest["allowed"], newest["seqs"]),
                         ("review_queue", True, [[s["r_high"], s["r_high"]]]))
        # The text table: one line per message after the header, no content.
        text = self.ok_as(self.brok, "review", "queue").decode()
        lines = text.splitlines()
        self.assertEqual(len(lines), 3, text)
        self.assertRegex(lines[1], r"^%d\s+\S+\s+critical\s+unreviewed\s+mis_selling\s" % s["b_critical"])
        self.assertNotIn("保本", text)
        # Another department's reviewer gets nothing of it, and asking is refused.
        p = self.tool_as(self.reta, "review", "queue", "--department", "brokerage")
        self.assertEqual(p.returncode, EX_NOPERM, p.stderr)
        self.assertEqual(p.stderr.decode(), refusal(self.reta, "review department brokerage"))
        p = self.tool_as(self.reta, "review", "show", s["b_high"])
        self.assertEqual(p.returncode, EX_NOPERM, p.stderr)
        # No role: refused, and the refusal is in the audit trail under the caller's name.
        p = self.tool_as(self.plain, "review", "queue")
        self.assertEqual(p.returncode, EX_NOPERM, p.stderr)
        self.assertEqual(p.stderr.decode(), refusal(self.plain, "review (operation review_queue)"))
        refused = self.newest_of(self.plain)
        self.assertEqual((refused["by"]["user"], refused["operation"], refused["allowed"], refused["seqs"]),
                         (self.plain.pw_name, "review_queue", False, []))

    # ------------------------------------------------------------------ 2. decisions and tags
    def test_2_reviewers_mark_and_tag_and_audit_shows_it(self):
        s = self.seq
        target = s["b_high"]
        # A reviewer of retail may not decide on brokerage mail; nothing but the refusal is written.
        before = self.env.tool.status()["last_seq"]
        p = self.tool_as(self.reta, "review", "mark", target, "--status", "closed")
        self.assertEqual(p.returncode, EX_NOPERM, p.stderr)
        self.assertEqual(p.stderr.decode(), refusal(self.reta, "review message %d" % target))
        self.assertEqual(self.env.tool.status()["last_seq"], before + 1)
        # The brokerage reviewer decides, with a note, and tags.
        out = self.ok_as(self.brok, "review", "mark", target, "--status", "escalated", "--note", NOTE).decode()
        self.assertRegex(out, r"^message %d marked escalated: seq=\d+ \(note sealed\)\n$" % target)
        decision = int(out.split("seq=")[1].split()[0])
        self.ok_as(self.brok, "tag", "add", target, "mis-selling")
        self.ok_as(self.brok, "tag", "add", target, "follow-up")
        p = self.tool_as(self.brok, "tag", "add", target, "follow-up")
        self.assertEqual(p.returncode, 64, p.stderr)   # there already
        self.ok_as(self.brok, "tag", "remove", target, "follow-up")
        p = self.tool_as(self.brok, "tag", "remove", target, "follow-up")
        self.assertEqual(p.returncode, 66, p.stderr)   # not there
        p = self.tool_as(self.brok, "tag", "add", target, "bad tag")
        self.assertEqual(p.returncode, 64, p.stderr)
        # The queue: out of the unreviewed, in the escalated, with its tag.
        self.assertEqual(self.queue_as(self.brok), [(s["b_critical"], "critical")])
        out = self.ok_as(self.brok, "review", "queue", "--status", "escalated", "--format", "json")
        (item,) = self.env.tool.parse_jsonl(out)
        self.assertEqual((item["seq"], item["status"], item["tags"]), (target, "escalated", ["mis-selling"]))
        # audit: the review and tag entries with the reviewer's identity.
        about = self.audit("--seq", target)
        made = [(e["kind"], e.get("status") or e.get("action"), e["by"]) for e in about if e["kind"] != "access"]
        who = {"uid": self.brok.pw_uid, "user": self.brok.pw_name}
        self.assertEqual(made, [("review", "escalated", who), ("tag", "add", who), ("tag", "add", who),
                                ("tag", "remove", who)])
        decisions = self.audit("--operation", "review_mark", "--user", self.brok.pw_name)
        self.assertEqual([(e["kind"], e["seq"]) for e in decisions if e["kind"] == "review"], [("review", decision)])
        access = [e for e in decisions if e["kind"] == "access"]
        self.assertTrue(access and all(e["arguments"]["note"] == "(sealed)" for e in access), access)
        text = self.env.tool.ok("audit", "--seq", target).decode()
        self.assertRegex(text, r"(?m)^%d \S+ review message=%d %s\(%d\) status=escalated note=sealed$" % (
            decision, target, self.brok.pw_name, self.brok.pw_uid))
        # The note: nowhere in the journal's files in clear ...
        needle = "overstated".encode()
        for root, _, files in os.walk(self.env.journal_dir):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    self.assertNotIn(needle, f.read(), os.path.join(root, name))
        # ... shown sealed to the reviewer, who holds no key ...
        shown = self.ok_as(self.brok, "review", "show", target).decode()
        self.assertIn("status:      escalated", shown)
        self.assertIn("note: (sealed:", shown)
        self.assertNotIn(NOTE, shown)
        # ... and opened with the department's key.
        keys = harness.e2e_keys()
        shown = self.env.tool.ok("review", "show", target, "--key", keys.key, "--passphrase-file",
                                 keys.passphrase_file, "--format", "json")
        entries = json.loads(shown)["entries"]
        self.assertEqual(entries[0]["seq"], decision)
        self.assertEqual(entries[0]["note"], NOTE)
        self.assertEqual(entries[0]["by"], who)

    # ------------------------------------------------------------------ 3. verify
    def test_3_decisions_survive_verify_and_forged_ones_do_not(self):
        env, s = self.env, self.seq
        out = self.ok_as(self.brok, "review", "mark", s["b_critical"], "--status", "reviewed").decode()
        decision = int(out.split("seq=")[1].split()[0])
        rc, v, err = self.verify()
        self.assertEqual(rc, 0, (v, err))
        self.assertGreaterEqual(v["entries"], decision)
        self.assertEqual(env.daemon.stop(), 0, env.daemon.log_text())
        rc, v, err = self.verify(journal=True)
        self.assertEqual(rc, 0, (v, err))
        pristine = tempfile.mkdtemp(prefix="mj-e2e-pristine-")
        self.addCleanup(shutil.rmtree, pristine, True)
        shutil.copytree(env.journal_dir, os.path.join(pristine, "j"), symlinks=True)

        def restore():
            shutil.rmtree(env.journal_dir)
            shutil.copytree(os.path.join(pristine, "j"), env.journal_dir, symlinks=True)

        forge = os.environ.get("MJ_FORGE_REVIEW")
        self.assertTrue(forge and os.path.exists(forge), "MJ_FORGE_REVIEW: forge_review is not built")

        def forged(*args):
            p = subprocess.run([forge, env.journal_dir] + [str(a) for a in args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, check=False)
            self.assertEqual(p.returncode, 0, p.stderr)
            return p.stdout.decode().strip()

        def assert_fails_at(seq, *words):
            rc, v, err = self.verify(journal=True)
            self.assertEqual(rc, EX_DATAERR, (v, err))
            self.assertEqual(v["first_bad_seq"], seq, v)
            for w in words:
                self.assertIn(w, v["problem"], v)

        # A review entry written straight into the database.
        raw = int(forged("raw", s["r_high"]))
        assert_fails_at(raw)
        # A decision's status changed in place.
        restore()
        forged("status", decision, "escalated")
        assert_fails_at(decision, "entry %d" % decision)
        # A review entry, through the library, that names no message (the policy entry, 1).
        restore()
        named = int(forged("names", 1))
        assert_fails_at(named, "review entry %d" % named, "which is not an earlier message")


if __name__ == "__main__":
    harness.main()
