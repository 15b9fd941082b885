/// A unit of work a client pushes: ops plus an idempotency key, author and base revision.
public struct Changeset: Hashable, Sendable {
    /// Client-generated; pushing the same id twice yields one revision.
    public var id: ChangesetID
    public var author: String
    /// The replica that made it: changes by the same replica are in its causal past and
    /// never conflict with it, even when they landed after ``base``.
    public var replica: ReplicaID
    /// The server revision the ops were made against.
    public var base: Int
    public var message: String
    /// Seconds since 1970, set by the client.
    public var timestamp: Int64
    public var ops: [Op]
    /// Texts of the documents that ``ops`` add, by digest.
    public var texts: [TextDigest: String]

    public init(
        id: ChangesetID = .random(), author: String, replica: ReplicaID, base: Int, message: String = "",
        timestamp: Int64 = 0, ops: [Op], texts: [TextDigest: String] = [:]
    ) {
        self.id = id
        self.author = author
        self.replica = replica
        self.base = base
        self.message = message
        self.timestamp = timestamp
        self.ops = ops
        self.texts = texts
    }

    /// The ops as the wire carries them: a run of consecutive ops on one document per
    /// document change, each in the storage encoding, so op order is kept exactly.
    public var encodedRuns: [[UInt8]] {
        var runs: [[UInt8]] = []
        var start = ops.startIndex
        while start < ops.endIndex {
            let document = ops[start].document
            var end = start + 1
            while end < ops.endIndex, ops[end].document == document { end += 1 }
            runs.append(DeltaCodec.encode(Array(ops[start..<end]), document: document))
            start = end
        }
        return runs
    }

    /// Adds a document op together with its text.
    public mutating func addDocument(_ id: DocumentID, text: String, metadata: [String: String] = [:]) {
        let document = Document(id: id, text: text, metadata: metadata)
        ops.append(.addDocument(document))
        texts[document.digest] = text
    }
}
