"""The evidence bundle, `mailjournal export --bundle DIR SEQ...` (issue 7, item 5), through a
real Postfix.

Mail of a department sealed to its own key (made with `mailjournal keygen`) is journaled by a
daemon that signs a checkpoint every second; after an officer's `show` and `export` of one
message, a bundle of two messages is exported with the department's key and the checkpoint
verifier key.  What a regulator would check, without our code: each message.eml is the
message exactly as captured; `openssl cms -decrypt` of sealed.p7m gives the same bytes; the
independent verifier (tests/independent/verify_proofs.py, run as its own process, as
test_proof.py does) accepts the inclusion proof and checkpoint, and the leaf hash recomputed
from entry.bin is the proof's; audit.json holds the earlier show and export; README.txt
names every message, and every command it gives prints what it says (run with bash); a
second export into the same directory is refused; one byte changed in entry.bin makes the
independent verification and the README's commands fail.  A bundle made without a key holds
the sealed records only.  As unix users of the policy's access roles: one who may not export
is refused (77) and left no directory; an officer's bundle records the officer.

DisposedBundleTest: a message disposed of by `mailjournal purge`, once the daemon's clock is
moved past its date (test_retention.py's fake clock), is bundled with its entry, proof,
audit trail and dispose entry, and no content.
"""

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness      # noqa: E402
import test_proof   # noqa: E402  (signing key, off-host directory, the independent verifier)
import test_retention  # noqa: E402  (the fake clock that lets mail expire)
import test_sealing  # noqa: E402  (department key pairs)

EX_CANTCREAT = 73
PASSPHRASE = "bundle of evidence"

POLICY = """\
version: 1
retention: {legal: 10y, standard: 7y}
departments:
  - name: legal
    members: ["@legal.example"]
    retention: legal
    keys: [keys/legal.crt]
  - name: default
    retention: standard
    keys: [%s]
access:
  - role: legal-reviewers            # may read legal's mail, not export it
    users: [daemon]
    departments: [legal]
    operations: [search, read, verify, audit]
  - role: legal-officers
    users: [bin]
    departments: [legal]
    operations: [search, read, export, verify, audit]
""" % harness.E2E_CERT

MESSAGE_RE = re.compile(r"^Message (\d+)$")
COMMAND_RE = re.compile(r"^    \$ (.*)$")
OUTPUT_RE = re.compile(r"^    (\S.*)$")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def tree(directory):
    """{relative path: content} of every file under directory (directories as None)."""
    out = {}
    for root, dirs, files in os.walk(directory):
        for d in dirs:
            out[os.path.relpath(os.path.join(root, d), directory)] = None
        for name in files:
            path = os.path.join(root, name)
            out[os.path.relpath(path, directory)] = read(path)
    return out


def readme_checks(readme):
    """{seq: [(command, [expected output lines])]} from the README's "Message SEQ" sections."""
    checks, current = {}, None
    for line in readme.split("\n"):
        m = MESSAGE_RE.match(line)
        if m:
            current = checks.setdefault(int(m.group(1)), [])
            continue
        if current is None:
            continue
        c = COMMAND_RE.match(line)
        o = OUTPUT_RE.match(line)
        if c:
            current.append((c.group(1), []))
        elif o and current and not line.startswith("    $"):
            current[-1][1].append(o.group(1))
    return checks


class BundleTest(harness.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.keys, cls.passfile, fingerprints, certs = test_sealing.make_key_pairs(cls, ["legal"], PASSPHRASE)
        cls.legal_key = os.path.join(cls.keys, "legal.key")
        cls.fingerprint = fingerprints["legal"]
        # A verifier key whose base64 has a '+', the separator of its fields: the README's
        # commands must not cut it there (half of all keys have one).
        for _ in range(40):
            cls.signing_key, cls.vkey, _ = test_proof.make_signing_key(cls)
            if "+" in read(cls.vkey).decode().split("+", 2)[2]:
                break
        cls.offhost = test_proof.make_checkpoint_dir(cls)
        cls.env = harness.E2E(policy=POLICY, policy_files=certs, daemon_args=[
            "--signing-key", cls.signing_key, "--checkpoint-interval", "1", "--checkpoint-dir", cls.offhost])
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        raws = [
            (b"From: ann@legal.example\r\nTo: court@example.net, counsel@example.org\r\n"
             b"Subject: the contract\r\nMessage-ID: <bundle-1@e2e.test>\r\n\r\n"
             b"Please find the terms below.\r\n.leading dot\r\n"),
            (b"From: ann@legal.example\r\nTo: bob@example.net\r\nSubject: attachment\r\n"
             b"Message-ID: <bundle-2@e2e.test>\r\n\r\n" + test_proof.random_body(150000, 7)),
            b"Subject: not in the bundle\r\n\r\nother mail\r\n",
        ]
        sent = [cls.env.send_ok(raws[0], mail_from="ann@legal.example",
                                rcpts=["court@example.net", "counsel@example.org"]),
                cls.env.send_ok(raws[1], mail_from="ann@legal.example", rcpts=["bob@example.net"]),
                cls.env.send_ok(raws[2], mail_from="x@example.org", rcpts=["y@example.net"])]
        cls.env.wait_delivered(3)
        cls.entries = [cls.env.entry_for_qid(s.queue_id) for s in sent[:2]]
        cls.delivered = [cls.env.delivery_for(s.queue_id).content for s in sent[:2]]
        cls.seqs = [e["seq"] for e in cls.entries]
        first = cls.seqs[0]
        # An officer reads and exports the first message before the bundle is made.
        cls.env.tool.ok("show", first)
        cls.env.tool.ok("export", first, "--key", cls.legal_key, "--passphrase-file", cls.passfile)
        cls.earlier = [e for e in cls.env.every_entry()
                       if e["kind"] == "access" and e["operation"] in ("show", "export")
                       and e["arguments"].get("seq") == first]
        cls.wait_for_checkpoint_over(max(cls.seqs))
        cls.work = tempfile.mkdtemp(prefix="bundle-", dir=cls.env.base)
        os.chmod(cls.work, 0o711)   # other users reach their own directories in it (user_dir)
        cls.dir = os.path.join(cls.work, "evidence")
        cls.result = cls.bundle(cls.dir, cls.seqs[1], cls.seqs[0], with_key=True)
        cls.readme = read(os.path.join(cls.dir, "README.txt")).decode("utf-8")

    @classmethod
    def wait_for_checkpoint_over(cls, seq):
        def covered():
            return any(e["kind"] == "checkpoint" and e["tree_size"] >= seq for e in cls.env.every_entry())
        harness.wait_until(covered, 30, "a checkpoint over entry %d" % seq, interval=0.1,
                           diag=cls.env.diagnostics)

    @classmethod
    def bundle(cls, directory, *seqs, with_key):
        args = ["export", "--bundle", directory] + [str(s) for s in seqs]
        if with_key:
            args += ["--key", cls.legal_key, "--passphrase-file", cls.passfile, "--verifier-key", cls.vkey]
        return cls.env.tool.run(*args, key=False)   # no automatic e2e key: only those given here

    def path(self, seq, name, directory=None):
        return os.path.join(directory or self.dir, str(seq), name)

    def test_the_bundle_is_written_and_summarised(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertEqual(self.result.stderr, b"")
        self.assertRegex(self.result.stdout.decode(), r"^bundle %s: 2 messages \(2 opened, 0 disposed of\), "
                         r"proven against the checkpoint of \d+ entries\n$" % re.escape(self.dir))
        for seq in self.seqs:
            self.assertEqual(sorted(os.listdir(os.path.join(self.dir, str(seq)))), [
                "audit.json", "checkpoint", "entry.bin", "entry.json", "inclusion-proof.json",
                "message.eml", "sealed.p7m"])
        self.assertEqual(read(os.path.join(self.dir, "checkpoint.vkey")).strip(), read(self.vkey).strip())

    def test_message_eml_is_the_message_as_captured(self):
        for seq, entry, delivered in zip(self.seqs, self.entries, self.delivered):
            with self.subTest(seq=seq):
                eml = read(self.path(seq, "message.eml"))
                self.assertEqual(eml, delivered)
                self.assert_entry_content(entry, eml)

    def test_openssl_opens_the_sealed_record_to_the_same_bytes(self):
        keys = harness.KeyPair(self.keys, self.legal_key, None, self.passfile, self.fingerprint, None)
        for seq, entry, delivered in zip(self.seqs, self.entries, self.delivered):
            with self.subTest(seq=seq):
                stored = read(self.path(seq, "sealed.p7m"))
                self.assertEqual((len(stored), sha256(stored)), (entry["size"], entry["sha256"]))
                self.assertEqual(entry["seal"]["recipients"], [self.fingerprint])
                self.assertEqual(harness.open_sealed(stored, keys), delivered)

    def test_entry_json_is_the_entry_the_journal_shows(self):
        for seq in self.seqs:
            with self.subTest(seq=seq):
                self.assertEqual(json.loads(read(self.path(seq, "entry.json"))), self.env.tool.show(seq))

    def test_the_independent_verifier_accepts_proof_and_checkpoint(self):
        for seq in self.seqs:
            with self.subTest(seq=seq):
                proof_file, checkpoint = self.path(seq, "inclusion-proof.json"), self.path(seq, "checkpoint")
                v = test_proof.run_verifier("--verifier-key", self.vkey, "--checkpoint", checkpoint, proof_file)
                self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
                self.assertEqual(len([l for l in v.stdout.splitlines() if l.startswith(b"OK ")]), 1, v.stdout)
                proof = json.loads(read(proof_file))
                entry_bytes = read(self.path(seq, "entry.bin"))
                self.assertEqual((proof["type"], proof["seq"], proof["leaf_index"]), ("inclusion", seq, seq - 1))
                self.assertEqual(proof["entry"], entry_bytes.hex())
                self.assertEqual(test_proof.verify_proofs.leaf_hash(entry_bytes).hex(), proof["leaf_hash"])
                self.assertEqual(proof["checkpoint"], read(checkpoint).decode())
                # the checkpoint is one the daemon copied off the host
                size = test_proof.verify_proofs.parse_checkpoint_body(
                    read(checkpoint).split(b"\n\n")[0] + b"\n").size
                self.assertEqual(proof["tree_size"], size)
                harness.wait_until(lambda: os.path.exists(test_proof.checkpoint_path(self.offhost, size)), 30,
                                   "the off-host copy of checkpoint %d" % size)
                self.assertEqual(read(test_proof.checkpoint_path(self.offhost, size)), read(checkpoint))

    def test_a_byte_changed_in_the_entry_fails_the_independent_verification(self):
        seq = self.seqs[0]
        proof = json.loads(read(self.path(seq, "inclusion-proof.json")))
        entry_bytes = bytearray(read(self.path(seq, "entry.bin")))
        for offset in (0, len(entry_bytes) // 2, len(entry_bytes) - 1):
            with self.subTest(offset=offset):
                tampered = bytearray(entry_bytes)
                tampered[offset] ^= 0x01
                self.assertNotEqual(test_proof.verify_proofs.leaf_hash(bytes(tampered)).hex(), proof["leaf_hash"])
                altered = dict(proof, entry=bytes(tampered).hex())
                path = os.path.join(self.work, "tampered-%d.json" % offset)
                with open(path, "w") as f:
                    json.dump(altered, f)
                v = test_proof.run_verifier("--verifier-key", self.vkey, path)
                self.assertEqual(v.returncode, 1, v.stdout + v.stderr)

    def test_audit_json_holds_the_earlier_show_and_export(self):
        first, second = self.seqs
        # `show`, then `export`, which shows the entry before it exports the content
        self.assertEqual([e["operation"] for e in self.earlier], ["show", "show", "export"])
        audit = json.loads(read(self.path(first, "audit.json")))
        by_seq = {e["seq"]: e for e in audit}
        for e in self.earlier:
            with self.subTest(operation=e["operation"]):
                self.assertEqual(by_seq.get(e["seq"]), e)
                self.assertTrue(e["allowed"])
                self.assertEqual(e["by"], {"uid": 0, "user": "root"})
        # ... and, after them, the bundle's own show, export and proof of the message
        own = [e["operation"] for e in audit if e["seq"] > max(x["seq"] for x in self.earlier)]
        self.assertEqual(own[-3:], ["show", "export", "proof"])
        self.assertEqual([e["seq"] for e in audit], sorted(e["seq"] for e in audit))
        # the other message was not shown nor exported before
        other = json.loads(read(self.path(second, "audit.json")))
        self.assertEqual([e["operation"] for e in other if e["operation"] != "list"], ["show", "export", "proof"])
        self.assertIn("this bundle made for the\nmessage (show, export, proof)", self.readme)

    def test_readme_names_every_message(self):
        for seq, entry, delivered in zip(self.seqs, self.entries, self.delivered):
            with self.subTest(seq=seq):
                line = "%d  %s  from <%s>  to %s  size %d  sha256 %s  departments legal  retention legal until %s" % (
                    seq, entry["time"], entry["mail_from"], ",".join("<%s>" % r for r in entry["rcpt"]),
                    len(delivered), sha256(delivered), entry["retain_until"])
                self.assertIn("\n" + line + "\n", self.readme)
                self.assertIn("\nMessage %d\n" % seq, self.readme)
        self.assertIn("Origin:        %s\n" % test_proof.ORIGIN, self.readme)
        self.assertIn("Made by:       user root (uid 0) on host ", self.readme)
        self.assertIn("EVIDENCE BUNDLE: 2 messages from the mail journal %s\n" % test_proof.ORIGIN, self.readme)

    def run_checks(self, directory, seq, commands):
        """Runs the README's commands for message seq in one bash from directory; returns
        [(command, expected lines, printed lines, exit status)]."""
        script = "set -o pipefail\n"
        for command, _ in commands:
            command = command.replace("-inkey KEY", "-inkey %s -passin file:%s" % (
                shlex.quote(self.legal_key), shlex.quote(self.passfile)))
            script += "%s\necho \"@@status $?\"\n" % command
        p = subprocess.run(["bash", "-c", script], cwd=directory, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        chunks = re.split(r"@@status (\d+)\n", p.stdout.decode("utf-8", "replace"))
        results = []
        for i, (command, expected) in enumerate(commands):
            printed = chunks[2 * i].split("\n")[:-1] if 2 * i < len(chunks) else None
            status = int(chunks[2 * i + 1]) if 2 * i + 1 < len(chunks) else None
            results.append((command, expected, printed, status))
        return results, p.stderr.decode("utf-8", "replace")

    def test_every_command_of_the_readme_prints_what_it_says(self):
        checks = readme_checks(self.readme)
        self.assertEqual(sorted(checks), sorted(self.seqs))
        for seq in self.seqs:
            with self.subTest(seq=seq):
                commands = checks[seq]
                self.assertGreater(len(commands), 12)
                self.assertIn(["Signature Verified Successfully"], [e for _, e in commands])
                results, stderr = self.run_checks(self.dir, seq, commands)
                for command, expected, printed, status in results:
                    self.assertEqual((printed, status), (expected, 0), "%s\nstderr: %s" % (command, stderr))

    def test_a_byte_changed_in_entry_bin_fails_the_readme_commands(self):
        copy = os.path.join(self.work, "tampered")
        shutil.copytree(self.dir, copy)
        seq = self.seqs[1]
        path = self.path(seq, "entry.bin", copy)
        data = bytearray(read(path))
        data[len(data) // 2] ^= 0x01
        with open(path, "wb") as f:
            f.write(data)
        results, _ = self.run_checks(copy, seq, readme_checks(self.readme)[seq])
        failed = [command for command, expected, printed, status in results if (printed, status) != (expected, 0)]
        self.assertTrue(failed)
        self.assertIn("entry.bin", failed[0])   # the first that fails reads entry.bin

    def test_a_second_export_into_the_same_directory_is_refused(self):
        before = tree(self.dir)
        p = self.bundle(self.dir, self.seqs[0], with_key=True)
        self.assertEqual(p.returncode, EX_CANTCREAT, p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertIn(b"not empty", p.stderr)
        self.assertEqual(tree(self.dir), before)

    def test_without_a_key_the_sealed_records_are_bundled_unopened(self):
        directory = os.path.join(self.work, "unopened")
        p = self.bundle(directory, self.seqs[0], with_key=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"written sealed only", p.stderr)
        self.assertIn(self.fingerprint.encode(), p.stderr)
        files = sorted(os.listdir(os.path.join(directory, str(self.seqs[0]))))
        self.assertNotIn("message.eml", files)
        self.assertEqual(read(self.path(self.seqs[0], "sealed.p7m", directory)),
                         read(self.path(self.seqs[0], "sealed.p7m")))
        readme = read(os.path.join(directory, "README.txt")).decode()
        self.assertIn("sha256 -", readme)
        self.assertIn("Verifier key:  not included", readme)
        self.assertFalse(os.path.exists(os.path.join(directory, "checkpoint.vkey")))
        # its commands, with the key file and the verifier key substituted, still hold
        commands = [(c.replace("VKEY", shlex.quote(self.vkey)), e) for c, e in readme_checks(readme)[self.seqs[0]]]
        results, stderr = self.run_checks(directory, self.seqs[0], commands)
        for command, expected, printed, status in results:
            self.assertEqual((printed, status), (expected, 0), "%s\nstderr: %s" % (command, stderr))

    def user_dir(self, user):
        """A directory the unix user may write in."""
        d = tempfile.mkdtemp(prefix="as-%s-" % user, dir=self.work)
        pw = harness.pwd.getpwnam(user)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        return d

    def test_a_user_who_may_not_export_is_refused_and_left_no_directory(self):
        directory = os.path.join(self.user_dir("daemon"), "evidence")
        p = self.env.tool.run("export", "--bundle", directory, self.seqs[0], as_user="daemon", key=False)
        self.assertEqual(p.returncode, 77, p.stderr)
        self.assertIn(b"user daemon (uid 1) may not export message %d" % self.seqs[0], p.stderr)
        self.assertFalse(os.path.exists(directory))
        refused = [e for e in self.env.every_entry() if e["kind"] == "access" and e["by"]["user"] == "daemon"
                   and e["operation"] == "export"]
        self.assertEqual([(e["allowed"], e["arguments"]["seq"]) for e in refused], [(False, self.seqs[0])])

    def test_an_officers_bundle_records_the_officer(self):
        directory = os.path.join(self.user_dir("bin"), "evidence")
        p = self.env.tool.run("export", "--bundle", directory, self.seqs[1], as_user="bin", key=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"written sealed only", p.stderr)   # bin was given no key
        readme = read(os.path.join(directory, "README.txt")).decode()
        self.assertIn("Made by:       user bin (uid 2) on host ", readme)
        audit = json.loads(read(self.path(self.seqs[1], "audit.json", directory)))
        self.assertEqual([e["operation"] for e in audit if e["by"]["user"] == "bin"], ["show", "export", "proof"])
        self.assertTrue(all(e["allowed"] for e in audit if e["by"]["user"] == "bin"))


class DisposedBundleTest(harness.E2ETestCase):
    def test_a_disposed_message_is_bundled_with_its_dispose_entry_and_no_content(self):
        clock = test_retention.Clock()
        self.addCleanup(clock.close)
        _, vkey, _ = test_proof.make_signing_key(type(self))
        signing_key = os.path.join(os.path.dirname(vkey), "checkpoint.key")
        self.env = env = harness.E2E(
            policy=test_retention.POLICY,
            daemon_args=["--signing-key", signing_key, "--checkpoint-interval", "1"],
            daemon_env={"LD_PRELOAD": test_retention.shim(), "MJ_FAKE_CLOCK_FILE": clock.path})
        env.__enter__()
        self.addCleanup(env.close)
        sent = env.send_ok(test_retention.message("gone"), mail_from="ann@retail.example", rcpts=["b@example.net"])
        env.delivery_for(sent.queue_id)
        entry = env.entry_for_qid(sent.queue_id)
        seq = entry["seq"]
        clock.set(2 * test_retention.DAY)   # retail keeps mail 1 day
        env.tool.ok("purge")
        harness.wait_until(lambda: any(e["kind"] == "checkpoint" and e["tree_size"] >= seq for e in env.every_entry()),
                           30, "a checkpoint over entry %d" % seq, interval=0.1, diag=env.diagnostics)
        directory = os.path.join(env.base, "evidence")
        p = env.tool.run("export", "--bundle", directory, seq, "--verifier-key", vkey, key=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b": 1 messages (0 opened, 1 disposed of)", p.stdout)
        self.assertEqual(sorted(os.listdir(os.path.join(directory, str(seq)))), [
            "audit.json", "checkpoint", "dispose.json", "entry.bin", "entry.json", "inclusion-proof.json"])
        dispose = json.loads(read(os.path.join(directory, str(seq), "dispose.json")))
        self.assertEqual((dispose["kind"], dispose["message"], dispose["retention"], dispose["retain_until"]),
                         ("dispose", seq, "r1", entry["retain_until"]))
        self.assertEqual(dispose["by"]["user"], "root")
        v = test_proof.run_verifier("--verifier-key", vkey, os.path.join(directory, str(seq), "inclusion-proof.json"))
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        audit = json.loads(read(os.path.join(directory, str(seq), "audit.json")))
        refused = [e for e in audit if e["operation"] == "export"]
        self.assertTrue(refused and "disposed of" in refused[-1]["outcome"], audit)
        readme = read(os.path.join(directory, "README.txt")).decode()
        self.assertIn("%d: its content was disposed of (dispose entry %d, %d/dispose.json)" % (
            seq, dispose["seq"], seq), readme)
        self.assertIn("  sha256 -  departments retail  retention r1 until %s  DISPOSED OF\n" % entry["retain_until"],
                      readme)
        commands = readme_checks(readme)[seq]
        script = "set -o pipefail\n" + "".join("%s\necho \"@@status $?\"\n" % c for c, _ in commands)
        run = subprocess.run(["bash", "-c", script], cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=120)
        expected = "".join("".join(line + "\n" for line in e) + "@@status 0\n" for _, e in commands)
        self.assertEqual(run.stdout.decode(), expected, run.stderr)


if __name__ == "__main__":
    harness.main()
