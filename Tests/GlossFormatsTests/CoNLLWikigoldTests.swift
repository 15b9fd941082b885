import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// WikiGold (CoNLL-2003 layout, IOB1, `-DOCSTART-`) under shared/data, read in place.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct CoNLLWikigoldTests {
    static let path = "wikigold-conll/wikigold.conll.txt"

    static func importing() throws -> FormatImport {
        var minter = Minter("ann", replica: 61)
        return try CoNLLImporter(options: ImportOptions(owner: "ann"))
            .importFile(try FormatFixtures.data(path), file: path, mintID: { minter.nextID() })
    }

    @Test func importsTheCountsOfSourceMD() throws {
        let bytes = try FormatFixtures.data(Self.path)
        #expect(CoNLLImporter.detectScheme(bytes) == .iob1)
        let result = try Self.importing()
        #expect(result.problems.isEmpty)
        // SOURCE.md: 145 documents, 1,696 sentences, 39,007 tokens, 3,558 entities.
        #expect(result.documents.count == 145)
        #expect(result.documents.first?.id == "wikigold-001" && result.documents.last?.id == "wikigold-145")
        let sentences = result.documents.reduce(0) { $0 + $1.text.split(separator: "\n").count }
        let tokens = result.documents.reduce(0) {
            $0 + $1.text.split(whereSeparator: { $0 == " " || $0 == "\n" }).count
        }
        #expect(sentences == 1696 && tokens == 39007)
        #expect(result.documents.reduce(0) { $0 + $1.annotations.count } == 3558)
        // Token tags per type (SOURCE.md): the tokens the spans cover.
        var tokensPerType: [String: Int] = [:]
        for doc in result.documents {
            let index = TextIndex(doc.text)
            for span in doc.annotations {
                let text = try index.text(in: span.ranges[0])
                #expect(!text.contains("\n"), "an entity within one sentence")
                tokensPerType[span.label, default: 0] += text.split(separator: " ").count
            }
        }
        #expect(tokensPerType == ["PER": 1634, "ORG": 1958, "LOC": 1447, "MISC": 1392])
        // The first entity of the file: "010" (I-MISC).
        #expect(FormatFixtures.describe(result.documents[0], layers: false).contains(#"span MISC@0-3 "010""#))
    }

    @Test func roundTripsThroughExportInBothSchemes() throws {
        let first = try Self.importing()
        let texts = first.documents.map(\.text)
        for scheme in [CoNLLTagScheme.iob1, .iob2] {
            let export = CoNLLExporter(scheme: scheme).export(FormatFixtures.exportDocuments(first.documents))
            #expect(export.problems.isEmpty)
            #expect(CoNLLImporter.detectScheme(export.files[0].contents) == scheme)
            var minter = Minter("ann", replica: 62)
            let second = try CoNLLImporter(options: ImportOptions(owner: "ann"))
                .importFile(export.files[0].contents, file: "wikigold.conll", texts: texts, mintID: { minter.nextID() })
            #expect(second.problems.isEmpty)
            #expect(second.documents.map(\.id) == first.documents.map(\.id))
            #expect(
                second.documents.map { FormatFixtures.describe($0) }
                    == first.documents.map { FormatFixtures.describe($0) })
        }
    }
}
