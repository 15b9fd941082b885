extension WriteRights {
    /// Checks one part of a changeset (``EncodedChangeset/parts``) as ``check(_:head:)`` checks a
    /// whole one: the rule is per op, so the parts' denials together are the whole's, and the one
    /// with the lowest index is what the whole check returns. A denial names its op by its
    /// changeset-wide index. (``mayPush`` is the caller's to check, once per changeset.)
    public func check(
        _ part: EncodedChangeset.DecodedPart, head: (AnnotationKey) throws -> (annotation: Annotation, isLive: Bool)?
    ) throws -> Denial? {
        let ops = Changeset(author: user, replica: ReplicaID(0), base: 0, ops: part.ops)
        guard var denial = try check(ops, head: head) else { return nil }
        denial.opIndex = denial.opIndex.map { part.indices[$0] }
        return denial
    }

    /// The annotations whose head entries ``check(_:head:)-(EncodedChangeset.DecodedPart,_)``
    /// may look up for these ops: so that a caller reads them in one go.
    public func lookups(for ops: [Op]) -> [AnnotationKey] {
        var keys: [AnnotationKey] = []
        for op in ops {
            switch op {
            case .create(let a):
                if a.owner == user && (a.layer == user || mayWriteOtherLayers) { continue }
                keys.append(AnnotationKey(a.document, a.id))
            case .set(let d, let id, _, _), .delete(let d, let id):
                if !mayEditOthersAnnotations { keys.append(AnnotationKey(d, id)) }
            case .setSchema, .addDocument, .removeDocument, .reviseText:
                continue
            }
        }
        return keys
    }
}
