#!/usr/bin/env python3
"""Reference implementation of parts of the Gloss protocol, written from Protocol/*.md alone.

Not normative: where this file and the Markdown disagree, the Markdown is right and this file
has a bug. Standard library only (Python 3.8+).

    python3 gloss_reference.py            check every vector in ../vectors/ this file understands
    python3 gloss_reference.py id R C     the text form of annotation id (replica R, counter C)
    python3 gloss_reference.py parse ID   replica and counter of a 26-character id
    python3 gloss_reference.py pin FILE   the pin (sha256:...) of a DER or PEM certificate
    python3 gloss_reference.py delta FILE decode a .hex delta and print its ops

Covers: annotation id text form (storage-encoding.md), the delta codec with its running
counter and start, text revisions and anchors (storage-encoding.md), certificate pins (wire.md section 0), conflict ids
(data-model.md).
"""

import base64
import hashlib
import os
import re
import sys

MASK = (1 << 64) - 1

# --------------------------------------------------------------------------------------------
# Annotation ids: storage-encoding.md, "Textual form of an annotation id"

K = [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93]
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _f(x, k):
    z = (x + k) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def id_text(replica, counter):
    """The 26-character text form of annotation id (replica, counter)."""
    left, right = counter & MASK, replica & MASK
    for k in K:
        left, right = right, left ^ _f(right, k)
    v = (left << 64) | right
    return "".join(ALPHABET[(v >> (5 * (25 - i))) & 31] for i in range(26))


def parse_id(text):
    """(replica, counter) of a text id, or None when it is not one."""
    if len(text) != 26 or any(c not in ALPHABET for c in text) or ALPHABET.index(text[0]) > 7:
        return None
    v = 0
    for c in text:
        v = (v << 5) | ALPHABET.index(c)
    left, right = v >> 64, v & MASK
    for k in reversed(K):
        left, right = right ^ _f(left, k), left
    return right, left


# --------------------------------------------------------------------------------------------
# Certificate pins: wire.md section 0

def pin_of_der(der):
    return "sha256:" + hashlib.sha256(der).hexdigest()


def parse_pin(text):
    """The 32 digest bytes of a pin, or None. Accepts what wire.md section 0 says a parser accepts."""
    if len(text) <= 7 or text[:7].lower() != "sha256:":
        return None
    digits = text[7:]
    if len(digits) == 95:
        if any(digits[i] != ":" for i in range(2, 95, 3)):
            return None
        digits = "".join(digits[i:i + 2] for i in range(0, 95, 3))
    if len(digits) != 64 or not re.fullmatch(r"[0-9A-Fa-f]{64}", digits):
        return None
    return bytes.fromhex(digits)


def der_of_file(path):
    data = open(path, "rb").read()
    m = re.search(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", data, re.S)
    return base64.b64decode(b"".join(m.group(1).split())) if m else data


# --------------------------------------------------------------------------------------------
# Conflict ids: data-model.md, "Conflicts"

def conflict_id(kind, document, annotation, their_revision, field=None, reference=None):
    key = "%s|%s|%s|%d" % (kind, document or "", annotation or "", their_revision)
    if field is not None:
        key += "|" + field
    if reference is not None:
        key += "|" + reference
    return hashlib.sha256(key.encode()).digest()[:10].hex()


# --------------------------------------------------------------------------------------------
# Deltas: storage-encoding.md
#
# Ops are tuples:
#   ("create", ann)  ann: dict id, kind, owner, layer, label, ranges, from, to, target, text, attributes,
#                    and "anchor" only when the annotation has one (kind byte bit 0x80)
#   ("set", id, field, value)   field: "label" | "ranges" | "from" | "to" | "text" | ("attribute", key) | "anchor"
#                               value: ("string", s) | ("ranges", [(start, end)]) | ("reference", id) | ("none",)
#                                      | ("anchor", anchor)
#   ("delete", id)
#   ("addDocument", digest_bytes, length, metadata_dict)
#   ("removeDocument",)
#   ("setSchema", json_text)
#   ("reviseText", from_digest, from_length, to_digest, to_length, [(old_start, old_end, new_length)])
# An id is a tuple (replica, counter); an anchor a tuple (digest_bytes, [(start, end)]).

KINDS = ["span", "relation", "documentLabel", "note"]
ANCHORED = 0x80  # the kind byte's bit: an anchor follows the annotation's other parts
FIELDS = ["label", "ranges", "from", "to", "text", "attribute", "anchor"]
VALUES = ["string", "ranges", "reference", "none", "anchor"]


def _newer(what):
    return ValueError("%s, written by a newer version of Gloss: upgrade gloss" % what)
F_LABEL, F_RANGES, F_FROM, F_TO, F_TARGET, F_TEXT, F_ATTRS, F_LAYER = 1, 2, 4, 8, 16, 32, 64, 128


class Reader:
    def __init__(self, data):
        self.data, self.pos = bytes(data), 0
        self.counter, self.start = 0, 0  # the running values, reset per delta
        self.strings, self.replicas = [], []

    def u8(self):
        if self.pos >= len(self.data):
            raise ValueError("truncated at byte %d" % self.pos)
        self.pos += 1
        return self.data[self.pos - 1]

    def raw(self, n):
        if n > len(self.data) - self.pos:
            raise ValueError("%d bytes wanted at %d, %d left" % (n, self.pos, len(self.data) - self.pos))
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def varint(self):
        v = 0
        for i in range(10):
            b = self.u8()
            v |= (b & 0x7F) << (7 * i)
            if b < 0x80:
                if v > MASK:
                    raise ValueError("varint over 64 bits")
                return v
        raise ValueError("varint longer than 10 bytes")

    def zigzag(self):
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def string(self):
        return self.raw(self.varint()).decode("utf-8")  # strict: invalid UTF-8 raises

    def strref(self):
        i = self.varint()
        if i >= len(self.strings):
            raise ValueError("string index %d of %d" % (i, len(self.strings)))
        return self.strings[i]

    def id(self):
        i = self.varint()
        if i >= len(self.replicas):
            raise ValueError("replica index %d of %d" % (i, len(self.replicas)))
        self.counter = (self.counter + self.zigzag()) & MASK
        return (self.replicas[i], self.counter)

    def ranges(self):
        out = []
        for _ in range(self.varint()):
            start = self.start + self.zigzag()
            end = start + self.zigzag()
            if not (-(1 << 63) <= start < (1 << 63) and -(1 << 63) <= end < (1 << 63)):
                raise ValueError("range offset overflows")
            out.append((start, end))
            self.start = start
        return out

    def string_map(self):
        m = {}
        for _ in range(self.varint()):
            k = self.strref()
            m[k] = self.strref()
        return m

    def anchor(self):
        digest = self.raw(32)
        return (digest, self.ranges())

    def edits(self):
        # Gap after the previous edit's end, old length, new length; not the running start.
        out, previous_end = [], 0
        for _ in range(self.varint()):
            start = previous_end + self.zigzag()
            end = start + self.zigzag()
            out.append((start, end, self.zigzag()))
            previous_end = end
        return out


def decode_delta(data):
    """(document or None, ops) of an uncompressed delta."""
    r = Reader(data)
    if r.u8() != 1:
        raise ValueError("not format version 1")
    document = r.string() if r.u8() == 1 else None
    r.strings = [r.string() for _ in range(r.varint())]
    r.replicas = [int.from_bytes(r.raw(8), "little") for _ in range(r.varint())]
    ops = []
    for _ in range(r.varint()):
        tag = r.u8()
        if tag == 5:
            ops.append(("setSchema", r.string()))
            continue
        if document is None:
            raise ValueError("op %d in a delta without a document" % tag)
        if tag == 0:
            ident = r.id()
            kind = r.u8()
            if kind & ~ANCHORED >= len(KINDS):
                raise _newer("unknown annotation kind %d" % kind)
            ann = {"id": ident, "kind": KINDS[kind & ~ANCHORED]}
            flags = r.u8()
            ann["owner"] = r.strref()
            ann["layer"] = r.strref() if flags & F_LAYER else ann["owner"]
            ann["label"] = r.strref() if flags & F_LABEL else ""
            ann["ranges"] = r.ranges() if flags & F_RANGES else []
            ann["from"] = r.id() if flags & F_FROM else None
            ann["to"] = r.id() if flags & F_TO else None
            ann["target"] = r.id() if flags & F_TARGET else None
            ann["text"] = r.string() if flags & F_TEXT else ""
            ann["attributes"] = r.string_map() if flags & F_ATTRS else {}
            if kind & ANCHORED:
                ann["anchor"] = r.anchor()
            ops.append(("create", ann))
        elif tag == 1:
            target = r.id()
            ftag = r.u8()
            if ftag >= len(FIELDS):
                raise _newer("unknown field tag %d" % ftag)
            field = FIELDS[ftag]
            if field == "attribute":
                field = ("attribute", r.strref())
            vtag = r.u8()
            if vtag == 0:
                value = ("string", r.string())
            elif vtag == 1:
                value = ("ranges", r.ranges())
            elif vtag == 2:
                value = ("reference", r.id())
            elif vtag == 3:
                value = ("none",)
            elif vtag == 4:
                value = ("anchor", r.anchor())
            else:
                raise _newer("unknown value tag %d" % vtag)
            ops.append(("set", target, field, value))
        elif tag == 2:
            ops.append(("delete", r.id()))
        elif tag == 3:
            ops.append(("addDocument", r.raw(32), r.varint(), r.string_map()))
        elif tag == 4:
            ops.append(("removeDocument",))
        elif tag == 6:
            ops.append(("reviseText", r.raw(32), r.varint(), r.raw(32), r.varint(), r.edits()))
        else:
            raise _newer("unknown op tag %d" % tag)
    if r.pos != len(r.data):
        raise ValueError("%d bytes after the last op" % (len(r.data) - r.pos))
    return document, ops


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _zigzag(n):
    n = ((n + (1 << 63)) & MASK) - (1 << 63)  # to a signed 64-bit value
    return _varint(((n << 1) ^ (n >> 63)) & MASK)


def _string(s):
    b = s.encode("utf-8")
    return _varint(len(b)) + b


def _sort_key(s):
    import unicodedata
    return unicodedata.normalize("NFC", s).encode("utf-8")


def encode_delta(ops, document):
    """The delta glossd writes for these ops: tables in first-use order (storage-encoding.md)."""
    strings, replicas, body = [], [], bytearray()
    state = {"counter": 0, "start": 0}

    def strref(s):
        if s not in strings:
            strings.append(s)
        body.extend(_varint(strings.index(s)))

    def ident(i):
        replica, counter = i
        if replica not in replicas:
            replicas.append(replica)
        body.extend(_varint(replicas.index(replica)))
        body.extend(_zigzag(counter - state["counter"]))
        state["counter"] = counter

    def ranges(rs):
        body.extend(_varint(len(rs)))
        for start, end in rs:
            body.extend(_zigzag(start - state["start"]))
            body.extend(_zigzag(end - start))
            state["start"] = start

    def string_map(m):
        body.extend(_varint(len(m)))
        for k in sorted(m, key=_sort_key):
            strref(k)
            strref(m[k])

    def anchor(a):
        digest, rs = a
        body.extend(digest)
        ranges(rs)

    for op in ops:
        if op[0] == "create":
            a = op[1]
            flags = ((F_LABEL if a.get("label") else 0) | (F_RANGES if a.get("ranges") else 0)
                     | (F_FROM if a.get("from") else 0) | (F_TO if a.get("to") else 0)
                     | (F_TARGET if a.get("target") else 0) | (F_TEXT if a.get("text") else 0)
                     | (F_ATTRS if a.get("attributes") else 0)
                     | (F_LAYER if a.get("layer", a["owner"]) != a["owner"] else 0))
            body.append(0)
            ident(a["id"])
            body.append(KINDS.index(a["kind"]) | (ANCHORED if a.get("anchor") is not None else 0))
            body.append(flags)
            strref(a["owner"])
            if flags & F_LAYER:
                strref(a["layer"])
            if flags & F_LABEL:
                strref(a["label"])
            if flags & F_RANGES:
                ranges(a["ranges"])
            for key, flag in (("from", F_FROM), ("to", F_TO), ("target", F_TARGET)):
                if flags & flag:
                    ident(a[key])
            if flags & F_TEXT:
                body.extend(_string(a["text"]))
            if flags & F_ATTRS:
                string_map(a["attributes"])
            if a.get("anchor") is not None:
                anchor(a["anchor"])
        elif op[0] == "set":
            _, target, field, value = op
            body.append(1)
            ident(target)
            if isinstance(field, tuple):
                body.append(5)
                strref(field[1])
            else:
                body.append(FIELDS.index(field))
            body.append(VALUES.index(value[0]))
            if value[0] == "string":
                body.extend(_string(value[1]))
            elif value[0] == "ranges":
                ranges(value[1])
            elif value[0] == "reference":
                ident(value[1])
            elif value[0] == "anchor":
                anchor(value[1])
        elif op[0] == "delete":
            body.append(2)
            ident(op[1])
        elif op[0] == "addDocument":
            body.append(3)
            body.extend(op[1])
            body.extend(_varint(op[2]))
            string_map(op[3])
        elif op[0] == "removeDocument":
            body.append(4)
        elif op[0] == "setSchema":
            body.append(5)
            body.extend(_string(op[1]))
        elif op[0] == "reviseText":
            _, from_digest, from_length, to_digest, to_length, edits = op
            body.append(6)
            body.extend(from_digest)
            body.extend(_varint(from_length))
            body.extend(to_digest)
            body.extend(_varint(to_length))
            body.extend(_varint(len(edits)))
            previous_end = 0
            for start, end, new_length in edits:
                body.extend(_zigzag(start - previous_end))
                body.extend(_zigzag(end - start))
                body.extend(_zigzag(new_length))
                previous_end = end
    out = bytearray([1])
    out += (b"\x01" + _string(document)) if document is not None else b"\x00"
    out += _varint(len(strings)) + b"".join(_string(s) for s in strings)
    out += _varint(len(replicas)) + b"".join(r.to_bytes(8, "little") for r in replicas)
    out += _varint(len(ops)) + body
    return bytes(out)


# --------------------------------------------------------------------------------------------
# Vectors

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors")


def hex_file(name):
    text = open(os.path.join(VECTORS, name)).read()
    return bytes.fromhex("".join(l for l in text.splitlines() if not l.startswith("#")).replace(" ", ""))


def check_vectors():
    failures = 0

    def expect(ok, what):
        nonlocal failures
        print(("ok    " if ok else "FAIL  ") + what)
        failures += not ok

    # Annotation ids, both ways.
    for line in open(os.path.join(VECTORS, "annotation-ids.txt")):
        if line.startswith("#") or not line.strip():
            continue
        replica, counter, text = line.split()
        replica, counter = int(replica, 16), int(counter)
        expect(id_text(replica, counter) == text and parse_id(text) == (replica, counter),
               "annotation id %016x/%d = %s" % (replica, counter, text))
    expect(parse_id("z" * 26) is None and parse_id("0" * 25) is None and parse_id("0" * 25 + "i") is None,
           "non-ids are refused")

    # delta-v1.hex: the ops storage-encoding.md lists, and the same bytes back.
    data = hex_file("delta-v1.hex")
    document, ops = decode_delta(data)
    replica = 0x0102030405060708
    alice = hashlib.sha256(b"Alice met Bob.").digest()
    span = {"kind": "span", "owner": "ann", "layer": "ann", "label": "PER", "from": None, "to": None,
            "target": None, "text": ""}
    want = [("addDocument", alice, 14, {}),
            ("create", dict(span, id=(replica, 1), ranges=[(0, 5)], attributes={})),
            ("create", dict(span, id=(replica, 2), ranges=[(10, 13)], attributes={"negated": "no"})),
            ("set", (replica, 1), "label", ("string", "ORG")),
            ("delete", (replica, 2))]
    expect(document == "news/1" and ops == want, "delta-v1.hex decodes to the ops of storage-encoding.md")
    expect(encode_delta(ops, document) == data, "delta-v1.hex re-encodes to the same bytes")

    # delta-running-state.hex: see its header and storage-encoding.md.
    data = hex_file("delta-running-state.hex")
    document, ops = decode_delta(data)
    expect(document == "news/1" and ops == RUNNING_STATE_OPS, "delta-running-state.hex decodes to its ops")
    expect(encode_delta(ops, document) == data, "delta-running-state.hex re-encodes to the same bytes")

    # The other delta vectors: each decodes, names its document, and re-encodes to the same bytes.
    for name, want_document, want_count in (("delta-document-ops.hex", "news/2", 7), ("delta-corpus.hex", None, 1),
                                            ("snapshot.hex", "news/1", 5)):
        data = hex_file(name)
        document, ops = decode_delta(data)
        expect(document == want_document and len(ops) == want_count, "%s decodes to %d ops" % (name, want_count))
        expect(encode_delta(ops, document) == data, "%s re-encodes to the same bytes" % name)
    # delta-text-revision.hex: reviseText, anchored creates, set anchor (see its header).
    data = hex_file("delta-text-revision.hex")
    document, ops = decode_delta(data)
    expect(document == "news/3" and ops == TEXT_REVISION_OPS, "delta-text-revision.hex decodes to its ops")
    expect(encode_delta(ops, document) == data, "delta-text-revision.hex re-encodes to the same bytes")
    expect(apply_edits_lengths(16, ops[0][5]) == 17, "delta-text-revision.hex: the edits' lengths add up")
    for bad, what in ((bytes([7]), "op tag 7"), (bytes([1, 0, 1, 7]), "field tag 7"),
                      (bytes([1, 0, 1, 6, 5]), "value tag 5"), (bytes([0, 0, 1, 0x84]), "kind 0x84")):
        delta = b"\x01\x01\x01x\x00\x01" + (1).to_bytes(8, "little") + b"\x01" + bad + b"\x00" * 8
        try:
            decode_delta(delta)
            refused = False
        except ValueError as e:
            refused = "newer version of Gloss" in str(e)
        expect(refused, "an unknown %s is refused as written by a newer Gloss" % what)

    snapshot_ops = decode_delta(hex_file("snapshot.hex"))[1]
    creates = [op[1] for op in snapshot_ops[1:]]
    spans = [a for a in creates if a["kind"] == "span"]
    others = [a for a in creates if a["kind"] != "span"]
    expect(snapshot_ops[0][0] == "addDocument" and creates == spans + others
           and spans == sorted(spans, key=lambda a: (a["ranges"][0][0], a["id"]))
           and others == sorted(others, key=lambda a: a["id"]),
           "snapshot.hex lists spans by first start, then the rest by id")
    return failures


R1, R2 = 0x0102030405060708, 0x1112131415161718
A, B, C, D = (R1, 7), (R2, 3), (R1, 8), (R1, 9)
RUNNING_STATE_OPS = [
    ("create", {"id": A, "kind": "span", "owner": "ann", "layer": "ann", "label": "PER", "ranges": [(0, 5)],
                "from": None, "to": None, "target": None, "text": "", "attributes": {}}),
    ("create", {"id": B, "kind": "span", "owner": "bob", "layer": "curated", "label": "PER",
                "ranges": [(6, 9), (10, 13)], "from": None, "to": None, "target": None, "text": "",
                "attributes": {}}),
    ("create", {"id": C, "kind": "relation", "owner": "ann", "layer": "ann", "label": "meets", "ranges": [],
                "from": A, "to": B, "target": None, "text": "", "attributes": {"certain": "yes"}}),
    ("create", {"id": D, "kind": "note", "owner": "ann", "layer": "ann", "label": "", "ranges": [],
                "from": None, "to": None, "target": C, "text": "check", "attributes": {}}),
    ("set", B, "ranges", ("ranges", [(10, 13)])),
    ("set", C, "to", ("reference", A)),
    ("set", C, "from", ("reference", B)),
    ("set", C, ("attribute", "certain"), ("none",)),
]


def apply_edits_lengths(from_length, edits):
    """The new text's length that `edits` make of a text of `from_length`, or None when they
    break the rules of data-model.md, "Text revisions"."""
    previous_end, length = -1, from_length
    for start, end, new_length in edits:
        if not (0 <= start <= end <= from_length and new_length >= 0) or (start == end and new_length == 0):
            return None
        if start <= previous_end:
            return None
        previous_end = end
        length += new_length - (end - start)
    return length


OLD_TEXT, NEW_TEXT = hashlib.sha256(b"The big cat sat.").digest(), hashlib.sha256(b"The cat sat down.").digest()
TEXT_REVISION_OPS = [
    ("reviseText", OLD_TEXT, 16, NEW_TEXT, 17, [(4, 8, 0), (15, 15, 5)]),
    ("create", {"id": (R1, 1), "kind": "span", "owner": "ann", "layer": "ann", "label": "NP", "ranges": [(0, 7)],
                "from": None, "to": None, "target": None, "text": "", "attributes": {"checked": "no"},
                "anchor": (OLD_TEXT, [(0, 11)])}),
    ("create", {"id": (R1, 2), "kind": "span", "owner": "ann", "layer": "ann", "label": "ADJ", "ranges": [],
                "from": None, "to": None, "target": None, "text": "", "attributes": {},
                "anchor": (OLD_TEXT, [(4, 7)])}),
    ("set", (R1, 1), "anchor", ("anchor", (OLD_TEXT, [(0, 3), (8, 11)]))),
    ("set", (R1, 1), "anchor", ("none",)),
]


def main(argv):
    if len(argv) == 1:
        return 1 if check_vectors() else 0
    if argv[1] == "id":
        print(id_text(int(argv[2], 0), int(argv[3], 0)))
    elif argv[1] == "parse":
        parsed = parse_id(argv[2])
        print("not an id" if parsed is None else "replica %016x counter %d" % parsed)
    elif argv[1] == "pin":
        print(pin_of_der(der_of_file(argv[2])))
    elif argv[1] == "delta":
        document, ops = decode_delta(hex_file(os.path.relpath(argv[2], VECTORS)))
        print("document", document)
        for op in ops:
            print(op)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
