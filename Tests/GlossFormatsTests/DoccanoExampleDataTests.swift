import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// The real doccano exports under shared/data, read in place.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct DoccanoExampleDataTests {
    static func importing(_ path: String, importer: DoccanoImporter? = nil) throws -> FormatImport {
        var minter = Minter("importer", replica: 11)
        let importer = importer ?? DoccanoImporter(options: ImportOptions(owner: "importer"))
        return try importer.importFile(try FormatFixtures.data(path), file: path, mintID: { minter.nextID() })
    }

    /// Documents and annotations per book, as SOURCE.md counts them.
    static let books: [String: (documents: Int, annotations: Int)] = [
        "AliceInWonderland": (16, 568), "DavidCopperfield": (16, 587), "Dracula": (12, 651), "Emma": (15, 731),
        "Frankenstein": (6, 777), "HuckleberryFinn": (12, 789), "MobyDick": (11, 587), "OliverTwist": (8, 545),
        "PrideAndPrejudice": (7, 916), "TheCallOfTheWild": (8, 642), "Ulysses": (7, 819), "VanityFair": (6, 511),
    ]

    @Test func everyNovelImportsWithItsThreeAnnotatorsAsLayers() throws {
        let files = try FormatFixtures.files(in: "doccano-english-novels/original_data", ext: "jsonl")
        try #require(files.count == 12)
        var documents = 0
        var spans = 0
        for path in files {
            let book = String(path.split(separator: "/").last!.dropLast(".jsonl".count))
            let result = try Self.importing(path)
            #expect(result.problems.isEmpty, "\(path): \(result.problems.prefix(3))")
            let count = result.documents.reduce(0) { $0 + $1.annotations.count }
            #expect(result.documents.count == Self.books[book]?.documents, "\(book)")
            #expect(count == Self.books[book]?.annotations, "\(book)")
            var labelTexts: [String: [String: Int]] = [:]
            for doc in result.documents {
                #expect(doc.id.rawValue.hasPrefix(book + "/"))
                // All three users annotated every document (SOURCE.md), each in a layer of their own.
                #expect(Set(doc.annotations.map(\.layer)) == ["user-1", "user-2", "user-3"], "\(doc.id)")
                #expect(doc.annotations.allSatisfy { $0.kind == .span && $0.owner == "importer" })
                let source = TextIndex(doc.text)
                for span in doc.annotations {
                    let text = try source.text(in: span.ranges[0])
                    #expect(!text.isEmpty, "\(doc.id) \(span.ranges)")
                    labelTexts[span.label, default: [:]][text.lowercased(), default: 0] += 1
                }
                // Correct offsets pick out whole words: no span starts or ends inside a word.
                #expect(doc.annotations.allSatisfy { isWordEdge(doc.text, $0.ranges[0]) }, "\(doc.id)")
            }
            // Two numeric labels per book: the lower is PERSON (names), the higher PERX (pronouns).
            let ids = labelTexts.keys.compactMap { Int($0) }.sorted()
            try #require(ids.count == 2, "\(book): labels \(labelTexts.keys)")
            let pronouns: Set<String> = ["she", "he", "i", "her", "him", "you", "me", "his", "my", "we", "they"]
            let perx = labelTexts[String(ids[1])]!.max { $0.value < $1.value }!.key
            #expect(pronouns.contains(perx), "\(book): most frequent PERX text is \"\(perx)\"")
            documents += result.documents.count
            spans += count
        }
        #expect(documents == 124 && spans == 8123)
    }

    @Test func aliceSpotCheck() throws {
        let result = try Self.importing("doccano-english-novels/original_data/AliceInWonderland.jsonl")
        let doc = try #require(result.documents.first { $0.id == "AliceInWonderland/131" })
        let described = FormatFixtures.describe(doc)
        #expect(described.contains(#"span [user-3] 18@3-6 "she""#))
        #expect(described.contains(#"span [user-3] 3@244-256 "White Rabbit""#))
    }

    @Test func theFormatExamplesImport() throws {
        let base = "doccano-format-examples/"
        let export = try Self.importing(base + "data_export/pipeline/examples/sequence_labeling/example.jsonl")
        #expect(export.problems.isEmpty)
        #expect(
            export.documents.map { FormatFixtures.describe($0, layers: false) } == [
                [#"span MISC@11-17 "German""#, #"span ORG@0-2 "EU""#],
                [#"span PERSON@0-15 "Peter Blackburn""#],
                [#"span PERSON@10-15 "Obama""#],
            ])

        let relations = try Self.importing(base + "data_export/pipeline/examples/relation_extraction/example.jsonl")
        #expect(relations.problems.isEmpty)
        try #require(relations.documents.count == 1)
        let described = FormatFixtures.describe(relations.documents[0], layers: false)
        #expect(described.filter { $0.hasPrefix("span") }.count == 4)
        #expect(described.contains(#"span DATE@22-39 "September 4, 1998""#))
        #expect(
            described.filter { $0.hasPrefix("relation") } == [
                "relation rel foundedAt(ORG@0-6->DATE@22-39)",
                "relation rel foundedBy(ORG@0-6->PERSON@44-54)",
                "relation rel foundedBy(ORG@0-6->PERSON@59-70)",
            ])
        // The compact import sample has the same content on one line.
        let compact = try Self.importing(base + "data_import/pipeline/examples/relation_extraction/example.jsonl")
        #expect(compact.problems.isEmpty)
        #expect(FormatFixtures.describe(compact.documents[0], layers: false) == described)

        let renamed = try Self.importing(
            base + "data_import/pipeline/examples/sequence_labeling/example.jsonl",
            importer: DoccanoImporter(
                options: ImportOptions(owner: "importer"), textField: "column_data", labelField: "column_label"))
        #expect(renamed.problems.isEmpty)
        #expect(renamed.documents.flatMap { $0.annotations }.count == 3)

        let overlapping = try Self.importing(
            base + "data_import/tests/data/sequence_labeling/example_overlapping.jsonl")
        #expect(overlapping.documents.map { FormatFixtures.describe($0, layers: false) } == [[#"span LOC@0-1 "e""#]])
        #expect(overlapping.problems.map(\.code) == [.duplicateAnnotation])
        #expect(overlapping.problems.map(\.line) == [1])
    }

    private func isWordEdge(_ text: String, _ range: TextRange) -> Bool {
        let scalars = Array(text.unicodeScalars)
        func word(_ i: Int) -> Bool { i >= 0 && i < scalars.count && scalars[i].properties.isAlphabetic }
        return !(word(range.start - 1) && word(range.start)) && !(word(range.end - 1) && word(range.end))
    }
}
