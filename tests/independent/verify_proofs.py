#!/usr/bin/env python3
"""An independent verifier of mailjournal proofs and checkpoints.

Written from mailjournal-format(5) alone (sections Conventions, MERKLE TREE, PROOFS and
CHECKPOINTS), not from the C++ sources, with the Python 3 standard library only: Ed25519
signature verification (RFC 8032) is implemented below, after the reference code of RFC 8032,
section 6, and checked by --self-test against the RFC's own vectors and the man page's.

Usage:
    verify_proofs.py --verifier-key checkpoint.vkey [--checkpoint FILE] [--old-checkpoint FILE]
                     PROOF.json [PROOF.json ...]      ('-' reads standard input)
    verify_proofs.py --self-test

Each PROOF.json is the output of `mailjournal proof --inclusion SEQ --format json` or
`mailjournal proof --consistency OLD NEW --format json`.  For each one this program:

  * for an inclusion proof: recomputes the leaf hash from the entry's bytes (SHA-256 of 0x00 and
    the entry's stored encoding), checks that it is the proof's leaf_hash, that leaf_index is
    seq - 1, and verifies the audit path against (tree_size, root) with the steps of PROOFS,
    Inclusion proof;
  * for a consistency proof: verifies the proof from (old_size, old_root) to (tree_size, root)
    with the steps of PROOFS, Consistency proof;
  * reads the verifier key (Key texts: name, key id, public key; the key id is recomputed),
    verifies the signed note of the checkpoint (Signed note: the last empty line splits text and
    signatures; a line with the key's name and id must carry a valid Ed25519 signature of the
    text), parses the checkpoint body strictly (Checkpoint body) and checks that its tree size
    and root are the proof's (for a consistency proof, those of the new tree).

The checkpoint is the proof's "checkpoint" member, or the file given with --checkpoint (both
are checked when both are present).  A proof with no checkpoint at all is refused: without a
signed tree head it binds the entry to a tree that anyone could have made up.  With
--old-checkpoint FILE, a consistency proof's old tree head must be that checkpoint's too.

Exit status: 0 when every proof and checkpoint verifies, 1 otherwise (the reason on standard
error), 2 for a usage error.
"""

import argparse
import base64
import binascii
import datetime
import hashlib
import json
import re
import sys

# --------------------------------------------------------------------------------------------
# Conventions: strict base64 (RFC 4648, section 4, no line breaks, canonical)

B64_RE = re.compile(r"\A[A-Za-z0-9+/]*={0,2}\Z")


class Refused(Exception):
    """A proof, note, key or checkpoint that does not verify; the message is the reason."""


def b64_strict(text, what, length=None):
    """Decode text as strict base64: length a multiple of 4, only the 64 characters and '='
    padding, and re-encoding gives the same text (so padding bits are zero)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise Refused("%s: not base64 (non-ASCII octets)" % what)
    if len(text) % 4 != 0 or not B64_RE.match(text):
        raise Refused("%s: not strict base64: %r" % (what, text))
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Refused("%s: not base64: %s" % (what, exc))
    if base64.b64encode(data).decode("ascii") != text:
        raise Refused("%s: not canonical base64 (padding bits): %r" % (what, text))
    if length is not None and len(data) != length:
        raise Refused("%s: %d octets, expected %d" % (what, len(data), length))
    return data


def hex_strict(text, what, length=None):
    if not isinstance(text, str) or not re.fullmatch(r"(?:[0-9a-f]{2})*", text):
        raise Refused("%s: not lower-case hexadecimal: %r" % (what, text))
    data = bytes.fromhex(text)
    if length is not None and len(data) != length:
        raise Refused("%s: %d octets, expected %d" % (what, len(data), length))
    return data


# --------------------------------------------------------------------------------------------
# MERKLE TREE, Hashes (RFC 9162, section 2.1, SHA-256)

def sha256(data):
    return hashlib.sha256(data).digest()


EMPTY_ROOT = sha256(b"")


def leaf_hash(d):
    return sha256(b"\x00" + d)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def split_point(n):
    """k, the largest power of two smaller than n (n > 1): k < n <= 2k."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth_of_hashes(hashes):
    """MTH of a list of leaves given by their leaf hashes."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = split_point(n)
    return node_hash(mth_of_hashes(hashes[:k]), mth_of_hashes(hashes[k:]))


def mth(leaves):
    """MTH(D[n]) of a list of leaf inputs."""
    return mth_of_hashes([leaf_hash(d) for d in leaves])


def compact_range(hashes):
    """The subtree roots of Stored records: one per bit set in n, largest subtree first."""
    roots, start, n = [], 0, len(hashes)
    bit = 1 << max(n.bit_length() - 1, 0)
    while bit:
        if n & bit:
            roots.append(mth_of_hashes(hashes[start:start + bit]))
            start += bit
        bit >>= 1
    return roots


def fold_compact_range(roots):
    """The root from the subtree roots (Stored records)."""
    if not roots:
        return EMPTY_ROOT
    r = roots[-1]
    for c in reversed(roots[:-1]):
        r = node_hash(c, r)
    return r


# PROOFS: the definitions, used by the self-test to make proofs of every small tree

def path(m, hashes):
    """PATH(m, D[n]) over leaf hashes."""
    n = len(hashes)
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return path(m, hashes[:k]) + [mth_of_hashes(hashes[k:])]
    return path(m - k, hashes[k:]) + [mth_of_hashes(hashes[:k])]


def subproof(m, hashes, b):
    n = len(hashes)
    if m == n:
        return [] if b else [mth_of_hashes(hashes)]
    k = split_point(n)
    if m <= k:
        return subproof(m, hashes[:k], b) + [mth_of_hashes(hashes[k:])]
    return subproof(m - k, hashes[k:], False) + [mth_of_hashes(hashes[:k])]


def consistency_proof(m, hashes):
    n = len(hashes)
    if m == 0 or m == n:
        return []
    return subproof(m, hashes, True)


# PROOFS: verification, step by step as the man page states them

def verify_inclusion(m, n, h, proof_path, root):
    """PROOFS, Inclusion proof: does proof_path prove leaf hash h to be leaf m of (n, root)?
    Returns None when it does, else the reason."""
    if m >= n:                                       # 1
        return "leaf index %d is not below the tree size %d" % (m, n)
    fn, sn, r = m, n - 1, h                          # 2
    for p in proof_path:                             # 3
        if sn == 0:                                  # 3.1
            return "the path is too long"
        if fn % 2 == 1 or fn == sn:                  # 3.2
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:                                        # 3.3
            r = node_hash(r, p)
        fn >>= 1                                     # 3.4
        sn >>= 1
    if sn != 0:                                      # 4
        return "the path is too short"
    if r != root:
        return "the path leads to root %s, not %s" % (r.hex(), root.hex())
    return None


def verify_consistency(m, n, old_root, new_root, proof):
    """PROOFS, Consistency proof: does proof prove (m, old_root) a prefix of (n, new_root)?
    Returns None when it does, else the reason."""
    if m > n:                                        # 1
        return "old size %d is above new size %d" % (m, n)
    if m == n:                                       # 2
        if proof:
            return "a proof between equal sizes must be empty"
        if old_root != new_root:
            return "equal sizes with different roots"
        return None
    if m == 0:                                       # 3
        if proof:
            return "a proof from the empty tree must be empty"
        if old_root != EMPTY_ROOT:
            return "the old root of size 0 is not MTH({})"
        return None
    if not proof:                                    # 4
        return "empty proof"
    if m & (m - 1) == 0:                             # 5
        p = [old_root] + list(proof)
    else:
        p = list(proof)
    fn, sn = m - 1, n - 1                            # 6
    while fn % 2 == 1:                               # 7
        fn >>= 1
        sn >>= 1
    fr = sr = p[0]                                   # 8
    for c in p[1:]:                                  # 9
        if sn == 0:                                  # 9.1
            return "the proof is too long"
        if fn % 2 == 1 or fn == sn:                  # 9.2
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:                                        # 9.3
            sr = node_hash(sr, c)
        fn >>= 1                                     # 9.4
        sn >>= 1
    if sn != 0:                                      # 10
        return "the proof is too short"
    if fr != old_root:
        return "the proof leads to old root %s, not %s" % (fr.hex(), old_root.hex())
    if sr != new_root:
        return "the proof leads to new root %s, not %s" % (sr.hex(), new_root.hex())
    return None


# --------------------------------------------------------------------------------------------
# Ed25519 (RFC 8032, pure Ed25519), after the reference code of RFC 8032, section 6

ED_P = 2 ** 255 - 19
ED_L = 2 ** 252 + 27742317777372353535851937790883648493
ED_D = -121665 * pow(121666, ED_P - 2, ED_P) % ED_P
ED_SQRT_M1 = pow(2, (ED_P - 1) // 4, ED_P)


def _inv(x):
    return pow(x, ED_P - 2, ED_P)


def _point_add(p, q):
    """Addition in extended homogeneous coordinates (X, Y, Z, T)."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % ED_P
    b = (y1 + x1) * (y2 + x2) % ED_P
    c = 2 * t1 * t2 * ED_D % ED_P
    d = 2 * z1 * z2 % ED_P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % ED_P, g * h % ED_P, f * g % ED_P, e * h % ED_P)


def _point_mul(s, p):
    q = (0, 1, 1, 0)   # the neutral element
    while s > 0:
        if s & 1:
            q = _point_add(q, p)
        p = _point_add(p, p)
        s >>= 1
    return q


def _point_equal(p, q):
    x1, y1, z1, _ = p
    x2, y2, z2, _ = q
    return (x1 * z2 - x2 * z1) % ED_P == 0 and (y1 * z2 - y2 * z1) % ED_P == 0


def _recover_x(y, sign):
    if y >= ED_P:
        return None
    x2 = (y * y - 1) * _inv(ED_D * y * y + 1) % ED_P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (ED_P + 3) // 8, ED_P)
    if (x * x - x2) % ED_P != 0:
        x = x * ED_SQRT_M1 % ED_P
    if (x * x - x2) % ED_P != 0:
        return None
    if (x & 1) != sign:
        x = ED_P - x
    return x


_G_Y = 4 * _inv(5) % ED_P
_G_X = _recover_x(_G_Y, 0)
ED_G = (_G_X, _G_Y, 1, _G_X * _G_Y % ED_P)


def _point_compress(p):
    x, y, z, _ = p
    zi = _inv(z)
    x, y = x * zi % ED_P, y * zi % ED_P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _point_decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % ED_P)


def _sha512_int(data):
    return int.from_bytes(hashlib.sha512(data).digest(), "little")


def _secret_expand(seed):
    if len(seed) != 32:
        raise ValueError("an Ed25519 private key is 32 octets")
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def ed25519_public_key(seed):
    a, _ = _secret_expand(seed)
    return _point_compress(_point_mul(a, ED_G))


def ed25519_sign(seed, msg):
    """Used by the self-test only, to reproduce the man page's deterministic signatures."""
    a, prefix = _secret_expand(seed)
    pub = _point_compress(_point_mul(a, ED_G))
    r = _sha512_int(prefix + msg) % ED_L
    rs = _point_compress(_point_mul(r, ED_G))
    h = _sha512_int(rs + pub + msg) % ED_L
    s = (r + h * a) % ED_L
    return rs + int.to_bytes(s, 32, "little")


def ed25519_verify(pub, msg, sig):
    if len(pub) != 32 or len(sig) != 64:
        return False
    a = _point_decompress(pub)
    if a is None:
        return False
    rs = sig[:32]
    r = _point_decompress(rs)
    if r is None:
        return False
    s = int.from_bytes(sig[32:], "little")
    if s >= ED_L:
        return False
    h = _sha512_int(rs + pub + msg) % ED_L
    return _point_equal(_point_mul(s, ED_G), _point_add(r, _point_mul(h, a)))


# --------------------------------------------------------------------------------------------
# CHECKPOINTS: key texts, key id, signed note, checkpoint body

def key_id(name, pub):
    """Key id: the first 4 octets, as u32, of SHA-256(NAME || 0x0A || 0x01 || PUB)."""
    return int.from_bytes(sha256(name + b"\n\x01" + pub)[:4], "big")


def _check_key_name(name):
    if not name:
        raise Refused("key text: empty key name")
    for c in name:
        if not (0x21 <= c <= 0x2A or 0x2C <= c <= 0x7E or c >= 0x80):
            raise Refused("key text: key name %r has a character not allowed (%#04x)" % (name, c))


def _parse_key_body(rest, what):
    parts = rest.split(b"+", 2)   # base64 may contain '+': split at the first two only
    if len(parts) != 3:
        raise Refused("%s: not NAME+ID+KEY" % what)
    name, hex_id, data = parts
    _check_key_name(name)
    if not re.fullmatch(rb"[0-9A-Fa-f]{8}", hex_id):
        raise Refused("%s: key id %r is not 8 hexadecimal digits" % (what, hex_id))
    key = b64_strict(data, what + " key data", 33)
    if key[0] != 0x01:
        raise Refused("%s: algorithm octet %#04x is not 0x01 (Ed25519)" % (what, key[0]))
    return name, int(hex_id, 16), key[1:]


class VerifierKey:
    def __init__(self, name, kid, pub):
        self.name, self.id, self.pub = name, kid, pub

    def __repr__(self):
        return "%s+%08x" % (self.name.decode(errors="replace"), self.id)


def parse_verifier_key(text):
    """Key texts: NAME+ID+base64(0x01 || PUB); the key id is recomputed and must match."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    text = text.strip(b" \t\r\n\v\f")
    if text.startswith(b"PRIVATE+KEY+"):
        raise Refused("verifier key: this is a signer (private) key, not a verifier key")
    name, kid, pub = _parse_key_body(text, "verifier key")
    if len(pub) != 32:
        raise Refused("verifier key: public key of %d octets" % len(pub))
    if _point_decompress(pub) is None:
        raise Refused("verifier key: the public key is not a point of Ed25519")
    if key_id(name, pub) != kid:
        raise Refused("verifier key: key id %08x is not the one computed from the name and the "
                      "public key (%08x)" % (kid, key_id(name, pub)))
    return VerifierKey(name, kid, pub)


def parse_signer_key(text):
    """Key texts, signer key: PRIVATE+KEY+NAME+ID+base64(0x01 || SEED). Returns (name, id,
    seed, public key); the key id is checked against the public key of the seed."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    text = text.strip(b" \t\r\n\v\f")
    if not text.startswith(b"PRIVATE+KEY+"):
        raise Refused("signer key: does not start with PRIVATE+KEY+")
    name, kid, seed = _parse_key_body(text[len(b"PRIVATE+KEY+"):], "signer key")
    pub = ed25519_public_key(seed)
    if key_id(name, pub) != kid:
        raise Refused("signer key: key id %08x does not match its public key" % kid)
    return name, kid, seed, pub


EM_DASH_SP = b"\xe2\x80\x94 "


def verify_note(note, key):
    """Signed note, steps 1 to 4; returns the signed text, or raises Refused."""
    if isinstance(note, str):
        note = note.encode("utf-8")
    if not note.endswith(b"\n") or b"\n\n" not in note:                       # 1
        raise Refused("note: does not end in LF or has no empty line")
    split = note.rfind(b"\n\n")
    text, block = note[:split + 1], note[split + 2:]
    lines = block.split(b"\n")[:-1]   # every line ends in LF (the note does)
    found = False
    for line in lines:                                                        # 2
        if not line.startswith(EM_DASH_SP):                                    # 2.1
            raise Refused("note: a signature line does not start with an em dash and a space: %r"
                          % line)
        last_space = line.rfind(b" ")
        if last_space < len(EM_DASH_SP):
            raise Refused("note: a signature line has no space after the key name: %r" % line)
        name, sig_text = line[len(EM_DASH_SP):last_space], line[last_space + 1:]
        sig = b64_strict(sig_text, "note signature")                           # 2.2
        if len(sig) < 4:
            raise Refused("note: a signature of %d octets is shorter than a key id" % len(sig))
        kid = int.from_bytes(sig[:4], "big")
        if name != key.name or kid != key.id:                                  # 2.3
            continue
        if len(sig) != 68:                                                     # 2.4
            raise Refused("note: the signature of %r is %d octets, not 68" % (key, len(sig)))
        if not ed25519_verify(key.pub, text, sig[4:]):
            raise Refused("note: the Ed25519 signature of %r does not verify" % key)
        found = True
    if not found:                                                             # 3
        raise Refused("note: not signed by the key %r" % key)
    return text                                                               # 4


CHECKPOINT_TIME_RE = re.compile(rb"\Atime (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\Z")
TREE_SIZE_RE = re.compile(rb"\A(?:0|[1-9][0-9]{0,18})\Z")


class Checkpoint:
    def __init__(self, origin, size, root, time):
        self.origin, self.size, self.root, self.time = origin, size, root, time

    def __repr__(self):
        return "checkpoint %s size %d root %s time %s" % (
            self.origin.decode(errors="replace"), self.size, self.root.hex(), self.time)


def parse_checkpoint_body(text):
    """Checkpoint body: origin, tree size, root (strict base64 of 32 octets), time line;
    exactly these four lines, each ending in LF."""
    if not text.endswith(b"\n"):
        raise Refused("checkpoint: the last line does not end in LF")
    lines = text[:-1].split(b"\n")
    if len(lines) != 4:
        raise Refused("checkpoint: %d lines, expected 4" % len(lines))
    origin, size, root, time_line = lines
    if not origin:
        raise Refused("checkpoint: empty origin")
    if not TREE_SIZE_RE.match(size):
        raise Refused("checkpoint: tree size %r is not a decimal number without leading zeros"
                      % size)
    root_octets = b64_strict(root, "checkpoint root", 32)
    m = CHECKPOINT_TIME_RE.match(time_line)
    if not m:
        raise Refused("checkpoint: the fourth line is not 'time YYYY-MM-DDTHH:MM:SS.ffffffZ': %r"
                      % time_line)
    try:
        datetime.datetime.strptime(m.group(1).decode(), "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        raise Refused("checkpoint: %r is not a valid time" % m.group(1))
    return Checkpoint(origin, int(size), root_octets, m.group(1).decode())


def verify_checkpoint(note, key):
    return parse_checkpoint_body(verify_note(note, key))


# --------------------------------------------------------------------------------------------
# the proofs of `mailjournal proof --format json`

def _int(obj, name, minimum=0):
    v = obj.get(name)
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum or v >= 2 ** 64:
        raise Refused("proof: %s is missing or not an integer >= %d: %r" % (name, minimum, v))
    return v


def _hashes(obj, name):
    v = obj.get(name)
    if not isinstance(v, list):
        raise Refused("proof: %s is missing or not a list" % name)
    return [hex_strict(h, "%s[%d]" % (name, i), 32) for i, h in enumerate(v)]


def checkpoints_of(obj, extra_notes):
    notes = []
    if "checkpoint" in obj:
        if not isinstance(obj["checkpoint"], str):
            raise Refused("proof: checkpoint is not a string")
        notes.append(("the proof's checkpoint", obj["checkpoint"].encode("utf-8")))
    notes.extend(extra_notes)
    if not notes:
        raise Refused("proof: no checkpoint: without a signed tree head the proof binds nothing "
                      "to the journal (give one with --checkpoint)")
    return notes


def check_proof(obj, key, extra_notes=(), old_notes=()):
    """Verifies one proof object; returns a one-line summary, or raises Refused."""
    if not isinstance(obj, dict):
        raise Refused("proof: not a JSON object")
    kind = obj.get("type")
    if kind == "inclusion":
        seq = _int(obj, "seq", 1)
        index = _int(obj, "leaf_index")
        size = _int(obj, "tree_size", 1)
        if index != seq - 1:
            raise Refused("proof: leaf_index %d is not seq - 1 (%d)" % (index, seq - 1))
        entry = hex_strict(obj.get("entry"), "entry")
        if entry[:3] != b"MJ\x01":
            raise Refused("proof: the entry does not start with MJ and version 1")
        h = leaf_hash(entry)
        if "leaf_hash" in obj and hex_strict(obj["leaf_hash"], "leaf_hash", 32) != h:
            raise Refused("proof: leaf_hash %s is not the leaf hash of the entry (%s)" % (
                obj["leaf_hash"], h.hex()))
        root = hex_strict(obj.get("root"), "root", 32)
        why = verify_inclusion(index, size, h, _hashes(obj, "path"), root)
        if why:
            raise Refused("inclusion proof of entry %d in the tree of %d does not verify: %s"
                          % (seq, size, why))
        summary = "inclusion of entry %d (kind %d, leaf hash %s) in the tree of %d" % (
            seq, entry[3] if len(entry) > 3 else -1, h.hex(), size)
    elif kind == "consistency":
        old_size = _int(obj, "old_size")
        size = _int(obj, "tree_size")
        old_root = hex_strict(obj.get("old_root"), "old_root", 32)
        root = hex_strict(obj.get("root"), "root", 32)
        why = verify_consistency(old_size, size, old_root, root, _hashes(obj, "path"))
        if why:
            raise Refused("consistency proof from %d to %d does not verify: %s" % (
                old_size, size, why))
        for what, note in old_notes:
            c = verify_checkpoint(note, key)
            if (c.size, c.root) != (old_size, old_root):
                raise Refused("%s is of the tree (%d, %s), not the proof's old tree (%d, %s)" % (
                    what, c.size, c.root.hex(), old_size, old_root.hex()))
        summary = "consistency of the tree of %d (root %s) with the tree of %d" % (
            old_size, old_root.hex(), size)
    else:
        raise Refused("proof: unknown type %r" % (kind,))
    signed = []
    for what, note in checkpoints_of(obj, extra_notes):
        try:
            c = verify_checkpoint(note, key)
        except Refused as exc:
            raise Refused("%s: %s" % (what, exc))
        if (c.size, c.root) != (size, root):
            raise Refused("%s is of the tree (%d, %s), not the proof's (%d, %s)" % (
                what, c.size, c.root.hex(), size, root.hex()))
        signed.append(c)
    return "%s, root %s, signed by %r: %s" % (
        summary, root.hex(), key, "; ".join(repr(c) for c in signed))


def read_bytes(path):
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def run_verify(args):
    try:
        key = parse_verifier_key(read_bytes(args.verifier_key))
    except (OSError, Refused) as exc:
        print("verify_proofs: %s: %s" % (args.verifier_key, exc), file=sys.stderr)
        return 1
    try:
        extra = [("checkpoint file %s" % p, read_bytes(p)) for p in args.checkpoint]
        old = [("old checkpoint file %s" % p, read_bytes(p)) for p in args.old_checkpoint]
    except OSError as exc:
        print("verify_proofs: %s" % exc, file=sys.stderr)
        return 1
    failed = 0
    for path in args.proofs:
        try:
            try:
                obj = json.loads(read_bytes(path).decode("utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise Refused("cannot read the proof: %s" % exc)
            print("OK %s: %s" % (path, check_proof(obj, key, extra, old)))
        except Refused as exc:
            print("verify_proofs: %s: REFUSED: %s" % (path, exc), file=sys.stderr)
            failed += 1
    return 1 if failed else 0


# --------------------------------------------------------------------------------------------
# --self-test: the vectors of mailjournal-format(5), EXAMPLES and CHECKPOINTS, and RFC 8032

RFC6962_LEAVES = [bytes.fromhex(x) for x in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
RFC6962_LEAF_HASHES = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"]
RFC6962_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
MTREE_6 = [
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"]
INCLUSION_5_OF_8 = [
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]
CONSISTENCY_6_TO_8 = [
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]

PN_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PN_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PN_SEED = "810a1402d5146c8d84f2443330f54080ebf98ee17d9c74f6252fc5d5c7283173"
PN_PUB = "1a5cd907143c384c41e830c5bce12aa8817ec5649aaabf2c31388b35b2d744d6"
PN_TEXT = (b"If you think cryptography is the answer to your problem,\n"
           b"then you don't know what your problem is.\n")
PN_NOTE = PN_TEXT + ("\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
                     "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n").encode("utf-8")
PN_SIG = ("f64992e052f541bf49f7dcbc8010c5506d885ba92cbafca40704959227348b86"
          "52060dd451580b6a5948d5e02afa9fa9d9e0a2da5165be8a13a472c81c099c03")
CP_BODY = (b"mail.bank.example/journal\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
           b"time 2026-11-27T10:00:00.123456Z\n")
# the 217 octets of the man page's hexdump
CP_NOTE = bytes.fromhex(
    "6d61696c2e62616e6b2e6578616d706c652f6a6f75726e616c0a380a58636e61"
    "6561634757616d74565a79334164375a6f717564676a71744c306c677a2b4e77"
    "372f52675179673d0a74696d6520323032362d31312d32375431303a30303a30"
    "302e3132333435365a0a0ae280942050657465724e65756d616e6e2078303867"
    "6f36757a3477503768476d596e456a6c717878716a7362696450516d4e542b69"
    "70442b5138727a5143324b39305042396c332b47374b5a566c71706949313065"
    "54726f5a485248584a3431674b424d6e4c53564f3751773d0a")
CP_SIG = ("abb3e303fb8469989c48e5ab1c6a8ec6e274f426353fa2a43f90f2bcd00b62bd"
          "d0f07d977f86eca65596aa62235d1e4eba191d11d7278d602813272d254eed0c")
# EXAMPLES, A checkpoint entry: entry 3 of a test journal (kind 4: time, then the note), the
# daemon's verifier key, the root of entries 1 and 2 that it signs, and its leaf hash
CP_ENTRY_VKEY = "mail.bank.example/journal+6b9c369d+AcuDskOyDiHYXZisEdNLFTtD0NlZFzsLrHK2avho7XEQ"
CP_ENTRY = bytes.fromhex(
    "4d4a010401080006614230e72eab02e6016d61696c2e62616e6b2e6578616d70"
    "6c652f6a6f75726e616c0a320a495a4a424b716c72356b4859556876414f5473"
    "674e6b736c644a5a567363646c4c37416c7370516d4346673d0a74696d652032"
    "3032362d31312d32375431333a33393a33362e3435363837355a0a0ae2809420"
    "6d61696c2e62616e6b2e6578616d706c652f6a6f75726e616c20613577326e66"
    "476855326d6a4c5368554f6c6457784c3341536878494559764d736e6f2b576f"
    "62665842786f76466a497566767868597570464457654e315472665930337a49"
    "37574d76515043596b776a7751697531646c5141303d0a")
CP_ENTRY_ROOT = "2192412aa96be641d8521bc0393b20364b25749655b1c7652fb025b294260858"
CP_ENTRY_LEAF = "00bd258446d10853820cdb75d582fbe3f4fee30e5de3092052b184dd543e1519"
# RFC 8032, section 7.1, TEST 1 and TEST 2: (secret key, public key, message, signature)
RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
]


class SelfTest:
    def __init__(self):
        self.failures = 0
        self.count = 0

    def check(self, cond, what):
        self.count += 1
        if not cond:
            self.failures += 1
            print("FAIL: %s" % what)

    def refused(self, fn, what):
        try:
            fn()
        except Refused:
            self.check(True, what)
            return
        self.check(False, what + " (was accepted)")


def flip(data, i=0, bit=1):
    b = bytearray(data)
    b[i] ^= bit
    return bytes(b)


def self_test():
    t = SelfTest()
    # MERKLE TREE vectors (EXAMPLES, Merkle tree vectors)
    hashes = [leaf_hash(d) for d in RFC6962_LEAVES]
    for i, h in enumerate(hashes):
        t.check(h.hex() == RFC6962_LEAF_HASHES[i], "leaf hash of leaf %d" % i)
    for n in range(9):
        t.check(mth(RFC6962_LEAVES[:n]).hex() == RFC6962_ROOTS[n], "root of size %d" % n)
        t.check(fold_compact_range(compact_range(hashes[:n])).hex() == RFC6962_ROOTS[n],
                "compact range of size %d folds to its root" % n)
    t.check([r.hex() for r in compact_range(hashes[:6])] == MTREE_6, "mtree of size 6")
    t.check([r.hex() for r in compact_range(hashes[:7])] == MTREE_6 + [RFC6962_LEAF_HASHES[6]],
            "mtree of size 7")
    roots = [bytes.fromhex(r) for r in RFC6962_ROOTS]

    # Inclusion proof vector
    vec = [bytes.fromhex(x) for x in INCLUSION_5_OF_8]
    t.check(path(5, hashes) == vec, "PATH(5, D[8]) is the man page's vector")
    t.check(verify_inclusion(5, 8, hashes[5], vec, roots[8]) is None, "inclusion vector verifies")
    t.check(verify_inclusion(4, 8, hashes[5], vec, roots[8]) is not None, "wrong index refused")
    t.check(verify_inclusion(5, 8, hashes[4], vec, roots[8]) is not None, "wrong leaf refused")
    t.check(verify_inclusion(5, 7, hashes[5], vec, roots[7]) is not None, "wrong size refused")
    t.check(verify_inclusion(5, 8, hashes[5], vec + [vec[0]], roots[8]) is not None,
            "path too long refused")
    t.check(verify_inclusion(5, 8, hashes[5], vec[:2], roots[8]) is not None,
            "path too short refused")
    t.check(verify_inclusion(8, 8, hashes[5], vec, roots[8]) is not None,
            "index not below the size refused")
    for i in range(3):
        t.check(verify_inclusion(5, 8, hashes[5], vec[:i] + [flip(vec[i], 31)] + vec[i + 1:],
                                 roots[8]) is not None, "altered path hash %d refused" % i)
    t.check(verify_inclusion(0, 1, hashes[0], [], roots[1]) is None, "size 1, empty path")

    # Consistency proof vector
    vec = [bytes.fromhex(x) for x in CONSISTENCY_6_TO_8]
    t.check(consistency_proof(6, hashes) == vec, "PROOF(6, D[8]) is the man page's vector")
    t.check(verify_consistency(6, 8, roots[6], roots[8], vec) is None,
            "consistency vector verifies")
    t.check(verify_consistency(6, 8, roots[5], roots[8], vec) is not None, "wrong old root refused")
    t.check(verify_consistency(6, 8, roots[6], roots[7], vec) is not None, "wrong new root refused")
    t.check(verify_consistency(5, 8, roots[6], roots[8], vec) is not None, "wrong old size refused")
    t.check(verify_consistency(6, 8, roots[6], roots[8], vec[:2]) is not None,
            "short proof refused")
    t.check(verify_consistency(6, 8, roots[6], roots[8], vec + vec[:1]) is not None,
            "long proof refused")
    t.check(verify_consistency(0, 8, EMPTY_ROOT, roots[8], []) is None, "0 -> 8, empty proof")
    t.check(verify_consistency(0, 8, roots[1], roots[8], []) is not None,
            "0 -> 8 with an old root other than MTH({}) refused")
    t.check(verify_consistency(8, 8, roots[8], roots[8], []) is None, "8 -> 8")
    t.check(verify_consistency(8, 8, roots[8], roots[7], []) is not None, "8 -> 8, other root")
    t.check(verify_consistency(8, 6, roots[8], roots[6], vec) is not None, "8 -> 6 refused")

    # every proof of every tree up to 8 leaves, made from the definitions, verifies
    for n in range(1, 9):
        for m in range(n):
            p = path(m, hashes[:n])
            t.check(verify_inclusion(m, n, hashes[m], p, roots[n]) is None,
                    "PATH(%d, D[%d]) verifies" % (m, n))
            if p:
                t.check(verify_inclusion(m, n, hashes[m], p[:-1] + [flip(p[-1])], roots[n])
                        is not None, "altered PATH(%d, D[%d]) refused" % (m, n))
    for n in range(0, 9):
        for m in range(0, n + 1):
            p = consistency_proof(m, hashes[:n])
            t.check(verify_consistency(m, n, roots[m], roots[n], p) is None,
                    "PROOF(%d, D[%d]) verifies" % (m, n))
            if p:
                t.check(verify_consistency(m, n, roots[m], roots[n], [flip(p[0])] + p[1:])
                        is not None, "altered PROOF(%d, D[%d]) refused" % (m, n))

    # Ed25519: RFC 8032 vectors, sign and verify
    for sk, pk, msg, sig in RFC8032:
        sk, pk, msg, sig = (bytes.fromhex(x) for x in (sk, pk, msg, sig))
        t.check(ed25519_public_key(sk) == pk, "RFC 8032 public key %s" % pk.hex()[:8])
        t.check(ed25519_sign(sk, msg) == sig, "RFC 8032 signature %s" % sig.hex()[:8])
        t.check(ed25519_verify(pk, msg, sig), "RFC 8032 signature %s verifies" % sig.hex()[:8])
        t.check(not ed25519_verify(pk, msg + b"x", sig), "RFC 8032: other message refused")
        t.check(not ed25519_verify(pk, msg, flip(sig, 10)), "RFC 8032: altered R refused")
        t.check(not ed25519_verify(pk, msg, flip(sig, 40)), "RFC 8032: altered S refused")

    # CHECKPOINTS, Worked example: the PeterNeumann keys and notes
    key = parse_verifier_key(PN_VERIFIER)
    t.check(key.name == b"PeterNeumann" and key.id == 0xc74f20a3 and key.pub.hex() == PN_PUB,
            "PeterNeumann verifier key")
    t.check(key_id(b"PeterNeumann", bytes.fromhex(PN_PUB)) == 0xc74f20a3, "key id c74f20a3")
    name, kid, seed, pub = parse_signer_key(PN_SIGNER)
    t.check((name, kid, seed.hex(), pub.hex()) == (b"PeterNeumann", 0xc74f20a3, PN_SEED, PN_PUB),
            "PeterNeumann signer key and its public key")
    t.check(len(PN_TEXT) == 99, "the text of the note is 99 octets")
    t.check(verify_note(PN_NOTE, key) == PN_TEXT, "the PeterNeumann note verifies")
    sig = b64_strict(PN_NOTE.split(b" ")[-1].strip(), "sig")
    t.check(sig[:4].hex() == "c74f20a3" and sig[4:].hex() == PN_SIG,
            "the PeterNeumann note's signature decodes to the key id and the signature")
    t.check(ed25519_sign(seed, PN_TEXT).hex() == PN_SIG, "the PeterNeumann signature reproduced")
    t.refused(lambda: verify_note(PN_NOTE.replace(b"answer", b"Answer"), key), "altered text")
    t.refused(lambda: verify_note(PN_NOTE.replace(b"x08go/", b"x08go+"), key), "altered signature")
    t.refused(lambda: verify_note(PN_NOTE[:-1], key), "note without its last LF")
    t.refused(lambda: verify_note(PN_NOTE.replace(b"\n\n", b"\n"), key), "note without empty line")
    t.refused(lambda: verify_note(PN_NOTE.replace(b"PeterNeumann", b"PeterNeuman"), key),
              "note signed by another name")
    t.refused(lambda: verify_note(PN_NOTE.replace("\u2014".encode(), b"-"), key),
              "signature line without the em dash")
    other = parse_verifier_key(PN_VERIFIER)
    other.id ^= 1
    t.refused(lambda: verify_note(PN_NOTE, other), "note checked against another key id")
    t.refused(lambda: parse_verifier_key(PN_VERIFIER.replace("c74f20a3", "c74f20a4")),
              "verifier key with a wrong key id")
    t.refused(lambda: parse_verifier_key(PN_VERIFIER.replace("+ARpc", "+AhpC")),
              "verifier key with another algorithm octet")
    t.refused(lambda: parse_verifier_key(PN_SIGNER), "signer key given as verifier key")
    t.check(parse_verifier_key(PN_VERIFIER.replace("c74f20a3", "C74F20A3")).id == 0xc74f20a3,
            "upper-case key id read")

    # Checkpoint body and the 217-octet signed checkpoint
    c = parse_checkpoint_body(CP_BODY)
    t.check(len(CP_BODY) == 106, "checkpoint body is 106 octets")
    t.check((c.origin, c.size, c.root.hex(), c.time) == (
        b"mail.bank.example/journal", 8, RFC6962_ROOTS[8], "2026-11-27T10:00:00.123456Z"),
        "checkpoint body fields")
    t.check(len(CP_NOTE) == 217 and CP_NOTE.startswith(CP_BODY + b"\n\xe2\x80\x94 PeterNeumann "),
            "the checkpoint note is the body, an empty line and a PeterNeumann signature line")
    t.check(verify_note(CP_NOTE, key) == CP_BODY, "the checkpoint note verifies")
    t.check(b64_strict(CP_NOTE[:-1].split(b" ")[-1], "sig")[4:].hex() == CP_SIG,
            "the checkpoint note's signature is the man page's")
    t.check(ed25519_sign(seed, CP_BODY).hex() == CP_SIG, "the checkpoint signature reproduced")
    t.check(verify_checkpoint(CP_NOTE, key).size == 8, "verify_checkpoint")

    # A checkpoint entry: magic, version 1, kind 4; time (tag 1, 8 octets); note (tag 2,
    # length 230 as the varint e6 01), which the daemon's verifier key accepts
    t.check(len(CP_ENTRY) == 247 and CP_ENTRY[:4] == b"MJ\x01\x04", "checkpoint entry header")
    t.check(leaf_hash(CP_ENTRY).hex() == CP_ENTRY_LEAF, "checkpoint entry leaf hash")
    t.check(CP_ENTRY[4:6] == b"\x01\x08" and CP_ENTRY[14:17] == b"\x02\xe6\x01",
            "checkpoint entry fields: time, then a note of 230 octets")
    t.check(int.from_bytes(CP_ENTRY[6:14], "big") == 1795786776456875, "checkpoint entry time")
    daemon_key = parse_verifier_key(CP_ENTRY_VKEY)
    t.check(daemon_key.id == 0x6b9c369d, "the daemon's verifier key")
    entry_note = CP_ENTRY[17:]
    try:
        c = verify_checkpoint(entry_note, daemon_key)
        t.check((len(entry_note), c.origin, c.size, c.root.hex(), c.time) == (
            230, b"mail.bank.example/journal", 2, CP_ENTRY_ROOT, "2026-11-27T13:39:36.456875Z"),
            "the checkpoint entry's note: tree size 2, its root, the entry's time")
    except Refused as exc:
        t.check(False, "the checkpoint entry's note verifies: %s" % exc)
    t.refused(lambda: verify_checkpoint(entry_note, key), "the entry's note under another key")
    t.refused(lambda: verify_checkpoint(entry_note.replace(b"\n2\n", b"\n3\n"), daemon_key),
              "the entry's note with another tree size")
    for bad, what in ((CP_BODY.replace(b"\n8\n", b"\n08\n"), "size with a leading zero"),
                      (CP_BODY.replace(b"\n8\n", b"\n+8\n"), "size with a sign"),
                      (CP_BODY.replace(b"\n8\n", b"\n12345678901234567890\n"), "20-digit size"),
                      (CP_BODY.replace(b"Qyg=", b"Qyh="), "root with padding bits"),
                      (CP_BODY.replace(b"Qyg=", b"Qy=="), "root of 31 octets"),
                      (CP_BODY[:-1], "last line without LF"),
                      (CP_BODY + b"extra\n", "a fifth line"),
                      (CP_BODY.replace(b"time ", b"Time "), "other fourth line"),
                      (CP_BODY.replace(b".123456Z", b"Z"), "time without microseconds"),
                      (CP_BODY.replace(b"11-27", b"13-27"), "month 13"),
                      (CP_BODY.replace(b"mail.bank.example/journal", b""), "empty origin")):
        t.refused(lambda bad=bad: parse_checkpoint_body(bad), "checkpoint body: " + what)
    t.refused(lambda: b64_strict("abc", "x"), "base64 length not a multiple of 4")
    t.refused(lambda: b64_strict("ab\ncd==", "x"), "base64 with a line break")
    t.check(b64_strict("AAAA", "x") == b"\0\0\0", "base64 AAAA")

    # a proof object end to end, with the man page's checkpoint (tree of 8, key PeterNeumann)
    proof = {"type": "inclusion", "seq": 6, "leaf_index": 5, "tree_size": 8,
             "entry": "4d4a01" + "00", "path": [], "root": RFC6962_ROOTS[8],
             "checkpoint": CP_NOTE.decode("utf-8")}
    entries = [b"MJ\x01" + bytes([i]) for i in range(8)]
    eh = [leaf_hash(e) for e in entries]
    eroot = mth_of_hashes(eh)
    body = b"test/origin\n8\n" + base64.b64encode(eroot) + b"\ntime 2026-11-27T10:00:00.000000Z\n"
    note = body + b"\n\xe2\x80\x94 PeterNeumann " + base64.b64encode(
        (0xc74f20a3).to_bytes(4, "big") + ed25519_sign(seed, body)) + b"\n"
    proof.update(entry=entries[5].hex(), leaf_hash=eh[5].hex(),
                 path=[h.hex() for h in path(5, eh)], root=eroot.hex(), checkpoint=note.decode())
    try:
        check_proof(proof, key)
        t.check(True, "inclusion proof object")
    except Refused as exc:
        t.check(False, "inclusion proof object: %s" % exc)
    t.refused(lambda: check_proof(dict(proof, checkpoint=CP_NOTE.decode()), key),
              "inclusion proof with the checkpoint of another tree")
    t.refused(lambda: check_proof(dict(proof, entry=entries[4].hex()), key),
              "inclusion proof with another entry")
    t.refused(lambda: check_proof({k: v for k, v in proof.items() if k != "checkpoint"}, key),
              "inclusion proof without a checkpoint")
    cons = {"type": "consistency", "old_size": 3, "old_root": mth_of_hashes(eh[:3]).hex(),
            "tree_size": 8, "root": eroot.hex(),
            "path": [h.hex() for h in consistency_proof(3, eh)], "checkpoint": note.decode()}
    try:
        check_proof(cons, key)
        t.check(True, "consistency proof object")
    except Refused as exc:
        t.check(False, "consistency proof object: %s" % exc)
    t.refused(lambda: check_proof(dict(cons, old_size=4), key), "consistency with another size")
    t.refused(lambda: check_proof(cons, key, old_notes=[("cp", note)]),
              "consistency with an old checkpoint of another tree")

    print("self-test: %d checks, %d failed" % (t.count, t.failures))
    return 1 if t.failures else 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Verify mailjournal proofs (proof --format json) and their signed "
                    "checkpoints independently, from mailjournal-format(5).")
    ap.add_argument("--self-test", action="store_true",
                    help="check the RFC 6962, RFC 8032 and man page vectors, then exit")
    ap.add_argument("--verifier-key", help="the checkpoint verifier key file (checkpoint.vkey)")
    ap.add_argument("--checkpoint", action="append", default=[],
                    help="a signed checkpoint (note) of the proof's tree; repeatable")
    ap.add_argument("--old-checkpoint", action="append", default=[],
                    help="a signed checkpoint of a consistency proof's old tree; repeatable")
    ap.add_argument("proofs", nargs="*", help="proof JSON files ('-': standard input)")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.verifier_key or not args.proofs:
        ap.error("--verifier-key and at least one proof are required (or --self-test)")
    return run_verify(args)


if __name__ == "__main__":
    sys.exit(main())
