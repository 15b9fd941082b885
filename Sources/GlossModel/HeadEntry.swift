/// The current state of one annotation in the head table, with the revision that last
/// changed each field. A deleted annotation stays as a tombstone, so that a concurrent edit
/// to it is reported as an edit/delete conflict rather than "unknown annotation".
public struct HeadEntry: Hashable, Sendable {
    public var annotation: Annotation
    public var createdAt: Int
    /// Revisions of fields changed after creation; other fields date from ``createdAt``.
    public var fieldRevisions: [Field: Int]
    public var deletedAt: Int?

    public init(annotation: Annotation, createdAt: Int, fieldRevisions: [Field: Int] = [:], deletedAt: Int? = nil) {
        self.annotation = annotation
        self.createdAt = createdAt
        self.fieldRevisions = fieldRevisions
        self.deletedAt = deletedAt
    }

    public var isLive: Bool { deletedAt == nil }

    public func lastChange(of field: Field) -> Int { fieldRevisions[field] ?? createdAt }

    /// The revision that last touched the annotation's references.
    var lastReferenceChange: Int { max(lastChange(of: .from), lastChange(of: .to), createdAt) }
}

/// Identifies an annotation within a corpus.
public struct AnnotationKey: Hashable, Sendable {
    public var document: DocumentID
    public var id: AnnotationID

    public init(_ document: DocumentID, _ id: AnnotationID) {
        self.document = document
        self.id = id
    }
}

/// A document as the head knows it: added at one revision, perhaps removed at a later one.
public struct DocumentEntry: Hashable, Sendable {
    /// The document as it stands: after a text revision, with the new text's digest and length.
    public var document: Document
    public var addedAt: Int
    public var removedAt: Int?
    /// The last revision that revised the text (nil: never since it was added).
    public var textRevisedAt: Int?

    public init(document: Document, addedAt: Int, removedAt: Int? = nil, textRevisedAt: Int? = nil) {
        self.document = document
        self.addedAt = addedAt
        self.removedAt = removedAt
        self.textRevisedAt = textRevisedAt
    }

    public var isLive: Bool { removedAt == nil }
}
