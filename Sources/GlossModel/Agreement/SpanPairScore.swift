/// How well one annotator's spans match another's: precision and recall of `other` against
/// `reference`, and F1 (which is symmetric: swapping the two swaps precision and recall).
public struct SpanPairScore: Hashable, Sendable, Codable {
    /// The annotator treated as the reference.
    public var reference: String
    /// The annotator compared with it.
    public var other: String
    /// Spans matched one-to-one.
    public var matched: Int
    /// Spans the reference has.
    public var referenceSpans: Int
    /// Spans the other annotator has.
    public var otherSpans: Int

    public init(reference: String, other: String, matched: Int, referenceSpans: Int, otherSpans: Int) {
        self.reference = reference
        self.other = other
        self.matched = matched
        self.referenceSpans = referenceSpans
        self.otherSpans = otherSpans
    }

    /// matched / otherSpans; nil when the other annotator has no spans.
    public var precision: Double? { otherSpans == 0 ? nil : Double(matched) / Double(otherSpans) }
    /// matched / referenceSpans; nil when the reference has no spans.
    public var recall: Double? { referenceSpans == 0 ? nil : Double(matched) / Double(referenceSpans) }
    /// 2·matched / (referenceSpans + otherSpans); nil when neither has a span (nothing to agree on).
    public var f1: Double? {
        let total = referenceSpans + otherSpans
        return total == 0 ? nil : 2 * Double(matched) / Double(total)
    }

    /// Adds another document's counts for the same pair.
    mutating func add(_ other: SpanPairScore) {
        matched += other.matched
        referenceSpans += other.referenceSpans
        otherSpans += other.otherSpans
    }

    private enum CodingKeys: String, CodingKey {
        case reference, other, matched, referenceSpans, otherSpans, precision, recall, f1
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            reference: try c.decode(String.self, forKey: .reference), other: try c.decode(String.self, forKey: .other),
            matched: try c.decode(Int.self, forKey: .matched),
            referenceSpans: try c.decode(Int.self, forKey: .referenceSpans),
            otherSpans: try c.decode(Int.self, forKey: .otherSpans))
    }

    // The derived figures are written too, so that --json readers need not recompute them.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(reference, forKey: .reference)
        try c.encode(other, forKey: .other)
        try c.encode(matched, forKey: .matched)
        try c.encode(referenceSpans, forKey: .referenceSpans)
        try c.encode(otherSpans, forKey: .otherSpans)
        try c.encode(precision, forKey: .precision)
        try c.encode(recall, forKey: .recall)
        try c.encode(f1, forKey: .f1)
    }
}
