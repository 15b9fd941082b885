import Foundation

/// The compact binary encoding of the ops of one revision on one document (a *delta*), and of
/// a document's full state (a *snapshot*: `addDocument` followed by `create`s).
///
/// Layout (all integers LEB128 varints unless noted):
/// ```
/// u8 version (1)
/// u8 hasDocument, [string document id]
/// count, strings…          table of labels, layers, owners, attribute keys and values
/// count, u64le replica…    table of replica ids
/// count, op…
/// ```
/// An annotation id is a replica-table index plus a zigzag counter delta from the previous id,
/// and a span start is a zigzag delta from the previous start, so a typical id or offset costs
/// one or two bytes before deflate. The byte-level layout of each op is in `Protocol/`.
public enum DeltaCodec {
    public static let version: UInt8 = 1

    /// Encodes ops that all touch `document` (or, with nil, only the corpus: schema ops).
    public static func encode(_ ops: [Op], document: DocumentID?) -> [UInt8] {
        var encoder = OpEncoder()
        for op in ops { encoder.op(op) }
        var out = BinaryWriter(capacity: encoder.body.bytes.count + 64)
        out.byte(version)
        if let document {
            out.byte(1)
            out.string(document.rawValue)
        } else {
            out.byte(0)
        }
        encoder.writeTables(into: &out)
        out.varint(ops.count)
        out.raw(encoder.body.bytes)
        return out.bytes
    }

    /// Decodes a delta; `what` names it in errors ("delta of news/1 at revision 7").
    public static func decode(_ bytes: [UInt8], what: String = "delta") throws(CodecError) -> (
        document: DocumentID?, ops: [Op]
    ) {
        var reader = BinaryReader(bytes, what: what)
        let v = try reader.byte()
        guard v == version else {
            throw CodecError(.unsupportedVersion, "\(what) has format version \(v); this build reads \(version)", offset: 0)
        }
        var document: DocumentID?
        if try reader.byte() == 1 {
            let raw = try reader.string()
            do throws(ValidationError) { document = try DocumentID(validating: raw) } catch { throw reader.malformed(error.message) }
        }
        var decoder = try OpDecoder(reader: reader)
        let count = try decoder.reader.count("ops")
        var ops: [Op] = []
        ops.reserveCapacity(count)
        for _ in 0..<count { ops.append(try decoder.op(document: document)) }
        guard decoder.reader.isAtEnd else { throw decoder.reader.malformed("\(decoder.reader.remaining) bytes after the last op") }
        return (document, ops)
    }
}

// MARK: - Tags

enum OpTag: UInt8 {
    case create = 0, set, delete, addDocument, removeDocument, setSchema, reviseText
}

enum FieldTag: UInt8 {
    case label = 0, ranges, from, to, text, attribute, anchor
}

enum ValueTag: UInt8 {
    case string = 0, ranges, reference, none, anchor
}

/// The kind byte's high bit: an anchor (``TextAnchor``) follows the annotation's other parts.
let anchoredKindBit: UInt8 = 0x80

/// What a reader says about a tag it does not know: most likely a newer Gloss wrote it.
func newerGlossHint(_ what: String) -> String {
    "\(what), written by a newer version of Gloss: upgrade gloss to read this corpus"
}

/// Which optional parts of an annotation are present, one bit each.
struct AnnotationFlags: OptionSet {
    let rawValue: UInt8
    static let label = AnnotationFlags(rawValue: 1 << 0)
    static let ranges = AnnotationFlags(rawValue: 1 << 1)
    static let from = AnnotationFlags(rawValue: 1 << 2)
    static let to = AnnotationFlags(rawValue: 1 << 3)
    static let target = AnnotationFlags(rawValue: 1 << 4)
    static let text = AnnotationFlags(rawValue: 1 << 5)
    static let attributes = AnnotationFlags(rawValue: 1 << 6)
    /// The layer differs from the owner (it is usually the owner's name).
    static let layer = AnnotationFlags(rawValue: 1 << 7)
}

// MARK: - Encoder

/// Writes ops into a body while collecting the string and replica tables they index.
struct OpEncoder {
    var body = BinaryWriter(capacity: 256)
    private var strings = Interner<String>()
    private var replicas = Interner<ReplicaID>()
    private var lastCounter: UInt64 = 0
    private var lastStart = 0

    func writeTables(into out: inout BinaryWriter) {
        out.varint(strings.items.count)
        for s in strings.items { out.string(s) }
        out.varint(replicas.items.count)
        for r in replicas.items { out.fixed64(r.rawValue) }
    }

    mutating func op(_ op: Op) {
        switch op {
        case .create(let a):
            body.byte(OpTag.create.rawValue)
            annotation(a, withID: true)
        case .set(_, let id, let field, let value):
            body.byte(OpTag.set.rawValue)
            self.id(id)
            self.field(field)
            self.value(value)
        case .delete(_, let id):
            body.byte(OpTag.delete.rawValue)
            self.id(id)
        case .addDocument(let doc):
            body.byte(OpTag.addDocument.rawValue)
            body.raw(doc.digest.bytes)
            body.varint(doc.length)
            stringMap(doc.metadata)
        case .removeDocument:
            body.byte(OpTag.removeDocument.rawValue)
        case .reviseText(_, let change):
            body.byte(OpTag.reviseText.rawValue)
            body.raw(change.from.bytes)
            body.varint(change.fromLength)
            body.raw(change.to.bytes)
            body.varint(change.toLength)
            body.varint(change.edits.count)
            var previousEnd = 0
            for edit in change.edits {
                // Ascending edits: each start as the gap after the previous edit's end.
                body.zigzag(Int64(edit.old.start - previousEnd))
                body.zigzag(Int64(edit.old.length))
                body.zigzag(Int64(edit.newLength))
                previousEnd = edit.old.end
            }
        case .setSchema(let schema):
            body.byte(OpTag.setSchema.rawValue)
            body.string(SchemaJSON.encode(schema))
        }
    }

    mutating func annotation(_ a: Annotation, withID: Bool) {
        var flags: AnnotationFlags = []
        if !a.label.isEmpty { flags.insert(.label) }
        if !a.ranges.isEmpty { flags.insert(.ranges) }
        if a.from != nil { flags.insert(.from) }
        if a.to != nil { flags.insert(.to) }
        if a.target != nil { flags.insert(.target) }
        if !a.text.isEmpty { flags.insert(.text) }
        if !a.attributes.isEmpty { flags.insert(.attributes) }
        if a.layer != a.owner { flags.insert(.layer) }
        if withID { id(a.id) }
        body.byte(a.kind.rawValue | (a.anchor == nil ? 0 : anchoredKindBit))
        body.byte(flags.rawValue)
        string(a.owner)
        if flags.contains(.layer) { string(a.layer) }
        if flags.contains(.label) { string(a.label) }
        if flags.contains(.ranges) { ranges(a.ranges) }
        if let from = a.from { id(from) }
        if let to = a.to { id(to) }
        if let target = a.target { id(target) }
        if flags.contains(.text) { body.string(a.text) }
        if flags.contains(.attributes) { stringMap(a.attributes) }
        if let anchor = a.anchor { self.anchor(anchor) }
    }

    mutating func anchor(_ anchor: TextAnchor) {
        body.raw(anchor.text.bytes)
        ranges(anchor.ranges)
    }

    mutating func id(_ id: AnnotationID) {
        body.varint(replicas.index(of: id.replica))
        body.zigzag(Int64(bitPattern: id.counter &- lastCounter))
        lastCounter = id.counter
    }

    mutating func string(_ s: String) { body.varint(strings.index(of: s)) }

    mutating func stringMap(_ map: [String: String]) {
        body.varint(map.count)
        for (k, v) in map.sorted(by: { $0.key < $1.key }) {
            string(k)
            string(v)
        }
    }

    mutating func ranges(_ ranges: [TextRange]) {
        body.varint(ranges.count)
        for r in ranges {
            body.zigzag(Int64(r.start - lastStart))
            body.zigzag(Int64(r.end - r.start))
            lastStart = r.start
        }
    }

    mutating func field(_ field: Field) {
        switch field {
        case .label: body.byte(FieldTag.label.rawValue)
        case .ranges: body.byte(FieldTag.ranges.rawValue)
        case .from: body.byte(FieldTag.from.rawValue)
        case .to: body.byte(FieldTag.to.rawValue)
        case .text: body.byte(FieldTag.text.rawValue)
        case .attribute(let key):
            body.byte(FieldTag.attribute.rawValue)
            string(key)
        case .anchor: body.byte(FieldTag.anchor.rawValue)
        }
    }

    mutating func value(_ value: FieldValue) {
        switch value {
        case .string(let s):
            body.byte(ValueTag.string.rawValue)
            body.string(s)
        case .ranges(let r):
            body.byte(ValueTag.ranges.rawValue)
            ranges(r)
        case .reference(let id):
            body.byte(ValueTag.reference.rawValue)
            self.id(id)
        case .anchor(let a):
            body.byte(ValueTag.anchor.rawValue)
            anchor(a)
        case .none:
            body.byte(ValueTag.none.rawValue)
        }
    }
}

/// A table of distinct values in first-use order. Head rows hold two or three strings, where a
/// linear scan beats hashing; deltas hold more, and switch to a dictionary.
struct Interner<T: Hashable> {
    private(set) var items: [T] = []
    private var lookup: [T: Int]?

    mutating func index(of value: T) -> Int {
        if let lookup {
            if let i = lookup[value] { return i }
        } else if let i = items.firstIndex(of: value) {
            return i
        }
        items.append(value)
        if lookup != nil {
            lookup![value] = items.count - 1
        } else if items.count > 8 {
            lookup = Dictionary(uniqueKeysWithValues: items.enumerated().map { ($1, $0) })
        }
        return items.count - 1
    }
}

// MARK: - Decoder

/// Reads ops written by ``OpEncoder``, validating every index and tag.
struct OpDecoder {
    var reader: BinaryReader
    private var strings: [String] = []
    private var replicas: [ReplicaID] = []
    private var lastCounter: UInt64 = 0
    private var lastStart = 0

    init(reader: BinaryReader) throws(CodecError) {
        self.reader = reader
        let stringCount = try self.reader.count("strings")
        strings.reserveCapacity(stringCount)
        for _ in 0..<stringCount { strings.append(try self.reader.string()) }
        let replicaCount = try self.reader.count("replicas", minBytes: 8)
        for _ in 0..<replicaCount { replicas.append(ReplicaID(try self.reader.fixed64())) }
    }

    mutating func op(document: DocumentID?) throws(CodecError) -> Op {
        let rawTag = try reader.byte()
        guard let tag = OpTag(rawValue: rawTag) else { throw reader.malformed(newerGlossHint("unknown op tag \(rawTag)")) }
        if tag == .setSchema { return .setSchema(try SchemaJSON.decode(try reader.string(), reader: reader)) }
        guard let document else { throw reader.malformed("\(tag) op in a delta without a document") }
        switch tag {
        case .create:
            return .create(try annotation(id: nil, document: document))
        case .set:
            let id = try self.id()
            let field = try self.field()
            return .set(document, id, field, try value())
        case .delete:
            return .delete(document, try id())
        case .addDocument:
            let digest = TextDigest(bytes: try reader.raw(32))!
            let length = try reader.int("document length")
            let metadata = try stringMap()
            return .addDocument(Document(id: document, digest: digest, length: length, metadata: metadata))
        case .removeDocument:
            return .removeDocument(document)
        case .reviseText:
            let from = TextDigest(bytes: try reader.raw(32))!
            let fromLength = try reader.int("text length")
            let to = TextDigest(bytes: try reader.raw(32))!
            let toLength = try reader.int("text length")
            let count = try reader.count("text edits", minBytes: 3)
            var edits: [TextEdit] = []
            edits.reserveCapacity(count)
            var previousEnd = 0
            for _ in 0..<count {
                let gap = try reader.zigzag()
                let length = try reader.zigzag()
                let newLength = Int(truncatingIfNeeded: try reader.zigzag())
                let (start, o1) = previousEnd.addingReportingOverflow(Int(truncatingIfNeeded: gap))
                let (end, o2) = start.addingReportingOverflow(Int(truncatingIfNeeded: length))
                guard !o1, !o2 else { throw reader.malformed("text edit offset overflows") }
                edits.append(TextEdit(old: TextRange(start, end), newLength: newLength))
                previousEnd = end
            }
            return .reviseText(document, TextRevision(from: from, fromLength: fromLength, to: to, toLength: toLength, edits: edits))
        case .setSchema:
            fatalError("handled above")
        }
    }

    /// Reads an annotation; with `id` given, the encoding carries none (head rows keep it in the key).
    mutating func annotation(id given: AnnotationID?, document: DocumentID) throws(CodecError) -> Annotation {
        let id: AnnotationID
        if let given { id = given } else { id = try self.id() }
        let rawKind = try reader.byte()
        guard let kind = AnnotationKind(rawValue: rawKind & ~anchoredKindBit) else {
            throw reader.malformed(newerGlossHint("unknown annotation kind \(rawKind)"))
        }
        let flags = AnnotationFlags(rawValue: try reader.byte())
        let owner = try string()
        var a = Annotation(id: id, document: document, kind: kind, layer: owner, owner: owner)
        if flags.contains(.layer) { a.layer = try string() }
        if flags.contains(.label) { a.label = try string() }
        if flags.contains(.ranges) { a.ranges = try ranges() }
        if flags.contains(.from) { a.from = try self.id() }
        if flags.contains(.to) { a.to = try self.id() }
        if flags.contains(.target) { a.target = try self.id() }
        if flags.contains(.text) { a.text = try reader.string() }
        if flags.contains(.attributes) { a.attributes = try stringMap() }
        if rawKind & anchoredKindBit != 0 { a.anchor = try anchor() }
        return a
    }

    mutating func anchor() throws(CodecError) -> TextAnchor {
        TextAnchor(text: TextDigest(bytes: try reader.raw(32))!, ranges: try ranges())
    }

    /// Reads past an annotation written without its id, keeping the running counter and start
    /// as ``annotation(id:document:)`` does, but building nothing: for readers that want a few
    /// entries of a block. Indexes are checked; strings are not validated as UTF-8.
    mutating func skipAnnotation() throws(CodecError) {
        let rawKind = try reader.byte()
        let flags = AnnotationFlags(rawValue: try reader.byte())
        try skipString()  // owner
        if flags.contains(.layer) { try skipString() }
        if flags.contains(.label) { try skipString() }
        if flags.contains(.ranges) {
            let n = try reader.count("ranges", minBytes: 2)
            for _ in 0..<n {
                let delta = try reader.zigzag()
                _ = try reader.zigzag()
                lastStart = lastStart &+ Int(truncatingIfNeeded: delta)
            }
        }
        if flags.contains(.from) { _ = try id() }
        if flags.contains(.to) { _ = try id() }
        if flags.contains(.target) { _ = try id() }
        if flags.contains(.text) { _ = try reader.raw(try reader.int("string length")) }
        if flags.contains(.attributes) {
            let n = try reader.count("map entries", minBytes: 2)
            for _ in 0..<n {
                try skipString()
                try skipString()
            }
        }
        if rawKind & anchoredKindBit != 0 { _ = try anchor() }
    }

    /// Reads past a string-table index, checking it.
    mutating func skipString() throws(CodecError) {
        let index = try reader.int("string index")
        guard index < strings.count else { throw reader.malformed("string index \(index) of \(strings.count)") }
    }

    /// Reads past a field (see ``field()``).
    mutating func skipField() throws(CodecError) {
        let raw = try reader.byte()
        guard let tag = FieldTag(rawValue: raw) else { throw reader.malformed(newerGlossHint("unknown field tag \(raw)")) }
        if tag == .attribute { try skipString() }
    }

    mutating func id() throws(CodecError) -> AnnotationID {
        let index = try reader.int("replica index")
        guard index < replicas.count else { throw reader.malformed("replica index \(index) of \(replicas.count)") }
        let delta = try reader.zigzag()
        lastCounter = lastCounter &+ UInt64(bitPattern: delta)
        return AnnotationID(replica: replicas[index], counter: lastCounter)
    }

    mutating func string() throws(CodecError) -> String {
        let index = try reader.int("string index")
        guard index < strings.count else { throw reader.malformed("string index \(index) of \(strings.count)") }
        return strings[index]
    }

    mutating func stringMap() throws(CodecError) -> [String: String] {
        let n = try reader.count("map entries", minBytes: 2)
        var map: [String: String] = [:]
        for _ in 0..<n {
            let k = try string()
            map[k] = try string()
        }
        return map
    }

    mutating func ranges() throws(CodecError) -> [TextRange] {
        let n = try reader.count("ranges", minBytes: 2)
        var out: [TextRange] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            let delta = try reader.zigzag()
            let length = try reader.zigzag()
            let (start, o1) = lastStart.addingReportingOverflow(Int(truncatingIfNeeded: delta))
            let (end, o2) = start.addingReportingOverflow(Int(truncatingIfNeeded: length))
            guard !o1, !o2 else { throw reader.malformed("range offset overflows") }
            out.append(TextRange(start, end))
            lastStart = start
        }
        return out
    }

    mutating func field() throws(CodecError) -> Field {
        let raw = try reader.byte()
        guard let tag = FieldTag(rawValue: raw) else { throw reader.malformed(newerGlossHint("unknown field tag \(raw)")) }
        switch tag {
        case .anchor: return .anchor
        case .label: return .label
        case .ranges: return .ranges
        case .from: return .from
        case .to: return .to
        case .text: return .text
        case .attribute: return .attribute(try string())
        }
    }

    mutating func value() throws(CodecError) -> FieldValue {
        let raw = try reader.byte()
        guard let tag = ValueTag(rawValue: raw) else { throw reader.malformed(newerGlossHint("unknown value tag \(raw)")) }
        switch tag {
        case .anchor: return .anchor(try anchor())
        case .string: return .string(try reader.string())
        case .ranges: return .ranges(try ranges())
        case .reference: return .reference(try id())
        case .none: return .none
        }
    }
}

/// Schemas are rare and small: JSON keeps them readable and evolvable.
enum SchemaJSON {
    static func encode(_ schema: Schema) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(schema)) ?? Data(), as: UTF8.self)
    }

    static func decode(_ json: String, reader: BinaryReader) throws(CodecError) -> Schema {
        do {
            return try JSONDecoder().decode(Schema.self, from: Data(json.utf8))
        } catch {
            throw reader.malformed("schema JSON: \(error)")
        }
    }
}
