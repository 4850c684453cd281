#!/usr/bin/env python3
"""Self-check of the search corpus (Python 3 standard library only).

    python3 tests/e2e/search_corpus/check_corpus.py [-v]

Exit 0 when every check passes, 1 otherwise (each failure printed). It checks:
  - the .eml files are exactly those named in cases.json, each once; at least 40 cases; CRLF
    line ends only; make_corpus.py regenerates the same bytes (determinism);
  - every file parses with Python's email package (policy=email.policy.default);
  - the marker rules: Latin markers are 8+ lower-case ASCII letters, CJK markers 3-4 CJK
    characters; every marker is in the decoded text of its own message and of no other,
    and in no envelope address;
  - "departments" follows from "rcpts" (*@sales.example.com, *@research.example.com);
  - every query parses under the grammar of mailjournal/search_query.h, every "find" query
    matches its message and no "miss" query does, evaluated here on a model of the daemon's
    document (mailjournal/text_extract.h, tokenize.h) built with Python's decoder; the
    "find_best_effort" queries are evaluated too but only reported;
  - FEATURES: each required feature is covered by at least one existing case.

Python's decoder and this tokenizer approximate GMime/libxml2/ICU; this is a sanity check of
the corpus, not a reference for the daemon. Notable differences are in README.md.
"""

import email
import email.header
import json
import os
import subprocess
import sys
import tempfile
import unicodedata
from email import policy
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))

# feature -> the cases that exercise it (each must exist and be in cases.json)
FEATURES = {
    "gb2312_body": ["02-gb2312-wealth-pitch.eml", "12-html-only-gb2312.eml",
                    "16-rfc2231-gb2312-filename.eml", "22-forwarded-nested-gb2312.eml",
                    "42-mixed-charset-parts.eml"],
    "gbk_body": ["03-gbk-complaint.eml", "20-gbk-csv-attachment.eml", "28-gbk-reply-chain.eml"],
    "gb18030_body": ["04-gb18030-rare-chars.eml"],
    "big5_body": ["05-big5-taiwan-pitch.eml", "06-big5-qp-insurer.eml", "42-mixed-charset-parts.eml"],
    "rfc2047_subject_chinese": ["02-gb2312-wealth-pitch.eml", "03-gbk-complaint.eml",
                                "04-gb18030-rare-chars.eml", "05-big5-taiwan-pitch.eml",
                                "06-big5-qp-insurer.eml", "07-rfc2047-adjacent-words.eml",
                                "12-html-only-gb2312.eml", "28-gbk-reply-chain.eml",
                                "48-rfc2047-mixed-charsets.eml"],
    "quoted_printable": ["04-gb18030-rare-chars.eml", "06-big5-qp-insurer.eml",
                         "09-qp-soft-breaks.eml", "11-html-only-newsletter.eml",
                         "24-latin1-french.eml", "28-gbk-reply-chain.eml", "40-hr-notice-utf8-qp.eml",
                         "43-windows-1252-memo.eml"],
    "base64": ["02-gb2312-wealth-pitch.eml", "05-big5-taiwan-pitch.eml", "10-base64-odd-lines.eml",
               "12-html-only-gb2312.eml", "26-korean-utf8.eml"],
    "html_only": ["11-html-only-newsletter.eml", "12-html-only-gb2312.eml",
                  "49-forwarded-html-inner.eml"],
    "nested_multipart": ["13-outlook-alternative-related.eml", "14-nested-four-levels.eml",
                         "41-insurer-renewal-html-pdf.eml"],
    "rfc2231_attachment_name": ["15-rfc2231-utf8-filename.eml", "16-rfc2231-gb2312-filename.eml",
                                "17-rfc2231-continuations.eml", "20-gbk-csv-attachment.eml",
                                "41-insurer-renewal-html-pdf.eml"],
    "rfc2047_attachment_name": ["18-rfc2047-attachment-name.eml"],
    "malformed_mime": ["08-raw-gb2312-subject.eml", "29-malformed-missing-close-boundary.eml",
                       "30-malformed-no-boundary-param.eml", "31-malformed-bad-base64.eml",
                       "32-malformed-unknown-charset.eml", "33-malformed-truncated.eml",
                       "34-malformed-duplicate-content-type.eml",
                       "35-malformed-undeclared-utf8.eml", "36-malformed-undeclared-gb2312.eml",
                       "37-malformed-header-no-colon.eml", "44-gb2312-label-gbk-bytes.eml"],
    "forwarded_rfc822": ["21-forwarded-rfc822.eml", "22-forwarded-nested-gb2312.eml",
                         "49-forwarded-html-inner.eml"],
    "iso2022jp": ["23-iso2022jp.eml"],
    "latin1": ["24-latin1-french.eml", "25-latin1-german-8bit.eml"],
    "text_attachment": ["14-nested-four-levels.eml", "19-text-attachments.eml",
                        "20-gbk-csv-attachment.eml", "46-calendar-invite.eml"],
    "pdf_attachment": ["14-nested-four-levels.eml", "38-pdf-statement-bcc.eml"],
    "bcc_only_sales": ["17-rfc2231-continuations.eml", "18-rfc2047-attachment-name.eml",
                       "38-pdf-statement-bcc.eml", "39-bcc-research-and-sales.eml"],
    "korean": ["26-korean-utf8.eml"],
    "reply_chain": ["27-reply-chain-quoted.eml", "28-gbk-reply-chain.eml"],
}
REQUIRED_FEATURES = ["gb2312_body", "gbk_body", "gb18030_body", "big5_body",
                     "rfc2047_subject_chinese", "quoted_printable", "base64", "html_only",
                     "nested_multipart", "rfc2231_attachment_name", "malformed_mime",
                     "forwarded_rfc822", "iso2022jp", "latin1", "text_attachment"]

FIELDS = ["from", "to", "subject", "body", "attachment", "message-id"]
MAX_TOKEN_BYTES = 64
DEPARTMENT_DOMAINS = {"sales": "sales.example.com", "research": "research.example.com"}


# ---------------------------------------------------------------------------------------------
# tokenizer (approximates mailjournal/tokenize.h: NFKC case folding, words, CJK bigrams)

CJK_RANGES = [
    (0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x3005, 0x3005), (0x3007, 0x3007), (0x3021, 0x3029),
    (0x3038, 0x303B), (0x3041, 0x3096), (0x309D, 0x309F), (0x30A1, 0x30FA), (0x30FD, 0x30FF),
    (0x3131, 0x318E), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA960, 0xA97F),
    (0xAC00, 0xD7A3), (0xD7B0, 0xD7FF), (0xF900, 0xFAFF), (0x20000, 0x3134F),
]


def is_cjk(ch):
    o = ord(ch)
    return any(a <= o <= b for a, b in CJK_RANGES)


def normalize(s):
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", s).casefold())


def is_word_char(ch):
    return unicodedata.category(ch)[0] in "LNM" and not is_cjk(ch)


def tokenize(s):
    s = normalize(s)
    out = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if is_cjk(ch):
            j = i
            while j < n and is_cjk(s[j]):
                j += 1
            run = s[i:j]
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(run[k:k + 2] for k in range(len(run) - 1))
            i = j
        elif is_word_char(ch):
            j = i
            while j < n and is_word_char(s[j]):
                j += 1
            out.append(s[i:j])
            i = j
        else:
            i += 1
    return [t for t in out if len(t.encode("utf-8")) <= MAX_TOKEN_BYTES]


# ---------------------------------------------------------------------------------------------
# query language (mailjournal/search_query.h)

class QueryError(Exception):
    pass


def lex(q):
    out = []
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
            continue
        if c in "()":
            out.append(("paren", c))
            i += 1
            continue
        if c == '"':
            j = q.find('"', i + 1)
            if j < 0:
                raise QueryError("unbalanced quote")
            out.append(("terms", None, q[i + 1:j]))
            i = j + 1
            continue
        j = i
        while j < n and not q[j].isspace() and q[j] not in '()"':
            j += 1
        w = q[i:j]
        i = j
        if w in ("AND", "OR", "NOT"):
            out.append(("op", w))
            continue
        if w.startswith("-"):
            out.append(("op", "NOT"))
            w = w[1:]
            if not w:
                if i < n and q[i] in '("':
                    continue
                raise QueryError("'-' without an operand")
        field = None
        if ":" in w:
            prefix, rest = w.split(":", 1)
            if prefix.lower() in FIELDS:
                field = prefix.lower()
                w = rest
                if not w:
                    if i < n and q[i] == '"':
                        j = q.find('"', i + 1)
                        if j < 0:
                            raise QueryError("unbalanced quote")
                        out.append(("terms", field, q[i + 1:j]))
                        i = j + 1
                        continue
                    raise QueryError("field without a value")
        out.append(("terms", field, w))
    return out


def parse_query(q):
    toks = lex(q)
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else None

    def take():
        t = peek()
        pos[0] += 1
        return t

    def p_or():
        kids = [p_and()]
        while peek() == ("op", "OR"):
            take()
            kids.append(p_and())
        return kids[0] if len(kids) == 1 else ("or", kids)

    def p_and():
        kids = [p_unary()]
        while True:
            t = peek()
            if t is None or t == ("op", "OR") or t == ("paren", ")"):
                break
            if t == ("op", "AND"):
                take()
            kids.append(p_unary())
        return kids[0] if len(kids) == 1 else ("and", kids)

    def p_unary():
        t = peek()
        if t == ("op", "NOT"):
            take()
            return ("not", p_unary())
        return p_primary()

    def p_primary():
        t = take()
        if t is None:
            raise QueryError("operand missing")
        if t == ("paren", "("):
            node = p_or()
            if take() != ("paren", ")"):
                raise QueryError("unbalanced parenthesis")
            return node
        if t[0] != "terms":
            raise QueryError("unexpected %r" % (t,))
        tokens = tokenize(t[2])
        if not tokens:
            raise QueryError("term without a token: %r" % t[2])
        return ("terms", t[1], tokens)

    node = p_or()
    if peek() is not None:
        raise QueryError("trailing %r" % (peek(),))
    return node


def has_run(values, tokens):
    n = len(tokens)
    for v in values:
        for i in range(len(v) - n + 1):
            if v[i:i + n] == tokens:
                return True
    return False


def matches(node, doc):
    kind = node[0]
    if kind == "terms":
        fields = [node[1]] if node[1] else FIELDS
        return any(has_run(doc[f], node[2]) for f in fields)
    if kind == "and":
        return all(matches(k, doc) for k in node[1])
    if kind == "or":
        return any(matches(k, doc) for k in node[1])
    return not matches(node[1], doc)


# ---------------------------------------------------------------------------------------------
# the message model (mailjournal/text_extract.h), with Python's email package

def decode_bytes(raw, charset):
    """Bytes of a text part in its declared charset; undeclared 8-bit: UTF-8, else GB18030
    (the guess); unknown label: Latin-1; gb2312/gbk are read as GB18030 (as GMime 3.2 does)."""
    cs = (charset or "").strip().lower()
    if cs in ("", "us-ascii", "ascii"):
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                return raw.decode("gb18030", "replace")
    if cs in ("gb2312", "gbk", "x-gbk", "euc-cn"):
        cs = "gb18030"
    try:
        return raw.decode(cs, "replace")
    except LookupError:
        return raw.decode("latin-1")


class HtmlText(HTMLParser):
    """Text of an HTML document without script and style, nothing added between elements
    (so words the markup does not separate by white space stay joined)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(s):
    p = HtmlText()
    p.feed(s)
    p.close()
    return "".join(p.parts)


def raw_top_headers(data):
    """name (lower case) -> [raw unfolded value bytes] of the top-level header block."""
    end = data.find(b"\r\n\r\n")
    block = data if end < 0 else data[:end]
    out = {}
    cur = None
    for line in block.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and cur is not None:
            out[cur][-1] += line
            continue
        if b":" not in line:
            cur = None
            continue
        name, value = line.split(b":", 1)
        cur = name.strip().decode("ascii", "replace").lower()
        out.setdefault(cur, []).append(value.strip())
    return out


def header_values(msg, name, raw=None):
    vals = []
    for i, v in enumerate(msg.get_all(name) or []):
        s = str(v)
        if raw is not None and ("\ufffd" in s or any(0xdc80 <= ord(c) <= 0xdcff for c in s)):
            rv = raw.get(name.lower(), [])
            if i < len(rv):
                s = decode_bytes(rv[i], None)
        vals.append(s)
    return vals


def new_doc():
    return {f: [] for f in FIELDS}


def add_value(doc, field, text):
    doc[field].append(text)


def walk(part, doc):
    maintype = part.get_content_maintype()
    fn = part.get_filename()
    if fn:
        if "=?" in fn:
            fn = str(email.header.make_header(email.header.decode_header(fn)))
        add_value(doc, "attachment", fn)
    if maintype == "message" and part.get_content_subtype() == "rfc822":
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if inner is not None:
            for h in ("from", "to", "cc", "subject"):
                for v in header_values(inner, h):
                    add_value(doc, "body", v)
            walk(inner, doc)
        return
    if maintype == "multipart":
        if part.is_multipart():
            for sub in part.get_payload():
                walk(sub, doc)
        return  # a multipart the parser could not split: its text is not claimed
    if maintype == "text":
        raw = part.get_payload(decode=True) or b""
        s = decode_bytes(raw, part.get_param("charset"))
        if part.get_content_subtype() == "html":
            s = html_to_text(s)
        add_value(doc, "body", s)


def message_text(data):
    """The field values (strings) the daemon's extractor should produce, as modelled here."""
    msg = email.message_from_bytes(data, policy=policy.default)
    raw = raw_top_headers(data)
    doc = new_doc()
    for h in ("from", "sender", "reply-to"):
        for v in header_values(msg, h, raw):
            add_value(doc, "from", v)
    for h in ("to", "cc", "bcc"):
        for v in header_values(msg, h, raw):
            add_value(doc, "to", v)
    for v in header_values(msg, "subject", raw):
        add_value(doc, "subject", v)
    for v in header_values(msg, "message-id", raw):
        add_value(doc, "message-id", v.strip().strip("<>"))
    walk(msg, doc)
    return msg, doc


def search_doc(text_doc, mail_from, rcpts):
    doc = {f: [tokenize(v) for v in vals] for f, vals in text_doc.items()}
    doc["from"].append(tokenize(mail_from))
    for r in rcpts:
        doc["to"].append(tokenize(r))
    return doc


# ---------------------------------------------------------------------------------------------

def regenerate_matches(cases_dir):
    """make_corpus.py into a temp dir: the same file names and bytes as the committed ones."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), tmp], check=True,
                       stdout=subprocess.DEVNULL)
        gen = sorted(n for n in os.listdir(tmp) if n.endswith(".eml") or n == "cases.json")
        have = sorted(n for n in os.listdir(cases_dir) if n.endswith(".eml") or n == "cases.json")
        if gen != have:
            problems.append("regenerated file set differs: %s" % sorted(set(gen) ^ set(have)))
        for n in gen:
            if n in have:
                with open(os.path.join(tmp, n), "rb") as a, open(os.path.join(cases_dir, n), "rb") as b:
                    if a.read() != b.read():
                        problems.append("%s: make_corpus.py gives different bytes" % n)
    return problems


def check(cases_dir=HERE, verbose=False, regenerate=True):
    fails = []
    warns = []

    def fail(msg):
        fails.append(msg)

    with open(os.path.join(cases_dir, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    if len(cases) < 40:
        fail("only %d cases (at least 40 wanted)" % len(cases))

    files = [c["file"] for c in cases]
    on_disk = sorted(n for n in os.listdir(cases_dir) if n.endswith(".eml"))
    for n in set(files):
        if files.count(n) != 1:
            fail("%s is referenced %d times" % (n, files.count(n)))
    if sorted(set(files)) != on_disk:
        fail("cases.json and the .eml files differ: %s" % sorted(set(files) ^ set(on_disk)))

    if regenerate:
        for p in regenerate_matches(cases_dir):
            fail(p)

    # features
    for feat in REQUIRED_FEATURES:
        if not FEATURES.get(feat):
            fail("feature %s is not covered" % feat)
    for feat, names in FEATURES.items():
        for n in names:
            if n not in files or not os.path.exists(os.path.join(cases_dir, n)):
                fail("FEATURES[%s] names %s, which is not a case" % (feat, n))

    # parse every message, build its model
    texts = {}
    docs = {}
    for c in cases:
        path = os.path.join(cases_dir, c["file"])
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        if b"\n" in data.replace(b"\r\n", b"") or b"\r" in data.replace(b"\r\n", b""):
            fail("%s: line ends other than CRLF" % c["file"])
        try:
            msg, tdoc = message_text(data)
        except Exception as e:  # noqa: BLE001 -- any parse failure is a corpus bug
            fail("%s: does not parse: %r" % (c["file"], e))
            continue
        texts[c["file"]] = normalize("\n".join(v for vals in tdoc.values() for v in vals))
        docs[c["file"]] = search_doc(tdoc, c["mail_from"], c["rcpts"])
        if verbose:
            print("== %s  defects: %s" % (c["file"], [type(d).__name__ for d in msg.defects]))
            for fld in FIELDS:
                for v in tdoc[fld]:
                    print("   %-10s %s" % (fld, " ".join(v.split())[:150]))

    # markers
    all_markers = []
    envelope = normalize(" ".join(a for c in cases for a in [c["mail_from"]] + c["rcpts"]))
    for c in cases:
        if not c["markers"]:
            fail("%s: no marker" % c["file"])
        if not any(m.isascii() for m in c["markers"]):
            fail("%s: no Latin marker" % c["file"])
        for m in c["markers"]:
            all_markers.append((m, c["file"]))
            if m.isascii():
                if not (m.isalpha() and m.islower() and len(m) >= 8):
                    fail("%s: Latin marker %r is not 8+ lower-case letters" % (c["file"], m))
            elif not (3 <= len(m) <= 4 and all(is_cjk(ch) for ch in m)):
                fail("%s: CJK marker %r is not 3-4 CJK characters" % (c["file"], m))
            if normalize(m) in envelope:
                fail("%s: marker %r is in an envelope address" % (c["file"], m))
            for other, t in texts.items():
                present = normalize(m) in t
                if other == c["file"] and not present:
                    fail("%s: marker %r is not in its decoded text" % (c["file"], m))
                if other != c["file"] and present:
                    fail("%s: marker %r is also in %s" % (c["file"], m, other))
    for m, f in all_markers:
        for m2, f2 in all_markers:
            if (m, f) != (m2, f2) and normalize(m) in normalize(m2):
                fail("marker %r (%s) is a substring of marker %r (%s)" % (m, f, m2, f2))

    marker_set = {normalize(m) for m, _ in all_markers}
    for c in cases:
        want = sorted(d for d, dom in DEPARTMENT_DOMAINS.items()
                      if any(r.lower().endswith("@" + dom) for r in c["rcpts"]))
        if c.get("departments") != want:
            fail("%s: departments %r, rcpts say %r" % (c["file"], c.get("departments"), want))
        if not 3 <= len(c["find"]) <= 8:
            fail("%s: %d find queries (3-8 wanted)" % (c["file"], len(c["find"])))
        if not 2 <= len(c["miss"]) <= 6:
            fail("%s: %d miss queries (2-6 wanted)" % (c["file"], len(c["miss"])))
        own = {normalize(m) for m in c["markers"]}
        if not any(normalize(q) in own for q in c["find"]):
            fail("%s: no find query is one of its markers" % c["file"])
        if not any(normalize(q) in marker_set - own for q in c["miss"]):
            fail("%s: no miss query is another message's marker" % c["file"])
        doc = docs.get(c["file"])
        for kind in ("find", "miss", "find_best_effort"):
            for q in c.get(kind, []):
                try:
                    node = parse_query(q)
                except QueryError as e:
                    fail("%s: %s query %r does not parse: %s" % (c["file"], kind, q, e))
                    continue
                if doc is None:
                    continue
                got = matches(node, doc)
                if kind == "find" and not got:
                    fail("%s: find query %r does not match" % (c["file"], q))
                elif kind == "miss" and got:
                    fail("%s: miss query %r matches" % (c["file"], q))
                elif kind == "find_best_effort" and not got:
                    warns.append("%s: best-effort query %r does not match with Python's "
                                 "decoder" % (c["file"], q))

    for w in warns:
        print("note: " + w)
    for f_ in fails:
        print("FAIL: " + f_)
    print("%d cases, %d features, %d failures" % (len(cases), len(FEATURES), len(fails)))
    return not fails


if __name__ == "__main__":
    sys.exit(0 if check(verbose="-v" in sys.argv[1:]) else 1)
