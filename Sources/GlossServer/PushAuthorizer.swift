import GlossModel
import GlossStore
import GlossWire

/// What a role may push (`Protocol/wire.md`, "Authorisation"): viewers nothing; annotators
/// annotation ops under their own name, and under policy `own` only on their own layer;
/// curators annotation ops on any layer; owners everything.
struct PushAuthorizer {
    let user: String
    let role: Role
    let policy: CorpusPolicy
    let store: CorpusStore

    func check(_ changeset: Changeset) throws(WireError) {
        guard role >= .annotator else {
            throw WireError(.permissionDenied, "\(user) is a viewer of this corpus and cannot push; ask an owner for the annotator role")
        }
        for (index, op) in changeset.ops.enumerated() {
            switch op {
            case .setSchema, .addDocument, .removeDocument:
                guard role == .owner else {
                    throw denied(index, "only corpus owners change the schema or documents")
                }
            case .create(let a):
                if a.owner == user && (a.layer == user || role >= .curator) { continue }
                // Bringing back an annotation someone deleted (a conflict resolved as "mine")
                // restores it as it was, owner and layer included.
                if try isRevival(a) && (policy == .shared || role >= .curator) { continue }
                guard a.owner == user else {
                    throw denied(index, "annotation \(a.id) names \(a.owner) as its owner; create annotations as yourself")
                }
                throw denied(index, "writing to the layer of \(a.layer) needs the curator role")
            case .set(let d, let id, _, _), .delete(let d, let id):
                guard policy == .own && role < .curator else { continue }
                let layer: String?
                do {
                    layer = try store.headEntry(AnnotationKey(d, id))?.annotation.layer
                } catch {
                    throw WireError(.internal, "cannot read annotation \(id): \(error)")
                }
                if let layer, layer != user {
                    throw denied(index, "this corpus lets annotators edit only their own layer; \(id) is in \(layer)'s")
                }
            }
        }
    }

    /// Whether `a` re-creates a deleted annotation with its original owner and layer.
    private func isRevival(_ a: Annotation) throws(WireError) -> Bool {
        let entry: HeadEntry?
        do {
            entry = try store.headEntry(AnnotationKey(a.document, a.id))
        } catch {
            throw WireError(.internal, "cannot read annotation \(a.id): \(error)")
        }
        guard let entry, !entry.isLive else { return false }
        return entry.annotation.owner == a.owner && entry.annotation.layer == a.layer
    }

    private func denied(_ index: Int, _ why: String) -> WireError {
        WireError(.permissionDenied, "op \(index): \(why)")
    }
}
