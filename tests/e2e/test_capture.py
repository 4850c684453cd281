#!/usr/bin/env python3
"""mailjournald captures exactly what Postfix delivers, with the envelope.

Every corpus message goes through the private Postfix instance with mailjournald as milter;
the journal's copy (mailjournal export, opened with the e2e key: the harness's policy seals
every message) must equal the delivered copy minus Postfix's own Received header, byte for
byte, and the entry must carry the SMTP envelope.

Run: python3 tests/e2e/test_capture.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import datetime
import os
import re
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus    # noqa: E402
import harness   # noqa: E402

HELO = "client.test.invalid"
SLACK = datetime.timedelta(seconds=2)
ENTRY_FIELDS = {"seq": int, "kind": str, "time": str, "queue_id": str, "mail_from": str,
                "mail_params": list, "rcpt": list, "rcpt_params": list, "client_addr": str,
                "client_port": int, "client_name": str, "helo": str, "auth": str, "daemon": str,
                "size": int, "sha256": str, "departments": list, "retention": str, "retain_until": str,
                "policy": str, "sealed": bool}


class CaptureTest(harness.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = harness.E2E(extra_main={
            # XCLIENT lets the tests present other client addresses (IPv4, IPv6, unknown name)
            "smtpd_authorized_xclient_hosts": "127.0.0.0/8",
            "inet_protocols": "all",
            "mynetworks": "127.0.0.0/8 192.0.2.0/24 198.51.100.0/24 [2001:db8::]/32"})
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        cls.policy_digest = cls.env.tool.policy_digest()

    # ---------------------------------------------------------------- helpers
    def check_entry(self, entry, result, delivery, mail_from, rcpts, mail_options=(), rcpt_options=None,
                    helo=HELO, journal_suffix=b""):
        """Common checks of one SMTP-received entry; returns the exported bytes."""
        for k, t in ENTRY_FIELDS.items():
            self.assertIn(k, entry, "entry lacks %r: %r" % (k, entry))
            self.assertIsInstance(entry[k], t, "field %r: %r" % (k, entry))
        self.assertEqual(entry["kind"], "message")
        self.assertEqual(entry["queue_id"], result.queue_id)
        self.assertEqual(delivery.queue_id, result.queue_id)
        self.assertEqual(entry["mail_from"], mail_from)
        self.assertEqual(entry["mail_params"], list(mail_options))
        self.assertEqual(entry["rcpt"], list(rcpts))
        expected_rp = [list(o) for o in rcpt_options] if rcpt_options else [[] for _ in rcpts]
        self.assertEqual(entry["rcpt_params"], expected_rp)
        self.assertEqual(entry["client_addr"], "127.0.0.1")
        self.assertEqual(entry["client_port"], result.client_port)
        self.assertEqual(entry["client_name"], "localhost")
        self.assertEqual(entry["helo"], helo)
        self.assertEqual(entry["auth"], "")
        t = harness.parse_iso(entry["time"])
        self.assertIsNotNone(t.tzinfo)
        self.assertRegex(entry["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        self.assertTrue(result.t_start - SLACK <= t <= result.t_end + SLACK,
                        "time %s not within the SMTP transaction %s .. %s" % (entry["time"], result.t_start, result.t_end))
        exported = self.env.tool.export(entry["seq"])
        expected = delivery.content + journal_suffix
        self.assertEqual(exported, expected, "journal copy differs from the delivered copy: " +
                         harness.bytes_diff(expected, exported))
        self.assert_entry_content(entry, exported)
        self.check_classification(entry)
        return exported

    def check_classification(self, entry):
        """The harness's default policy: department default, 7 years from the commit time,
        sealed to the e2e key."""
        self.assertEqual(entry["departments"], harness.DEFAULT_DEPARTMENTS)
        self.assert_sealed_to_e2e(entry)
        cls_name, years = harness.DEFAULT_RETENTION
        self.assertEqual(entry["retention"], cls_name)
        self.assertRegex(entry["retain_until"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        self.assertEqual(harness.parse_iso(entry["retain_until"]), harness.retain_until_for(entry["time"], years))
        self.assertEqual(entry["policy"], self.policy_digest)

    def send_and_check(self, data, mail_from="sender@example.org", rcpts=("rcpt@example.net",), **kw):
        r = self.env.send_ok(data, mail_from=mail_from, rcpts=rcpts, **kw)
        d = self.env.delivery_for(r.queue_id)
        e = self.env.entry_for_qid(r.queue_id)
        self.check_entry(e, r, d, mail_from, rcpts, kw.get("mail_options", ()), kw.get("rcpt_options"),
                         kw.get("helo", HELO))
        return r, d, e

    # ---------------------------------------------------------------- corpus
    def test_corpus(self):
        cases = corpus.all_cases()
        self.assertGreaterEqual(len(cases), 25)
        results = {}
        for c in cases:
            if c.smtputf8 and not self.env.sink.supports_smtputf8:
                continue
            results[c.name] = self.env.send(c.data, mail_from=c.mail_from, rcpts=c.rcpts,
                                            mail_options=c.mail_options, helo=HELO)
        for c in cases:
            if c.name not in results:
                continue
            with self.subTest(case=c.name):
                r = results[c.name]
                self.assertTrue(r.accepted, "not accepted: %r" % r)
                d = self.env.delivery_for(r.queue_id)
                e = self.env.entry_for_qid(r.queue_id)
                exported = self.check_entry(e, r, d, c.mail_from, c.rcpts, c.mail_options,
                                            journal_suffix=c.journal_suffix)
                if not c.verbatim_with_milter and c.verbatim:
                    # documented Postfix truncation: make sure it is still what happens
                    self.assertLess(len(exported), len(c.expected_wire))
                if c.verbatim_with_milter:
                    self.assertEqual(exported, c.expected_wire + c.journal_suffix,
                                     harness.bytes_diff(c.expected_wire + c.journal_suffix, exported))

    # ---------------------------------------------------------------- envelope
    def test_recipients_in_rcpt_order_with_bcc_and_params(self):
        rcpts = ["zulu@example.net", "alpha@example.net", "hidden-bcc@example.com", "Mixed.Case@Example.NET"]
        data = (b"From: sender@example.org\r\nTo: zulu@example.net, alpha@example.net\r\n"
                b"Cc: Mixed.Case@Example.NET\r\nSubject: bcc\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n"
                b"Message-ID: <bcc@example.org>\r\n\r\nThe envelope has a Bcc-only recipient.\r\n")
        opts = [[], ["NOTIFY=NEVER"], ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;hidden-bcc@example.com"], []]
        r, d, e = self.send_and_check(data, rcpts=rcpts, rcpt_options=opts)
        # the sink saw all of them too (Postfix sorts them, so compare as sets)
        self.assertEqual(sorted(x.split()[0].lower() for x in d.envelope["rcpt"]),
                         sorted("<%s>" % x.lower() for x in rcpts))
        self.assertNotIn(b"hidden-bcc", e and self.env.tool.export(e["seq"]))

    def test_mail_params_recorded(self):
        data = b"Subject: params\r\nMessage-ID: <params@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nx\r\n"
        self.send_and_check(data, mail_options=["BODY=8BITMIME", "RET=HDRS", "ENVID=abc123", "SIZE=%d" % len(data)])

    def test_rejected_recipient_not_recorded(self):
        data = b"Subject: one refused\r\nMessage-ID: <refused@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nx\r\n"
        r = self.env.send_ok(data, rcpts=["first@example.net", "refused@example.net", "last@example.net"])
        self.assertGreaterEqual(r.rcpt_replies[1][0], 500, r.rcpt_replies)
        d = self.env.delivery_for(r.queue_id)
        e = self.env.entry_for_qid(r.queue_id)
        self.check_entry(e, r, d, "sender@example.org", ["first@example.net", "last@example.net"])

    def test_two_messages_one_connection(self):
        smtp = self.env.connect(HELO)
        self.addCleanup(smtp.close)
        self.assertEqual(smtp.ehlo(HELO)[0], 250)
        m1 = b"Subject: first on connection\r\nMessage-ID: <conn-1@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\none\r\n"
        m2 = b"Subject: second on connection\r\nMessage-ID: <conn-2@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\ntwo\r\n"
        r1 = self.env.send(m1, mail_from="a@example.org", rcpts=["x@example.net"], smtp=smtp)
        r2 = self.env.send(m2, mail_from="b@example.org", rcpts=["y@example.net", "z@example.net"], smtp=smtp)
        smtp.quit()
        self.assertTrue(r1.accepted and r2.accepted, (r1, r2))
        self.assertNotEqual(r1.queue_id, r2.queue_id)
        e1 = self.env.entry_for_qid(r1.queue_id)
        e2 = self.env.entry_for_qid(r2.queue_id)
        self.check_entry(e1, r1, self.env.delivery_for(r1.queue_id), "a@example.org", ["x@example.net"])
        self.check_entry(e2, r2, self.env.delivery_for(r2.queue_id), "b@example.org", ["y@example.net", "z@example.net"])
        self.assertGreater(e2["seq"], e1["seq"])
        self.assertEqual(e1["client_port"], e2["client_port"])

    def test_rset_aborted_transaction_not_recorded(self):
        smtp = self.env.connect(HELO)
        self.addCleanup(smtp.close)
        smtp.ehlo(HELO)
        self.assertEqual(smtp.mail("aborted-sender@example.org")[0], 250)
        self.assertEqual(smtp.rcpt("aborted-rcpt@example.net")[0], 250)
        self.assertEqual(smtp.rset()[0], 250)
        data = b"Subject: after RSET\r\nMessage-ID: <after-rset@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nreal\r\n"
        r = self.env.send(data, mail_from="real-sender@example.org", rcpts=["real-rcpt@example.net"], smtp=smtp)
        smtp.quit()
        self.assertTrue(r.accepted, r)
        e = self.env.entry_for_qid(r.queue_id)
        self.check_entry(e, r, self.env.delivery_for(r.queue_id), "real-sender@example.org", ["real-rcpt@example.net"])
        everything = self.env.entries()
        self.assertFalse([x for x in everything if "aborted-rcpt@example.net" in x["rcpt"]
                          or x["mail_from"] == "aborted-sender@example.org"])

    def test_connection_lost_during_data_not_recorded(self):
        s = socket.create_connection(("127.0.0.1", self.env.postfix.smtp_port), timeout=30)
        f = s.makefile("rwb")

        def cmd(line):
            f.write(line + b"\r\n")
            f.flush()
            reply = b""
            while True:
                l = f.readline()
                reply += l
                if len(l) < 4 or l[3:4] != b"-":
                    return reply
        f.readline()  # greeting
        self.assertTrue(cmd(b"EHLO " + HELO.encode()).startswith(b"250"))
        self.assertTrue(cmd(b"MAIL FROM:<lost-sender@example.org>").startswith(b"250"))
        self.assertTrue(cmd(b"RCPT TO:<lost-rcpt@example.net>").startswith(b"250"))
        self.assertTrue(cmd(b"DATA").startswith(b"354"))
        f.write(b"Subject: never finished\r\n\r\n" + b"partial body line\r\n" * 1000)
        f.flush()
        f.close()
        s.close()
        harness.wait_until(lambda: re.search(r"lost connection after DATA .*from localhost", self.env.postfix.log()),
                           30, "Postfix to log the lost connection")
        # a marker message afterwards is journaled; the lost one is not
        self.send_and_check(b"Subject: marker after lost\r\nMessage-ID: <marker-lost@example.org>\r\n"
                            b"Date: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nmarker\r\n")
        self.assertFalse([x for x in self.env.entries() if "lost-rcpt@example.net" in x["rcpt"]])
        self.assertTrue(self.env.daemon.running(), self.env.daemon.log_text())

    def test_bdat_chunking(self):
        s = socket.create_connection(("127.0.0.1", self.env.postfix.smtp_port), timeout=30)
        client_port = s.getsockname()[1]
        f = s.makefile("rwb")
        self.addCleanup(s.close)

        def reply():
            out = b""
            while True:
                l = f.readline()
                out += l
                if len(l) < 4 or l[3:4] != b"-":
                    return out
        reply()
        f.write(b"EHLO " + HELO.encode() + b"\r\n"); f.flush()
        self.assertIn(b"CHUNKING", reply())
        chunks = [b"From: bdat@example.org\r\nSubject: sent with BDAT\r\nMessage-ID: <bdat@example.org>\r\n",
                  b"Date: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\n.a line with a leading dot (no stuffing in BDAT)\r\n",
                  b"last chunk\r\n"]
        t0 = datetime.datetime.now(datetime.timezone.utc)
        f.write(b"MAIL FROM:<bdat@example.org>\r\n"); f.flush()
        self.assertTrue(reply().startswith(b"250"))
        f.write(b"RCPT TO:<bdat-rcpt@example.net>\r\n"); f.flush()
        self.assertTrue(reply().startswith(b"250"))
        for i, ch in enumerate(chunks):
            last = b" LAST" if i == len(chunks) - 1 else b""
            f.write(b"BDAT %d%s\r\n" % (len(ch), last) + ch); f.flush()
            rep = reply()
            self.assertTrue(rep.startswith(b"250"), rep)
        f.write(b"QUIT\r\n"); f.flush()
        t1 = datetime.datetime.now(datetime.timezone.utc)
        qid = re.search(rb"queued as ([0-9A-Za-z]+)", rep).group(1).decode()
        r = harness.SendResult()
        r.queue_id, r.client_port, r.t_start, r.t_end = qid, client_port, t0, t1
        d = self.env.delivery_for(qid)
        exported = self.check_entry(self.env.entry_for_qid(qid), r, d, "bdat@example.org", ["bdat-rcpt@example.net"])
        self.assertEqual(exported, b"".join(chunks))

    def test_client_info_from_xclient(self):
        data = b"Subject: xclient\r\nMessage-ID: <xclient-%d@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nx\r\n"
        cases = [("192.0.2.7", "client.example.com", 4242, "192.0.2.7", ("client.example.com",)),
                 ("IPV6:2001:db8::25", "v6.example.com", 2525, "2001:db8::25", ("v6.example.com",)),
                 # no client name: Postfix hands the milter "[addr]"
                 ("198.51.100.9", "[UNAVAILABLE]", 65535, "198.51.100.9", ("[198.51.100.9]", "unknown", ""))]
        for i, (xaddr, xname, port, addr, names) in enumerate(cases):
            with self.subTest(addr=xaddr):
                smtp = self.env.connect()
                self.addCleanup(smtp.close)
                smtp.ehlo("before.xclient")
                code, reply = smtp.docmd("XCLIENT", "ADDR=%s NAME=%s PORT=%d" % (xaddr, xname, port))
                self.assertEqual(code, 220, reply)
                smtp.ehlo("after-xclient.example.com")
                r = self.env.send(data % i, smtp=smtp)
                smtp.quit()
                self.assertTrue(r.accepted, r)
                e = self.env.entry_for_qid(r.queue_id)
                self.assertEqual(e["client_addr"], addr)
                self.assertEqual(e["client_port"], port)
                self.assertIn(e["client_name"], names)
                self.assertEqual(e["helo"], "after-xclient.example.com")
                self.assertEqual(self.env.tool.export(e["seq"]), self.env.delivery_for(r.queue_id).content)

    def test_many_recipients(self):
        rcpts = ["r%03d-%s@example.net" % (i, "x" * (i % 7)) for i in range(150)]
        rcpts = rcpts[75:] + rcpts[:75]   # not sorted
        opts = [["NOTIFY=NEVER"] if i % 3 == 0 else [] for i in range(len(rcpts))]
        data = b"Subject: 150 recipients\r\nMessage-ID: <many@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nx\r\n"
        r, d, e = self.send_and_check(data, rcpts=rcpts, rcpt_options=opts)
        self.assertEqual(len(e["rcpt"]), 150)
        self.assertIn("%s: seq=%d from=<sender@example.org> nrcpt=150 size=%d stored=%d" % (
            r.queue_id, e["seq"], e["seal"]["plain_size"], e["size"]),
                      self.env.daemon.log_text())

    def test_null_sender(self):
        data = b"From: MAILER-DAEMON@example.org\r\nSubject: bounce\r\nMessage-ID: <null@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nbounce\r\n"
        r, d, e = self.send_and_check(data, mail_from="")
        self.assertEqual(e["mail_from"], "")

    def test_helo_recorded(self):
        data = b"Subject: helo\r\nMessage-ID: <helo@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nx\r\n"
        self.send_and_check(data, helo="other-helo.example.com")

    def test_sendmail_submission_journaled(self):
        token = "sendmail-journal-%d" % os.getpid()
        t0 = datetime.datetime.now(datetime.timezone.utc)
        self.env.sendmail(b"Subject: " + token.encode() + b"\nTo: visible@example.net\n\nsubmitted with sendmail(1)\n",
                          "local-sender@example.org", ["visible@example.net", "second@example.net"])
        d = self.env.delivery_matching(lambda d: token.encode() in d.raw, what="sendmail delivery")
        t1 = datetime.datetime.now(datetime.timezone.utc)
        e = self.env.entry_for_qid(d.queue_id)
        # local submission: no SMTP client, addresses come without angle brackets from Postfix
        self.assertEqual(e["mail_from"], "local-sender@example.org")
        self.assertEqual(e["rcpt"], ["visible@example.net", "second@example.net"])
        self.assertEqual(e["kind"], "message")
        self.check_classification(e)
        t = harness.parse_iso(e["time"])
        self.assertTrue(t0 - SLACK <= t <= t1 + SLACK)
        exported = self.env.tool.export(e["seq"])
        self.assertEqual(exported, d.content, harness.bytes_diff(d.content, exported))
        self.assert_entry_content(e, exported)

    def test_concurrent_sessions(self):
        nthreads, per_thread = 5, 4
        results = []
        lock = threading.Lock()

        def worker(t):
            for i in range(per_thread):
                body = ("From: t%d@example.org\r\nSubject: concurrent %d.%d\r\nMessage-ID: <conc-%d-%d@example.org>\r\n"
                        "Date: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\n" % (t, t, i, t, i)).encode() + b"x" * (1000 * (i + 1)) + b"\r\n"
                r = self.env.send(body, mail_from="t%d@example.org" % t, rcpts=["c%d-%d@example.net" % (t, i)])
                with lock:
                    results.append((t, i, body, r))
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(nthreads)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(300)
        self.assertEqual(len(results), nthreads * per_thread)
        seqs = set()
        for t, i, body, r in results:
            with self.subTest(thread=t, msg=i):
                self.assertTrue(r.accepted, r)
                d = self.env.delivery_for(r.queue_id)
                e = self.env.entry_for_qid(r.queue_id)
                self.check_entry(e, r, d, "t%d@example.org" % t, ["c%d-%d@example.net" % (t, i)])
                self.assertEqual(self.env.tool.export(e["seq"]), body)
                seqs.add(e["seq"])
        self.assertEqual(len(seqs), nthreads * per_thread)

    def test_zz_sequence_dense_and_log_lines(self):
        # runs last in this class (alphabetical order): checks every entry made so far
        self.send_and_check(b"Subject: last\r\nMessage-ID: <zz@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nx\r\n")
        entries = self.env.entries()
        self.assertGreaterEqual(len(entries), 1)
        # the sequence is dense over entries of every kind: seq 1 is the policy loaded at start,
        # seq 2 the key it gives the default department, every other entry is a message (no
        # reloads here), and `list` shows the messages only
        every = self.env.every_entry()
        self.assertEqual([e["seq"] for e in every], list(range(1, len(every) + 1)))
        recorded = [e for e in every if e["kind"] != "access"]   # the audit trail interleaves
        self.assertEqual(harness.kinds(every), "PK" + "M" * (len(recorded) - 2))
        self.assertEqual(recorded[2:], entries)
        self.assertEqual(every[0]["reason"], "start")
        self.assertEqual(every[0]["digest"], self.policy_digest)
        key = every[1]
        self.assertEqual({k: v for k, v in key.items() if k != "time"}, {
            "seq": 2, "kind": "key", "action": "added", "department": "default", "escrow": False,
            "fingerprint": harness.e2e_keys().fingerprint, "file": self.env.e2e_cert_path,
            "policy": self.policy_digest})
        self.assertEqual(key["time"], every[0]["time"])   # journaled in one write with the policy
        # the policy file and the certificate it names are journaled with it
        self.assertEqual(every[0]["files"], [harness.file_record(self.env.policy_path),
                                             harness.file_record(self.env.e2e_cert_path)])
        self.assertEqual(self.env.tool.status()["last_seq"], len(every) + 1)   # + that listing's access entry
        qids = [e["queue_id"] for e in entries]
        self.assertEqual(len(qids), len(set(qids)), "a queue id was journaled twice")
        times = [harness.parse_iso(e["time"]) for e in every]
        self.assertEqual(times, sorted(times))
        log = self.env.daemon.log_text()
        self.assertIn("policy %s loaded (start): seq=1 digest=%s" % (self.env.policy_path, self.policy_digest), log)
        self.assertRegex(log, r"mailjournald \S+ started: journal=%s milter=%s admin=%s last_seq=2\n" % (
            re.escape(self.env.journal_dir), re.escape(self.env.daemon.milter_spec),
            re.escape(self.env.daemon.admin_sock)))
        for e in entries:
            line = "%s: seq=%d from=<%s> nrcpt=%d size=%d stored=%d" % (
                e["queue_id"], e["seq"], e["mail_from"], len(e["rcpt"]), e["seal"]["plain_size"], e["size"])
            self.assertIn(line, log)
        # every delivery at the sink is in the journal, except Postfix's own notifications (the
        # NOTIFY=SUCCESS in test_recipients_... makes one): internal mail skips the milters
        self.env.wait_delivered(0)
        delivered = {d.queue_id for d in self.env.sink.deliveries()}
        notices = set(re.findall(r"notification: ([0-9A-Za-z]+)", self.env.postfix.log()))
        self.assertEqual(delivered - notices - set(qids), set())
        self.assertEqual(notices & set(qids), set())


if __name__ == "__main__":
    harness.main()
