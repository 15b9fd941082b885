import GlossModel

/// What a piece of inline markup says: the document text, its spans and its document labels,
/// each list sorted so that two contents compare equal exactly when they say the same.
public struct InlineMarkupContent: Hashable, Sendable {
    /// The text outside the markup, unescaped.
    public var text: String
    /// The spans, sorted (duplicates kept).
    public var spans: [InlineMarkupSpan]
    /// The document labels, sorted (duplicates kept).
    public var documentLabels: [InlineMarkupLabel]

    public init(text: String, spans: [InlineMarkupSpan], documentLabels: [InlineMarkupLabel]) {
        self.text = text
        self.spans = spans.sorted()
        self.documentLabels = documentLabels.sorted()
    }

    /// The spans and document labels among `annotations` (other kinds are left out).
    public init(text: String, annotations: [Annotation]) {
        self.init(
            text: text, spans: annotations.filter { $0.kind == .span }.map(InlineMarkupSpan.init),
            documentLabels: annotations.filter { $0.kind == .documentLabel }.map(InlineMarkupLabel.init))
    }
}
