/// Rebases a client's pending changesets onto a newly pulled head.
///
/// Each pending changeset runs through the same ``AcceptanceCheck`` the server uses, against
/// the head plus the pending changesets before it. What passes is rebased onto the head's
/// revision; what conflicts is returned as typed conflicts for the user to resolve.
///
/// Call it only after a pull to the head: then no pending changeset has been accepted yet,
/// which is what makes folding the ones after a conflict into it safe.
public enum Rebaser {
    public struct Result: Sendable {
        /// The pending changesets with base set to the head's revision, each holding the ops that
        /// passed. A changeset with conflicts holds only its accepted part until they are resolved.
        public var changesets: [Changeset] = []
        /// Conflicts by changeset.
        public var conflicts: [ChangesetID: [Conflict]] = [:]

        public var hasConflicts: Bool { !conflicts.isEmpty }

        public init() {}
    }

    public static func rebase(_ pending: [Changeset], onto head: any HeadView & Sendable, at headRevision: Int)
        throws(ValidationError) -> Result
    {
        var result = Result()
        var layer = HeadState(over: head, revision: headRevision)
        var k = 0
        while k < pending.count {
            // Pseudo revisions past the head, attributed to the pending changeset's replica, so
            // later pending changesets see earlier ones as their own past.
            let pseudo = headRevision + k + 1
            var changeset = pending[k]
            var outcome = try AcceptanceCheck.check(changeset, against: layer, as: pseudo)
            if !outcome.conflicts.isEmpty && k + 1 < pending.count {
                // Later changesets were made on top of ops that now wait for a resolution, and
                // none of them can be pushed before it: fold them into this one, so that an op
                // depending on a held-back op is held back with it (as within one changeset).
                for later in pending[(k + 1)...] {
                    changeset.ops += later.ops
                    changeset.texts.merge(later.texts) { a, _ in a }
                    if !later.message.isEmpty {
                        changeset.message += changeset.message.isEmpty ? later.message : "\n" + later.message
                    }
                }
                outcome = try AcceptanceCheck.check(changeset, against: layer, as: pseudo)
                k = pending.count
            } else {
                k += 1
            }
            layer.commit(outcome, revision: pseudo, replica: changeset.replica)
            changeset.base = headRevision
            changeset.ops = outcome.accepted
            result.changesets.append(changeset)
            if !outcome.conflicts.isEmpty { result.conflicts[changeset.id] = outcome.conflicts }
        }
        return result
    }
}
