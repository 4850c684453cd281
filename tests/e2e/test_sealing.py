"""Sealed journaling through a real Postfix: mail of a department with keys is stored only
in sealed form, the officer's key opens it byte for byte, and the standard tools open the
stored form without our code (issue 4's groundwork: keys in the policy, keygen, export).

Every department has a key, as it must once sealing is mandatory: retail its own (made here),
default the harness's e2e key.  The daemon seals while the message arrives, so a 25 MB
message costs it little memory (SealedMemoryTest, which prints what it measured on stderr).
"""

import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus    # noqa: E402
import harness   # noqa: E402

MARKER = "Quokkazebra0815"  # must never appear in a file under the journal directory
DEFAULT_MARKER = "Wombatyak4711"  # the same, in the mail of the default department

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
    keys: [%s]
""" % harness.E2E_CERT

MIB = 1024 * 1024


def make_key_pairs(testcase_class, names, passphrase):
    """Runs `mailjournal keygen` for each name into a temporary directory removed after the
    class; returns (directory, passphrase file, {name: fingerprint}, {"keys/NAME.crt": PEM})."""
    keys = harness.tempfile.mkdtemp(prefix="mj-keys-")
    testcase_class.addClassCleanup(harness.shutil.rmtree, keys, True)
    passfile = os.path.join(keys, "pass")
    with open(passfile, "w") as f:
        f.write(passphrase + "\n")
    fingerprints, certs = {}, {}
    for name in names:
        p = subprocess.run([harness.MAILJOURNAL, "keygen", "--department", name, "-o", keys,
                            "--passphrase-file", passfile, "--format", "json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        assert p.returncode == 0, p.stderr
        fingerprints[name] = harness.json.loads(p.stdout)["fingerprint"]
        with open(os.path.join(keys, name + ".crt")) as f:
            certs["keys/%s.crt" % name] = f.read()
    return keys, passfile, fingerprints, certs


class SealingTest(harness.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.keys, cls.passfile, fingerprints, certs = make_key_pairs(
            cls, ["retail"], "correct horse battery staple")
        cls.fingerprint = fingerprints["retail"]
        cls.e2e = harness.e2e_keys()
        cls.env = harness.E2E(policy=POLICY, policy_files=certs)
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        cls.raw = ("From: ann@retail.example\r\nTo: customer@example.net\r\nSubject: %s\r\n"
                   "Message-ID: <sealed-1@e2e.test>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\n"
                   "Body with the marker %s and 8-bit \xe4\xbf\x9d\xe6\x9c\xac.\r\n" % (MARKER, MARKER)
                   ).encode("latin-1")
        cls.sent = cls.env.send_ok(cls.raw, mail_from="ann@retail.example", rcpts=["customer@example.net"])
        cls.default_sent = cls.env.send_ok(
            ("Subject: outside %s\r\n\r\nno department but default: %s\r\n" % (DEFAULT_MARKER, DEFAULT_MARKER)).encode(),
            mail_from="x@example.org", rcpts=["y@example.net"])
        cls.env.wait_delivered(2)
        cls.entry = cls.env.entry_for_qid(cls.sent.queue_id)
        cls.delivered = cls.env.delivery_for(cls.sent.queue_id).content

    def tool(self, *args):
        """mailjournal with exactly these arguments: no automatic e2e key."""
        return self.env.tool.run(*args, key=False)

    def test_entry_records_the_sealing(self):
        e = self.entry
        self.assertTrue(e["sealed"])
        self.assertEqual(e["departments"], ["retail"])
        self.assertEqual(e["seal"]["recipients"], [self.fingerprint])
        self.assertEqual(e["seal"]["plain_size"], len(self.delivered))
        self.assertNotEqual(e["size"], len(self.delivered))  # the stored form is the CMS
        self.assert_entry_content(e, self.delivered)

    def test_the_journal_records_the_keys_of_the_policy(self):
        # the start journals the policy, then one key entry per department and key it gives
        every = self.env.every_entry()
        self.assertEqual(harness.kinds(every)[:3], "PKK")
        policy = every[0]
        self.assertEqual([(k["seq"], k["action"], k["department"], k["escrow"], k["fingerprint"], k["file"],
                           k["policy"]) for k in every[1:3]],
                         [(2, "added", "retail", False, self.fingerprint,
                           os.path.join(self.env.policy_dir, "keys", "retail.crt"), policy["digest"]),
                          (3, "added", "default", False, self.e2e.fingerprint, self.env.e2e_cert_path,
                           policy["digest"])])
        self.assertEqual(self.entry["policy"], policy["digest"])

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

    def test_the_key_of_another_department_does_not_open_it(self):
        # the harness's tool exports with the e2e key, default's key here: not retail's
        p = self.env.tool.run("export", str(self.entry["seq"]))
        self.assertEqual(p.returncode, 77, p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertIn(self.fingerprint.encode(), p.stderr)

    def test_standard_tools_open_the_stored_form(self):
        p = self.tool("export", "--sealed", str(self.entry["seq"]))
        self.assertEqual(p.returncode, 0, p.stderr)
        opened = subprocess.run(
            "openssl cms -decrypt -binary -inform DER -inkey %s -passin file:%s | zstd -q -d" % (
                os.path.join(self.keys, "retail.key"), self.passfile),
            shell=True, input=p.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(opened.returncode, 0, opened.stderr)
        self.assertEqual(opened.stdout, self.delivered)

    def test_mail_of_the_default_department_is_sealed_to_its_key(self):
        # outside retail, the message is the default department's, whose key is the e2e key
        e = self.env.entry_for_qid(self.default_sent.queue_id)
        delivered = self.env.delivery_for(self.default_sent.queue_id).content
        self.assertEqual(e["departments"], ["default"])
        self.assert_sealed_to_e2e(e)
        self.assert_entry_content(e, delivered)
        p = self.tool("export", str(e["seq"]))   # no key: refused, naming the e2e certificate
        self.assertEqual(p.returncode, 77, p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertIn(self.e2e.fingerprint.encode(), p.stderr)
        p = self.tool("export", str(e["seq"]), "--key", os.path.join(self.keys, "retail.key"),
                      "--passphrase-file", self.passfile)   # retail's key is not one of its keys
        self.assertEqual(p.returncode, 77, p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertEqual(self.env.tool.export(e["seq"]), delivered)   # the e2e key opens it
        self.assertEqual(harness.open_sealed(self.env.tool.export_stored(e["seq"])), delivered)

    def test_no_plaintext_under_the_journal_directory(self):
        checked = 0
        for root, _dirs, files in os.walk(self.env.journal_dir):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    data = f.read()
                self.assertNotIn(MARKER.encode(), data, os.path.join(root, name))
                self.assertNotIn(DEFAULT_MARKER.encode(), data, os.path.join(root, name))
                checked += 1
        self.assertGreater(checked, 2)

    def test_the_daemon_user_cannot_read_the_private_key(self):
        for key in (os.path.join(self.keys, "retail.key"), self.e2e.key):
            with self.subTest(key=key):
                p = subprocess.run(["runuser", "-u", harness.DAEMON_USER, "--", "cat", key],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
                self.assertNotEqual(p.returncode, 0)
                self.assertEqual(p.stdout, b"")
        # but it can read the certificate in the e2e key directory
        p = subprocess.run(["runuser", "-u", harness.DAEMON_USER, "--", "cat", self.e2e.cert],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)


ROTATION_POLICY = """\
version: 1
retention: {short: 180d, long: 7y}
escrow: [keys/escrow.crt]
departments:
  - name: retail
    members: ["@retail.example"]
    retention: short
    keys: [%s]
  - name: default
    retention: long
"""


class EscrowAndRotationTest(harness.E2ETestCase):
    """Through Postfix: the escrow key opens every message, whatever its department (the
    default department has no key of its own); a department's key is rotated by a reload,
    which journals the key entries; mail sealed before the rotation opens with the old key
    only, mail after it with the new key only, and the escrow key opens both.  show --body
    prints the metadata, an empty line and the message exactly as captured."""

    @classmethod
    def setUpClass(cls):
        cls.keys, cls.passfile, cls.fingerprints, certs = make_key_pairs(
            cls, ["escrow", "retail-2025", "retail-2026"], "rotation passphrase")
        cls.env = harness.E2E(policy=ROTATION_POLICY % "keys/retail-2025.crt", policy_files=certs,
                              e2e_cert=False)
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        cls.before_raw = b"Subject: before the rotation\r\n\r\nsealed to retail-2025\r\n"
        cls.default_raw = b"Subject: no department\r\n\r\nsealed to the escrow key alone\r\n"
        before = cls.env.send_ok(cls.before_raw, mail_from="ann@retail.example", rcpts=["c@example.net"])
        outside = cls.env.send_ok(cls.default_raw, mail_from="x@example.org", rcpts=["y@example.net"])
        cls.env.write_policy(ROTATION_POLICY % "keys/retail-2026.crt")
        cls.reload_seq, _ = cls.env.reload_policy()
        cls.after_raw = b"Subject: after the rotation\r\n\r\nsealed to retail-2026\r\n"
        after = cls.env.send_ok(cls.after_raw, mail_from="ann@retail.example", rcpts=["c@example.net"])
        cls.env.wait_delivered(3)
        cls.before = cls.env.entry_for_qid(before.queue_id)
        cls.outside = cls.env.entry_for_qid(outside.queue_id)
        cls.after = cls.env.entry_for_qid(after.queue_id)
        cls.delivered = {name: cls.env.delivery_for(r.queue_id).content
                         for name, r in (("before", before), ("outside", outside), ("after", after))}

    def export_with(self, entry, key_name):
        return self.env.tool.run("export", entry["seq"], "--key", os.path.join(self.keys, key_name + ".key"),
                                 "--passphrase-file", self.passfile)

    def test_messages_are_sealed_to_the_department_keys_then_the_escrow_key(self):
        fp = self.fingerprints
        self.assertEqual(self.before["seal"]["recipients"], [fp["retail-2025"], fp["escrow"]])
        self.assertEqual(self.outside["seal"]["recipients"], [fp["escrow"]])
        self.assertEqual(self.after["seal"]["recipients"], [fp["retail-2026"], fp["escrow"]])

    def test_the_escrow_key_opens_every_message(self):
        for name, entry in (("before", self.before), ("outside", self.outside), ("after", self.after)):
            with self.subTest(name):
                p = self.export_with(entry, "escrow")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stdout, self.delivered[name])

    def test_old_mail_opens_with_the_old_key_and_new_mail_with_the_new_one(self):
        for entry, name, key, opens in ((self.before, "before", "retail-2025", True),
                                        (self.before, "before", "retail-2026", False),
                                        (self.after, "after", "retail-2026", True),
                                        (self.after, "after", "retail-2025", False)):
            with self.subTest(message=name, key=key):
                p = self.export_with(entry, key)
                if opens:
                    self.assertEqual((p.returncode, p.stdout), (0, self.delivered[name]), p.stderr)
                else:
                    self.assertEqual((p.returncode, p.stdout), (77, b""))
                    self.assertIn(self.fingerprints["escrow"].encode(), p.stderr)

    def test_the_rotation_is_journaled_as_key_entries_with_the_reload(self):
        entries = self.env.every_entry()
        keys = [(e["seq"], e["action"], e["department"], e["escrow"], e["fingerprint"])
                for e in entries if e["kind"] == "key"]
        fp = self.fingerprints
        self.assertEqual(keys, [
            (2, "added", "retail", False, fp["retail-2025"]),
            (3, "added", "", True, fp["escrow"]),
            (self.reload_seq + 1, "added", "retail", False, fp["retail-2026"]),
            (self.reload_seq + 2, "removed", "retail", False, fp["retail-2025"]),
        ])
        by_seq = {e["seq"]: e for e in entries}
        self.assertEqual(by_seq[self.reload_seq]["kind"], "policy")
        # the next entry made by mail (the audit trail's entries aside) is the message after it
        following = [e for e in entries if e["seq"] > self.reload_seq + 2 and e["kind"] != "access"]
        self.assertEqual(following[0]["seq"], self.after["seq"])

    def test_show_body_prints_the_metadata_then_the_message_as_captured(self):
        key = ["--key", os.path.join(self.keys, "escrow.key"), "--passphrase-file", self.passfile]
        p = self.env.tool.run("show", self.after["seq"], "--body", *key)
        self.assertEqual(p.returncode, 0, p.stderr)
        metadata = self.env.tool.ok("show", self.after["seq"])
        self.assertEqual(p.stdout, metadata + b"\n" + self.delivered["after"])
        # Without a key that opens it: the metadata, then a refusal naming the keys (77).
        p = self.env.tool.run("show", self.after["seq"], "--body")
        self.assertEqual((p.returncode, p.stdout), (77, metadata))
        self.assertIn(self.fingerprints["retail-2026"].encode(), p.stderr)


class AnonPeakSampler(threading.Thread):
    """Samples the daemon's anonymous resident memory (RssAnon) until stopped, keeping the
    highest value.  Linux keeps a peak (VmHWM) only of the whole resident set, which also
    counts file pages LevelDB maps to read its own table files: page cache, not memory the
    daemon holds.  Sampling every millisecond can miss a peak shorter than that; it cannot
    report one that did not happen."""

    def __init__(self, daemon):
        super().__init__(daemon=True)
        self.journald = daemon
        self.peak = daemon.memory_kib("RssAnon")
        self.samples = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.wait(0.001):
            self.peak = max(self.peak, self.journald.memory_kib("RssAnon"))
            self.samples += 1

    def stop(self):
        self.halt.set()
        self.join()
        return self.peak


class SealedMemoryTest(harness.E2ETestCase):
    """The daemon's memory while it seals a 25 MB message.

    Each test starts a fresh daemon with the harness's default policy (department default,
    sealed to the e2e key) and sends a small warm-up message (the sealing code and its
    buffers are then in use).  While one message of 25,000,000 bytes goes through Postfix,
    a thread samples the daemon's anonymous resident memory (RssAnon); its growth over the
    value before is what the daemon holds.  VmHWM is reported too: it also counts the pages
    of LevelDB's table files that LevelDB maps to read them (after each memtable flush and
    in compactions), which are page cache the kernel can drop.  Then the exported message
    (opened with the key) must be Postfix's delivered copy, byte for byte.
    """

    SIZE = 25000000

    def measure(self, message, label):
        env = harness.E2E()
        env.__enter__()
        self.addCleanup(env.close)
        self.env = env
        warm = env.send_ok(corpus.big_message(20000, seed=1, name="warm-up"))
        self.assert_sealed_to_e2e(env.entry_for_qid(warm.queue_id))
        hwm_before = env.daemon.memory_kib("VmHWM")
        sampler = AnonPeakSampler(env.daemon)
        anon_before = sampler.peak
        sampler.start()
        try:
            r = env.send_ok(message, rcpts=["big@example.net"])
        finally:
            anon_peak = sampler.stop()
        hwm_after = env.daemon.memory_kib("VmHWM")   # the entry is committed before the 250
        entry = env.entry_for_qid(r.queue_id)
        sys.stderr.write(
            "\nsealed %s message of %d bytes (stored %d bytes): mailjournald RssAnon %d KiB "
            "before, peak %d KiB (growth %.1f MiB, %d samples); VmHWM %d -> %d KiB (growth "
            "%.1f MiB, including mapped table files)\n" % (
                label, len(message), entry["size"], anon_before, anon_peak,
                (anon_peak - anon_before) / 1024.0, sampler.samples, hwm_before, hwm_after,
                (hwm_after - hwm_before) / 1024.0))
        self.assertGreater(sampler.samples, 100)
        self.assert_sealed_to_e2e(entry)
        delivered = env.delivery_for(r.queue_id).content
        self.assertEqual(len(delivered), self.SIZE)
        exported = env.tool.export(entry["seq"])
        self.assertTrue(exported == delivered, harness.bytes_diff(delivered, exported))
        self.assert_entry_content(entry, exported)
        return (anon_peak - anon_before) * 1024, entry

    # Measured on this 2-core machine (Postfix 3.7.11, three runs): compressible (stored
    # 0.73 MB) RssAnon growth 4.0 MiB; random (stored 18.9 MB) 8.9 to 10.2 MiB, the LevelDB
    # memtable (4 MiB write buffer, two while one is flushed) being most of it; VmHWM grew
    # 3.2 to 3.5 and 12 to 22 MiB.  Holding the message (23.8 MiB) or its sealed form
    # (18 MiB) would break the 16 MiB bound.

    def test_compressible_25_mb_seals_in_bounded_memory(self):
        growth, entry = self.measure(corpus.big_message(self.SIZE, name="compressible", compressible=True),
                                     "compressible")
        self.assertLess(entry["size"], 2 * MIB)
        self.assertLess(growth, 16 * MIB)

    def test_random_25_mb_seals_in_bounded_memory(self):
        growth, entry = self.measure(corpus.big_message(self.SIZE, seed=25, name="random"), "random")
        self.assertGreater(entry["size"], 15 * MIB)
        self.assertLess(growth, 16 * MIB)


if __name__ == "__main__":
    harness.main()
