/// Checks one annotation against the corpus schema and its document's text.
///
/// Reference checks (that `from`/`to`/`target` exist and are live) need the head state and
/// live in ``AcceptanceCheck``; this type only needs the annotation, schema and text length.
public struct Validator: Sendable {
    public var schema: Schema

    public init(schema: Schema) { self.schema = schema }

    /// Validates every field the annotation's kind uses, and that it uses no other.
    public func validate(_ a: Annotation, documentLength: Int) throws(ValidationError) {
        do throws(ValidationError) {
            try validateShape(a)
            switch a.kind {
            case .span:
                // A span whose text a revision removed has no ranges until someone places it
                // again; its anchor says where it was.
                if !(a.ranges.isEmpty && a.anchor != nil) {
                    try validateRanges(a.ranges, documentLength: documentLength)
                }
                if let anchor = a.anchor { try validateAnchor(anchor) }
                try validateLabel(a.label, allowed: schema.spanLabels, what: "span")
            case .relation:
                guard schema.isOpen || schema.relationRule(a.label) != nil else {
                    throw unknownLabel(a.label, what: "relation", allowed: schema.relations.map(\.label))
                }
            case .documentLabel:
                try validateLabel(a.label, allowed: schema.documentLabels, what: "document")
            case .note:
                break
            }
            for (key, value) in a.attributes.sorted(by: { $0.key < $1.key }) {
                try validateAttribute(key, value)
            }
        } catch {
            throw error.with(document: a.document, annotation: a.id, opIndex: nil)
        }
    }

    /// Checks that a relation's label allows the labels of its arguments.
    public func validateArguments(relation: Annotation, from: Annotation, to: Annotation) throws(ValidationError) {
        for arg in [from, to] where arg.kind == .note {
            throw ValidationError(
                .relationNotAllowed, "a relation cannot point at note \(arg.id)", document: relation.document,
                annotation: relation.id)
        }
        guard !schema.isOpen, let rule = schema.relationRule(relation.label) else { return }
        if !rule.fromLabels.isEmpty && !rule.fromLabels.contains(from.label) {
            throw ValidationError(
                .relationNotAllowed,
                "relation \"\(relation.label)\" cannot start at a \"\(from.label)\" (allowed: \(rule.fromLabels.joined(separator: ", ")))",
                document: relation.document, annotation: relation.id)
        }
        if !rule.toLabels.isEmpty && !rule.toLabels.contains(to.label) {
            throw ValidationError(
                .relationNotAllowed,
                "relation \"\(relation.label)\" cannot end at a \"\(to.label)\" (allowed: \(rule.toLabels.joined(separator: ", ")))",
                document: relation.document, annotation: relation.id)
        }
    }

    /// Ranges must be non-empty as a list, inside `[0, documentLength]`, ascending and non-overlapping.
    public func validateRanges(_ ranges: [TextRange], documentLength: Int) throws(ValidationError) {
        guard !ranges.isEmpty else { throw ValidationError(.emptyRanges, "a span needs at least one range") }
        var previous: TextRange?
        for r in ranges {
            if r.start > r.end {
                throw ValidationError(.invertedRange, "range \(r) starts after it ends")
            }
            if r.start < 0 || r.end > documentLength {
                throw ValidationError(
                    .rangeOutOfBounds, "range \(r) is outside the text (0-\(documentLength))")
            }
            if let p = previous {
                if p.overlaps(r) || (p.start == r.start && p.end == r.end) {
                    throw ValidationError(.overlappingRanges, "ranges \(p) and \(r) overlap")
                }
                if r.start < p.end {
                    throw ValidationError(.unsortedRanges, "range \(r) comes after \(p); list ranges in ascending order")
                }
            }
            previous = r
        }
    }

    /// An anchor's ranges are offsets into another text, whose length is not known here: they
    /// need only be a valid range list.
    func validateAnchor(_ anchor: TextAnchor) throws(ValidationError) {
        do throws(ValidationError) {
            try validateRanges(anchor.ranges, documentLength: Int.max)
        } catch {
            throw ValidationError(error.code, "anchor: \(error.message)")
        }
    }

    func validateAttribute(_ key: String, _ value: String) throws(ValidationError) {
        if key.isEmpty { throw ValidationError(.unknownAttribute, "attribute name is empty") }
        guard !schema.isOpen else { return }
        guard let rule = schema.attributeRule(key) else {
            throw ValidationError(
                .unknownAttribute,
                "attribute \"\(key)\" is not in the schema (known: \(schema.attributes.map(\.name).joined(separator: ", ")))")
        }
        if !rule.values.isEmpty && !rule.values.contains(value) {
            throw ValidationError(
                .unknownAttributeValue,
                "attribute \"\(key)\" cannot be \"\(value)\" (allowed: \(rule.values.joined(separator: ", ")))")
        }
    }

    private func validateLabel(_ label: String, allowed: [String], what: String) throws(ValidationError) {
        if label.isEmpty { throw ValidationError(.unknownLabel, "\(what) label is empty") }
        if !schema.isOpen && !allowed.contains(label) { throw unknownLabel(label, what: what, allowed: allowed) }
    }

    private func unknownLabel(_ label: String, what: String, allowed: [String]) -> ValidationError {
        ValidationError(
            .unknownLabel,
            "\(what) label \"\(label)\" is not in the schema (known: \(allowed.joined(separator: ", ")))")
    }

    /// Fields a kind does not use must be empty, so that two encodings of one annotation agree.
    private func validateShape(_ a: Annotation) throws(ValidationError) {
        if a.layer.isEmpty || a.owner.isEmpty {
            throw ValidationError(.invalidField, "layer and owner must not be empty")
        }
        let unused: [(Bool, String)] = [
            (a.kind != .span && !a.ranges.isEmpty, "ranges"),
            (a.kind != .relation && (a.from != nil || a.to != nil), "from/to"),
            (a.kind != .note && (a.target != nil || !a.text.isEmpty), "note target/text"),
            (a.kind == .note && (!a.label.isEmpty || !a.attributes.isEmpty), "label/attributes"),
            (a.kind != .span && a.anchor != nil, "anchor"),
        ]
        for (bad, name) in unused where bad {
            throw ValidationError(.fieldNotApplicable, "a \(a.kind) has no \(name)")
        }
        if a.kind == .relation && (a.from == nil || a.to == nil) {
            throw ValidationError(.missingReference, "a relation needs both from and to")
        }
    }
}
