import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// CoNLL token-per-line files: tag schemes, rebuilt texts, alignment to given texts, problems.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct CoNLLImporterTests {
    func importing(
        _ conll: String, file: String? = "test.conll", texts: [String]? = nil, scheme: CoNLLTagScheme? = nil,
        options: ImportOptions = ImportOptions(owner: "ann")
    ) throws(FormatProblem) -> FormatImport {
        var minter = Minter("ann", replica: 41)
        return try CoNLLImporter(options: options, scheme: scheme)
            .importFile(Array(conll.utf8), file: file, texts: texts, mintID: { minter.nextID() })
    }

    static let iob2 = """
        JAPAN\tB-LOC
        GET\tO

        Nadim\tB-PER
        Ladki\tI-PER
        met\tO
        Al\tB-PER
        Ain\tB-PER

        """

    @Test func iob2TabSeparatedWithTheTextRebuilt() throws {
        let result = try importing(Self.iob2)
        #expect(result.problems.isEmpty)
        #expect(CoNLLImporter.detectScheme(Array(Self.iob2.utf8)) == .iob2)
        let doc = try #require(result.documents.first)
        #expect(result.documents.count == 1)
        #expect(doc.id == "test")
        #expect(doc.text == "JAPAN GET\nNadim Ladki met Al Ain")
        #expect(doc.offsetUnit == nil)
        // B- after B- of the same type starts a new entity.
        #expect(
            FormatFixtures.describe(doc) == [
                #"span [ann] LOC@0-5 "JAPAN""#, #"span [ann] PER@10-21 "Nadim Ladki""#, #"span [ann] PER@26-28 "Al""#,
                #"span [ann] PER@29-32 "Ain""#,
            ])
    }

    @Test func iob1EntitiesStartWithIAndBSeparatesNeighbours() throws {
        let conll = """
            -DOCSTART- -X- -X- O

            The DT I-NP O
            Mad NNP I-NP I-ORG
            Capsule NNP I-NP I-ORG
            Markets NNP I-NP B-ORG
            in IN I-PP O
            Tokyo NNP I-NP I-LOC
            """
        let result = try importing(conll)
        #expect(result.problems.isEmpty)
        #expect(CoNLLImporter.detectScheme(Array(conll.utf8)) == .iob1)
        #expect(
            FormatFixtures.describe(result.documents[0], layers: false) == [
                #"span LOC@27-32 "Tokyo""#, #"span ORG@16-23 "Markets""#, #"span ORG@4-15 "Mad Capsule""#,
            ])
    }

    @Test func bioesAndBareIOTagsAreRead() throws {
        let bioes = "New S-LOC\nYork B-LOC\nCity E-LOC\nis O\nbig S-ADJ\n"
        let result = try importing(bioes)
        #expect(CoNLLImporter.detectScheme(Array(bioes.utf8)) == .bioes)
        #expect(
            FormatFixtures.describe(result.documents[0], layers: false) == [
                #"span ADJ@17-20 "big""#, #"span LOC@0-3 "New""#, #"span LOC@4-13 "York City""#,
            ])
        let io = "Alice PER\nBob PER\nand O\nParis LOC\n"
        #expect(CoNLLImporter.detectScheme(Array(io.utf8)) == .io)
        #expect(
            FormatFixtures.describe(try importing(io).documents[0], layers: false) == [
                #"span LOC@14-19 "Paris""#, #"span PER@0-9 "Alice Bob""#,
            ])
    }

    @Test func mixedSchemesAreReportedOnceAndARequiredSchemeChecksEveryTag() throws {
        let mixed = "a I-X\nb O\nc B-X\nd O\ne I-X\nf I-X\ng O\nh I-Y\n"
        let result = try importing(mixed)
        #expect(result.problems.map(\.code) == [.mixedTagScheme])
        #expect(result.problems[0].line == 3)
        #expect(result.problems[0].message.contains("1 entities start with B-"))
        #expect(result.documents[0].annotations.count == 4)

        let required = try importing(mixed, scheme: .iob2)
        #expect(required.problems.map(\.code) == [.invalidTag, .invalidTag, .invalidTag])
        #expect(required.problems.map(\.line) == [1, 5, 8])
        let iob1 = try importing(mixed, scheme: .iob1)
        #expect(iob1.problems.map(\.line) == [3])
    }

    @Test func documentsSplitAtDocstartAndAreNumbered() throws {
        let conll = "-DOCSTART- O\n\na O\n\n-DOCSTART- O\n\nb B-X\n\n-DOCSTART- O\n"
        let result = try importing(conll, file: "corpus/data.conll.txt")
        #expect(result.documents.map(\.id.rawValue) == ["data-1", "data-2"])
        #expect(result.documents.map(\.text) == ["a", "b"])
        #expect(result.documents.map(\.source) == ["corpus/data.conll.txt:3", "corpus/data.conll.txt:7"])
    }

    @Test func tokensAreAlignedToAGivenText() throws {
        let conll = "He O\nsaid O\n-LRB- O\nNew B-LOC\nYork I-LOC\n-RRB- O\n`` O\nhi O\n'' O\n"
        let text = "He said (New  York) \u{201C}hi\u{201D}"
        let result = try importing(conll, texts: [text])
        #expect(result.problems.isEmpty)
        #expect(result.documents[0].text == text)
        #expect(FormatFixtures.describe(result.documents[0], layers: false) == [#"span LOC@9-18 "New  York""#])
    }

    @Test func misalignedTokensAreReportedWithTheirLines() throws {
        let conll = "Dr O\nWho B-PER\nxyzzy O\nis O\nback B-X\n"
        let result = try importing(conll, texts: ["Dr. Who is back"])
        #expect(result.problems.map(\.code) == [.tokenMisaligned, .tokenMisaligned])
        #expect(result.problems.map(\.line) == [2, 3])
        #expect(result.problems[0].message.contains(#"preceded in the text by ".""#))
        #expect(result.problems[1].message.contains("xyzzy"))
        #expect(
            FormatFixtures.describe(result.documents[0], layers: false) == [
                #"span PER@4-7 "Who""#, #"span X@11-15 "back""#,
            ])
    }

    @Test func aTextCountMismatchAndBadLinesAreReported() throws {
        let conll = "a O\nb\nc B-\n-DOCSTART- O\nd B-X\n"
        let result = try importing(conll, texts: ["a b c"])
        #expect(result.problems.map(\.code) == [.missingText, .malformedLine, .invalidTag])
        #expect(result.problems.map(\.line) == [nil, 2, 3])
        #expect(result.documents.map(\.text) == ["a b c", "d"])
        #expect(throws: FormatProblem.self) {
            _ = try importing(conll, options: ImportOptions(owner: "ann", strict: true))
        }
    }

    @Test func theDoccanoSampleImports() throws {
        var minter = Minter("ann", replica: 42)
        let path = "doccano-format-examples/data_import/tests/data/sequence_labeling/example.conll"
        let bytes = try FormatFixtures.data(path)
        let result = try CoNLLImporter(options: ImportOptions(owner: "ann"))
            .importFile(bytes, file: path, mintID: { minter.nextID() })
        #expect(result.problems.isEmpty)
        #expect(CoNLLImporter.detectScheme(bytes) == .iob2)
        #expect(result.documents.map(\.id) == ["example"])
        #expect(
            FormatFixtures.describe(result.documents[0], layers: false) == [
                #"span LOC@0-5 "JAPAN""#, #"span PER@10-21 "Nadim Ladki""#,
            ])
    }
}
