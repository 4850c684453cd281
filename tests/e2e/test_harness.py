#!/usr/bin/env python3
"""Proves the harness without mailjournald: the private Postfix instance relays the corpus to
the sink, and what arrives is what the corpus says (byte for byte for the verbatim cases).
Also pins down the Postfix content changes that the journal tests rely on.

Run: python3 tests/e2e/test_harness.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus    # noqa: E402
import harness   # noqa: E402


class PostfixOnlyTest(harness.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        # no daemon, no tool: no e2e key pair either (keygen needs the tool), so this runs unbuilt
        cls.env = harness.E2E(start_daemon=False, extra_main={"smtpd_milters": "", "non_smtpd_milters": ""},
                              e2e_cert=False)
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        cls.cases = [c for c in corpus.all_cases() if not c.smtputf8 or cls.env.sink.supports_smtputf8]
        cls.results = {}
        for c in cls.cases:
            cls.results[c.name] = cls.env.send(c.data, mail_from=c.mail_from, rcpts=c.rcpts,
                                               mail_options=c.mail_options)

    def delivered(self, case):
        r = self.results[case.name]
        self.assertTrue(r.accepted, "%s not accepted: %r" % (case.name, r))
        return self.env.delivery_for(r.queue_id)

    def test_corpus_size(self):
        self.assertGreaterEqual(len(corpus.all_cases()), 25)

    def test_verbatim_cases_arrive_unchanged(self):
        n = 0
        for c in self.cases:
            if not c.verbatim:
                continue
            with self.subTest(case=c.name):
                d = self.delivered(c)
                self.assertEqual(d.content, c.expected_wire, harness.bytes_diff(c.expected_wire, d.content))
                n += 1
        self.assertGreater(n, 20)

    def test_non_verbatim_cases_are_changed_by_postfix(self):
        for c in self.cases:
            if c.verbatim:
                continue
            with self.subTest(case=c.name):
                d = self.delivered(c)
                self.assertNotEqual(d.content, c.expected_wire)

    def by_name(self, name):
        return next(c for c in self.cases if c.name == name)

    def test_postfix_adds_missing_headers_at_end_of_headers(self):
        for name in ("20-no-date-no-messageid", "29-no-headers"):
            with self.subTest(case=name):
                c = self.by_name(name)
                d = self.delivered(c)
                fields, rest = harness.split_headers(d.content)
                names = [f.split(b":", 1)[0] for f in fields]
                orig_fields, _ = harness.split_headers(c.expected_wire)
                # appended after the original header fields; From only when it was missing
                added = names[len(orig_fields):]
                self.assertEqual(added[:2], [b"Message-Id", b"Date"])
                self.assertEqual(added[2:], [] if orig_fields else [b"From"])
                mid = fields[len(orig_fields)]
                self.assertIn(d.queue_id.encode() + b"@" + harness.MYHOSTNAME.encode(), mid)
                self.assertTrue(c.expected_wire.endswith(rest))

    def test_bare_cr_becomes_space_and_cr_before_crlf_is_dropped(self):
        d = self.delivered(self.by_name("18-cr-in-header"))
        self.assertIn(b"Subject: bare CR in subject\r\n", d.content)
        self.assertIn(b"X-CR-End: value\r\n", d.content)
        self.assertIn(b"Body with bare CR.\r\n", d.content)
        self.assertNotIn(b"\r\r", d.content)

    def test_bare_lf_becomes_crlf(self):
        c = self.by_name("25-bare-lf")
        d = self.delivered(c)
        self.assertEqual(d.content, re.sub(rb"(?<!\r)\n", b"\r\n", c.expected_wire))

    def test_space_before_colon_is_removed(self):
        d = self.delivered(self.by_name("31-space-before-colon"))
        self.assertIn(b"\r\nSubject: space before colon\r\nX-Tab: tab before colon\r\n", d.content)

    def test_headers_without_separator_are_not_completed(self):
        # Postfix does not add the empty line: the journal (which cannot tell) will differ here
        c = self.by_name("21-headers-no-body")
        d = self.delivered(c)
        self.assertEqual(d.content, c.expected_wire)
        self.assertFalse(d.content.endswith(b"\r\n\r\n"))

    def test_resent_headers_completed(self):
        d = self.delivered(self.by_name("33-duplicate-headers"))
        self.assertEqual(len(d.header("Resent-Message-Id")), 1)
        self.assertEqual(len(d.header("Resent-Date")), 1)

    def test_8bit_without_body_param_is_not_converted(self):
        data = (b"From: a@example.org\r\nTo: b@example.net\r\nSubject: undeclared 8bit\r\n"
                b"Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <undeclared@example.org>\r\n"
                b"Content-Type: text/plain; charset=utf-8\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n")
        r = self.env.send_ok(data)
        d = self.env.delivery_for(r.queue_id)
        self.assertEqual(d.content, data)

    def test_envelope_reaches_sink(self):
        c = self.by_name("04-8bitmime-utf8")
        d = self.delivered(c)
        self.assertTrue(d.envelope["mail"].startswith("<sender@example.org>"))
        self.assertIn("BODY=8BITMIME", d.envelope["mail"])
        self.assertEqual([r.split()[0] for r in d.envelope["rcpt"]], ["<rcpt@example.net>"])

    def test_queue_id_in_received_matches_smtp_reply(self):
        c = self.by_name("01-plain-ascii")
        r = self.results[c.name]
        d = self.delivered(c)
        self.assertEqual(d.queue_id, r.queue_id)
        self.assertRegex(d.queue_id, r"^[0-9A-Za-z]{12,}$")  # long queue ids
        self.assertIn("%s: client=localhost[127.0.0.1]" % r.queue_id, self.env.postfix.log())

    def test_sendmail_submission(self):
        token = "sendmail-%d" % os.getpid()
        self.env.sendmail(b"Subject: " + token.encode() + b"\n\nsubmitted with sendmail(1)\n.\n",
                          "local-sender@example.org", ["one@example.net", "two@example.net"])
        d = self.env.delivery_matching(lambda d: token.encode() in d.raw, what="sendmail delivery")
        self.assertTrue(d.envelope["mail"].startswith("<local-sender@example.org>"))
        self.assertEqual(sorted(r.split()[0] for r in d.envelope["rcpt"]),
                         ["<one@example.net>", "<two@example.net>"])
        self.assertRegex(d.raw.split(b"\r\n", 1)[0], rb"^Received: by mx\.test\.invalid \(Postfix, from userid 0\)$")
        self.assertTrue(d.content.endswith(b"\r\n\r\nsubmitted with sendmail(1)\r\n.\r\n"))
        self.assertIn(b"From: ", d.content)   # added by Postfix for local submissions

    def test_queue_drains(self):
        self.env.wait_delivered(len([r for r in self.results.values() if r.accepted]))
        self.assertTrue(self.env.postfix.queue_empty())


if __name__ == "__main__":
    harness.main(needs_binaries=())
