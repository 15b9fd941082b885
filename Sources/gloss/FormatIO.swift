import ArgumentParser
import Foundation
import GlossClient
import GlossFormats
import GlossModel

/// The file-system and workspace edge of `gloss import` and `gloss export`: reads files into a
/// ``FormatImport``, turns it into changesets, and collects the documents an export writes.
enum FormatIO {
    /// Reads `url` (a file, or a directory of files) in a format.
    static func read(
        _ format: FormatName, at url: URL, options: ImportOptions, workspace: Workspace, document: String?,
        text: String?, mintID: () -> AnnotationID
    ) throws -> FormatImport {
        if format == .brat { return try BratCollection.importCollection(at: url, options: options, mintID: mintID) }
        let files = try inputFiles(url, format: format)
        guard document == nil || files.count == 1 else {
            throw ValidationError("--document names one document: give one file, not a directory")
        }
        var result = FormatImport()
        let progress = ProgressReporter("import")
        defer { progress.finish() }
        for (index, file) in files.enumerated() {
            progress.update(index, of: files.count)
            let name = file.path.hasPrefix(url.path + "/")
                ? String(file.path.dropFirst(url.path.count + 1)) : file.lastPathComponent
            let bytes = try readFile(file)
            let part: FormatImport
            switch format {
            case .brat:
                preconditionFailure("handled above")
            case .jsonl:
                part = try DoccanoImporter(options: options).importFile(bytes, file: name, mintID: mintID)
            case .labelstudio:
                part = try LabelStudioImporter(options: options).importFile(bytes, file: name, mintID: mintID)
            case .conll:
                let texts = try text.map { [try readText(URL(fileURLWithPath: $0))] }
                part = try CoNLLImporter(options: options, documentPrefix: document)
                    .importFile(bytes, file: name, texts: texts, mintID: mintID)
            case .w3c:
                part = try W3CAnnotationImporter(options: options)
                    .importFile(bytes, file: name, texts: try workspaceTexts(workspace), mintID: mintID)
            case .inline:
                // `news/one.inline.txt` is the document `news/one` (the path under the import root).
                let stem = document ?? Self.documentName(name, format: format)
                let id = try DocumentID(validating: stem)
                let markup = try readText(file)
                let schema = try workspace.replica.schema()
                do throws(InlineMarkupError) {
                    let imported = try InlineMarkupFormat.importDocument(
                        markup: markup, id: id, source: name, options: options, schema: schema, mintID: mintID)
                    part = FormatImport(documents: [imported])
                } catch {
                    if options.strict, let first = error.problems.first { throw first }
                    part = FormatImport(problems: error.problems)
                }
            }
            result.documents += part.documents
            result.problems += part.problems
            if let schema = part.schema { result.schema = schema }
        }
        progress.update(files.count, of: files.count)
        return result
    }

    /// What `commit` did (or, for a dry run, would do).
    struct CommitSummary {
        var documents = 0
        var newDocuments = 0
        /// Annotations created, changed, deleted, unchanged and kept, over every document.
        var tally = ImportTally()
        var layers: [String] = []
        /// Layers where annotations the files no longer hold were kept for want of the curator role.
        var protectedLayers: [String] = []
        /// Documents whose missing annotations were kept because their files had problems.
        var documentsWithProblems = 0
        /// Documents given the files' text (`--update-text`), and the spans that became anchor problems.
        var revisedTexts = 0
        var flaggedSpans = 0
        /// Documents not imported, with why.
        var skipped: [String] = []
    }

    /// How `commit` treats documents that exist already.
    enum ImportMode {
        /// Update them to what the files hold (``ImportUpdate``).
        case update
        /// Add every annotation of the files as new, as imports did before updates existed.
        case addOnly
    }

    /// Records an import as pending changesets: a new document with its annotations, or the
    /// update of one that exists with the same text to what the files hold (``ImportUpdate``);
    /// the files' schema merged into the corpus's. Split into changesets of at most about 20,000
    /// ops so that none is too big to push. A dry run plans the same and records nothing.
    static func commit(
        _ imported: FormatImport, format: FormatName, options: ImportOptions, mode: ImportMode = .update,
        updateText: Bool = false, dryRun: Bool = false, into w: Workspace
    ) throws -> CommitSummary {
        var summary = CommitSummary()
        let ids = Set(imported.documents.map(\.id))
        let existing = Dictionary(try w.localView(of: ids.intersection(try w.localDocuments().map(\.id))).map { ($0.document.id, $0.state) }) { a, _ in a }
        var batches: [(ops: [Op], texts: [TextDigest: String])] = [([], [:])]
        if let schema = imported.schema {
            let current = try w.replica.schema()
            let target = current.isOpen ? schema : current.merged(with: schema)
            if target != current { batches[0].ops.append(.setSchema(target)) }
        }
        // A file with problems has lines that were not imported: their annotations are not deleted.
        let filesWithProblems = Set(imported.problems.compactMap(\.file))
        let context = ImportUpdate.Context(
            user: w.config.user, defaultLayer: options.layer ?? options.owner, coverage: format.coverage,
            mayWriteOtherLayers: w.config.rights?.mayWriteOtherLayers ?? false)
        var layers = Set<String>()
        var protectedLayers = Set<String>()
        for document in imported.documents {
            var ops: [Op] = []
            var texts: [TextDigest: String] = [:]
            if var current = existing[document.id], let stored = current.document {
                if stored.digest != TextDigest(of: document.text) {
                    guard updateText else {
                        summary.skipped.append(
                            "\(document.source): document \(document.id) exists with another text; its annotations were not "
                                + "imported (--update-text records the file's text first, re-anchoring what the document holds)")
                        continue
                    }
                    // The file's text first: what the document holds is re-anchored to it, and
                    // the file's annotations (offsets into that text) then update the result.
                    let change = TextRevision(from: try w.text(of: stored), to: document.text)
                    let before = current.annotations.values.filter { $0.anchor == nil && $0.kind == .span }.count
                    try current.apply(.reviseText(document.id, change))
                    summary.flaggedSpans += before - current.annotations.values.filter { $0.anchor == nil && $0.kind == .span }.count
                    ops.append(.reviseText(document.id, change))
                    texts[change.to] = document.text
                    summary.revisedTexts += 1
                }
                switch mode {
                case .addOnly:
                    ops += document.annotations.map(Op.create)
                    summary.tally.created += document.annotations.count
                case .update:
                    var documentContext = context
                    let hadProblems = !filesWithProblems.isDisjoint(with: Self.files(of: document))
                    documentContext.deletesMissing = !hadProblems
                    let update = ImportUpdate.plan(document, onto: current, context: documentContext)
                    if hadProblems && update.tally.kept > 0 { summary.documentsWithProblems += 1 }
                    ops += update.ops
                    summary.tally = summary.tally + update.tally
                    protectedLayers.formUnion(update.protectedLayers)
                }
            } else {
                let added = Document(id: document.id, text: document.text, metadata: document.metadata)
                ops.append(.addDocument(added))
                texts[added.digest] = document.text
                summary.newDocuments += 1
                ops += document.annotations.map(Op.create)
                summary.tally.created += document.annotations.count
            }
            layers.formUnion(document.annotations.map(\.layer))
            summary.documents += 1
            if batches[batches.count - 1].ops.count + ops.count > 20_000 { batches.append(([], [:])) }
            batches[batches.count - 1].ops += ops
            batches[batches.count - 1].texts.merge(texts) { a, _ in a }
        }
        summary.layers = layers.sorted()
        summary.protectedLayers = protectedLayers.sorted()
        guard !dryRun else { return summary }
        let batchCount = batches.filter { !$0.ops.isEmpty }.count
        for (index, batch) in batches.enumerated() where !batch.ops.isEmpty {
            try w.commit(
                batch.ops, texts: batch.texts,
                message: "import \(format.rawValue)" + (batchCount > 1 ? " (\(index + 1)/\(batchCount))" : ""))
        }
        return summary
    }

    /// The file names a document's problems would carry: its source without the `:line` or
    /// `(record)` suffix some formats add.
    private static func files(of document: ImportedDocument) -> Set<String> {
        var names: Set<String> = [document.source]
        if let space = document.source.firstIndex(of: " ") { names.insert(String(document.source[..<space])) }
        if let colon = document.source.firstIndex(of: ":") { names.insert(String(document.source[..<colon])) }
        return names
    }

    /// The documents to export: the working state or a past revision, one layer or all.
    static func documents(of w: Workspace, at revision: Int?, filter: AnnotationFilter, only: Set<DocumentID>) throws
        -> [ExportDocument]
    {
        let all = try states(of: w, at: revision, only: only)
        try filter.check(against: all.lazy.flatMap(\.state.annotations.values), user: w.config.user)
        return all.map { doc, text, state in
            ExportDocument(id: doc.id, text: text, annotations: state.sortedAnnotations.filter(filter.matches), metadata: doc.metadata)
        }
    }

    /// Documents of the working state (pending work rebased once) or of a past revision, with
    /// their texts and states, sorted by id; `only` (when not empty) must all exist.
    static func states(of w: Workspace, at revision: Int?, only: Set<DocumentID>) throws
        -> [(document: Document, text: String, state: DocumentState)]
    {
        var states: [(Document, DocumentState)] = []
        if let revision {
            for entry in try w.replica.documents() where only.isEmpty || only.contains(entry.document.id) {
                let state = try w.state(of: entry.document.id, at: revision)
                if let doc = state.document { states.append((doc, state)) }
            }
        } else {
            states = try (only.isEmpty ? w.localView() : w.localView(of: only)).map { ($0.document, $0.state) }
        }
        let missing = only.subtracting(states.map(\.0.id))
        if let first = missing.sorted().first {
            throw WorkspaceError(.unknownDocument, "no document \(first); `gloss docs` lists them")
        }
        return try states.sorted { $0.0.id < $1.0.id }.map { doc, state in (doc, try w.text(of: doc), state) }
    }

    /// Renders documents in a format.
    static func write(_ format: FormatName, _ documents: [ExportDocument], schema: Schema, progress: ProgressReporter)
        throws -> FormatExport
    {
        progress.update(0, of: documents.count)
        defer { progress.update(documents.count, of: documents.count) }
        switch format {
        case .brat: return BratCollection.export(documents)
        case .jsonl: return DoccanoExporter().export(documents)
        case .labelstudio: return LabelStudioExporter().export(documents)
        case .conll: return CoNLLExporter().export(documents)
        case .w3c: return W3CAnnotationExporter().export(documents)
        case .inline: return InlineMarkupFormat.export(documents, schema: schema)
        }
    }

    /// Writes the files: into `destination` as a directory, or as that file when the export is
    /// one file and `destination` is not a directory. Returns how many were written.
    static func save(_ export: FormatExport, to destination: URL) throws -> Int {
        if savesAsOneFile(export, to: destination) {
            try writeFile(Data(export.files[0].contents), to: destination)
            return 1
        }
        for file in export.files {
            try writeFile(Data(file.contents), to: destination.appendingPathComponent(file.path))
        }
        return export.files.count
    }

    /// Whether ``save(_:to:)`` writes the export as the file `destination` itself.
    static func savesAsOneFile(_ export: FormatExport, to destination: URL) -> Bool {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: destination.path, isDirectory: &isDirectory)
        return export.files.count == 1 && !(exists && isDirectory.boolValue) && !destination.pathExtension.isEmpty
    }

    /// A document id from a file's path under the import root: without the format's suffix.
    static func documentName(_ relativePath: String, format: FormatName) -> String {
        for suffix in [InlineMarkupFormat.fileSuffix, ".txt", ".md", ".markup"] where relativePath.hasSuffix(suffix) {
            return String(relativePath.dropLast(suffix.count))
        }
        return relativePath
    }

    static func describe(_ unit: OffsetError.Unit) -> String {
        switch unit {
        case .scalar: "code points"
        case .utf16: "UTF-16 code units (as JavaScript tools count), converted to code points"
        case .utf8: "UTF-8 bytes, converted to code points"
        }
    }

    // MARK: Files

    private static func inputFiles(_ url: URL, format: FormatName) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw WorkspaceError(.io, "\(url.path): no such file or directory")
        }
        guard isDirectory.boolValue else { return [url] }
        let extensions: Set<String> =
            switch format {
            case .jsonl: ["jsonl", "json"]
            case .labelstudio, .w3c: ["json", "jsonld"]
            case .conll: ["conll", "txt", "bio", "iob"]
            case .inline: ["txt", "md", "markup"]
            case .brat: ["ann"]
            }
        let all = FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        let files = all.filter { extensions.contains($0.pathExtension.lowercased()) }.sorted { $0.path < $1.path }
        guard !files.isEmpty else {
            throw WorkspaceError(
                .io, "\(url.path) holds no \(extensions.sorted().map { "." + $0 }.joined(separator: "/")) files to import")
        }
        return files
    }

    private static func readFile(_ url: URL) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw WorkspaceError(.io, "cannot read \(url.path)")
        }
        return Array(data)
    }

    private static func readText(_ url: URL) throws -> String {
        let bytes = try readFile(url)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw FormatProblem(.invalidUTF8, "the file is not UTF-8", file: url.path)
        }
        return text
    }

    private static func writeFile(_ data: Data, to url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw WorkspaceError(.io, "cannot write \(url.path): \(error.localizedDescription)")
        }
    }

    /// The workspace's texts by document id, for formats that refer to documents by id.
    private static func workspaceTexts(_ w: Workspace) throws -> [String: String] {
        var texts: [String: String] = [:]
        for doc in try w.localDocuments() { texts[doc.id.rawValue] = try w.text(of: doc) }
        return texts
    }
}
