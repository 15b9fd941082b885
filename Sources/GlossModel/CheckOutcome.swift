/// What ``AcceptanceCheck`` decided for one changeset.
///
/// With no conflicts the changeset is accepted as ``accepted`` (its ops rebased onto the
/// head; ops that converged with theirs are dropped) and ``entries``, ``documents`` and
/// ``schema`` are the new head state of everything it touched. With conflicts the server
/// refuses it; a client keeps the accepted part and asks the user about the rest.
public struct CheckOutcome: Sendable {
    public var accepted: [Op] = []
    public var conflicts: [Conflict] = []
    public var entries: [AnnotationKey: HeadEntry] = [:]
    public var documents: [DocumentID: DocumentEntry] = [:]
    public var schema: Schema?
    /// The text revisions it makes, per document, in op order.
    public var textRevisions: [DocumentID: [TextRevision]] = [:]

    public init() {}

    /// The annotations whose tombstones this outcome leaves (deleted by it).
    public var deletedKeys: [AnnotationKey] {
        entries.filter { $0.value.deletedAt != nil }.map(\.key)
    }
}
