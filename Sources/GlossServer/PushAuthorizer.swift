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

    /// Checks a changeset as it came over the wire, one part (the corpus-level ops, or one
    /// document's) decoded at a time, reading the head entries a part needs in one go; the
    /// denial is the one a check of the whole changeset gives (its lowest op index).
    func check(_ changeset: EncodedChangeset) throws(WireError) {
        let rights = self.rights
        let empty = Changeset(author: user, replica: changeset.replica, base: changeset.base, ops: [])
        if let denial = try? rights.check(empty, head: { _ in nil }) {
            throw WireError(.permissionDenied, denial.description)
        }
        var first: WriteRights.Denial?
        for part in changeset.parts {
            let decoded: EncodedChangeset.DecodedPart
            do throws(CodecError) {
                decoded = try changeset.decode(part)
            } catch {
                // As a whole decode reports it: the first run, in op order, that fails.
                throw WireError(.badMessage, (changeset.firstUndecodableRun() ?? error).message)
            }
            // Runs are decoded to the end even once an op is denied: a run that does not
            // decode makes the whole push a bad message.
            if let first, let opIndex = first.opIndex, decoded.indices[0] > opIndex { continue }
            do {
                let keys = rights.lookups(for: decoded.ops)
                var entries: [AnnotationKey: HeadEntry] = [:]
                if let document = part.document, !keys.isEmpty {
                    for (id, entry) in try store.headEntries(Set(keys.map(\.id)), of: document) {
                        entries[AnnotationKey(document, id)] = entry
                    }
                }
                if let denial = try rights.check(decoded, head: { entries[$0].map { ($0.annotation, $0.isLive) } }),
                    first.map({ ($0.opIndex ?? .max) > (denial.opIndex ?? .max) }) ?? true
                {
                    first = denial
                }
            } catch {
                throw WireError(.internal, "cannot read the annotations this push changes: \(error)")
            }
        }
        if let first { throw WireError(.permissionDenied, first.description) }
    }
}
