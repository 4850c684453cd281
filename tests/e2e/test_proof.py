"""Signed checkpoints, proofs and `mailjournal verify` through a real Postfix.

CheckpointsTest runs the daemon with a checkpoint signing key (`mailjournal keygen --signing`),
--checkpoint-interval 1 and an off-host --checkpoint-dir: after mail, checkpoint entries appear
in `list --all` and their notes as DIR/checkpoint.SIZE files; `verify --verifier-key
--checkpoints DIR` passes; and every proof `mailjournal proof` prints is checked by the
independent verifier tests/independent/verify_proofs.py (written from mailjournal-format(5)
alone), which must refuse the same proof after one byte of it is changed.

NothingNewAtStopTest: a clean stop adds no checkpoint when the last one covers every entry.

The audit trail records every admin request but `status` as an access entry (a leaf like any
other), and with --checkpoint-interval 1 the daemon checkpoints whenever the journal grew: each
request of a test is followed by a checkpoint over it within a second.  A test that needs the
journal's exact size waits with wait_quiet() (status and the checkpoint directory, neither of
them recorded) until it ends with a checkpoint over every entry; it then stays that size until
the next recorded request, whose answer is about exactly that journal.

StopAndTamperTest runs the daemon with a checkpoint interval of an hour, so that only its
clean stops (SIGTERM) make checkpoints; it stops, restarts and stops it again, keeping a copy
of the journal directory after each stop.  Each tamper test then damages a fresh copy of the
final journal directly in LevelDB (Debian's python3-plyvel, key layout of mailjournal-format(5),
KEYS) and checks that `mailjournal --journal COPY verify` exits 65 and names the right first
bad entry in its JSON (first_bad_seq), as mailjournal-format(5), VERIFYING A JOURNAL, says.
Also: a journal directory replaced by its older copy, checked against the newer off-host
checkpoints, and a modified LevelDB table file.
"""

import base64
import contextlib
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness   # noqa: E402

INDEPENDENT = os.path.join(harness.REPO, "tests", "independent")
VERIFY_PROOFS = os.path.join(INDEPENDENT, "verify_proofs.py")
sys.path.insert(0, INDEPENDENT)
import verify_proofs   # noqa: E402  (the independent code: notes, checkpoint bodies, tree hashes)

ORIGIN = "mail.e2e.test/journal"
EX_DATAERR = 65
CHECKPOINT_FILE_RE = re.compile(r"\Acheckpoint\.(\d{20})\Z")


def remove_after(testcase_class, directory):
    if not os.environ.get("MJ_E2E_KEEP"):   # kept with the temp dirs, to rerun what failed
        testcase_class.addClassCleanup(shutil.rmtree, directory, True)


def make_signing_key(testcase_class):
    """`mailjournal keygen --signing ORIGIN -o DIR` into a directory of mode 0700 (root's: the
    daemon reads the key while privileged) removed after the class; returns (key, vkey, the
    keygen JSON)."""
    keys = tempfile.mkdtemp(prefix="mj-e2e-signing-", dir=os.environ.get("MJ_E2E_TMP") or None)
    remove_after(testcase_class, keys)
    p = harness.run([harness.MAILJOURNAL, "keygen", "--signing", ORIGIN, "-o", keys, "--format", "json"])
    out = json.loads(p.stdout)
    return os.path.join(keys, "checkpoint.key"), os.path.join(keys, "checkpoint.vkey"), out


def make_checkpoint_dir(testcase_class):
    """The off-host checkpoint directory, writable by the daemon's user."""
    d = tempfile.mkdtemp(prefix="mj-e2e-offhost-", dir=os.environ.get("MJ_E2E_TMP") or None)
    remove_after(testcase_class, d)
    pw = harness.pwd.getpwnam(harness.DAEMON_USER)
    os.chown(d, pw.pw_uid, pw.pw_gid)
    return d


def checkpoint_files(directory):
    """{tree size: file path} of the checkpoint.SIZE files in directory; fails on other names."""
    out = {}
    for name in os.listdir(directory):
        m = CHECKPOINT_FILE_RE.match(name)
        if not m:
            raise harness.HarnessError("unexpected file %r in the checkpoint directory" % name)
        out[int(m.group(1))] = os.path.join(directory, name)
    return out


def checkpoint_path(directory, size):
    return os.path.join(directory, "checkpoint.%020d" % size)


def wait_quiet(env, offhost):
    """Until the running daemon's journal ends with a checkpoint over every entry before it and
    that checkpoint's off-host copy is written; returns the journal's last_seq (the
    checkpoint's).  Only `status` and the directory are read: neither is recorded, so waiting
    adds no entry, and since the checkpointer adds one only when the journal grew, the journal
    stays at this size until the next recorded request (or mail), which then sees exactly it.
    (The checkpoint over N entries is entry N + 1, appended before its file is written.)"""
    def quiet():
        n = env.tool.last_seq()
        return n if n > 1 and os.path.exists(checkpoint_path(offhost, n - 1)) else None
    return harness.wait_until(quiet, 30, "the journal to end with a checkpoint over every entry before it",
                              interval=0.1, diag=env.diagnostics)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def message_bytes(n, body=b""):
    return (b"From: sender@example.org\r\nTo: rcpt@example.net\r\nSubject: proof test %d\r\n"
            b"Message-ID: <proof-%d@e2e.test>\r\n\r\nmessage %d of the proof tests\r\n%s" % (n, n, n, body))


def random_body(size, seed):
    """size bytes of base64 text that does not compress (the sealed form then spans chunks)."""
    rng = random.Random(seed)
    text = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(size * 3 // 4)))
    return b"\r\n".join(text[i:i + 76] for i in range(0, len(text), 76)) + b"\r\n"


def run_verifier(*args, stdin=None):
    """The independent verifier as a subprocess (the interpreter running these tests)."""
    return subprocess.run([sys.executable, VERIFY_PROOFS] + [str(a) for a in args], input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


def alter_hex(text, index):
    """text with the hexadecimal digit at index replaced by another one (one byte changed)."""
    c = text[index]
    return text[:index] + ("1" if c == "0" else "0") + text[index + 1:]


def alter_signature(note, offset=20):
    """The note with one base64 character of its (last) signature replaced by another, well
    inside the signature, so that it stays strict base64 of 68 octets."""
    i = note.rindex(" ") + 1 + offset
    return note[:i] + ("B" if note[i] == "A" else "A") + note[i + 1:]


# --------------------------------------------------------------------------------------------
# reading and writing a closed journal's LevelDB with plyvel (python3-plyvel), in a child
# interpreter that has it: this one may be another Python than Debian's

plyvel_python = harness.plyvel_python


DB_SCRIPT = r"""
import json, sys, plyvel
req = json.load(sys.stdin)
db = plyvel.DB(req["db"], create_if_missing=False)
out = {"items": [[k.hex(), v.hex()] for k, v in db]} if req.get("dump") else {}
if req.get("delete") or req.get("put"):
    with db.write_batch(sync=True) as wb:
        for k in req.get("delete", []):
            wb.delete(bytes.fromhex(k))
        for k, v in req.get("put", []):
            wb.put(bytes.fromhex(k), bytes.fromhex(v))
db.close()
json.dump(out, sys.stdout)
"""


def entry_key(seq):
    return b"e" + struct.pack(">Q", seq)


def leaf_key(seq):
    return b"h" + struct.pack(">Q", seq)


def chunk_key(txn, index):
    return b"c" + struct.pack(">QI", txn, index)


class RawJournal:
    """The records of a closed journal directory (JOURNAL/db), changed in one synced batch."""

    def __init__(self, journal_dir):
        self.db = os.path.join(journal_dir, "db")
        out = self._call({"dump": True})
        self.items = {bytes.fromhex(k): bytes.fromhex(v) for k, v in out["items"]}
        self.puts, self.deletes = {}, set()

    def _call(self, req):
        req["db"] = self.db
        p = subprocess.run([plyvel_python(), "-c", DB_SCRIPT], input=json.dumps(req).encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if p.returncode != 0:
            raise harness.HarnessError("plyvel on %s failed: %s" % (self.db, p.stderr.decode(errors="replace")))
        return json.loads(p.stdout)

    def get(self, key):
        return self.items[key]

    def put(self, key, value):
        self.items[key] = value
        self.puts[key] = value
        self.deletes.discard(key)

    def delete(self, key):
        self.items.pop(key, None)
        self.puts.pop(key, None)
        self.deletes.add(key)

    def last_seq(self):
        return max(struct.unpack(">Q", k[1:])[0] for k in self.items if k[:1] == b"e" and len(k) == 9)

    def commit(self):
        self._call({"delete": [k.hex() for k in self.deletes],
                    "put": [[k.hex(), v.hex()] for k, v in self.puts.items()]})
        self.puts, self.deletes = {}, set()


def varint(data, i):
    v = shift = 0
    while True:
        c = data[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, i


def entry_fields(entry):
    """ENTRY ENCODING: [(tag, offset of the value, value)] after magic, version and kind."""
    out, i = [], 4
    while i < len(entry):
        tag, i = varint(entry, i)
        n, i = varint(entry, i)
        out.append((tag, i, entry[i:i + n]))
        i += n
    return out


def field(entry, tag):
    return [v for t, _, v in entry_fields(entry) if t == tag]


# --------------------------------------------------------------------------------------------

class CheckpointsTest(harness.E2ETestCase):
    """A running daemon that signs a checkpoint every second when the journal grew."""

    @classmethod
    def setUpClass(cls):
        cls.key, cls.vkey, cls.keygen = make_signing_key(cls)
        cls.offhost = make_checkpoint_dir(cls)
        cls.env = harness.E2E(daemon_args=["--signing-key", cls.key, "--checkpoint-interval", "1",
                                           "--checkpoint-dir", cls.offhost])
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        # two batches, each followed by a checkpoint over all of it: at least two checkpoints
        # (a delivered message is journaled; waiting for the checkpoint records nothing, so
        # the listing below is the first request and returns exactly the quiet journal)
        cls.sent = []
        for batch in ((1, 2, 3), (4, 5)):
            for n in batch:
                cls.sent.append(cls.env.send_ok(message_bytes(n)))
            cls.env.wait_delivered(len(cls.sent))
            cls.quiet_size = wait_quiet(cls.env, cls.offhost)
        cls.every = cls.env.every_entry()
        cls.checkpoints = [e for e in cls.every if e["kind"] == "checkpoint"]
        cls.latest = cls.checkpoints[-1]
        cls.work = os.path.join(cls.env.base, "proofs")
        os.makedirs(cls.work)

    def wait_quiet(self):
        return wait_quiet(self.env, self.offhost)

    def proof(self, *args, name):
        """mailjournal proof ARGS --format json over the socket; returns (file, parsed JSON)."""
        out = self.env.tool.ok("proof", *args, "--format", "json")
        path = os.path.join(self.work, name)
        with open(path, "wb") as f:
            f.write(out)
        return path, json.loads(out)

    def assert_verifier(self, rc, *args, expect=None):
        p = run_verifier("--verifier-key", self.vkey, *args)
        self.assertEqual(p.returncode, rc, "verify_proofs.py %s\nstdout: %s\nstderr: %s" % (
            " ".join(map(str, args)), p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")))
        if expect is not None:
            self.assertIn(expect, p.stderr.decode(errors="replace"))
        return p

    # -- checkpoints

    def test_the_verifier_key_is_the_one_keygen_printed(self):
        key = verify_proofs.parse_verifier_key(read(self.vkey))
        self.assertEqual(key.name, ORIGIN.encode())
        self.assertEqual(read(self.vkey).decode().strip(), self.keygen["verifier_key"])
        self.assertEqual(self.keygen["origin"], ORIGIN)
        self.assertEqual(os.stat(self.key).st_mode & 0o777, 0o600)

    def test_checkpoint_entries_appear_in_list_all(self):
        self.assertGreaterEqual(len(self.checkpoints), 2, harness.kinds(self.every))
        self.assertEqual([e["seq"] for e in self.every], list(range(1, len(self.every) + 1)))
        self.assertEqual(len(self.every), self.quiet_size)   # the listing's access entry follows them
        self.assertEqual(self.every[-1]["kind"], "checkpoint")
        self.assertEqual(self.latest["tree_size"], self.latest["seq"] - 1)
        messages = [e["seq"] for e in self.every if e["kind"] == "message"]
        self.assertEqual(len(messages), 5)
        key = verify_proofs.parse_verifier_key(read(self.vkey))
        for e in self.checkpoints:
            with self.subTest(seq=e["seq"]):
                # the checkpoint of the tree just before the entry, signed with our key
                self.assertEqual(e["tree_size"], e["seq"] - 1)
                self.assertEqual(e["origin"], ORIGIN)
                c = verify_proofs.verify_checkpoint(e["note"], key)
                self.assertEqual((c.origin.decode(), c.size, c.root.hex()), (ORIGIN, e["tree_size"], e["root"]))
                self.assertEqual(c.time, e["time"])
        # the text form lists them too
        text = self.env.tool.ok("list", "--all").decode()
        for e in self.checkpoints:
            self.assertRegex(text, r"(?m)^%d \S+ checkpoint tree_size=%d root=%s$" % (
                e["seq"], e["tree_size"], e["root"]))

    def test_each_checkpoint_is_copied_to_the_directory(self):
        # the checkpoints of the audit trail since setUpClass too: the directory and the entries
        # of a quiet journal
        size = self.wait_quiet()
        files = checkpoint_files(self.offhost)
        every = self.env.every_entry()
        self.assertEqual([e["seq"] for e in every], list(range(1, size + 1)))
        checkpoints = [e for e in every if e["kind"] == "checkpoint"]
        self.assertEqual(checkpoints[:len(self.checkpoints)], self.checkpoints)
        self.assertEqual(sorted(files), [e["tree_size"] for e in checkpoints])
        for e in checkpoints:
            with self.subTest(tree_size=e["tree_size"]):
                self.assertEqual(read(files[e["tree_size"]]).decode("utf-8"), e["note"])

    def test_checkpoint_roots_are_the_roots_of_the_entries_as_proofs_give_them(self):
        # The entry bytes, as `proof --inclusion` prints them, hashed independently: every
        # checkpoint's root is the MTH of the first tree_size of them.
        hashes = []
        for seq in range(1, self.latest["tree_size"] + 1):
            _, j = self.proof("--inclusion", seq, name="all-%d.json" % seq)
            hashes.append(verify_proofs.leaf_hash(bytes.fromhex(j["entry"])))
        for e in self.checkpoints:
            with self.subTest(seq=e["seq"]):
                self.assertEqual(verify_proofs.mth_of_hashes(hashes[:e["tree_size"]]).hex(), e["root"])

    def test_verify_passes_and_reports_the_counts(self):
        # verify answers about the journal it found: every entry of a quiet journal (its own
        # access entry comes after them); the counts are checked against a listing taken after
        last = self.wait_quiet()
        files = checkpoint_files(self.offhost)
        p = self.env.tool.run("verify", "--verifier-key", self.vkey, "--checkpoints", self.offhost,
                              "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        self.assertEqual((r["intact"], r["first_bad_seq"], r["problem"]), (True, 0, ""))
        self.assertEqual(r["entries"], last)
        self.assertEqual(r["tree_size"], last)
        # its root is the tree of every entry: consistent with the latest signed checkpoint
        _, j = self.proof("--consistency", self.latest["tree_size"], last, name="to-last.json")
        self.assertEqual(j["root"], r["root"])
        self.assertIsNone(verify_proofs.verify_consistency(
            self.latest["tree_size"], last, bytes.fromhex(self.latest["root"]), bytes.fromhex(r["root"]),
            [bytes.fromhex(h) for h in j["path"]]))
        # the text form says the same, of the journal it finds (quiet again)
        last_text = self.wait_quiet()
        self.assertGreater(last_text, last)
        files_text = checkpoint_files(self.offhost)
        p = self.env.tool.run("verify", "--verifier-key", self.vkey, "--checkpoints", self.offhost)
        self.assertEqual(p.returncode, 0, p.stderr)
        text = p.stdout.decode()

        every = self.env.every_entry()
        self.assertEqual([e["seq"] for e in every[:last_text + 1]], list(range(1, last_text + 2)))
        for size in (last, last_text):
            with self.subTest(entries=size):
                # the verify's own access entry is the first after what it verified
                audit = every[size]
                self.assertEqual((audit["kind"], audit["operation"], audit["allowed"], audit["outcome"]),
                                 ("access", "verify", True, ""), audit)
                self.assertEqual(every[size - 1]["kind"], "checkpoint")
        verified = every[:last]
        checkpoints = [e for e in verified if e["kind"] == "checkpoint"]
        self.assertEqual(r["messages"], 5)
        self.assertEqual(r["checkpoints"], len(checkpoints))
        self.assertEqual(sorted(files), [e["tree_size"] for e in checkpoints])
        self.assertEqual(r["off_host"], len(files))
        self.assertEqual(r["signatures"], len(checkpoints) + len(files))
        self.assertTrue(r["signatures_checked"])
        self.assertEqual(r["content_bytes"], sum(e["size"] for e in verified if e["kind"] == "message"))
        checkpoints_text = [e for e in every[:last_text] if e["kind"] == "checkpoint"]
        self.assertGreater(len(checkpoints_text), len(checkpoints))
        self.assertIn("journal intact: %d entries verified" % last_text, text)
        self.assertRegex(text, r"(?m)^checkpoints: +%d$" % len(checkpoints_text))
        self.assertRegex(text, r"(?m)^off_host: +%d$" % len(files_text))
        self.assertRegex(text, r"(?m)^messages: +5$")

    def test_verify_refuses_another_key(self):
        other_key, other_vkey, _ = make_signing_key(type(self))
        p = self.env.tool.run("verify", "--verifier-key", other_vkey, "--format", "json")
        self.assertEqual(p.returncode, EX_DATAERR, p.stderr)
        r = json.loads(p.stdout)
        self.assertFalse(r["intact"])
        self.assertEqual(r["first_bad_seq"], self.checkpoints[0]["seq"], r)

    # -- proofs and the independent verifier

    def inclusion_targets(self):
        msgs = [e["seq"] for e in self.every if e["kind"] == "message"]
        seqs = {1, 2, msgs[0], msgs[-1], self.checkpoints[0]["seq"], self.latest["tree_size"]}
        return sorted(s for s in seqs if s <= self.latest["tree_size"])

    def test_the_independent_verifier_accepts_inclusion_proofs(self):
        # against the latest checkpoint of setUpClass, named by its off-host file: the journal
        # has grown since (the audit trail and its checkpoints), the proofs are of that tree
        latest_file = checkpoint_path(self.offhost, self.latest["tree_size"])
        for seq in self.inclusion_targets():
            with self.subTest(seq=seq):
                path, j = self.proof("--inclusion", seq, "--checkpoint", latest_file, name="inclusion-%d.json" % seq)
                self.assertEqual((j["type"], j["seq"], j["leaf_index"]), ("inclusion", seq, seq - 1))
                self.assertEqual((j["tree_size"], j["root"]), (self.latest["tree_size"], self.latest["root"]))
                self.assertEqual(j["checkpoint"], self.latest["note"])
                p = self.assert_verifier(0, path)
                self.assertIn(b"inclusion of entry %d " % seq, p.stdout)
                # the entry is the one list shows (its kind octet, a message's queue id)
                entry = bytes.fromhex(j["entry"])
                listed = self.every[seq - 1]
                kind = {"message": 1, "policy": 2, "key": 3, "checkpoint": 4, "access": 8}[listed["kind"]]
                self.assertEqual(entry[:4], b"MJ\x01" + bytes([kind]))
                if listed["kind"] == "message":
                    self.assertEqual(field(entry, 2), [listed["queue_id"].encode()])
        # several at once, from standard input too
        paths = [os.path.join(self.work, "inclusion-%d.json" % s) for s in self.inclusion_targets()]
        self.assert_verifier(0, *paths)
        p = run_verifier("--verifier-key", self.vkey, "-", stdin=read(paths[0]))
        self.assertEqual(p.returncode, 0, p.stderr)
        # without --checkpoint: against the newest checkpoint entry, the last entry of a quiet
        # journal, whose note the proof carries
        size = self.wait_quiet()
        seq = self.inclusion_targets()[-1]
        with self.subTest(seq=seq, checkpoint="newest"):
            path, j = self.proof("--inclusion", seq, name="inclusion-newest-%d.json" % seq)
            self.assertEqual((j["type"], j["seq"], j["tree_size"]), ("inclusion", seq, size - 1))
            self.assertGreater(j["tree_size"], self.latest["tree_size"])
            self.assertEqual(j["checkpoint"], read(checkpoint_path(self.offhost, size - 1)).decode())
            c = verify_proofs.verify_checkpoint(j["checkpoint"], verify_proofs.parse_verifier_key(read(self.vkey)))
            self.assertEqual((c.size, c.root.hex()), (j["tree_size"], j["root"]))
            self.assertEqual(j["entry"], self.proof("--inclusion", seq, "--checkpoint", latest_file,
                                                    name="inclusion-again-%d.json" % seq)[1]["entry"])
            p = self.assert_verifier(0, path)
            self.assertIn(b"inclusion of entry %d " % seq, p.stdout)

    def test_the_independent_verifier_accepts_a_consistency_proof(self):
        old, new = self.checkpoints[0]["tree_size"], self.latest["tree_size"]
        path, j = self.proof("--consistency", old, new, "--checkpoint", checkpoint_path(self.offhost, new),
                             name="consistency.json")
        self.assertEqual((j["type"], j["old_size"], j["tree_size"]), ("consistency", old, new))
        self.assertEqual((j["old_root"], j["root"]), (self.checkpoints[0]["root"], self.latest["root"]))
        self.assert_verifier(0, "--old-checkpoint", checkpoint_path(self.offhost, old), path)
        # also from the tree of 1 and of 2 entries (the first policy and its key), without the
        # checkpoint in the JSON: the checkpoint file is given to the verifier instead
        for small in (1, 2):
            with self.subTest(old=small):
                path, j = self.proof("--consistency", small, new, name="consistency-%d.json" % small)
                self.assert_verifier(1, path, expect="no checkpoint")
                self.assert_verifier(0, "--checkpoint", checkpoint_path(self.offhost, new), path)
        # the old checkpoint must be the old tree's
        self.assert_verifier(1, "--old-checkpoint", checkpoint_path(self.offhost, new),
                             os.path.join(self.work, "consistency.json"))

    def test_the_independent_verifier_refuses_altered_inclusion_proofs(self):
        seq = [e["seq"] for e in self.every if e["kind"] == "message"][1]
        path, original = self.proof("--inclusion", seq, name="to-alter.json")
        self.assert_verifier(0, path)
        self.assertGreaterEqual(len(original["path"]), 2)
        variants = {}
        for i in range(len(original["path"])):
            variants["path[%d]" % i] = dict(original, path=[
                alter_hex(h, 17) if k == i else h for k, h in enumerate(original["path"])])
        variants["root"] = dict(original, root=alter_hex(original["root"], 40))
        variants["entry"] = dict(original, entry=alter_hex(original["entry"], len(original["entry"]) // 2))
        variants["entry and leaf_hash"] = dict(
            variants["entry"], leaf_hash=verify_proofs.leaf_hash(bytes.fromhex(variants["entry"]["entry"])).hex())
        variants["leaf_index"] = dict(original, leaf_index=original["leaf_index"] + 1, seq=original["seq"] + 1)
        variants["note signature"] = dict(original, checkpoint=alter_signature(original["checkpoint"]))
        variants["note tree size"] = dict(original, checkpoint=original["checkpoint"].replace(
            "\n%d\n" % original["tree_size"], "\n%d\n" % (original["tree_size"] + 1), 1))
        variants["no checkpoint"] = {k: v for k, v in original.items() if k != "checkpoint"}
        reasons = {"note signature": "signature", "no checkpoint": "no checkpoint",
                   "entry": "leaf hash", "root": "does not verify"}
        for what, obj in variants.items():
            with self.subTest(altered=what):
                self.assertNotEqual(obj, original)
                altered = os.path.join(self.work, "altered.json")
                with open(altered, "w") as f:
                    json.dump(obj, f)
                self.assert_verifier(1, altered, expect=reasons.get(what, "REFUSED"))

    def test_the_independent_verifier_refuses_an_altered_consistency_proof(self):
        old, new = self.checkpoints[0]["tree_size"], self.latest["tree_size"]
        _, original = self.proof("--consistency", old, new, "--checkpoint", checkpoint_path(self.offhost, new),
                                 name="consistency-to-alter.json")
        variants = {"old_root": dict(original, old_root=alter_hex(original["old_root"], 5)),
                    "root": dict(original, root=alter_hex(original["root"], 5)),
                    "note signature": dict(original, checkpoint=alter_signature(original["checkpoint"]))}
        for i in range(len(original["path"])):
            variants["path[%d]" % i] = dict(original, path=[
                alter_hex(h, 63) if k == i else h for k, h in enumerate(original["path"])])
        for what, obj in variants.items():
            with self.subTest(altered=what):
                altered = os.path.join(self.work, "altered-consistency.json")
                with open(altered, "w") as f:
                    json.dump(obj, f)
                self.assert_verifier(1, altered)

    def test_the_independent_verifier_refuses_another_verifier_key(self):
        path, _ = self.proof("--inclusion", 1, name="other-key.json")
        _, other_vkey, _ = make_signing_key(type(self))
        p = run_verifier("--verifier-key", other_vkey, path)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b"not signed by the key", p.stderr)
        p = run_verifier("--verifier-key", self.key, path)   # the signer key is not a verifier key
        self.assertEqual(p.returncode, 1, p.stderr)

    def test_the_independent_verifier_passes_its_self_test(self):
        p = run_verifier("--self-test")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout.decode(), r"self-test: \d+ checks, 0 failed")


class NothingNewAtStopTest(harness.E2ETestCase):
    """A clean stop adds no checkpoint when nothing was journaled since the last one."""

    def test_a_stop_after_a_checkpoint_over_everything_adds_none(self):
        _, vkey, _ = make_signing_key(type(self))
        key = os.path.join(os.path.dirname(vkey), "checkpoint.key")
        offhost = make_checkpoint_dir(type(self))
        env = harness.E2E(daemon_args=["--signing-key", key, "--checkpoint-interval", "1",
                                       "--checkpoint-dir", offhost])
        env.__enter__()
        self.addCleanup(env.close)
        self.env = env
        env.send_ok(message_bytes(1))
        env.wait_delivered(1)
        # a listing (recorded: its access entry follows what it returned), then a checkpoint over
        # every entry, that access entry included; nothing is recorded while waiting for it
        before = env.every_entry()
        self.assertEqual([e["kind"] for e in before if e["kind"] != "checkpoint"], ["policy", "key", "message"])
        size = wait_quiet(env, offhost)
        files = checkpoint_files(offhost)
        self.assertEqual(env.daemon.stop(), 0)
        self.assertNotIn("checkpoint: seq=%d " % (size + 1), env.daemon.current_log())
        copy = os.path.join(env.base, "copy")
        shutil.copytree(env.journal_dir, copy)
        tool = harness.Tool(journal_dir=copy)
        # the stopped journal has exactly the entries of the quiet one: status, which is not
        # recorded, then the listing (recorded in the copy, after the entries it returns)
        self.assertEqual(tool.last_seq(journal=True), size)
        after = tool.every_entry(journal=True)
        self.assertEqual([e["seq"] for e in after], list(range(1, size + 1)))
        self.assertEqual(after[:len(before)], before)
        since = [e for e in after[len(before):] if e["kind"] != "checkpoint"]
        self.assertEqual([(e["kind"], e["operation"], e["seqs"]) for e in since],
                         [("access", "list", [[1, len(before)]])])
        last = after[-1]
        self.assertEqual((last["kind"], last["tree_size"]), ("checkpoint", size - 1))
        self.assertEqual(read(checkpoint_path(offhost, size - 1)).decode(), last["note"])
        self.assertEqual(checkpoint_files(offhost), files)
        p = subprocess.run([harness.MAILJOURNAL, "--journal", copy, "verify", "--verifier-key", vkey,
                            "--checkpoints", offhost], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


# --------------------------------------------------------------------------------------------

class StopAndTamperTest(harness.E2ETestCase):
    """Checkpoints made by clean stops only; a final journal tampered with in many ways."""

    INTERVAL = "3600"

    @classmethod
    def setUpClass(cls):
        cls.key, cls.vkey, _ = make_signing_key(cls)
        cls.offhost = make_checkpoint_dir(cls)
        cls.env = harness.E2E(daemon_args=["--signing-key", cls.key, "--checkpoint-interval", cls.INTERVAL,
                                           "--checkpoint-dir", cls.offhost])
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        cls.copies = os.path.join(cls.env.base, "copies")
        os.makedirs(cls.copies)
        cls.copy_count = 0
        env = cls.env
        # first run: 4 messages, one of them big enough for several content chunks
        big = message_bytes(2, random_body(200000, seed=2))
        for raw in (message_bytes(1), big, message_bytes(3), message_bytes(4)):
            env.send_ok(raw)
        env.wait_delivered(4)
        cls.before_stop = env.every_entry()
        cls.files_before_stop = checkpoint_files(cls.offhost)
        cls.stop_rc = [env.daemon.stop()]
        cls.stop_log = [env.daemon.current_log()]
        cls.old = cls.keep_copy(env.journal_dir, "old")
        cls.old_entries = cls.list_all(cls.old)
        # second run: its start journals the policy again; 2 more messages; a second stop
        env.daemon.start()
        for raw in (message_bytes(5), message_bytes(6)):
            env.send_ok(raw)
        env.wait_delivered(6)
        cls.stop_rc.append(env.daemon.stop())
        cls.stop_log.append(env.daemon.current_log())
        cls.final = cls.keep_copy(env.journal_dir, "final")
        cls.entries = cls.list_all(cls.final)
        cls.checkpoints = [e for e in cls.entries if e["kind"] == "checkpoint"]
        cls.messages = [e for e in cls.entries if e["kind"] == "message"]
        cls.big = [e for e in cls.messages if e["seal"]["plain_size"] > 200000][0]

    @classmethod
    def keep_copy(cls, journal_dir, name):
        dest = os.path.join(cls.copies, name)
        shutil.copytree(journal_dir, dest)
        return dest

    @classmethod
    def fresh_copy(cls, source=None):
        """A new copy of the final (or the given) journal, which nothing has opened."""
        cls.copy_count += 1
        return cls.keep_copy(source or cls.final, "work-%d" % cls.copy_count)

    @classmethod
    def list_all(cls, journal_dir):
        """list --all of a journal copy, read from a copy of it (opening a journal changes it)."""
        scratch = cls.fresh_copy(journal_dir)
        return harness.Tool(journal_dir=scratch).every_entry(journal=True)

    def verify(self, journal_dir, checkpoints=False, fmt="json"):
        args = [harness.MAILJOURNAL, "--journal", journal_dir, "verify", "--verifier-key", self.vkey]
        if checkpoints:
            args += ["--checkpoints", self.offhost]
        if fmt:
            args += ["--format", fmt]
        return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)

    def assert_first_bad(self, tamper, expected, checkpoints=(False, True), problem=None):
        """For each checkpoints setting: a fresh copy of the final journal, tamper(RawJournal),
        then verify must exit 65 and name entry `expected` first (0: none), in JSON and text."""
        for with_checkpoints in checkpoints:
            with self.subTest(checkpoints=with_checkpoints) if len(checkpoints) > 1 else contextlib.nullcontext():
                copy = self.fresh_copy()
                raw = RawJournal(copy)
                tamper(raw)
                raw.commit()
                p = self.verify(copy, with_checkpoints)
                cmd = "mailjournal --journal %s verify --verifier-key %s%s --format json" % (
                    copy, self.vkey, " --checkpoints " + self.offhost if with_checkpoints else "")
                self.assertEqual(p.returncode, EX_DATAERR, "%s\n%s%s" % (cmd, p.stdout.decode(), p.stderr.decode()))
                r = json.loads(p.stdout)
                self.assertFalse(r["intact"], r)
                self.assertEqual(r["first_bad_seq"], expected, "%s\n%s" % (cmd, r["problem"]))
                self.assertTrue(r["problem"], r)
                for text in (problem,) if isinstance(problem, str) else problem or ():
                    self.assertIn(text, r["problem"])
                # the text form (on another copy of the tampered journal) says the same
                t = self.verify(self.fresh_copy(copy), with_checkpoints, fmt=None)
                self.assertEqual(t.returncode, EX_DATAERR, t.stderr)
                first_line = t.stdout.decode().split("\n", 1)[0]
                if expected:
                    self.assertEqual(first_line, "journal NOT intact: first bad entry %d: %s" % (
                        expected, r["problem"]))
                else:
                    self.assertEqual(first_line, "journal NOT intact: %s" % r["problem"])

    # -- what the two clean stops left

    def test_a_clean_stop_writes_a_final_checkpoint(self):
        self.assertEqual(self.stop_rc, [0, 0])
        self.assertEqual(harness.kinds(self.before_stop), "PKMMMM")   # no checkpoint while it ran
        self.assertEqual(self.files_before_stop, {})
        # the stop appended a checkpoint over every entry before it: those listed, and the
        # access entry of that listing (made while the daemon ran, so recorded after them)
        n = len(self.before_stop)
        self.assertEqual([e["seq"] for e in self.old_entries], list(range(1, n + 3)))
        self.assertEqual(self.old_entries[:n], self.before_stop)
        audit = self.old_entries[n]
        self.assertEqual((audit["kind"], audit["operation"], audit["seqs"]), ("access", "list", [[1, n]]))
        last = self.old_entries[-1]
        self.assertEqual((last["kind"], last["tree_size"]), ("checkpoint", n + 1))
        self.assertEqual(read(checkpoint_path(self.offhost, last["tree_size"])).decode(), last["note"])
        self.assertIn("checkpoint: seq=%d tree_size=%d" % (last["seq"], last["tree_size"]), self.stop_log[0])
        # and so did the second one
        last = self.entries[-1]
        self.assertEqual((last["kind"], last["tree_size"]), ("checkpoint", last["seq"] - 1))
        self.assertEqual(sorted(checkpoint_files(self.offhost)), [e["tree_size"] for e in self.checkpoints])
        self.assertEqual([e["tree_size"] for e in self.checkpoints],
                         [len(self.old_entries) - 1, len(self.entries) - 1])
        key = verify_proofs.parse_verifier_key(read(self.vkey))
        for e in self.checkpoints:
            self.assertEqual(verify_proofs.verify_checkpoint(e["note"], key).root.hex(), e["root"])

    def test_the_intact_journal_verifies(self):
        for with_checkpoints in (False, True):
            with self.subTest(checkpoints=with_checkpoints):
                p = self.verify(self.fresh_copy(), with_checkpoints)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                r = json.loads(p.stdout)
                self.assertEqual((r["intact"], r["first_bad_seq"]), (True, 0))
                self.assertEqual((r["entries"], r["tree_size"]), (len(self.entries), len(self.entries)))
                self.assertEqual((r["messages"], r["checkpoints"]), (6, 2))
                self.assertEqual(r["off_host"], 2 if with_checkpoints else 0)

    def test_the_independent_verifier_accepts_proofs_from_the_stopped_journal(self):
        copy = self.fresh_copy()
        tool = harness.Tool(journal_dir=copy)
        out = tempfile.mkdtemp(dir=self.copies)
        old_size, new_size = (e["tree_size"] for e in self.checkpoints)
        paths = []
        for seq in (1, self.big["seq"], self.checkpoints[0]["seq"], new_size):
            p = tool.run("proof", "--inclusion", seq, "--format", "json", journal=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            paths.append(os.path.join(out, "inclusion-%d.json" % seq))
            with open(paths[-1], "wb") as f:
                f.write(p.stdout)
        p = tool.run("proof", "--consistency", old_size, new_size, "--checkpoint",
                     checkpoint_path(self.offhost, new_size), "--format", "json", journal=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        paths.append(os.path.join(out, "consistency.json"))
        with open(paths[-1], "wb") as f:
            f.write(p.stdout)
        v = run_verifier("--verifier-key", self.vkey, "--old-checkpoint", checkpoint_path(self.offhost, old_size),
                         *paths)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertEqual(len([l for l in v.stdout.splitlines() if l.startswith(b"OK ")]), len(paths))

    # -- tampering

    def middle_message(self):
        """A small message of the first run with another message after it."""
        return [e for e in self.messages if e is not self.big and e["seq"] + 1 < self.checkpoints[0]["seq"]][-1]

    def test_a_flipped_byte_in_an_entry_names_it(self):
        m = self.middle_message()["seq"]

        def in_queue_id(raw):   # still decodes: only its leaf hash tells
            entry = bytearray(raw.get(entry_key(m)))
            offset = [i for t, i, _ in entry_fields(bytes(entry)) if t == 2][0]
            entry[offset + 3] ^= 0x20
            raw.put(entry_key(m), bytes(entry))

        def in_magic(raw):      # no longer decodes
            entry = bytearray(raw.get(entry_key(m)))
            entry[0] ^= 0x01
            raw.put(entry_key(m), bytes(entry))

        for tamper in (in_queue_id, in_magic):
            with self.subTest(tamper.__name__):
                self.assert_first_bad(tamper, m)

    def test_a_flipped_byte_in_a_ciphertext_chunk_names_its_message(self):
        seq = self.big["seq"]

        def flip_chunk(raw):
            entry = raw.get(entry_key(seq))
            txn = struct.unpack(">Q", field(entry, 13)[0])[0]
            chunks = struct.unpack(">I", field(entry, 14)[0])[0]
            self.assertGreaterEqual(chunks, 3)
            chunk = bytearray(raw.get(chunk_key(txn, 1)))
            chunk[len(chunk) // 2] ^= 0x01
            raw.put(chunk_key(txn, 1), bytes(chunk))

        self.assert_first_bad(flip_chunk, seq, problem="SHA-256")

    def test_a_deleted_entry_is_named(self):
        m = self.middle_message()["seq"]

        def delete(raw):
            raw.delete(entry_key(m))

        def delete_and_renumber(raw):   # the later entries moved down, leaving no gap
            last = raw.last_seq()
            for s in range(m, last):
                raw.put(entry_key(s), raw.get(entry_key(s + 1)))
            raw.delete(entry_key(last))

        for tamper in (delete, delete_and_renumber):
            with self.subTest(tamper.__name__):
                self.assert_first_bad(tamper, m)

    def test_two_swapped_entries_are_found_at_the_first(self):
        m = self.middle_message()["seq"]

        def swap(raw):
            a, b = raw.get(entry_key(m)), raw.get(entry_key(m + 1))
            raw.put(entry_key(m), b)
            raw.put(entry_key(m + 1), a)

        self.assert_first_bad(swap, m)

    def test_an_inserted_entry_is_named(self):
        m = self.middle_message()["seq"]
        last = len(self.entries)

        def insert_in_the_middle(raw):   # a copy of the entry before, the later ones moved up
            for s in range(last, m - 1, -1):
                raw.put(entry_key(s + 1), raw.get(entry_key(s)))
            raw.put(entry_key(m), raw.get(entry_key(m - 1)))

        def append(raw):                 # a copy of the key entry after the last checkpoint
            raw.put(entry_key(last + 1), raw.get(entry_key(2)))

        for tamper, expected in ((insert_in_the_middle, m), (append, last + 1)):
            with self.subTest(tamper.__name__):
                self.assert_first_bad(tamper, expected)

    def altered_checkpoint(self, seq):
        def tamper(raw):
            entry = raw.get(entry_key(seq))
            sig_line = entry.rindex(b"\n\xe2\x80\x94 ")
            note_end = entry.index(b"\n", sig_line + 1)
            i = entry.rindex(b" ", sig_line, note_end) + 1 + 20
            altered = entry[:i] + (b"B" if entry[i:i + 1] == b"A" else b"A") + entry[i + 1:]
            raw.put(entry_key(seq), altered)
            raw.put(leaf_key(seq), verify_proofs.leaf_hash(altered))   # only the signature is wrong
        return tamper

    def test_an_altered_checkpoint_signature_is_named(self):
        for cp in self.checkpoints:
            with self.subTest(checkpoint=cp["seq"]):
                self.assert_first_bad(self.altered_checkpoint(cp["seq"]), cp["seq"], problem="does not verify")

    def rewrite_middle_message(self, raw):
        """A byte of a message entry changed, and its leaf hash rewritten to match: only a
        checkpoint over it can tell."""
        m = self.middle_message()["seq"]
        entry = bytearray(raw.get(entry_key(m)))
        offset = [i for t, i, _ in entry_fields(bytes(entry)) if t == 2][0]
        entry[offset + 3] ^= 0x20
        raw.put(entry_key(m), bytes(entry))
        raw.put(leaf_key(m), verify_proofs.leaf_hash(bytes(entry)))

    def test_an_entry_rewritten_with_its_leaf_hash_is_caught_by_the_next_checkpoint(self):
        # the checkpoint entry over it is the first entry that fails
        self.assert_first_bad(self.rewrite_middle_message, self.checkpoints[0]["seq"], checkpoints=(False,),
                              problem="does not match the entries before it")

    def test_an_entry_rewritten_with_its_leaf_hash_is_caught_by_an_off_host_checkpoint(self):
        # mailjournal-format(5), VERIFYING A JOURNAL, step 3: the off-host checkpoint of the
        # same tree is compared before the checkpoint entry is reached; the tree cannot tell
        # which entry changed, so no entry is named (first_bad_seq 0), only the file
        size = self.checkpoints[0]["tree_size"]
        self.assert_first_bad(self.rewrite_middle_message, 0, checkpoints=(True,), problem=(
            "%s: the first %d entries have root " % (checkpoint_path(self.offhost, size), size),
            "the journal was rewritten behind it"))

    def test_a_journal_replaced_by_an_older_copy_is_caught_by_a_newer_checkpoint(self):
        old_size = len(self.old_entries)
        self.assertGreater(self.checkpoints[-1]["tree_size"], old_size)
        copy = self.fresh_copy(self.old)
        p = self.verify(copy, checkpoints=False)   # alone, the old journal is intact
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        copy = self.fresh_copy(self.old)
        p = self.verify(copy, checkpoints=True)
        cmd = "mailjournal --journal %s verify --verifier-key %s --checkpoints %s --format json" % (
            copy, self.vkey, self.offhost)
        self.assertEqual(p.returncode, EX_DATAERR, "%s\n%s" % (cmd, p.stdout + p.stderr))
        r = json.loads(p.stdout)
        self.assertFalse(r["intact"])
        self.assertEqual(r["first_bad_seq"], old_size + 1, "%s\n%s" % (cmd, r["problem"]))

    def test_a_modified_table_file_is_found(self):
        copy = self.fresh_copy()
        # opening the journal moves LevelDB's log into table files
        harness.run([harness.MAILJOURNAL, "--journal", copy, "status"])
        db = os.path.join(copy, "db")
        tables = sorted((os.path.getsize(os.path.join(db, n)), n) for n in os.listdir(db) if n.endswith(".ldb"))
        self.assertTrue(tables, os.listdir(db))
        size, name = tables[-1]
        self.assertGreater(size, 150000)   # it holds the big message's sealed chunks
        path = os.path.join(db, name)
        with open(path, "r+b") as f:
            f.seek(size // 2)
            b = f.read(1)
            f.seek(size // 2)
            f.write(bytes([b[0] ^ 0x01]))
        p = self.verify(copy)
        cmd = "mailjournal --journal %s verify --verifier-key %s --format json" % (copy, self.vkey)
        self.assertEqual(p.returncode, EX_DATAERR, "%s\n%s" % (cmd, p.stdout + p.stderr))
        r = json.loads(p.stdout)
        self.assertFalse(r["intact"])
        self.assertGreater(r["first_bad_seq"], 0, "%s\n%s" % (cmd, r["problem"]))
        self.assertLessEqual(r["first_bad_seq"], len(self.entries), r)
        sys.stderr.write("\nmodified table file: first_bad_seq %d (the big message is %d): %s\n" % (
            r["first_bad_seq"], self.big["seq"], r["problem"]))


if __name__ == "__main__":
    harness.main()
