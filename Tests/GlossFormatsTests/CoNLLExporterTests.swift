import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// CoNLL export: the tokenization rule, each tag scheme, what cannot be written, round trips.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct CoNLLExporterTests {
    static let doc: DocumentID = "doc"
    static let text = "Mr. Smith (of Acme Corp.) met Jane-Ann in New York.\nShe left."

    /// Smith, two adjacent ORG entities (Acme, Corp), Jane-Ann, New York.
    static func spans() -> [Annotation] {
        var m = Minter("ann", replica: 51)
        return [
            m.span(doc, 4, 9, "PER"), m.span(doc, 14, 18, "ORG"), m.span(doc, 19, 23, "ORG"),
            m.span(doc, 30, 38, "PER"),
            m.span(doc, 42, 50, "LOC"),
        ]
    }

    static func output(_ scheme: CoNLLTagScheme, _ annotations: [Annotation] = spans()) -> FormatExport {
        CoNLLExporter(scheme: scheme).export([ExportDocument(id: doc, text: text, annotations: annotations)])
    }

    static func importing(_ export: FormatExport, texts: [String]?) throws -> FormatImport {
        var minter = Minter("ann", replica: 52)
        return try CoNLLImporter(options: ImportOptions(owner: "ann"))
            .importFile(export.files[0].contents, file: export.files[0].path, texts: texts, mintID: { minter.nextID() })
    }

    /// The token column and the tag column, as written for the fixture in `scheme`.
    static func tags(_ scheme: CoNLLTagScheme) -> [String] {
        FormatFixtures.text(output(scheme).files[0]).split(separator: "\n").map(String.init)
    }

    @Test func iob2IsTheDefaultAndTokensFollowTheRule() throws {
        let export = Self.output(.iob2)
        #expect(export.problems.isEmpty)
        #expect(export.files.map(\.path) == ["export.conll"])
        #expect(
            FormatFixtures.text(export.files[0]) == """
                -DOCSTART- O

                Mr O
                . O
                Smith B-PER
                ( O
                of O
                Acme B-ORG
                Corp B-ORG
                . O
                ) O
                met O
                Jane-Ann B-PER
                in O
                New B-LOC
                York I-LOC
                . O

                She O
                left O
                . O


                """)
    }

    @Test func iob1AndBioesTags() {
        let tagged = { (scheme: CoNLLTagScheme) in
            Self.tags(scheme).filter { !$0.hasSuffix(" O") && !$0.hasPrefix("-DOCSTART-") }
        }
        #expect(
            tagged(.iob1) == ["Smith I-PER", "Acme I-ORG", "Corp B-ORG", "Jane-Ann I-PER", "New I-LOC", "York I-LOC"])
        #expect(
            tagged(.bioes) == ["Smith S-PER", "Acme S-ORG", "Corp S-ORG", "Jane-Ann S-PER", "New B-LOC", "York E-LOC"])
        let tabs = CoNLLExporter(separator: "\t", documentStart: false)
            .export([ExportDocument(id: Self.doc, text: "a b", annotations: [])])
        #expect(FormatFixtures.text(tabs.files[0]) == "a\tO\nb\tO\n\n")
    }

    @Test func everySchemeRoundTripsThroughImportWithTheText() throws {
        for scheme in [CoNLLTagScheme.iob1, .iob2, .bioes] {
            let export = Self.output(scheme)
            #expect(CoNLLImporter.detectScheme(export.files[0].contents) == scheme)
            let back = try Self.importing(export, texts: [Self.text])
            #expect(back.problems.isEmpty)
            #expect(back.documents[0].text == Self.text)
            #expect(
                FormatFixtures.describe(back.documents[0]) == FormatFixtures.describe(Self.spans(), text: Self.text),
                "\(scheme)")
        }
    }

    @Test func spansCoNLLCannotHoldAreReported() throws {
        var m = Minter("ann", replica: 53)
        let jane = m.span(Self.doc, 30, 34, "PER")  // "Jane" inside the token "Jane-Ann"
        let newYork = m.span(Self.doc, 42, 50, "LOC")
        let york = m.span(Self.doc, 46, 50, "CITY")  // overlaps New York
        let across = m.span(Self.doc, 46, 56, "X")  // "York.\nShe": overlaps, and crosses a line
        let left = Annotation.span(m.nextID(), in: Self.doc, [TextRange(56, 60)], label: "V", owner: "ann")
        let label = Annotation(
            id: m.nextID(), document: Self.doc, kind: .documentLabel, layer: "ann", owner: "ann", label: "news")
        let export = Self.output(.iob2, [jane, newYork, york, across, left, label])
        #expect(
            export.problems.map(\.code) == [.notOnTokenBoundary, .unrepresentable, .unrepresentable, .unrepresentable])
        #expect(export.problems[0].message.contains("30-34") && export.problems[0].message.contains("30-38"))
        #expect(export.problems[3].message.contains("1 document labels"))
        let back = try Self.importing(export, texts: [Self.text])
        #expect(
            FormatFixtures.describe(back.documents[0], layers: false)
                == [
                    #"span LOC@42-50 "New York""#, #"span PER@30-38 "Jane-Ann""#, #"span V@56-60 "left""#,
                ].sorted())
    }

    @Test func aSpanAcrossALineBreakBecomesOneEntityPerSentence() throws {
        var m = Minter("ann", replica: 54)
        let export = Self.output(.iob2, [m.span(Self.doc, 46, 55, "X")])
        #expect(export.problems.map(\.code) == [.notOnTokenBoundary])
        let back = try Self.importing(export, texts: [Self.text])
        #expect(
            FormatFixtures.describe(back.documents[0], layers: false) == [
                #"span X@46-51 "York.""#, #"span X@52-55 "She""#,
            ])
    }
}
