import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// doccano JSONL: every export shape, naming, offsets and problems, on small fixtures.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct DoccanoImporterTests {
    func importing(
        _ jsonl: String, file: String? = "fixture.jsonl", options: ImportOptions = ImportOptions(owner: "ann"),
        textField: String = "text", labelField: String? = nil
    ) throws(FormatProblem) -> FormatImport {
        var minter = Minter("ann", replica: 7)
        return try DoccanoImporter(options: options, textField: textField, labelField: labelField)
            .importFile(Array(jsonl.utf8), file: file, mintID: { minter.nextID() })
    }

    @Test func sequenceLabelingTriplesBecomeSpansInTheOwnersLayer() throws {
        let result = try importing(#"{"text": "EU rejects German call", "label": [[0, 2, "ORG"], [11, 17, "MISC"]]}"#)
        #expect(result.problems.isEmpty)
        let doc = try #require(result.documents.first)
        #expect(doc.id == "fixture/1")
        #expect(doc.offsetUnit == .scalar)
        #expect(FormatFixtures.describe(doc) == [#"span [ann] MISC@11-17 "German""#, #"span [ann] ORG@0-2 "EU""#])
    }

    @Test func plainLabelsAndCatsBecomeDocumentLabels() throws {
        let result = try importing(
            """
            {"text": "good film", "label": ["positive", "review"]}
            {"text": "bad film", "cats": {"positive": 0.1, "negative": 0.9, "review": true}}
            {"text": "so-so", "labels": ["neutral"], "cats": ["review"]}
            """)
        #expect(result.problems.isEmpty)
        #expect(
            result.documents.map { FormatFixtures.describe($0) } == [
                ["document-label [ann] positive", "document-label [ann] review"],
                ["document-label [ann] negative", "document-label [ann] review"],
                ["document-label [ann] neutral", "document-label [ann] review"],
            ])
        #expect(result.documents.allSatisfy { $0.offsetUnit == nil })
    }

    @Test func prettyPrintedRelationRecordImportsEntitiesAndRelations() throws {
        // doccano's own relation example is one multi-line object, not one object per line.
        let result = try importing(
            """
            {
                "text": "Google was founded by Larry Page.",
                "entities": [
                    {"id": 10, "start_offset": 0, "end_offset": 6, "label": "ORG"},
                    {"id": 11, "start_offset": 22, "end_offset": 32, "label": "PERSON"}
                ],
                "relations": [
                    {"id": 0, "from_id": 10, "to_id": 11, "type": "foundedBy"}
                ]
            }
            """)
        #expect(result.problems.isEmpty)
        let doc = try #require(result.documents.first)
        #expect(result.documents.count == 1)
        #expect(
            FormatFixtures.describe(doc) == [
                "relation [ann] rel foundedBy(ORG@0-6->PERSON@22-32)",
                #"span [ann] ORG@0-6 "Google""#,
                #"span [ann] PERSON@22-32 "Larry Page""#,
            ])
        // Relations come after the spans they join.
        #expect(doc.annotations.last?.kind == .relation)
    }

    @Test func oneXUsersBecomeLayersUnlessALayerIsGiven() throws {
        let line = #"""
            {"id": 131, "text": "So she met Alice.", "annotations": [
            {"label": 18, "start_offset": 3, "end_offset": 6, "user": 3},
            {"label": 18, "start_offset": 3, "end_offset": 6, "user": 1},
            {"label": 3, "start_offset": 11, "end_offset": 16, "user": "maria"},
            {"label": 7, "user": 2}]}
            """#.replacingOccurrences(of: "\n", with: "")
        let result = try importing(line, file: "books/Alice.jsonl")
        #expect(result.problems.isEmpty)
        let doc = try #require(result.documents.first)
        #expect(doc.id == "Alice/131")
        #expect(
            FormatFixtures.describe(doc) == [
                "document-label [user-2] 7",
                #"span [maria] 3@11-16 "Alice""#,
                #"span [user-1] 18@3-6 "she""#,
                #"span [user-3] 18@3-6 "she""#,
            ])
        let merged = try importing(line, options: ImportOptions(owner: "ann", layer: "curated"))
        #expect(Set(merged.documents[0].annotations.map(\.layer)) == ["curated"])
        #expect(merged.documents[0].annotations.allSatisfy { $0.owner == "ann" })
    }

    @Test func documentsAreNamedAfterTheirIDs() throws {
        let result = try importing(
            """
            {"id": "news/2023 Jan 18!", "text": "a"}
            {"id": 5, "text": "b"}
            {"text": "c"}
            {"id": "???", "text": "d"}
            {"id": 5, "text": "e"}
            """, file: "data/My Corpus.jsonl")
        #expect(
            result.documents.map(\.id.rawValue) == [
                "news/2023-Jan-18", "My-Corpus/5", "My-Corpus/3", "My-Corpus/4", "My-Corpus/5-2",
            ])
        #expect(result.problems.map(\.code) == [.invalidDocumentName, .duplicateDocument])
        #expect(result.problems.map(\.line) == [4, 5])
    }

    @Test func aBadRecordIsReportedAndTheRestImports() throws {
        let jsonl = """
            {"text": "first", "label": [[0, 5, "A"]]}
            {"text": "broken", "label": [[0, 2, "A"]
            {"label": [[0, 1, "A"]]}
            {"text": "fourth", "label": [[0, 6, "B"], [3, 99, "C"], [5, 2, "D"], [0, "x", "E"]]}
            """
        let result = try importing(jsonl)
        #expect(result.documents.map(\.text) == ["first", "fourth"])
        // Records are numbered as read: the broken line is not one, the one without text is.
        #expect(result.documents.map(\.id.rawValue) == ["fixture/1", "fixture/3"])
        #expect(FormatFixtures.describe(result.documents[1]) == [#"span [ann] B@0-6 "fourth""#])
        #expect(
            result.problems.map(\.code) == [
                .malformedJSON, .missingField, .offsetsOutOfBounds, .invalidOffsets, .invalidRecord,
            ])
        #expect(result.problems.map(\.line) == [2, 3, 4, 4, 4])
        #expect(result.problems.allSatisfy { $0.file == "fixture.jsonl" && $0.column != nil })
        // The out-of-bounds span is reported where it is written: its column in line 4.
        let column = try #require(result.problems[2].column)
        let line4 = Array(jsonl.split(separator: "\n")[3].unicodeScalars)
        #expect(String(String.UnicodeScalarView(line4[(column - 1)...].prefix(4))) == "[3, ")

        #expect(throws: FormatProblem.self) {
            _ = try importing(jsonl, options: ImportOptions(owner: "ann", strict: true))
        }
        do {
            _ = try importing(jsonl, options: ImportOptions(owner: "ann", strict: true))
        } catch {
            #expect(error.code == .malformedJSON && error.line == 2)
        }
    }

    @Test func utf16OffsetsAreDetectedWhenTheTextHasEmoji() throws {
        // "😀 " is 2 scalars but 3 UTF-16 units: Alice is 2..<7 in scalars, 3..<8 in UTF-16.
        let text = "😀 Alice met Bob"
        let utf16 = try importing(#"{"text": "\#(text)", "label": [[3, 8, "PER"], [13, 16, "PER"]]}"#)
        #expect(utf16.problems.isEmpty)
        #expect(utf16.documents[0].offsetUnit == .utf16)
        #expect(
            FormatFixtures.describe(utf16.documents[0]) == [
                #"span [ann] PER@12-15 "Bob""#, #"span [ann] PER@2-7 "Alice""#,
            ])
        let scalar = try importing(#"{"text": "\#(text)", "label": [[2, 7, "PER"], [12, 15, "PER"]]}"#)
        #expect(scalar.documents[0].offsetUnit == .scalar)
        #expect(FormatFixtures.describe(scalar.documents[0]) == FormatFixtures.describe(utf16.documents[0]))
        // The caller's unit wins over detection.
        let forced = try importing(
            #"{"text": "\#(text)", "label": [[3, 8, "PER"]]}"#,
            options: ImportOptions(owner: "ann", offsetUnit: .scalar))
        #expect(FormatFixtures.describe(forced.documents[0]) == [#"span [ann] PER@3-8 "lice ""#])
    }

    @Test func duplicateSpansOfOneAnnotatorAreSkippedAndReported() throws {
        let result = try importing(
            #"{"text": "exampleA", "label": [[0, 1, "LOC"], [0, 1, "LOC"], [0, 1, "ORG"]], "meta": {"wikiPageID": 1}}"#)
        #expect(
            FormatFixtures.describe(result.documents[0]) == [#"span [ann] LOC@0-1 "e""#, #"span [ann] ORG@0-1 "e""#])
        #expect(result.problems.map(\.code) == [.duplicateAnnotation])
    }

    @Test func relationToAMissingEntityIsReported() throws {
        let result = try importing(
            #"{"text": "ab", "entities": [{"id": 1, "label": "X", "start_offset": 0, "end_offset": 1}], "relations": [{"from_id": 1, "to_id": 2, "type": "r"}]}"#
        )
        #expect(result.documents[0].annotations.count == 1)
        #expect(result.problems.map(\.code) == [.unknownReference])
        #expect(result.problems[0].message.contains("entity 2"))
    }

    @Test func renamedColumnsAreRead() throws {
        let result = try importing(
            #"{"column_data": "Peter Blackburn", "column_label": [[0, 15, "PERSON"]]}"#, textField: "column_data",
            labelField: "column_label")
        #expect(result.problems.isEmpty)
        #expect(FormatFixtures.describe(result.documents[0]) == [#"span [ann] PERSON@0-15 "Peter Blackburn""#])
    }

    @Test func notUTF8IsFatal() {
        var minter = Minter("ann", replica: 7)
        #expect(throws: FormatProblem.self) {
            _ = try DoccanoImporter(options: ImportOptions(owner: "ann"))
                .importFile([0x7B, 0xFF, 0x7D], file: "bad.jsonl", mintID: { minter.nextID() })
        }
    }
}
