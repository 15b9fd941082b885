import Foundation
import GlossModel
import GlossTestSupport
import Testing

/// Schema files as people write them: every key checked, each problem named by its place.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct SchemaFileTests {
    func parse(_ json: String) throws(SchemaFileError) -> Schema { try SchemaFile.parse(Data(json.utf8)) }

    @Test func theREADMEExampleParses() throws {
        let schema = try parse(
            #"{"isOpen": false, "spanLabels": ["PER", "ORG", "LOC"], "documentLabels": ["politics"], "relations": [{"label": "works_for", "fromLabels": ["PER"], "toLabels": ["ORG"]}], "attributes": [{"name": "negated", "values": ["yes", "no"]}]}"#
        )
        #expect(schema.spanLabels == ["PER", "ORG", "LOC"])
        #expect(schema.relations == [.init(label: "works_for", fromLabels: ["PER"], toLabels: ["ORG"])])
        #expect(schema.attributes == [.init(name: "negated", values: ["yes", "no"])])
        #expect(!schema.isOpen)
    }

    @Test(arguments: [
        (#"{"labels": ["PER"]}"#, "unknown-key", "labels", "spanLabels"),
        (#"{"spanLabel": ["PER"]}"#, "unknown-key", "spanLabel", "spanLabels"),
        (#"{"relations": [{"label": "r", "fromLabls": ["PER"]}]}"#, "unknown-key", "relations[0].fromLabls", "fromLabels"),
        (#"{"attributes": [{"name": "a", "value": ["x"]}]}"#, "unknown-key", "attributes[0].value", "values"),
        (#"{"spanLabels": "PER"}"#, "wrong-type", "spanLabels", "list"),
        (#"{"spanLabels": ["PER", 3]}"#, "wrong-type", "spanLabels[1]", "string"),
        (#"{"isOpen": "yes"}"#, "wrong-type", "isOpen", "true or false"),
        (#"{"relations": [{"fromLabels": ["PER"]}]}"#, "missing-key", "relations[0].label", "required"),
        (#"{"spanLabels": ["PER", "PER"]}"#, "duplicate", "spanLabels[1]", "twice"),
        (#"{"spanLabels": [" PER"]}"#, "bad-name", "spanLabels[0]", "spaces"),
        (#"["PER"]"#, "wrong-type", "", "object"),
        (#"{"spanLabels": ["PER"]"#, "not-json", "", "JSON"),
    ])
    func eachProblemIsNamedWithItsPlace(json: String, code: String, path: String, mention: String) {
        do {
            _ = try parse(json)
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.code.rawValue == code, "\(json): \(error)")
            #expect(error.path == path, "\(json): \(error)")
            #expect(error.description.contains(mention), "\(json): \(error)")
        }
    }

    @Test func emptyListsAllowNoneOfTheirKindAndIsOpenAllowsAll() throws {
        let closed = try parse(#"{"isOpen": false, "spanLabels": []}"#)
        let doc: DocumentID = "d"
        let span = Annotation.span(AnnotationID(replica: ReplicaID(1), counter: 1), in: doc, [TextRange(0, 1)], label: "PER", owner: "a")
        #expect(throws: ValidationError.self) { try Validator(schema: closed).validate(span, documentLength: 3) }
        let open = try parse(#"{"isOpen": true}"#)
        try Validator(schema: open).validate(span, documentLength: 3)
        // In a rule, a missing list of values means any value.
        let anyValue = try parse(#"{"spanLabels": ["PER"], "attributes": [{"name": "note"}]}"#)
        var noted = span
        noted.attributes["note"] = "anything"
        try Validator(schema: anyValue).validate(noted, documentLength: 3)
    }
}
