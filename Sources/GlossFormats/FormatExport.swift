import GlossModel

/// One document to export: its id, text and the annotations to write (already filtered by
/// layer and revision by the caller).
public struct ExportDocument: Sendable {
    /// The document's id (exports name files and records after it).
    public var id: DocumentID
    /// Its text.
    public var text: String
    /// The annotations to write.
    public var annotations: [Annotation]
    /// The document's metadata (see ``ImportedDocument/metadata``).
    public var metadata: [String: String]

    /// A document to export.
    public init(id: DocumentID, text: String, annotations: [Annotation], metadata: [String: String] = [:]) {
        self.id = id
        self.text = text
        self.annotations = annotations
        self.metadata = metadata
    }
}

/// What an exporter wrote: files (paths relative to the destination) and the annotations or
/// parts of them the format could not express, each reported.
public struct FormatExport: Sendable {
    /// One written file.
    public struct File: Hashable, Sendable {
        /// Path relative to the export destination, `/`-separated.
        public var path: String
        /// The file's bytes.
        public var contents: [UInt8]

        /// A file.
        public init(path: String, contents: [UInt8]) {
            self.path = path
            self.contents = contents
        }
    }

    /// The files, in a stable order.
    public var files: [File]
    /// What could not be written.
    public var problems: [FormatProblem]

    /// An export result.
    public init(files: [File] = [], problems: [FormatProblem] = []) {
        self.files = files
        self.problems = problems
    }
}
