import GlossModel

/// What a format can hold: the annotation kinds it writes and reads back, and the kinds whose
/// attributes it carries. A re-import (``ImportUpdate``) takes an annotation missing from the
/// file as deleted, and an attribute missing from it as removed, only when the format could
/// have held it: a doccano file says nothing about notes, so importing one never deletes them.
public struct ImportCoverage: Hashable, Sendable {
    /// Kinds the format holds; existing annotations of other kinds are left alone.
    public var kinds: Set<AnnotationKind>
    /// Kinds whose attributes the format holds; other kinds' attributes are only ever added to.
    public var attributesOf: Set<AnnotationKind>

    /// A coverage.
    public init(kinds: Set<AnnotationKind>, attributesOf: Set<AnnotationKind>) {
        self.kinds = kinds
        self.attributesOf = attributesOf
    }

    /// brat standoff: `T`, `R`, `E` (as spans and relations), `A`/`M` attributes, `#` notes.
    public static let brat = ImportCoverage(kinds: [.span, .relation, .note], attributesOf: [.span, .relation])
    /// doccano: spans, relations and document labels, no attributes.
    public static let doccano = ImportCoverage(kinds: [.span, .relation, .documentLabel], attributesOf: [])
    /// Label Studio: labels, relations and choices; span attributes (per-region choices). Its
    /// export leaves out notes on anything but spans and most relation attributes, so a
    /// re-import never deletes notes nor removes relation attributes.
    public static let labelStudio = ImportCoverage(kinds: [.span, .relation, .documentLabel], attributesOf: [.span])
    /// CoNLL: spans only.
    public static let conll = ImportCoverage(kinds: [.span], attributesOf: [])
    /// W3C Web Annotation: every kind, with attributes as classifying bodies.
    public static let w3c = ImportCoverage(
        kinds: Set(AnnotationKind.allCases), attributesOf: [.span, .relation, .documentLabel])
    /// Inline markup: spans and document labels with their attributes.
    public static let inlineMarkup = ImportCoverage(kinds: [.span, .documentLabel], attributesOf: [.span, .documentLabel])
}
