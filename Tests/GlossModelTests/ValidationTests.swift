import Testing
@testable import GlossModel
import GlossTestSupport

/// A head with one document and a closed schema, and a helper that checks one changeset.
struct ValidationFixture {
    var head = HeadState()
    var owner = Minter("owner", replica: 1)
    var ann = Minter("ann", replica: 2)
    let doc: DocumentID = "news/1"

    static let schema = Schema(
        spanLabels: ["PER", "ORG", "LOC"],
        relations: [.init(label: "works_for", fromLabels: ["PER"], toLabels: ["ORG"])],
        documentLabels: ["politics"],
        attributes: [.init(name: "negated", values: ["yes", "no"]), .init(name: "comment")])

    init() throws {
        var setup = owner.documents(base: 0, [(doc, SampleTexts.short)])
        setup.ops.append(.setSchema(Self.schema))
        try head.apply(setup, as: 1)
    }

    mutating func check(_ ops: [Op]) throws(ValidationError) -> CheckOutcome {
        try AcceptanceCheck.check(ann.changeset(base: head.revision, ops), against: head, as: head.revision + 1)
    }

    /// The code of the error the ops raise, or nil when they are accepted.
    mutating func errorCode(_ ops: [Op]) -> ValidationError.Code? {
        do throws(ValidationError) {
            _ = try check(ops)
            return nil
        } catch {
            return error.code
        }
    }
}

@Test func acceptsAValidSpan() throws {
    var f = try ValidationFixture()
    let span = f.ann.span(f.doc, 0, 5, "PER")
    let outcome = try f.check([.create(span)])
    #expect(outcome.conflicts.isEmpty)
    #expect(outcome.accepted == [.create(span)])
}

@Test func unknownLabelIsNamed() throws {
    var f = try ValidationFixture()
    let span = f.ann.span(f.doc, 0, 5, "DISEASE")
    do {
        _ = try f.check([.create(span)])
        Issue.record("accepted an unknown label")
    } catch {
        #expect(error.code == .unknownLabel)
        #expect(error.annotation == span.id)
        #expect(error.document == f.doc)
        #expect(error.opIndex == 0)
        #expect(error.message.contains("DISEASE"))
    }
}

@Test func unknownAttributeAndValue() throws {
    var f = try ValidationFixture()
    #expect(f.errorCode([.create(f.ann.span(f.doc, 0, 5, "PER", attributes: ["colour": "red"]))]) == .unknownAttribute)
    #expect(f.errorCode([.create(f.ann.span(f.doc, 0, 5, "PER", attributes: ["negated": "maybe"]))]) == .unknownAttributeValue)
    #expect(f.errorCode([.create(f.ann.span(f.doc, 0, 5, "PER", attributes: ["negated": "yes"]))]) == nil)
    #expect(f.errorCode([.create(f.ann.span(f.doc, 0, 5, "PER", attributes: ["comment": "anything"]))]) == nil)
}

@Test func rangesOutsideTheTextOrInverted() throws {
    var f = try ValidationFixture()
    let length = SampleTexts.short.unicodeScalars.count
    #expect(f.errorCode([.create(f.ann.span(f.doc, 0, length + 1, "PER"))]) == .rangeOutOfBounds)
    #expect(f.errorCode([.create(f.ann.span(f.doc, -1, 3, "PER"))]) == .rangeOutOfBounds)
    #expect(f.errorCode([.create(f.ann.span(f.doc, 5, 2, "PER"))]) == .invertedRange)
    #expect(f.errorCode([.create(f.ann.span(f.doc, 0, length, "PER"))]) == nil)
}

@Test func discontinuousSpansMustNotOverlap() throws {
    var f = try ValidationFixture()
    func span(_ ranges: [TextRange]) -> Op {
        .create(Annotation.span(f.ann.nextID(), in: f.doc, ranges, label: "ORG", owner: "ann"))
    }
    #expect(f.errorCode([span([TextRange(0, 5), TextRange(14, 18)])]) == nil)
    #expect(f.errorCode([span([TextRange(0, 5), TextRange(3, 8)])]) == .overlappingRanges)
    #expect(f.errorCode([span([TextRange(14, 18), TextRange(0, 5)])]) == .unsortedRanges)
    #expect(f.errorCode([span([])]) == .emptyRanges)
}

@Test func relationsNeedLiveEndpointsWithAllowedLabels() throws {
    var f = try ValidationFixture()
    let per = f.ann.span(f.doc, 0, 5, "PER")
    let org = f.ann.span(f.doc, 14, 18, "ORG")
    let loc = f.ann.span(f.doc, 22, 27, "LOC")
    try f.head.apply(f.ann.changeset(base: 1, [.create(per), .create(org), .create(loc)]), as: 2)

    #expect(f.errorCode([.create(f.ann.relation(f.doc, per.id, org.id, "works_for"))]) == nil)
    #expect(f.errorCode([.create(f.ann.relation(f.doc, per.id, loc.id, "works_for"))]) == .relationNotAllowed)
    #expect(f.errorCode([.create(f.ann.relation(f.doc, per.id, org.id, "likes"))]) == .unknownLabel)
    let ghost = AnnotationID(replica: ReplicaID(99), counter: 1)
    #expect(f.errorCode([.create(f.ann.relation(f.doc, per.id, ghost, "works_for"))]) == .missingReference)
}

@Test func deletingAReferencedSpanNeedsTheRelationGoneToo() throws {
    var f = try ValidationFixture()
    let per = f.ann.span(f.doc, 0, 5, "PER")
    let org = f.ann.span(f.doc, 14, 18, "ORG")
    let rel = f.ann.relation(f.doc, per.id, org.id, "works_for")
    try f.head.apply(f.ann.changeset(base: 1, [.create(per), .create(org), .create(rel)]), as: 2)
    #expect(f.errorCode([.delete(f.doc, per.id)]) == .referencedAnnotation)
    #expect(f.errorCode([.delete(f.doc, per.id), .delete(f.doc, rel.id)]) == nil)
}

@Test func textMustBeValidUTF8() {
    #expect(throws: Never.self) { try Document.text(fromUTF8: Array("naïve".utf8)) }
    do {
        _ = try Document.text(fromUTF8: [0x61, 0x62, 0xC3, 0x28, 0x63])
        Issue.record("accepted invalid UTF-8")
    } catch {
        #expect(error.code == .invalidUTF8)
        #expect(error.message.contains("byte 2"))
    }
}

@Test func addDocumentChecksDigestAndDuplicates() throws {
    let f = try ValidationFixture()
    var lying = f.owner.documents(base: 1, [("news/2", "hello")])
    lying.texts = [lying.texts.keys.first!: "goodbye"]
    do {
        _ = try AcceptanceCheck.check(lying, against: f.head, as: 2)
        Issue.record("accepted a text that does not match its digest")
    } catch {
        #expect(error.code == .invalidField)
    }
    let again = f.owner.documents(base: 1, [(f.doc, "other text")])
    do {
        _ = try AcceptanceCheck.check(again, against: f.head, as: 2)
        Issue.record("accepted a second document with the same id")
    } catch {
        #expect(error.code == .duplicateDocument)
    }
    var missing = f.owner.documents(base: 1, [("news/3", "text")])
    missing.texts = [:]
    do {
        _ = try AcceptanceCheck.check(missing, against: f.head, as: 2)
        Issue.record("accepted a document without its text")
    } catch {
        #expect(error.code == .textMissing)
    }
}

@Test func documentIDsAreSlugs() {
    #expect(throws: Never.self) { try DocumentID(validating: "news/2023-01-18_a.txt") }
    for bad in ["", "a//b", "../etc", "a b", "/abs", "é"] {
        #expect(throws: ValidationError.self, "\(bad)") { try DocumentID(validating: bad) }
    }
}

@Test func fieldsAKindDoesNotHaveAreRefused() throws {
    var f = try ValidationFixture()
    let span = f.ann.span(f.doc, 0, 5, "PER")
    try f.head.apply(f.ann.changeset(base: 1, [.create(span)]), as: 2)
    #expect(f.errorCode([.set(f.doc, span.id, .text, .string("x"))]) == .fieldNotApplicable)
    #expect(f.errorCode([.set(f.doc, span.id, .label, .ranges([]))]) == .fieldNotApplicable)
    #expect(f.errorCode([.set(f.doc, span.id, .label, .string("ORG"))]) == nil)
}

@Test func openSchemaAcceptsAnyLabel() throws {
    var head = HeadState()
    var owner = Minter("owner", replica: 1)
    try head.apply(owner.documents(base: 0, [("d", SampleTexts.short)]), as: 1)
    let span = owner.span("d", 0, 5, "ANYTHING", attributes: ["free": "form"])
    let outcome = try head.apply(owner.changeset(base: 1, [.create(span)]), as: 2)
    #expect(outcome.conflicts.isEmpty)
    #expect(head.liveAnnotations(in: "d") == [span])
}
