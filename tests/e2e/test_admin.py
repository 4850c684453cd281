#!/usr/bin/env python3
"""The mailjournal tool and the admin socket against a running mailjournald.

list/show/export/status in text and JSON, filters, mbox export, exit codes, the raw admin
protocol, and --journal DIR (refused with 75 while the daemon runs, same answers after it stops).
The harness's policy seals every message to the e2e key, with which env.tool exports.

Run: python3 tests/e2e/test_admin.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import datetime
import json
import os
import re
import signal
import socket
import sys
import tempfile
import threading
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus    # noqa: E402
import harness   # noqa: E402


# The first start journals the policy (seq 1) and the e2e key it gives the default department
# (seq 2, a key entry); the messages follow from seq START + 1.
START = 2


def case(name):
    return next(c for c in corpus.file_cases() if c.name.startswith(name))


# (mail_from, rcpts, corpus case, mail_options or None for the case's own)
FIRST_BATCH = [
    ("alice@example.org", ["bob@example.net"], "01-plain-ascii"),
    ("carol@example.com", ["dave@example.net", "erin@example.org"], "03-multipart-alternative"),
    ("", ["postmaster@example.net"], "34-null-sender-dsn"),
]
SECOND_BATCH = [
    ("alice@example.org", ["frank@example.net", "bob@example.net"], "14-from-lines"),
    ("Zed.Upper@Example.COM", ["bob@example.net"], "13-leading-dots"),
    ("jörg@exämple.org", ["李明@例子.中国"], "07-smtputf8"),
]


def send_batch(env, batch, out):
    for mail_from, rcpts, name in batch:
        c = case(name)
        if c.smtputf8 and not env.sink.supports_smtputf8:
            continue
        r = env.send_ok(c.data, mail_from=mail_from, rcpts=rcpts, mail_options=c.mail_options)
        out.append((mail_from, rcpts, r, env.delivery_for(r.queue_id)))


def iso(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class AdminTest(harness.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = harness.E2E()
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        cls.sent = []
        send_batch(cls.env, FIRST_BATCH, cls.sent)
        # the second batch starts in a later whole second, so --since/--until have a clean cut
        last = max(r.t_end for _, _, r, _ in cls.sent)
        cls.cut = (last + datetime.timedelta(seconds=1)).replace(microsecond=0)
        harness.wait_until(lambda: datetime.datetime.now(datetime.timezone.utc) >= cls.cut, 5, "next second")
        cls.n_first = len(cls.sent)
        send_batch(cls.env, SECOND_BATCH, cls.sent)
        cls.entries = cls.env.entries()
        cls.tool = cls.env.tool
        # seq 1 is the policy loaded at start, 2 its key; the messages follow (no reloads here)
        cls.seq = [e["seq"] for e in cls.entries]
        cls.last_seq = len(cls.entries) + START

    # ---------------------------------------------------------------- list
    def test_list_json(self):
        self.assertEqual(len(self.entries), len(self.sent))
        self.assertEqual(self.seq, list(range(START + 1, len(self.sent) + START + 1)))
        for e, (mail_from, rcpts, r, d) in zip(self.entries, self.sent):
            with self.subTest(seq=e["seq"]):
                self.assertEqual(e["queue_id"], r.queue_id)
                self.assertEqual(e["mail_from"], mail_from)
                self.assertEqual(e["rcpt"], rcpts)
                self.assert_entry_content(e, d.content)
                self.assert_sealed_to_e2e(e)
                self.assertEqual(e["client_addr"], "127.0.0.1")
                self.assertEqual(e["departments"], ["default"])
                self.assertEqual(e["policy"], self.tool.policy_digest())

    def test_list_all_includes_policy_entries(self):
        listed = self.tool.list("--all")
        self.assertEqual([e["seq"] for e in listed], list(range(1, len(listed) + 1)))
        # the audit trail: this class's tool requests, after the entries made by mail
        every = [e for e in listed if e["kind"] != "access"]
        self.assertEqual([e["seq"] for e in every], list(range(1, self.last_seq + 1)))
        audit = [e for e in listed if e["kind"] == "access"]
        self.assertEqual(audit[0]["seq"], self.last_seq + 1)
        self.assertEqual((audit[0]["operation"], audit[0]["by"]["uid"], audit[0]["allowed"]), ("list", 0, True))
        self.assertEqual(audit[0]["seqs"], [[self.seq[0], self.seq[-1]]])   # what setUpClass listed
        self.assertEqual(harness.kinds(every), "PK" + "M" * len(self.entries))
        policy, key, messages = every[0], every[1], every[2:]
        self.assertEqual(messages, self.entries)
        self.assertEqual(set(policy), {"seq", "kind", "time", "digest", "reason", "files"})
        self.assertEqual((policy["seq"], policy["kind"], policy["reason"]), (1, "policy", "start"))
        self.assertEqual(key, {"seq": 2, "kind": "key", "time": policy["time"], "action": "added",
                               "department": "default", "escrow": False,
                               "fingerprint": harness.e2e_keys().fingerprint, "file": self.env.e2e_cert_path,
                               "policy": policy["digest"]})
        self.assertEqual(policy["digest"], self.tool.policy_digest())
        self.assertEqual(policy["files"], [harness.file_record(self.env.policy_path),
                                           harness.file_record(self.env.e2e_cert_path)])
        self.assertLessEqual(harness.parse_iso(policy["time"]), harness.parse_iso(messages[0]["time"]))
        # text: the policy entry as SEQ TIME policy DIGEST REASON, the key entry as SEQ TIME key
        # ACTION department=NAME FINGERPRINT FILE, messages as with plain list
        text = self.tool.ok("list", "--all").decode("utf-8").splitlines()
        self.assertEqual(text[0], "1 %s policy %s start" % (policy["time"], policy["digest"]))
        self.assertEqual(text[1], "2 %s key added department=default %s %s" % (
            key["time"], key["fingerprint"], key["file"]))
        self.assertEqual(text[2:2 + len(self.entries)], self.tool.ok("list").decode("utf-8").splitlines())
        self.assertEqual(self.tool.show(1), policy)
        self.assertEqual(self.tool.show(2), key)
        # filters select messages only, --all or not
        self.assertEqual([e["seq"] for e in self.tool.list("--all", "--from", "alice")],
                         [e["seq"] for e in self.entries if "alice" in e["mail_from"]])
        newest = self.tool.last_seq()   # the audit trail's newest entries by now
        self.assertEqual([e["seq"] for e in self.tool.list("--all", "--reverse", "--limit", "2")],
                         [newest, newest - 1])
        self.assertEqual([e["seq"] for e in self.tool.list("--all", "--limit", "2")], [1, 2])

    def test_show_policy_entry_text(self):
        out = self.tool.ok("show", "1").decode("utf-8")
        self.assertIn("kind:        policy\n", out)
        self.assertIn("digest:      %s\n" % self.tool.policy_digest(), out)
        self.assertIn("reason:      start\n", out)
        for path in (self.env.policy_path, self.env.e2e_cert_path):
            f = harness.file_record(path)
            self.assertIn("file:        %s (%d bytes, sha256 %s)\n" % (path, f["size"], f["sha256"]), out)

    def test_export_policy_entry_refused(self):
        p = self.tool.run("export", "1")
        self.assertEqual(p.returncode, 66, p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertEqual(p.stderr, b"mailjournal: entry 1 is a policy entry, not a message\n")
        p = self.tool.run("export", "2")
        self.assertEqual(p.returncode, 66, p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertEqual(p.stderr, b"mailjournal: entry 2 is a key entry, not a message\n")

    def test_list_text(self):
        out = self.tool.ok("list").decode("utf-8")
        self.assertEqual(out, self.tool.ok("list", "--format", "text").decode("utf-8"))
        lines = out.splitlines()
        self.assertEqual(len(lines), len(self.entries), out)
        for line, e in zip(lines, self.entries):
            with self.subTest(seq=e["seq"]):
                m = re.match(r"^(\d+) (\S+) (\S+) (.*?) ?-> (\S+) (\d+)$", line)
                self.assertIsNotNone(m, line)
                self.assertEqual(int(m.group(1)), e["seq"])
                harness.parse_iso(m.group(2))  # a time stamp
                self.assertEqual(m.group(3), e["queue_id"])
                # the spec does not say whether addresses are bracketed here: accept both
                self.assertIn(m.group(4), (e["mail_from"], "<%s>" % e["mail_from"]))
                rcpts = m.group(5).split(",")
                self.assertEqual(len(rcpts), len(e["rcpt"]))
                for shown, addr in zip(rcpts, e["rcpt"]):
                    self.assertIn(shown, (addr, "<%s>" % addr))
                self.assertEqual(int(m.group(6)), e["size"])

    def seqs(self, *args):
        return [e["seq"] for e in self.tool.list(*args)]

    def test_list_from_filter_case_insensitive_substring(self):
        alice = [e["seq"] for e in self.entries if "alice" in e["mail_from"]]
        self.assertEqual(len(alice), 2)
        self.assertEqual(self.seqs("--from", "ALICE@EXAMPLE"), alice)
        dotcom = [e["seq"] for e in self.entries if "example.com" in e["mail_from"].lower()]
        self.assertEqual(len(dotcom), 2)   # carol@example.com and Zed.Upper@Example.COM
        self.assertEqual(self.seqs("--from", "example.com"), dotcom)
        self.assertEqual(self.seqs("--from", "nobody-sent-this"), [])

    def test_list_rcpt_filter(self):
        bob = [e["seq"] for e in self.entries if any("bob@" in x for x in e["rcpt"])]
        self.assertEqual(len(bob), 3)
        self.assertEqual(self.seqs("--rcpt", "Bob@Example.Net"), bob)
        self.assertEqual(self.seqs("--rcpt", "erin"), [self.seq[1]])

    def test_list_limit_and_reverse(self):
        all_seqs = [e["seq"] for e in self.entries]
        self.assertEqual(self.seqs("--limit", "2"), all_seqs[:2])
        self.assertEqual(self.seqs("--reverse"), all_seqs[::-1])
        self.assertEqual(self.seqs("--reverse", "--limit", "2"), all_seqs[::-1][:2])
        self.assertEqual(self.seqs("--from", "alice", "--limit", "1"), [self.seq[0]])
        self.assertEqual(self.seqs("--from", "alice", "--reverse", "--limit", "1"), [self.seq[3]])

    def test_list_since_until(self):
        cut = self.cut
        before = [e["seq"] for e in self.entries if harness.parse_iso(e["time"]) < cut]
        after = [e["seq"] for e in self.entries if harness.parse_iso(e["time"]) >= cut]
        self.assertEqual(before, self.seq[:self.n_first])
        self.assertTrue(after)
        plus8 = cut.astimezone(datetime.timezone(datetime.timedelta(hours=8))).strftime("%Y-%m-%dT%H:%M:%S+08:00")
        for spelling in (iso(cut), plus8):
            with self.subTest(t=spelling):
                self.assertEqual(self.seqs("--since", spelling), after)
                self.assertEqual(self.seqs("--until", spelling), before)
                self.assertEqual(self.seqs("--since", spelling, "--until", spelling), [])
        day = datetime.datetime.now(datetime.timezone.utc).date()
        self.assertEqual(self.seqs("--since", day.isoformat()), before + after)
        self.assertEqual(self.seqs("--until", day.isoformat()), [])
        self.assertEqual(self.seqs("--until", (day + datetime.timedelta(days=1)).isoformat()), before + after)
        self.assertEqual(self.seqs("--since", iso(cut), "--from", "alice"), [self.seq[3]])

    def test_list_bad_time_is_usage_error(self):
        p = self.tool.run("list", "--since", "yesterday-ish", timeout=30)
        self.assertEqual(p.returncode, 64, p.stderr)

    # ---------------------------------------------------------------- show
    def test_show_json_equals_list_entry(self):
        for e in self.entries:
            with self.subTest(seq=e["seq"]):
                self.assertEqual(self.tool.show(e["seq"]), e)

    def test_show_text(self):
        e = self.entries[1]
        out = self.tool.ok("show", str(e["seq"])).decode("utf-8")
        lines = out.splitlines()
        self.assertTrue(lines)
        for l in lines:
            self.assertRegex(l, r"^[A-Za-z_][A-Za-z0-9_-]*: ")
        self.assertIn(e["queue_id"], out)
        self.assertIn("carol@example.com", out)
        self.assertIn("dave@example.net", out)
        self.assertIn("erin@example.org", out)
        self.assertIn(e["sha256"], out)
        self.assertIn("departments: default\n", out)
        self.assertIn("retention:   standard, retain until %s\n" % e["retain_until"], out)
        self.assertIn("policy:      %s\n" % e["policy"], out)

    def test_missing_entry(self):
        n = self.tool.last_seq() + 1000
        for args in (("show", str(n)), ("export", str(n))):
            with self.subTest(cmd=args[0]):
                p = self.tool.run(*args)
                self.assertEqual(p.returncode, 66, p.stderr)
                self.assertEqual(p.stdout, b"")

    # ---------------------------------------------------------------- export
    def test_export_eml_stdout_and_file(self):
        tmp = tempfile.mkdtemp(prefix="mj-e2e-out-")
        self.addCleanup(shutil.rmtree, tmp, True)
        for e, (_, _, _, d) in zip(self.entries, self.sent):
            with self.subTest(seq=e["seq"]):
                self.assertEqual(self.tool.export(e["seq"]), d.content)
                self.assertEqual(self.tool.ok("export", str(e["seq"]), "--format", "eml"), d.content)
                path = os.path.join(tmp, "%d.out" % e["seq"])
                self.assertEqual(self.tool.ok("export", str(e["seq"]), "-o", path), b"")
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), d.content)

    def test_export_range_to_directory(self):
        tmp = tempfile.mkdtemp(prefix="mj-e2e-out-")
        self.addCleanup(shutil.rmtree, tmp, True)
        first, last = self.seq[0], self.seq[-1]
        self.tool.ok("export", "%d-%d" % (first, last - 1), str(last), "-o", tmp)
        self.assertEqual(sorted(os.listdir(tmp)), sorted("%d.eml" % i for i in self.seq))
        for seq, (_, _, _, d) in zip(self.seq, self.sent):
            with open(os.path.join(tmp, "%d.eml" % seq), "rb") as f:
                self.assertEqual(f.read(), d.content)

    def test_export_several_to_stdout_is_usage_error(self):
        p = self.tool.run("export", "1", "2")
        self.assertEqual(p.returncode, 64, p.stderr)

    def test_export_unwritable_output(self):
        p = self.tool.run("export", "1", "-o", "/nonexistent-dir/x.eml")
        self.assertEqual(p.returncode, 73, p.stderr)

    def test_export_mbox(self):
        expected = harness.mbox_expected([(e, d.content) for e, (_, _, _, d) in zip(self.entries, self.sent)])
        # sanity of the expectation itself: From lines in the body were quoted
        self.assertIn(b"\n>From the start of a line\n>>From quoted once\n>>>From quoted twice\n", expected)
        self.assertIn(b"From MAILER-DAEMON ", expected)
        messages = "%d-%d" % (self.seq[0], self.seq[-1])
        out = self.tool.ok("export", messages, "--format", "mbox")
        self.assertEqual(out, expected, harness.bytes_diff(expected, out))
        tmp = tempfile.mkdtemp(prefix="mj-e2e-out-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "all.mbox")
        self.tool.ok("export", messages, "--format", "mbox", "-o", path)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), expected)
        one = self.tool.ok("export", str(self.seq[3]), "--format", "mbox")
        self.assertEqual(one, harness.mbox_expected([(self.entries[3], self.sent[3][3].content)]))

    # ---------------------------------------------------------------- status, errors
    def test_status(self):
        st = self.tool.status()
        st = st.get("status", st)
        # the policy and key entries, the messages, and the audit trail of the tool's requests
        # (status itself is not recorded: asking twice gives the same number)
        self.assertGreater(st["last_seq"], self.last_seq)
        self.assertEqual(self.tool.last_seq(), st["last_seq"])
        self.assertEqual(st["mode"], "daemon")
        self.assertEqual(os.path.realpath(st["journal"]), os.path.realpath(self.env.journal_dir))
        self.assertEqual(st["pid"], self.env.daemon.proc.pid)
        self.assertTrue(st["version"])
        text = self.tool.ok("status").decode("utf-8")
        self.assertRegex(text, r"last_seq\D+%d\b" % st["last_seq"])
        self.assertIn(str(self.env.daemon.proc.pid), text)
        self.assertIn(self.env.journal_dir, text)

    def test_status_last_seq_counts_entries_and_uptime(self):
        # seqs are dense, so last_seq is the number of entries of every kind (there is no
        # separate entries count); the daemon reports its uptime in whole seconds
        st = self.tool.status()
        st = st.get("status", st)
        self.assertEqual(st["last_seq"], len(self.tool.list("--all")))
        self.assertIsInstance(st["uptime_s"], int)
        started = harness.parse_iso(st["started"])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLessEqual(started, now)
        self.assertLessEqual(abs((now - started).total_seconds() - st["uptime_s"]), 2, st)
        text = self.tool.ok("status").decode("utf-8")
        self.assertRegex(text, r"(?m)^uptime_s:\s+\d+$")
        self.assertRegex(text, r"(?m)^started:\s+%s$" % re.escape(st["started"]))

    def test_socket_modes(self):
        for sock in (self.env.daemon.milter_sock, self.env.daemon.admin_sock):
            self.assertEqual(os.stat(sock).st_mode & 0o777, 0o666, sock)   # --socket-mode 0666

    def test_socket_unavailable(self):
        missing = os.path.join(self.env.base, "no-such.sock")
        tool = harness.Tool(socket_path=missing)
        for args in (("status",), ("list",), ("export", "1")):
            with self.subTest(cmd=args[0]):
                p = tool.run(*args)
                self.assertEqual(p.returncode, 69, p.stderr)
                self.assertIn(("mailjournal: cannot connect to %s: " % missing).encode(), p.stderr)

    def test_usage_errors(self):
        for args in (("no-such-command",), ("show",), ("show", "abc"), ("list", "--limit", "x"),
                     ("export", "1", "--format", "pdf")):
            with self.subTest(args=args):
                p = self.tool.run(*args)
                self.assertEqual(p.returncode, 64, (p.stdout, p.stderr))

    # ---------------------------------------------------------------- raw protocol
    def test_admin_protocol(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.env.daemon.admin_sock)
        self.addCleanup(s.close)
        f = s.makefile("rwb")

        def req(obj):
            f.write(json.dumps(obj).encode() + b"\n")
            f.flush()
            line = f.readline()
            self.assertTrue(line.endswith(b"\n"), line)
            resp = json.loads(line)
            self.assertEqual(resp.get("v"), 1, resp)
            return resp

        n = self.last_seq          # seq 1: the policy; 2: its key; 3..n: the messages
        seq = self.seq
        r = req({"v": 1, "op": "status"})
        self.assertTrue(r["ok"])
        self.assertGreater(r["status"]["last_seq"], n)   # + the audit trail of the tool's requests
        beyond = r["status"]["last_seq"] + 1000
        self.assertEqual(r["status"]["pid"], self.env.daemon.proc.pid)
        self.assertEqual(r["status"]["journal"], self.env.journal_dir)
        self.assertTrue(r["status"]["version"])
        self.assertIsInstance(r["status"]["uptime_s"], int)
        self.assertNotIn("entries", r["status"])

        # list: messages only unless "all"
        r = req({"v": 1, "op": "list", "limit": 2})
        self.assertTrue(r["ok"])
        self.assertEqual([e["seq"] for e in r["entries"]], seq[:2])
        self.assertIs(r["more"], True)
        r = req({"v": 1, "op": "list", "limit": 2, "all": True})
        self.assertEqual([(e["seq"], e["kind"]) for e in r["entries"]], [(1, "policy"), (2, "key")])
        self.assertIs(r["more"], True)
        r = req({"v": 1, "op": "list", "after": seq[1], "limit": 1000})
        self.assertEqual([e["seq"] for e in r["entries"]], seq[2:])
        self.assertIs(r["more"], False)
        r = req({"v": 1, "op": "list", "reverse": True, "before": n, "limit": 2})
        self.assertEqual([e["seq"] for e in r["entries"]], [n - 1, n - 2])
        r = req({"v": 1, "op": "list", "reverse": True, "before": seq[1]})
        self.assertEqual([e["seq"] for e in r["entries"]], [seq[0]])
        r = req({"v": 1, "op": "list", "reverse": True, "before": seq[1], "all": True})
        self.assertEqual([e["seq"] for e in r["entries"]], [seq[0], 2, 1])
        r = req({"v": 1, "op": "list", "from": "ALICE", "rcpt": "frank"})
        self.assertEqual([e["seq"] for e in r["entries"]], [seq[3]])
        self.assertEqual(r["entries"][0], self.entries[3])
        r = req({"v": 1, "op": "list", "all": "yes"})
        self.assertFalse(r["ok"])
        self.assertEqual(r["error"]["code"], "bad_request")

        r = req({"v": 1, "op": "show", "seq": seq[1]})
        self.assertTrue(r["ok"])
        self.assertEqual(r["entry"], self.entries[1])
        r = req({"v": 1, "op": "show", "seq": 1})
        self.assertTrue(r["ok"])
        self.assertEqual(r["entry"]["kind"], "policy")
        r = req({"v": 1, "op": "show", "seq": 2})
        self.assertTrue(r["ok"])
        self.assertEqual(r["entry"]["kind"], "key")

        for i in (0, len(seq) - 1):
            r = req({"v": 1, "op": "export", "seq": seq[i]})
            self.assertTrue(r["ok"], r)
            data = f.read(r["size"])
            # the stored bytes: the sealed form (CMS), which the e2e key opens
            self.assertEqual(r["entry"]["seq"], seq[i])
            self.assertEqual((r["size"], harness.sha256(data)), (r["entry"]["size"], r["entry"]["sha256"]))
            self.assertTrue(r["entry"]["sealed"], r)
            self.assertEqual(data, self.tool.export_stored(seq[i]))
            self.assertEqual(harness.open_sealed(data), self.sent[i][3].content)
            self.assertEqual(json.loads(f.readline()), {"v": 1, "ok": True})   # trailer
        for other in (1, 2):   # a policy entry and a key entry have no content
            r = req({"v": 1, "op": "export", "seq": other})
            self.assertFalse(r["ok"])
            self.assertEqual(r["error"]["code"], "not_found")

        r = req({"v": 1, "op": "show", "seq": beyond})
        self.assertFalse(r["ok"])
        self.assertEqual(r["error"]["code"], "not_found")

        # the policy operations
        r = req({"v": 1, "op": "policy_show"})
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["policy"]["seq"], 1)
        self.assertEqual(r["policy"]["digest"], self.tool.policy_digest())
        self.assertEqual(r["policy"]["files"], [harness.file_record(self.env.policy_path, text=True),
                                                harness.file_record(self.env.e2e_cert_path, text=True)])
        self.assertEqual(r["policy"]["files"][0]["text"], harness.DEFAULT_POLICY)
        self.assertEqual(r["policy"]["keys"], [{"department": "default", "escrow": False, "file": self.env.e2e_cert_path,
                                                "fingerprint": harness.e2e_keys().fingerprint}])
        r = req({"v": 1, "op": "policy_explain", "from": "a@example.org", "rcpt": ["b@example.net"],
                 "time": "2024-02-29T12:00:00Z"})
        self.assertTrue(r["ok"], r)
        self.assertEqual((r["explain"]["departments"], r["explain"]["retention"], r["explain"]["retain_until"],
                          r["explain"]["policy_seq"]), (["default"], "standard", "2031-03-01T12:00:00.000000Z", 1))
        r = req({"v": 1, "op": "policy_explain", "from": "a@example.org", "rcpt": "b@example.net"})
        self.assertFalse(r["ok"])
        self.assertEqual(r["error"]["code"], "bad_request")
        r = req({"v": 1, "op": "frobnicate"})
        self.assertFalse(r["ok"])
        self.assertEqual(r["error"]["code"], "bad_request")
        f.write(b"this is not json\n")
        f.flush()
        resp = json.loads(f.readline())
        self.assertFalse(resp["ok"])
        self.assertEqual(resp["error"]["code"], "bad_request")
        # the connection still works after errors
        self.assertTrue(req({"v": 1, "op": "status"})["ok"])
        self.assertTrue(self.env.daemon.running())


    def test_admin_protocol_status_uptime(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.env.daemon.admin_sock)
        self.addCleanup(s.close)
        s.sendall(b'{"v":1,"op":"status"}\n')
        r = json.loads(s.makefile("rb").readline())
        self.assertTrue(r["ok"], r)
        self.assertIn("uptime_s", r["status"], r)   # spec: status {last_seq, journal, pid, version, uptime_s}
        self.assertIsInstance(r["status"]["uptime_s"], int)
        self.assertGreaterEqual(r["status"]["uptime_s"], 0)

    def test_admin_protocol_unsupported_version(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.env.daemon.admin_sock)
        self.addCleanup(s.close)
        f = s.makefile("rwb")
        for req in ({"v": 2, "op": "status"}, {"v": 0, "op": "list"}):
            with self.subTest(v=req["v"]):
                f.write(json.dumps(req).encode() + b"\n")
                f.flush()
                r = json.loads(f.readline())
                self.assertEqual(r.get("v"), 1, r)
                self.assertFalse(r["ok"])
                self.assertEqual(r["error"]["code"], "bad_request", r)
                self.assertIn("unsupported protocol version", r["error"]["message"])


class PagingTest(harness.E2ETestCase):
    """More entries than one admin response may carry (1000): the tool pages."""

    N = 1010

    @classmethod
    def setUpClass(cls):
        cls.env = harness.E2E()
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        nthreads = 5
        errors = []

        def worker(t):
            smtp = cls.env.connect()
            try:
                smtp.ehlo("paging.test.invalid")
                for i in range(t, cls.N, nthreads):
                    data = b"Subject: page %d\r\nMessage-ID: <page-%d@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\n%d\r\n" % (i, i, i)
                    r = cls.env.send(data, mail_from="pager%d@example.org" % i, rcpts=["p%d@example.net" % i], smtp=smtp)
                    if not r.accepted:
                        errors.append(r)
            finally:
                smtp.quit()
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(nthreads)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(600)
        if errors:
            raise harness.HarnessError("%d messages not accepted, first: %r" % (len(errors), errors[0]))
        cls.env.wait_delivered(cls.N, timeout=300)

    # seq 1 is the policy loaded at start, 2 its key, the messages are 3..N+2
    FIRST = START + 1
    LAST = START + N

    def test_list_returns_everything(self):
        entries = self.env.tool.list()
        self.assertEqual([e["seq"] for e in entries], list(range(self.FIRST, self.LAST + 1)))
        self.assertEqual(len({e["queue_id"] for e in entries}), self.N)
        every = [e for e in self.env.tool.list("--all") if e["kind"] != "access"]
        self.assertEqual([e["seq"] for e in every], list(range(1, self.LAST + 1)))
        self.assertEqual(every[START:], entries)

    def test_list_reverse_and_limit_across_pages(self):
        first, last = self.FIRST, self.LAST
        rev = [e["seq"] for e in self.env.tool.list("--reverse")]
        self.assertEqual(rev, list(range(last, first - 1, -1)))
        self.assertEqual([e["seq"] for e in self.env.tool.list("--all", "--reverse") if e["kind"] != "access"],
                         list(range(last, 0, -1)))
        self.assertEqual([e["seq"] for e in self.env.tool.list("--limit", "1005")], list(range(first, first + 1005)))
        self.assertEqual([e["seq"] for e in self.env.tool.list("--reverse", "--limit", "1003")],
                         list(range(last, last - 1003, -1)))
        text = self.env.tool.ok("list").decode().splitlines()
        self.assertEqual(len(text), self.N)
        # every entry made by mail, then the audit trail of this class's requests
        lines = self.env.tool.ok("list", "--all").decode().splitlines()
        self.assertEqual([int(l.split()[0]) for l in lines[:self.LAST]], list(range(1, self.LAST + 1)))
        self.assertGreater(len(lines), self.LAST)

    def test_protocol_caps_at_1000(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(self.env.daemon.admin_sock)
        self.addCleanup(s.close)
        f = s.makefile("rwb")
        f.write(b'{"v":1,"op":"list","limit":5000}\n')
        f.flush()
        r = json.loads(f.readline())
        self.assertEqual(len(r["entries"]), 1000)
        self.assertIs(r["more"], True)
        f.write(b'{"v":1,"op":"list"}\n')
        f.flush()
        r = json.loads(f.readline())
        self.assertEqual(len(r["entries"]), 1000)
        self.assertIs(r["more"], True)
        self.assertEqual(r["entries"][0]["seq"], self.FIRST)
        self.assertEqual(r["entries"][-1]["seq"], self.FIRST + 999)
        f.write(b'{"v":1,"op":"list","after":%d}\n' % (self.FIRST + 999))
        f.flush()
        r = json.loads(f.readline())
        self.assertEqual([e["seq"] for e in r["entries"]], list(range(self.FIRST + 1000, self.LAST + 1)))
        self.assertIs(r["more"], False)

    def test_export_range_mbox_large(self):
        # every message is sealed: the tool opens them all with the one e2e key
        out = self.env.tool.ok("export", "%d-%d" % (self.FIRST, self.LAST), "--format", "mbox")
        self.assertEqual(out.count(b"\nFrom pager"), self.N - 1)
        first = self.env.tool.show(self.FIRST)["mail_from"]
        self.assertTrue(out.startswith(b"From " + first.encode() + b" "), out[:100])


class DirectJournalTest(harness.E2ETestCase):
    """--journal DIR: refused while the daemon holds the journal, identical answers afterwards.
    The methods run in name order and share one fixture (the daemon is stopped in test_3)."""

    @classmethod
    def setUpClass(cls):
        cls.env = harness.E2E()
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        cls.sent = []
        send_batch(cls.env, FIRST_BATCH + SECOND_BATCH[:2], cls.sent)
        cls.n = len(cls.sent)
        cls.tool = cls.env.tool

    def test_1_refused_while_daemon_runs(self):
        self.assertTrue(self.env.daemon.running())
        for args in (("status",), ("list",), ("export", "1")):
            with self.subTest(cmd=args[0]):
                p = self.tool.run(*args, journal=True)
                self.assertEqual(p.returncode, 75, p.stderr)
                self.assertEqual(p.stdout, b"")
                self.assertTrue(p.stderr.startswith(("mailjournal: journal %s is in use" % self.env.journal_dir).encode()),
                                p.stderr)
                self.assertIn(b"use --socket PATH", p.stderr)

    def test_2_refusal_message_as_specified(self):
        self.assertTrue(self.env.daemon.running())
        p = self.tool.run("status", journal=True)
        self.assertEqual(p.stderr, (
            "mailjournal: journal %s is in use by process %d (mailjournald, or another mailjournal --journal;"
            " while the daemon runs, use --socket PATH)\n" % (self.env.journal_dir, self.env.daemon.proc.pid)).encode())

    def test_3_offline_answers_equal_socket_answers(self):
        # seq 1 is the policy loaded at start, 2 its key, the n messages are 3..n+2
        tool, n, sent = self.tool, self.n, self.sent
        first, last = START + 1, START + n
        via_socket = {
            "list_json": tool.ok("list", "--format", "json"),
            "list_all": tool.ok("list", "--all", "--format", "json"),
            "list_text": tool.ok("list"),
            "list_filtered": tool.ok("list", "--from", "alice", "--reverse", "--format", "json"),
            "show": [tool.ok("show", str(i), "--format", "json") for i in range(1, last + 1)],
            "show_text": [tool.ok("show", str(i)) for i in range(1, last + 1)],
            "export": [tool.ok("export", str(i)) for i in range(first, last + 1)],
            "mbox": tool.ok("export", "%d-%d" % (first, last), "--format", "mbox"),
            "policy_show": tool.ok("policy", "show", "--format", "json"),
            "explain": tool.ok("policy", "explain", "--from", "alice@example.org", "--rcpt", "bob@example.net",
                               "--time", "2026-11-27T10:00:00Z", "--format", "json"),
        }
        st_socket = tool.status()
        st_socket = st_socket.get("status", st_socket)

        self.assertEqual(self.env.daemon.stop(signal.SIGTERM), 0, self.env.daemon.log_text())

        st = tool.status(journal=True)
        st = st.get("status", st)
        self.assertEqual(st["last_seq"], st_socket["last_seq"])
        self.assertGreater(st["last_seq"], last)   # + the audit trail
        self.assertEqual(st["mode"], "offline")
        self.assertNotIn("uptime_s", st)   # daemon only
        self.assertEqual(os.path.realpath(st["journal"]), os.path.realpath(self.env.journal_dir))
        self.assertRegex(tool.ok("status", journal=True).decode(), r"last_seq\D+%d\b" % st["last_seq"])
        self.assertEqual(tool.ok("list", "--format", "json", journal=True), via_socket["list_json"])
        # entries of every kind but the audit trail, which has grown since by the requests above
        def recorded(jsonl):
            return [e for e in harness.Tool.parse_jsonl(jsonl) if e["kind"] != "access"]
        self.assertEqual(recorded(tool.ok("list", "--all", "--format", "json", journal=True)),
                         recorded(via_socket["list_all"]))
        self.assertEqual(tool.ok("list", journal=True), via_socket["list_text"])
        self.assertEqual(tool.ok("list", "--from", "alice", "--reverse", "--format", "json", journal=True),
                         via_socket["list_filtered"])
        for i in range(1, last + 1):
            with self.subTest(seq=i):
                self.assertEqual(tool.ok("show", str(i), "--format", "json", journal=True), via_socket["show"][i - 1])
                self.assertEqual(tool.ok("show", str(i), journal=True), via_socket["show_text"][i - 1])
                if i < first:   # the policy and key entries
                    self.assertEqual(tool.run("export", str(i), journal=True).returncode, 66)
                    continue
                exported = tool.ok("export", str(i), journal=True)
                self.assertEqual(exported, via_socket["export"][i - first])
                self.assertEqual(exported, sent[i - first][3].content)
        self.assertEqual(tool.ok("export", "%d-%d" % (first, last), "--format", "mbox", journal=True),
                         via_socket["mbox"])
        # offline, the policy operations answer from the journal's newest policy entry
        self.assertEqual(tool.ok("policy", "show", "--format", "json", journal=True), via_socket["policy_show"])
        offline_explain = json.loads(tool.ok("policy", "explain", "--from", "alice@example.org", "--rcpt", "bob@example.net",
                                             "--time", "2026-11-27T10:00:00Z", "--format", "json", journal=True))
        self.assertEqual(offline_explain, json.loads(via_socket["explain"]))
        p = tool.run("policy", "reload", journal=True)   # reloading is the daemon's business
        self.assertNotEqual(p.returncode, 0)
        p = tool.run("show", str(st["last_seq"] + 1000), journal=True)
        self.assertEqual(p.returncode, 66, p.stderr)

    def test_4_daemon_takes_journal_back_after_root_used_it(self):
        # test_3 ran the tool as root on the journal of the unprivileged daemon
        if self.env.daemon.running():
            self.env.daemon.stop()
        self.assertEqual(self.tool.run("status", journal=True).returncode, 0)
        before = self.tool.last_seq(journal=True)
        self.env.daemon.start()
        r = self.env.send_ok(case("01-plain-ascii").data)
        self.env.delivery_for(r.queue_id)
        # the restart's policy (the same keys, so no key entry), then this message
        restart = before + 1
        self.assertEqual(self.env.entry_for_qid(r.queue_id)["seq"], restart + 1)
        self.assertEqual(self.env.tool.export(restart + 1), self.env.delivery_for(r.queue_id).content)
        self.assertEqual(self.env.tool.show(restart)["kind"], "policy")
        self.assertEqual(self.env.tool.policy_show()["seq"], restart)
        self.assertEqual(harness.kinds(self.env.every_entry()), "PK" + "M" * self.n + "PM")


if __name__ == "__main__":
    harness.main()
