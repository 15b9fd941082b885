import Foundation
import GlossTestSupport
import Testing

@testable import GlossModel

/// Every string and list of the data model has a limit (issue 13, point 3): at the limit it is
/// accepted, one past it the changeset is refused `field-too-large`, naming the field and the
/// limit and the op. The same check runs in the client before it commits.
struct FieldLimitsTests {
    static let limits = FieldLimits.v1
    static let doc: DocumentID = "d"

    /// A head with one document and an open schema.
    static func head() throws -> HeadState {
        var head = HeadState()
        try head.apply(Minter("owner", replica: 1).documents(base: 0, [(doc, String(repeating: "x", count: 4096))]), as: 1)
        return head
    }

    static func check(_ ops: [Op], message: String = "") throws(ValidationError) {
        var changeset = Minter("ann", replica: 2).changeset(base: 1, ops)
        changeset.message = message
        let head = try! head()
        _ = try AcceptanceCheck.check(changeset, against: head, as: 2)
    }

    static func refusal(_ ops: [Op], message: String = "") -> ValidationError? {
        do throws(ValidationError) {
            try check(ops, message: message)
            return nil
        } catch {
            return error
        }
    }

    static func text(_ bytes: Int) -> String { String(repeating: "x", count: bytes) }

    static func span(label: String = "PER", attributes: [String: String] = [:], ranges: Int = 1, owner: String = "ann")
        -> Annotation
    {
        var m = Minter(owner, replica: 2)
        var a = m.span(doc, 0, 1, label, attributes: attributes)
        a.ranges = (0..<ranges).map { TextRange($0, $0) }
        a.layer = owner
        return a
    }

    /// A case: the ops at the limit, the ops one past it, and what the message must name.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var atLimit: [Op]
        var pastLimit: [Op]
        var message: String = ""
        var pastMessage: String = ""
        var names: String
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        let l = limits
        var note = Minter("ann", replica: 2)
        let target = AnnotationID(replica: ReplicaID(2), counter: 1)
        return [
            Case(name: "label", atLimit: [.create(span(label: text(l.labelBytes)))], pastLimit: [.create(span(label: text(l.labelBytes + 1)))], names: "label is 257 bytes; the limit is 256 bytes"),
            Case(name: "a label of 10 MiB", atLimit: [.create(span())], pastLimit: [.create(span(label: text(10 << 20)))], names: "label is 10485760 bytes"),
            Case(name: "attribute key", atLimit: [.create(span(attributes: [text(l.attributeKeyBytes): "v"]))], pastLimit: [.create(span(attributes: [text(l.attributeKeyBytes + 1): "v"]))], names: "attribute key is 257 bytes; the limit is 256 bytes"),
            Case(name: "attribute value", atLimit: [.create(span(attributes: ["k": text(l.attributeValueBytes)]))], pastLimit: [.create(span(attributes: ["k": text(l.attributeValueBytes + 1)]))], names: "attribute k is 4097 bytes; the limit is 4096 bytes"),
            Case(name: "attributes per annotation", atLimit: [.create(span(attributes: Dictionary(uniqueKeysWithValues: (0..<l.attributesPerAnnotation).map { ("k\($0)", "v") })))], pastLimit: [.create(span(attributes: Dictionary(uniqueKeysWithValues: (0...l.attributesPerAnnotation).map { ("k\($0)", "v") })))], names: "65 attributes of one annotation; the limit is 64"),
            Case(name: "ranges of a span", atLimit: [.create(span(ranges: l.rangesPerSpan))], pastLimit: [.create(span(ranges: l.rangesPerSpan + 1))], names: "1025 ranges of a span; the limit is 1024"),
            Case(name: "owner", atLimit: [.create(span(owner: text(l.ownerBytes)))], pastLimit: [.create(span(owner: text(l.ownerBytes + 1)))], names: "owner is 65 bytes; the limit is 64 bytes"),
            Case(name: "note text", atLimit: [.create(Annotation(id: note.nextID(), document: doc, kind: .note, layer: "ann", owner: "ann", text: text(l.noteBytes)))], pastLimit: [.create(Annotation(id: note.nextID(), document: doc, kind: .note, layer: "ann", owner: "ann", text: text(l.noteBytes + 1)))], names: "note text is 65537 bytes; the limit is 65536 bytes"),
            Case(name: "a set of a label", atLimit: [.create(span()), .set(doc, target, .label, .string(text(l.labelBytes)))], pastLimit: [.create(span()), .set(doc, target, .label, .string(text(l.labelBytes + 1)))], names: "label is 257 bytes"),
            Case(name: "a set of an attribute", atLimit: [.create(span()), .set(doc, target, .attribute("k"), .string(text(l.attributeValueBytes)))], pastLimit: [.create(span()), .set(doc, target, .attribute("k"), .string(text(l.attributeValueBytes + 1)))], names: "attribute k is 4097 bytes"),
            Case(name: "a set adding one attribute too many", atLimit: [.create(span(attributes: Dictionary(uniqueKeysWithValues: (0..<(l.attributesPerAnnotation - 1)).map { ("k\($0)", "v") }))), .set(doc, target, .attribute("new"), .string("v"))], pastLimit: [.create(span(attributes: Dictionary(uniqueKeysWithValues: (0..<l.attributesPerAnnotation).map { ("k\($0)", "v") }))), .set(doc, target, .attribute("new"), .string("v"))], names: "65 attributes of one annotation"),
            Case(name: "schema labels", atLimit: [.setSchema(Schema(spanLabels: (0..<l.schemaListEntries).map { "L\($0)" }))], pastLimit: [.setSchema(Schema(spanLabels: (0...l.schemaListEntries).map { "L\($0)" }))], names: "4097 the schema's span labels; the limit is 4096"),
            Case(name: "changeset message", atLimit: [], pastLimit: [], message: text(l.messageBytes), pastMessage: text(l.messageBytes + 1), names: "the changeset message is 16385 bytes; the limit is 16384 bytes"),
        ]
    }()

    @Test(arguments: cases)
    func atTheLimitIsAcceptedAndOnePastItIsRefused(c: Case) throws {
        #expect(Self.refusal(c.atLimit, message: c.message) == nil, "refused at the limit")
        let error = try #require(Self.refusal(c.pastLimit, message: c.pastMessage))
        #expect(error.code == .fieldTooLarge)
        #expect(error.message.contains(c.names), "\(error.message)")
        if !c.pastLimit.isEmpty { #expect(error.opIndex != nil) }
    }

    @Test func opsPerChangesetAreBounded() {
        #expect(throws: ValidationError.self) {
            try Self.limits.checkChangeset(message: "", opCount: Self.limits.opsPerChangeset + 1, texts: [String]())
        }
        #expect(throws: Never.self) {
            try Self.limits.checkChangeset(message: "", opCount: Self.limits.opsPerChangeset, texts: [String]())
        }
    }

    @Test func aSchemaFilePastTheLimitsIsRefusedWithItsOwnError() throws {
        let many = (0...FieldLimits.v1.schemaListEntries).map { "\"L\($0)\"" }.joined(separator: ",")
        let error = #expect(throws: SchemaFileError.self) {
            try SchemaFile.parse(Data("{\"spanLabels\": [\(many)]}".utf8))
        }
        #expect(error?.code == .tooLarge)
        let huge = Data(repeating: 0x20, count: SchemaFile.maxBytes + 1)
        #expect((#expect(throws: SchemaFileError.self) { try SchemaFile.parse(huge) })?.code == .tooLarge)
    }
}
