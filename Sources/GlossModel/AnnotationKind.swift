/// What an annotation is. The raw values are part of the stored encoding.
public enum AnnotationKind: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A labelled stretch of text, possibly discontinuous (brat `T1 Org 0 5;16 23`).
    case span = 0
    /// A labelled, directed link between two annotations of the same document.
    case relation = 1
    /// A label on the whole document (doccano's text classification).
    case documentLabel = 2
    /// Free text attached to an annotation or to the document.
    case note = 3

    public var description: String {
        switch self {
        case .span: "span"
        case .relation: "relation"
        case .documentLabel: "document-label"
        case .note: "note"
        }
    }
}
