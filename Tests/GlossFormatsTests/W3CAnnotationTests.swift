import Foundation
import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// W3C Web Annotation: the JSON-LD Gloss writes, reading it back, and annotations of other tools.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct W3CAnnotationTests {
    static let doc: DocumentID = "news/1"
    // An emoji and accents before the spans: code points and UTF-16 units differ.
    static let text = "🌍 Über: Alice met Bob in Zürich, and then Alice left Zürich for good."

    /// Every kind: spans in two layers (one discontinuous, one with attributes), a relation with
    /// an attribute, a document label, notes on a span, on a relation and on the document.
    static func annotations() -> [Annotation] {
        var m = Minter("alice", replica: 71)
        var alice = m.span(doc, 8, 13, "PER", attributes: ["gender": "f", "certainty": "high"])
        alice.layer = "alice"
        let bob = m.span(doc, 18, 21, "PER")
        let zurich = Annotation.span(
            m.nextID(), in: doc, [TextRange(25, 31), TextRange(53, 59)], label: "LOC", owner: "alice")
        var met = m.relation(doc, alice.id, bob.id, "meets")
        met.attributes = ["tense": "past"]
        let label = Annotation(
            id: m.nextID(), document: doc, kind: .documentLabel, layer: "alice", owner: "alice", label: "news")
        let onSpan = Annotation(
            id: m.nextID(), document: doc, kind: .note, layer: "bob", owner: "bob", target: bob.id, text: "which Bob?")
        let onRelation = Annotation(
            id: m.nextID(), document: doc, kind: .note, layer: "alice", owner: "alice", target: met.id,
            text: "first meeting")
        let onDocument = Annotation(
            id: m.nextID(), document: doc, kind: .note, layer: "alice", owner: "alice", text: "check the date")
        var bobs = Annotation.span(m.nextID(), in: doc, [TextRange(42, 47)], label: "PERSON", owner: "bob")
        bobs.layer = "bob"
        return [alice, bob, zurich, met, label, onSpan, onRelation, onDocument, bobs]
    }

    static func importing(
        _ bytes: [UInt8], texts: [String: String] = [doc.rawValue: text], documentBase: String = "urn:gloss:document:",
        options: ImportOptions = ImportOptions(owner: "alice")
    ) throws -> FormatImport {
        var minter = Minter("alice", replica: 72)
        return try W3CAnnotationImporter(options: options, documentBase: documentBase)
            .importFile(bytes, file: "annotations.jsonld", texts: texts, mintID: { minter.nextID() })
    }

    static func json(_ file: FormatExport.File) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(file.contents)) as? [String: Any])
    }

    @Test func exportWritesACollectionWithPositionAndQuoteSelectors() throws {
        let annotations = Self.annotations()
        let export = W3CAnnotationExporter().export([
            ExportDocument(id: Self.doc, text: Self.text, annotations: annotations)
        ])
        #expect(export.problems.isEmpty)
        #expect(export.files.map(\.path) == ["news/1.jsonld"])
        let collection = try Self.json(export.files[0])
        #expect(collection["@context"] as? String == "http://www.w3.org/ns/anno.jsonld")
        #expect(collection["type"] as? String == "AnnotationCollection")
        #expect(collection["id"] as? String == "urn:gloss:document:news/1/annotations")
        #expect(collection["total"] as? Int == annotations.count)
        let page = try #require(collection["first"] as? [String: Any])
        #expect(page["type"] as? String == "AnnotationPage")
        let items = try #require(page["items"] as? [[String: Any]])
        #expect(items.count == annotations.count)
        #expect(
            items.allSatisfy {
                $0["@context"] as? String == "http://www.w3.org/ns/anno.jsonld" && $0["type"] as? String == "Annotation"
            })

        // The first span ("Alice", after an emoji): positions are code points, the quote has context.
        let alice = try #require(items.first { $0["id"] as? String == "urn:gloss:annotation:\(annotations[0].id)" })
        #expect(alice["creator"] as? [String: String] == ["nickname": "alice"])
        let bodies = try #require(alice["body"] as? [[String: String]])
        #expect(bodies.contains(["type": "TextualBody", "purpose": "tagging", "value": "PER"]))
        #expect(bodies.contains(["type": "TextualBody", "purpose": "classifying", "value": "gender=f"]))
        let target = try #require(alice["target"] as? [String: Any])
        #expect(target["source"] as? String == "urn:gloss:document:news/1")
        let selectors = try #require(target["selector"] as? [[String: Any]])
        #expect(selectors[0]["type"] as? String == "TextPositionSelector")
        #expect(selectors[0]["start"] as? Int == 8 && selectors[0]["end"] as? Int == 13)
        #expect(selectors[1]["type"] as? String == "TextQuoteSelector")
        #expect(selectors[1]["exact"] as? String == "Alice")
        #expect(selectors[1]["prefix"] as? String == "🌍 Über: ")
        #expect((selectors[1]["suffix"] as? String).map { $0.unicodeScalars.count } == 32)

        // The discontinuous span: one target per range.
        let zurich = try #require(items.first { $0["id"] as? String == "urn:gloss:annotation:\(annotations[2].id)" })
        #expect((zurich["target"] as? [[String: Any]])?.count == 2)
        // The relation: target = from, a linking body = to.
        let met = try #require(items.first { $0["id"] as? String == "urn:gloss:annotation:\(annotations[3].id)" })
        #expect(met["motivation"] as? String == "linking")
        #expect(met["target"] as? String == "urn:gloss:annotation:\(annotations[0].id)")
        let link = try #require((met["body"] as? [[String: String]])?.first { $0["purpose"] == "linking" })
        #expect(link["source"] == "urn:gloss:annotation:\(annotations[1].id)")
        // The note on the document targets the document.
        let note = try #require(items.first { $0["id"] as? String == "urn:gloss:annotation:\(annotations[7].id)" })
        #expect(note["target"] as? String == "urn:gloss:document:news/1")
        #expect(note["motivation"] as? String == "commenting")
    }

    @Test func exportImportsBackToTheSameAnnotations() throws {
        let export = W3CAnnotationExporter().export([
            ExportDocument(id: Self.doc, text: Self.text, annotations: Self.annotations())
        ])
        let back = try Self.importing(export.files[0].contents)
        #expect(back.problems.isEmpty)
        #expect(back.documents.map(\.id) == [Self.doc])
        #expect(back.documents[0].offsetUnit == .scalar)
        #expect(
            FormatFixtures.describe(back.documents[0]) == FormatFixtures.describe(Self.annotations(), text: Self.text))

        // Another base: the texts may be keyed by source IRI.
        let base = "https://example.org/corpus/"
        let http = W3CAnnotationExporter(documentBase: base, annotationBase: "https://example.org/anno/")
            .export([ExportDocument(id: Self.doc, text: Self.text, annotations: Self.annotations())])
        #expect(FormatFixtures.text(http.files[0]).contains(#""source": "https://example.org/corpus/news/1""#))
        let again = try Self.importing(http.files[0].contents, texts: [base + "news/1": Self.text], documentBase: base)
        #expect(again.problems.isEmpty)
        #expect(again.documents.map(\.id) == [Self.doc])
        #expect(
            FormatFixtures.describe(again.documents[0]) == FormatFixtures.describe(Self.annotations(), text: Self.text))
    }

    /// Annotations as a web annotator writes them: quotes only, comments, tags, UTF-16 positions.
    @Test func annotationsOfOtherToolsImport() throws {
        let json = #"""
            [
            {"@context": "http://www.w3.org/ns/anno.jsonld", "id": "https://h.example/a1", "type": "Annotation",
             "creator": "acct:maria@h.example", "motivation": "commenting",
             "body": [{"type": "TextualBody", "value": "Which one?"}, {"type": "TextualBody", "purpose": "tagging", "value": "PER"}],
             "target": {"source": "https://site.example/story", "selector": {"type": "TextQuoteSelector", "exact": "Alice", "prefix": "and then ", "suffix": " left"}}},
            {"id": "https://h.example/a2", "type": "Annotation", "motivation": "highlighting",
             "target": {"source": "https://site.example/story", "selector": [{"type": "TextQuoteSelector", "exact": "Zürich"}]}},
            {"id": "https://h.example/a3", "type": "Annotation", "body": {"type": "TextualBody", "purpose": "tagging", "value": "X"},
             "target": {"source": "https://site.example/story", "selector": {"type": "TextQuoteSelector", "exact": "Zürich", "prefix": "Bob in "}}},
            {"id": "https://h.example/a4", "type": "Annotation", "body": {"purpose": "tagging", "value": "X"},
             "target": {"source": "https://site.example/story", "selector": {"type": "TextQuoteSelector", "exact": "Carol"}}},
            {"id": "https://h.example/a5", "type": "Annotation", "body": {"purpose": "tagging", "value": "Y"},
             "target": {"source": "https://site.example/story", "selector": {"type": "XPathSelector", "value": "/p[1]"}}},
            {"id": "https://h.example/a6", "type": "Annotation", "bodyValue": "nice",
             "target": {"source": "https://other.example/page", "selector": {"type": "TextQuoteSelector", "exact": "x"}}},
            {"id": "https://h.example/a7", "type": "Annotation", "body": {"type": "TextualBody", "value": "agreed"},
             "target": "https://h.example/a1"}
            ]
            """#
        let result = try Self.importing(Array(json.utf8), texts: ["https://site.example/story": Self.text])
        #expect(result.documents.map(\.id.rawValue) == ["https/site.example/story"])
        #expect(
            FormatFixtures.describe(result.documents[0]) == [
                "note [acct:maria@h.example] [Which one?] on PER@42-47",
                "note [alice] [agreed] on PER@42-47",
                #"span [acct:maria@h.example] PER@42-47 "Alice""#,
                #"span [alice] X@25-31 "Zürich""#,
            ])
        // "Zürich" twice without context; "Carol" nowhere; an XPath; a page without a text.
        #expect(result.problems.map(\.code) == [.ambiguousQuote, .quoteNotFound, .unsupportedContent, .missingText])
        #expect(result.problems.map(\.line) == [6, 10, 12, 14])
        #expect(result.problems[0].message.contains("2 places"))
    }

    @Test func utf16PositionsAreDetectedAndMismatchesReported() throws {
        // UTF-16 positions (the emoji counts 2): "Alice" is 9-14, "Bob" 19-22.
        let json = #"""
            {"type": "AnnotationPage", "items": [
            {"id": "a", "type": "Annotation", "body": {"purpose": "tagging", "value": "P"}, "target": {"source": "urn:gloss:document:news/1",
             "selector": [{"type": "TextPositionSelector", "start": 9, "end": 14}, {"type": "TextQuoteSelector", "exact": "Alice"}]}},
            {"id": "b", "type": "Annotation", "body": {"purpose": "tagging", "value": "P"}, "target": {"source": "urn:gloss:document:news/1",
             "selector": [{"type": "TextPositionSelector", "start": 19, "end": 22}, {"type": "TextQuoteSelector", "exact": "Bob"}]}},
            {"id": "c", "type": "Annotation", "body": {"purpose": "tagging", "value": "Q"}, "target": {"source": "urn:gloss:document:news/1",
             "selector": [{"type": "TextPositionSelector", "start": 19, "end": 22}, {"type": "TextQuoteSelector", "exact": "Rob"}]}},
            {"id": "d", "type": "Annotation", "body": {"purpose": "tagging", "value": "R"}, "target": {"source": "urn:gloss:document:news/1",
             "selector": [{"type": "TextPositionSelector", "start": 900, "end": 903}, {"type": "TextQuoteSelector", "exact": "met"}]}}
            ]}
            """#
        let result = try Self.importing(Array(json.utf8))
        #expect(result.documents[0].offsetUnit == .utf16)
        #expect(
            FormatFixtures.describe(result.documents[0], layers: false) == [
                #"span P@18-21 "Bob""#, #"span P@8-13 "Alice""#, #"span Q@18-21 "Bob""#, #"span R@14-17 "met""#,
            ])
        #expect(result.problems.map(\.code) == [.textMismatch, .offsetsOutOfBounds])
        #expect(result.problems.map(\.line) == [6, 8])
        #expect(result.problems[1].message.contains("quote is searched for"))
    }

    @Test func referencesAndTextsThatAreMissingAreReported() throws {
        let json = #"""
            {"id": "r", "type": "Annotation", "motivation": "linking", "body": {"type": "SpecificResource", "purpose": "linking", "source": "urn:x:gone"}, "target": "urn:x:alsogone"}
            {"id": "s", "type": "Annotation", "body": {"purpose": "tagging", "value": "P"}, "target": {"source": "urn:gloss:document:other", "selector": {"type": "TextQuoteSelector", "exact": "a"}}}
            {"id": "t", "type": "Annotation", "body": {"purpose": "tagging", "value": "P"}, "target": {"source": "urn:gloss:document:other", "selector": {"type": "TextQuoteSelector", "exact": "b"}}}
            not json
            {"type": "Annotation"}
            """#
        let result = try Self.importing(Array(json.utf8))
        #expect(result.documents.isEmpty)
        #expect(result.problems.map(\.code) == [.missingText, .missingText, .malformedJSON, .missingField])
        #expect(result.problems.map(\.line) == [1, 2, 4, 5])
        #expect(throws: FormatProblem.self) {
            _ = try Self.importing(Array(json.utf8), options: ImportOptions(owner: "alice", strict: true))
        }
    }
}
