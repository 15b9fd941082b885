import Foundation
import Testing
@testable import GlossModel

/// The byte-level vectors in `Protocol/vectors/` decode to the ops they document and
/// re-encode to the same bytes, so the spec and the code cannot drift apart.
struct DeltaVector {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Protocol/vectors")

    static func bytes(_ name: String) throws -> [UInt8] {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        let hex = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined().filter { !$0.isWhitespace }
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    /// The ops of `delta-v1.hex`, as documented in `Protocol/storage-encoding.md`.
    static let ops: [Op] = {
        let doc: DocumentID = "news/1"
        let replica = ReplicaID(0x0102_0304_0506_0708)
        let a = AnnotationID(replica: replica, counter: 1)
        let b = AnnotationID(replica: replica, counter: 2)
        return [
            .addDocument(Document(id: doc, text: "Alice met Bob.")),
            .create(Annotation.span(a, in: doc, [TextRange(0, 5)], label: "PER", owner: "ann")),
            .create(Annotation.span(b, in: doc, [TextRange(10, 13)], label: "PER", owner: "ann", attributes: ["negated": "no"])),
            .set(doc, a, .label, .string("ORG")),
            .delete(doc, b),
        ]
    }()
}

@Test func deltaVectorDecodesAndReencodes() throws {
    let bytes = try DeltaVector.bytes("delta-v1.hex")
    let decoded = try DeltaCodec.decode(bytes)
    #expect(decoded.document == "news/1")
    #expect(decoded.ops == DeltaVector.ops)
    #expect(DeltaCodec.encode(decoded.ops, document: decoded.document) == bytes)
}

/// `delta-running-state.hex`: one running counter for every id of a delta (references and both
/// replicas included) and one running start for every range, as `storage-encoding.md` says.
@Test func runningStateVectorDecodesToItsDocumentedOpsAndReencodes() throws {
    let bytes = try DeltaVector.bytes("delta-running-state.hex")
    let doc: DocumentID = "news/1"
    let r1 = ReplicaID(0x0102_0304_0506_0708), r2 = ReplicaID(0x1112_1314_1516_1718)
    let a = AnnotationID(replica: r1, counter: 7), b = AnnotationID(replica: r2, counter: 3)
    let c = AnnotationID(replica: r1, counter: 8), d = AnnotationID(replica: r1, counter: 9)
    var relation = Annotation.relation(c, in: doc, from: a, to: b, label: "meets", owner: "ann")
    relation.attributes = ["certain": "yes"]
    let expected: [Op] = [
        .create(Annotation.span(a, in: doc, [TextRange(0, 5)], label: "PER", owner: "ann")),
        .create(Annotation.span(b, in: doc, [TextRange(6, 9), TextRange(10, 13)], label: "PER", owner: "bob", layer: "curated")),
        .create(relation),
        .create(Annotation(id: d, document: doc, kind: .note, layer: "ann", owner: "ann", target: c, text: "check")),
        .set(doc, b, .ranges, .ranges([TextRange(10, 13)])),
        .set(doc, c, .to, .reference(a)),
        .set(doc, c, .from, .reference(b)),
        .set(doc, c, .attribute("certain"), .none),
    ]
    let decoded = try DeltaCodec.decode(bytes)
    #expect(decoded.document == doc)
    #expect(decoded.ops == expected)
    #expect(DeltaCodec.encode(expected, document: doc) == bytes)
}

/// `annotation-ids.txt`: the text form of ids, computed as `storage-encoding.md` specifies,
/// both ways.
@Test func annotationIdVectorsMatchTheTextForm() throws {
    let text = try String(contentsOf: DeltaVector.directory.appendingPathComponent("annotation-ids.txt"), encoding: .utf8)
    let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    #expect(lines.count >= 10)
    for line in lines {
        let fields = line.split(separator: " ")
        try #require(fields.count == 3, "\(line)")
        let id = AnnotationID(
            replica: ReplicaID(try #require(UInt64(fields[0], radix: 16))), counter: try #require(UInt64(fields[1])))
        #expect(id.description == String(fields[2]), "\(line)")
        #expect(AnnotationID(String(fields[2])) == id, "\(line)")
    }
}

/// `delta-document-ops.hex`: the ops the other delta vectors do not show (metadata, a document
/// label, a note on the document, set text and set attribute, removeDocument), encoded as
/// storage-encoding.md says (the file was written by `Protocol/reference`, from the spec).
@Test func documentOpsVectorDecodesToItsDocumentedOpsAndReencodes() throws {
    let bytes = try DeltaVector.bytes("delta-document-ops.hex")
    let doc: DocumentID = "news/2"
    let r1 = ReplicaID(0x0102_0304_0506_0708)
    let label = AnnotationID(replica: r1, counter: 1), note = AnnotationID(replica: r1, counter: 2)
    let expected: [Op] = [
        .addDocument(Document(id: doc, text: "Acme hired Alice.", metadata: ["source": "wire", "lang": "en"])),
        .create(Annotation(id: label, document: doc, kind: .documentLabel, layer: "ann", owner: "ann", label: "business")),
        .create(Annotation(id: note, document: doc, kind: .note, layer: "ann", owner: "ann", text: "check the date")),
        .set(doc, note, .text, .string("checked")),
        .set(doc, label, .attribute("confidence"), .string("high")),
        .set(doc, label, .label, .string("economy")),
        .removeDocument(doc),
    ]
    let decoded = try DeltaCodec.decode(bytes)
    #expect(decoded.document == doc)
    #expect(decoded.ops == expected)
    #expect(DeltaCodec.encode(expected, document: doc) == bytes)
}

/// `delta-corpus.hex`: a corpus-level delta (no document) holding the spec's example schema.
@Test func corpusDeltaVectorHoldsTheSpecsSchema() throws {
    let bytes = try DeltaVector.bytes("delta-corpus.hex")
    let decoded = try DeltaCodec.decode(bytes)
    #expect(decoded.document == nil)
    guard decoded.ops.count == 1, case .setSchema(let schema) = decoded.ops[0] else {
        Issue.record("not one setSchema: \(decoded.ops)")
        return
    }
    #expect(schema.spanLabels == ["PER", "ORG"])
    #expect(schema.documentLabels == ["politics"])
    #expect(!schema.isOpen)
    #expect(DeltaCodec.encode(decoded.ops, document: nil) == bytes)
}

/// `snapshot.hex`: the snapshot the store writes for that state is exactly these bytes: the
/// order of its creates (spans by first start, then the rest by id) is the spec's.
@Test func snapshotVectorIsWhatTheStoreWritesForItsState() throws {
    let bytes = try DeltaVector.bytes("snapshot.hex")
    let doc: DocumentID = "news/1"
    let r1 = ReplicaID(0x0102_0304_0506_0708), r2 = ReplicaID(0x1112_1314_1516_1718)
    let bobSpan = Annotation.span(AnnotationID(replica: r2, counter: 4), in: doc, [TextRange(0, 5)], label: "PER", owner: "bob")
    let annSpan = Annotation.span(
        AnnotationID(replica: r1, counter: 1), in: doc, [TextRange(10, 13)], label: "PER", owner: "ann", attributes: ["negated": "no"])
    let relation = Annotation.relation(
        AnnotationID(replica: r1, counter: 3), in: doc, from: bobSpan.id, to: annSpan.id, label: "meets", owner: "ann")
    let note = Annotation(
        id: AnnotationID(replica: r1, counter: 2), document: doc, kind: .note, layer: "ann", owner: "ann", target: relation.id,
        text: "really?")
    var state = DocumentState(document: Document(id: doc, text: "Alice met Bob."))
    for a in [relation, note, annSpan, bobSpan] { state.annotations[a.id] = a }
    #expect(DeltaCodec.encode(state.asOps, document: doc) == bytes)
    let decoded = try DeltaCodec.decode(bytes)
    #expect(decoded.ops == [.addDocument(Document(id: doc, text: "Alice met Bob.")), .create(bobSpan), .create(annSpan), .create(note), .create(relation)])
}

/// `delta-text-revision.hex`: a text revision and the anchor parts it brought (op tag 6, field
/// tag 6, value tag 4, the kind byte's bit 0x80), as storage-encoding.md lays them out.
enum TextRevisionVector {
    static let doc: DocumentID = "news/3"
    static let old = "The big cat sat.", new = "The cat sat down."
    static let r1 = ReplicaID(0x0102_0304_0506_0708)
    static let np = AnnotationID(replica: r1, counter: 1), adj = AnnotationID(replica: r1, counter: 2)
    static let revision = TextRevision(
        from: TextDigest(of: old), fromLength: 16, to: TextDigest(of: new), toLength: 17,
        edits: [TextEdit(old: TextRange(4, 8), newLength: 0), TextEdit(old: TextRange(15, 15), newLength: 5)])
    /// "The big cat" re-anchored: a proposal ("The cat") flagged with where it was.
    static let nounPhrase = Annotation(
        id: np, document: doc, kind: .span, layer: "ann", owner: "ann", label: "NP", ranges: [TextRange(0, 7)],
        attributes: ["checked": "no"], anchor: TextAnchor(text: TextDigest(of: old), ranges: [TextRange(0, 11)]))
    /// "big" deleted: no ranges left, only the anchor.
    static let adjective = Annotation(
        id: adj, document: doc, kind: .span, layer: "ann", owner: "ann", label: "ADJ",
        anchor: TextAnchor(text: TextDigest(of: old), ranges: [TextRange(4, 7)]))
    static let ops: [Op] = [
        .reviseText(doc, revision),
        .create(nounPhrase),
        .create(adjective),
        .set(doc, np, .anchor, .anchor(TextAnchor(text: TextDigest(of: old), ranges: [TextRange(0, 3), TextRange(8, 11)]))),
        .set(doc, np, .anchor, .none),
    ]
}

@Test func textRevisionVectorDecodesToItsDocumentedOpsAndReencodes() throws {
    let bytes = try DeltaVector.bytes("delta-text-revision.hex")
    let decoded = try DeltaCodec.decode(bytes)
    #expect(decoded.document == TextRevisionVector.doc)
    #expect(decoded.ops == TextRevisionVector.ops)
    #expect(DeltaCodec.encode(TextRevisionVector.ops, document: TextRevisionVector.doc) == bytes)
}

/// The vector is a real revision: its edits are the diff of its two texts, and re-anchoring
/// "The big cat" and "big" through them gives the two anchored creates of the vector.
@Test func textRevisionVectorIsTheRevisionOfItsTexts() throws {
    let v = TextRevisionVector.self
    #expect(TextRevision(from: v.old, to: v.new) == v.revision)
    try v.revision.check()
    var state = DocumentState(document: Document(id: v.doc, text: v.old))
    var np = v.nounPhrase, adj = v.adjective
    (np.ranges, np.anchor) = ([TextRange(0, 11)], nil)
    (adj.ranges, adj.anchor) = ([TextRange(4, 7)], nil)
    for a in [np, adj] { state.annotations[a.id] = a }
    try state.apply(.reviseText(v.doc, v.revision))
    #expect(state.document?.digest == TextDigest(of: v.new) && state.document?.length == 17)
    #expect(state.annotations[v.np] == v.nounPhrase)
    #expect(state.annotations[v.adj] == v.adjective)
}
