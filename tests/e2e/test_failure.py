#!/usr/bin/env python3
"""Nothing is delivered that is not journaled.

* mailjournald down: Postfix (milter_default_action = tempfail) answers 4xx, nothing reaches the
  sink; sendmail(1) mail waits in maildrop; after a restart everything delivered is journaled.
* mailjournald killed while an SMTP session is open: the next transaction gets 4xx.
* the journal cannot be written (LevelDB on a full 4 MB tmpfs): the client gets 451 4.3.0 and
  nothing is delivered; every message accepted afterwards is journaled.
* SIGTERM: exit 0, restart continues the sequence.
* start-up failures: exit codes of the spec.

Run: python3 tests/e2e/test_failure.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus    # noqa: E402
import harness   # noqa: E402


def msg(token, size=0):
    body = b"Subject: " + token.encode() + b"\r\nMessage-ID: <" + token.encode() + b"@example.org>\r\n" \
        b"Date: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nbody of " + token.encode() + b"\r\n"
    if size:
        body += b"z" * 76 + b"\r\n"
        body += b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab\r\n" * (size // 78)
    return body


class FailureTestBase(harness.E2ETestCase):
    def make_env(self, **kw):
        env = harness.E2E(**kw)
        env.__enter__()
        self.addCleanup(env.close)
        self.env = env
        return env

    def assert_everything_delivered_is_journaled(self, env):
        env.wait_delivered(0)
        entries = env.entries()
        by_qid = {}
        for e in entries:
            self.assertNotIn(e["queue_id"], by_qid, "queue id journaled twice")
            by_qid[e["queue_id"]] = e
        for d in env.sink.deliveries():
            with self.subTest(delivery=d.queue_id):
                self.assertIn(d.queue_id, by_qid, "delivered but not journaled")
                exported = env.tool.export(by_qid[d.queue_id]["seq"])
                self.assertEqual(exported, d.content, harness.bytes_diff(d.content, exported))
                self.assert_entry_content(by_qid[d.queue_id], exported)
        # dense over entries of every kind; every start of the daemon journals its policy (the
        # first also the key it gives the default department)
        every = env.every_entry()
        self.assertEqual([e["seq"] for e in every], list(range(1, len(every) + 1)))
        self.assertEqual([e for e in every if e["kind"] == "message"], entries)
        self.assertEqual(every[0]["kind"], "policy")
        return entries

    def kinds(self, env):
        """The kinds of all entries, oldest first, as one string: P = policy, K = key, M = message.
        The first start journals "PK" (the policy, the e2e key of the default department); a
        restart with the same policy "P" (its keys are those of the journal's newest policy)."""
        return harness.kinds(env.every_entry())


class DaemonDownTest(FailureTestBase):
    def test_daemon_down_tempfails_then_recovers(self):
        env = self.make_env(start_daemon=False)
        # SMTP: temporary failure, nothing queued, nothing delivered
        r = env.send(msg("down-smtp"), rcpts=["down@example.net"])
        self.assertFalse(r.accepted, r)
        self.assertIsNotNone(r.code, r)
        self.assertTrue(400 <= r.code < 500, r)
        self.assertTrue(env.postfix.queue_empty(), env.postfix.queue_listing())
        self.assertEqual(env.sink.count(), 0)

        # sendmail(1): stays in maildrop, cleanup logs the milter failure, nothing delivered
        env.sendmail(msg("down-sendmail").replace(b"\r\n", b"\n"), "local@example.org", ["later@example.net"])
        harness.wait_until(lambda: re.search(r"cleanup\[\d+\]: \S+: milter-reject: CONNECT .*4\.7\.1",
                                             env.postfix.log()), 30, "cleanup to tempfail the sendmail(1) mail",
                           diag=env.diagnostics)
        self.assertEqual(env.sink.count(), 0)
        self.assertEqual(len(os.listdir(os.path.join(env.postfix.queue_dir, "maildrop"))), 1)

        # start the daemon: the waiting mail goes through and is journaled; the client retries
        env.daemon.start()
        env.postfix.kick_pickup()
        env.postfix.flush()
        d_sm = env.delivery_matching(lambda d: b"down-sendmail" in d.raw, what="the sendmail(1) mail after restart")
        r2 = env.send_ok(msg("down-smtp"), rcpts=["down@example.net"])
        env.delivery_for(r2.queue_id)
        entries = self.assert_everything_delivered_is_journaled(env)
        self.assertEqual(len(entries), 2)
        self.assertEqual({e["queue_id"] for e in entries}, {d_sm.queue_id, r2.queue_id})
        self.assertEqual(env.sink.count(), 2)
        self.assertEqual(self.kinds(env), "PKMM")

    def test_daemon_killed_during_session(self):
        env = self.make_env()
        smtp = env.connect()
        self.addCleanup(smtp.close)
        smtp.ehlo("client.test.invalid")
        r1 = env.send(msg("before-kill"), rcpts=["k1@example.net"], smtp=smtp)
        self.assertTrue(r1.accepted, r1)
        env.daemon.kill()
        r2 = env.send(msg("after-kill"), rcpts=["k2@example.net"], smtp=smtp)
        self.assertFalse(r2.accepted, r2)
        if r2.code is not None:
            self.assertTrue(400 <= r2.code < 500, r2)
        try:
            smtp.quit()
        except Exception:
            pass
        env.delivery_for(r1.queue_id)
        env.wait_delivered(1)
        self.assertFalse([d for d in env.sink.deliveries() if b"after-kill" in d.raw])
        # restart over the stale socket file left by SIGKILL
        env.daemon.start()
        r3 = env.send_ok(msg("after-restart"), rcpts=["k3@example.net"])
        env.delivery_for(r3.queue_id)
        entries = self.assert_everything_delivered_is_journaled(env)
        self.assertEqual([e["queue_id"] for e in entries], [r1.queue_id, r3.queue_id])
        self.assertEqual(self.kinds(env), "PKMPM")   # the restart journaled its policy again

    def test_daemon_killed_while_staging_a_big_message(self):
        env = self.make_env()
        r1 = env.send_ok(msg("before-big"))
        env.delivery_for(r1.queue_id)
        db_size = lambda: sum(os.path.getsize(os.path.join(root, f))
                              for root, _, files in os.walk(env.journal_dir) for f in files
                              if os.path.exists(os.path.join(root, f)))
        baseline = db_size()
        big = corpus.big_message(20 * 1024 * 1024, seed=9, name="killed")
        result = {}
        th = threading.Thread(target=lambda: result.setdefault("r", env.send(big, rcpts=["killed@example.net"])))
        th.start()
        self.addCleanup(th.join, 120)
        # the daemon stages content chunks while Postfix streams the body: kill it in the middle
        harness.wait_until(lambda: db_size() > baseline + 2 * 1024 * 1024 or not th.is_alive(), 60,
                           "the journal to grow by 2 MB")
        self.assertTrue(th.is_alive(), "the 20 MB transaction finished before the daemon could be killed")
        env.daemon.kill()
        th.join(120)
        r = result["r"]
        self.assertFalse(r.accepted, r)
        self.assertEqual(r.code // 100, 4, r)
        env.daemon.start()
        # policy (1), its key (2), the first message (3); the killed transaction left no entry,
        # and the restart journals its policy as 4 before it logs the start-up line
        env.daemon.wait_log("policy %s loaded (start): seq=4 " % env.policy_path)
        env.daemon.wait_log("last_seq=4")
        r2 = env.send_ok(msg("after-big-kill"))
        env.delivery_for(r2.queue_id)
        entries = self.assert_everything_delivered_is_journaled(env)
        self.assertEqual([e["queue_id"] for e in entries], [r1.queue_id, r2.queue_id])
        self.assertEqual([e["seq"] for e in entries], [3, 5])
        self.assertFalse([d for d in env.sink.deliveries() if b"killed" in d.raw])

    def test_sigterm_during_a_transaction(self):
        """Stop while a big message is being staged: exit 0, and the message is either
        journaled and delivered, or refused with 4xx and not delivered - never one without the other."""
        env = self.make_env()
        db_size = lambda: sum(os.path.getsize(os.path.join(root, f))
                              for root, _, files in os.walk(env.journal_dir) for f in files
                              if os.path.exists(os.path.join(root, f)))
        baseline = db_size()
        big = corpus.big_message(20 * 1024 * 1024, seed=11, name="sigterm")
        result = {}
        th = threading.Thread(target=lambda: result.setdefault("r", env.send(big, rcpts=["term@example.net"])))
        th.start()
        self.addCleanup(th.join, 120)
        harness.wait_until(lambda: db_size() > baseline + 2 * 1024 * 1024 or not th.is_alive(), 60,
                           "the journal to grow by 2 MB")
        self.assertTrue(th.is_alive(), "the 20 MB transaction finished before SIGTERM could be sent")
        rc = env.daemon.stop(signal.SIGTERM, timeout=60)
        th.join(120)
        self.assertEqual(rc, 0, env.daemon.log_text())
        r = result["r"]
        env.daemon.start()
        if r.accepted:
            env.delivery_for(r.queue_id)
            entries = self.assert_everything_delivered_is_journaled(env)
            self.assertEqual(len(entries), 1)
            self.assertEqual(entries[0]["seq"], 3)
            self.assertEqual(env.tool.export(3), big)
            self.assertEqual(self.kinds(env), "PKMP")
        else:
            self.assertEqual(r.code // 100, 4, r)
            env.wait_delivered(0)
            self.assertEqual(env.sink.count(), 0)
            self.assertEqual(env.entries(), [])
            self.assertEqual(self.kinds(env), "PKP")

    def test_sigterm_exit_0_and_restart_continues_sequence(self):
        env = self.make_env()
        qids = [env.send_ok(msg("term-%d" % i)).queue_id for i in range(3)]
        status = env.tool.status()
        status = status.get("status", status)
        self.assertEqual(status["last_seq"], 5)   # the policy loaded at start, its key, 3 messages
        rc = env.daemon.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, env.daemon.log_text())
        self.assertIn("mailjournald stopped: last_seq=5", env.daemon.current_log())
        self.assertFalse(os.path.exists(env.daemon.admin_sock) and harness.unix_accepts(env.daemon.admin_sock))
        env.daemon.start()
        env.daemon.wait_log("policy %s loaded (start): seq=6 " % env.policy_path)
        env.daemon.wait_log("last_seq=6")   # the start-up line, after the policy entry
        qids.append(env.send_ok(msg("term-after")).queue_id)
        for q in qids:
            env.delivery_for(q)
        entries = self.assert_everything_delivered_is_journaled(env)
        self.assertEqual([(e["seq"], e["queue_id"]) for e in entries], list(zip([3, 4, 5, 7], qids)))
        # SIGHUP and SIGINT stop it as well (exit 0)
        for sig in (signal.SIGHUP, signal.SIGINT):
            with self.subTest(signal=sig):
                self.assertEqual(env.daemon.stop(sig), 0, env.daemon.current_log())
                env.daemon.start()
        before = env.tool.last_seq()   # the lists above are in the audit trail
        r = env.send_ok(msg("term-final"))
        self.assertEqual(env.entry_for_qid(r.queue_id)["seq"], before + 1)
        self.assertEqual(self.kinds(env), "PKMMMPMPPM")

    def test_sigusr1_reloads_the_policy_and_does_not_stop(self):
        # Sequence numbers are taken just before each step: the tool's own requests are
        # recorded in between (access entries, the audit trail).
        env = self.make_env()
        digest = env.tool.policy_digest()
        before = env.tool.last_seq()
        r1 = env.send_ok(msg("before-usr1"))
        self.assertEqual(env.entry_for_qid(r1.queue_id)["seq"], before + 1)
        before = env.tool.last_seq()
        outcome = env.daemon.signal_reload()
        self.assertEqual(outcome, ("loaded", "reload (SIGUSR1)", before + 1, digest))   # same file, same digest
        self.assertTrue(env.daemon.running())
        before = env.tool.last_seq()
        r2 = env.send_ok(msg("after-usr1"))
        e2 = env.entry_for_qid(r2.queue_id)
        self.assertEqual(e2["seq"], before + 1)
        self.assertEqual(e2["policy"], digest)
        every = [e for e in env.every_entry() if e["kind"] != "access"]
        # the same keys: the reload journals no key entry
        self.assertEqual([(e["kind"], e.get("reason")) for e in every],
                         [("policy", "start"), ("key", None), ("message", None),
                          ("policy", "reload (SIGUSR1)"), ("message", None)])
        self.assertEqual(every[3]["seq"], outcome[2])
        self.assertEqual(env.tool.policy_show()["seq"], outcome[2])


class JournalFullTest(FailureTestBase):
    TMPFS_SIZE = "4m"

    def test_journal_write_failure_tempfails(self):
        def mount_tmpfs(env, path):
            p = subprocess.run(["mount", "-t", "tmpfs", "-o",
                                "size=%s,mode=0755,uid=%d,gid=%d" % (self.TMPFS_SIZE, env.daemon_uid, env.daemon_gid),
                                "mj-e2e-journal", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if p.returncode != 0:
                raise unittest.SkipTest("cannot mount a tmpfs: %s" % p.stderr.decode(errors="replace"))
            env.reaper.note("umount", path)
            env.add_cleanup(lambda: subprocess.run(["umount", "-l", path]))
        env = self.make_env(prepare_journal=mount_tmpfs)

        r1 = env.send_ok(msg("small-before"))
        env.delivery_for(r1.queue_id)
        self.assertEqual(env.entry_for_qid(r1.queue_id)["seq"], 3)   # 1: the policy, 2: its key

        # 8 MB cannot fit into a 4 MB journal
        big = corpus.big_message(8 * 1024 * 1024, seed=7, name="too-big")
        r2 = env.send(big, rcpts=["big@example.net"])
        self.assertFalse(r2.accepted, r2)
        self.assertEqual(r2.stage, "eod", r2)
        self.assertEqual(r2.code, 451, r2)
        self.assertTrue(r2.reply.startswith(b"4.3.0 mailjournal: cannot journal message: "), r2.reply)
        self.assertRegex(env.daemon.log_text(), r"\b\S+: tempfail: ")
        self.assertTrue(env.daemon.running(), env.daemon.log_text())
        self.assertTrue(env.postfix.queue_empty(), env.postfix.queue_listing())

        # whatever the daemon says afterwards, an accepted message is journaled, a refused one
        # is not delivered
        r3 = env.send(msg("small-after"), rcpts=["after@example.net"])
        if r3.accepted:
            env.delivery_for(r3.queue_id)
        else:
            self.assertEqual(r3.code // 100, 4, r3)
        env.wait_delivered(1 + (1 if r3.accepted else 0))
        self.assertFalse([d for d in env.sink.deliveries() if d.queue_id == r2.queue_id or b"too-big" in d.raw])
        # while the journal cannot be written, reads are refused, because their access entries
        # (the audit trail) cannot be recorded; status, which reads no mail, still answers
        refused = env.tool.run("list")
        self.assertEqual(refused.returncode, 74, refused)
        self.assertIn(b"audit trail: the access cannot be recorded, so it is refused", refused.stderr)
        status = env.tool.status()
        status = status.get("status", status)
        full_last_seq = status["last_seq"]

        # the operator grows the file system: without a restart, the daemon reopens the
        # journal (at most once a second) and journals mail again
        subprocess.run(["mount", "-o", "remount,size=64m", env.journal_dir], check=True)
        resumed = []

        def accepted_again():
            r = env.send(msg("after-grow-%d" % len(resumed)), rcpts=["grown@example.net"])
            resumed.append(r)
            return r.accepted
        harness.wait_until(accepted_again, 20, "mail accepted again after space was freed",
                           interval=0.5, diag=env.daemon.current_log)
        r4 = resumed[-1]
        self.assertTrue(all(r.code // 100 == 4 for r in resumed[:-1]), resumed)
        env.delivery_for(r4.queue_id)
        after = self.assert_everything_delivered_is_journaled(env)
        self.assertFalse([e for e in after if "big@example.net" in e["rcpt"]])
        # journaled while the disk was full: the first message and small-after if accepted
        self.assertEqual([e["queue_id"] for e in after if e["seq"] <= full_last_seq],
                         [r1.queue_id] + ([r3.queue_id] if r3.accepted else []))
        self.assertEqual(len(after), (3 if r3.accepted else 2))
        self.assertEqual(after[-1]["queue_id"], r4.queue_id)
        # a restart finds the journal intact (the staged chunks of the failed message gone)
        self.assertEqual(env.daemon.stop(), 0, env.daemon.current_log())
        env.daemon.start()
        stopped_at = int(re.findall(r"mailjournald stopped: last_seq=(\d+)", env.daemon.log_text())[-1])
        env.daemon.wait_log("last_seq=%d" % (stopped_at + 1))  # + its policy entry
        self.assertEqual(env.tool.run("verify").returncode, 0)
        # the 8 MB message fits now
        r5 = env.send_ok(big, rcpts=["big-again@example.net"])
        env.delivery_for(r5.queue_id)
        self.assertEqual(env.tool.export(env.entry_for_qid(r5.queue_id)["seq"]), big)


class StartupTest(harness.E2ETestCase):
    """Start-up contract without Postfix."""

    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="mj-e2e-start-")
        self.addCleanup(shutil.rmtree, self.base, True)
        os.chmod(self.base, 0o755)
        self.run_dir = os.path.join(self.base, "run")
        os.mkdir(self.run_dir)
        shutil.chown(self.run_dir, user=harness.DAEMON_USER)
        self.policy = harness.write_policy_dir(os.path.join(self.base, "policy"), harness.DEFAULT_POLICY)

    def start(self, args, timeout=30):
        return subprocess.run([harness.MAILJOURNALD, "--foreground"] + args, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout)

    def journal(self):
        j = os.path.join(self.base, "j")
        os.makedirs(j, exist_ok=True)
        shutil.chown(j, user=harness.DAEMON_USER)
        return j

    def common(self, journal, mode="0666", policy=None):
        return ["--journal", journal, "--milter-socket", "unix:" + os.path.join(self.run_dir, "m.sock"),
                "--admin-socket", os.path.join(self.run_dir, "a.sock"), "--socket-mode", mode,
                "--policy", policy or self.policy, "--index-keys", os.path.join(self.base, "index-keys")]

    def test_root_without_user_refused(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        p = self.start(self.common(self.journal()))
        self.assertEqual(p.returncode, 78, p.stderr)

    def test_check_mode(self):
        ok = self.start(["-n", "--user", harness.DAEMON_USER] + self.common(self.journal()))
        self.assertEqual(ok.returncode, 0, ok.stderr)
        bad = self.start(["-n", "--user", harness.DAEMON_USER] + self.common(self.journal(), mode="99999"))
        self.assertEqual(bad.returncode, 78, bad.stderr)
        self.assertTrue(bad.stderr.strip())
        # every problem is reported, not only the first
        bad2 = self.start(["-n", "--user", "no-such-user-mj-e2e"] + self.common(self.journal(), mode="99999"))
        self.assertEqual(bad2.returncode, 78, bad2.stderr)
        self.assertIn(b"no-such-user-mj-e2e", bad2.stderr)
        self.assertIn(b"99999", bad2.stderr)

    def test_check_mode_loads_the_policy(self):
        # -n checks the policy file too, reporting FILE:LINE:COL of the problem
        text = harness.DEFAULT_POLICY.replace("retention: standard", "retention: nine_years")
        bad_policy = harness.write_policy_dir(os.path.join(self.base, "bad-policy"), text)
        bad = self.start(["-n", "--user", harness.DAEMON_USER] + self.common(self.journal(), policy=bad_policy))
        self.assertEqual(bad.returncode, 78, bad.stderr)
        line, col = harness.line_col(text, "nine_years")
        self.assertIn(("mailjournald: %s:%d:%d: unknown retention class 'nine_years'\n" % (bad_policy, line, col)).encode(),
                      bad.stderr)
        missing = os.path.join(self.base, "no-such-policy.yaml")
        p = self.start(["-n", "--user", harness.DAEMON_USER] + self.common(self.journal(), policy=missing))
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(("mailjournald: %s: cannot read policy: " % missing).encode(), p.stderr)
        relative = self.start(["-n", "--user", harness.DAEMON_USER] + self.common(self.journal(), policy="policy.yaml"))
        self.assertEqual(relative.returncode, 78, relative.stderr)
        self.assertIn(b"policy: 'policy.yaml' must be an absolute path", relative.stderr)

    def test_unknown_option_is_usage_error(self):
        p = self.start(["--no-such-option"])
        self.assertEqual(p.returncode, 64, p.stderr)

    def test_journal_not_writable_by_user(self):
        journal = os.path.join(self.base, "rootjournal")
        os.mkdir(journal, 0o700)   # owned by root: the unprivileged daemon cannot use it
        p = self.start(["--user", harness.DAEMON_USER] + self.common(journal))
        self.assertEqual(p.returncode, 74, p.stderr)
        self.assertEqual(os.listdir(journal), [], "journal files were created as root")

    def test_version_and_help(self):
        for opt in ("--version", "--help"):
            with self.subTest(opt=opt):
                p = subprocess.run([harness.MAILJOURNALD, opt], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertTrue(p.stdout.strip())

    def test_config_file(self):
        journal = self.journal()
        conf = os.path.join(self.base, "mailjournald.conf")
        admin = os.path.join(self.run_dir, "a.sock")
        milter = os.path.join(self.run_dir, "m.sock")
        with open(conf, "w") as f:
            # index_keys too: -n checks the directory, which must not be the machine's own
            f.write("# test configuration\n\njournal = %s\nmilter_socket = unix:%s\n"
                    "admin_socket = /nonexistent/overridden-on-the-command-line.sock\n"
                    "socket_mode = 0640\nuser = %s\npolicy = %s\nindex_keys = %s\n"
                    % (journal, milter, harness.DAEMON_USER, self.policy, os.path.join(self.base, "index-keys")))
        p = self.start(["-n", "-c", conf, "--admin-socket", admin])
        self.assertEqual(p.returncode, 0, p.stderr)
        missing = self.start(["-n", "-c", os.path.join(self.base, "no-such.conf")])
        self.assertEqual(missing.returncode, 78, missing.stderr)
        with open(os.path.join(self.base, "bad.conf"), "w") as f:
            f.write("journal = %s\nno_such_key = 1\n" % journal)
        bad = self.start(["-n", "-c", os.path.join(self.base, "bad.conf"), "--user", harness.DAEMON_USER])
        self.assertEqual(bad.returncode, 78, bad.stderr)
        self.assertIn(b"no_such_key", bad.stderr)
        # really start it from the file: sockets where the file (and the override) say, mode from the file
        log_path = os.path.join(self.base, "daemon.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([harness.MAILJOURNALD, "--foreground", "-c", conf, "--admin-socket", admin],
                                    stdout=log, stderr=log)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        harness.wait_until(lambda: proc.poll() is not None or (harness.unix_accepts(milter) and harness.unix_accepts(admin)),
                           30, "the sockets of the daemon started from a config file")
        self.assertIsNone(proc.poll(), harness.tail(log_path))
        for sock in (milter, admin):
            self.assertEqual(os.stat(sock).st_mode & 0o777, 0o640, sock)
        tool = harness.Tool(socket_path=admin)
        st = tool.status()
        st = st.get("status", st)
        self.assertEqual(st["journal"], journal)
        self.assertEqual(tool.policy_show()["files"][0]["path"], self.policy)   # the file's policy key
        proc.terminate()
        self.assertEqual(proc.wait(30), 0)

    def test_milter_socket_directory_missing(self):
        args = self.common(self.journal())
        args[3] = "unix:" + os.path.join(self.base, "no-such-dir", "m.sock")
        p = self.start(["--user", harness.DAEMON_USER] + args)
        self.assertEqual(p.returncode, 71, p.stderr)


if __name__ == "__main__":
    harness.main()
