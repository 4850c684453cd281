#!/usr/bin/env python3
"""The mailjournal tool and the admin socket against a running mailjournald.

list/show/export/status in text and JSON, filters, mbox export, exit codes, the raw admin
protocol, and --journal DIR (refused with 75 while the daemon runs, same answers after it stops).

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
import shutil
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus    # noqa: E402
import harness   # noqa: E402


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

    # ---------------------------------------------------------------- list
    def test_list_json(self):
        self.assertEqual(len(self.entries), len(self.sent))
        self.assertEqual([e["seq"] for e in self.entries], list(range(1, len(self.sent) + 1)))
        for e, (mail_from, rcpts, r, d) in zip(self.entries, self.sent):
            with self.subTest(seq=e["seq"]):
                self.assertEqual(e["queue_id"], r.queue_id)
                self.assertEqual(e["mail_from"], mail_from)
                self.assertEqual(e["rcpt"], rcpts)
                self.assertEqual(e["size"], len(d.content))
                self.assertEqual(e["sha256"], harness.sha256(d.content))
                self.assertEqual(e["client_addr"], "127.0.0.1")

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
                if e["mail_from"]:
                    self.assertEqual(m.group(4), e["mail_from"])
                else:
                    self.assertIn(m.group(4), ("", "<>"))
                self.assertEqual(m.group(5), ",".join(e["rcpt"]))
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
        self.assertEqual(self.seqs("--rcpt", "erin"), [2])

    def test_list_limit_and_reverse(self):
        all_seqs = [e["seq"] for e in self.entries]
        self.assertEqual(self.seqs("--limit", "2"), all_seqs[:2])
        self.assertEqual(self.seqs("--reverse"), all_seqs[::-1])
        self.assertEqual(self.seqs("--reverse", "--limit", "2"), all_seqs[::-1][:2])
        self.assertEqual(self.seqs("--from", "alice", "--limit", "1"), [1])
        self.assertEqual(self.seqs("--from", "alice", "--reverse", "--limit", "1"), [4])

    def test_list_since_until(self):
        cut = self.cut
        before = [e["seq"] for e in self.entries if harness.parse_iso(e["time"]) < cut]
        after = [e["seq"] for e in self.entries if harness.parse_iso(e["time"]) >= cut]
        self.assertEqual(before, list(range(1, self.n_first + 1)))
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
        self.assertEqual(self.seqs("--since", iso(cut), "--from", "alice"), [4])

    def test_list_bad_time_is_usage_error(self):
        p = self.tool.run("list", "--since", "yesterday-ish")
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

    def test_missing_entry(self):
        n = len(self.entries) + 100
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
        n = len(self.entries)
        self.tool.ok("export", "1-%d" % (n - 1), str(n), "-o", tmp)
        self.assertEqual(sorted(os.listdir(tmp)), sorted("%d.eml" % i for i in range(1, n + 1)))
        for i, (_, _, _, d) in enumerate(self.sent, 1):
            with open(os.path.join(tmp, "%d.eml" % i), "rb") as f:
                self.assertEqual(f.read(), d.content)

    def test_export_several_to_stdout_is_usage_error(self):
        p = self.tool.run("export", "1", "2")
        self.assertEqual(p.returncode, 64, p.stderr)

    def test_export_unwritable_output(self):
        p = self.tool.run("export", "1", "-o", "/nonexistent-dir/x.eml")
        self.assertEqual(p.returncode, 73, p.stderr)

    def test_export_mbox(self):
        n = len(self.entries)
        expected = harness.mbox_expected([(e, d.content) for e, (_, _, _, d) in zip(self.entries, self.sent)])
        # sanity of the expectation itself: From lines in the body were quoted
        self.assertIn(b"\n>From the start of a line\n>>From quoted once\n>>>From quoted twice\n", expected)
        self.assertIn(b"From MAILER-DAEMON ", expected)
        out = self.tool.ok("export", "1-%d" % n, "--format", "mbox")
        self.assertEqual(out, expected, harness.bytes_diff(expected, out))
        tmp = tempfile.mkdtemp(prefix="mj-e2e-out-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "all.mbox")
        self.tool.ok("export", "1-%d" % n, "--format", "mbox", "-o", path)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), expected)
        one = self.tool.ok("export", "4", "--format", "mbox")
        self.assertEqual(one, harness.mbox_expected([(self.entries[3], self.sent[3][3].content)]))

    # ---------------------------------------------------------------- status, errors
    def test_status(self):
        st = self.tool.status()
        st = st.get("status", st)
        self.assertEqual(st["last_seq"], len(self.entries))
        self.assertEqual(st["entries"], len(self.entries))
        self.assertEqual(os.path.realpath(st["journal"]), os.path.realpath(self.env.journal_dir))
        self.assertEqual(st["pid"], self.env.daemon.proc.pid)
        self.assertTrue(st["version"])
        self.assertIsInstance(st["uptime_s"], (int, float))
        self.assertGreaterEqual(st["uptime_s"], 0)
        text = self.tool.ok("status").decode("utf-8")
        self.assertRegex(text, r"last_seq\D+%d\b" % len(self.entries))
        self.assertIn(str(self.env.daemon.proc.pid), text)

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

        n = len(self.entries)
        r = req({"v": 1, "op": "status"})
        self.assertTrue(r["ok"])
        self.assertEqual(r["status"]["last_seq"], n)
        self.assertEqual(r["status"]["pid"], self.env.daemon.proc.pid)

        r = req({"v": 1, "op": "list", "limit": 2})
        self.assertTrue(r["ok"])
        self.assertEqual([e["seq"] for e in r["entries"]], [1, 2])
        self.assertIs(r["more"], True)
        r = req({"v": 1, "op": "list", "after": 2, "limit": 1000})
        self.assertEqual([e["seq"] for e in r["entries"]], list(range(3, n + 1)))
        self.assertIs(r["more"], False)
        r = req({"v": 1, "op": "list", "reverse": True, "before": n, "limit": 2})
        self.assertEqual([e["seq"] for e in r["entries"]], [n - 1, n - 2])
        r = req({"v": 1, "op": "list", "from": "ALICE", "rcpt": "frank"})
        self.assertEqual([e["seq"] for e in r["entries"]], [4])
        self.assertEqual(r["entries"][0], self.entries[3])

        r = req({"v": 1, "op": "show", "seq": 2})
        self.assertTrue(r["ok"])
        self.assertEqual(r["entry"], self.entries[1])

        for seq in (1, n):
            r = req({"v": 1, "op": "export", "seq": seq})
            self.assertTrue(r["ok"], r)
            data = f.read(r["size"])
            self.assertEqual(data, self.sent[seq - 1][3].content)
            self.assertEqual(r["entry"]["seq"], seq)
            self.assertEqual(json.loads(f.readline()), {"v": 1, "ok": True})   # trailer

        r = req({"v": 1, "op": "show", "seq": n + 5})
        self.assertFalse(r["ok"])
        self.assertEqual(r["error"]["code"], "not_found")
        r = req({"v": 1, "op": "frobnicate"})
        self.assertFalse(r["ok"])
        self.assertEqual(r["error"]["code"], "bad_request")
        r = req({"v": 2, "op": "status"})
        self.assertFalse(r["ok"])
        self.assertEqual(r["error"]["code"], "unsupported_version")
        f.write(b"this is not json\n")
        f.flush()
        resp = json.loads(f.readline())
        self.assertFalse(resp["ok"])
        self.assertEqual(resp["error"]["code"], "bad_request")
        # the connection still works after errors
        self.assertTrue(req({"v": 1, "op": "status"})["ok"])
        self.assertTrue(self.env.daemon.running())


class DirectJournalTest(harness.E2ETestCase):
    """--journal DIR: refused while the daemon holds the journal, identical answers afterwards."""

    def test_direct_access(self):
        env = harness.E2E()
        env.__enter__()
        self.addCleanup(env.close)
        self.env = env
        sent = []
        send_batch(env, FIRST_BATCH + SECOND_BATCH[:2], sent)
        tool = env.tool
        n = len(sent)

        for args in (("status",), ("list",), ("export", "1")):
            with self.subTest(cmd=args[0]):
                p = tool.run(*args, journal=True)
                self.assertEqual(p.returncode, 75, p.stderr)
                self.assertIn(("mailjournal: journal %s is in use by a running mailjournald; use --socket PATH"
                               % env.journal_dir).encode(), p.stderr)

        via_socket = {
            "list_json": tool.ok("list", "--format", "json"),
            "list_text": tool.ok("list"),
            "list_filtered": tool.ok("list", "--from", "alice", "--reverse", "--format", "json"),
            "show": [tool.ok("show", str(i), "--format", "json") for i in range(1, n + 1)],
            "show_text": [tool.ok("show", str(i)) for i in range(1, n + 1)],
            "export": [tool.ok("export", str(i)) for i in range(1, n + 1)],
            "mbox": tool.ok("export", "1-%d" % n, "--format", "mbox"),
        }
        st_socket = tool.status()
        st_socket = st_socket.get("status", st_socket)

        self.assertEqual(env.daemon.stop(signal.SIGTERM), 0, env.daemon.log_text())

        st = tool.status(journal=True)
        st = st.get("status", st)
        self.assertEqual(st["last_seq"], st_socket["last_seq"])
        self.assertEqual(st["last_seq"], n)
        self.assertEqual(st["entries"], n)
        self.assertRegex(tool.ok("status", journal=True).decode(), r"last_seq\D+%d\b" % n)
        self.assertEqual(tool.ok("list", "--format", "json", journal=True), via_socket["list_json"])
        self.assertEqual(tool.ok("list", journal=True), via_socket["list_text"])
        self.assertEqual(tool.ok("list", "--from", "alice", "--reverse", "--format", "json", journal=True),
                         via_socket["list_filtered"])
        for i in range(1, n + 1):
            with self.subTest(seq=i):
                self.assertEqual(tool.ok("show", str(i), "--format", "json", journal=True), via_socket["show"][i - 1])
                self.assertEqual(tool.ok("show", str(i), journal=True), via_socket["show_text"][i - 1])
                exported = tool.ok("export", str(i), journal=True)
                self.assertEqual(exported, via_socket["export"][i - 1])
                self.assertEqual(exported, sent[i - 1][3].content)
        self.assertEqual(tool.ok("export", "1-%d" % n, "--format", "mbox", journal=True), via_socket["mbox"])
        p = tool.run("show", str(n + 1), journal=True)
        self.assertEqual(p.returncode, 66, p.stderr)

        # the daemon (unprivileged) can take the journal back after root used it directly
        env.daemon.start()
        r = env.send_ok(case("01-plain-ascii").data)
        env.delivery_for(r.queue_id)
        self.assertEqual(env.entry_for_qid(r.queue_id)["seq"], n + 1)


if __name__ == "__main__":
    harness.main()
