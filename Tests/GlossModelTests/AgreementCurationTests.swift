import GlossModel
import GlossTestSupport
import Testing

/// Grouping annotators' spans into agreed and disagreement items for `gloss curate`.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct AgreementCurationTests {
    typealias S = AgreementSpanTests

    static func summary(_ items: [CurationItem]) -> [String] {
        items.map { item in
            "\(item.kind) \(item.extent): "
                + item.alternatives.map { alt in
                    alt.annotator + "="
                        + alt.spans.map { "\($0.label)\($0.ranges.map(\.description).joined(separator: ","))" }
                        .joined(separator: "|")
                }.joined(separator: " ")
        }
    }

    @Test func agreedAndDisagreementsInTextOrder() {
        let carol = [
            S.span(36, 42, "LOC", "carol", 3), S.span(0, 12, "PER", "carol", 1), S.span(17, 32, "PER", "carol", 2),
        ]
        let bob = S.bob + [S.span(13, 16, "MISC", "bob", 4)]
        let items = CurationItem.items(
            layers: ["alice": S.alice, "bob": bob, "carol": carol], annotators: ["alice", "bob", "carol"])
        #expect(
            Self.summary(items) == [
                "agreed 0-12: alice=PER0-12 bob=PER0-12 carol=PER0-12",
                "disagreement 13-16: alice= bob=MISC13-16 carol=",
                "disagreement 17-32: alice=PER17-32 bob=PER25-32 carol=PER17-32",
                "disagreement 36-42: alice=LOC36-42 bob=ORG36-42 carol=LOC36-42",
            ])
        // Alternatives carry the annotators' own annotations (ids and layers intact).
        #expect(items[0].alternatives.map(\.spans[0].layer) == ["alice", "bob", "carol"])
    }

    @Test func extraCopiesAndZeroLengthAndGaps() {
        var gapped = S.span(0, 2, "X", "alice", 5)
        gapped.ranges = [TextRange(0, 2), TextRange(8, 10)]
        let alice = [
            S.span(20, 23, "PER", "alice", 1), S.span(20, 23, "PER", "alice", 2), S.span(5, 5, "A", "alice", 3), gapped,
        ]
        let bob = [S.span(20, 23, "PER", "bob", 1), S.span(5, 5, "B", "bob", 2), S.span(3, 6, "X", "bob", 3)]
        let items = CurationItem.items(layers: ["alice": alice, "bob": bob], annotators: ["alice", "bob"])
        #expect(
            Self.summary(items) == [
                // alice's gapped span does not meet bob's 3-6 (it lies in the gap)...
                "disagreement 0-10: alice=X0-2,8-10 bob=",
                // ...but bob's 3-6 contains both zero-length spans at 5, which meet each other.
                "disagreement 3-6: alice=A5-5 bob=X3-6|B5-5",
                "agreed 20-23: alice=PER20-23 bob=PER20-23",
                "disagreement 20-23: alice=PER20-23 bob=",
            ])
    }

    @Test func nothingToCurate() {
        #expect(CurationItem.items(layers: [:], annotators: ["a", "b"]).isEmpty)
    }
}
