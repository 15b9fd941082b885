import GlossModel

/// What a client's local replica needs beyond the server's operations: applying pulled
/// revisions under their server numbers, and rebasing pending changesets on its head.
extension CorpusStore {
    /// A revision pulled from the server: its metadata, ops and the texts its new documents need.
    public struct PulledRevision: Sendable {
        public var revision: Revision
        public var ops: [Op]
        public var texts: [TextDigest: String]
        /// The server's compressed deltas, by document, whose ops are exactly this revision's
        /// ops on that document: stored as they are instead of encoded and deflated again.
        public var storedDeltas: [DocumentID?: StoredBlob]
        /// Documents whose ops here include the catch-up to a snapshot the server sent in place
        /// of their deltas, each with the last revision the replica knew faithfully (the start
        /// of the pull): the replica records the skipped revisions as a ``HistoryGap``.
        public var catchUps: [DocumentID: Int]

        public init(
            revision: Revision, ops: [Op], texts: [TextDigest: String], storedDeltas: [DocumentID?: StoredBlob] = [:],
            catchUps: [DocumentID: Int] = [:]
        ) {
            self.revision = revision
            self.ops = ops
            self.texts = texts
            self.storedDeltas = storedDeltas
            self.catchUps = catchUps
        }
    }

    /// Applies revisions pulled from the server, in one transaction. The replica must stand
    /// exactly before the first; each changeset keeps its server id, author and replica, so the
    /// replica's history numbers and idempotency keys match the server's.
    public func applyPulled(_ pulled: [PulledRevision]) throws {
        guard !pulled.isEmpty else { return }
        let changesets = pulled.map { p in
            Changeset(
                id: p.revision.changeset, author: p.revision.author, replica: p.revision.replica,
                base: p.revision.number - 1, message: p.revision.message, timestamp: p.revision.timestamp, ops: p.ops,
                texts: p.texts)
        }
        // Checked as if made on the revision just before (the server already merged it), but
        // recorded with the server's own revision row.
        let outcomes = try append(
            batch: changesets, recording: pulled.map {
                Recording(revision: $0.revision, storedDeltas: $0.storedDeltas, catchUps: $0.catchUps)
            })
        for (p, outcome) in zip(pulled, outcomes) {
            let number = p.revision.number
            guard outcome == .accepted(revision: number) || outcome == .duplicate(revision: number) else {
                throw StoreError(
                    .corrupt, "pulled revision \(number) does not apply to the replica: \(outcome)",
                    context: "revision \(number)")
            }
        }
    }

    /// Applies one pulled revision (see ``applyPulled(_:)-([PulledRevision])``).
    public func applyPulled(_ revision: Revision, ops: [Op], texts: [TextDigest: String]) throws {
        try applyPulled([PulledRevision(revision: revision, ops: ops, texts: texts)])
    }

    /// Rebases pending local changesets onto this store's head with the same check the server
    /// runs, reading only the rows the pending ops touch.
    public func rebase(_ pending: [Changeset]) throws -> Rebaser.Result {
        guard let first = pending.first else { return Rebaser.Result() }
        var all = first
        all.base = pending.map(\.base).min() ?? first.base
        all.ops = pending.flatMap(\.ops)
        return try backend.read { rows in
            let head = try rows.headRevision()
            let prefetched = try PrefetchedHead.load(for: all, from: rows, cache: headCache)
            return try Rebaser.rebase(pending, onto: prefetched, at: head)
        }
    }
}
