/// One change to a corpus. Ops on annotations name their document, so a changeset splits
/// into per-document deltas without a lookup.
public enum Op: Hashable, Sendable {
    case create(Annotation)
    case set(DocumentID, AnnotationID, Field, FieldValue)
    case delete(DocumentID, AnnotationID)
    /// Adds a document. Its text travels in ``Changeset/texts`` under the document's digest.
    case addDocument(Document)
    case removeDocument(DocumentID)
    /// Replaces a document's text. The new text travels in ``Changeset/texts``; annotations are
    /// re-anchored from the revision's edits (``TextRevision/reanchor(_:through:)``).
    case reviseText(DocumentID, TextRevision)
    /// Replaces the corpus schema.
    case setSchema(Schema)

    /// The document the op touches; nil for corpus-level ops (the schema).
    public var document: DocumentID? {
        switch self {
        case .create(let a): a.document
        case .set(let d, _, _, _), .delete(let d, _): d
        case .addDocument(let d): d.id
        case .removeDocument(let d): d
        case .reviseText(let d, _): d
        case .setSchema: nil
        }
    }

    /// The text the op brings in, which must travel with it: an added document's, or a revised one's new text.
    public var namedText: TextDigest? {
        switch self {
        case .addDocument(let d): d.digest
        case .reviseText(_, let change): change.to
        default: nil
        }
    }

    /// The annotation the op touches, if any.
    public var annotation: AnnotationID? {
        switch self {
        case .create(let a): a.id
        case .set(_, let id, _, _), .delete(_, let id): id
        case .addDocument, .removeDocument, .reviseText, .setSchema: nil
        }
    }
}
