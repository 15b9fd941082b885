import GlossTestSupport
import Testing

@testable import GlossModel

/// Tokenization, token categories and the token-level coefficients.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct AgreementTokenTests {
    @Test func tokenizerRule() {
        // Zürich | e◌́té | , | 東京 | 👍 | 🏽 | 2023 | - | 01 | - | 18 | . | A | _ | b
        let text = "Zürich e\u{301}té, 東京 👍🏽 2023-01-18.\r\nA_b"
        let tokens = AgreementTokenizer.tokens(in: text).map { [$0.start, $0.end] }
        #expect(
            tokens == [
                [0, 6], [7, 11], [11, 12], [13, 15], [16, 17], [17, 18], [19, 23], [23, 24], [24, 26], [26, 27],
                [27, 29], [29, 30], [32, 33], [33, 34], [34, 35],
            ])
        // A ZWJ sequence is three scalars that are not letters: three tokens.
        #expect(AgreementTokenizer.tokens(in: "👩\u{200D}💻").count == 3)
        #expect(AgreementTokenizer.tokens(in: " \t\r\n").isEmpty)
    }

    @Test func categoriesJoinSortedLabels() {
        #expect(AgreementReport.category([]) == "O")
        #expect(AgreementReport.category(["ORG", "LOC"]) == "LOC+ORG")
    }

    @Test func overallAndPerLabelKappa() throws {
        let report = try AgreementReport.compute(
            documents: [AgreementSpanTests.document], annotators: ["alice", "bob"])
        // Tokens: Ada Lovelace met Charles Babbage in London .
        // alice:  PER PER O PER PER O LOC O
        // bob:    PER PER O O   PER O ORG O
        // pₒ = 6/8, pₑ = (4·3 + 3·4)/64 = 0.375, κ = 0.375 / 0.625 = 0.6.
        let overall = try #require(report.overall.tokens.cohensKappa)
        #expect(report.overall.tokens.tokens == 8)
        #expect(close(overall.value, 0.6))
        #expect(report.overall.tokens.fleissKappa == nil)
        // PER or not: alice 11011000, bob 11001000: pₒ = 7/8, pₑ = (4·3 + 4·5)/64 = 0.5, κ = 0.75.
        let per = try #require(report.labels.first { $0.label == "PER" })
        #expect(close(per.tokens.cohensKappa?.value, 0.75))
        #expect(per.tokens.tokens == 8)
        // α for two coders without missing values sits just above π: check it is defined and
        // close to κ rather than a fixed number computed the same way.
        let alpha = try #require(report.overall.tokens.krippendorffAlpha.value)
        #expect(alpha > 0.5 && alpha < 0.7)
    }

    @Test func aTokenWithTwoLabelsIsItsOwnCategory() throws {
        // "in London": alice marks London LOC and ORG; bob LOC and ORG, or LOC only.
        func span(_ label: String, _ layer: String, _ n: UInt64) -> Annotation {
            Annotation.span(
                AnnotationID(replica: ReplicaID(n), counter: n), in: "d", [TextRange(3, 9)], label: label, owner: layer)
        }
        let alice = [span("LOC", "alice", 1), span("ORG", "alice", 2)]
        let same = AgreementDocument(
            text: "in London", layers: ["alice": alice, "bob": [span("ORG", "bob", 3), span("LOC", "bob", 4)]])
        #expect(
            try AgreementReport.compute(documents: [same], annotators: ["alice", "bob"]).overall.tokens.cohensKappa?
                .value == 1)
        // LOC+ORG against LOC: pₒ = 1/2, pₑ = 1/4, κ = 1/3.
        let fewer = AgreementDocument(text: "in London", layers: ["alice": alice, "bob": [span("LOC", "bob", 3)]])
        let kappa = try AgreementReport.compute(documents: [fewer], annotators: ["alice", "bob"]).overall.tokens
            .cohensKappa
        #expect(close(kappa?.value, 1.0 / 3))
    }

    @Test func aSpanCoversEveryTokenItTouches() throws {
        // A span over "velac" (inside "Lovelace") still marks the whole token.
        let doc = AgreementDocument(
            text: "Ada Lovelace",
            layers: [
                "a": [
                    Annotation.span(
                        AnnotationID(replica: ReplicaID(1), counter: 1), in: "d", [TextRange(6, 11)], label: "PER",
                        owner: "a")
                ],
                "b": [
                    Annotation.span(
                        AnnotationID(replica: ReplicaID(2), counter: 1), in: "d", [TextRange(4, 12)], label: "PER",
                        owner: "b")
                ],
            ])
        let coverage = AgreementReport.tokenCoverage(
            text: doc.text, spans: [doc.layers["a"]!, doc.layers["b"]!])
        #expect(coverage == [[[], []], [["PER"], ["PER"]]])
    }

    @Test func pooledTokensMatchOneLongList() throws {
        // Pooling documents equals computing κ over the concatenated category lists.
        let second = AgreementDocument(
            text: "Grace Hopper",
            layers: ["alice": [AgreementSpanTests.span(0, 5, "PER", "alice", 7)], "bob": []])
        let report = try AgreementReport.compute(
            documents: [AgreementSpanTests.document, second], annotators: ["alice", "bob"])
        let alice = ["PER", "PER", "O", "PER", "PER", "O", "LOC", "O", "PER", "O"]
        let bob = ["PER", "PER", "O", "O", "PER", "O", "ORG", "O", "O", "O"]
        let expected = try CohensKappa.compute(alice, bob)
        #expect(report.overall.tokens.cohensKappa == expected)
        #expect(
            report.overall.tokens.krippendorffAlpha
                == KrippendorffAlpha.nominal(units: zip(alice, bob).map { [$0, $1] }))
    }
}
