/// How one annotation differs between two states of a document: what `gloss diff` lists.
public enum AnnotationChange: Hashable, Sendable {
    case added(Annotation)
    case removed(Annotation)
    /// The same annotation with some fields changed, listed in a stable order.
    case changed(before: Annotation, after: Annotation, fields: [Field])

    /// The annotation the change is about (its later form when it still exists).
    public var annotation: Annotation {
        switch self {
        case .added(let a), .removed(let a): a
        case .changed(_, let after, _): after
        }
    }
}

/// How a document differs between two states.
public struct DocumentChange: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        /// The document exists only in the later state.
        case added
        /// The document exists only in the earlier state.
        case removed
        /// The document was replaced by one with another text: every annotation is new.
        case replaced
        /// Same text; annotations changed.
        case annotations
    }

    public var document: DocumentID
    public var kind: Kind
    /// Annotation changes in text order (by first range start, then id).
    public var changes: [AnnotationChange]

    public init(document: DocumentID, kind: Kind, changes: [AnnotationChange]) {
        self.document = document
        self.kind = kind
        self.changes = changes
    }
}

extension DocumentState {
    /// How `later` differs from this state, or nil when they are equal.
    public func change(to later: DocumentState) -> DocumentChange? {
        guard let id = later.document?.id ?? document?.id else { return nil }
        let kind: DocumentChange.Kind
        switch (document, later.document) {
        case (nil, nil): return nil
        case (nil, _): kind = .added
        case (_, nil): kind = .removed
        case (let a?, let b?): kind = a.digest == b.digest ? .annotations : .replaced
        }
        // A new or replaced text makes every annotation new: compare against nothing.
        let before = kind == .replaced || kind == .added ? [:] : annotations
        let after = kind == .removed ? [:] : later.annotations
        var changes: [AnnotationChange] = []
        for (id, a) in before {
            guard let b = after[id] else {
                changes.append(.removed(a))
                continue
            }
            guard a != b else { continue }
            let fields = a.changedFields(to: b)
            changes.append(.changed(before: a, after: b, fields: fields))
        }
        for (id, b) in after where before[id] == nil { changes.append(.added(b)) }
        guard kind != .annotations || !changes.isEmpty else { return nil }
        changes.sort { x, y in
            (x.annotation.ranges.first?.start ?? .max, x.annotation.id) < (y.annotation.ranges.first?.start ?? .max, y.annotation.id)
        }
        return DocumentChange(document: id, kind: kind, changes: changes)
    }
}
