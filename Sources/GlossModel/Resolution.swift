/// How to settle a ``Conflict``.
public enum Resolution: Hashable, Sendable {
    /// Keep my side (re-creating what theirs deleted, where that is what mine needs).
    case mine
    /// Keep their side: my held-back ops are dropped.
    case theirs
    /// Use this value instead: for a field conflict the field's value, for a dangling
    /// reference another annotation to point at.
    case value(FieldValue)
}

extension Conflict {
    /// The ops that carry out `resolution`. Append them to the rebased changeset; the next
    /// check validates them against the head like any other ops.
    public func ops(resolving resolution: Resolution) throws(ValidationError) -> [Op] {
        switch (kind, resolution) {
        case (_, .theirs):
            return []
        case (.field, .mine), (.deleteEdit, .mine), (.schema, .mine):
            return ops
        case (.field(let field), .value(let value)):
            return ops.map { op in
                if case .set(let d, let id, let f, _) = op, f == field { return .set(d, id, f, value) }
                return op
            }
        case (.editDelete, .mine):
            // Bring the annotation back as theirs last saw it, with my edits on top.
            guard var revived = theirState else { break }
            for op in ops {
                if case .set(_, _, let field, let value) = op { try revived.set(field, to: value) }
            }
            return [.create(revived)]
        case (.danglingReference, .mine):
            guard let reference, let document, let theirState else { break }
            if case .delete = ops.first {
                // Mine deleted an annotation their relation points at: delete the relation too.
                return [.delete(document, reference)] + ops
            }
            // Mine points at annotations theirs deleted: bring them back.
            return ([theirState] + alsoDeleted).map(Op.create) + ops
        case (.danglingReference, .value(.reference(let replacement))):
            guard let reference else { break }
            return ops.map { op in
                switch op {
                case .create(var a):
                    if a.from == reference { a.from = replacement }
                    if a.to == reference { a.to = replacement }
                    if a.target == reference { a.target = replacement }
                    return .create(a)
                case .set(let d, let id, let f, .reference(let r)) where r == reference:
                    return .set(d, id, f, .reference(replacement))
                default:
                    return op
                }
            }
        default:
            break
        }
        throw ValidationError(
            .invalidResolution, "a \(kindName) conflict cannot be resolved with \(resolution)",
            document: document, annotation: annotation)
    }
}
