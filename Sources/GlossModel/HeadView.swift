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
    /// Every entry of a document, live and tombstones, in any order; nil when this head cannot
    /// list them (a text revision is then refused as `unsupported`).
    func entries(of document: DocumentID) -> [HeadEntry]?
    /// The text revisions of a document after revision `base`, oldest first; nil when this head
    /// does not keep them (an op with offsets made before such a revision is then a
    /// `text-revised` conflict, for the client to rebase).
    func textRevisions(of document: DocumentID, after base: Int) -> [RecordedTextRevision]?
    /// A document's text by digest, when this head has it at hand: a text revision's edits are
    /// then checked against the text they revise.
    func text(_ digest: TextDigest) -> String?
}

extension HeadView {
    public func entries(of document: DocumentID) -> [HeadEntry]? { nil }
    public func textRevisions(of document: DocumentID, after base: Int) -> [RecordedTextRevision]? { nil }
    public func text(_ digest: TextDigest) -> String? { nil }
}

/// A text revision as a head keeps it: the revision that made it, and what it did.
public struct RecordedTextRevision: Hashable, Sendable {
    /// The corpus revision whose changeset revised the text.
    public var revision: Int
    public var change: TextRevision

    public init(revision: Int, change: TextRevision) {
        self.revision = revision
        self.change = change
    }
}
