#!/usr/bin/env python3
"""An independent Gloss client, written from Protocol/*.md and Protocol/gloss.proto alone.

Standard library only (Python 3.8+). The id text form, pins and the delta codec are those of
Protocol/reference/gloss_reference.py (imported, not copied); this file adds the protobuf
messages, the framing, the connection and the flows of wire.md.

    glossclient.py handshake --server gloss://HOST:PORT --pin sha256:...
    glossclient.py clone     --server ... --pin ... CORPUS [--state FILE]
    glossclient.py pull      --server ... --pin ... --state FILE
    glossclient.py push      --server ... --pin ... CORPUS --base N [--document ID --span S E LABEL ...]
                             [--add-document ID FILE]
    glossclient.py subscribe --server ... --pin ... CORPUS [--count N] [--timeout S]
    glossclient.py selftest  check the frame vectors of Protocol/vectors/

The token comes from --token or the environment variable GLOSS_TOKEN. Every command prints
JSON (one object a line); failures print {"error": CODE, "message": ...} and exit non-zero.
"""

import argparse
import hashlib
import ipaddress
import json
import os
import socket
import ssl
import struct
import sys
import time
import zlib

sys.dont_write_bytecode = True  # leave no __pycache__ in the repository
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Protocol", "reference"))
import gloss_reference as ref  # noqa: E402  (one copy of the id, pin and delta algorithms)

VECTORS = os.path.join(HERE, "..", "..", "Protocol", "vectors")

# --------------------------------------------------------------------------------------------
# Protobuf (proto3), only what gloss.proto needs: varint scalars, fixed64, strings, bytes,
# embedded messages, repeated fields and map<string, string>.
#
# A message type is a dict  field number -> (name, type, repeated). Types: "uint32", "uint64",
# "int64", "bool", "enum", "fixed64", "string", "bytes", "map" (map<string, string>), or the name
# of another message type. A decoded message is a dict holding the fields present (repeated
# ones as lists; absent scalars are left out, callers use .get with the proto3 default).

M = {}


def message(name, *fields):
    M[name] = {number: (field, kind, repeated) for number, field, kind, repeated in
               ((f[0], f[1], f[2], len(f) > 3 and f[3]) for f in fields)}


R = True  # repeated
message("Hello", (1, "min_version", "uint32"), (2, "max_version", "uint32"),
        (3, "capabilities", "string", R), (4, "client_name", "string"))
message("Welcome", (1, "version", "uint32"), (2, "capabilities", "string", R),
        (3, "server_name", "string"), (4, "limits", "Limits"))
message("Limits", (1, "max_frame_payload", "uint32"), (2, "max_message_bytes", "uint64"),
        (3, "max_requests_in_flight", "uint32"), (4, "idle_timeout_seconds", "uint32"))
message("Request", (1, "auth", "AuthRequest"), (2, "list_corpora", "Empty"),
        (3, "list_documents", "ListDocumentsRequest"), (4, "clone", "CloneRequest"),
        (5, "pull", "PullRequest"), (6, "push", "PushRequest"), (7, "subscribe", "SubscribeRequest"),
        (8, "create_corpus", "CreateCorpusRequest"), (9, "grant", "GrantRequest"))
message("Response", (1, "auth", "AuthResponse"), (2, "list_corpora", "ListCorporaResponse"),
        (3, "list_documents", "ListDocumentsResponse"), (4, "stream_end", "StreamEnd"),
        (5, "push", "PushResponse"), (6, "subscribe", "SubscribeResponse"),
        (7, "create_corpus", "CreateCorpusResponse"), (8, "grant", "Empty"))
message("Empty")
message("AuthRequest", (1, "token", "string"))
message("AuthResponse", (1, "user", "string"))
message("ListCorporaResponse", (1, "corpora", "CorpusInfo", R))
message("CorpusInfo", (1, "name", "string"), (2, "role", "enum"), (3, "head_revision", "uint64"),
        (4, "documents", "uint32"), (5, "policy", "enum"))
message("ListDocumentsRequest", (1, "corpus", "string"))
message("ListDocumentsResponse", (1, "documents", "DocumentInfo", R), (2, "head_revision", "uint64"))
message("DocumentInfo", (1, "id", "string"), (2, "digest", "bytes"), (3, "length", "uint64"),
        (4, "metadata", "map"), (5, "added_revision", "uint64"))
message("CloneRequest", (1, "corpus", "string"))
message("PullRequest", (1, "corpus", "string"), (2, "since_revision", "uint64"))
message("StreamItem", (1, "text", "StoredText"), (2, "revision", "RevisionData"),
        (3, "snapshot", "StoredBlob"), (4, "progress", "Progress"), (5, "schema", "Schema"))
message("StoredText", (1, "digest", "bytes"), (2, "raw_length", "uint64"), (3, "deflated", "bytes"))
message("StoredBlob", (1, "document", "string"), (2, "revision", "uint64"), (3, "raw_length", "uint64"),
        (4, "deflated", "bytes"))
message("RevisionData", (1, "number", "uint64"), (2, "changeset_id", "bytes"), (3, "author", "string"),
        (4, "replica", "fixed64"), (5, "base", "uint64"), (6, "message", "string"),
        (7, "timestamp", "int64"), (8, "deltas", "StoredBlob", R), (9, "op_count", "uint64"))
message("Schema", (1, "json", "string"), (2, "revision", "uint64"))
message("Progress", (1, "done", "uint64"), (2, "total", "uint64"), (3, "unit", "string"))
message("StreamEnd", (1, "head_revision", "uint64"))
message("PushRequest", (1, "corpus", "string"), (2, "changeset", "Changeset"))
message("Changeset", (1, "id", "bytes"), (2, "author", "string"), (3, "replica", "fixed64"),
        (4, "base", "uint64"), (5, "message", "string"), (6, "timestamp", "int64"),
        (7, "ops", "EncodedOps", R), (8, "texts", "DocumentText", R))
message("EncodedOps", (1, "encoded", "bytes"))
message("DocumentText", (1, "digest", "bytes"), (2, "text", "string"))
message("PushResponse", (1, "accepted_revision", "uint64"), (2, "duplicate_revision", "uint64"),
        (3, "conflicts", "Conflicts"), (4, "invalid", "Invalid"))
message("Conflicts", (1, "head_revision", "uint64"), (2, "conflicts", "ConflictInfo", R))
message("ConflictInfo", (1, "id", "string"), (2, "kind", "string"), (3, "document", "string"),
        (4, "annotation", "string"), (5, "field", "string"), (6, "their_revision", "uint64"),
        (7, "description", "string"))
message("Invalid", (1, "code", "string"), (2, "message", "string"), (3, "document", "string"),
        (4, "annotation", "string"), (5, "op_index", "int64"))
message("SubscribeRequest", (1, "corpus", "string"))
message("SubscribeResponse", (1, "head_revision", "uint64"))
message("Notification", (1, "corpus", "string"), (2, "revision", "uint64"), (3, "author", "string"),
        (4, "summary", "string"), (5, "documents", "string", R), (6, "message", "string"))
message("CreateCorpusRequest", (1, "name", "string"), (2, "schema_json", "string"), (3, "policy", "enum"))
message("CreateCorpusResponse", (1, "name", "string"))
message("GrantRequest", (1, "corpus", "string"), (2, "user", "string"), (3, "role", "enum"))
message("Error", (1, "code", "string"), (2, "retryable", "bool"), (3, "message", "string"),
        (4, "retry_after_ms", "uint32"))
message("Ping", (1, "opaque", "fixed64"))
message("Goaway", (1, "last_request_id", "uint32"), (2, "reason", "string"))

MASK64 = (1 << 64) - 1
VARINT_KINDS = ("uint32", "uint64", "int64", "bool", "enum")


class DecodeError(Exception):
    pass


def pb_varint(n):
    return ref._varint(n & MASK64)


def pb_encode(name, msg):
    """The proto3 encoding of dict `msg` as message type `name`, fields in number order."""
    out = bytearray()
    for number, (field, kind, repeated) in sorted(M[name].items()):
        if field not in msg or msg[field] is None:
            continue
        values = msg[field] if repeated else [msg[field]]
        if kind == "map":
            values = [{"key": k, "value": v} for k, v in sorted(msg[field].items())]
        for value in values:
            if kind in VARINT_KINDS:
                if not repeated and not value:
                    continue  # proto3: a default scalar is not written
                out += pb_varint(number << 3) + pb_varint(int(value))
            elif kind == "fixed64":
                if not repeated and not value:
                    continue
                out += pb_varint(number << 3 | 1) + struct.pack("<Q", value & MASK64)
            elif kind in ("string", "bytes"):
                data = value.encode("utf-8") if kind == "string" else bytes(value)
                if not repeated and not data:
                    continue
                out += pb_varint(number << 3 | 2) + pb_varint(len(data)) + data
            else:
                body = pb_encode("MapEntry" if kind == "map" else kind, value)
                out += pb_varint(number << 3 | 2) + pb_varint(len(body)) + body
    return bytes(out)


message("MapEntry", (1, "key", "string"), (2, "value", "string"))


def pb_decode(name, data):
    """Decode `data` as message type `name`; unknown fields are skipped (gloss.proto, Evolution)."""
    fields, msg, pos, data = M[name], {}, 0, bytes(data)

    def varint():
        nonlocal pos
        value, shift = 0, 0
        while True:
            if pos >= len(data):
                raise DecodeError("%s: truncated varint" % name)
            b = data[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return value & MASK64
            if shift >= 70:
                raise DecodeError("%s: varint too long" % name)

    while pos < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if number == 0:
            raise DecodeError("%s: field number 0" % name)
        if wire == 0:
            value = varint()
        elif wire == 1:
            if pos + 8 > len(data):
                raise DecodeError("%s: truncated fixed64" % name)
            value = struct.unpack_from("<Q", data, pos)[0]
            pos += 8
        elif wire == 2:
            n = varint()
            if n > len(data) - pos:
                raise DecodeError("%s: length %d past the end" % (name, n))
            value = data[pos:pos + n]
            pos += n
        elif wire == 5:
            if pos + 4 > len(data):
                raise DecodeError("%s: truncated fixed32" % name)
            value = data[pos:pos + 4]
            pos += 4
        else:
            raise DecodeError("%s: wire type %d" % (name, wire))
        if number not in fields:
            continue
        field, kind, repeated = fields[number]
        expected = 0 if kind in VARINT_KINDS else 1 if kind == "fixed64" else 2
        if wire != expected:
            raise DecodeError("%s.%s: wire type %d, expected %d" % (name, field, wire, expected))
        if kind == "int64":
            value = value - (1 << 64) if value >> 63 else value
        elif kind == "uint32":
            value &= 0xFFFFFFFF
        elif kind == "bool":
            value = bool(value)
        elif kind == "string":
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                raise DecodeError("%s.%s: invalid UTF-8" % (name, field))
        elif kind == "map":
            entry = pb_decode("MapEntry", value)
            msg.setdefault(field, {})[entry.get("key", "")] = entry.get("value", "")
            continue
        elif kind not in ("uint64", "enum", "fixed64", "bytes"):
            value = pb_decode(kind, value)
        if repeated:
            msg.setdefault(field, []).append(value)
        else:
            msg[field] = value  # last one wins, also for a oneof
    # A oneof keeps only the member that came last; Request, Response, StreamItem and
    # PushResponse are single oneofs, so callers take the one key present.
    return msg


def oneof(msg):
    """(member, value) of a message that is a single oneof, or (None, None) when empty."""
    if not msg:
        return None, None
    member = next(iter(msg))
    return member, msg[member]


# --------------------------------------------------------------------------------------------
# Frames: wire.md section 2

PREFACE = b"\x89GLS\r\n\x1a\n"
HELLO, WELCOME, REQUEST, RESPONSE, STREAM, ERROR, PING, PONG, GOAWAY, CANCEL = range(1, 11)
TYPE_NAMES = {HELLO: "HELLO", WELCOME: "WELCOME", REQUEST: "REQUEST", RESPONSE: "RESPONSE",
              STREAM: "STREAM", ERROR: "ERROR", PING: "PING", PONG: "PONG", GOAWAY: "GOAWAY",
              CANCEL: "CANCEL"}
END, COMPRESSED = 1, 2
DEFAULT_MAX_FRAME = 1048576


def encode_frames(ftype, request_id, payload, max_frame=DEFAULT_MAX_FRAME):
    """The frames of one message: split at max_frame bytes, END on the last (never compressed)."""
    chunks = [payload[i:i + max_frame] for i in range(0, len(payload), max_frame)] or [b""]
    out = bytearray()
    for i, chunk in enumerate(chunks):
        flags = END if i == len(chunks) - 1 else 0
        out += struct.pack(">IBBHI", len(chunk), ftype, flags, 0, request_id) + chunk
    return bytes(out)


class ProtocolError(Exception):
    def __init__(self, code, message, retryable=False):
        Exception.__init__(self, "%s: %s" % (code, message))
        self.code, self.message, self.retryable = code, message, retryable


class ServerError(ProtocolError):
    """An ERROR frame from the server."""


def inflate_exact(data, length, cap_what):
    """Raw deflate to exactly `length` bytes (wire.md "Compression", storage-encoding.md)."""
    d = zlib.decompressobj(-15)
    try:
        out = d.decompress(data, length + 1)
    except zlib.error as e:
        raise ProtocolError("decompression-failed", "%s: %s" % (cap_what, e))
    if len(out) != length or not d.eof:
        raise ProtocolError("decompression-failed",
                            "%s: inflated to %d bytes, wanted %d" % (cap_what, len(out), length))
    return out


class FrameReader:
    """Reads frames from a byte source and assembles messages (wire.md section 2)."""

    def __init__(self, read_exact, max_frame=DEFAULT_MAX_FRAME, max_message=67108864):
        self.read_exact, self.max_frame, self.max_message = read_exact, max_frame, max_message
        self.partial = {}  # request id -> (type, bytearray)

    def frame(self):
        header = self.read_exact(12)
        length, ftype, flags, reserved, request_id = struct.unpack(">IBBHI", header)
        if ftype not in TYPE_NAMES:
            raise ProtocolError("protocol-error", "unknown frame type %d" % ftype)
        if flags & ~(END | COMPRESSED) or reserved:
            raise ProtocolError("protocol-error", "reserved flag or field set")
        if length > self.max_frame:  # checked on the header, before reading the payload
            raise ProtocolError("frame-too-large", "frame of %d bytes" % length)
        payload = self.read_exact(length)
        if flags & COMPRESSED:
            if length < 4:
                raise ProtocolError("decompression-failed", "compressed payload shorter than 4 bytes")
            declared = struct.unpack(">I", payload[:4])[0]
            if declared > self.max_frame:
                raise ProtocolError("decompression-failed", "declared length %d" % declared)
            payload = inflate_exact(payload[4:], declared, "frame")
        return ftype, flags, request_id, payload

    def message(self):
        """The next complete message: (type, request id, payload)."""
        while True:
            ftype, flags, request_id, payload = self.frame()
            if request_id in self.partial:
                ptype, buffer = self.partial[request_id]
                if ptype != ftype:
                    raise ProtocolError("protocol-error", "a %s frame inside an unfinished %s message"
                                        % (TYPE_NAMES[ftype], TYPE_NAMES[ptype]))
            else:
                buffer = bytearray()
                self.partial[request_id] = (ftype, buffer)
            buffer += payload
            if len(buffer) > self.max_message:
                raise ProtocolError("message-too-large", "message of %d bytes" % len(buffer))
            if flags & END:
                del self.partial[request_id]
                return ftype, request_id, bytes(buffer)


# --------------------------------------------------------------------------------------------
# The connection: wire.md sections 0, 1, 4, 5

class PinMismatch(Exception):
    def __init__(self, expected, actual):
        Exception.__init__(self, "certificate pin mismatch: expected %s, server presented %s" % (expected, actual))
        self.expected, self.actual = expected, actual


def parse_server(url):
    """(host, port) of gloss://HOST:PORT[/...]."""
    if not url.startswith("gloss://"):
        raise ValueError("a server is gloss://HOST:PORT, not %r" % url)
    hostport = url[len("gloss://"):].split("/", 1)[0]
    if hostport.startswith("["):
        host, _, port = hostport[1:].partition("]:")
    else:
        host, _, port = hostport.rpartition(":")
    return host, int(port)


def is_ip(host):
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


class Connection:
    def __init__(self, server, pin, token, timeout=120.0, client_name="gloss-py/0.1",
                 capabilities=("deflate", "text-revisions")):
        want = ref.parse_pin(pin)
        if want is None:
            raise ValueError("not a pin: %r" % pin)
        host, port = parse_server(server)
        raw = socket.create_connection((host, port), timeout=timeout)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # Pin mode: nothing but the leaf certificate's digest is checked (wire.md section 0).
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_alpn_protocols(["gloss/1"])
        self.sock = context.wrap_socket(raw, server_hostname=None if is_ip(host) else host)
        der = self.sock.getpeercert(binary_form=True)
        actual = ref.pin_of_der(der)
        if hashlib.sha256(der).digest() != want:
            self.sock.close()
            raise PinMismatch("sha256:" + want.hex(), actual)
        self.pin = actual
        self.alpn = self.sock.selected_alpn_protocol()
        self.reader = FrameReader(self.read_exact)
        self.max_frame = DEFAULT_MAX_FRAME
        self.next_id = 2
        self.goaway = None
        # Preface and HELLO without waiting; then the server's preface comes first.
        self.sock.sendall(PREFACE + encode_frames(HELLO, 0, pb_encode("Hello", {
            "min_version": 1, "max_version": 1, "capabilities": list(capabilities),
            "client_name": client_name})))
        if self.read_exact(8) != PREFACE:
            raise ProtocolError("bad-preface", "the server did not send the Gloss preface")
        ftype, _, payload = self.next_message()
        if ftype != WELCOME:
            raise ProtocolError("protocol-error", "expected WELCOME, got %s" % TYPE_NAMES[ftype])
        self.welcome = pb_decode("Welcome", payload)
        limits = self.welcome.get("limits", {})
        self.max_frame = limits.get("max_frame_payload") or DEFAULT_MAX_FRAME
        self.reader.max_frame = self.max_frame
        self.reader.max_message = limits.get("max_message_bytes") or self.reader.max_message
        # AUTH, id 1; no other request before its answer.
        self.send(REQUEST, 1, pb_encode("Request", {"auth": {"token": token}}))
        member, value = self.final(1)
        if member != "auth":
            raise ProtocolError("protocol-error", "AUTH answered with %s" % member)
        self.user = value.get("user", "")

    def read_exact(self, n):
        chunks, left = [], n
        while left:
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                raise ProtocolError("connection-closed", "the server closed the connection")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def send(self, ftype, request_id, payload):
        self.sock.sendall(encode_frames(ftype, request_id, payload, self.max_frame))

    def next_message(self):
        """The next message that is not connection control: answers PING, records GOAWAY,
        raises on a connection ERROR."""
        while True:
            ftype, request_id, payload = self.reader.message()
            if ftype == PING:
                self.send(PONG, 0, payload)  # byte for byte, undecoded
            elif ftype == PONG:
                continue
            elif ftype == GOAWAY:
                self.goaway = pb_decode("Goaway", payload)
            elif ftype == ERROR and request_id == 0:
                e = pb_decode("Error", payload)
                raise ServerError(e.get("code", ""), e.get("message", ""), e.get("retryable", False))
            else:
                return ftype, request_id, payload

    def request(self, body):
        """Sends a REQUEST and returns its id."""
        request_id = self.next_id
        self.next_id += 1
        self.send(REQUEST, request_id, pb_encode("Request", body))
        return request_id

    def final(self, request_id, on_stream=None):
        """Waits for the request's final frame: the Response member, or raises ServerError.
        STREAM items go to on_stream(payload)."""
        while True:
            ftype, rid, payload = self.next_message()
            if rid != request_id:
                continue  # not in flight: ignored (wire.md, "Request ids")
            if ftype == STREAM:
                if on_stream is None:
                    raise ProtocolError("protocol-error", "unexpected STREAM")
                on_stream(payload)
            elif ftype == RESPONSE:
                return oneof(pb_decode("Response", payload))
            elif ftype == ERROR:
                e = pb_decode("Error", payload)
                raise ServerError(e.get("code", ""), e.get("message", ""), e.get("retryable", False))
            else:
                raise ProtocolError("protocol-error", "unexpected %s for request %d" % (TYPE_NAMES[ftype], rid))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --------------------------------------------------------------------------------------------
# A replica: documents and annotations rebuilt from stored deltas (storage-encoding.md,
# data-model.md). Annotations are the dicts of gloss_reference.decode_delta.

OPEN_SCHEMA = '{"attributes":[],"documentLabels":[],"isOpen":true,"relations":[],"spanLabels":[]}'


class Replica:
    def __init__(self, corpus):
        self.corpus = corpus
        self.head = 0
        self.schema = OPEN_SCHEMA
        self.schema_revision = 0
        self.texts = {}       # digest hex -> text
        self.documents = {}   # id -> {"digest", "length", "metadata", "live", "annotations": {id: ann}, "deleted": set}
        self.snapshots = {}   # revision -> [(document, ops)] to apply with that revision
        self.revisions = []   # metadata of the revisions applied

    # Stream items -------------------------------------------------------------------------

    def stream_item(self, payload):
        member, item = oneof(pb_decode("StreamItem", payload))
        if member == "schema":
            self.schema = item.get("json", "")
            self.schema_revision = item.get("revision", 0)
        elif member == "text":
            raw = inflate_exact(item.get("deflated", b""), item.get("raw_length", 0), "text")
            digest = item.get("digest", b"")
            if hashlib.sha256(raw).digest() != digest:
                raise ProtocolError("bad-text", "a text whose SHA-256 is not its digest")
            self.texts[digest.hex()] = raw.decode("utf-8")
        elif member == "snapshot":
            ops = self.blob_ops(item)
            self.snapshots.setdefault(item.get("revision", 0), []).append((item.get("document", ""), ops))
        elif member == "revision":
            self.apply_revision(item)
        elif member == "progress":
            pass
        else:
            raise ProtocolError("bad-message", "an empty StreamItem")

    @staticmethod
    def blob_ops(blob):
        raw = inflate_exact(blob.get("deflated", b""), blob.get("raw_length", 0), "delta")
        document, ops = ref.decode_delta(raw)
        if (document or "") != blob.get("document", ""):
            raise ProtocolError("bad-delta", "a blob for %r holds a delta of %r" % (blob.get("document"), document))
        return ops

    def apply_revision(self, rev):
        number = rev.get("number", 0)
        if number != self.head + 1:
            raise ProtocolError("bad-stream", "revision %d after %d" % (number, self.head))
        for document, ops in self.snapshots.pop(number, []):
            self.apply_snapshot(document, ops)
        for blob in rev.get("deltas", []):
            document = blob.get("document", "") or None
            for op in self.blob_ops(blob):
                self.apply_op(document, op)
        self.head = number
        self.revisions.append({
            "number": number, "author": rev.get("author", ""), "message": rev.get("message", ""),
            "replica": "%016x" % rev.get("replica", 0), "base": rev.get("base", 0),
            "timestamp": rev.get("timestamp", 0), "op_count": rev.get("op_count", 0),
            "changeset_id": rev.get("changeset_id", b"").hex(),
            "documents": sorted(b.get("document", "") for b in rev.get("deltas", []) if b.get("document"))})

    def apply_snapshot(self, document, ops):
        add = ops[0]
        if add[0] != "addDocument":
            raise ProtocolError("bad-snapshot", "a snapshot must start with addDocument")
        self.documents[document] = {"digest": add[1].hex(), "length": add[2], "metadata": dict(add[3]),
                                    "live": True, "annotations": {}, "deleted": set()}
        for op in ops[1:]:
            if op[0] != "create":
                raise ProtocolError("bad-snapshot", "a snapshot holds only creates after addDocument")
            self.documents[document]["annotations"][op[1]["id"]] = dict(op[1])

    def apply_op(self, document, op):
        kind = op[0]
        if kind == "setSchema":
            self.schema = op[1]
            return
        if kind == "addDocument":
            self.documents[document] = {"digest": op[1].hex(), "length": op[2], "metadata": dict(op[3]),
                                        "live": True, "annotations": {}, "deleted": set()}
            return
        doc = self.documents.get(document)
        if doc is None:
            raise ProtocolError("bad-stream", "an op on unknown document %r" % document)
        if kind == "removeDocument":
            doc["live"] = False
        elif kind == "create":
            doc["annotations"][op[1]["id"]] = dict(op[1])
            doc["deleted"].discard(op[1]["id"])
        elif kind == "delete":
            doc["annotations"].pop(op[1], None)
            doc["deleted"].add(op[1])
        elif kind == "reviseText":
            self.revise_text(document, doc, op)
        elif kind == "set":
            _, target, field, value = op
            ann = doc["annotations"].get(target)
            if ann is None:
                raise ProtocolError("bad-stream", "a set of unknown annotation in %r" % document)
            if isinstance(field, tuple):
                attributes = dict(ann["attributes"])
                if value[0] == "none":
                    attributes.pop(field[1], None)
                else:
                    attributes[field[1]] = value[1]
                ann["attributes"] = attributes
            elif value[0] == "reference":
                ann[field] = value[1]
            elif value[0] == "none":
                ann[field] = None
            else:
                ann[field] = value[1]

    @staticmethod
    def revise_text(document, doc, op):
        """A text revision (data-model.md): spans wholly inside unchanged text move with it; any
        other span gets the proposal (start and end carried over, an end inside replaced text
        widened to the whole replacement) and an anchor naming where it was."""
        _, from_digest, from_length, to_digest, to_length, edits = op
        if doc["digest"] != from_digest.hex() or doc["length"] != from_length:
            raise ProtocolError("bad-stream", "a text revision of %r names a text it does not have" % document)
        hunks, old, new = [], 0, 0  # (equal?, old_start, old_end, new_start, new_end)
        for start, end, new_length in edits:
            if start > old:
                hunks.append((True, old, start, new, new + start - old))
                new += start - old
            hunks.append((False, start, end, new, new + new_length))
            old, new = end, new + new_length
        if from_length > old:
            hunks.append((True, old, from_length, new, new + from_length - old))
        starts = [h[1] for h in hunks]

        def holding(offset):  # the last hunk starting at or before offset (an insertion there comes first)
            low, high = 0, len(starts)
            while low < high:
                middle = (low + high) // 2
                if starts[middle] <= offset:
                    low = middle + 1
                else:
                    high = middle
            return hunks[low - 1]

        def carry(r):
            head, tail = holding(r[0]), holding(r[1] - 1)
            if head is tail and head[0]:
                return True, (head[3] + r[0] - head[1], head[3] + r[1] - head[1])
            start = head[3] + r[0] - head[1] if head[0] else head[3]
            end = tail[3] + r[1] - tail[1] if tail[0] else tail[4]
            return False, ((start, end) if start < end else None)

        for ann in doc["annotations"].values():
            ranges = ann.get("ranges") or []
            if ann["kind"] != "span" or not ranges:
                continue
            carried = [carry(r) for r in ranges]
            if all(moved for moved, _ in carried):
                ann["ranges"] = [r for _, r in carried]
                continue
            merged = []
            for r in sorted(r for _, r in carried if r is not None):
                if merged and r[0] < merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], r[1]))
                else:
                    merged.append(r)
            if ann.get("anchor") is None:
                ann["anchor"] = (from_digest, list(ranges))
            ann["ranges"] = merged
        doc["digest"], doc["length"] = to_digest.hex(), to_length

    # Views ---------------------------------------------------------------------------------

    def annotations(self):
        """Live annotations of live documents, as `gloss annotations --json` prints them."""
        out = []
        for document in sorted(self.documents):
            doc = self.documents[document]
            if not doc["live"]:
                continue
            text = self.texts.get(doc["digest"], "")
            for ann in doc["annotations"].values():
                row = {"attributes": dict(ann["attributes"]), "author": ann["owner"], "document": document,
                       "id": ref.id_text(*ann["id"]), "kind": ann["kind"], "label": ann["label"],
                       "layer": ann["layer"], "ranges": [[s, e] for s, e in ann["ranges"]]}
                if ann["kind"] == "span":
                    row["text"] = " … ".join(text[s:e] for s, e in ann["ranges"])  # as the CLI shows it
                else:
                    row["text"] = ann["text"]
                for key in ("from", "to", "target"):
                    if ann.get(key):
                        row[key] = ref.id_text(*ann[key])
                out.append(row)
        return out

    def document_list(self):
        out = []
        for document in sorted(self.documents):
            doc = self.documents[document]
            if not doc["live"]:
                continue
            text = self.texts.get(doc["digest"])
            out.append({"id": document, "digest": "sha256:" + doc["digest"], "length": doc["length"],
                        "metadata": doc["metadata"], "annotations": len(doc["annotations"]),
                        "text_ok": text is not None and len(text) == doc["length"]
                        and hashlib.sha256(text.encode("utf-8")).hexdigest() == doc["digest"]})
        return out

    # State file ----------------------------------------------------------------------------

    def save(self, path, server):
        def ann_json(a):
            anchor = a.get("anchor")
            return dict(a, id=list(a["id"]), ranges=[list(r) for r in a["ranges"]],
                        anchor=[anchor[0].hex(), [list(r) for r in anchor[1]]] if anchor else None,
                        **{k: list(a[k]) if a.get(k) else None for k in ("from", "to", "target")})
        state = {"server": server, "corpus": self.corpus, "head": self.head, "schema": self.schema,
                 "schema_revision": self.schema_revision, "texts": self.texts,
                 "documents": {d: dict(doc, deleted=[list(i) for i in doc["deleted"]],
                                       annotations=[ann_json(a) for a in doc["annotations"].values()])
                               for d, doc in self.documents.items()}}
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            state = json.load(f)
        r = cls(state["corpus"])
        r.head, r.schema, r.schema_revision = state["head"], state["schema"], state["schema_revision"]
        r.texts = state["texts"]

        def ann_of(a):
            anchor = a.get("anchor")
            return dict(a, id=tuple(a["id"]), ranges=[tuple(x) for x in a["ranges"]],
                        anchor=(bytes.fromhex(anchor[0]), [tuple(r) for r in anchor[1]]) if anchor else None,
                        **{k: tuple(a[k]) if a.get(k) else None for k in ("from", "to", "target")})
        for d, doc in state["documents"].items():
            r.documents[d] = dict(doc, deleted={tuple(i) for i in doc["deleted"]},
                                  annotations={tuple(a["id"]): ann_of(a) for a in doc["annotations"]})
        return r, state["server"]


# --------------------------------------------------------------------------------------------
# Flows

def clone(conn, corpus):
    replica = Replica(corpus)
    rid = conn.request({"clone": {"corpus": corpus}})
    member, end = conn.final(rid, replica.stream_item)
    if member != "stream_end":
        raise ProtocolError("protocol-error", "clone ended with %s" % member)
    if end.get("head_revision", 0) != replica.head:
        raise ProtocolError("bad-stream", "stream_end %d after revision %d" % (end.get("head_revision", 0), replica.head))
    return replica


def pull(conn, replica):
    since = replica.head
    rid = conn.request({"pull": {"corpus": replica.corpus, "since_revision": since}})
    member, end = conn.final(rid, replica.stream_item)
    if member != "stream_end":
        raise ProtocolError("protocol-error", "pull ended with %s" % member)
    head = end.get("head_revision", 0)
    if head != replica.head:
        raise ProtocolError("bad-stream", "stream_end %d after revision %d" % (head, replica.head))
    return since, head


def push(conn, corpus, changeset):
    rid = conn.request({"push": {"corpus": corpus, "changeset": changeset}})
    member, response = conn.final(rid)
    if member != "push":
        raise ProtocolError("protocol-error", "push answered with %s" % member)
    outcome, value = oneof(response)
    return outcome, value


def build_changeset(user, base, message, documents, replica=None, changeset_id=None, timestamp=None):
    """A changeset from `documents`: a list of (document id, ops, text or None), each run the
    uncompressed delta encoding of its ops (storage-encoding.md)."""
    ops, texts = [], []
    for document, doc_ops, text in documents:
        ops.append({"encoded": ref.encode_delta(doc_ops, document)})
        if text is not None:
            texts.append({"digest": hashlib.sha256(text.encode("utf-8")).digest(), "text": text})
    return {"id": changeset_id or os.urandom(16), "author": user,
            "replica": replica or (int.from_bytes(os.urandom(8), "little") | 1), "base": base,
            "message": message, "timestamp": int(time.time()) if timestamp is None else timestamp,
            "ops": ops, "texts": texts}


def span(replica, counter, owner, label, start, end, attributes=None):
    return ("create", {"id": (replica, counter), "kind": "span", "owner": owner, "layer": owner,
                       "label": label, "ranges": [(start, end)], "from": None, "to": None,
                       "target": None, "text": "", "attributes": attributes or {}})


def subscribe(conn, corpus, count, timeout, emit):
    rid = conn.request({"subscribe": {"corpus": corpus}})
    member, interim = conn.final(rid)
    if member != "subscribe":
        raise ProtocolError("protocol-error", "subscribe answered with %s" % member)
    emit({"subscribed": True, "head_revision": interim.get("head_revision", 0)})
    deadline = time.time() + timeout
    received, cancelled = 0, False
    while True:
        conn.sock.settimeout(max(0.1, deadline - time.time()) if not cancelled else 60)
        try:
            ftype, r, payload = conn.next_message()
        except (socket.timeout, ssl.SSLError) as e:
            if isinstance(e, ssl.SSLError) and "timed out" not in str(e):
                raise
            if cancelled:
                raise ProtocolError("timeout", "no final Response.subscribe after CANCEL")
            conn.send(CANCEL, rid, b"")
            cancelled = True
            continue
        if r != rid:
            continue
        if ftype == STREAM:
            n = pb_decode("Notification", payload)
            emit({"notification": {"corpus": n.get("corpus", ""), "revision": n.get("revision", 0),
                                   "author": n.get("author", ""), "summary": n.get("summary", ""),
                                   "documents": n.get("documents", []), "message": n.get("message", "")}})
            received += 1
            if received >= count and not cancelled:
                conn.send(CANCEL, rid, b"")
                cancelled = True
        elif ftype == RESPONSE:
            member, final = oneof(pb_decode("Response", payload))
            emit({"final": True, "head_revision": final.get("head_revision", 0), "received": received})
            return received
        elif ftype == ERROR:
            e = pb_decode("Error", payload)
            raise ServerError(e.get("code", ""), e.get("message", ""))


# --------------------------------------------------------------------------------------------
# Self-test against the frame vectors (wire.md section 8)

def selftest():
    failures = []

    def expect(ok, what):
        print(json.dumps({"ok": bool(ok), "check": what}))
        if not ok:
            failures.append(what)

    hello = ref.hex_file("client-hello.hex")
    expect(hello == PREFACE + encode_frames(HELLO, 0, pb_encode("Hello", {
        "min_version": 1, "max_version": 1, "capabilities": ["deflate"], "client_name": "gloss/0.1"})),
        "client-hello.hex encodes")
    welcome = ref.hex_file("server-welcome.hex")
    stream = [welcome[8:]]

    def read_from(n):
        chunk, stream[0] = stream[0][:n], stream[0][n:]
        if len(chunk) != n:
            raise ProtocolError("connection-closed", "end of vector")
        return chunk
    reader = FrameReader(read_from)
    ftype, rid, payload = reader.message()
    w = pb_decode("Welcome", payload)
    expect(welcome[:8] == PREFACE and ftype == WELCOME and w == {
        "version": 1, "capabilities": ["deflate"], "server_name": "glossd/0.1",
        "limits": {"max_frame_payload": 1048576, "max_message_bytes": 67108864,
                   "max_requests_in_flight": 32, "idle_timeout_seconds": 300}}
        and encode_frames(WELCOME, 0, pb_encode("Welcome", w)) == welcome[8:], "server-welcome.hex decodes and re-encodes")
    expect(ref.hex_file("auth-request.hex") == encode_frames(REQUEST, 1, pb_encode(
        "Request", {"auth": {"token": "example-token"}})), "auth-request.hex encodes")
    alice = "Alice met Bob."
    changeset = {"id": bytes(range(16)), "author": "ann", "replica": 0x0102030405060708, "base": 0,
                 "message": "first annotations", "timestamp": 1700000000,
                 "ops": [{"encoded": ref.hex_file("delta-v1.hex")}],
                 "texts": [{"digest": hashlib.sha256(alice.encode()).digest(), "text": alice}]}
    expect(ref.hex_file("push-request.hex") == encode_frames(REQUEST, 2, pb_encode(
        "Request", {"push": {"corpus": "news", "changeset": changeset}})), "push-request.hex encodes")
    for name in ("error-frame.hex", "split-message.hex", "compressed-frame.hex"):
        stream[0] = ref.hex_file(name)
        ftype, rid, payload = FrameReader(read_from).message()
        if name == "error-frame.hex":
            e = pb_decode("Error", payload)
            expect(ftype == ERROR and rid == 0 and e.get("code") == "bad-preface", name + " decodes")
        elif name == "split-message.hex":
            member, lc = oneof(pb_decode("Response", payload))
            expect(ftype == RESPONSE and rid == 3 and member == "list_corpora" and lc["corpora"] == [
                {"name": "news", "role": 4, "head_revision": 12, "documents": 3, "policy": 1},
                {"name": "wiki", "role": 1}], name + " assembles")
        else:
            member, ld = oneof(pb_decode("Response", payload))
            docs = ld.get("documents", [])
            expect(ftype == RESPONSE and rid == 4 and member == "list_documents" and ld.get("head_revision") == 10
                   and [d["id"] for d in docs] == ["news/%d" % n for n in range(1, 11)]
                   and all(d["metadata"] == {"source": "wire"} and d["length"] == 14 for d in docs),
                   name + " inflates")
    import contextlib
    with contextlib.redirect_stdout(sys.stderr):
        reference_failures = ref.check_vectors()
    expect(reference_failures == 0, "gloss_reference.py data vectors")
    return 1 if failures else 0


# --------------------------------------------------------------------------------------------
# Command line

def emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def connect(args):
    token = args.token or os.environ.get("GLOSS_TOKEN", "")
    # --without text-revisions: announce what a client older than text revisions announces.
    capabilities = [c for c in ("deflate", "text-revisions") if c not in (args.without or [])]
    return Connection(args.server, args.pin, token, timeout=args.timeout_connect, capabilities=capabilities)


def main(argv=None):
    p = argparse.ArgumentParser(prog="glossclient.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    def with_server(sp):
        sp.add_argument("--server", required=True, help="gloss://HOST:PORT")
        sp.add_argument("--pin", required=True, help="sha256:... of the server's leaf certificate")
        sp.add_argument("--token", help="bearer token (default: $GLOSS_TOKEN)")
        sp.add_argument("--timeout-connect", type=float, default=120.0, help="socket timeout, seconds")
        sp.add_argument("--without", action="append", metavar="CAPABILITY",
                        help="leave a capability out of HELLO (to act as an older client)")
        return sp

    with_server(sub.add_parser("handshake", help="TLS, pin, preface, HELLO/WELCOME, AUTH"))
    sp = with_server(sub.add_parser("clone", help="stream a corpus and rebuild every document"))
    sp.add_argument("corpus")
    sp.add_argument("--state", help="save the replica to this file (for pull)")
    sp = sub.add_parser("pull", help="apply the revisions after a saved replica's head")
    sp.add_argument("--state", required=True)
    sp.add_argument("--pin", required=True)
    sp.add_argument("--token")
    sp.add_argument("--timeout-connect", type=float, default=120.0)
    sp.add_argument("--without", action="append", metavar="CAPABILITY")
    sp = with_server(sub.add_parser("push", help="push a changeset encoded here"))
    sp.add_argument("corpus")
    sp.add_argument("--base", type=int, required=True, help="the last revision the replica has")
    sp.add_argument("--message", default="pushed by gloss-py")
    sp.add_argument("--document", help="the document of the --span ops")
    sp.add_argument("--span", nargs=3, action="append", default=[], metavar=("START", "END", "LABEL"),
                    help="create a span (owner and layer: the authenticated user)")
    sp.add_argument("--attr", action="append", default=[], metavar="KEY=VALUE", help="attribute of every --span")
    sp.add_argument("--add-document", nargs=2, metavar=("ID", "FILE"), help="add a document (owners)")
    sp.add_argument("--replica", type=lambda s: int(s, 16), help="replica id, hex (default: random)")
    sp.add_argument("--changeset-id", help="32 hex digits (default: random)")
    sp = with_server(sub.add_parser("subscribe", help="print notifications, then CANCEL"))
    sp.add_argument("corpus")
    sp.add_argument("--count", type=int, default=1, help="CANCEL after this many notifications")
    sp.add_argument("--timeout", type=float, default=300.0, help="CANCEL after this many seconds")
    sub.add_parser("selftest", help="check the frame and data vectors")
    args = p.parse_args(argv)

    if args.command == "selftest":
        return selftest()
    conn = None
    try:
        if args.command == "pull":
            replica, server = Replica.load(args.state)
            args.server = server
        conn = connect(args)
        if args.command == "handshake":
            emit({"user": conn.user, "pin": conn.pin, "alpn": conn.alpn, "version": conn.welcome.get("version", 0),
                  "server_name": conn.welcome.get("server_name", ""),
                  "capabilities": conn.welcome.get("capabilities", []), "limits": conn.welcome.get("limits", {})})
        elif args.command == "clone":
            replica = clone(conn, args.corpus)
            if args.state:
                replica.save(args.state, args.server)
            emit({"head_revision": replica.head, "schema": replica.schema, "documents": replica.document_list(),
                  "annotations": replica.annotations(), "revisions": replica.revisions})
        elif args.command == "pull":
            since, head = pull(conn, replica)
            replica.save(args.state, args.server)
            emit({"since_revision": since, "head_revision": head, "revisions": replica.revisions,
                  "documents": replica.document_list(), "annotations": replica.annotations()})
        elif args.command == "push":
            documents = []
            if args.add_document:
                doc_id, path = args.add_document
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                documents.append((doc_id, [("addDocument", hashlib.sha256(text.encode("utf-8")).digest(),
                                            len(text), {})], text))
            replica_id = args.replica or (int.from_bytes(os.urandom(8), "little") | 1)
            if args.span:
                if not args.document:
                    raise ValueError("--span needs --document")
                attributes = dict(a.split("=", 1) for a in args.attr)
                ops = [span(replica_id, i + 1, conn.user, label, int(s), int(e), attributes)
                       for i, (s, e, label) in enumerate(args.span)]
                if documents and documents[0][0] == args.document:
                    documents[0][1].extend(ops)  # one run per document
                else:
                    documents.append((args.document, ops, None))
            changeset = build_changeset(conn.user, args.base, args.message, documents, replica=replica_id,
                                        changeset_id=bytes.fromhex(args.changeset_id) if args.changeset_id else None)
            outcome, value = push(conn, args.corpus, changeset)
            ids = [ref.id_text(*op[1]["id"]) for _, ops, _ in documents for op in ops if op[0] == "create"]
            emit({"outcome": outcome, "value": value if not isinstance(value, dict) else value,
                  "changeset_id": changeset["id"].hex(), "replica": "%016x" % replica_id, "created": ids})
            return 0 if outcome in ("accepted_revision", "duplicate_revision") else 5
        elif args.command == "subscribe":
            subscribe(conn, args.corpus, args.count, args.timeout, emit)
        return 0
    except PinMismatch as e:
        emit({"error": "pin-mismatch", "message": str(e), "expected": e.expected, "actual": e.actual})
        return 3
    except ServerError as e:
        emit({"error": e.code, "message": e.message, "retryable": e.retryable})
        return 4
    except (ProtocolError, DecodeError, ValueError, OSError) as e:
        emit({"error": getattr(e, "code", "client-error"), "message": str(e)})
        return 6
    finally:
        if conn is not None:
            conn.close()


if __name__ == "__main__":
    sys.exit(main())
