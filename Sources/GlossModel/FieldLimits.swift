/// How large each string and list of the data model may be (`Protocol/data-model.md`,
/// "Limits"). The server refuses a changeset past any of them with ``ValidationError/Code/fieldTooLarge``
/// naming the field and the limit, and stores nothing of it; the client checks the same
/// limits before it commits, so a user hears of it at once rather than at the next push.
///
/// Sizes of strings are in UTF-8 bytes. The limits are part of protocol version 1: a server
/// must accept everything within them.
public struct FieldLimits: Hashable, Sendable {
    /// A span, relation or document label; also each label a schema lists.
    public var labelBytes = 256
    public var attributeKeyBytes = 256
    public var attributeValueBytes = 4096
    /// Attributes one annotation holds at once.
    public var attributesPerAnnotation = 64
    /// The text of a note.
    public var noteBytes = 64 << 10
    /// An annotation's owner and layer: user names, which are at most 64 bytes.
    public var ownerBytes = 64
    public var rangesPerSpan = 1024
    /// A changeset's message.
    public var messageBytes = 16 << 10
    public var opsPerChangeset = 1 << 20
    /// One document's text.
    public var textBytes = 32 << 20
    /// Entries of each list of a schema: span labels, document labels, relation rules and each
    /// rule's label lists, attribute rules and each rule's values.
    public var schemaListEntries = 4096

    public init() {}

    /// The limits of protocol version 1.
    public static let v1 = FieldLimits()

    // MARK: Checks

    /// A changeset's own fields: its message, number of ops and texts.
    public func checkChangeset(message: String, opCount: Int, texts: some Collection<String>) throws(ValidationError) {
        try bytes(message, "the changeset message", messageBytes)
        try count(opCount, "ops in one changeset", opsPerChangeset)
        for text in texts { try bytes(text, "a document text", textBytes) }
    }

    /// Every string and list an op carries. Attribute counts depend on the annotation as the
    /// head has it: ``checkAttributeCount(_:)`` checks those.
    public func check(_ op: Op) throws(ValidationError) {
        switch op {
        case .create(let annotation): try check(annotation)
        case .set(_, _, let field, let value): try check(field, value)
        case .setSchema(let schema): try check(schema)
        case .delete, .addDocument, .removeDocument, .reviseText: break
        }
    }

    /// Every op of a list, a violation naming its op (index, document, annotation): what a
    /// client checks before it records a changeset.
    public func check(ops: [Op]) throws(ValidationError) {
        for (index, op) in ops.enumerated() {
            do throws(ValidationError) {
                try check(op)
            } catch {
                throw error.with(document: op.document, annotation: op.annotation, opIndex: index)
            }
        }
    }

    public func check(_ annotation: Annotation) throws(ValidationError) {
        try bytes(annotation.label, "label", labelBytes)
        try bytes(annotation.owner, "owner", ownerBytes)
        try bytes(annotation.layer, "layer", ownerBytes)
        try bytes(annotation.text, "note text", noteBytes)
        try count(annotation.ranges.count, "ranges of a span", rangesPerSpan)
        if let anchor = annotation.anchor { try count(anchor.ranges.count, "ranges of an anchor", rangesPerSpan) }
        try checkAttributeCount(annotation.attributes.count)
        for (key, value) in annotation.attributes {
            try attribute(key, value)
        }
    }

    public func check(_ field: Field, _ value: FieldValue) throws(ValidationError) {
        switch (field, value) {
        case (.label, .string(let label)): try bytes(label, "label", labelBytes)
        case (.text, .string(let text)): try bytes(text, "note text", noteBytes)
        case (.ranges, .ranges(let ranges)): try count(ranges.count, "ranges of a span", rangesPerSpan)
        case (.anchor, .anchor(let anchor)): try count(anchor.ranges.count, "ranges of an anchor", rangesPerSpan)
        case (.attribute(let key), .string(let value)): try attribute(key, value)
        case (.attribute(let key), .none): try bytes(key, "attribute key", attributeKeyBytes)
        default: break
        }
    }

    public func checkAttributeCount(_ count: Int) throws(ValidationError) {
        try self.count(count, "attributes of one annotation", attributesPerAnnotation)
    }

    public func check(_ schema: Schema) throws(ValidationError) {
        try labels(schema.spanLabels, "the schema's span labels")
        try labels(schema.documentLabels, "the schema's document labels")
        try count(schema.relations.count, "the schema's relation rules", schemaListEntries)
        for rule in schema.relations {
            try bytes(rule.label, "a relation rule's label", labelBytes)
            try labels(rule.fromLabels, "a relation rule's from labels")
            try labels(rule.toLabels, "a relation rule's to labels")
        }
        try count(schema.attributes.count, "the schema's attribute rules", schemaListEntries)
        for rule in schema.attributes {
            try bytes(rule.name, "an attribute rule's name", attributeKeyBytes)
            try count(rule.values.count, "an attribute rule's values", schemaListEntries)
            for value in rule.values { try bytes(value, "an attribute rule's value", attributeValueBytes) }
        }
    }

    // MARK: Pieces

    private func attribute(_ key: String, _ value: String) throws(ValidationError) {
        try bytes(key, "attribute key", attributeKeyBytes)
        try bytes(value, "attribute \(Self.excerpt(key))", attributeValueBytes)
    }

    private func labels(_ labels: [String], _ what: String) throws(ValidationError) {
        try count(labels.count, what, schemaListEntries)
        for label in labels { try bytes(label, "a label in \(what)", labelBytes) }
    }

    private func bytes(_ string: String, _ what: String, _ limit: Int) throws(ValidationError) {
        let size = string.utf8.count
        guard size > limit else { return }
        throw ValidationError(.fieldTooLarge, "\(what) is \(size) bytes; the limit is \(limit) bytes")
    }

    private func count(_ count: Int, _ what: String, _ limit: Int) throws(ValidationError) {
        guard count > limit else { return }
        throw ValidationError(.fieldTooLarge, "\(count) \(what); the limit is \(limit)")
    }

    /// A key as the message names it: at most 40 characters of it.
    private static func excerpt(_ key: String) -> String {
        key.count <= 40 ? key : String(key.prefix(40)) + "…"
    }
}
