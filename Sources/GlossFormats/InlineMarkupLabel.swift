import GlossModel

/// A document label as inline markup holds it: label and attributes, without id, owner or layer.
public struct InlineMarkupLabel: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var label: String
    public var attributes: [String: String]

    public init(label: String, attributes: [String: String] = [:]) {
        self.label = label
        self.attributes = attributes
    }

    /// The label part of a document-label annotation.
    public init(_ annotation: Annotation) {
        self.init(label: annotation.label, attributes: annotation.attributes)
    }

    public static func < (a: InlineMarkupLabel, b: InlineMarkupLabel) -> Bool {
        a.label != b.label ? a.label < b.label : InlineMarkupSyntax.attributeOrder(a.attributes, b.attributes)
    }

    /// `LABEL key=value`, as a trailer line writes it.
    public var description: String { InlineMarkupSyntax.token(label) + InlineMarkupSyntax.attributes(attributes) }
}
