import Testing
@testable import GlossModel
import GlossTestSupport

@Test func annotationIDsRoundTripThroughTheirTextualForm() {
    var rng = SplitMix64(seed: 7)
    var seen: Set<String> = []
    for _ in 0..<2000 {
        let id = AnnotationID(replica: ReplicaID(rng.next()), counter: rng.next() >> UInt64(rng.int(below: 64)))
        let text = id.description
        #expect(text.count == 26)
        #expect(AnnotationID(text) == id)
        seen.insert(String(text.prefix(8)))
    }
    // Consecutive counters of one replica differ early: 8-character prefixes stay unique.
    let replica = ReplicaID(42)
    let prefixes = Set((1...5000).map { String(AnnotationID(replica: replica, counter: UInt64($0)).description.prefix(7)) })
    #expect(prefixes.count == 5000)
    #expect(AnnotationID("not-an-id") == nil)
    #expect(AnnotationID(String(repeating: "z", count: 26)) == nil)  // 130 bits do not fit 128
}

/// Every op kind, with the awkward cases: discontinuous ranges, layer ≠ owner, notes, attributes.
func sampleOps() -> [Op] {
    var m = Minter("ann", replica: 0xDEAD_BEEF)
    let doc: DocumentID = "corpus/a"
    let span = Annotation.span(
        m.nextID(), in: doc, [TextRange(0, 5), TextRange(9, 12)], label: "ORG", owner: "ann", layer: "curated",
        attributes: ["negated": "no", "note": "ü"])
    let other = m.span(doc, 20, 24, "PER")
    let rel = m.relation(doc, other.id, span.id, "works_for")
    let note = Annotation(
        id: m.nextID(), document: doc, kind: .note, layer: "ann", owner: "ann", target: span.id, text: "check 👍🏽")
    let label = Annotation(id: m.nextID(), document: doc, kind: .documentLabel, layer: "ann", owner: "ann", label: "sports")
    let foreign = AnnotationID(replica: ReplicaID(.max), counter: .max)
    return [
        .addDocument(Document(id: doc, text: SampleTexts.news, metadata: ["source": "wire"])),
        .create(span), .create(other), .create(rel), .create(note), .create(label),
        .set(doc, span.id, .label, .string("LOC")),
        .set(doc, span.id, .ranges, .ranges([TextRange(1, 2)])),
        .set(doc, rel.id, .to, .reference(foreign)),
        .set(doc, span.id, .attribute("negated"), .none),
        .set(doc, note.id, .text, .string("")),
        .delete(doc, other.id),
        .removeDocument(doc),
    ]
}

@Test func deltasRoundTrip() throws {
    let ops = sampleOps()
    let bytes = DeltaCodec.encode(ops, document: "corpus/a")
    let decoded = try DeltaCodec.decode(bytes)
    #expect(decoded.document == "corpus/a")
    #expect(decoded.ops == ops)

    let schema = Schema(spanLabels: ["A"], relations: [.init(label: "r", fromLabels: ["A"])])
    let corpus = try DeltaCodec.decode(DeltaCodec.encode([.setSchema(schema)], document: nil))
    #expect(corpus.document == nil)
    #expect(corpus.ops == [.setSchema(schema)])
}

@Test func idsAndOffsetsCostAboutTwoBytes() {
    var m = Minter("ann", replica: 12345)
    let doc: DocumentID = "d"
    let ops = (0..<500).map { i in Op.create(m.span(doc, i * 10, i * 10 + 4, "PER")) }
    let bytes = DeltaCodec.encode(ops, document: doc)
    // tag, id (2), kind, flags, owner, label, range count, start, length: about 10 bytes each.
    #expect(bytes.count < 500 * 11)
}

@Test func headEntriesRoundTrip() throws {
    for op in sampleOps() {
        guard case .create(let a) = op else { continue }
        let entry = HeadEntry(annotation: a, createdAt: 7, fieldRevisions: [.label: 9, .attribute("x"): 12], deletedAt: 15)
        #expect(try HeadEntryCodec.decode(HeadEntryCodec.encode(entry), id: a.id, document: a.document) == entry)
        let live = HeadEntry(annotation: a, createdAt: 1)
        #expect(try HeadEntryCodec.decode(HeadEntryCodec.encode(live), id: a.id, document: a.document) == live)
    }
}

@Test func everyTruncationIsATypedError() {
    let bytes = DeltaCodec.encode(sampleOps(), document: "corpus/a")
    for cut in 0..<bytes.count {
        #expect(throws: CodecError.self, "cut at \(cut)") { try DeltaCodec.decode(Array(bytes[0..<cut])) }
    }
}

@Test func randomCorruptionNeverTraps() {
    let bytes = DeltaCodec.encode(sampleOps(), document: "corpus/a")
    var rng = SplitMix64(seed: 99)
    var errors = 0
    for _ in 0..<3000 {
        var corrupt = bytes
        for _ in 0...rng.int(below: 4) { corrupt[rng.int(below: corrupt.count)] = UInt8(truncatingIfNeeded: rng.next()) }
        do { _ = try DeltaCodec.decode(corrupt) } catch { errors += 1 }
    }
    #expect(errors > 0)
}

@Test func hostileCountsAreRefusedBeforeAllocating() {
    // Version 1, no document, then a claim of 2^40 strings in a 12-byte input.
    var w = BinaryWriter()
    w.byte(1)
    w.byte(0)
    w.varint(UInt64(1) << 40)
    do {
        _ = try DeltaCodec.decode(w.bytes)
        Issue.record("accepted a huge count")
    } catch {
        #expect(error.code == .malformed || error.code == .truncated)
    }
    #expect(throws: CodecError.self) { try DeltaCodec.decode([9, 0, 0, 0, 0]) }  // unknown version
}
