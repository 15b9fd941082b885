/// A write that breaks a rule of the data model: a bad label, range, reference, id or text.
///
/// The code is stable and machine-readable; the message is for people; the context names
/// the document, the annotation and the op (by index in its changeset) that were wrong.
public struct ValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An extensible error code (a struct rather than an enum, so new codes are not breaking).
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let unknownLabel = Code(rawValue: "unknown-label")
        public static let unknownAttribute = Code(rawValue: "unknown-attribute")
        public static let unknownAttributeValue = Code(rawValue: "unknown-attribute-value")
        public static let rangeOutOfBounds = Code(rawValue: "range-out-of-bounds")
        public static let invertedRange = Code(rawValue: "inverted-range")
        public static let emptyRanges = Code(rawValue: "empty-ranges")
        public static let overlappingRanges = Code(rawValue: "overlapping-ranges")
        public static let unsortedRanges = Code(rawValue: "unsorted-ranges")
        public static let invalidField = Code(rawValue: "invalid-field")
        public static let missingReference = Code(rawValue: "missing-reference")
        public static let relationNotAllowed = Code(rawValue: "relation-not-allowed")
        public static let invalidUTF8 = Code(rawValue: "invalid-utf8")
        public static let invalidDocumentID = Code(rawValue: "invalid-document-id")
        public static let unknownDocument = Code(rawValue: "unknown-document")
        public static let duplicateDocument = Code(rawValue: "duplicate-document")
        public static let unknownAnnotation = Code(rawValue: "unknown-annotation")
        public static let duplicateAnnotation = Code(rawValue: "duplicate-annotation")
        public static let fieldNotApplicable = Code(rawValue: "field-not-applicable")
        public static let referencedAnnotation = Code(rawValue: "referenced-annotation")
        public static let textMissing = Code(rawValue: "text-missing")
        public static let invalidResolution = Code(rawValue: "invalid-resolution")
    }

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
