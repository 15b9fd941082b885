/// A field of an annotation that a `set` op can change. Merge works per field: edits to
/// different fields of one annotation never conflict.
public enum Field: Hashable, Sendable, CustomStringConvertible {
    case label
    case ranges
    case from
    case to
    /// The text of a note.
    case text
    case attribute(String)
    /// A span's anchor problem (``TextAnchor``): set by a text revision, cleared to confirm.
    case anchor

    public var description: String {
        switch self {
        case .label: "label"
        case .ranges: "ranges"
        case .from: "from"
        case .to: "to"
        case .text: "text"
        case .attribute(let key): "attribute \(key)"
        case .anchor: "anchor"
        }
    }

    /// The fields that apply to an annotation kind (attributes apply to spans, relations and labels).
    public func applies(to kind: AnnotationKind) -> Bool {
        switch (self, kind) {
        case (.label, .span), (.label, .relation), (.label, .documentLabel): true
        case (.ranges, .span): true
        case (.from, .relation), (.to, .relation): true
        case (.text, .note): true
        case (.attribute, .span), (.attribute, .relation), (.attribute, .documentLabel): true
        case (.anchor, .span): true
        default: false
        }
    }
}

/// The value of a field. `none` removes an attribute.
public enum FieldValue: Hashable, Sendable, CustomStringConvertible {
    case string(String)
    case ranges([TextRange])
    case reference(AnnotationID)
    /// Where a span was before a text revision (``Field/anchor``).
    case anchor(TextAnchor)
    case none

    public var description: String {
        switch self {
        case .string(let s): "\"\(s)\""
        case .ranges(let r): r.map(\.description).joined(separator: ",")
        case .reference(let id): id.description
        case .anchor(let a): "anchored at \(a)"
        case .none: "(none)"
        }
    }
}
