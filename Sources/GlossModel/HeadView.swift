/// Read access to a materialised head: what ``AcceptanceCheck`` needs to decide, in O(ops),
/// whether a changeset conflicts with everything accepted since its base.
///
/// The server's store, the client's replica and the in-memory ``HeadState`` all provide it,
/// so client and server run the same merge code.
public protocol HeadView {
    var schema: Schema { get }
    /// The revision that last set the schema (0: never set).
    var schemaRevision: Int { get }
    func document(_ id: DocumentID) -> DocumentEntry?
    /// The entry for an annotation, live or tombstone.
    func entry(_ key: AnnotationKey) -> HeadEntry?
    /// Live annotations whose `from`, `to` or `target` is the given one.
    func referrers(of key: AnnotationKey) -> [AnnotationID]
    /// The replica whose changeset became this revision.
    func replica(ofRevision revision: Int) -> ReplicaID?
}
