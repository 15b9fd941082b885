/// One annotation: a span, relation, document label or note, in one document and one layer.
///
/// The struct is flat so that merge can treat every kind the same way, field by field;
/// ``Validator`` enforces which fields a kind uses.
public struct Annotation: Hashable, Sendable {
    public var id: AnnotationID
    public var document: DocumentID
    public var kind: AnnotationKind
    /// The layer it belongs to: by default its creator's user name; `curated` for curation.
    public var layer: String
    /// The user who created it.
    public var owner: String
    /// Label of a span, relation or document label; empty for a note.
    public var label: String
    /// The ranges of a span, sorted and non-overlapping; empty for other kinds.
    public var ranges: [TextRange]
    /// Relation arguments.
    public var from: AnnotationID?
    public var to: AnnotationID?
    /// The annotation a note is attached to; nil attaches it to the document.
    public var target: AnnotationID?
    /// The text of a note.
    public var text: String
    public var attributes: [String: String]
    /// Set on a span whose text a revision changed or removed: where it was anchored before
    /// (an anchor problem; see ``TextAnchor``). Nil for every other annotation.
    public var anchor: TextAnchor?

    public init(
        id: AnnotationID, document: DocumentID, kind: AnnotationKind, layer: String, owner: String,
        label: String = "", ranges: [TextRange] = [], from: AnnotationID? = nil, to: AnnotationID? = nil,
        target: AnnotationID? = nil, text: String = "", attributes: [String: String] = [:], anchor: TextAnchor? = nil
    ) {
        self.id = id
        self.document = document
        self.kind = kind
        self.layer = layer
        self.owner = owner
        self.label = label
        self.ranges = ranges
        self.from = from
        self.to = to
        self.target = target
        self.text = text
        self.attributes = attributes
        self.anchor = anchor
    }

    public static func span(
        _ id: AnnotationID, in document: DocumentID, _ ranges: [TextRange], label: String, owner: String,
        layer: String? = nil, attributes: [String: String] = [:]
    ) -> Annotation {
        Annotation(
            id: id, document: document, kind: .span, layer: layer ?? owner, owner: owner, label: label,
            ranges: ranges, attributes: attributes)
    }

    public static func relation(
        _ id: AnnotationID, in document: DocumentID, from: AnnotationID, to: AnnotationID, label: String,
        owner: String, layer: String? = nil
    ) -> Annotation {
        Annotation(
            id: id, document: document, kind: .relation, layer: layer ?? owner, owner: owner, label: label,
            from: from, to: to)
    }

    /// The annotations this one points at (relation arguments, note target).
    public var references: [AnnotationID] { [from, to, target].compactMap { $0 } }

    /// Whether ``references`` is not empty, without building it (spans, most of a corpus, have none).
    public var hasReferences: Bool { from != nil || to != nil || target != nil }

    public func value(of field: Field) -> FieldValue {
        switch field {
        case .label: .string(label)
        case .ranges: .ranges(ranges)
        case .from: from.map(FieldValue.reference) ?? .none
        case .to: to.map(FieldValue.reference) ?? .none
        case .text: .string(text)
        case .attribute(let key): attributes[key].map(FieldValue.string) ?? .none
        case .anchor: anchor.map(FieldValue.anchor) ?? .none
        }
    }

    /// Sets a field. Throws when the value's type does not fit the field.
    public mutating func set(_ field: Field, to value: FieldValue) throws(ValidationError) {
        switch (field, value) {
        case (.label, .string(let s)): label = s
        case (.ranges, .ranges(let r)): ranges = r
        case (.from, .reference(let r)): from = r
        case (.to, .reference(let r)): to = r
        case (.text, .string(let s)): text = s
        case (.attribute(let key), .string(let s)): attributes[key] = s
        case (.attribute(let key), .none): attributes[key] = nil
        case (.anchor, .anchor(let a)): anchor = a
        case (.anchor, .none): anchor = nil
        default:
            throw ValidationError(
                .fieldNotApplicable, "value \(value) does not fit field \(field)", document: document,
                annotation: id)
        }
    }

    /// The fields whose values differ from `other`'s (the same annotation at another time), in
    /// a stable order: label, ranges, from, to, text, anchor, then attributes by key; only fields
    /// that apply to the annotation's kind.
    public func changedFields(to other: Annotation) -> [Field] {
        var fields: [Field] = [.label, .ranges, .from, .to, .text, .anchor]
        fields += Set(attributes.keys).union(other.attributes.keys).sorted().map(Field.attribute)
        return fields.filter { $0.applies(to: other.kind) && value(of: $0) != other.value(of: $0) }
    }

    /// `annotations` ordered so that each comes after the ones in the list it references
    /// (relations after their endpoints, notes after what they annotate, at any depth); ties
    /// in id order. What `create` ops need, since a reference must resolve when it is created.
    public static func referencesFirst(_ annotations: [Annotation]) -> [Annotation] {
        let byID = Dictionary(annotations.map { ($0.id, $0) }) { a, _ in a }
        var placed = Set<AnnotationID>()
        var out: [Annotation] = []
        out.reserveCapacity(annotations.count)
        func place(_ a: Annotation, depth: Int) {
            guard placed.insert(a.id).inserted else { return }
            // A cycle cannot be valid; the depth bound only keeps bad input from recursing forever.
            if depth < annotations.count {
                for r in a.references.sorted() { if let target = byID[r] { place(target, depth: depth + 1) } }
            }
            out.append(a)
        }
        for a in annotations.sorted(by: { $0.id < $1.id }) { place(a, depth: 0) }
        return out
    }

    /// Every field that currently holds a value (for conflict checks on delete, and what a
    /// creation sets).
    public var populatedFields: [Field] {
        var fields: [Field] = []
        switch kind {
        case .span: fields = [.label, .ranges]
        case .relation: fields = [.label, .from, .to]
        case .documentLabel: fields = [.label]
        case .note: fields = [.text]
        }
        if anchor != nil { fields.append(.anchor) }
        return fields + attributes.keys.sorted().map(Field.attribute)
    }
}
