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
        /// The same document with a revised text: its annotations moved, were flagged, or changed.
        case textRevised = "text revised"
    }

    public var document: DocumentID
    public var kind: Kind
    /// Annotation changes in text order (by first range start, then id).
    public var changes: [AnnotationChange]
    /// The texts before and after, when the kind is ``Kind/textRevised``.
    public var texts: (before: TextDigest, after: TextDigest)?

    public init(
        document: DocumentID, kind: Kind, changes: [AnnotationChange], texts: (before: TextDigest, after: TextDigest)? = nil
    ) {
        self.document = document
        self.kind = kind
        self.changes = changes
        self.texts = texts
    }

    public static func == (a: DocumentChange, b: DocumentChange) -> Bool {
        a.document == b.document && a.kind == b.kind && a.changes == b.changes && a.texts?.before == b.texts?.before
            && a.texts?.after == b.texts?.after
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(document)
        hasher.combine(kind)
        hasher.combine(changes)
        hasher.combine(texts?.before)
        hasher.combine(texts?.after)
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
        case (let a?, let b?):
            // A revision keeps the annotations (re-anchored); a removal and a new addition makes
            // them all new, with new ids: any annotation in both says which it was.
            if a.digest == b.digest {
                kind = .annotations
            } else {
                kind = annotations.keys.contains { later.annotations[$0] != nil } ? .textRevised : .replaced
            }
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
        let texts = kind == .textRevised ? (document!.digest, later.document!.digest) : nil
        return DocumentChange(document: id, kind: kind, changes: changes, texts: texts)
    }
}
