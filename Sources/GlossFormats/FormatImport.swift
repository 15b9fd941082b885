import GlossModel

/// What an importer made of another tool's files: documents with their texts and annotations,
/// the schema the files declare (if any) and every problem found, in file and line order.
public struct FormatImport: Sendable {
    /// The documents, in the order the files list them.
    public var documents: [ImportedDocument]
    /// The schema the files declare (brat's annotation.conf); nil when the format has none, and
    /// the corpus keeps its own.
    public var schema: Schema?
    /// Every problem; lines with problems that prevent their import are skipped, the rest imported.
    public var problems: [FormatProblem]

    /// An import result.
    public init(documents: [ImportedDocument] = [], schema: Schema? = nil, problems: [FormatProblem] = []) {
        self.documents = documents
        self.schema = schema
        self.problems = problems
    }
}

/// One document read from another tool's files.
public struct ImportedDocument: Sendable {
    /// The document's id in Gloss, derived from its name in the files.
    public var id: DocumentID
    /// The text exactly as stored (offsets in ``annotations`` are scalars over it).
    public var text: String
    /// Its annotations, every one after the annotations it points at; offsets are scalars.
    public var annotations: [Annotation]
    /// The unit the file's offsets turned out to be in; nil when the format has no offsets
    /// (CoNLL) or the document has no spans to tell by.
    public var offsetUnit: OffsetError.Unit?
    /// Where it came from (file, and line or record when the file holds many documents), for messages.
    public var source: String
    /// Document metadata to store with a new document: what a later export of the same format
    /// needs to write the file as it was (brat keeps its original lines and ids here).
    public var metadata: [String: String]
    /// The Gloss id the file itself gives an annotation (a W3C annotation's
    /// `urn:gloss:annotation:` IRI, a Label Studio region id Gloss wrote), by the id the import
    /// minted for it. A re-import takes it as the annotation's identity when the document holds
    /// an annotation with that id (``ImportUpdate``).
    public var claimedIDs: [AnnotationID: AnnotationID]

    /// A document.
    public init(
        id: DocumentID, text: String, annotations: [Annotation], offsetUnit: OffsetError.Unit? = nil, source: String,
        metadata: [String: String] = [:], claimedIDs: [AnnotationID: AnnotationID] = [:]
    ) {
        self.id = id
        self.text = text
        self.annotations = annotations
        self.offsetUnit = offsetUnit
        self.source = source
        self.metadata = metadata
        self.claimedIDs = claimedIDs
    }
}
