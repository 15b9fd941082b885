/// Span-level agreement under one matching rule (exact or overlap): every pair of annotators,
/// and the mean F1 over the pairs.
public struct SpanAgreement: Hashable, Sendable, Codable {
    /// One score per pair of annotators, the earlier-listed annotator as reference, in list order.
    public var pairs: [SpanPairScore]
    /// The mean of the pairs' F1, over the pairs where it is defined; nil when none is.
    public var meanF1: Double?

    public init(pairs: [SpanPairScore]) {
        self.pairs = pairs
        let defined = pairs.compactMap(\.f1)
        meanF1 = defined.isEmpty ? nil : defined.reduce(0, +) / Double(defined.count)
    }
}
