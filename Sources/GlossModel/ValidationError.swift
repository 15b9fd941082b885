/// A write that breaks a rule of the data model: a bad label, range, reference, id or text.
///
/// The code is stable and machine-readable; the message is for people; the context names
/// the document, the annotation and the op (by index in its changeset) that were wrong.
public struct ValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    public typealias Code = ErrorCode<ValidationError>

    public var code: Code
    public var message: String
    public var document: DocumentID?
    public var annotation: AnnotationID?
    /// Index of the offending op within its changeset, when known.
    public var opIndex: Int?

    public init(
        _ code: Code, _ message: String, document: DocumentID? = nil, annotation: AnnotationID? = nil,
        opIndex: Int? = nil
    ) {
        self.code = code
        self.message = message
        self.document = document
        self.annotation = annotation
        self.opIndex = opIndex
    }

    public var description: String {
        var context: [String] = []
        if let opIndex { context.append("op \(opIndex)") }
        if let document { context.append("document \(document)") }
        if let annotation { context.append("annotation \(annotation)") }
        let suffix = context.isEmpty ? "" : " (" + context.joined(separator: ", ") + ")"
        return "\(code): \(message)\(suffix)"
    }

    func with(document: DocumentID?, annotation: AnnotationID?, opIndex: Int?) -> ValidationError {
        var copy = self
        copy.document = copy.document ?? document
        copy.annotation = copy.annotation ?? annotation
        copy.opIndex = copy.opIndex ?? opIndex
        return copy
    }
}

extension ErrorCode where Domain == ValidationError {
    public static let unknownLabel = Self(rawValue: "unknown-label")
    public static let unknownAttribute = Self(rawValue: "unknown-attribute")
    public static let unknownAttributeValue = Self(rawValue: "unknown-attribute-value")
    public static let rangeOutOfBounds = Self(rawValue: "range-out-of-bounds")
    public static let invertedRange = Self(rawValue: "inverted-range")
    public static let emptyRanges = Self(rawValue: "empty-ranges")
    public static let overlappingRanges = Self(rawValue: "overlapping-ranges")
    public static let unsortedRanges = Self(rawValue: "unsorted-ranges")
    public static let invalidField = Self(rawValue: "invalid-field")
    public static let missingReference = Self(rawValue: "missing-reference")
    public static let relationNotAllowed = Self(rawValue: "relation-not-allowed")
    public static let invalidUTF8 = Self(rawValue: "invalid-utf8")
    public static let invalidDocumentID = Self(rawValue: "invalid-document-id")
    public static let unknownDocument = Self(rawValue: "unknown-document")
    public static let duplicateDocument = Self(rawValue: "duplicate-document")
    public static let unknownAnnotation = Self(rawValue: "unknown-annotation")
    public static let duplicateAnnotation = Self(rawValue: "duplicate-annotation")
    public static let fieldNotApplicable = Self(rawValue: "field-not-applicable")
    public static let referencedAnnotation = Self(rawValue: "referenced-annotation")
    public static let textMissing = Self(rawValue: "text-missing")
    public static let invalidResolution = Self(rawValue: "invalid-resolution")
    /// A string or list past its limit in ``FieldLimits``: the message names both.
    public static let fieldTooLarge = Self(rawValue: "field-too-large")
    /// A push under a changeset id the corpus already has, with other content: ids are never
    /// reused, so this is a broken client or another user's changeset, never a retry.
    public static let changesetIDReused = Self(rawValue: "changeset-id-reused")
    /// A `reviseText` whose `from` is not the document's current text, and not because another
    /// replica revised it meanwhile (that is a `text-revised` conflict).
    public static let staleText = Self(rawValue: "stale-text")
    /// An op a head cannot carry out: a text revision on a store without the document's entries.
    public static let unsupported = Self(rawValue: "unsupported")
}
