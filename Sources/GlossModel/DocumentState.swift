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
