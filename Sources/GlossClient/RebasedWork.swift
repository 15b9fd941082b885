import GlossModel

/// The pending work rebased on the replica's head, as a command reads it: from the rebase
/// cache, decoding only the changesets it asks for, or as just computed.
struct RebasedWork {
    /// Set when read from the cache or kept in it.
    let cache: RebaseCache?
    /// Set when just computed (then already decoded).
    let computed: Rebaser.Result?

    /// Conflicts by changeset (a cached rebase has none).
    var conflicts: [ChangesetID: [Conflict]] { computed?.conflicts ?? [:] }

    /// Every rebased changeset, with the conflicts.
    func result() throws -> Rebaser.Result {
        if let computed { return computed }
        var result = Rebaser.Result()
        result.changesets = try cache?.changesets() ?? []
        return result
    }

    /// The rebased changesets with ops on `documents` (and schema changes), in order: all that
    /// their states, and a check of a changeset on them, depend on.
    func changesets(touching documents: Set<DocumentID>) throws -> [Changeset] {
        if let computed {
            return computed.changesets.filter { $0.ops.contains { op in op.document.map(documents.contains) ?? true } }
        }
        return try cache?.changesets(touching: documents) ?? []
    }

    /// The rebased changesets that add or remove documents, in order: what the list of
    /// documents depends on.
    func changesetsChangingDocuments() throws -> [Changeset] {
        if let computed {
            return computed.changesets.filter {
                $0.ops.contains { op in
                    switch op {
                    case .addDocument, .removeDocument: true
                    default: false
                    }
                }
            }
        }
        return try cache?.changesetsChangingDocuments() ?? []
    }

    /// The documents where the pending work creates an annotation whose id matches.
    func documentsCreating(where matches: (AnnotationID) -> Bool) -> Set<DocumentID> {
        var found = Set<DocumentID>()
        if let computed {
            for changeset in computed.changesets {
                for case .create(let a) in changeset.ops where matches(a.id) { found.insert(a.document) }
            }
        } else if let cache {
            for entry in cache.entries {
                for (id, document) in entry.created where matches(id) { found.insert(document) }
            }
        }
        return found
    }
}
