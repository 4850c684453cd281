"""The e2e message corpus: the files in corpus/ plus messages generated at test time.

Every case is sent verbatim over SMTP (smtplib dot-stuffs and appends a final CRLF when the
message does not end with one).  ``verbatim`` says whether Postfix passes the message on
unchanged (apart from its own Received header): measured with Postfix 3.7.11 by
test_harness.py, which checks it without the milter.  Cases that are not verbatim are changed
by Postfix itself (added Date/Message-Id, bare CR -> space, ...); the journal must then hold
what Postfix holds, which test_capture.py checks against the delivered copy.
"""

import os
import random

CORPUS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

DEFAULT_FROM = "sender@example.org"
DEFAULT_RCPTS = ("rcpt@example.net",)


class Case:
    def __init__(self, name, data, mail_from=DEFAULT_FROM, rcpts=DEFAULT_RCPTS, mail_options=None,
                 verbatim=True, smtputf8=False, note="", journal_suffix=b"", verbatim_with_milter=None):
        self.name = name
        self.data = data
        self.mail_from = mail_from
        self.rcpts = tuple(rcpts)
        if mail_options is None:
            mail_options = ["BODY=8BITMIME"] if any(b > 0x7f for b in data) else []
        self.mail_options = list(mail_options)
        self.verbatim = verbatim
        # whether Postfix still passes it unchanged when milters are configured
        self.verbatim_with_milter = verbatim if verbatim_with_milter is None else verbatim_with_milter
        self.smtputf8 = smtputf8
        self.note = note
        # bytes the journal holds after the delivered copy (known, documented differences)
        self.journal_suffix = journal_suffix

    @property
    def expected_wire(self):
        """What Postfix receives after smtplib's dot-stuffing is undone."""
        return self.data if self.data.endswith(b"\r\n") else self.data + b"\r\n"

    def __repr__(self):
        return "<Case %s %d bytes>" % (self.name, len(self.data))


# per-file settings; every file not listed is verbatim with the default envelope
FILE_SETTINGS = {
    "07-smtputf8.eml": dict(mail_from="jörg@exämple.org", rcpts=("李明@例子.中国", "δοκιμή@παράδειγμα.ελ"),
                            mail_options=["SMTPUTF8", "BODY=8BITMIME"], smtputf8=True),
    "18-cr-in-header.eml": dict(verbatim=False, note="Postfix turns bare CR into a space"),
    "20-no-date-no-messageid.eml": dict(verbatim=False, note="Postfix adds Message-Id and Date"),
    # Postfix delivers it unchanged (no empty line added), but a milter cannot tell "headers,
    # no separator" from "headers, empty line, no body": the journal holds one extra CRLF
    # (documented limitation; 22-headers-empty-body is the other half of the pair).
    "21-headers-no-body.eml": dict(journal_suffix=b"\r\n", note="ends inside the header block"),
    "25-bare-lf.eml": dict(verbatim=False, note="Postfix turns bare LF into CRLF"),
    "29-no-headers.eml": dict(verbatim=False, note="Postfix adds Message-Id and Date"),
    "31-space-before-colon.eml": dict(verbatim=False, note="Postfix rewrites 'Name : v' to 'Name: v'"),
    "33-duplicate-headers.eml": dict(verbatim=False, note="Postfix adds Resent-Message-Id and Resent-Date"),
    "34-null-sender-dsn.eml": dict(mail_from=""),
}


def file_cases():
    out = []
    for name in sorted(os.listdir(CORPUS_DIR)):
        if not name.endswith(".eml"):
            continue
        with open(os.path.join(CORPUS_DIR, name), "rb") as f:
            data = f.read()
        out.append(Case(name[:-4], data, **FILE_SETTINGS.get(name, {})))
    return out


def _b64_lines(data):
    import base64
    e = base64.b64encode(data)
    return b"\r\n".join(e[i:i + 76] for i in range(0, len(e), 76)) + b"\r\n"


def statement_lines(nbytes):
    """Text that compresses well, like a CSV export (about 35:1 with zstd even in base64):
    numbered lines of 48 bytes, a multiple of 3, so base64 keeps their repetition."""
    n = nbytes // 48 + 1
    return b"".join(b"%08d;statement line;EUR;0000100.00;settled;\n" % i for i in range(n))[:nbytes]


def big_message(total_size, seed=1, name="big", compressible=False):
    """A multipart message of exactly total_size bytes with a base64 attachment: of random
    bytes (it does not compress: the worst case for the journal) or, with compressible, of
    statement_lines()."""
    head = ("From: alice@example.org\r\nTo: bob@example.net\r\nSubject: large message (%d bytes)\r\n"
            "Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%s-%d@example.org>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"big\"\r\n\r\n"
            "--big\r\nContent-Type: text/plain\r\n\r\nLarge attachment follows.\r\n"
            "--big\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            % (total_size, name, total_size)).encode()
    tail = b"--big--\r\n"
    room = total_size - len(head) - len(tail)
    # 57 raw bytes -> one 76-char base64 line + CRLF = 78 bytes
    nlines = room // 78
    rnd = random.Random(seed)
    raw = statement_lines(nlines * 57) if compressible else rnd.randbytes(nlines * 57)
    body = _b64_lines(raw) if nlines else b""
    pad = room - len(body)
    filler = b""
    if pad:
        # fill the rest with a text line of the exact length (>= 2 bytes for CRLF)
        if pad < 2:
            body = body[:-78]
            pad += 78
        filler = b"x" * (pad - 2) + b"\r\n"
    data = head + body + filler + tail
    assert len(data) == total_size, (len(data), total_size)
    return data


def sized_plain(total_size, name):
    """A plain message of exactly total_size bytes (for content-chunk boundary tests)."""
    head = ("From: alice@example.org\r\nTo: bob@example.net\r\nSubject: %d bytes\r\n"
            "Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%s@example.org>\r\n\r\n"
            % (total_size, name)).encode()
    room = total_size - len(head)
    line = b"0123456789" * 7 + b"abcdef" + b"\r\n"   # 78 bytes
    body = line * (room // 78)
    rest = room - len(body)
    if rest == 1:
        body = body[:-78]
        rest += 78
    if rest:
        body += b"y" * (rest - 2) + b"\r\n"
    data = head + body
    assert len(data) == total_size
    return data


def big_header(nbytes, name):
    """A folded References header of about nbytes (Postfix keeps headers up to 102400 bytes)."""
    head = ("From: alice@example.org\r\nTo: bob@example.net\r\nSubject: %d-byte header\r\n"
            "Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%s@example.org>\r\n" % (nbytes, name)).encode()
    refs = b"References:"
    i = 0
    while len(refs) < nbytes:
        refs += b"\r\n <reference-%06d.0123456789abcdef@mail.example.org>" % i
        i += 1
    return head + refs + b"\r\nX-After-Big-Header: yes\r\n\r\nBody after a big header.\r\n"


def generated_cases(include_large=True):
    out = [
        Case("gen-header-60000", big_header(60000, "h60000")),
        # Postfix 3.7 with milters configured keeps only the first ~61 KB of a header field
        # (whole lines; measured: a 62 000-byte field becomes 61 063 bytes), in the queue file
        # as well: the delivered copy and the journal both hold the truncated field.
        Case("gen-header-90k", big_header(90 * 1024, "h90k"), verbatim_with_milter=False,
             note="header field truncated to ~61 KB when milters are configured"),
        Case("gen-64k-minus-1", sized_plain(65535, "s65535")),
        Case("gen-64k", sized_plain(65536, "s65536")),
        Case("gen-64k-plus-1", sized_plain(65537, "s65537")),
        Case("gen-128k", sized_plain(131072, "s131072")),
        Case("gen-1mb-attachment", big_message(1024 * 1024, seed=2, name="mb1")),
    ]
    if include_large:
        out.append(Case("gen-10mb", big_message(10 * 1024 * 1024, seed=3, name="mb10"),
                        note="10 MiB, generated at test time"))
    return out


def all_cases(include_large=True):
    return file_cases() + generated_cases(include_large)


if __name__ == "__main__":
    for c in all_cases():
        print("%-36s %9d bytes  verbatim=%-5s %s" % (c.name, len(c.data), c.verbatim, c.note))
