/// The agreement figures for one label, or for all labels together (the overall row).
public struct AgreementRow: Hashable, Sendable, Codable {
    /// The label; nil for the overall row.
    public var label: String?
    /// Spans with the same label and the same ranges.
    public var exact: SpanAgreement
    /// Spans with the same label and overlapping ranges, matched one-to-one.
    public var overlap: SpanAgreement
    /// Token-level coefficients: over all categories for the overall row, and "inside this
    /// label or not" for a label row.
    public var tokens: TokenAgreement

    public init(label: String?, exact: SpanAgreement, overlap: SpanAgreement, tokens: TokenAgreement) {
        self.label = label
        self.exact = exact
        self.overlap = overlap
        self.tokens = tokens
    }
}
