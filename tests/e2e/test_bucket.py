"""Reading a bucket of shipped segments (mailjournal(8), BUCKET; mailjournal-format(5), BUCKET)
with a real S3 server (a private Ceph radosgw, tests/s3/radosgw.py) and two MTAs.

Two harness instances (two Postfix, two daemons, two journals) stand for two MTAs; each signs
its checkpoints with its own key and origin.  Mail goes through both; each journal is cut into
segments of at most 3 entries (`mailjournal segment write --all`), and boto3 (an independent S3
client) puts them into an Object Lock bucket under mta1/segments/ and mta2/segments/ with
COMPLIANCE retention until the manifest's retain_until, as the shipper does.  Then, with no
journal and no daemon (a configuration file with the s3_* settings and a credentials file, as
on an auditor's machine):
* `verify --bucket` passes for both prefixes and, through a daemon, finds its journal's entries
  the same as the bucket's;
* it finds a segment replaced by a new version re-signed with another key of the same origin
  (manifest re-sealed, built here from the format page), a missing segment (a gap), a flipped
  byte, and an object without Object Lock;
* `search --bucket` finds the same messages as each journal's own search, opening only the
  candidates of the segments' term sets (terms.bin, under the index keys of the segments'
  index_key entries, opened with the officer's key), or every message with --open-all; and
  `export --bucket` writes the same bytes as each journal's export (mbox, and eml files);
* each search and export leaves an access record under audit/ (COMPLIANCE) naming the objects
  read; when it cannot be written (a bucket policy denies it; the gateway stopped), nothing is
  output.
"""

import base64
import datetime
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "s3"))
import harness   # noqa: E402
import radosgw   # noqa: E402
from test_proof import make_checkpoint_dir, read, remove_after, verify_proofs, wait_quiet  # noqa: E402
from test_segments import members  # noqa: E402

EX_DATAERR = 65
BUCKET = "journal"
ORIGINS = {"mta1": "mta1.e2e.test/journal", "mta2": "mta2.e2e.test/journal"}

# boto3's side, run by a Python that has boto3 (python3-boto3): a JSON list of actions on
# stdin, a JSON list of results on stdout.
BOTO3_SCRIPT = r"""
import datetime, json, sys
import boto3, botocore.config, botocore.exceptions
endpoint, region, access, secret = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=access,
                  aws_secret_access_key=secret,
                  config=botocore.config.Config(s3={"addressing_style": "path"}))
def when(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
out = []
for a in json.load(sys.stdin):
    op = a["op"]
    if op == "create":
        s3.create_bucket(Bucket=a["bucket"], ObjectLockEnabledForBucket=True)
        out.append(True)
    elif op == "put":
        kw = {}
        if a.get("until"):
            kw = dict(ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=when(a["until"]))
        with open(a["file"], "rb") as f:
            r = s3.put_object(Bucket=a["bucket"], Key=a["key"], Body=f.read(), **kw)
        out.append(r.get("VersionId"))
    elif op == "delete_marker":
        s3.delete_object(Bucket=a["bucket"], Key=a["key"])
        out.append(True)
    elif op == "policy":
        s3.put_bucket_policy(Bucket=a["bucket"], Policy=json.dumps(a["policy"]))
        out.append(True)
    elif op == "records":
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=a["bucket"], Prefix="audit/").get("Contents", [])]
        recs = []
        for k in keys:
            g = s3.get_object(Bucket=a["bucket"], Key=k)
            recs.append({"key": k, "mode": g.get("ObjectLockMode"),
                         "until": g["ObjectLockRetainUntilDate"].astimezone(datetime.timezone.utc).isoformat(),
                         "record": json.loads(g["Body"].read())})
        out.append(recs)
print(json.dumps(out))
"""


def ranges(seqs):
    """Sorted sequence numbers as the fewest export arguments: "N" or "N-M" per run."""
    runs = []
    for s in seqs:
        if runs and runs[-1][1] + 1 == s:
            runs[-1][1] = s
        else:
            runs.append([s, s])
    return [str(a) if a == b else "%d-%d" % (a, b) for a, b in runs]


def manifest_of(path):
    return json.loads(dict(members(path))["manifest.json"])


def pack(parts):
    """A ustar archive of [(name, bytes)] (what the format page describes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in parts:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o444
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def resign(path, signer_key_text):
    """The segment with its checkpoint re-signed by another signer key and its manifest
    re-sealed (mailjournal-format(5), SEGMENTS): every part verifies but the signature."""
    name, kid, seed, _ = verify_proofs.parse_signer_key(signer_key_text)
    parts = members(path)
    data = dict(parts)
    note = data["checkpoint.note"]
    text = note[:note.rfind(b"\n\n") + 1]
    sig = kid.to_bytes(4, "big") + verify_proofs.ed25519_sign(seed, text)
    new_note = text + b"\n" + verify_proofs.EM_DASH_SP + name + b" " + base64.b64encode(sig) + b"\n"
    parts = [(n, new_note if n == "checkpoint.note" else c) for n, c in parts]
    manifest = json.loads(parts[0][1])
    manifest["parts"] = [{"name": n, "size": len(c), "sha256": verify_proofs.sha256(c).hex()}
                         for n, c in parts[1:]]
    parts[0] = ("manifest.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return pack(parts)


def message(mta, n, words):
    return (b"From: sender%d@%s.example.org\r\nTo: rcpt@example.net\r\nSubject: %s report %d\r\n"
            b"Message-ID: <bucket-%s-%d@e2e.test>\r\n\r\nmessage %d of %s: %s\r\n"
            % (n, mta.encode(), mta.encode(), n, mta.encode(), n, n, mta.encode(), words))


class BucketTest(harness.E2ETestCase):

    @classmethod
    def setUpClass(cls):
        cls.rgw = radosgw.RadosGateway()
        cls.rgw.__enter__()
        cls.addClassCleanup(cls.rgw.__exit__, None, None, None)
        cls.mtas, cls.vkeys, cls.signers, cls.segdirs, cls.covered, cls.messages = {}, {}, {}, {}, {}, {}
        words = {"mta1": [b"wire transfer approved", b"lunch menu", b"wire fraud alert",
                          b"quarterly results"],
                 "mta2": [b"transfer of shares", b"wire transfer pending", b"holiday plans"]}
        for mta, origin in ORIGINS.items():
            keys = os.path.join(harness.tempfile.mkdtemp(prefix="mj-e2e-bucket-"), mta)
            remove_after(cls, os.path.dirname(keys))
            os.mkdir(keys, 0o700)
            harness.run([harness.MAILJOURNAL, "keygen", "--signing", origin, "-o", keys])
            cls.vkeys[mta] = os.path.join(keys, "checkpoint.vkey")
            cls.signers[mta] = os.path.join(keys, "checkpoint.key")
            offhost = make_checkpoint_dir(cls)
            env = harness.E2E(daemon_args=["--signing-key", cls.signers[mta], "--checkpoint-interval", "1",
                                           "--checkpoint-dir", offhost, "--index-key-entries"])
            env.__enter__()
            cls.addClassCleanup(env.close)
            cls.mtas[mta] = env
            for n, w in enumerate(words[mta], 1):
                env.send_ok(message(mta, n, w))
            env.wait_delivered(len(words[mta]))
            # entries after the messages (access entries, checkpoints), so that the messages'
            # segments are complete: a segment is cut once an entry after it exists
            for _ in range(4):
                env.tool.ok("list")
            wait_quiet(env, offhost)
            d = os.path.join(env.base, "segments")
            os.makedirs(d)
            env.tool.ok("segment", "write", "--all", "--entries", "3", "-o", d)
            cls.segdirs[mta] = d
            cls.covered[mta] = manifest_of(os.path.join(d, sorted(os.listdir(d))[-1]))["last"]
            cls.messages[mta] = sorted(e["seq"] for e in env.tool.all_entries())
            assert cls.messages[mta][-1] <= cls.covered[mta], (mta, cls.messages[mta], cls.covered[mta])
        # The auditor's files: the s3_* settings and the credentials (mode 0600).
        cls.work = harness.tempfile.mkdtemp(prefix="mj-e2e-auditor-")
        remove_after(cls, cls.work)
        cls.config = cls.write_config("auditor.conf", BUCKET)
        cls.boto3([{"op": "create", "bucket": BUCKET}])
        cls.objects = {mta: cls.upload(BUCKET, mta) for mta in ORIGINS}

    @classmethod
    def write_config(cls, name, bucket):
        creds = os.path.join(cls.work, "s3-credentials")
        if not os.path.exists(creds):
            fd = os.open(creds, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write("access_key = %s\nsecret_key = %s\n" % (cls.rgw.access_key, cls.rgw.secret_key))
        path = os.path.join(cls.work, name)
        with open(path, "w") as f:
            f.write("s3_endpoint = %s\ns3_region = %s\ns3_bucket = %s\ns3_credentials = %s\n"
                    "s3_path_style = yes\n" % (cls.rgw.endpoint, cls.rgw.region, bucket, creds))
        return path

    @classmethod
    def boto3(cls, actions):
        python = harness.python_with("boto3", "python3-boto3")
        p = subprocess.run([python, "-c", BOTO3_SCRIPT, cls.rgw.endpoint, cls.rgw.region,
                            cls.rgw.access_key, cls.rgw.secret_key], input=json.dumps(actions).encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        if p.returncode != 0:
            raise AssertionError("boto3: %s" % p.stderr.decode(errors="replace"))
        return json.loads(p.stdout)

    @staticmethod
    def until_of(path):
        """The object's retain-until: its manifest's retain_until (a day on when it has none)."""
        until = manifest_of(path)["retain_until"]
        if until is None:
            t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
        else:
            t = datetime.datetime.strptime(until[:19], "%Y-%m-%dT%H:%M:%S") + datetime.timedelta(seconds=1)
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")

    @classmethod
    def upload(cls, bucket, mta, prefix=None, skip=(), lock=True):
        """Puts MTA's segment files under PREFIX/segments/ (prefix: the MTA's name) with
        COMPLIANCE retention (lock=False: none); returns the object names in order."""
        d, prefix = cls.segdirs[mta], prefix or mta
        actions, names = [], []
        for f in sorted(os.listdir(d)):
            key = "%s/segments/%s" % (prefix, f)
            names.append(key)
            if f in skip:
                continue
            actions.append({"op": "put", "bucket": bucket, "key": key, "file": os.path.join(d, f),
                            "until": cls.until_of(os.path.join(d, f)) if lock else None})
        cls.boto3(actions)
        return names

    def tool(self, *args, check=None):
        """The tool as on an auditor's machine: no --journal, no --socket (none is used)."""
        p = subprocess.run([harness.MAILJOURNAL] + [str(a) for a in args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        if check is not None:
            self.assertEqual(p.returncode, check, "%s\nstdout: %s\nstderr: %s" % (
                args, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")))
        return p

    def vkey_args(self):
        return ["--vkey", self.vkeys["mta1"], "--vkey", self.vkeys["mta2"]]

    def verify_bucket(self, config, *extra, rc=None):
        p = self.tool("verify", "--bucket", "-c", config, "--format", "json", *self.vkey_args(), *extra,
                      check=rc)
        return {r["prefix"]: r for r in (json.loads(line) for line in p.stdout.splitlines())}

    def key_args(self):
        k = harness.e2e_keys()
        return ["--key", k.key, "--passphrase-file", k.passphrase_file]

    def records(self, bucket=BUCKET):
        return self.boto3([{"op": "records", "bucket": bucket}])[0]

    # -- verify

    def test_verify_bucket_passes_for_both_prefixes(self):
        reports = self.verify_bucket(self.config, rc=0)
        self.assertEqual(sorted(reports), ["mta1", "mta2"])
        for mta, r in reports.items():
            files = sorted(os.listdir(self.segdirs[mta]))
            last = manifest_of(os.path.join(self.segdirs[mta], files[-1]))["last"]
            self.assertTrue(r["ok"], r)
            self.assertEqual((r["segments"], r["verified"], r["locked"], r["replaced"]),
                             (len(files), len(files), len(files), 0), r)
            self.assertGreater(len(files), 1)   # several segments are chained
            self.assertEqual((r["last_seq"], r["origin"]), (last, ORIGINS[mta]))
            self.assertEqual(r["messages"], len(self.mtas[mta].tool.all_entries()))
        # one prefix only; text output
        p = self.tool("verify", "--bucket", "-c", self.config, "--prefix", "mta2", *self.vkey_args(), check=0)
        self.assertIn(b"mta2: ok:", p.stdout)
        self.assertNotIn(b"mta1", p.stdout)
        # without mta2's verifier key, its segments cannot be verified
        p = self.tool("verify", "--bucket", "-c", self.config, "--vkey", self.vkeys["mta1"], "--format", "json",
                      check=EX_DATAERR)
        mta2 = [json.loads(line) for line in p.stdout.splitlines() if b'"mta2"' in line][0]
        self.assertIn("no verifier key", mta2["problem"])

    def test_verify_bucket_compares_with_the_local_journal(self):
        env = self.mtas["mta1"]
        p = subprocess.run([harness.MAILJOURNAL, "--socket", env.daemon.admin_sock, "verify", "--bucket", "-c",
                            self.config, "--format", "json"] + self.vkey_args(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        reports = {r["prefix"]: r for r in map(json.loads, p.stdout.splitlines())}
        self.assertEqual(reports["mta1"]["local"], "same")
        self.assertNotIn("local", reports["mta2"])   # another MTA's journal

    def tampered_bucket(self, name, mta="mta1"):
        """A bucket of its own with MTA's segments under the prefix `mta`."""
        self.boto3([{"op": "create", "bucket": name}])
        return self.write_config(name + ".conf", name), self.upload(name, mta)

    def test_a_segment_replaced_under_another_key_is_found(self):
        config, names = self.tampered_bucket("replaced")
        other = os.path.join(self.work, "other-key")
        os.mkdir(other, 0o700)
        harness.run([harness.MAILJOURNAL, "keygen", "--signing", ORIGINS["mta1"], "-o", other])
        victim = sorted(os.listdir(self.segdirs["mta1"]))[1]
        forged = os.path.join(self.work, "forged.seg")
        with open(forged, "wb") as f:
            f.write(resign(os.path.join(self.segdirs["mta1"], victim), read(os.path.join(other, "checkpoint.key"))))
        # it is a well-formed segment: it verifies with the other key
        self.tool("segment", "verify", "--vkey", os.path.join(other, "checkpoint.vkey"), forged, check=0)
        self.boto3([{"op": "put", "bucket": "replaced", "key": names[1], "file": forged,
                     "until": self.until_of(forged)}])
        r = self.verify_bucket(config, rc=EX_DATAERR)["mta1"]
        self.assertFalse(r["ok"])
        self.assertEqual(r["object"], names[1])
        self.assertEqual(r["replaced"], 1)
        self.assertIn("replaced: the object has 2 versions with different bytes", r["problem"])
        # without the versions, the signature alone gives it away
        p = self.tool("segment", "verify", "--vkey", self.vkeys["mta1"], forged, check=EX_DATAERR)
        self.assertIn(b"checkpoint.note", p.stdout)
        self.assertEqual(r["verified"], 1)   # the chain stops at the replaced segment

    def test_a_missing_segment_is_a_gap(self):
        files = sorted(os.listdir(self.segdirs["mta1"]))
        self.boto3([{"op": "create", "bucket": "gap"}])
        config = self.write_config("gap.conf", "gap")
        names = self.upload("gap", "mta1", skip=(files[1],))
        r = self.verify_bucket(config, rc=EX_DATAERR)["mta1"]
        first2 = manifest_of(os.path.join(self.segdirs["mta1"], files[1]))["first"]
        last2 = manifest_of(os.path.join(self.segdirs["mta1"], files[1]))["last"]
        self.assertEqual(r["object"], names[2])
        self.assertIn("entries %d..%d are missing (a gap)" % (first2, last2), r["problem"])
        self.assertEqual((r["verified"], r["last_seq"]), (1, first2 - 1))

    def test_a_flipped_byte_and_a_missing_lock_are_found(self):
        files = sorted(os.listdir(self.segdirs["mta2"]))
        self.boto3([{"op": "create", "bucket": "flipped"}])
        config = self.write_config("flipped.conf", "flipped")
        names = self.upload("flipped", "mta2", skip=(files[-1],))
        path = os.path.join(self.segdirs["mta2"], files[-1])
        with tarfile.open(path, "r:") as tar:
            at = tar.getmember("entries.bin").offset_data + 10   # a byte of the second entry's length or the first's
        data = bytearray(read(path))
        data[at] ^= 1
        bad = os.path.join(self.work, "flipped.seg")
        with open(bad, "wb") as f:
            f.write(bytes(data))
        self.boto3([{"op": "put", "bucket": "flipped", "key": names[-1], "file": bad, "until": None}])
        r = self.verify_bucket(config, rc=EX_DATAERR)["mta2"]
        self.assertEqual(r["object"], names[-1])
        self.assertIn("segment:", r["problem"])
        self.assertEqual(r["verified"], len(files) - 1)
        # intact, but without Object Lock: said so, and a problem
        self.boto3([{"op": "create", "bucket": "unlocked"}])
        config = self.write_config("unlocked.conf", "unlocked")
        names = self.upload("unlocked", "mta2", lock=False)
        r = self.verify_bucket(config, rc=EX_DATAERR)["mta2"]
        self.assertEqual((r["verified"], r["locked"]), (len(files), 0))
        self.assertEqual(r["object"], names[0])
        self.assertIn("not under Object Lock COMPLIANCE retention", r["problem"])

    def test_segments_the_daemon_ships_verify_from_the_bucket(self):
        """The real shipper (mailjournald(8), SHIPPING TO S3) of a third MTA, into a bucket of
        its own: what it ships verifies, chained, locked, and is its journal's."""
        self.boto3([{"op": "create", "bucket": "shipped"}])
        keys = os.path.join(self.work, "mta3-keys")
        os.mkdir(keys, 0o700)
        harness.run([harness.MAILJOURNAL, "keygen", "--signing", "mta3.e2e.test/journal", "-o", keys])
        conf_dir = harness.tempfile.mkdtemp(prefix="mj-e2e-bucket-ship-")
        remove_after(type(self), conf_dir)
        os.chmod(conf_dir, 0o755)
        creds = os.path.join(conf_dir, "s3-credentials")
        with open(creds, "w") as f:
            f.write("access_key = %s\nsecret_key = %s\n" % (self.rgw.access_key, self.rgw.secret_key))
        os.chmod(creds, 0o600)
        pw = harness.pwd.getpwnam(harness.DAEMON_USER)
        os.chown(creds, pw.pw_uid, pw.pw_gid)
        args = ["--signing-key", os.path.join(keys, "checkpoint.key"), "--checkpoint-interval", "1",
                "--s3-endpoint", self.rgw.endpoint, "--s3-region", self.rgw.region, "--s3-bucket", "shipped",
                "--s3-prefix", "mta3", "--s3-credentials", creds, "--segment-entries", "3"]
        with harness.E2E(daemon_args=args) as env:
            for n in (1, 2):
                env.send_ok(message("mta3", n, b"shipped by the daemon"))
            env.wait_delivered(2)
            last = max(e["seq"] for e in env.tool.all_entries())

            def shipped():
                if env.tool.status()["shipping"]["shipped_through"] >= last:
                    return True
                env.tool.ok("list", "--limit", "1")   # an entry after the segment completes it
                return False
            harness.wait_until(shipped, 120, "entries 1..%d shipped" % last, interval=0.5,
                               diag=env.diagnostics)
            vkey = os.path.join(keys, "checkpoint.vkey")
            p = subprocess.run([harness.MAILJOURNAL, "--socket", env.daemon.admin_sock, "verify", "--bucket",
                                "-c", self.write_config("shipped.conf", "shipped"), "--vkey", vkey,
                                "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            r = json.loads(p.stdout)
            self.assertEqual((r["prefix"], r["ok"], r["origin"], r["messages"]),
                             ("mta3", True, "mta3.e2e.test/journal", 2), r)
            self.assertGreaterEqual(r["last_seq"], last)
            self.assertEqual(r["locked"], r["segments"])
            self.assertGreater(r["segments"], 1)
            self.assertEqual(r["local"], "same")

            # A new version of a shipped object that still verifies (its unsigned manifest's
            # holds changed, re-sealed): the journal's ship entry recorded other bytes.
            ship = [e for e in env.tool.every_entry() if e["kind"] == "ship"][0]
            mine = os.path.join(self.work, "mta3-first.seg")
            env.tool.ok("segment", "write", "--range", "%d-%d" % (ship["first"], ship["last"]), "-o", mine)
            self.assertEqual(hashlib.sha256(read(mine)).hexdigest(), ship["sha256"])
            parts = list(members(mine))
            manifest = json.loads(parts[0][1])
            manifest["holds"] = ["case-invented"]
            parts[0] = ("manifest.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
            forged = os.path.join(self.work, "mta3-forged.seg")
            with open(forged, "wb") as f:
                f.write(pack(parts))
            self.tool("segment", "verify", "--vkey", vkey, forged, check=0)   # it verifies
            self.boto3([{"op": "put", "bucket": "shipped", "key": ship["object"], "file": forged,
                         "until": self.until_of(forged)}])
            p = subprocess.run([harness.MAILJOURNAL, "--socket", env.daemon.admin_sock, "verify", "--bucket",
                                "-c", self.write_config("shipped.conf", "shipped"), "--vkey", vkey,
                                "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
            self.assertEqual(p.returncode, EX_DATAERR, p.stdout + p.stderr)
            r = json.loads(p.stdout)
            self.assertIn("%s: its bytes are not those ship entry %d recorded" % (ship["object"], ship["seq"]),
                          r["local"])

    # -- search and export

    def local_search(self, mta, query):
        env = self.mtas[mta]
        out = env.tool.ok("search", query, "--format", "json", "--limit", "1000", *self.key_args())
        return {(mta, h["seq"]) for h in env.tool.parse_jsonl(out)}

    def bucket_search(self, *args, config=None, rc=0):
        p = self.tool("search", "--bucket", "-c", config or self.config, *self.vkey_args(), *self.key_args(),
                      "--format", "json", "--limit", "1000", *args, check=rc)
        return p, [json.loads(line) for line in p.stdout.splitlines()]

    def test_search_across_prefixes_is_the_local_searches(self):
        for query in ("transfer", '"wire transfer"', "wire -fraud", "from:sender1@mta1.example.org",
                      "subject:report OR holiday", "transfer status:unreviewed -flag:*", "nothingmatchesthis"):
            before = len(self.records())
            _, hits = self.bucket_search(query)
            got = {(h["prefix"], h["seq"]) for h in hits}
            self.assertEqual(got, self.local_search("mta1", query) | self.local_search("mta2", query), query)
            self.assertTrue(all(h["confirmed"] for h in hits))
            records = self.records()
            self.assertEqual(len(records), before + 1, query)
        self.assertTrue(got == set())   # the last query finds nothing, and is still recorded
        # a query found in both MTAs; the term sets of the segments narrow what is opened,
        # --open-all opens every message: the same hits
        p, hits = self.bucket_search("transfer")
        self.assertEqual({h["prefix"] for h in hits}, {"mta1", "mta2"})
        opened, total = map(int, re.search(rb"; (\d+) of (\d+) messages opened \((\d+) index keys",
                                           p.stderr).groups()[:2])
        self.assertEqual(total, len(self.messages["mta1"]) + len(self.messages["mta2"]))
        self.assertEqual(opened, len(hits))   # single-word term sets are exact: no false candidate
        self.assertLess(opened, total)
        p, all_hits = self.bucket_search("transfer", "--open-all")
        self.assertEqual([(h["prefix"], h["seq"]) for h in all_hits], [(h["prefix"], h["seq"]) for h in hits])
        self.assertIn(b"%d of %d messages opened (--open-all)" % (total, total), p.stderr)
        # --prefix narrows it
        _, hits = self.bucket_search("transfer", "--prefix", "mta2")
        self.assertEqual({h["prefix"] for h in hits}, {"mta2"})
        # supervision terms are decided from the verified entries: no message here is flagged,
        # so none is opened, even with --open-all
        for extra in ((), ("--open-all",)):
            p, hits = self.bucket_search("flag:* OR (transfer status:closed)", *extra)
            self.assertEqual(hits, [])
            self.assertIn(b"; 0 of %d messages opened" % total, p.stderr)

    def test_every_search_and_export_writes_an_access_record_first(self):
        _, hits = self.bucket_search("wire")
        rec = max(self.records(), key=lambda r: r["key"])
        self.assertEqual(rec["mode"], "COMPLIANCE")
        self.assertTrue(rec["key"].startswith("audit/"))
        r = rec["record"]
        self.assertEqual((r["operation"], r["user"]), ("search", "root"))
        # the query is sealed to the officers' keys as the daemon seals a local one: words
        # searched for are often words of mail, and the bucket is readable by more people
        self.assertNotIn("query", r["arguments"])
        self.assertNotIn("wire", json.dumps(r))
        self.assertEqual(harness.open_sealed(base64.b64decode(r["arguments"]["query_sealed"])), b"wire")
        self.assertTrue(r["arguments"]["query_recipients"])
        self.assertEqual(sorted(r["objects"]), sorted(self.objects["mta1"] + self.objects["mta2"]))
        for field in ("time", "host", "pid"):
            self.assertIn(field, r)
        out = os.path.join(self.work, "recorded.mbox")
        self.tool("export", "--bucket", "-c", self.config, *self.vkey_args(), *self.key_args(), "--format",
                  "mbox", "-o", out, *["mta2:%d" % s for s in self.messages["mta2"]], check=0)
        rec = max(self.records(), key=lambda r: r["key"])["record"]
        self.assertEqual(rec["operation"], "export")
        self.assertEqual(rec["objects"], self.objects["mta2"])
        self.assertEqual(rec["arguments"]["messages"], ["mta2:%d" % s for s in self.messages["mta2"]])

    def test_export_across_prefixes_is_the_local_exports(self):
        seqs = self.messages
        # mbox of one prefix's messages: the same bytes as the journal's own export
        for mta in ORIGINS:
            local = os.path.join(self.work, "local-%s.mbox" % mta)
            self.mtas[mta].tool.ok("export", "--format", "mbox", "-o", local, *map(str, seqs[mta]))
            remote = os.path.join(self.work, "bucket-%s.mbox" % mta)
            self.tool("export", "--bucket", "-c", self.config, *self.vkey_args(), *self.key_args(),
                      "--format", "mbox", "-o", remote, *["%s:%d" % (mta, s) for s in seqs[mta]], check=0)
            self.assertEqual(read(remote), read(local))
        # eml files from both prefixes: DIR/PREFIX/SEQ.eml, each the journal's eml of it
        d = os.path.join(self.work, "eml-both")
        os.mkdir(d)
        # mta2's messages as ranges: a checkpoint the daemon journals while idle may fall between
        # two of them, and a range over a checkpoint entry is refused (mailjournal(8), export)
        self.tool("export", "--bucket", "-c", self.config, *self.vkey_args(), *self.key_args(), "-o", d,
                  "mta1:%d" % seqs["mta1"][0], *["mta2:" + r for r in ranges(seqs["mta2"])], check=0)
        self.assertEqual(sorted(os.listdir(d)), ["mta1", "mta2"])
        for mta, wanted in (("mta1", seqs["mta1"][:1]), ("mta2", seqs["mta2"])):
            self.assertEqual(sorted(os.listdir(os.path.join(d, mta))), sorted("%d.eml" % s for s in wanted))
            for s in wanted:
                self.assertEqual(read(os.path.join(d, mta, "%d.eml" % s)),
                                 self.mtas[mta].tool.ok("export", str(s)))
        # the results of a search, exported: the messages the local searches find
        found = os.path.join(self.work, "found")
        os.mkdir(found)
        self.tool("export", "--bucket", "-c", self.config, *self.vkey_args(), *self.key_args(), "-o", found,
                  "--search", '"wire transfer"', check=0)
        expected = self.local_search("mta1", '"wire transfer"') | self.local_search("mta2", '"wire transfer"')
        got = {(mta, int(f[:-4])) for mta in os.listdir(found) for f in os.listdir(os.path.join(found, mta))}
        self.assertEqual(got, expected)
        for mta, s in got:
            self.assertEqual(read(os.path.join(found, mta, "%d.eml" % s)), self.mtas[mta].tool.ok("export", str(s)))

    def test_nothing_is_read_when_the_access_record_cannot_be_written(self):
        self.boto3([{"op": "create", "bucket": "noaudit"}])
        config = self.write_config("noaudit.conf", "noaudit")
        self.upload("noaudit", "mta1")
        self.boto3([{"op": "policy", "bucket": "noaudit", "policy": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                           "Resource": "arn:aws:s3:::noaudit/audit/*"}]}}])
        self.verify_bucket(config, rc=0)   # reading is allowed
        p, hits = self.bucket_search("transfer", config=config, rc=77)
        self.assertEqual(p.stdout, b"")
        self.assertIn(b"access record", p.stderr)
        out = os.path.join(self.work, "noaudit.mbox")
        p = self.tool("export", "--bucket", "-c", config, *self.vkey_args(), *self.key_args(), "--format", "mbox",
                      "-o", out, "mta1:%d" % self.messages["mta1"][0], check=77)
        self.assertFalse(os.path.exists(out))
        self.assertEqual(p.stdout, b"")
        self.assertEqual(self.records("noaudit"), [])
        # the gateway stopped: nothing either (the bucket cannot be read, nor the record written)
        self.rgw.stop_gateway()
        try:
            p = self.tool("export", "--bucket", "-c", self.config, *self.vkey_args(), *self.key_args(),
                          "--format", "mbox", "-o", out, "mta1:%d" % self.messages["mta1"][0], check=69)
            self.assertFalse(os.path.exists(out))
            p, _ = self.bucket_search("transfer", rc=69)
            self.assertEqual(p.stdout, b"")
        finally:
            self.rgw.start_gateway()


if __name__ == "__main__":
    harness.main()
