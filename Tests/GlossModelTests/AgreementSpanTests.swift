import Foundation
import GlossModel
import GlossTestSupport
import Testing

/// Span F1 (exact and overlap), per pair, per label and overall, over one and several documents.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct AgreementSpanTests {
    static let doc: DocumentID = "news/1"
    // Ada 0-3, Lovelace 4-12, met 13-16, Charles 17-24, Babbage 25-32, in 33-35, London 36-42, . 42-43
    static let text = "Ada Lovelace met Charles Babbage in London."

    static func span(_ start: Int, _ end: Int, _ label: String, _ layer: String, _ counter: UInt64) -> Annotation {
        Annotation.span(
            AnnotationID(replica: ReplicaID(UInt64(layer.utf8.first!)), counter: counter), in: doc,
            [TextRange(start, end)], label: label, owner: layer)
    }

    static let alice = [
        span(0, 12, "PER", "alice", 1), span(17, 32, "PER", "alice", 2), span(36, 42, "LOC", "alice", 3),
    ]
    static let bob = [span(0, 12, "PER", "bob", 1), span(25, 32, "PER", "bob", 2), span(36, 42, "ORG", "bob", 3)]

    static var document: AgreementDocument {
        AgreementDocument(text: text, layers: ["alice": alice, "bob": bob])
    }

    @Test func exactAndOverlapForOnePair() throws {
        let report = try AgreementReport.compute(documents: [Self.document], annotators: ["alice", "bob"])
        let exact = try #require(report.overall.exact.pairs.first)
        #expect(report.overall.exact.pairs.count == 1)
        #expect((exact.reference, exact.other) == ("alice", "bob"))
        #expect((exact.matched, exact.referenceSpans, exact.otherSpans) == (1, 3, 3))
        #expect(close(exact.f1, 1.0 / 3) && close(exact.precision, 1.0 / 3) && close(exact.recall, 1.0 / 3))
        let overlap = try #require(report.overall.overlap.pairs.first)
        #expect(overlap.matched == 2)
        #expect(close(overlap.f1, 2.0 / 3))
        #expect(close(report.overall.overlap.meanF1, 2.0 / 3))

        #expect(report.labels.map(\.label) == ["LOC", "ORG", "PER"])
        let per = report.labels[2]
        #expect(close(per.exact.meanF1, 0.5) && close(per.overlap.meanF1, 1))
        // LOC only alice has: recall 0, precision undefined (bob has none), F1 0.
        let loc = try #require(report.labels[0].exact.pairs.first)
        #expect(loc.recall == 0 && loc.precision == nil && loc.f1 == 0)
        let org = try #require(report.labels[1].exact.pairs.first)
        #expect(org.recall == nil && org.precision == 0)
    }

    @Test func overlapMatchesOneToOne() throws {
        // alice's one long span overlaps both of bob's: only one pair counts.
        let doc = AgreementDocument(
            text: Self.text,
            layers: [
                "alice": [Self.span(0, 12, "PER", "alice", 1)],
                "bob": [Self.span(0, 3, "PER", "bob", 1), Self.span(4, 12, "PER", "bob", 2)],
            ])
        let pair = try #require(
            try AgreementReport.compute(documents: [doc], annotators: ["alice", "bob"]).overall.overlap.pairs.first)
        #expect((pair.matched, pair.referenceSpans, pair.otherSpans) == (1, 1, 2))
    }

    @Test func overlapFindsTheMaximumMatching() throws {
        // a1 overlaps b1 and b2, a2 only b1: a greedy first-come matching pairs a1–b1 and stops
        // at one; the maximum is two (a1–b2, a2–b1).
        let doc = AgreementDocument(
            text: Self.text,
            layers: [
                "a": [Self.span(0, 10, "X", "a", 1), Self.span(1, 3, "X", "a", 2)],
                "b": [Self.span(2, 4, "X", "b", 1), Self.span(6, 8, "X", "b", 2)],
            ])
        let pair = try #require(
            try AgreementReport.compute(documents: [doc], annotators: ["a", "b"]).overall.overlap.pairs.first)
        #expect(pair.matched == 2)
    }

    @Test func discontinuousSpansOverlapOnlyWhereTheyShareAScalar() throws {
        // alice's span covers 0-3 and 13-16; bob's 4-12 lies in the gap.
        var gapped = Self.span(0, 3, "PER", "alice", 1)
        gapped.ranges = [TextRange(0, 3), TextRange(13, 16)]
        let doc = AgreementDocument(
            text: Self.text, layers: ["alice": [gapped], "bob": [Self.span(4, 12, "PER", "bob", 1)]])
        let report = try AgreementReport.compute(documents: [doc], annotators: ["alice", "bob"])
        #expect(report.overall.overlap.pairs.first?.matched == 0)
        let inside = AgreementDocument(
            text: Self.text, layers: ["alice": [gapped], "bob": [Self.span(14, 20, "PER", "bob", 1)]])
        #expect(
            try AgreementReport.compute(documents: [inside], annotators: ["alice", "bob"]).overall.overlap.pairs.first?
                .matched == 1)
    }

    @Test func threeAnnotatorsAveragePairs() throws {
        let carol = [
            Self.span(0, 12, "PER", "carol", 1), Self.span(17, 32, "PER", "carol", 2),
            Self.span(36, 42, "LOC", "carol", 3),
        ]
        let doc = AgreementDocument(text: Self.text, layers: ["alice": Self.alice, "bob": Self.bob, "carol": carol])
        let report = try AgreementReport.compute(documents: [doc], annotators: ["alice", "bob", "carol"])
        let pairs = report.overall.exact.pairs
        #expect(pairs.map { "\($0.reference)-\($0.other)" } == ["alice-bob", "alice-carol", "bob-carol"])
        #expect(pairs.map(\.matched) == [1, 3, 1])
        #expect(close(report.overall.exact.meanF1, (1.0 / 3 + 1 + 1.0 / 3) / 3))
        #expect(report.overall.tokens.cohensKappa == nil)
        #expect(report.overall.tokens.fleissKappa?.value != nil)
        #expect(report.overall.tokens.krippendorffAlpha.value != nil)
    }

    @Test func documentsArePooled() throws {
        let second = AgreementDocument(
            text: "Grace Hopper",
            layers: ["alice": [Self.span(0, 12, "PER", "alice", 9)], "bob": [Self.span(0, 12, "PER", "bob", 9)]])
        let report = try AgreementReport.compute(documents: [Self.document, second], annotators: ["alice", "bob"])
        #expect(report.documents == 2)
        let exact = try #require(report.overall.exact.pairs.first)
        // Counts are summed before the ratio: (1 + 1) matched of 3 + 1 spans each.
        #expect((exact.matched, exact.referenceSpans, exact.otherSpans) == (2, 4, 4))
        #expect(close(exact.f1, 0.5))
        #expect(report.overall.tokens.tokens == 8 + 2)
    }

    @Test func labelFilterKeepsOnlyThoseLabels() throws {
        let report = try AgreementReport.compute(
            documents: [Self.document], annotators: ["alice", "bob"], labels: ["PER"])
        #expect(report.labels.map(\.label) == ["PER"])
        #expect(report.overall.exact == report.labels[0].exact)
        #expect(report.overall.exact.pairs.first?.referenceSpans == 2)
    }

    @Test func annotatorsAreChecked() {
        #expect(throws: AgreementError.self) {
            try AgreementReport.compute(documents: [Self.document], annotators: ["alice"])
        }
        do {
            _ = try AgreementReport.compute(documents: [Self.document], annotators: ["alice", "alice"])
            Issue.record("duplicate annotator accepted")
        } catch {
            #expect(error.code == .duplicateAnnotator)
        }
    }

    @Test func annotatorWithoutALayerHasNoSpans() throws {
        let report = try AgreementReport.compute(documents: [Self.document], annotators: ["alice", "nobody"])
        let pair = try #require(report.overall.exact.pairs.first)
        #expect((pair.matched, pair.referenceSpans, pair.otherSpans) == (0, 3, 0))
        #expect(pair.f1 == 0)
    }

    @Test func reportRoundTripsThroughJSON() throws {
        let report = try AgreementReport.compute(documents: [Self.document], annotators: ["alice", "bob"])
        let json = try JSONEncoder().encode(report)
        #expect(try JSONDecoder().decode(AgreementReport.self, from: json) == report)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"f1\"") && text.contains("\"krippendorffAlpha\""))
    }
}
