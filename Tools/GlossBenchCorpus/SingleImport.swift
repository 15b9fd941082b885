import GlossModel

extension Generator {
    /// Every document's import in one changeset on an empty corpus: each document added, then its
    /// annotations, document after document, as one bulk import of a whole corpus sends them. The
    /// documents, texts and annotations are those of `importChangeset` for the same seed; the
    /// changeset takes the first document's id, author and replica.
    public mutating func singleImportChangeset() -> Changeset {
        var ops: [Op] = []
        ops.reserveCapacity(documentCount + annotationsPerDocument.reduce(0, +))
        var texts: [TextDigest: String] = [:]
        var first: Changeset?
        for _ in 0..<documentCount {
            let changeset = importChangeset(revision: 1)
            if first == nil { first = changeset }
            ops += changeset.ops
            texts.merge(changeset.texts) { a, _ in a }
        }
        let head = first!
        return Changeset(
            id: head.id, author: head.author, replica: head.replica, base: 0,
            message: "import of \(documentCount) documents", timestamp: baseTimestamp + 17, ops: ops, texts: texts)
    }
}
