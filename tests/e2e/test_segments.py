"""Segments (mailjournal-format(5), SEGMENTS; mailjournal(8), SEGMENTS) through a real Postfix.

The daemon signs a checkpoint every second when the journal grew (as in test_proof.py).  Mail
is sent and delivered, the journal is waited on until it ends with a checkpoint over every
entry; then, through the daemon's admin socket, `mailjournal segment list` and `segment write`
cut it into segments, and `mailjournal segment verify --vkey` checks them with no journal at
all (what an auditor runs on objects from a bucket).  The segment files are read here with
Python's own tarfile (the container is plain ustar): the entries are the journal's stored
bytes, and each message's content, opened with the e2e key by the standard tools (openssl cms
| zstd), is byte for byte what Postfix delivered.  A segment with one byte changed, or checked
with another key, is refused with exit 65 and the reason.

The segment also carries what a search needs without the journal (mailjournal-format(5),
SEGMENTS, terms.bin; ENTRIES, index_key): every message's term set, and the index_key entry
the daemon appended when it made the department's index key.  Read here with this file's own
decoding, the sealed secret opens with the e2e key by openssl cms | zstd, its HMAC gives the
entry's key id, and the keyed hash of a word of each message is in that message's term set.
"""

import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
import tarfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness   # noqa: E402
from test_proof import entry_fields, make_checkpoint_dir, make_signing_key, message_bytes, read, verify_proofs, wait_quiet  # noqa: E402,E501

EX_DATAERR = 65


def members(path):
    """[(name, bytes)] of a segment file, in order, read with Python's tarfile."""
    with tarfile.open(path, "r:") as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]


def entries_of(entries_bin):
    """The entries of entries.bin: each a 4-byte big-endian length and the entry's bytes."""
    out, i = [], 0
    while i < len(entries_bin):
        n = int.from_bytes(entries_bin[i:i + 4], "big")
        out.append(entries_bin[i + 4:i + 4 + n])
        i += 4 + n
    return out


def fields_of(entry):
    """{tag: [values]} of an encoded entry (mailjournal-format(5), ENTRY ENCODING)."""
    assert entry[:2] == b"MJ" and entry[2] == 1, entry[:4]
    out = {}
    for tag, _, value in entry_fields(entry):
        out.setdefault(tag, []).append(value)
    return out


def terms_of(terms_bin):
    """terms.bin as {seq: {key id: {hash: fields}}} (mailjournal-format(5), SEGMENTS)."""
    out, i = {}, 0
    be = lambda a, b: int.from_bytes(terms_bin[a:b], "big")  # noqa: E731
    while i < len(terms_bin):
        seq, sets = be(i, i + 8), be(i + 8, i + 12)
        i += 12
        out[seq] = {}
        for _ in range(sets):
            key_id, n = be(i, i + 8), be(i + 8, i + 12)
            i += 12
            out[seq][key_id] = {be(i + 9 * k, i + 9 * k + 8): terms_bin[i + 9 * k + 8] for k in range(n)}
            i += 9 * n
    return out


def keyed_hash(secret, token):
    """A term's hash: the first 64 bits, big-endian, of HMAC-SHA-256(secret, token)."""
    return int.from_bytes(hmac.new(secret, token, hashlib.sha256).digest()[:8], "big")


KIND_MESSAGE, KIND_INDEX_KEY = 1, 9


def independent_check(path, vkey_text):
    """mailjournal-format(5), SEGMENTS, steps 3 to 5, with the independent verifier's code
    (tests/independent/verify_proofs.py) and this file's own reading of the container: None
    when the entries are leaves first-1..last-1 of the signed tree, else the reason."""
    data = dict(members(path))
    manifest, tree = json.loads(data["manifest.json"]), json.loads(data["tree.json"])
    checkpoint = verify_proofs.verify_checkpoint(data["checkpoint.note"],
                                                 verify_proofs.parse_verifier_key(vkey_text))
    if tree["tree_size"] != checkpoint.size:
        return "tree_size is not the checkpoint's"
    first, last = manifest["first"], manifest["last"]
    left = [bytes.fromhex(h) for h in tree["left"]]
    if len(left) != bin(first - 1).count("1"):
        return "left is not a compact range of first - 1 leaves"
    # the compact range as (size, root) pairs, extended leaf by leaf
    sizes = [1 << b for b in reversed(range((first - 1).bit_length())) if (first - 1) >> b & 1]
    ranges = list(zip(sizes, left))
    for entry in entries_of(data["entries.bin"]):
        ranges.append((1, verify_proofs.leaf_hash(entry)))
        while len(ranges) > 1 and ranges[-1][0] == ranges[-2][0]:
            (n, a), (_, b) = ranges[-2], ranges[-1]
            ranges[-2:] = [(2 * n, verify_proofs.node_hash(a, b))]
    root = verify_proofs.fold_compact_range([r for _, r in ranges])
    return verify_proofs.verify_consistency(last, checkpoint.size, root, checkpoint.root,
                                            [bytes.fromhex(h) for h in tree["consistency"]])


class SegmentsTest(harness.E2ETestCase):

    @classmethod
    def setUpClass(cls):
        cls.key, cls.vkey, _ = make_signing_key(cls)
        cls.offhost = make_checkpoint_dir(cls)
        cls.env = harness.E2E(daemon_args=["--signing-key", cls.key, "--checkpoint-interval", "1",
                                           "--checkpoint-dir", cls.offhost, "--index-key-entries"])
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        cls.sent = [cls.env.send_ok(message_bytes(n)) for n in range(1, 6)]
        cls.env.wait_delivered(len(cls.sent))
        cls.quiet = wait_quiet(cls.env, cls.offhost)   # entry `quiet` is a checkpoint of 1..quiet-1
        cls.delivered = {r.queue_id: cls.env.delivery_for(r.queue_id).content for r in cls.sent}
        cls.work = os.path.join(cls.env.base, "segments")
        os.makedirs(cls.work)
        # the whole journal up to the checkpoint, through the daemon
        cls.whole = os.path.join(cls.work, "whole.seg")
        cls.env.tool.ok("segment", "write", "--range", "1-%d" % (cls.quiet - 1), "-o", cls.whole)

    def verify(self, *files, vkey=None):
        """segment verify with no journal and no daemon to ask (the socket does not exist)."""
        return subprocess.run([harness.MAILJOURNAL, "--socket", "/nonexistent/admin.sock", "segment",
                               "verify", "--vkey", vkey or self.vkey, "--format", "json"]
                              + list(files), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)

    def test_a_segment_verifies_offline_and_its_messages_open_byte_exactly(self):
        p = self.verify(self.whole)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        report = json.loads(p.stdout)
        self.assertEqual((report["ok"], report["first"], report["last"]), (True, 1, self.quiet - 1))
        self.assertEqual(report["tree_size"], self.quiet - 1)
        self.assertEqual(report["messages"], len(self.sent))
        self.assertEqual(report["without_content"], 0)
        self.assertEqual(report["indexed"], len(self.sent))

        parts = members(self.whole)
        names = [n for n, _ in parts]
        self.assertEqual(names[:5], ["manifest.json", "entries.bin", "terms.bin", "tree.json",
                                     "checkpoint.note"])
        data = dict(parts)
        manifest = json.loads(data["manifest.json"])
        self.assertEqual((manifest["format"], manifest["version"]), ("mailjournal-segment", 2))
        self.assertEqual(manifest["origin"], "mail.e2e.test/journal")
        self.assertEqual(manifest["holds"], [])
        self.assertTrue(manifest["holds_known"])
        # the entries are the journal's, as `proof` shows their stored bytes
        entries = entries_of(data["entries.bin"])
        self.assertEqual(len(entries), self.quiet - 1)
        messages = {e["seq"]: e for e in self.env.tool.all_entries()}
        self.assertEqual(len(messages), len(self.sent))
        proof = json.loads(self.env.tool.ok("proof", "--inclusion", min(messages), "--format", "json"))
        self.assertEqual(entries[min(messages) - 1].hex(), proof["entry"])
        # every message's content is there sealed, and opens to what Postfix delivered
        opened = {}
        for seq, e in messages.items():
            self.assertTrue(e["sealed"])
            stored = data["content/%020d" % seq]
            self.assertEqual(stored, self.env.tool.export_stored(seq))
            opened[e["queue_id"]] = harness.open_sealed(stored)
        self.assertEqual(opened, self.delivered)

    def test_the_segment_carries_terms_and_the_index_key_that_hashes_them(self):
        data = dict(members(self.whole))
        entries = entries_of(data["entries.bin"])
        terms = terms_of(data["terms.bin"])
        messages = [seq for seq, e in enumerate(entries, 1) if e[3] == KIND_MESSAGE]
        self.assertEqual(len(messages), len(self.sent))
        self.assertEqual(sorted(terms), messages)   # every message, and only messages
        # the index_key entries: the secret opens with the officer's key, the standard way
        keys = {}
        for e in entries:
            if e[3] != KIND_INDEX_KEY:
                continue
            f = fields_of(e)
            self.assertEqual(f[2], [b"default"])
            self.assertEqual(f[6], [b"created"])
            self.assertEqual([r.hex() for r in f[5]], [harness.e2e_keys().fingerprint])
            secret = harness.open_sealed(f[4][0])
            self.assertEqual(len(secret), 32)
            key_id = int.from_bytes(f[3][0], "big")
            self.assertEqual(keyed_hash(secret, b"mailjournal index key id"), key_id)
            keys[key_id] = secret
        self.assertEqual(len(keys), 1, "one key made for department default")
        (key_id, secret), = keys.items()
        # every message's subject says "proof test N": its hash under the key is in the set
        for seq in messages:
            self.assertEqual(list(terms[seq]), [key_id], seq)
            self.assertIn(keyed_hash(secret, b"proof"), terms[seq][key_id], seq)
            self.assertNotIn(keyed_hash(secret, b"absent-from-every-message"), terms[seq][key_id])
        # `show` prints the entry for operators
        seq = next(seq for seq, e in enumerate(entries, 1) if e[3] == KIND_INDEX_KEY)
        shown = self.env.tool.show(seq)
        self.assertEqual((shown["kind"], shown["department"], shown["reason"]),
                         ("index_key", "default", "created"))
        self.assertEqual(int(shown["key_id"], 16), key_id)

    def test_an_independent_reader_checks_the_tree_from_the_format_page(self):
        vkey = read(self.vkey)
        # from entry 1 to the checkpoint's last leaf (no left range, no consistency proof),
        # and a range inside the tree (both)
        inner = os.path.join(self.work, "inner.seg")
        self.env.tool.ok("segment", "write", "--range", "3-%d" % (self.quiet - 2), "-o", inner)
        for path in (self.whole, inner):
            self.assertIsNone(independent_check(path, vkey), path)
        tree = json.loads(dict(members(inner))["tree.json"])
        self.assertTrue(tree["left"] and tree["consistency"], tree)
        # a changed entry byte: the independent reader refuses it too
        parts = members(inner)
        i = next(i for i, (n, _) in enumerate(parts) if n == "entries.bin")
        changed = bytearray(parts[i][1])
        changed[-1] ^= 1
        parts[i] = ("entries.bin", bytes(changed))
        bad = os.path.join(self.work, "inner-changed.seg")
        with tarfile.open(bad, "w", format=tarfile.USTAR_FORMAT) as tar:
            for name, content in parts:
                info = tarfile.TarInfo(name)
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
        self.assertIsNotNone(independent_check(bad, vkey))
        p = self.verify(bad)
        self.assertEqual(p.returncode, EX_DATAERR)
        self.assertIn("manifest digest mismatch: part entries.bin", json.loads(p.stdout)["problem"])

    def test_a_legal_hold_is_named_in_the_manifest(self):
        seq = min(e["seq"] for e in self.env.tool.all_entries())
        self.env.tool.ok("hold", "add", "--case", "SEG-HOLD-1", "--reason", "e2e", "--seq", str(seq))
        held = os.path.join(self.work, "held.seg")
        self.env.tool.ok("segment", "write", "--range", "%d-%d" % (seq, seq), "-o", held)
        manifest = json.loads(dict(members(held))["manifest.json"])
        self.assertEqual(manifest["holds"], ["SEG-HOLD-1"])
        self.env.tool.ok("hold", "release", "--case", "SEG-HOLD-1", "--reason", "e2e done")

    def test_segments_are_the_same_bytes_each_time(self):
        again = os.path.join(self.work, "again.seg")
        self.env.tool.ok("segment", "write", "--range", "1-%d" % (self.quiet - 1), "-o", again)
        with open(self.whole, "rb") as a, open(again, "rb") as b:
            self.assertEqual(a.read(), b.read())
        # an existing file is not overwritten
        p = self.env.tool.run("segment", "write", "--range", "1-2", "-o", again)
        self.assertEqual(p.returncode, 73, p.stderr)

    def test_list_and_write_all_cut_the_journal(self):
        listed = self.env.tool.parse_jsonl(self.env.tool.ok("segment", "list", "--entries", "3",
                                                            "--format", "json"))
        self.assertGreaterEqual(len(listed), 1)
        self.assertEqual(listed[0]["first"], 1)
        for a, b in zip(listed, listed[1:]):
            self.assertEqual(b["first"], a["last"] + 1)
        for s in listed:
            self.assertLessEqual(s["last"] - s["first"], 2)
            self.assertGreater(s["checkpoint_seq"], s["last"])
        d = os.path.join(self.work, "all")
        os.makedirs(d)
        self.env.tool.ok("segment", "write", "--all", "--entries", "3", "-o", d)
        files = sorted(os.listdir(d))
        self.assertGreaterEqual(len(files), len(listed))
        self.assertEqual(files[0], "%020d-%020d.seg" % (listed[0]["first"], listed[0]["last"]))
        p = self.verify(*[os.path.join(d, f) for f in files])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # written through the daemon: recorded in the audit trail as "segment"
        audit = self.env.tool.parse_jsonl(self.env.tool.ok("audit", "--operation", "segment",
                                                           "--format", "json"))
        self.assertGreaterEqual(len(audit), len(files))

    def test_a_changed_byte_or_another_key_is_refused(self):
        data = bytearray(read(self.whole))
        # a byte of the first message's sealed content (its tar member's data)
        with tarfile.open(self.whole, "r:") as tar:
            m = next(m for m in tar.getmembers() if m.name.startswith("content/"))
            offset = m.offset_data + 100
        data[offset] ^= 1
        bad = os.path.join(self.work, "bad.seg")
        with open(bad, "wb") as f:
            f.write(data)
        p = self.verify(self.whole, bad)
        self.assertEqual(p.returncode, EX_DATAERR, p.stderr)
        ok, refused = [json.loads(l) for l in p.stdout.decode().splitlines()]
        self.assertTrue(ok["ok"])
        self.assertFalse(refused["ok"])
        self.assertIn("manifest digest mismatch: part %s" % m.name, refused["problem"])

        other_key, other_vkey, _ = make_signing_key(type(self))
        p = self.verify(self.whole, vkey=other_vkey)
        self.assertEqual(p.returncode, EX_DATAERR, p.stderr)
        self.assertIn("checkpoint.note", json.loads(p.stdout)["problem"])


if __name__ == "__main__":
    harness.main()
