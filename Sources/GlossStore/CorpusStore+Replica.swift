import GlossModel

/// What a client's local replica needs beyond the server's operations: applying pulled
/// revisions under their server numbers, and rebasing pending changesets on its head.
extension CorpusStore {
    /// Applies a revision pulled from the server. The replica must be exactly one revision
    /// behind; the changeset keeps its server id, author and replica, so the replica's history
    /// numbers and idempotency keys match the server's.
    public func applyPulled(_ revision: Revision, ops: [Op], texts: [TextDigest: String]) throws {
        let changeset = Changeset(
            id: revision.changeset, author: revision.author, replica: revision.replica, base: revision.number - 1,
            message: revision.message, timestamp: revision.timestamp, ops: ops, texts: texts)
        let outcome = try append(changeset)
        guard outcome == .accepted(revision: revision.number) || outcome == .duplicate(revision: revision.number) else {
            throw StoreError(
                .corrupt, "pulled revision \(revision.number) does not apply to the replica: \(outcome)",
                context: "revision \(revision.number)")
        }
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
            let prefetched = try PrefetchedHead.load(for: all, from: rows)
            return try Rebaser.rebase(pending, onto: prefetched, at: head)
        }
    }
}
