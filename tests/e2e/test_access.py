#!/usr/bin/env python3
"""Access control and the audit trail through a real Postfix (issue 7), with real unix users
and groups made by the test.

The site is set up as mailjournald(8), ACCESS CONTROL, says: the admin socket (mode 0660) is
in a set-group-ID directory of the group that may connect (the socket group); the policy has
two departments with mail, retail and brokerage, and one role granting the retail officers'
group search, read and export on retail only.  Users:

  officer   primary group: the socket group; member of the retail officers' group.  Made the
            retail key pair (mailjournal keygen, as on their own machine): retail mail is
            sealed to it, brokerage and default mail to the harness's e2e key.
  other     primary group: the socket group; no role.
  outsider  neither group: cannot connect at all.

Each runs the tool over the admin socket with runuser (which sets the supplementary groups,
as SO_PEERGROUPS then reports them); root reads the audit trail.

Run: python3 tests/e2e/test_access.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness   # noqa: E402

POLICY = """\
version: 1
retention: {r5: 5y, r7: 7y}
departments:
  - name: retail
    members: ["@retail.example"]
    retention: r5
    keys: [keys/retail.crt]
  - name: brokerage
    members: ["@brokerage.example"]
    retention: r7
    keys: [%(e2e)s]
  - name: default
    retention: r7
    keys: [%(e2e)s]
access:
  - role: retail-officers
    groups: [%(officers)s]
    departments: [retail]
    operations: [search, read, export]
"""

# name: (mail_from, rcpts, departments)
MAIL = {
    "retail": ("ann@retail.example", ["customer@example.net"], ["retail"]),
    "retail-in": ("customer@example.net", ["ben@retail.example"], ["retail"]),
    "brokerage": ("bo@brokerage.example", ["client@example.net"], ["brokerage"]),
    "both": ("ann@retail.example", ["bo@brokerage.example"], ["brokerage", "retail"]),
    "default": ("x@example.org", ["y@example.net"], ["default"]),
}
RETAIL = ("retail", "retail-in", "both")   # the officer's, in the order sent

PASSPHRASE = "retail officer's passphrase"


def refusal(user, what):
    """The tool's message for a request that no role grants."""
    return "mailjournal: user %s (uid %d) may not %s: no access role of the policy grants it\n" % (
        user.pw_name, user.pw_uid, what)


def ranges(seqs):
    """Sorted sequence numbers as the audit trail's inclusive ranges [[a, b], ...]."""
    out = []
    for s in sorted(seqs):
        if out and out[-1][1] + 1 == s:
            out[-1][1] = s
        else:
            out.append([s, s])
    return out


class AccessTest(harness.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.accounts = harness.UnixAccounts()
        cls.addClassCleanup(cls.accounts.close)
        cls.socket_group = cls.accounts.group("mjsock")
        officers = cls.accounts.group("mjoff")
        outsiders = cls.accounts.group("mjout")
        cls.officer = cls.accounts.user("mjo", cls.socket_group.gr_name, [officers.gr_name])
        cls.other = cls.accounts.user("mjx", cls.socket_group.gr_name)
        cls.outsider = cls.accounts.user("mjn", outsiders.gr_name)
        cls.check_tool_runs_as(cls.officer)

        cls.env = harness.E2E(start_daemon=False)
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        env = cls.env
        # The officer makes the retail key pair in a directory of their own.
        cls.keys = os.path.join(env.base, "officer-keys")
        os.mkdir(cls.keys, 0o700)
        os.chown(cls.keys, cls.officer.pw_uid, cls.officer.pw_gid)
        cls.passfile = os.path.join(cls.keys, "pass")
        cls.as_officer_write(cls.passfile, PASSPHRASE + "\n")
        p = harness.run(["runuser", "-u", cls.officer.pw_name, "--", harness.MAILJOURNAL, "keygen",
                         "--department", "retail", "-o", cls.keys, "--passphrase-file", cls.passfile,
                         "--format", "json"], timeout=120)
        cls.retail_fingerprint = json.loads(p.stdout)["fingerprint"]
        cls.retail_key = os.path.join(cls.keys, "retail.key")
        with open(os.path.join(cls.keys, "retail.crt")) as f:
            env.write_policy(POLICY % {"e2e": harness.E2E_CERT, "officers": officers.gr_name},
                             {"keys/retail.crt": f.read()})
        env.restrict_sockets(cls.socket_group)
        env.daemon.start()

        cls.sent = {}
        for name, (mail_from, rcpts, _) in MAIL.items():
            raw = ("From: %s\r\nTo: %s\r\nSubject: access test %s\r\nMessage-ID: <%s@access.test>\r\n"
                   "Date: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nThe %s message.\r\n" % (
                       mail_from, ", ".join(rcpts), name, name, name)).encode()
            cls.sent[name] = env.send_ok(raw, mail_from=mail_from, rcpts=rcpts)
        env.wait_delivered(len(MAIL))
        cls.entry = {name: env.entry_for_qid(r.queue_id) for name, r in cls.sent.items()}
        cls.seq = {name: e["seq"] for name, e in cls.entry.items()}
        cls.delivered = {name: env.delivery_for(r.queue_id).content for name, r in cls.sent.items()}

    @classmethod
    def check_tool_runs_as(cls, user):
        p = harness.run(["runuser", "-u", user.pw_name, "--", harness.MAILJOURNAL, "--version"], check=False)
        if p.returncode != 0:
            raise harness.HarnessError("user %s cannot run %s (is the build directory readable by all?): %s" % (
                user.pw_name, harness.MAILJOURNAL, p.stderr.decode(errors="replace")))

    @classmethod
    def as_officer_write(cls, path, text):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chown(path, cls.officer.pw_uid, cls.officer.pw_gid)

    # ------------------------------------------------------------------ helpers
    def tool_as(self, user, *args):
        """mailjournal ARGS over the admin socket as user (no automatic key)."""
        return self.env.tool.run(*args, as_user=user.pw_name, key=False)

    def officer_key_args(self):
        return ["--key", self.retail_key, "--passphrase-file", self.passfile]

    def audit(self, *args):
        """mailjournal audit --format json ARGS, as root."""
        return self.env.tool.parse_jsonl(self.env.tool.ok("audit", "--format", "json", *args))

    def newest_access(self, user, n):
        """The n newest access entries of user, oldest first."""
        found = self.audit("--user", user.pw_name, "--reverse", "--limit", str(n))
        self.assertEqual(len(found), n, found)
        return found[::-1]

    def last_seq(self):
        return self.env.tool.status()["last_seq"]   # status is not recorded

    def assert_access(self, entry, user, operation, allowed, arguments=None, seqs=None, outcome=None):
        self.assertEqual(entry["kind"], "access", entry)
        self.assertEqual(entry["by"], {"uid": user.pw_uid, "user": user.pw_name}, entry)
        self.assertEqual(entry["operation"], operation, entry)
        self.assertIs(entry["allowed"], allowed, entry)
        if arguments is not None:
            self.assertEqual(entry["arguments"], arguments, entry)
        if seqs is not None:
            self.assertEqual(entry["seqs"], seqs, entry)
        if outcome is not None:
            self.assertEqual(entry["outcome"], outcome, entry)

    # ------------------------------------------------------------------ the socket
    def test_the_admin_socket_admits_its_group_and_no_one_else(self):
        st = os.stat(self.env.daemon.admin_sock)
        self.assertEqual(st.st_mode & 0o7777, 0o660)
        self.assertEqual(st.st_uid, self.env.daemon_uid)   # the daemon's user
        self.assertEqual(st.st_gid, self.socket_group.gr_gid)   # its directory's group
        p = self.tool_as(self.outsider, "list")
        self.assertEqual(p.returncode, 69, p.stderr)
        self.assertIn(("mailjournal: cannot connect to %s: Permission denied" % self.env.daemon.admin_sock).encode(),
                      p.stderr)
        # The daemon never heard of them: nothing to record.
        self.assertEqual(self.audit("--user", self.outsider.pw_name), [])
        self.assertEqual(self.audit("--user", str(self.outsider.pw_uid)), [])

    # ------------------------------------------------------------------ the officer
    def test_the_officer_lists_exactly_the_mail_of_their_department(self):
        for name, (_, _, departments) in MAIL.items():
            self.assertEqual(self.entry[name]["departments"], departments, name)
        want = [self.seq[n] for n in RETAIL]
        every = [e["seq"] for e in self.env.entries() if "retail" in e["departments"]]
        self.assertEqual(want, every)   # what root sees of retail, and only that
        p = self.tool_as(self.officer, "list", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        listed = self.env.tool.parse_jsonl(p.stdout)
        self.assertEqual([e["seq"] for e in listed], want)
        # --all adds nothing: the other kinds of entry need the audit grant.
        p = self.tool_as(self.officer, "list", "--all")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([int(line.split()[0]) for line in p.stdout.decode().splitlines()], want)
        listed_json, listed_all = self.newest_access(self.officer, 2)
        self.assert_access(listed_json, self.officer, "list", True, seqs=ranges(want), outcome="")
        self.assert_access(listed_all, self.officer, "list", True, seqs=ranges(want), outcome="")
        self.assertIs(listed_all["arguments"]["all"], True)
        self.assertIs(listed_json["arguments"]["all"], False)
        # A search that finds part of it records what it returned.
        p = self.tool_as(self.officer, "list", "--rcpt", "bo@brokerage", "--format", "json")
        self.assertEqual([e["seq"] for e in self.env.tool.parse_jsonl(p.stdout)], [self.seq["both"]])
        (searched,) = self.newest_access(self.officer, 1)
        self.assert_access(searched, self.officer, "list", True, seqs=ranges([self.seq["both"]]))
        self.assertEqual(searched["arguments"]["rcpt"], "bo@brokerage")

    def test_the_officer_exports_their_departments_mail_with_their_own_key(self):
        for name in ("retail", "both"):
            seq = self.seq[name]
            with self.subTest(message=name):
                self.assertIn(self.retail_fingerprint, self.entry[name]["seal"]["recipients"])
                p = self.tool_as(self.officer, "export", seq, *self.officer_key_args())
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stdout, self.delivered[name], harness.bytes_diff(self.delivered[name], p.stdout))
                # the tool asks for the entry, then for its content
                shown, exported = self.newest_access(self.officer, 2)
                self.assert_access(shown, self.officer, "show", True, {"seq": seq}, [[seq, seq]], "")
                self.assert_access(exported, self.officer, "export", True, {"seq": seq, "purpose": "export"},
                                   [[seq, seq]], "")
        p = self.tool_as(self.officer, "show", self.seq["retail-in"], "--body", *self.officer_key_args())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.endswith(b"\n\n" + self.delivered["retail-in"]), p.stdout)
        shown, read = self.newest_access(self.officer, 2)
        self.assert_access(read, self.officer, "export", True, {"seq": self.seq["retail-in"], "purpose": "read"})

    def test_the_officer_is_refused_the_mail_of_another_department(self):
        for name in ("brokerage", "default"):
            seq = self.seq[name]
            attempts = [("show", seq), ("show", seq, "--body", *self.officer_key_args()),
                        ("export", seq, *self.officer_key_args()), ("export", seq, "--sealed")]
            for args in attempts:
                with self.subTest(message=name, args=args[:3]):
                    p = self.tool_as(self.officer, *args)
                    self.assertEqual(p.returncode, 77, p.stderr)
                    self.assertEqual(p.stdout, b"")
                    # export asks for the entry first: what the officer may not see is
                    # refused there
                    self.assertEqual(p.stderr.decode(), refusal(self.officer, "read message %d" % seq))
                    (refused,) = self.newest_access(self.officer, 1)
                    self.assert_access(refused, self.officer, "show", False, {"seq": seq}, [],
                                       refusal(self.officer, "read message %d" % seq)[len("mailjournal: "):-1])

    def test_the_officer_may_not_read_the_audit_trail(self):
        p = self.tool_as(self.officer, "audit")
        self.assertEqual(p.returncode, 77, p.stderr)
        self.assertEqual(p.stderr.decode(), refusal(self.officer, "audit (operation audit)"))
        (refused,) = self.newest_access(self.officer, 1)
        self.assert_access(refused, self.officer, "audit", False, seqs=[])

    # ------------------------------------------------------------------ a user without a role
    def test_a_user_without_a_role_is_refused_everything(self):
        seq = self.seq["retail"]
        attempts = [
            (("list",), "list", "search messages"),
            (("list", "--all", "--format", "json"), "list", "search messages"),
            (("show", seq), "show", "read message %d" % seq),
            (("export", seq, "--sealed"), "show", "read message %d" % seq),
            (("audit",), "audit", "audit (operation audit)"),
            (("verify",), "verify", "verify (operation verify)"),
            (("policy", "show"), "policy_show", "policy (operation policy_show)"),
        ]
        for args, operation, what in attempts:
            with self.subTest(args=args):
                p = self.tool_as(self.other, *args)
                self.assertEqual(p.returncode, 77, p.stderr)
                self.assertEqual(p.stdout, b"")
                self.assertEqual(p.stderr.decode(), refusal(self.other, what))
                (refused,) = self.newest_access(self.other, 1)
                self.assert_access(refused, self.other, operation, False, seqs=[],
                                   outcome=refusal(self.other, what)[len("mailjournal: "):-1])

    # ------------------------------------------------------------------ the audit trail
    def test_every_attempt_is_in_the_audit_trail_with_the_callers_identity(self):
        before = self.last_seq()
        r, b = self.seq["retail"], self.seq["brokerage"]
        attempts = [   # (user, tool arguments, [(operation, allowed), ...] it records)
            (self.officer, ["list"], [("list", True)]),
            (self.other, ["list"], [("list", False)]),
            (self.officer, ["export", r] + self.officer_key_args(), [("show", True), ("export", True)]),
            (self.officer, ["export", b, "--sealed"], [("show", False)]),
            (self.other, ["export", r, "--sealed"], [("show", False)]),
            (self.officer, ["show", r], [("show", True)]),
            (self.other, ["audit"], [("audit", False)]),
        ]
        expected = []
        for user, args, records in attempts:
            self.tool_as(user, *args)
            expected += [(user.pw_uid, user.pw_name, op, allowed) for op, allowed in records]
        trail = [e for e in self.audit() if e["seq"] > before]
        self.assertEqual([(e["by"]["uid"], e["by"]["user"], e["operation"], e["allowed"]) for e in trail], expected)
        # Nothing else was appended meanwhile: the trail is every entry since.
        self.assertEqual([e["seq"] for e in trail], list(range(before + 1, before + 1 + len(expected))))
        # --user filters by name or uid.
        for user in (self.officer, self.other):
            for key in (user.pw_name, str(user.pw_uid)):
                mine = [e for e in self.audit("--user", key) if e["seq"] > before]
                self.assertEqual([e["seq"] for e in mine], [e["seq"] for e in trail if e["by"]["uid"] == user.pw_uid])
        # --operation, and the text form: one grep-able line per entry.
        exports = self.audit("--operation", "export", "--user", self.officer.pw_name)
        self.assertTrue(exports and all(e["operation"] == "export" for e in exports), exports)
        text = self.env.tool.ok("audit", "--user", self.other.pw_name, "--since", trail[0]["time"]).decode()
        lines = text.splitlines()
        self.assertEqual(len(lines), 3, text)
        self.assertRegex(lines[0], r"^%d \S+ access %s\(%d\) list REFUSED \{[^ ]*\} seqs=- outcome=user %s " % (
            trail[1]["seq"], re.escape(self.other.pw_name), self.other.pw_uid, re.escape(self.other.pw_name)))
        self.assertRegex(lines[1], r"^%d \S+ access %s\(%d\) show REFUSED \{\"seq\":%d\} seqs=- outcome=" % (
            trail[5]["seq"], re.escape(self.other.pw_name), self.other.pw_uid, r))
        # root's own requests are recorded too, as root's: the audit just made is the newest.
        (newest,) = self.audit("--reverse", "--limit", "1")
        self.assertEqual((newest["by"], newest["operation"], newest["allowed"]),
                         ({"uid": 0, "user": "root"}, "audit", True))

    def test_audit_seq_gives_the_requests_that_returned_or_named_a_message(self):
        r = self.seq["retail-in"]
        before = self.last_seq()
        self.tool_as(self.officer, "list", "--rcpt", "ben@retail")   # returns it
        self.tool_as(self.other, "show", r)                         # names it, refused
        self.tool_as(self.officer, "list", "--rcpt", "nobody@")      # neither
        about = self.audit("--seq", str(r))
        self.assertTrue(about)
        for e in about:
            returned = any(a <= r <= b for a, b in e["seqs"])
            self.assertTrue(returned or e["arguments"].get("seq") == r, e)
        since = [(e["by"]["user"], e["operation"], e["allowed"]) for e in about if e["seq"] > before]
        self.assertEqual(since, [(self.officer.pw_name, "list", True), (self.other.pw_name, "show", False)])

    def test_list_all_shows_the_audit_trail_to_root(self):
        p = self.tool_as(self.officer, "show", self.seq["retail"])
        self.assertEqual(p.returncode, 0, p.stderr)
        (shown,) = self.newest_access(self.officer, 1)
        lines = self.env.tool.ok("list", "--all", "--since", shown["time"]).decode().splitlines()
        self.assertEqual(lines[0], "%d %s access %s(%d) show allowed {\"seq\":%d} seqs=%d" % (
            shown["seq"], shown["time"], self.officer.pw_name, self.officer.pw_uid, self.seq["retail"],
            self.seq["retail"]))
        detail = self.env.tool.ok("show", shown["seq"]).decode()
        self.assertRegex(detail, r"(?m)^by: +%s \(uid %d\)$" % (re.escape(self.officer.pw_name), self.officer.pw_uid))
        self.assertRegex(detail, r"(?m)^operation: +show$")
        self.assertRegex(detail, r"(?m)^allowed: +yes$")
        self.assertRegex(detail, r"(?m)^seqs: +%d$" % self.seq["retail"])


if __name__ == "__main__":
    harness.main()
