/// An accepted changeset: the server numbers revisions 1, 2, 3 … per corpus in the order it
/// accepts them, so history is linear.
public struct Revision: Hashable, Sendable {
    public var number: Int
    public var changeset: ChangesetID
    public var author: String
    public var replica: ReplicaID
    /// The base the changeset was made against (before any server-side rebase).
    public var base: Int
    public var message: String
    public var timestamp: Int64
    public var opCount: Int
    /// What the changeset said (``ChangesetContentDigest``), kept by the server to tell a
    /// retry from a reused id; nil in a replica, and for revisions stored before it was kept.
    public var contentDigest: ChangesetContentDigest?

    public init(
        number: Int, changeset: ChangesetID, author: String, replica: ReplicaID, base: Int, message: String,
        timestamp: Int64, opCount: Int, contentDigest: ChangesetContentDigest? = nil
    ) {
        self.contentDigest = contentDigest
        self.number = number
        self.changeset = changeset
        self.author = author
        self.replica = replica
        self.base = base
        self.message = message
        self.timestamp = timestamp
        self.opCount = opCount
    }
}
