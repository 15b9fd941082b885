import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// Label Studio export → import keeps spans, labels, relations, attributes, notes and layers.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct LabelStudioExporterTests {
    static let doc: DocumentID = "reports/7"
    // An emoji first, so that Label Studio's UTF-16 offsets differ from scalars.
    static let text = "🚓 Officer Smith (28) was shot."

    static func annotations() -> [Annotation] {
        var m = Minter("x", replica: 31)
        var smith = Annotation.span(
            m.nextID(), in: doc, [TextRange(10, 15)], label: "Person", owner: "x", layer: "annotator-7")
        smith.attributes = ["role": "victim"]
        let age = Annotation.span(
            m.nextID(), in: doc, [TextRange(17, 19)], label: "Age", owner: "x", layer: "annotator-7")
        let ageOf = Annotation.relation(
            m.nextID(), in: doc, from: age.id, to: smith.id, label: "age_of", owner: "x", layer: "annotator-7")
        var both = Annotation.relation(
            m.nextID(), in: doc, from: smith.id, to: age.id, label: "", owner: "x", layer: "annotator-7")
        both.attributes = ["direction": "bi"]
        let note = Annotation(
            id: m.nextID(), document: doc, kind: .note, layer: "annotator-7", owner: "x", target: smith.id,
            text: "check")
        let docNote = Annotation(
            id: m.nextID(), document: doc, kind: .note, layer: "alice", owner: "x", text: "long one")
        let killed = Annotation(
            id: m.nextID(), document: doc, kind: .documentLabel, layer: "alice", owner: "x", label: "Killed/Feloniously"
        )
        let officer = Annotation.span(m.nextID(), in: doc, [TextRange(2, 9)], label: "Rank", owner: "x", layer: "alice")
        return [smith, age, ageOf, both, note, docNote, killed, officer]
    }

    static func importing(_ file: FormatExport.File) throws -> FormatImport {
        var minter = Minter("importer", replica: 32)
        return try LabelStudioImporter(options: ImportOptions(owner: "x"))
            .importFile(file.contents, file: file.path, mintID: { minter.nextID() })
    }

    @Test func exportImportsBackToTheSameAnnotations() throws {
        for taxonomy in [false, true] {
            let export = LabelStudioExporter(taxonomy: taxonomy)
                .export([ExportDocument(id: Self.doc, text: Self.text, annotations: Self.annotations())])
            #expect(export.problems.isEmpty)
            let json = FormatFixtures.text(export.files[0])
            // UTF-16 offsets: "Smith" is 10-15 in scalars, 11-16 in UTF-16 units.
            #expect(json.contains(#""start": 11,"#) && json.contains(#""end": 16,"#))
            #expect(json.contains(#""completed_by": 7"#))
            #expect(json.contains(taxonomy ? #"["Killed", "Feloniously"]"# : #""choices": ["Killed/Feloniously"]"#))
            let back = try Self.importing(export.files[0])
            #expect(back.problems.isEmpty)
            #expect(back.documents.map(\.id) == [Self.doc])
            #expect(back.documents[0].offsetUnit == .utf16)
            #expect(
                FormatFixtures.describe(back.documents[0])
                    == FormatFixtures.describe(Self.annotations(), text: Self.text))
        }
    }

    @Test func whatLabelStudioCannotHoldIsReported() throws {
        var m = Minter("x", replica: 33)
        let a = Annotation.span(
            m.nextID(), in: Self.doc, [TextRange(2, 9), TextRange(10, 15)], label: "Odd", owner: "x", layer: "alice")
        let b = Annotation.span(m.nextID(), in: Self.doc, [TextRange(17, 19)], label: "Age", owner: "x", layer: "bob")
        let across = Annotation.relation(
            m.nextID(), in: Self.doc, from: a.id, to: b.id, label: "r", owner: "x", layer: "alice")
        let onRelation = Annotation(
            id: m.nextID(), document: Self.doc, kind: .note, layer: "alice", owner: "x", target: across.id, text: "?")
        let outside = Annotation.span(
            m.nextID(), in: Self.doc, [TextRange(2, 99)], label: "Far", owner: "x", layer: "alice")
        let export = LabelStudioExporter()
            .export([ExportDocument(id: Self.doc, text: Self.text, annotations: [a, b, across, onRelation, outside])])
        #expect(export.problems.map(\.code) == [.offsetsOutOfBounds, .danglingReference, .unrepresentable])
        #expect(export.problems[2].message.contains("discontinuous") && export.problems[2].message.contains("notes on"))
        // The discontinuous span comes back as one span per range; the rest is as exported.
        let back = try Self.importing(export.files[0])
        #expect(
            FormatFixtures.describe(back.documents[0]) == [
                #"span [alice] Odd@10-15 "Smith""#, #"span [alice] Odd@2-9 "Officer""#, #"span [bob] Age@17-19 "28""#,
            ])
    }
}
