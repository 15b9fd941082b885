/// Rebases a client's pending changesets onto a newly pulled head.
///
/// Each pending changeset runs through the same ``AcceptanceCheck`` the server uses, against
/// the head plus the pending changesets before it. What passes is rebased onto the head's
/// revision; what conflicts is returned as typed conflicts for the user to resolve.
public enum Rebaser {
    public struct Result: Sendable {
        /// The pending changesets with base set to the head's revision, each holding the ops that
        /// passed. A changeset with conflicts holds only its accepted part until they are resolved.
        public var changesets: [Changeset] = []
        /// Conflicts by changeset.
        public var conflicts: [ChangesetID: [Conflict]] = [:]

        public var hasConflicts: Bool { !conflicts.isEmpty }
    }

    public static func rebase(_ pending: [Changeset], onto head: any HeadView & Sendable, at headRevision: Int)
        throws(ValidationError) -> Result
    {
        var result = Result()
        var layer = HeadState(over: head, revision: headRevision)
        for (k, changeset) in pending.enumerated() {
            // Pseudo revisions past the head, attributed to the pending changeset's replica, so
            // later pending changesets see earlier ones as their own past.
            let pseudo = headRevision + k + 1
            let outcome = try AcceptanceCheck.check(changeset, against: layer, as: pseudo)
            layer.commit(outcome, revision: pseudo, replica: changeset.replica)
            var rebased = changeset
            rebased.base = headRevision
            rebased.ops = outcome.accepted
            result.changesets.append(rebased)
            if !outcome.conflicts.isEmpty { result.conflicts[changeset.id] = outcome.conflicts }
        }
        return result
    }
}
