/// One document at one revision: what reconstruction from snapshots and deltas yields.
public struct DocumentState: Hashable, Sendable {
    public var document: Document?
    public var annotations: [AnnotationID: Annotation]

    public init(document: Document? = nil, annotations: [AnnotationID: Annotation] = [:]) {
        self.document = document
        self.annotations = annotations
    }

    /// Applies an op that the store already accepted (no merge checks; shape errors still throw).
    public mutating func apply(_ op: Op) throws(ValidationError) {
        switch op {
        case .create(let a):
            annotations[a.id] = a
        case .set(let d, let id, let field, let value):
            guard var a = annotations[id] else {
                throw ValidationError(.unknownAnnotation, "annotation \(id) does not exist", document: d)
            }
            try a.set(field, to: value)
            annotations[id] = a
        case .delete(_, let id):
            annotations[id] = nil
        case .addDocument(let doc):
            document = doc
            annotations = [:]
        case .removeDocument:
            document = nil
            annotations = [:]
        case .reviseText(let d, let revision):
            guard var doc = document, doc.digest == revision.from else {
                throw ValidationError(
                    .staleText, "the revision replaces text \(revision.from), which is not the document's", document: d)
            }
            guard revision.fromLength == doc.length else {
                throw ValidationError(
                    .invalidField, "the revision replaces a text of \(revision.fromLength) scalars; it has \(doc.length)",
                    document: d)
            }
            try revision.check()
            let diff = revision.diff()
            for (id, a) in annotations where a.kind == .span { annotations[id] = revision.reanchor(a, through: diff).annotation }
            doc.digest = revision.to
            doc.length = revision.toLength
            document = doc
        case .setSchema:
            break
        }
    }

    /// The annotations sorted by id.
    public var sortedAnnotations: [Annotation] { annotations.values.sorted { $0.id < $1.id } }

    /// The state as `create` ops (after an `addDocument`): the body of a snapshot.
    public var asOps: [Op] {
        guard let document else { return [] }
        // Sorted by position so that consecutive offsets delta-encode small.
        let ordered = annotations.values.sorted { a, b in
            (a.ranges.first?.start ?? Int.max, a.id) < (b.ranges.first?.start ?? Int.max, b.id)
        }
        return [.addDocument(document)] + ordered.map(Op.create)
    }
}

extension DocumentState {
    /// Ops that turn this state into `target` (the same document), in an order the acceptance
    /// check accepts: referrers are deleted before what they point at, and created after it.
    /// A client uses it to apply a snapshot the server sent in place of a run of deltas.
    public func ops(toReach target: DocumentState) -> [Op] {
        guard let document = target.document ?? self.document else { return [] }
        if target.document == nil { return self.document == nil ? [] : [.removeDocument(document.id)] }
        if self.document == nil || self.document?.digest != target.document?.digest {
            var ops: [Op] = self.document == nil ? [] : [.removeDocument(document.id)]
            ops += target.asOps
            return ops
        }
        let doc = document.id
        let gone = annotations.values.filter { target.annotations[$0.id] == nil }
        let new = target.annotations.values.filter { annotations[$0.id] == nil }
        // Referrers go first when deleting (the check settles deletes at the end, so one level
        // is enough) and after everything they reference, at any depth, when creating.
        let deletes = gone.sorted { ($0.references.isEmpty ? 1 : 0, $0.id) < ($1.references.isEmpty ? 1 : 0, $1.id) }
        let creates = Annotation.referencesFirst(Array(new))
        var sets: [Op] = []
        for (id, before) in annotations.sorted(by: { $0.key < $1.key }) {
            guard let after = target.annotations[id], after != before else { continue }
            for field in before.changedFields(to: after) { sets.append(.set(doc, id, field, after.value(of: field))) }
        }
        return deletes.map { .delete(doc, $0.id) } + creates.map(Op.create) + sets
    }
}
