/// One stop of `gloss curate` in a document: spans every annotator agrees on, or a cluster of
/// spans where they differ, with what each annotator has there.
public struct CurationItem: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// Every annotator has a span with the same label and ranges.
        case agreed
        /// Overlapping spans that are not identical across all annotators, or a span only some
        /// annotators have.
        case disagreement
    }

    /// What one annotator has at the item.
    public struct Alternative: Hashable, Sendable {
        /// The annotator (layer).
        public var annotator: String
        /// Their spans in the item, in text order; empty when they have none there.
        public var spans: [Annotation]

        public init(annotator: String, spans: [Annotation]) {
            self.annotator = annotator
            self.spans = spans
        }
    }

    public var kind: Kind
    /// From the first scalar of any span in the item to the last.
    public var extent: TextRange
    /// One entry per annotator, in the order the annotators were given.
    public var alternatives: [Alternative]

    public init(kind: Kind, extent: TextRange, alternatives: [Alternative]) {
        self.kind = kind
        self.extent = extent
        self.alternatives = alternatives
    }
}
