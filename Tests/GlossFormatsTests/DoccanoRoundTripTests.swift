import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// doccano export → import keeps spans, labels, relations and (per layout) layers.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct DoccanoRoundTripTests {
    static let doc: DocumentID = "news/1"
    // Non-ASCII and an emoji before the spans, so that scalars and UTF-16 units differ.
    static let text = "Ünïcode 😀: Alice met Bob in Zürich."

    /// Two layers; a relation; document labels; an attribute, a note and a discontinuous span
    /// (which doccano cannot hold).
    static func annotations() -> [Annotation] {
        var m = Minter("alice", replica: 5)
        let alice = m.span(doc, 11, 16, "PER")
        let bob = m.span(doc, 21, 24, "PER")
        let zurich = m.span(doc, 28, 34, "LOC", attributes: ["country": "CH"])
        let met = m.relation(doc, alice.id, bob.id, "meets")
        let topic = Annotation(
            id: m.nextID(), document: doc, kind: .documentLabel, layer: "alice", owner: "alice", label: "news")
        let note = Annotation(
            id: m.nextID(), document: doc, kind: .note, layer: "alice", owner: "alice", target: bob.id, text: "who?")
        var bobs = [
            Annotation.span(m.nextID(), in: doc, [TextRange(11, 16)], label: "PERSON", owner: "bob"),
            Annotation.span(m.nextID(), in: doc, [TextRange(0, 7), TextRange(21, 24)], label: "ODD", owner: "bob"),
            Annotation(
                id: m.nextID(), document: doc, kind: .documentLabel, layer: "bob", owner: "bob", label: "travel"),
        ]
        bobs.append(m.relation(doc, bobs[0].id, bobs[0].id, "self"))
        bobs[3].layer = "bob"
        return [alice, bob, zurich, met, topic, note] + bobs
    }

    static func importing(_ file: FormatExport.File, layer: String? = nil) throws -> FormatImport {
        var minter = Minter("importer", replica: 9)
        return try DoccanoImporter(options: ImportOptions(owner: "importer", layer: layer))
            .importFile(file.contents, file: file.path, mintID: { minter.nextID() })
    }

    /// What survives doccano: no attributes, no notes, discontinuous spans split per range.
    static func expected(_ annotations: [Annotation], layers: Bool) -> [String] {
        var kept: [Annotation] = []
        var m = Minter("x", replica: 99)
        for var a in annotations where a.kind != .note {
            a.attributes = [:]
            if a.kind == .span && a.ranges.count > 1 {
                for r in a.ranges {
                    var part = a
                    part.id = m.nextID()
                    part.ranges = [r]
                    kept.append(part)
                }
            } else {
                kept.append(a)
            }
        }
        return FormatFixtures.describe(kept, text: text, layers: layers)
    }

    @Test func mergedExportReimportsEveryAnnotationWithoutLayers() throws {
        let export = DoccanoExporter().export([
            ExportDocument(id: Self.doc, text: Self.text, annotations: Self.annotations())
        ])
        try #require(export.files.count == 1)
        let line = FormatFixtures.text(export.files[0])
        // Relations make it the entities shape; offsets are scalars ("Bob" is 21-24).
        #expect(line.hasPrefix(#"{"id":"news/1","text":"#))
        #expect(line.contains(#""start_offset":21,"end_offset":24"#))
        #expect(line.contains(#""cats":["news","travel"]"#))
        #expect(line.split(separator: "\n").count == 1)
        let back = try Self.importing(export.files[0])
        #expect(back.problems.isEmpty)
        #expect(back.documents.map(\.id) == [Self.doc])
        #expect(
            FormatFixtures.describe(back.documents[0], layers: false)
                == Self.expected(Self.annotations(), layers: false))
        // What doccano cannot hold is reported, once for the document.
        #expect(export.problems.map(\.code) == [.unrepresentable])
        let message = export.problems[0].message
        #expect(
            message.contains("1 discontinuous") && message.contains("1 span attributes") && message.contains("1 notes"))
    }

    @Test func filePerLayerKeepsLayersWhenEachFileIsImportedIntoItsLayer() throws {
        let export = DoccanoExporter(layout: .filePerLayer)
            .export([ExportDocument(id: Self.doc, text: Self.text, annotations: Self.annotations())])
        #expect(export.files.map(\.path) == ["alice.jsonl", "bob.jsonl"])
        var described: [String] = []
        for file in export.files {
            let layer = String(file.path.dropLast(".jsonl".count))
            let back = try Self.importing(file, layer: layer)
            #expect(back.problems.isEmpty)
            described += FormatFixtures.describe(back.documents[0])
        }
        #expect(described.sorted() == Self.expected(Self.annotations(), layers: true))
    }

    @Test func userAnnotationsKeepLayersInOneFileButNotRelations() throws {
        let export = DoccanoExporter(layout: .userAnnotations)
            .export([ExportDocument(id: Self.doc, text: Self.text, annotations: Self.annotations())])
        let back = try Self.importing(export.files[0])
        #expect(back.problems.isEmpty)
        let withoutRelations = Self.annotations().filter { $0.kind != .relation }
        #expect(FormatFixtures.describe(back.documents[0]) == Self.expected(withoutRelations, layers: true))
        #expect(export.problems.map(\.code) == [.unrepresentable])
        #expect(export.problems[0].message.contains("2 relations"))
    }

    @Test func layerFilterAndPlainLabelsWithoutSpans() throws {
        let labelsOnly = Self.annotations().filter { $0.kind == .documentLabel }
        let export = DoccanoExporter(layers: ["bob"])
            .export([ExportDocument(id: "d", text: "x", annotations: labelsOnly)])
        #expect(FormatFixtures.text(export.files[0]) == #"{"id":"d","text":"x","label":["travel"]}"# + "\n")
        let back = try Self.importing(export.files[0])
        #expect(FormatFixtures.describe(back.documents[0]) == ["document-label [importer] travel"])
    }

    @Test func theNovelsSurviveAnExportWithUsers() throws {
        for path in try FormatFixtures.files(in: "doccano-english-novels/original_data", ext: "jsonl") {
            let first = try DoccanoExampleDataTests.importing(path)
            let export = DoccanoExporter(layout: .userAnnotations).export(
                FormatFixtures.exportDocuments(first.documents))
            #expect(export.problems.isEmpty)
            let second = try Self.importing(export.files[0])
            #expect(second.problems.isEmpty)
            #expect(second.documents.map(\.id) == first.documents.map(\.id))
            #expect(second.documents.map(\.text) == first.documents.map(\.text))
            #expect(
                second.documents.map { FormatFixtures.describe($0) }
                    == first.documents.map { FormatFixtures.describe($0) })
        }
    }
}
