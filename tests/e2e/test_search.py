#!/usr/bin/env python3
"""Search end to end (issue 8): the 49 messages of search_corpus/ sent through a real Postfix,
indexed at capture, and searched with `mailjournal search` by root and by two real unix users.

The site: departments sales (@sales.example.com) and research (@research.example.com), each
sealed to its own key pair (mailjournal keygen), default to the harness's e2e key; two roles,
one granting search and read on sales only to the sales officers' group, one the same on
research to the research officers' group.  The admin socket (mode 0660) is in a set-group-ID
directory of the socket group, as in test_access.py.  The corpus is sent once (setUpClass) and
every test queries it; the tests run in the order of their names, the disk scan last:

  test_1  every "find" query of cases.json returns its message, every "miss" query does not
          (all failures collected and listed together; "find_best_effort" only reported);
          without keys no true hit is lost (single-token queries exact, others candidates)
  test_2  a user entitled to one department never gets a hit of the other; naming the other
          department is refused (77); every search is an access entry of that user
  test_3  --since/--until and --limit/--offset (newest first, no duplicates, no gaps), with
          and without keys (paged by the tool and by the daemon)
  test_4  every message, malformed ones included, is journaled byte for byte, and the markers
          of the malformed ones are found
  test_5  mailjournal reindex: a new index key, the old one dropped, sales still found, the
          tokens not in the audit trail
  test_6  no marker (Latin and CJK; UTF-8, UTF-16-LE and the message's own charsets) in any file
          under the journal directory, nor in any record of its LevelDB databases, after
          indexing and after searching for every marker

Root searches with the departments' keys decrypted once into plain PEM files (the tool would
otherwise spend 600,000 PBKDF2 iterations per key on each of ~600 searches); the users, the
reindex and test_4's exports use the encrypted keys with their passphrase file.

Run: python3 tests/e2e/test_search.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import collections
import concurrent.futures
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "search_corpus"))
import harness   # noqa: E402
import check_corpus   # noqa: E402  (its tokenizer and query parser model the daemon's)

CORPUS_DIR = os.path.join(HERE, "search_corpus")
with open(os.path.join(CORPUS_DIR, "cases.json"), encoding="utf-8") as _f:
    CASES = json.load(_f)
BY_FILE = {c["file"]: c for c in CASES}
# Postfix 3.7 passes every file unchanged but this one: it ends the header block at the line
# without a colon and inserts an empty line before it (search_corpus/README.md).
CHANGED_BY_POSTFIX = {"37-malformed-header-no-colon.eml"}
MALFORMED = check_corpus.FEATURES["malformed_mime"]
DEPARTMENTS = ("sales", "research")
WORKERS = 4   # concurrent tool processes (the daemon serves one thread per connection)

POLICY = """\
version: 1
retention: {r7: 7y}
departments:
  - name: sales
    members: ["@sales.example.com"]
    retention: r7
    keys: [keys/sales.crt]
  - name: research
    members: ["@research.example.com"]
    retention: r7
    keys: [keys/research.crt]
  - name: default
    retention: r7
    keys: [%(e2e)s]
access:
  - role: sales-officers
    groups: [%(sales)s]
    departments: [sales]
    operations: [search, read]
  - role: research-officers
    groups: [%(research)s]
    departments: [research]
    operations: [search, read]
"""

PASSPHRASE = "search officers' passphrase\n"


def read(path):
    with open(path, "rb") as f:
        return f.read()


def refusal(user, what):
    return "mailjournal: user %s (uid %d) may not %s: no access role of the policy grants it\n" % (
        user.pw_name, user.pw_uid, what)


def in_ranges(seq, ranges):
    return any(a <= seq <= b for a, b in ranges)


def range_seqs(ranges):
    return {s for a, b in ranges for s in range(a, b + 1)}


def index_key_file(path):
    """The keys of an index key file (mailjournal/index_keys.h): [(secret hex, id)], current
    first; the id is the first 64 bits of HMAC-SHA-256(secret, "mailjournal index key id")."""
    lines = read(path).decode("ascii").splitlines()
    if not lines or lines[0] != "mailjournal-index-keys 1":
        raise AssertionError("%s: bad header %r" % (path, lines[:1]))
    out = []
    for line in lines[1:]:
        if not re.fullmatch(r"[0-9a-f]{64}", line):
            raise AssertionError("%s: bad key line %r" % (path, line))
        mac = hmac.new(bytes.fromhex(line), b"mailjournal index key id", hashlib.sha256).digest()
        out.append((line, int.from_bytes(mac[:8], "big")))
    return out


def query_shape(query):
    """("one", tokens) for a query that is a single term of exactly one token, ("many", tokens)
    for a single term of several, None otherwise or when the Python tokenizer might disagree
    with ICU's (only letters, CJK and spaces are trusted: no digits, no punctuation)."""
    try:
        node = check_corpus.parse_query(query)
    except check_corpus.QueryError:
        return None
    if node[0] != "terms":
        return None
    text = query.split(":", 1)[1] if node[1] else query
    text = text.strip('"')
    if not text or not all(ch.isalpha() or ch == " " for ch in text):
        return None
    return ("one" if len(node[2]) == 1 else "many", node[2])


def declared_charsets(data):
    """Charset labels a message declares: Content-Type parameters, RFC 2047 encoded words and
    RFC 2231 parameter values."""
    labels = set()
    for pat in (rb'charset\s*=\s*"?([A-Za-z0-9_.:-]+)', rb"=\?([A-Za-z0-9_-]+)(?:\*[A-Za-z-]*)?\?[BbQq]\?",
                rb"\*=\s*\"?([A-Za-z0-9_-]+)'[A-Za-z-]*'"):
        labels.update(m.group(1).decode("ascii").lower() for m in re.finditer(pat, data))
    return labels


EXTRA_CJK_ENCODINGS = ("gb18030", "gbk", "big5", "iso2022_jp", "euc_kr", "utf-16-be")


def marker_needles():
    """{bytes: [(case file, marker, encoding)]}: every marker in UTF-8 and UTF-16-LE, in each
    charset its message declares, and (CJK markers) in the East Asian encodings too."""
    needles = collections.defaultdict(list)
    for c in CASES:
        data = read(os.path.join(CORPUS_DIR, c["file"]))
        encodings = ["utf-8", "utf-16-le"] + sorted(declared_charsets(data))
        for m in c["markers"]:
            encs = encodings + ([] if m.isascii() else list(EXTRA_CJK_ENCODINGS))
            for enc in encs:
                try:
                    b = m.encode(enc)
                except (LookupError, UnicodeEncodeError):
                    continue
                if (c["file"], m, enc) not in needles[b]:
                    needles[b].append((c["file"], m, enc))
    return dict(needles)


LEVELDB_DUMP = r"""
import json, os, sys, plyvel
needles = [bytes.fromhex(h) for h in json.load(sys.stdin)]
found = []
for d in sys.argv[1:]:
    db = plyvel.DB(d)
    n = 0
    for k, v in db:
        n += 1
        for i, needle in enumerate(needles):
            if needle in k or needle in v:
                found.append([d, k[:48].hex(), i])
    db.close()
    found.append([d, None, n])
print(json.dumps(found))
"""


class SearchTest(harness.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        t0 = time.monotonic()
        cls.accounts = harness.UnixAccounts()
        cls.addClassCleanup(cls.accounts.close)
        cls.socket_group = cls.accounts.group("mjsock")
        cls.user = {}
        groups = {}
        for d in DEPARTMENTS:
            groups[d] = cls.accounts.group("mj" + d[:3])
            cls.user[d] = cls.accounts.user("mj" + d[:3], cls.socket_group.gr_name, [groups[d].gr_name])
        p = harness.run(["runuser", "-u", cls.user["sales"].pw_name, "--", harness.MAILJOURNAL, "--version"],
                        check=False)
        if p.returncode != 0:
            raise harness.HarnessError("user cannot run %s (build directory readable by all?): %s" % (
                harness.MAILJOURNAL, p.stderr.decode(errors="replace")))

        cls.env = harness.E2E(start_daemon=False)
        cls.env.__enter__()
        cls.addClassCleanup(cls.env.close)
        env = cls.env

        # The departments' key pairs (one passphrase), and plain copies for root's many searches.
        keydir = os.path.join(env.base, "keys")
        os.mkdir(keydir, 0o700)
        passfile = os.path.join(keydir, "pass")
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(PASSPHRASE)
        cls.keys, cls.plain_keys = {}, {}
        for d in DEPARTMENTS:
            kp = harness.department_keys(os.path.join(keydir, d), d, passfile)
            cls.keys[d] = kp
            plain = os.path.join(keydir, d, d + ".plain.key")
            harness.run(["openssl", "pkey", "-in", kp.key, "-passin", "file:" + passfile, "-out", plain])
            os.chmod(plain, 0o600)
            cls.plain_keys[d] = kp._replace(key=plain)
        cls.both = [cls.plain_keys[d] for d in DEPARTMENTS]
        # Each officer holds their department's (encrypted) key in a directory of their own.
        cls.user_keys = {}
        for d in DEPARTMENTS:
            u = cls.user[d]
            home = os.path.join(env.base, "home-" + d)
            os.mkdir(home, 0o700)
            for src in (cls.keys[d].key, passfile):
                dst = os.path.join(home, os.path.basename(src))
                shutil.copyfile(src, dst)
                os.chmod(dst, 0o600)
                os.chown(dst, u.pw_uid, u.pw_gid)
            os.chown(home, u.pw_uid, u.pw_gid)
            cls.user_keys[d] = cls.keys[d]._replace(key=os.path.join(home, d + ".key"),
                                                    passphrase_file=os.path.join(home, "pass"))

        env.write_policy(POLICY % {"e2e": harness.E2E_CERT, "sales": groups["sales"].gr_name,
                                   "research": groups["research"].gr_name},
                         {"keys/%s.crt" % d: cls.keys[d].cert_pem for d in DEPARTMENTS})
        env.restrict_sockets(cls.socket_group)
        env.daemon.start()
        t_setup = time.monotonic()

        # The corpus, on one SMTP connection, in the order of cases.json.
        cls.sent_bytes, results, refused = {}, {}, []
        smtp = env.connect()
        try:
            smtp.ehlo("client.test.invalid")
            for c in CASES:
                data = read(os.path.join(CORPUS_DIR, c["file"]))
                cls.sent_bytes[c["file"]] = data
                opts = ["BODY=8BITMIME"] if any(b > 0x7f for b in data) else []
                r = env.send(data, mail_from=c["mail_from"], rcpts=c["rcpts"], mail_options=opts, smtp=smtp)
                results[c["file"]] = r
                if not r.accepted:
                    refused.append((c["file"], r))
        finally:
            harness.quit_smtp(smtp)
        if refused:
            raise harness.HarnessError("not accepted: %r\n%s" % (refused, env.diagnostics()))
        deliveries = {d.queue_id: d for d in env.wait_delivered(len(CASES))}
        entries = {e["queue_id"]: e for e in env.entries()}
        cls.entry, cls.seq, cls.delivered = {}, {}, {}
        for c in CASES:
            qid = results[c["file"]].queue_id
            cls.entry[c["file"]] = entries[qid]
            cls.seq[c["file"]] = entries[qid]["seq"]
            cls.delivered[c["file"]] = deliveries[qid].content
        cls.file_of = {s: f for f, s in cls.seq.items()}
        cls.dept_seqs = {d: {cls.seq[c["file"]] for c in CASES if d in c["departments"]} for d in DEPARTMENTS}
        # What is on disk right after indexing, before any search (test_6 asserts it).
        cls.scan_after_indexing = cls.scan_journal()
        sys.stderr.write("\nsetup: accounts, keys, daemon %.1fs; 49 messages sent and delivered %.1fs\n" % (
            t_setup - t0, time.monotonic() - t_setup))

    # ------------------------------------------------------------------ helpers
    def search(self, query, *args, keys=None, as_user=None):
        """Root's search with both departments' keys (keys=[] for none); hits (dicts) or
        raise on a non-zero exit."""
        limit = () if "--limit" in args else ("--limit", "1000")
        p = self.env.tool.search(query, *limit, *args, keys=self.both if keys is None else keys,
                                 as_user=as_user)
        if p.returncode != 0:
            raise harness.HarnessError("search %r %r -> exit %d: %s" % (
                query, args, p.returncode, p.stderr.decode(errors="replace")))
        return p.hits

    def run_many(self, jobs):
        """jobs: [(key, callable)]; returns {key: result or the exception}, run concurrently."""
        out = {}
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            futures = {pool.submit(fn): key for key, fn in jobs}
            for fut in concurrent.futures.as_completed(futures):
                try:
                    out[futures[fut]] = fut.result()
                except Exception as exc:   # collected and reported with the rest
                    out[futures[fut]] = exc
        return out

    def audit(self, *args):
        return self.env.tool.parse_jsonl(self.env.tool.ok("audit", "--format", "json", *args))

    def describe_hits(self, hits):
        return ["%d(%s%s)" % (h["seq"], self.file_of.get(h["seq"], "?")[:2], "" if h["confirmed"] else ",unconfirmed")
                for h in hits]

    @classmethod
    def scan_journal(cls):
        """Every marker needle found in a file under the journal directory or in a record of
        one of its LevelDB databases (read from a copy, so compressed blocks are searched
        decompressed): a list of descriptions.  A control needle, an envelope sender (plain
        in its message entry), must be found in the records, else that is listed too."""
        needles = marker_needles()
        control = CASES[0]["mail_from"].encode()
        needles[control] = [("control", CASES[0]["mail_from"], "plain")]
        control_seen = False
        found = []
        journal = cls.env.journal_dir
        files = 0
        for root, _, names in os.walk(journal):
            for name in names:
                path = os.path.join(root, name)
                try:
                    data = read(path)
                except FileNotFoundError:   # a LevelDB file replaced meanwhile
                    continue
                files += 1
                for needle, what in needles.items():
                    pos = data.find(needle)
                    if pos >= 0 and needle != control:
                        found.append("%s at offset %d of %s: %r" % (
                            " / ".join("%s %r in %s" % (f, m, e) for f, m, e in what), pos,
                            os.path.relpath(path, journal), data[max(0, pos - 80):pos + len(needle) + 80]))
        if files == 0:
            found.append("no file under %s" % journal)
        copy = tempfile.mkdtemp(prefix="mj-search-scan-", dir=cls.env.base)
        try:
            order = list(needles)
            dbs, p = [], None
            for attempt in range(3):   # a background compaction may remove a file mid-copy
                shutil.rmtree(os.path.join(copy, "j"), ignore_errors=True)
                try:
                    shutil.copytree(journal, os.path.join(copy, "j"), ignore=shutil.ignore_patterns("LOCK"))
                except shutil.Error:
                    continue
                dbs = sorted(r for r, _, names in os.walk(os.path.join(copy, "j")) if "CURRENT" in names)
                p = subprocess.run([harness.plyvel_python(), "-c", LEVELDB_DUMP] + dbs,
                                   input=json.dumps([n.hex() for n in order]).encode(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
                if p.returncode == 0:
                    break
            if not dbs:
                found.append("no LevelDB database under %s" % journal)
            if p is None or p.returncode != 0:
                found.append("LevelDB dump failed: %s" % (
                    "the journal could not be copied" if p is None else p.stderr.decode(errors="replace")[-2000:]))
            else:
                for db, key, i in json.loads(p.stdout):
                    rel = os.path.relpath(db, os.path.join(copy, "j"))
                    if key is None:
                        if i == 0:
                            found.append("LevelDB %s: no record read" % rel)
                        continue
                    if order[i] == control:
                        control_seen = True
                        continue
                    found.append("%s in the LevelDB record with key %s... of %s" % (
                        " / ".join("%s %r in %s" % w for w in needles[order[i]]), key, rel))
        finally:
            shutil.rmtree(copy, ignore_errors=True)
        if not control_seen:
            found.append("the control %r is in no LevelDB record: the scan does not read the journal" % control)
        return found

    # ------------------------------------------------------------------ 1. the corpus
    def test_1_corpus_queries(self):
        failures = []
        for c in CASES:
            e = self.entry[c["file"]]
            if e["departments"] != c["departments"]:
                failures.append("(%s, -, departments %r): entry %d has %r" % (
                    c["file"], c["departments"], e["seq"], e["departments"]))
            want = sorted(self.keys[d].fingerprint for d in c["departments"])
            if sorted(e["seal"]["recipients"]) != want:
                failures.append("(%s, -, sealed to %r): %r" % (c["file"], want, e["seal"]["recipients"]))

        t0 = time.monotonic()
        jobs = []
        for c in CASES:
            for kind in ("find", "miss", "find_best_effort"):
                for q in c.get(kind, []):
                    jobs.append(((c["file"], kind, q), lambda q=q: self.search(q)))
        got = self.run_many(jobs)
        best_effort = []
        for (f, kind, q), hits in sorted(got.items()):
            seq = self.seq[f]
            if isinstance(hits, Exception):
                failures.append("(%s, %r, %s): %s" % (f, q, kind, hits))
                continue
            mine = [h for h in hits if h["seq"] == seq]
            strays = [h["seq"] for h in hits if h["seq"] not in self.file_of]
            if strays:
                failures.append("(%s, %r, %s): hits that are no corpus message: %r" % (f, q, kind, strays))
            if kind == "miss":
                if mine:
                    failures.append("(%s, %r, miss): returned seq %d; hits %s" % (f, q, seq, self.describe_hits(hits)))
            elif kind == "find":
                if not mine:
                    failures.append("(%s, %r, find): seq %d not returned; hits %s" % (
                        f, q, seq, self.describe_hits(hits)))
                elif not mine[0]["confirmed"]:
                    failures.append("(%s, %r, find): seq %d returned unconfirmed" % (f, q, seq))
            else:
                best_effort.append("%s %r: %s" % (f, q, "found" if mine and mine[0]["confirmed"] else
                                                  "NOT found (hits %s)" % self.describe_hits(hits)))
        n_keyed = len(jobs)
        t_keyed = time.monotonic() - t0

        # Without keys: the daemon's candidates.  A single-token term's postings are exact;
        # a multi-token term (phrase, CJK bigrams) is a candidate the tool would confirm.
        jobs = []
        for c in CASES:
            for q in c["find"]:
                shape = query_shape(q)
                if shape is not None:
                    jobs.append(((c["file"], q, shape[0]), lambda q=q: self.search(q, keys=[])))
        got = self.run_many(jobs)
        counts = collections.Counter()
        for (f, q, shape), hits in sorted(got.items()):
            counts[shape] += 1
            seq = self.seq[f]
            if isinstance(hits, Exception):
                failures.append("(%s, %r, find without keys): %s" % (f, q, hits))
                continue
            mine = [h for h in hits if h["seq"] == seq]
            if not mine:
                failures.append("(%s, %r, find without keys): seq %d not among the candidates %s" % (
                    f, q, seq, self.describe_hits(hits)))
            elif mine[0]["confirmed"] != (shape == "one"):
                failures.append("(%s, %r, find without keys, %s token(s)): confirmed=%s" % (
                    f, q, shape, mine[0]["confirmed"]))
            for h in hits:
                if "subject" in h or "snippet" in h:
                    failures.append("(%s, %r, without keys): hit %d has a subject or snippet" % (f, q, h["seq"]))
                    break
        sys.stderr.write("\n%d keyed queries in %.1fs; %d without keys (%d single-token, %d multi-token)\n" % (
            n_keyed, t_keyed, len(jobs), counts["one"], counts["many"]))
        sys.stderr.write("find_best_effort (reported, not asserted):\n%s\n" % "".join(
            "  %s\n" % b for b in best_effort))
        if failures:
            sys.stderr.write("corpus failures (%d):\n%s" % (len(failures), "".join("  %s\n" % x for x in failures)))
        self.assertEqual(failures, [], "%d corpus failures:\n%s" % (len(failures), "\n".join(failures)))

    # ------------------------------------------------------------------ 2. access
    def test_2_each_officer_gets_only_their_departments_hits(self):
        shared = [c for c in CASES if set(c["departments"]) == set(DEPARTMENTS)]
        only = {d: [c for c in CASES if c["departments"] == [d]] for d in DEPARTMENTS}
        for d in DEPARTMENTS:
            other = [o for o in DEPARTMENTS if o != d][0]
            user = self.user[d]
            before = self.env.tool.last_seq()
            # Terms in both departments' mail, and markers of each kind of message.
            queries = ["to:example", "example", "NOT nosuchwordanywhere", "稳赚不赔", "from:example OR 保本",
                       only[other][0]["markers"][0], only[other][1]["markers"][-1], only[d][0]["markers"][0],
                       shared[0]["markers"][0]]
            for keyed in (True, False):
                keys = [self.user_keys[d]] if keyed else []
                for q in queries:
                    with self.subTest(user=d, query=q, keys=keyed):
                        p = self.env.tool.search(q, "--limit", "1000", keys=keys, as_user=user.pw_name)
                        self.assertEqual(p.returncode, 0, p.stderr)
                        seqs = {h["seq"] for h in p.hits}
                        self.assertLessEqual(seqs, self.dept_seqs[d], self.describe_hits(p.hits))
                        for h in p.hits:
                            self.assertIn(d, h["departments"], h)
                        if q in ("to:example", "NOT nosuchwordanywhere"):
                            self.assertEqual(seqs, self.dept_seqs[d])   # all of theirs
                        if keyed:
                            self.assertTrue(all(h["confirmed"] for h in p.hits), p.hits)
                        if q in (only[d][0]["markers"][0], shared[0]["markers"][0]):
                            c = only[d][0] if q == only[d][0]["markers"][0] else shared[0]
                            self.assertEqual(seqs, {self.seq[c["file"]]})
            # Naming the other department is refused; naming their own is allowed.
            p = self.env.tool.search("example", "--department", other, keys=[self.user_keys[d]],
                                     as_user=user.pw_name)
            self.assertEqual(p.returncode, 77, p.stderr)
            self.assertEqual(p.stdout, b"")
            self.assertEqual(p.stderr.decode(), refusal(user, "search department " + other))
            p = self.env.tool.search("example", "--department", other, "--department", d, keys=[],
                                     as_user=user.pw_name)
            self.assertEqual(p.returncode, 77, p.stderr)
            p = self.env.tool.search("to:example", "--department", d, "--limit", "1000", keys=[],
                                     as_user=user.pw_name)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual({h["seq"] for h in p.hits}, self.dept_seqs[d])
            # The audit trail: every search of theirs, allowed ones returning only their mail.
            trail = [e for e in self.audit("--user", user.pw_name) if e["seq"] > before]
            searches = [e for e in trail if e["operation"] == "search"]
            self.assertGreaterEqual(len(searches), 2 * len(queries) + 3, trail)
            for e in trail:
                self.assertEqual(e["by"], {"uid": user.pw_uid, "user": user.pw_name}, e)
                self.assertIn(e["operation"], ("search", "show", "export"), e)
                if e["allowed"]:
                    self.assertLessEqual(range_seqs(e["seqs"]), self.dept_seqs[d], e)
            refused = [e for e in searches if not e["allowed"]]
            self.assertEqual(len(refused), 2, searches)
            for e in refused:
                self.assertEqual(e["seqs"], [], e)
                self.assertEqual(e["outcome"], refusal(user, "search department " + other)[len("mailjournal: "):-1])
            self.assertTrue(any(range_seqs(e["seqs"]) == self.dept_seqs[d] for e in searches if e["allowed"]))
            # The query is sealed in the entry (to the searched department's key), never plain;
            # root opens it with that key.
            for e in searches:
                self.assertNotIn("query", e["arguments"], e)
                self.assertIn("query_sealed", e["arguments"], e)
                if e["allowed"]:
                    self.assertEqual(e["arguments"]["query_recipients"], [self.keys[d].fingerprint], e)
            opened = self.env.tool.parse_jsonl(self.env.tool.ok(
                "audit", "--format", "json", "--user", user.pw_name, "--operation", "search",
                "--key", self.plain_keys[d].key))
            self.assertLessEqual(set(queries), {e["arguments"].get("query") for e in opened if e["seq"] > before})

    # ------------------------------------------------------------------ 3. dates and paging
    def test_3_date_limits_and_paging(self):
        by_time = sorted(self.seq.values())   # commit order is seq order
        times = {s: self.entry[self.file_of[s]]["time"] for s in by_time}
        self.assertEqual([harness.parse_iso(times[s]) for s in by_time],
                         sorted(harness.parse_iso(times[s]) for s in by_time))
        newest_first = sorted(by_time, reverse=True)
        # "to:example" is a single token in every message's recipients: exact, no opening.
        everything = [h["seq"] for h in self.search("to:example", keys=[])]
        self.assertEqual(everything, newest_first)

        def window(since=None, until=None):
            lo = harness.parse_iso(since) if since else None
            hi = harness.parse_iso(until) if until else None
            return [s for s in newest_first
                    if (lo is None or harness.parse_iso(times[s]) >= lo) and (hi is None or harness.parse_iso(times[s]) < hi)]

        since, until = times[by_time[10]], times[by_time[30]]
        for args, want in ((("--since", since), window(since=since)),
                           (("--until", until), window(until=until)),
                           (("--since", since, "--until", until), window(since, until))):
            self.assertTrue(0 < len(want) < len(by_time), (args, want))
            for keys in ([], None):
                with self.subTest(args=args, keys=keys is None):
                    got = [h["seq"] for h in self.search("to:example", *args, keys=keys)]
                    self.assertEqual(got, want)
        self.assertEqual(window(since, until), by_time[10:30][::-1])
        # A marker of a message outside the window is not found inside it.
        first = CASES[0]
        self.assertEqual(self.search(first["markers"][0], "--since", since), [])
        self.assertEqual([h["seq"] for h in self.search(first["markers"][0], "--until", since)], [self.seq[first["file"]]])

        # Paging: by the daemon (no keys) and by the tool (keys: it confirms, then skips).
        for query, keys, size in (("to:example", [], 7), ("to:sales", None, 8)):
            with self.subTest(query=query, keys=keys is None):
                full = [h["seq"] for h in self.search(query, keys=keys)]
                self.assertEqual(full, sorted(full, reverse=True))
                self.assertLessEqual(self.dept_seqs["sales"], set(full))
                pages, offset = [], 0
                while True:
                    page = [h["seq"] for h in self.search(query, "--limit", str(size), "--offset", str(offset),
                                                          keys=keys)]
                    self.assertLessEqual(len(page), size)
                    if not page:
                        break
                    pages.append(page)
                    offset += size
                    self.assertLess(len(pages), 20)
                self.assertTrue(all(len(p) == size for p in pages[:-1]), pages)
                self.assertEqual([s for p in pages for s in p], full)

    # ------------------------------------------------------------------ 4. byte for byte
    def test_4_every_message_journaled_byte_for_byte_and_malformed_markers_found(self):
        failures = []
        key_args = []
        for d in DEPARTMENTS:
            key_args += ["--key", self.keys[d].key]
        key_args += ["--passphrase-file", self.keys["sales"].passphrase_file]
        for c in CASES:
            f = c["file"]
            sent, delivered = self.sent_bytes[f], self.delivered[f]
            wire = sent if sent.endswith(b"\r\n") else sent + b"\r\n"
            if f in CHANGED_BY_POSTFIX:
                i = next(k for k in range(min(len(wire), len(delivered))) if wire[k] != delivered[k])
                if not (delivered[i:i + 2] == b"\r\n" and delivered[i + 2:] == wire[i:]):
                    failures.append("%s: Postfix changed it otherwise than by an empty line: %s" % (
                        f, harness.bytes_diff(wire, delivered)))
            elif delivered != wire:
                failures.append("%s: delivered copy differs from the file: %s" % (f, harness.bytes_diff(wire, delivered)))
        exports = self.run_many([(c["file"], lambda f=c["file"]: self.env.tool.ok(
            "export", str(self.seq[f]), *key_args)) for c in CASES if c["file"] in MALFORMED] +
            [(c["file"], lambda f=c["file"], k=self.plain_keys[c["departments"][0]].key: self.env.tool.ok(
                "export", str(self.seq[f]), "--key", k))
             for c in CASES if c["file"] not in MALFORMED])
        for f, exported in sorted(exports.items()):
            if isinstance(exported, Exception):
                failures.append("%s: export failed: %s" % (f, exported))
            elif exported != self.delivered[f]:
                failures.append("%s: journal copy differs from the delivered copy: %s" % (
                    f, harness.bytes_diff(self.delivered[f], exported)))
            else:
                problem = harness.content_mismatch(self.entry[f], exported)
                if problem:
                    failures.append("%s: %s" % (f, problem))
        # The markers of the malformed messages (those a charset guess or salvage must find
        # are only reported, as in test_1).
        jobs = []
        for f in MALFORMED:
            c = BY_FILE[f]
            for m in c["markers"]:
                jobs.append(((f, m), lambda m=m: self.search(m)))
        for (f, m), hits in sorted(self.run_many(jobs).items()):
            best_effort = m in BY_FILE[f].get("find_best_effort", [])
            ok = not isinstance(hits, Exception) and any(h["seq"] == self.seq[f] and h["confirmed"] for h in hits)
            if best_effort:
                sys.stderr.write("\nbest effort: malformed %s marker %r %s" % (f, m, "found" if ok else "not found"))
            elif not ok:
                failures.append("(%s, %r, find): %s" % (f, m, hits if isinstance(hits, Exception) else
                                                        self.describe_hits(hits)))
        self.assertEqual(failures, [], "\n".join(failures))

    # ------------------------------------------------------------------ 5. reindex
    def test_5_reindex_gives_sales_a_new_index_key(self):
        ikdir = self.env.index_keys_dir
        self.assertFalse(os.path.commonpath([ikdir, self.env.journal_dir]) == self.env.journal_dir)
        self.assertEqual(sorted(os.listdir(ikdir)), ["research.key", "sales.key"])
        before = {d: read(os.path.join(ikdir, d + ".key")) for d in DEPARTMENTS}
        old = index_key_file(os.path.join(ikdir, "sales.key"))
        self.assertEqual(len(old), 1, old)
        last = self.env.tool.last_seq()
        p = self.env.tool.run("reindex", "--department", "sales", "--format", "json",
                              "--key", self.keys["sales"].key, "--passphrase-file", self.keys["sales"].passphrase_file)
        self.assertEqual(p.returncode, 0, p.stderr)
        summary = json.loads(p.stdout)
        self.assertEqual(summary, {"department": "sales", "reindexed": len(self.dept_seqs["sales"]),
                                   "disposed": 0, "dropped_keys": 1})
        after = read(os.path.join(ikdir, "sales.key"))
        self.assertNotEqual(after, before["sales"])
        new = index_key_file(os.path.join(ikdir, "sales.key"))
        self.assertEqual(len(new), 1, new)
        self.assertNotEqual(new[0][1], old[0][1])
        self.assertNotEqual(new[0][0], old[0][0])
        self.assertEqual(read(os.path.join(ikdir, "research.key")), before["research"])
        self.assertEqual(os.stat(os.path.join(ikdir, "sales.key")).st_mode & 0o777, 0o600)

        # The audit trail: begin, adds (department and seqs only), finish, all root's.
        trail = [e for e in self.audit() if e["seq"] > last]
        reindex = [e for e in trail if e["operation"].startswith("reindex_")]
        ops = [e["operation"] for e in reindex]
        self.assertEqual(ops[0], "reindex_begin", ops)
        self.assertEqual(ops[-1], "reindex_finish", ops)
        self.assertTrue(set(ops[1:-1]) == {"reindex_add"}, ops)
        added = []
        for e in reindex:
            self.assertEqual((e["by"]["user"], e["allowed"], e["outcome"]), ("root", True, ""), e)
            if e["operation"] == "reindex_add":
                self.assertEqual(sorted(e["arguments"]), ["department", "seqs"], e)
                self.assertEqual(e["arguments"]["department"], "sales")
                added += e["arguments"]["seqs"]
            else:
                self.assertEqual(e["arguments"], {"department": "sales"}, e)
        self.assertEqual(sorted(added), sorted(self.dept_seqs["sales"]))
        text = json.dumps(trail, ensure_ascii=False)
        for c in CASES:
            for m in c["markers"]:
                self.assertNotIn(m, text, "marker of %s in the reindex's audit entries" % c["file"])

        # Searches still find every sales message (and research's are untouched).
        jobs = []
        for c in CASES:
            qs = c["find"][:3] + c["miss"][:1] if "sales" in c["departments"] else c["find"][:1]
            for q in qs:
                jobs.append(((c["file"], q, "miss" if q in c["miss"] else "find"), lambda q=q: self.search(q)))
        failures = []
        for (f, q, kind), hits in sorted(self.run_many(jobs).items()):
            if isinstance(hits, Exception):
                failures.append("(%s, %r, %s after reindex): %s" % (f, q, kind, hits))
                continue
            found = any(h["seq"] == self.seq[f] and h["confirmed"] for h in hits)
            if found != (kind == "find"):
                failures.append("(%s, %r, %s after reindex): hits %s" % (f, q, kind, self.describe_hits(hits)))
        # Without keys too: the daemon's postings under the new key.
        jobs = [((c["file"], c["markers"][0]), lambda q=c["markers"][0]: self.search(q, keys=[]))
                for c in CASES if "sales" in c["departments"]]
        for (f, q), hits in sorted(self.run_many(jobs).items()):
            if isinstance(hits, Exception) or self.seq[f] not in [h["seq"] for h in hits]:
                failures.append("(%s, %r, find without keys after reindex): %s" % (
                    f, q, hits if isinstance(hits, Exception) else self.describe_hits(hits)))
        self.assertEqual(failures, [], "\n".join(failures))

    # ------------------------------------------------------------------ 6. nothing in clear
    def test_6_no_marker_on_disk(self):
        # Search for every marker first (with keys and without), so that whatever a search
        # leaves in the journal (its access entries) is there when the journal is read.
        jobs = []
        for c in CASES:
            for m in c["markers"]:
                jobs.append(((c["file"], m, "keys"), lambda m=m: self.search(m)))
                jobs.append(((c["file"], m, "no keys"), lambda m=m: self.search(m, keys=[])))
        results = self.run_many(jobs)
        for (f, m, how), hits in sorted(results.items()):
            if isinstance(hits, Exception):
                self.fail("search %r (%s): %s" % (m, how, hits))
        after_searching = self.scan_journal()
        problems = ["after indexing: " + x for x in self.scan_after_indexing]
        problems += ["after searching: " + x for x in after_searching]
        if problems:
            # Which entries: the audit trail as JSON, each entry holding a marker named.
            markers = [(c["file"], m) for c in CASES for m in c["markers"]]
            for e in self.audit():
                text = json.dumps(e, ensure_ascii=False)
                hit = [m for _, m in markers if m in text]
                if hit:
                    problems.append("access entry %d (%s by %s, arguments %s) holds %s" % (
                        e["seq"], e["operation"], e["by"]["user"], json.dumps(e["arguments"], ensure_ascii=False)[:200],
                        hit))
        sys.stderr.write("\n%d marker needles checked in the journal directory\n" % len(marker_needles()))
        self.assertEqual(problems, [], "\n".join(problems[:60]) + ("\n... %d in all" % len(problems)))


if __name__ == "__main__":
    harness.main()
