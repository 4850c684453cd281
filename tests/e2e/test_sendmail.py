#!/usr/bin/env python3
"""mailjournald behind a real Sendmail configured with contrib/sendmail/mailjournal.mc.

A private Sendmail (tests/e2e/sendmail.py: Debian 12's sendmail-bin unpacked by
contrib/install-deps.sh, never installed) listens on 127.0.0.1 and relays to the harness's
byte-exact sink; its .cf is built with m4 from an .mc that carries the contrib lines verbatim
(only the socket path differs).  Checked:

* capture: every corpus message the Sendmail accepts is journaled byte for byte as the client
  submitted it (the milter sees the message before Sendmail's delivery-time rewriting and
  never sees Sendmail's own Received header), with the envelope: MAIL FROM and its
  parameters, every RCPT TO in order (Bcc included) with its parameters, client address,
  port, name and HELO, {daemon_name}, and Sendmail's queue id (macro i);
* the macros: the daemon never warns about a missing queue id with the contrib lines, gets
  the queue id from their later stages when MAIL FROM has no i, and warns (and journals no
  queue id) when Sendmail is configured without i at all;
* F=T: while mailjournald is down Sendmail answers 451 4.3.2 at MAIL FROM; mail submitted
  with sendmail(1) stays in the MSP's queue (explicit queue runs defer it again) and is
  journaled, once, by the queue run after the daemon is back; without F=T (the negative
  control) Sendmail delivers mail the filter never saw.

Run: python3 tests/e2e/test_sendmail.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus    # noqa: E402
import harness   # noqa: E402
import sendmail  # noqa: E402

HELO = "client.test.invalid"
DAEMON_NAME = "MTA-e2e"   # DAEMON_OPTIONS Name= of the test MTA: Sendmail's {daemon_name}
NO_QUEUE_ID_WARNING = "the MTA sent no queue id"

# Sendmail 8.17.1.9 (Debian 12) refuses these at the end of DATA with 421 4.5.0 and closes the
# connection (its SMTP smuggling fix): nothing is queued, journaled or delivered.
REFUSED = {"18-cr-in-header": b"Bare carriage return", "25-bare-lf": b"Bare linefeed"}
# Sendmail rewrites these before the milter sees them: the journal holds what Sendmail
# stores (= the delivered copy), not the submitted bytes.
NORMALISED = {"31-space-before-colon": "'Name : v' becomes 'Name: v'"}
# Sendmail changes these on the way out, after the milter: the journal holds the submitted
# bytes, the delivered copy differs (measured with 8.17.1.9).
REWRITTEN_ON_DELIVERY = {
    "08-folded-headers": "folded address header unfolded",
    "12-header-trailing-whitespace": "trailing white space of address headers dropped",
    "20-no-date-no-messageid": "Date and Message-Id prepended",
    "23-malformed-mime-bad-boundary": "the declared MIME boundary closed",
    "24-malformed-mime-unterminated": "the MIME boundary closed",
    "27-header-5000": "a 5000-byte header line cut at about 2450 bytes",
    "29-no-headers": "Date, Message-Id and From prepended",
    "33-duplicate-headers": "Resent-Date and Resent-Message-Id prepended",
}
# Tempfailed (451 4.3.2, F=T) at the end of data: a header field over 64 KiB makes a milter
# packet larger than libmilter accepts (MILTER_MAX_DATA_SIZE), libmilter drops the filter
# connection and Sendmail tempfails.  Only possible with confMAX_HEADERS_LENGTH raised (this
# test sets 1 MiB); Sendmail's default of 32768 refuses such headers itself.  Postfix cuts the
# field at about 61 KB instead.
TEMPFAILED = {"gen-header-90k": "header field over 64 KiB"}
MIN_BYTE_EXACT = 10   # the issue asks for at least 10 corpus messages


def sendmail_queue_id(result):
    """Sendmail's queue id from its reply to the end of data (None if not accepted)."""
    m = sendmail.ACCEPTED_RE.match(result.reply or b"")
    return m.group(1).decode() if m else None


def no_macro_trouble(test, env):
    log = env.daemon.log_text()
    test.assertNotIn(NO_QUEUE_ID_WARNING, log)
    test.assertNotIn("SMFIP_HDR_LEADSPC", log)


class SendmailTestCase(harness.E2ETestCase):
    def delivered(self, queue_id):
        """(delivery, its bytes without Sendmail's Received header) for Sendmail's queue id."""
        def find():
            for d in self.env.sink.deliveries():
                content, qid = sendmail.strip_received(d.raw)
                if qid == queue_id:
                    return d, content
            return None
        return harness.wait_until(find, 60, "delivery of Sendmail queue id %s" % queue_id, interval=0.1,
                                  diag=self.env.diagnostics)

    def check_envelope(self, entry, queue_id, mail_from, rcpts, mail_options=(), rcpt_options=None,
                       client_port=None, helo=HELO):
        self.assertEqual(entry["kind"], "message")
        self.assertEqual(entry["queue_id"], queue_id)
        self.assertEqual(entry["mail_from"], mail_from)
        self.assertEqual(entry["mail_params"], list(mail_options))
        self.assertEqual(entry["rcpt"], list(rcpts))
        expected_rp = [list(o) for o in rcpt_options] if rcpt_options else [[] for _ in rcpts]
        self.assertEqual(entry["rcpt_params"], expected_rp)
        self.assertEqual(entry["client_addr"], "127.0.0.1")
        if client_port is not None:
            self.assertEqual(entry["client_port"], client_port)
        self.assertEqual(entry["client_name"], "localhost")
        self.assertEqual(entry["helo"], helo)
        self.assertEqual(entry["auth"], "")
        self.assertEqual(entry["daemon"], DAEMON_NAME)
        self.assertEqual(entry["departments"], harness.DEFAULT_DEPARTMENTS)
        self.assert_sealed_to_e2e(entry)


class SendmailCaptureTest(SendmailTestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = sendmail.SendmailE2E()
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        sys.stderr.write("Sendmail %s from %s\n" % (cls.env.sendmail.version(), sendmail.SENDMAIL_ROOT))

    def send_and_check(self, data, mail_from="sender@example.org", rcpts=("rcpt@example.net",), **kw):
        """Send over SMTP; check the entry's envelope and that the journal holds exactly the
        submitted bytes and what Sendmail delivered (minus its Received header)."""
        r = self.env.send(data, mail_from=mail_from, rcpts=rcpts, helo=HELO, **kw)
        qid = sendmail_queue_id(r)
        self.assertIsNotNone(qid, "not accepted: %r" % r)
        d, content = self.delivered(qid)
        e = self.env.entry_for_qid(qid)
        self.check_envelope(e, qid, mail_from, rcpts, kw.get("mail_options", ()), kw.get("rcpt_options"),
                            r.client_port)
        exported = self.env.tool.export(e["seq"])
        self.assertEqual(exported, data, harness.bytes_diff(data, exported))
        self.assertEqual(content, exported, harness.bytes_diff(exported, content))
        self.assert_entry_content(e, exported)
        return r, d, e

    def test_corpus(self):
        cases = [c for c in corpus.all_cases(include_large=False) if not c.smtputf8]
        results = {c.name: self.env.send(c.data, mail_from=c.mail_from, rcpts=c.rcpts,
                                         mail_options=c.mail_options, helo=HELO) for c in cases}
        byte_exact = []
        for c in cases:
            with self.subTest(case=c.name):
                r = results[c.name]
                qid = sendmail_queue_id(r)
                if c.name in REFUSED:
                    self.assertEqual((r.stage, r.code), ("eod", 421), r)
                    self.assertIn(REFUSED[c.name], r.reply)
                    continue
                if c.name in TEMPFAILED:
                    self.assertEqual((r.stage, r.code, r.reply), ("eod", 451, b"4.3.2 Please try again later"), r)
                    continue
                self.assertIsNotNone(qid, "not accepted: %r" % r)
                d, content = self.delivered(qid)
                e = self.env.entry_for_qid(qid)
                self.check_envelope(e, qid, c.mail_from, c.rcpts, c.mail_options, client_port=r.client_port)
                self.assertEqual(d.envelope["rcpt"], ["<%s>" % x for x in c.rcpts])
                exported = self.env.tool.export(e["seq"])
                self.assert_entry_content(e, exported)
                if c.name in NORMALISED:
                    self.assertNotEqual(exported, c.expected_wire)
                    self.assertEqual(exported, content, harness.bytes_diff(content, exported))
                    continue
                submitted = c.expected_wire + c.journal_suffix
                self.assertEqual(exported, submitted, "journal copy differs from the submitted bytes: " +
                                 harness.bytes_diff(submitted, exported))
                byte_exact.append(c.name)
                if c.name not in REWRITTEN_ON_DELIVERY:
                    # the milter saw what Sendmail relayed (a message ending inside its header
                    # block, journal_suffix, is relayed with the empty line added, too)
                    self.assertEqual(exported, content, harness.bytes_diff(content, exported))
        self.assertGreaterEqual(len(byte_exact), MIN_BYTE_EXACT, byte_exact)
        # every refused message left no trace: one entry per accepted message
        accepted = [sendmail_queue_id(r) for r in results.values() if sendmail_queue_id(r)]
        journaled = [e["queue_id"] for e in self.env.entries() if e["queue_id"] in accepted]
        self.assertEqual(sorted(journaled), sorted(accepted))
        sys.stderr.write("byte-exact through Sendmail: %d of %d corpus messages\n" % (len(byte_exact), len(cases)))
        no_macro_trouble(self, self.env)

    def test_recipients_in_rcpt_order_with_bcc_and_params(self):
        rcpts = ["zulu@example.net", "alpha@example.net", "hidden-bcc@example.com", "Mixed.Case@Example.NET"]
        data = (b"From: sender@example.org\r\nTo: zulu@example.net, alpha@example.net\r\n"
                b"Cc: Mixed.Case@Example.NET\r\nSubject: bcc through Sendmail\r\n"
                b"Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <sm-bcc@example.org>\r\n\r\n"
                b"The envelope has a Bcc-only recipient.\r\n")
        opts = [[], ["NOTIFY=NEVER"], ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;hidden-bcc@example.com"], []]
        r, d, e = self.send_and_check(data, rcpts=rcpts, rcpt_options=opts,
                                      mail_options=["BODY=8BITMIME", "RET=HDRS", "ENVID=sm123"])
        self.assertEqual(sorted(x.split()[0].lower() for x in d.envelope["rcpt"]),
                         sorted("<%s>" % x.lower() for x in rcpts))
        self.assertNotIn(b"hidden-bcc", self.env.tool.export(e["seq"]))

    def test_two_messages_one_connection(self):
        smtp = self.env.connect(HELO)
        self.addCleanup(smtp.close)
        self.assertEqual(smtp.ehlo(HELO)[0], 250)
        m1 = b"From: a@example.org\r\nSubject: first\r\nMessage-ID: <sm-conn-1@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\none\r\n"
        m2 = b"From: b@example.org\r\nSubject: second\r\nMessage-ID: <sm-conn-2@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\ntwo\r\n"
        r1 = self.env.send(m1, mail_from="a@example.org", rcpts=["x@example.net"], smtp=smtp)
        r2 = self.env.send(m2, mail_from="b@example.org", rcpts=["y@example.net", "z@example.net"], smtp=smtp)
        smtp.quit()
        q1, q2 = sendmail_queue_id(r1), sendmail_queue_id(r2)
        self.assertTrue(q1 and q2, (r1, r2))
        self.assertNotEqual(q1, q2)
        e1, e2 = self.env.entry_for_qid(q1), self.env.entry_for_qid(q2)
        self.check_envelope(e1, q1, "a@example.org", ["x@example.net"], client_port=r1.client_port)
        self.check_envelope(e2, q2, "b@example.org", ["y@example.net", "z@example.net"], client_port=r1.client_port)
        self.assertEqual(self.env.tool.export(e1["seq"]), m1)
        self.assertEqual(self.env.tool.export(e2["seq"]), m2)
        self.assertEqual(self.delivered(q2)[1], m2)

    def test_contrib_lines_in_force(self):
        """The generated sendmail.cf has the filter and macros of contrib/sendmail/mailjournal.mc."""
        sm = self.env.sendmail
        self.assertEqual(sm.cf_option(sm.mta_cf, "InputMailFilters"), "mailjournal")
        with open(sm.mta_cf) as f:
            cf = f.read()
        self.assertIn("Xmailjournal, S=local:%s, F=T, T=C:30s;S:30s;R:30s;E:10m\n" % self.env.daemon.milter_sock, cf)
        for stage in ("envfrom", "data", "eoh", "eom"):
            self.assertIn("i", [m.strip() for m in sm.cf_option(sm.mta_cf, "Milter.macros." + stage).split(",")], stage)
        self.assertIn("{daemon_name}", sm.cf_option(sm.mta_cf, "Milter.macros.connect"))
        self.assertIn("{auth_authen}", sm.cf_option(sm.mta_cf, "Milter.macros.envfrom"))


class SendmailWithoutQueueIdTest(SendmailTestCase):
    """The negative control: Sendmail told to send no i at all."""

    @classmethod
    def setUpClass(cls):
        lines = [l for l in sendmail.contrib_text().splitlines(True) if "confMILTER_MACROS" not in l]
        lines.append("define(`confMILTER_MACROS_ENVFROM', ``{auth_authen}'')dnl\n")
        cls.env = sendmail.SendmailE2E(milter_lines="".join(lines))
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)

    def test_warns_and_journals_no_queue_id(self):
        data = b"From: sender@example.org\r\nSubject: no i\r\nMessage-ID: <sm-no-i@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nx\r\n"
        r = self.env.send(data, helo=HELO)
        qid = sendmail_queue_id(r)
        self.assertIsNotNone(qid, r)
        self.assertEqual(self.delivered(qid)[1], data)
        entries = self.env.entries()
        self.assertEqual(len(entries), 1, entries)
        self.check_envelope(entries[0], "", "sender@example.org", ["rcpt@example.net"], client_port=r.client_port)
        self.assertEqual(self.env.tool.export(entries[0]["seq"]), data)
        self.env.daemon.wait_log(NO_QUEUE_ID_WARNING)


class SendmailQueueIdLaterTest(SendmailTestCase):
    """Sendmail without i at MAIL FROM: the contrib lines' i at DATA, end of headers and end
    of message still give the entry its queue id."""

    @classmethod
    def setUpClass(cls):
        lines = sendmail.contrib_text() + "define(`confMILTER_MACROS_ENVFROM', ``{auth_authen}'')dnl\n"
        cls.env = sendmail.SendmailE2E(milter_lines=lines)
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)

    def test_queue_id_from_later_stages(self):
        sm = self.env.sendmail
        self.assertNotIn("i", [m.strip() for m in sm.cf_option(sm.mta_cf, "Milter.macros.envfrom").split(",")])
        data = b"From: sender@example.org\r\nSubject: i later\r\nMessage-ID: <sm-i-later@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nx\r\n"
        r = self.env.send(data, helo=HELO)
        qid = sendmail_queue_id(r)
        self.assertIsNotNone(qid, r)
        self.assertEqual(self.delivered(qid)[1], data)
        e = self.env.entry_for_qid(qid)
        self.check_envelope(e, qid, "sender@example.org", ["rcpt@example.net"], client_port=r.client_port)
        self.assertEqual(self.env.tool.export(e["seq"]), data)
        no_macro_trouble(self, self.env)


class SendmailDaemonDownTest(SendmailTestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = sendmail.SendmailE2E()
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)

    def test_deferred_while_down_and_journaled_after(self):
        env, sm = self.env, self.env.sendmail
        self.assertEqual(env.entries(), [])
        env.daemon.stop()
        # SMTP: refused with 4xx from MAIL FROM on (the client keeps the message)
        data = corpus.file_cases()[0].data
        r = env.send(data, helo=HELO)
        self.assertEqual((r.stage, r.code, r.reply), ("mail", 451, b"4.3.2 Please try again later"), r)
        # sendmail(1): the MSP keeps the messages in its queue
        cases = [c for c in corpus.file_cases() if c.name in ("01-plain-ascii", "04-8bitmime-utf8", "13-leading-dots")]
        rcpts = ["to@example.net", "bcc-only@example.com"]
        for c in cases:
            p = sm.submit(c.data, "msp-sender@example.org", rcpts)
            self.assertEqual(p.returncode, 0, p)
        queued = sm.queue_files(client=True)
        self.assertEqual(len(queued), len(cases), queued)
        # an explicit queue run while the daemon is down defers them again: nothing is lost
        p = sm.run_queue(client=True)
        self.assertEqual(p.stdout.count(b"Deferred: 451 4.3.2 Please try again later"), len(cases), p.stdout)
        self.assertEqual(sm.queue_files(client=True), queued)
        self.assertEqual(sm.queue_files(), [])
        self.assertEqual(env.sink.count(), 0)

        env.daemon.start()
        p = sm.run_queue(client=True)
        self.assertEqual(sm.queue_files(client=True), [], p.stdout.decode(errors="replace"))
        harness.wait_until(lambda: env.sink.count() >= len(cases), 60, "the queued messages at the sink",
                           diag=env.diagnostics)
        entries = env.entries()
        self.assertEqual(len(entries), len(cases), entries)   # each once
        by_qid = {e["queue_id"]: e for e in entries}
        for c in cases:
            with self.subTest(case=c.name):
                matches = [d for d in env.sink.deliveries() if d.raw.endswith(c.expected_wire)]
                self.assertEqual(len(matches), 1)
                content, qid = sendmail.strip_received(matches[0].raw)
                e = by_qid[qid]
                # the MSP's own Received header is a header like any other to the MTA
                self.assertTrue(content.startswith(b"Received: (from root@localhost)\r\n"), content[:200])
                self.check_envelope(e, qid, "msp-sender@example.org", e["rcpt"], e["mail_params"],
                                    helo=sm.hostname)
                self.assertEqual(sorted(e["rcpt"]), sorted(rcpts))
                exported = env.tool.export(e["seq"])
                self.assertEqual(exported, content, harness.bytes_diff(content, exported))
                self.assertTrue(exported.endswith(c.expected_wire))
        # and the SMTP client's retry goes through
        r = env.send(data, helo=HELO)
        qid = sendmail_queue_id(r)
        self.assertIsNotNone(qid, r)
        self.assertEqual(env.tool.export(env.entry_for_qid(qid)["seq"]), data)
        no_macro_trouble(self, env)


class SendmailWithoutTempfailFlagTest(SendmailTestCase):
    """The negative control of F=T: without it Sendmail accepts mail the filter never saw."""

    @classmethod
    def setUpClass(cls):
        lines = sendmail.contrib_text()
        assert "F=T, " in lines
        cls.env = sendmail.SendmailE2E(milter_lines=lines.replace("F=T, ", ""), start_daemon=False)
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)

    def test_dead_filter_lets_mail_through(self):
        data = b"From: sender@example.org\r\nSubject: no F=T\r\nMessage-ID: <sm-no-ft@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nx\r\n"
        r = self.env.send(data, helo=HELO)
        qid = sendmail_queue_id(r)
        self.assertIsNotNone(qid, r)
        self.assertEqual(self.delivered(qid)[1], data)
        self.assertFalse(self.env.daemon.running())


if __name__ == "__main__":
    problems = sendmail.missing_prerequisites()
    if problems and os.geteuid() == 0:
        sys.stderr.write("SKIP: " + "; ".join(problems) + "\n")
        sys.exit(harness.SKIP_EXIT)
    harness.main()
