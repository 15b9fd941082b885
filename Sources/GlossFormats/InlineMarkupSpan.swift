import GlossModel

/// A span as inline markup holds it: label, ranges and attributes, without id, owner or layer
/// (``InlineMarkupDiff`` matches it to an existing annotation or creates one).
public struct InlineMarkupSpan: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var label: String
    /// Sorted, non-overlapping Unicode scalar ranges.
    public var ranges: [TextRange]
    public var attributes: [String: String]

    public init(label: String, ranges: [TextRange], attributes: [String: String] = [:]) {
        self.label = label
        self.ranges = ranges
        self.attributes = attributes
    }

    /// The span part of an annotation.
    public init(_ annotation: Annotation) {
        self.init(label: annotation.label, ranges: annotation.ranges, attributes: annotation.attributes)
    }

    /// Text order: ranges, then label, then attributes.
    public static func < (a: InlineMarkupSpan, b: InlineMarkupSpan) -> Bool {
        if a.ranges != b.ranges { return a.ranges.lexicographicallyPrecedes(b.ranges) }
        if a.label != b.label { return a.label < b.label }
        return InlineMarkupSyntax.attributeOrder(a.attributes, b.attributes)
    }

    /// `LABEL 0-3,5-8 key=value`, as a trailer line writes it.
    public var description: String {
        InlineMarkupSyntax.token(label) + " " + InlineMarkupSyntax.ranges(ranges)
            + InlineMarkupSyntax.attributes(attributes)
    }
}
