import GlossModel

/// What ``BratExporter`` wrote: the `.ann` text, the brat id of every annotation it wrote
/// (feed it to the next export to keep ids stable) and the annotations it could not write.
public struct BratExport: Sendable {
    /// The `.ann` file's text.
    public var ann: String
    /// The brat id of every exported annotation, in the form ``BratImport/bratIDs`` uses.
    public var bratIDs: [AnnotationID: String]
    /// Annotations (or parts of them) brat cannot express, and references to annotations not
    /// exported; each was left out of ``ann``.
    public var problems: [FormatProblem]

    /// The `.ann` file's UTF-8 bytes.
    public var annUTF8: [UInt8] { Array(ann.utf8) }

    /// An export result.
    public init(ann: String, bratIDs: [AnnotationID: String], problems: [FormatProblem]) {
        self.ann = ann
        self.bratIDs = bratIDs
        self.problems = problems
    }
}
