import Foundation
import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// What the renderer writes: nesting, escapes, attributes and the trailer.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct InlineMarkupRenderTests {
    static let doc: DocumentID = "d"
    // Ada 0-3, Lovelace 4-12, met 13-16, Charles 17-24, Babbage 25-32, . 32-33
    static let text = "Ada Lovelace met Charles Babbage."

    static func span(_ id: UInt64, _ ranges: [(Int, Int)], _ label: String, _ attributes: [String: String] = [:])
        -> Annotation
    {
        Annotation.span(
            AnnotationID(replica: ReplicaID(1), counter: id), in: doc, ranges.map { TextRange($0.0, $0.1) },
            label: label, owner: "ann", attributes: attributes)
    }

    static func documentLabel(_ id: UInt64, _ label: String, _ attributes: [String: String] = [:]) -> Annotation {
        Annotation(
            id: AnnotationID(replica: ReplicaID(1), counter: id), document: doc, kind: .documentLabel, layer: "ann",
            owner: "ann", label: label, attributes: attributes)
    }

    @Test func nestedSpansAndAttributes() {
        let markup = InlineMarkupRenderer().render(
            text: Self.text,
            annotations: [
                Self.span(1, [(0, 3)], "PER"), Self.span(2, [(0, 12)], "PER_FULL"),
                Self.span(3, [(17, 32)], "PER", ["note": "two words", "certain": "true", "q": "say \"hi\"\n"]),
            ])
        #expect(
            markup
                == #"[[Ada](PER) Lovelace](PER_FULL) met [Charles Babbage](PER certain=true note="two words" q="say \"hi\"\n")."#
        )
    }

    @Test func sameRangeDifferentLabelsNest() {
        let markup = InlineMarkupRenderer().render(
            text: Self.text, annotations: [Self.span(1, [(0, 3)], "PER"), Self.span(2, [(0, 3)], "NAME")])
        #expect(markup == "[[Ada](PER)](NAME) Lovelace met Charles Babbage.")
    }

    @Test func bracketsAndBackslashesAreEscaped() {
        let text = #"f(x) [sic] a\b ](y)"#
        let markup = InlineMarkupRenderer().render(text: text, annotations: [Self.span(1, [(5, 10)], "NOTE")])
        #expect(markup == #"f(x) [\[sic\]](NOTE) a\\b \](y)"#)
    }

    @Test func labelsThatNeedQuotes() {
        let markup = InlineMarkupRenderer().render(
            text: Self.text, annotations: [Self.span(1, [(0, 3)], "two words"), Self.span(2, [(4, 12)], "#x")])
        #expect(markup.hasPrefix(##"[Ada]("two words") [Lovelace]("#x") met"##))
    }

    @Test func trailerHoldsWhatInlineCannotShow() {
        let annotations = [
            Self.span(1, [(0, 12)], "PER"),
            Self.span(2, [(4, 16)], "CROSS"),  // crosses PER 0-12
            Self.span(3, [(4, 12), (17, 24)], "DISC", ["k": "v"]),
            Self.span(4, [(13, 13)], "EMPTY"),
            Self.span(5, [(0, 12)], "PER"),  // a second copy
            Self.documentLabel(6, "POSITIVE", ["by": "model"]),
        ]
        let markup = InlineMarkupRenderer().render(text: Self.text, annotations: annotations)
        let (body, trailer) = Self.split(markup)
        #expect(body == "[Ada Lovelace](PER) met Charles Babbage.")
        let lines = trailer.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
        #expect(
            lines == [
                "label POSITIVE by=model",
                #"span PER 0-12  # "Ada Lovelace""#,
                #"span DISC 4-12,17-24 k=v  # "Lovelace" … "Charles""#,
                #"span CROSS 4-16  # "Lovelace met""#,
                #"span EMPTY 13-13  # """#,
            ])
    }

    @Test func noTrailerUnlessNeeded() {
        let plain = InlineMarkupRenderer().render(text: Self.text, annotations: [Self.span(1, [(0, 3)], "PER")])
        #expect(!plain.contains("%%% gloss"))
        let forced = InlineMarkupRenderer(alwaysWriteTrailer: true).render(text: Self.text, annotations: [])
        #expect(forced.hasPrefix(Self.text + "\n%%% gloss\n"))
        #expect(forced.hasSuffix("\n"))
    }

    @Test func closedSchemaIsListedInTheTrailer() {
        let schema = Schema(
            spanLabels: ["PER", "ORG"], documentLabels: ["POSITIVE"],
            attributes: [.init(name: "negated", values: ["true", "false"]), .init(name: "note")])
        let markup = InlineMarkupRenderer(schema: schema, alwaysWriteTrailer: true).render(
            text: Self.text, annotations: [])
        #expect(markup.contains("# Span labels: PER, ORG\n"))
        #expect(markup.contains("# Document labels: POSITIVE\n"))
        #expect(markup.contains("# Attributes: negated (true|false), note\n"))
    }

    @Test func aTextLineLikeTheMarkerForcesATrailer() throws {
        let text = "notes\n%%% gloss\nlabel X"
        let markup = InlineMarkupRenderer().render(text: text, annotations: [])
        #expect(markup.hasPrefix(text + "\n%%% gloss\n"))
        let content = try InlineMarkupParser().parse(markup, originalText: text)
        #expect(content == InlineMarkupContent(text: text, spans: [], documentLabels: []))
    }

    @Test func exportReportsRelationsAndNotes() {
        var minter = Minter("ann", replica: 2)
        let a = minter.span(Self.doc, 0, 3, "PER")
        let b = minter.span(Self.doc, 4, 12, "PER")
        let relation = minter.relation(Self.doc, a.id, b.id, "same")
        let export = InlineMarkupFormat.export([
            ExportDocument(id: "news/one", text: Self.text, annotations: [a, b, relation])
        ])
        #expect(export.files.map(\.path) == ["news/one.inline.txt"])
        #expect(String(decoding: export.files[0].contents, as: UTF8.self).hasPrefix("[Ada](PER) [Lovelace](PER)"))
        #expect(export.problems.map(\.code) == [.unrepresentable])
    }

    /// The example in Docs/inline-markup.md, byte for byte.
    @Test func documentedExample() {
        let markup = InlineMarkupRenderer().render(
            text: Self.text,
            annotations: [
                Self.span(1, [(0, 3)], "PER"), Self.span(2, [(0, 12)], "PER_FULL"),
                Self.span(3, [(17, 32)], "PER", ["certain": "true"]), Self.span(4, [(4, 16)], "ORG"),
                Self.documentLabel(5, "HISTORY"),
            ])
        #expect(
            markup == """
                [[Ada](PER) Lovelace](PER_FULL) met [Charles Babbage](PER certain=true).
                %%% gloss
                # Below: annotations inline markup cannot show, and document labels; not document text.
                # One per line ("#" starts a comment):
                #   label LABEL [KEY=VALUE ...]
                #   span LABEL START-END[,START-END ...] [KEY=VALUE ...]
                # Offsets count Unicode code points from 0, end exclusive; the quoted text after a span is ignored.
                label HISTORY
                span ORG 4-16  # "Lovelace met"

                """)
    }

    /// The body and the trailer (after the marker line) of a rendering.
    static func split(_ markup: String) -> (body: String, trailer: String) {
        guard let range = markup.range(of: "\n%%% gloss\n", options: .backwards) else { return (markup, "") }
        return (String(markup[..<range.lowerBound]), String(markup[range.upperBound...]))
    }
}
