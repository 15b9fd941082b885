import ArgumentParser
import Foundation
import GlossClient
import GlossFormats
import GlossModel

/// The formats `gloss import` and `gloss export` speak.
enum FormatName: String, ExpressibleByArgument, CaseIterable {
    case brat, jsonl, labelstudio, conll, w3c, inline

    var summary: String {
        switch self {
        case .brat: "brat standoff: a directory of .txt/.ann pairs (annotation.conf becomes the schema)"
        case .jsonl: "doccano JSONL (label, labels, entities+relations and annotations variants)"
        case .labelstudio: "Label Studio JSON export (one layer per annotator)"
        case .conll: "CoNLL, IOB1 or IOB2, token per line"
        case .w3c: "W3C Web Annotation JSON-LD (TextPositionSelector + TextQuoteSelector)"
        case .inline: "inline markup: [text](LABEL), one .txt/.md file per document"
        }
    }

    /// What the format holds, for re-imports (``ImportCoverage``).
    var coverage: ImportCoverage {
        switch self {
        case .brat: .brat
        case .jsonl: .doccano
        case .labelstudio: .labelStudio
        case .conll: .conll
        case .w3c: .w3c
        case .inline: .inlineMarkup
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import annotations (and new documents) from another tool's files.",
        discussion: HelpText.reflow(
            """
            Formats: \(FormatName.allCases.map(\.rawValue).joined(separator: ", ")).
            Every problem is reported with its file and line, and the rest is imported; --strict
            makes any problem fatal. Offsets counted in code points or UTF-16 units are detected
            from the span texts the files record, and reported. New documents need the corpus
            owner role; --layer writes into that annotator's layer (curators and owners).
            Importing into documents that exist is an update: annotations keep their ids (from
            brat's round-trip record, Gloss ids in W3C and Label Studio files, or an exact match
            of layer, label and ranges); changed fields are set, and annotations the files no
            longer hold are deleted, in the layers the import covers and only in your own layer
            unless you are a curator. Importing the same files twice changes nothing. --dry-run
            shows what an import would do; --add-only adds every annotation as new. A document that
            exists with another text is skipped, unless --update-text (corpus owners): then the
            file's text is recorded first (as `gloss doc update` does, re-anchoring what the
            document holds) and its annotations update the result.
            Examples:
              gloss import brat corpus/ann/
              gloss import jsonl novels.jsonl              (one layer per doccano user)
              gloss import labelstudio export.json --layer alice
              gloss import conll wikigold.conll.txt --strict
              gloss import brat corpus/ann/ --dry-run      (after editing exported files)
            Then `gloss sync` to share the result.
            """))
    @Argument(help: "brat, jsonl, labelstudio, conll, w3c or inline.") var format: FormatName
    @Argument(help: "A file or a directory.") var path: String
    @Option(help: "Write every annotation into this annotator's layer.") var layer: String?
    /// The spelling before `--layer` (`--author` names a user elsewhere).
    @Option(name: .customLong("author"), help: .hidden) var legacyLayer: String?
    @Flag(help: "Make any problem fatal: nothing is imported.") var strict = false
    @Flag(help: "Show what the import would create, change and delete; record nothing.") var dryRun = false
    @Flag(help: "Add every annotation as new, even in documents that hold them already.") var addOnly = false
    @Flag(
        help: "A document that exists with another text gets the file's text first (owners): what it holds is re-anchored, then updated."
    ) var updateText = false
    @Option(help: "The document id, for a single-document file (CoNLL, inline).") var document: String?
    @Option(help: "CoNLL: the document text to align the tokens to (default: rebuilt from the tokens).")
    var text: String?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            let url = URL(fileURLWithPath: path)
            if legacyLayer != nil { warn("note: --author is now --layer here (`gloss log --author` names a user)") }
            let options = ImportOptions(owner: w.config.user, layer: layer ?? legacyLayer, strict: strict)
            let imported = try w.mintingIDs { mint in
                try FormatIO.read(format, at: url, options: options, workspace: w, document: document, text: text, mintID: mint)
            }
            for problem in imported.problems { warn("warning: \(problem)") }
            let units = Dictionary(grouping: imported.documents.compactMap(\.offsetUnit), by: { $0 })
            for (unit, list) in units.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                note("offsets counted in \(FormatIO.describe(unit)) in \(list.count) document(s)")
            }
            let summary = try FormatIO.commit(
                imported, format: format, options: options, mode: addOnly ? .addOnly : .update, updateText: updateText,
                dryRun: dryRun, into: w)
            let t = summary.tally
            note(
                (dryRun ? "would import: " : "imported: ")
                    + "\(t.created) created, \(t.changed) changed, \(t.deleted) deleted, \(t.unchanged) unchanged"
                    + (t.kept > 0 ? ", \(t.kept) kept" : "")
                    + " on \(summary.documents) document(s)"
                    + (summary.newDocuments > 0 ? " (\(summary.newDocuments) new)" : "")
                    + (summary.layers.isEmpty ? "" : " in layer(s) \(summary.layers.joined(separator: ", "))")
                    + (imported.problems.isEmpty ? "" : "; \(imported.problems.count) problem(s) reported above")
                    + (dryRun ? "; nothing recorded" : t.isEmpty && summary.newDocuments == 0 ? "; nothing to record" : "; `gloss sync` to share"))
            if summary.revisedTexts > 0 {
                note(
                    "\(dryRun ? "would give" : "gave") \(summary.revisedTexts) document(s) the files' text; "
                        + "\(summary.flaggedSpans) span(s) whose text changed are anchor problems (`gloss conflicts`)")
            }
            if !summary.protectedLayers.isEmpty {
                note(
                    "kept annotations the files no longer hold in layer(s) \(summary.protectedLayers.joined(separator: ", ")): "
                        + "deleting in another annotator's layer needs the curator role")
            }
            if summary.documentsWithProblems > 0 {
                note(
                    "kept annotations the files no longer hold in \(summary.documentsWithProblems) document(s) whose files "
                        + "had problems: fix them and import again to delete")
            }
            for skipped in summary.skipped { warn("warning: \(skipped)") }
        }
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export documents and annotations for another tool.",
        discussion: HelpText.reflow(
            """
            DEST is a directory (brat, w3c, inline write a file per document) or a file (jsonl,
            labelstudio, conll). Documents imported from brat export with their original lines
            and ids, so an unedited import exports to the same bytes.
            Examples:
              gloss export brat out/
              gloss export jsonl alice.jsonl --layer alice --at 42
              gloss export w3c annotations/ --doc news-1
            """))
    @Argument(help: "brat, jsonl, labelstudio, conll, w3c or inline.") var format: FormatName
    @Argument(help: "The file or directory to write.") var destination: String
    @OptionGroup var filter: AnnotationFilter
    @Option(help: "As the corpus was at this revision (default: your working state).") var at: Int?
    @Option(name: .customLong("doc"), help: "Only this document (repeatable).") var documents: [String] = []
    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            let wanted = Set(try documents.map { try DocumentID(validating: $0) })
            let docs = try FormatIO.documents(of: w, at: at, filter: filter, only: wanted)
            let progress = ProgressReporter("export")
            let exported = try FormatIO.write(format, docs, schema: try w.replica.schema(), progress: progress)
            progress.finish()
            // A one-file export is written to DEST itself: name that in the warnings, not the
            // exporter's default file name.
            let asFile = FormatIO.savesAsOneFile(exported, to: URL(fileURLWithPath: destination))
            for var problem in exported.problems {
                if asFile, problem.file == exported.files.first?.path { problem.file = destination }
                warn("warning: \(problem)")
            }
            let written = try FormatIO.save(exported, to: URL(fileURLWithPath: destination))
            note(
                "exported \(docs.reduce(0) { $0 + $1.annotations.count }) annotation(s) of \(docs.count) document(s) "
                    + "to \(written) file(s) in \(destination)"
                    + (exported.problems.isEmpty ? "" : "; \(exported.problems.count) problem(s) reported above"))
        }
    }
}
