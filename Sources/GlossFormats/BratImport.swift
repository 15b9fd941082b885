import GlossModel

/// What ``BratImporter`` made of one `.ann` file: the Gloss annotations, the brat id of each,
/// the file's round-trip record and every problem found.
///
/// Hand `document` and `bratIDs` back to ``BratExporter`` (after editing `annotations` as
/// you like) to write the file again with its original ids, order and extras.
public struct BratImport: Sendable {
    /// The parsed file, with ``BratDocument/offsetUnit`` set to the unit that was detected.
    public var document: BratDocument
    /// Spans first, then relations, then notes, each in file order, so that every annotation
    /// comes after the ones it points at.
    public var annotations: [Annotation]
    /// The brat id of every imported annotation:
    /// - a span from a `T` line: its id (`"T5"`);
    /// - the span of an event that shares its trigger with an earlier event: the event id (`"E2"`);
    /// - a relation from an `R` line: its id (`"R2"`);
    /// - a relation for an event argument: the event id and the role as written, separated by
    ///   a space (`"E1 Theme2"`); a space never occurs in a brat id, so this cannot clash;
    /// - a note from a `#` line: its id (`"#1"`).
    ///
    /// Attributes need no entry: they live on their annotation, and the exporter finds their
    /// `A` ids in ``document``.
    public var bratIDs: [AnnotationID: String]
    /// Every problem, in line order. Lines with problems that prevent their import are kept
    /// verbatim in ``document`` and written back unchanged.
    public var problems: [FormatProblem]

    /// The unit the file's offsets turned out to be in (`.scalar` for brat itself, `.utf16`
    /// for files written by JavaScript tools); offsets in ``annotations`` are always scalars.
    public var offsetUnit: OffsetError.Unit { document.offsetUnit }

    /// An import result.
    public init(
        document: BratDocument, annotations: [Annotation], bratIDs: [AnnotationID: String], problems: [FormatProblem]
    ) {
        self.document = document
        self.annotations = annotations
        self.bratIDs = bratIDs
        self.problems = problems
    }
}
