/// A corpus's new head, as a database that several glossd nodes commit to announces it.
public struct RevisionAnnouncement: Hashable, Sendable {
    public var corpus: String
    /// The revision just committed: every one up to it is in the store.
    public var revision: Int

    public init(corpus: String, revision: Int) {
        self.corpus = corpus
        self.revision = revision
    }
}

/// Announcements of new revisions from a storage several nodes commit to (PostgreSQL's
/// LISTEN/NOTIFY), so that each node can tell its subscribers of every node's pushes.
public protocol RevisionAnnouncer: Sendable {
    /// Every revision committed from now on, by any node this one included, in commit order,
    /// until the calling task is cancelled. It reconnects by itself after losing the database;
    /// revisions committed meanwhile are announced by the next announcement of their corpus
    /// (a revision implies all before it).
    func announcements() -> AsyncStream<RevisionAnnouncement>
}
