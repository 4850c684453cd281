#!/usr/bin/env python3
"""Supervision at capture (issue 11): lexicon flags and review sampling, end to end.

* Flags through the real Postfix: a policy whose department applies a Chinese mis-selling
  lexicon and an English one; a GBK body, an RFC 2047 (GB2312) subject and a quoted-printable
  HTML part each get exactly the lexicons they contain, with their severity, in the message
  entry (`mailjournal list`/`show` JSON "flags"); a clean message and one that has the words
  only in its From display name get none.
* `mailjournal policy explain` names the lexicons and the sample rate that apply.
* A pattern that does not compile: `mailjournal policy check` refuses the file with
  FILE:LINE:COL at the pattern (exit 78); a reload of it is refused and the policy in force
  stays (the next message is still flagged under it).
* Sampling over 10,000 messages sent by tests/bench/milter_load (MJ_MILTER_LOAD: the MTA side
  of the milter protocol, straight to the daemon's milter socket): at `sample: 2%` the number
  of sampled entries lies within 5 standard deviations of 200 (binomial, n = 10,000,
  p = 0.02: 130 to 270; a correct daemon fails this about once in 1.7 million runs); at 0%
  none of 500 is sampled, at 100% all of 500 are.

Run: python3 tests/e2e/test_supervision.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import math
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness   # noqa: E402

LEXICONS = """\
supervision:
  lexicons:
    - name: mis_selling
      severity: critical
      terms: [保本保收益, 稳赚不赔]
    - name: guarantees
      severity: high
      terms: ["guaranteed return"]
      patterns: ['risk[- ]?free']
"""


def policy(sample="0%", extra_pattern=None):
    text = harness.DEFAULT_POLICY + LEXICONS
    if extra_pattern is not None:
        text += "    - name: broken\n      severity: low\n      patterns: ['%s']\n" % extra_pattern
    text += "  departments:\n    - name: default\n      lexicons: [mis_selling, guarantees]\n"
    text += "      sample: %s\n" % sample
    return text


def mime(subject, content_type, cte, body, from_header="Sales <sales@example.org>"):
    return ("From: %s\r\nTo: client@example.net\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
            "Content-Type: %s\r\nContent-Transfer-Encoding: %s\r\n\r\n" % (
                from_header, subject, content_type, cte)).encode("ascii") + body


MESSAGES = {
    # name: (bytes, expected flags)
    "gbk_body": (mime("Fund offer", "text/plain; charset=GBK", "8bit",
                      "朱镕基说：本产品稳赚不赔。\r\n".encode("gbk")),
                 [("mis_selling", "critical")]),
    "rfc2047_subject": (mime("=?GB2312?B?wO2yxrGjsb6xo8rV0uY=?=", "text/plain; charset=us-ascii", "7bit",
                             b"See subject.\r\n"),
                        [("mis_selling", "critical")]),
    "qp_html": (mime("Newsletter", "text/html; charset=UTF-8", "quoted-printable",
                     b"<html><body><p>A <b>GUARANTEED</b>&nbsp;re=\r\nturn, <i>risk-free</i>.</p>"
                     b"</body></html>\r\n"),
                [("guarantees", "high")]),
    "both": (mime("=?UTF-8?Q?=E7=A8=B3=E8=B5=9A=E4=B8=8D=E8=B5=94?=", "text/plain; charset=us-ascii", "7bit",
                  b"a guaranteed\r\n return\r\n"),
             [("guarantees", "high"), ("mis_selling", "critical")]),
    "clean": (mime("Minutes", "text/plain; charset=UTF-8", "8bit",
                   "本产品不保本，投资有风险。No guarantee of returns.\r\n".encode("utf-8")),
              []),
    "from_display_name_only": (mime("Hello", "text/plain; charset=us-ascii", "7bit", b"Nothing here.\r\n",
                                    from_header="=?UTF-8?B?56iz6LWa5LiN6LWU?= <sales@example.org>"),
                               []),
}

SAMPLED_MESSAGES = 10000
RATE = 0.02
EDGE_MESSAGES = 500


def flags_of(entry):
    return [(f["lexicon"], f["severity"]) for f in entry.get("flags", [])]


class SupervisionTest(harness.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = harness.E2E(policy=policy())
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)

    def setUp(self):
        if self.env.policy_text != policy():
            self.env.write_policy(policy())
            self.env.reload_policy("tool")

    def send_flagged(self, name):
        raw, _ = MESSAGES[name]
        r = self.env.send_ok(raw)
        self.env.delivery_for(r.queue_id)
        return self.env.entry_for_qid(r.queue_id)

    def test_flags_through_postfix(self):
        for name, (raw, expected) in MESSAGES.items():
            with self.subTest(message=name):
                entry = self.send_flagged(name)
                self.assertEqual(flags_of(entry), expected)
                self.assertFalse(entry.get("sampled", False))
                shown = self.env.tool.show(entry["seq"])
                self.assertEqual(flags_of(shown), expected)

    def test_explain_names_the_lexicons_and_the_sample(self):
        x = self.env.tool.policy_explain("sales@example.org", ["client@example.net"])
        self.assertEqual(x["lexicons"], [{"lexicon": "guarantees", "severity": "high"},
                                         {"lexicon": "mis_selling", "severity": "critical"}])
        self.assertEqual(x["sample"], 0)
        path = os.path.join(self.env.base, "explain-policy.yaml")
        with open(path, "w") as f:
            f.write(policy("0.5%").replace("keys/e2e.crt", self.env.e2e_cert_path))
        text = self.env.tool.policy_explain("sales@example.org", ["client@example.net"], policy=path, fmt="text")
        self.assertIn("\nlexicons:    guarantees (high), mis_selling (critical)\n", text)
        self.assertIn("\nsample:      0.5%\n", text)

    def test_bad_pattern_is_refused_and_the_policy_in_force_stays(self):
        env = self.env
        text = policy(extra_pattern="risk(free")
        path = env.write_policy(text)
        line, col = harness.line_col(text, "'risk(free'")
        p = env.tool.policy_check(path)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn("%s:%d:%d: invalid pattern 'risk(free': Missing close parenthesis" % (path, line, col),
                      p.stderr.decode())
        active = env.tool.policy_show()
        r = env.tool.policy_reload()
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn("%s:%d:%d: invalid pattern" % (path, line, col), r.stderr.decode())
        self.assertEqual(env.tool.policy_show(), active)
        entry = self.send_flagged("gbk_body")
        self.assertEqual(entry["policy"], active["digest"])
        self.assertEqual(flags_of(entry), [("mis_selling", "critical")])
        env.write_policy(policy())

    def milter_load(self, messages):
        binary = os.environ.get("MJ_MILTER_LOAD")
        self.assertTrue(binary and os.path.exists(binary), "MJ_MILTER_LOAD: milter_load is not built")
        first = self.env.tool.last_seq() + 1
        p = subprocess.run([binary, "--socket", self.env.daemon.milter_spec, "--no-header", "--runs", "1",
                            "--connections", "8", "--messages", str(messages), "--size", "1500",
                            "--recipients", "1", "--per-connection", "500"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        self.assertEqual(p.returncode, 0, p.stdout.decode(errors="replace"))
        return first, self.env.tool.last_seq()

    def test_sampling_rates(self):
        env = self.env
        runs = {}
        for sample, n in (("2%", SAMPLED_MESSAGES), ("0%", EDGE_MESSAGES), ("100%", EDGE_MESSAGES)):
            env.write_policy(policy(sample))
            env.reload_policy("tool")
            runs[sample] = self.milter_load(n)
        entries = env.tool.all_entries()
        for sample, n in (("2%", SAMPLED_MESSAGES), ("0%", EDGE_MESSAGES), ("100%", EDGE_MESSAGES)):
            first, last = runs[sample]
            got = [e for e in entries if first <= e["seq"] <= last]
            with self.subTest(sample=sample):
                self.assertEqual(len(got), n)
                sampled = sum(1 for e in got if e.get("sampled", False))
                if sample == "0%":
                    self.assertEqual(sampled, 0)
                elif sample == "100%":
                    self.assertEqual(sampled, n)
                else:
                    mean = n * RATE
                    sigma = math.sqrt(n * RATE * (1 - RATE))
                    low, high = mean - 5 * sigma, mean + 5 * sigma
                    sys.stderr.write("test_supervision: %d of %d sampled at 2%% (5-sigma bounds %.0f..%.0f)\n" % (
                        sampled, n, low, high))
                    self.assertGreaterEqual(sampled, low)
                    self.assertLessEqual(sampled, high)
                # milter_load's text matches no lexicon
                self.assertEqual([e["seq"] for e in got if e.get("flags")], [])


if __name__ == "__main__":
    harness.main()
