import GlossModel
import GlossStore
import GlossWire

/// What a role may push (`Protocol/wire.md`, "Authorisation"): viewers nothing; annotators
/// annotation ops under their own name, and under policy `own` only on their own layer;
/// curators annotation ops on any layer; owners everything. The rule itself is
/// ``WriteRights``, which workspaces run too before they record a change.
struct PushAuthorizer {
    let user: String
    /// The user's role and the corpus's policy, as they stand for this request.
    let access: CorpusAccess
    let store: CorpusStore

    var rights: WriteRights {
        WriteRights(user: user, role: access.role.name, ownLayersOnly: access.policy == .own)!
    }

    func check(_ changeset: Changeset) throws(WireError) {
        let denial: WriteRights.Denial?
        do {
            denial = try rights.check(changeset) { key in
                try store.headEntry(key).map { ($0.annotation, $0.isLive) }
            }
        } catch {
            throw WireError(.internal, "cannot read the annotations this push changes: \(error)")
        }
        if let denial { throw WireError(.permissionDenied, denial.description) }
    }
}
