"""Sealed journaling through a real Postfix: mail of a department with keys is stored only
in sealed form, the officer's key opens it byte for byte, and the standard tools open the
stored form without our code (issue 4's groundwork: keys in the policy, keygen, export)."""

import os
import subprocess

import harness

MARKER = "Quokkazebra0815"  # must never appear in a file under the journal directory

POLICY = """\
version: 1
retention: {short: 180d, long: 7y}
departments:
  - name: retail
    members: ["@retail.example"]
    retention: short
    keys: [keys/retail.crt]
  - name: default
    retention: long
"""


class SealingTest(harness.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.keys = harness.tempfile.mkdtemp(prefix="mj-keys-")
        cls.addClassCleanup(harness.shutil.rmtree, cls.keys, True)
        cls.passfile = os.path.join(cls.keys, "pass")
        with open(cls.passfile, "w") as f:
            f.write("correct horse battery staple\n")
        p = subprocess.run([harness.MAILJOURNAL, "keygen", "--department", "retail", "-o", cls.keys,
                            "--passphrase-file", cls.passfile, "--format", "json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        assert p.returncode == 0, p.stderr
        cls.fingerprint = harness.json.loads(p.stdout)["fingerprint"]
        with open(os.path.join(cls.keys, "retail.crt")) as f:
            cert = f.read()
        cls.env = harness.E2E(policy=POLICY, policy_files={"keys/retail.crt": cert})
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        cls.raw = ("From: ann@retail.example\r\nTo: customer@example.net\r\nSubject: %s\r\n"
                   "Message-ID: <sealed-1@e2e.test>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\n"
                   "Body with the marker %s and 8-bit \xe4\xbf\x9d\xe6\x9c\xac.\r\n" % (MARKER, MARKER)
                   ).encode("latin-1")
        cls.sent = cls.env.send_ok(cls.raw, mail_from="ann@retail.example", rcpts=["customer@example.net"])
        cls.plain_sent = cls.env.send_ok(b"Subject: outside\r\n\r\nno department\r\n",
                                         mail_from="x@example.org", rcpts=["y@example.net"])
        cls.env.wait_delivered(2)
        cls.entry = cls.env.entry_for_qid(cls.sent.queue_id)
        cls.delivered = cls.env.delivery_for(cls.sent.queue_id).content

    def tool(self, *args):
        return self.env.tool.run(*args)

    def test_entry_records_the_sealing(self):
        e = self.entry
        self.assertTrue(e["sealed"])
        self.assertEqual(e["departments"], ["retail"])
        self.assertEqual(e["seal"]["recipients"], [self.fingerprint])
        self.assertEqual(e["seal"]["plain_size"], len(self.delivered))
        self.assertNotEqual(e["size"], len(self.delivered))  # the stored form is the CMS

    def test_without_a_key_export_is_refused_and_names_the_key(self):
        p = self.tool("export", str(self.entry["seq"]))
        self.assertEqual(p.returncode, 77, p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertIn(self.fingerprint.encode(), p.stderr)

    def test_the_officers_key_opens_it_byte_for_byte(self):
        p = self.tool("export", str(self.entry["seq"]), "--key", os.path.join(self.keys, "retail.key"),
                      "--passphrase-file", self.passfile)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, self.delivered)

    def test_a_wrong_passphrase_opens_nothing(self):
        bad = os.path.join(self.keys, "bad-pass")
        with open(bad, "w") as f:
            f.write("wrong\n")
        p = self.tool("export", str(self.entry["seq"]), "--key", os.path.join(self.keys, "retail.key"),
                      "--passphrase-file", bad)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(p.stdout, b"")

    def test_a_foreign_key_is_refused_and_the_right_one_after_it_is_tried(self):
        other = os.path.join(self.keys, "other")
        os.makedirs(other, exist_ok=True)
        p = subprocess.run([harness.MAILJOURNAL, "keygen", "--department", "other", "-o", other,
                            "--passphrase-file", self.passfile],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        foreign = os.path.join(other, "other.key")
        p = self.tool("export", str(self.entry["seq"]), "--key", foreign, "--passphrase-file", self.passfile)
        self.assertEqual(p.returncode, 77, p.stderr)
        self.assertEqual(p.stdout, b"")
        p = self.tool("export", str(self.entry["seq"]), "--key", foreign,
                      "--key", os.path.join(self.keys, "retail.key"), "--passphrase-file", self.passfile)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, self.delivered)

    def test_standard_tools_open_the_stored_form(self):
        p = self.tool("export", "--sealed", str(self.entry["seq"]))
        self.assertEqual(p.returncode, 0, p.stderr)
        opened = subprocess.run(
            "openssl cms -decrypt -binary -inform DER -inkey %s -passin file:%s | zstd -q -d" % (
                os.path.join(self.keys, "retail.key"), self.passfile),
            shell=True, input=p.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(opened.returncode, 0, opened.stderr)
        self.assertEqual(opened.stdout, self.delivered)

    def test_mail_outside_departments_with_keys_is_stored_as_captured(self):
        e = self.env.entry_for_qid(self.plain_sent.queue_id)
        self.assertFalse(e["sealed"])
        self.assertEqual(self.env.tool.export(e["seq"]), self.env.delivery_for(self.plain_sent.queue_id).content)

    def test_no_plaintext_under_the_journal_directory(self):
        checked = 0
        for root, _dirs, files in os.walk(self.env.journal_dir):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    self.assertNotIn(MARKER.encode(), f.read(), os.path.join(root, name))
                checked += 1
        self.assertGreater(checked, 2)

    def test_the_daemon_user_cannot_read_the_private_key(self):
        p = subprocess.run(["runuser", "-u", harness.DAEMON_USER, "--", "cat",
                            os.path.join(self.keys, "retail.key")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(p.stdout, b"")


if __name__ == "__main__":
    harness.main()
