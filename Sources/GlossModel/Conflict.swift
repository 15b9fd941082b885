import Crypto

/// A real conflict between a changeset ("mine") and revisions accepted since its base
/// ("theirs"). It holds the ops of mine that it blocks, so that resolving it yields the ops
/// to apply instead; nothing is silently dropped.
public struct Conflict: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// Both sides set the same field to different values.
        case field(Field)
        /// Mine edits an annotation that theirs deleted.
        case editDelete
        /// Mine deletes an annotation that theirs edited.
        case deleteEdit
        /// A relation or note refers to an annotation the other side deleted. ``Conflict/reference``
        /// names the referring annotation when it is theirs, the deleted one when it is mine.
        case danglingReference
        /// Both sides replaced the schema, differently.
        case schema
        /// Mine touches a document that theirs removed.
        case documentRemoved
        /// Theirs revised the document's text since mine's base: mine revises it too (from the
        /// old text), or places offsets that this head cannot carry over to the new text (a
        /// client pulls and rebases them, with the same check, on a head that can).
        case textRevised
    }

    public var kind: Kind
    public var document: DocumentID?
    public var annotation: AnnotationID?
    /// Mine's value, for a field conflict.
    public var mine: FieldValue?
    /// Theirs' current value, for a field conflict.
    public var theirs: FieldValue?
    /// The revision of theirs that conflicts.
    public var theirRevision: Int
    /// The other annotation involved in a dangling reference.
    public var reference: AnnotationID?
    /// Theirs' last state of the annotation involved, for resurrecting it.
    public var theirState: Annotation?
    /// Further annotations theirs deleted that the held-back ops refer to (a relation whose
    /// two endpoints were both deleted), revived along with ``theirState`` when keeping mine.
    public var alsoDeleted: [Annotation] = []
    /// The ops of mine this conflict holds back.
    public var ops: [Op]

    public init(
        kind: Kind, document: DocumentID?, annotation: AnnotationID?, mine: FieldValue? = nil,
        theirs: FieldValue? = nil, theirRevision: Int, reference: AnnotationID? = nil,
        theirState: Annotation? = nil, ops: [Op]
    ) {
        self.kind = kind
        self.document = document
        self.annotation = annotation
        self.mine = mine
        self.theirs = theirs
        self.theirRevision = theirRevision
        self.reference = reference
        self.theirState = theirState
        self.ops = ops
    }

    /// A stable id (hex), the same on every machine for the same conflict, for `gloss resolve`.
    public var id: String {
        var key = "\(kindName)|\(document?.rawValue ?? "")|\(annotation?.description ?? "")|\(theirRevision)"
        if case .field(let f) = kind { key += "|\(f)" }
        if let reference { key += "|\(reference)" }
        return Self.stableID(key)
    }

    /// The first 10 bytes of the key's SHA-256, in hex.
    static func stableID(_ key: String) -> String {
        SHA256.hash(data: Array(key.utf8)).prefix(10).map { String(format2: $0) }.joined()
    }

    public var kindName: String {
        switch kind {
        case .field: "field"
        case .editDelete: "edit/delete"
        case .deleteEdit: "delete/edit"
        case .danglingReference: "dangling-reference"
        case .schema: "schema"
        case .documentRemoved: "document-removed"
        case .textRevised: "text-revised"
        }
    }

    public var description: String {
        var s = "\(kindName) conflict"
        if case .field(let f) = kind { s += " on \(f)" }
        if let annotation { s += " of \(annotation)" }
        if let document { s += " in \(document)" }
        if let mine, let theirs { s += ": mine \(mine), theirs \(theirs)" }
        if let reference { s += " (reference \(reference))" }
        return s + " (their revision \(theirRevision))"
    }
}
