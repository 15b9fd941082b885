#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets (FUZZING.md) under Tools/Fuzz/corpus/TARGET/.

Seeds come from three places:
- the protocol's test vectors (Protocol/vectors/), turned into each target's input layout;
- small hand-made inputs, written by the functions below and by the files in Tools/Fuzz/seeds/;
- the real exports in ../shared/data/ beside the repository, when present. Those files must not
  be committed, so they are copied here at run time only (corpus/ is ignored by git).

Each seed starts with the target's mode byte where the target reads one (see its source).
Seeds are named by their SHA-1, as libFuzzer names what it adds, so running this again adds
nothing twice. Usage: seed.py [TARGET ...] (default: all).
"""
import hashlib
import json
import os
import re
import struct
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VECTORS = ROOT / "Protocol" / "vectors"
SHARED = Path(os.environ.get("GLOSS_SHARED_DATA", ROOT.parent / "shared" / "data"))
CORPUS = Path(os.environ.get("GLOSS_FUZZ_CORPUS", HERE / "corpus"))
MAX_SEED = 64 * 1024  # larger seeds slow every mutation down more than they add coverage
PREFACE = bytes.fromhex("89474c530d0a1a0a")

TARGETS = [
    "FuzzFrameDecoder", "FuzzMessageAssembler", "FuzzWireMessage", "FuzzDeltaCodec", "FuzzHeadBlockCodec",
    "FuzzHeadEntryCodec", "FuzzSnapshot", "FuzzBrat", "FuzzDoccano", "FuzzLabelStudio", "FuzzCoNLL", "FuzzW3C",
    "FuzzInlineMarkup", "FuzzSettings",
]

seeds: dict[str, list[bytes]] = {t: [] for t in TARGETS}


def add(target: str, data: bytes) -> None:
    if len(data) <= MAX_SEED:
        seeds[target].append(data)


def hexfile(path: Path) -> bytes:
    """A vector's bytes: hex digits, '#' comments and whitespace ignored."""
    text = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
    return bytes.fromhex(re.sub(r"\s+", "", text))


def frames(data: bytes):
    """(type, flags, request id, payload) of each whole frame in data (after any preface)."""
    if data.startswith(PREFACE):
        data = data[len(PREFACE):]
    while len(data) >= 12:
        length, ftype, flags, _, rid = struct.unpack(">IBBHI", data[:12])
        if len(data) < 12 + length:
            return
        yield ftype, flags, rid, data[12:12 + length]
        data = data[12 + length:]


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n: int) -> bytes:
    return varint((n << 1) ^ (n >> 63) if n < 0 else n << 1)


def string(s: str) -> bytes:
    b = s.encode()
    return varint(len(b)) + b


def tables(strings, replicas) -> bytes:
    out = varint(len(strings)) + b"".join(string(s) for s in strings)
    return out + varint(len(replicas)) + b"".join(struct.pack("<Q", r) for r in replicas)


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


# --- Wire: the vectors' frames ---------------------------------------------------------------

# Frame types (wire.md) to the body selector of FuzzWireMessage.
WIRE_SELECTOR = {0x01: 0, 0x02: 1, 0x03: 2, 0x04: 3, 0x06: 4, 0x09: 5}
STREAM = 0x05


def wire_stream(stream: bytes) -> None:
    """One recorded byte stream (one side of a connection, or one message)."""
    add("FuzzFrameDecoder", bytes([1 if stream.startswith(PREFACE) else 0]) + stream)
    add("FuzzFrameDecoder", bytes([(7 << 2) | (1 if stream.startswith(PREFACE) else 0)]) + stream)
    body = stream[len(PREFACE):] if stream.startswith(PREFACE) else stream
    add("FuzzMessageAssembler", b"\x00" + body)
    add("FuzzMessageAssembler", b"\x01" + body)
    for ftype, flags, _, payload in frames(stream):
        if flags & 2:  # compressed: the selectors take plain bodies
            continue
        if ftype in WIRE_SELECTOR:
            add("FuzzWireMessage", bytes([WIRE_SELECTOR[ftype]]) + payload)
            if ftype == 0x03 and payload[:1] == b"\x32":  # a Request whose body is a push (field 6)
                push = payload[1:]
                # Drop the length varint of the push field: what remains is a PushRequest.
                while push and push[0] & 0x80:
                    push = push[1:]
                add("FuzzWireMessage", bytes([8]) + push[1:])
        elif ftype == STREAM:
            add("FuzzWireMessage", bytes([6]) + payload)
            add("FuzzWireMessage", bytes([7]) + payload)


def wire_vectors() -> None:
    for path in sorted(VECTORS.glob("*.hex")):
        if path.name.startswith("delta-") or path.name == "snapshot.hex":
            continue
        wire_stream(hexfile(path))
    for path in (VECTORS / "conversation.txt", VECTORS / "pull-with-snapshot.txt"):
        if not path.exists():
            continue
        sides = {"C": b"", "S": b""}
        for line in path.read_text().splitlines():
            m = re.match(r"^([CS]) ([0-9a-fA-F]+)\s*$", line)
            if m:
                data = bytes.fromhex(m.group(2))
                wire_stream(data)
                sides[m.group(1)] += data
        for side in sides.values():
            wire_stream(side)


# --- Model codecs ----------------------------------------------------------------------------

def model_vectors() -> None:
    for path in sorted(VECTORS.glob("delta-*.hex")) + [VECTORS / "snapshot.hex"]:
        data = hexfile(path)
        add("FuzzDeltaCodec", data)
        add("FuzzSnapshot", b"\x00" + data)
        add("FuzzSnapshot", b"\x01" + varint(len(data)) + raw_deflate(data))


def head_seeds() -> None:
    """Hand-made head entries and blocks (layouts in HeadEntryCodec.swift, HeadBlockCodec.swift)."""
    strings = ["ann", "PER", "negated", "no", "works_for", "bob"]
    replicas = [0x0102030405060708, 0xFFFFFFFFFFFFFFFF]
    # Annotations without their ids: kind, flags, owner, then the flagged parts.
    span = bytes([0, 0x43]) + varint(0) + varint(1) + varint(1) + zigzag(5) + zigzag(3) + varint(1) + varint(2) + varint(3)
    span2 = bytes([0, 0x83]) + varint(0) + varint(5) + varint(1) + varint(2) + zigzag(17) + zigzag(4) + zigzag(-12) + zigzag(2)
    relation = bytes([1, 0x0D]) + varint(5) + varint(4) + varint(0) + zigzag(1) + varint(1) + zigzag(-1)
    note = bytes([3, 0x30]) + varint(0) + varint(0) + zigzag(0) + string("a note, with ünïcode")
    label = bytes([2, 0x01]) + varint(0) + varint(1)
    # Head entries: createdAt, deletedAt + 1, field revisions.
    for body, tail in [
        (span, varint(3) + varint(0) + varint(1) + b"\x00" + varint(4)),
        (span2, varint(3) + varint(9) + varint(2) + b"\x01" + varint(5) + b"\x05" + varint(2) + varint(6)),
        (relation, varint(1) + varint(0) + varint(2) + b"\x02" + varint(2) + b"\x03" + varint(7)),
        (note, varint(0) + varint(1) + varint(0)),
        (label, varint(12) + varint(0) + varint(0)),
    ]:
        add("FuzzHeadEntryCodec", b"\x01" + tables(strings, replicas) + body + tail)
    # A block: id (replica index, zigzag counter delta), annotation, zigzag(created − previous),
    # deleted − created + 1, field revisions (field, zigzag(revision − created)).
    entries = [
        varint(0) + zigzag(1) + span + zigzag(3) + varint(0) + varint(1) + b"\x00" + zigzag(1),
        varint(0) + zigzag(1) + span2 + zigzag(0) + varint(4) + varint(2) + b"\x01" + zigzag(0) + b"\x05" + varint(2) + zigzag(2),
        varint(1) + zigzag(5) + relation + zigzag(2) + varint(0) + varint(0),
        varint(1) + zigzag(1) + note + zigzag(-1) + varint(0) + varint(1) + b"\x04" + zigzag(3),
        varint(1) + zigzag(1) + label + zigzag(0) + varint(0) + varint(0),
    ]
    block = b"\x01" + tables(strings, replicas) + varint(len(entries)) + b"".join(entries)
    for mode in (0x00, 0x0F, 0xFF):
        add("FuzzHeadBlockCodec", bytes([mode]) + block)
    add("FuzzHeadBlockCodec", b"\x00\x01" + tables([], []) + varint(0))


# --- Formats: the real exports, when present -------------------------------------------------

def brat() -> None:
    root = SHARED / "brat-example-data"
    if not root.exists():
        return
    anns = sorted(root.rglob("*.ann"))
    for ann in anns[:300]:
        txt = ann.with_suffix(".txt")
        if txt.exists():
            for mode in (0x00, 0x02, 0x08):
                add("FuzzBrat", bytes([mode]) + txt.read_bytes() + b"\x00" + ann.read_bytes())
    for conf in sorted(root.rglob("annotation.conf"))[:50]:
        add("FuzzBrat", b"\x01" + conf.read_bytes())


def head_lines(path: Path, limit: int = 16 * 1024) -> bytes:
    """The first lines of a file, whole lines only, up to about `limit` bytes."""
    out = b""
    with path.open("rb") as f:
        for line in f:
            if out and len(out) + len(line) > limit:
                break
            out += line
    return out


def doccano() -> None:
    for folder in ("doccano-english-novels", "doccano-format-examples"):
        root = SHARED / folder
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix not in (".jsonl", ".json") or not path.is_file():
                continue
            data = head_lines(path) if path.suffix == ".jsonl" else path.read_bytes()
            add("FuzzDoccano", b"\x00" + data)
            add("FuzzDoccano", b"\x02" + data)
            if path.suffix == ".jsonl":  # each record alone too: small seeds mutate faster
                for record in data.splitlines()[:5]:
                    add("FuzzDoccano", b"\x00" + record)


def label_studio() -> None:
    root = SHARED / "labelstudio-leoka"
    for path in sorted(root.glob("*.json")) if root.exists() else []:
        try:
            tasks = json.loads(path.read_bytes())
        except ValueError:
            continue
        for task in tasks[:40]:
            data = json.dumps([task], ensure_ascii=False).encode()
            add("FuzzLabelStudio", b"\x00" + data)
        add("FuzzLabelStudio", b"\x06" + json.dumps(tasks[:3], ensure_ascii=False).encode())


def conll() -> None:
    path = SHARED / "wikigold-conll" / "wikigold.conll.txt"
    if path.exists():
        docs = path.read_bytes().split(b"-DOCSTART- O\n")
        for doc in docs[1:40]:
            add("FuzzCoNLL", b"\x00-DOCSTART- O\n" + doc[:8192])
    root = SHARED / "doccano-format-examples"
    for path in sorted(root.rglob("*.conll")) if root.exists() else []:
        add("FuzzCoNLL", b"\x00" + path.read_bytes())


def committed_seeds() -> None:
    """Tools/Fuzz/seeds/TARGET/*: hand-made inputs, already in each target's layout."""
    for target in TARGETS:
        folder = HERE / "seeds" / target
        for path in sorted(folder.glob("*")) if folder.exists() else []:
            add(target, path.read_bytes())
    example = ROOT / "deploy" / "glossd.example.yaml"
    if example.exists():
        add("FuzzSettings", example.read_bytes())


def main() -> None:
    wanted = sys.argv[1:] or TARGETS
    wire_vectors()
    model_vectors()
    head_seeds()
    brat()
    doccano()
    label_studio()
    conll()
    committed_seeds()
    for target in wanted:
        folder = CORPUS / target
        folder.mkdir(parents=True, exist_ok=True)
        for data in seeds[target]:
            (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
        print(f"{target}: {len(seeds[target])} seeds, {len(list(folder.iterdir()))} files in {folder}")


if __name__ == "__main__":
    main()
