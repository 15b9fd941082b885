import ArgumentParser
import Foundation
import GlossClient
import GlossFormats
import GlossModel

struct Edit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Edit a document's spans and labels in $VISUAL or $EDITOR, as inline markup.",
        discussion: HelpText.reflow(
            """
            The editor opens the text with your layer's spans as [text](LABEL key=value); spans the
            markup cannot show inline (discontinuous or crossing ones) and document labels are in a
            trailer after the line `%%% gloss` (Docs/inline-markup.md has the details). Add,
            change or remove markup; the text itself must stay as it is. Saving turns your changes
            into a changeset: relabelled and resized spans keep their ids, and relations or notes
            on removed spans are removed with them.
            If the file has a problem (the text changed, a label the schema does not know, broken
            markup) nothing is recorded: the error names its line and column, and the file is kept
            in .gloss/edit/ so that `gloss edit DOC` opens it again to fix.
            Examples:
              gloss edit news-1
              EDITOR="code --wait" gloss edit news-1 --layer curated
            """))
    @Argument(help: "The document id.") var document: String
    @Option(help: "The layer to edit (default: your own).") var layer: String?
    @Flag(help: "Discard a kept edit of this document and start from its current state.") var fresh = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            let (id, state, text) = try workingDocument(w, document)
            let layer = self.layer ?? w.config.user
            let schema = try w.replica.schema()
            let view = state.sortedAnnotations.filter { $0.layer == layer && ($0.kind == .span || $0.kind == .documentLabel) }

            let file = w.root.appendingPathComponent(Workspace.directoryName).appendingPathComponent("edit")
                .appendingPathComponent(id.rawValue + InlineMarkupFormat.fileSuffix)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            if fresh || !FileManager.default.fileExists(atPath: file.path) {
                let markup = InlineMarkupRenderer(schema: schema, alwaysWriteTrailer: true).render(text: text, annotations: view)
                try Data(markup.utf8).write(to: file)
            } else {
                warn("reopening your unfinished edit of \(id) (--fresh starts over)")
            }

            try EditorLauncher().edit(file)

            let markup = String(decoding: try Data(contentsOf: file), as: UTF8.self)
            let edited: InlineMarkupContent
            do throws(InlineMarkupError) {
                edited = try InlineMarkupParser(schema: schema, file: file.path).parse(markup, originalText: text, original: view)
            } catch {
                for problem in error.problems { warn("error: \(problem)") }
                warn("nothing was recorded; your edit is kept: run `gloss edit \(id)` to fix it, or add --fresh to discard it")
                throw ExitCode(Failure.refused)
            }
            let diff = try w.mintingIDs { mint in
                InlineMarkupDiff(
                    original: view, edited: edited, document: id, annotations: state.sortedAnnotations,
                    owner: w.config.user, layer: layer, mintID: mint)
            }
            try? FileManager.default.removeItem(at: file)
            guard !diff.isEmpty else {
                note("no changes")
                return
            }
            try w.commit(diff.ops, message: "edit \(id)")
            note(
                "recorded \(diff.created.count) new, \(diff.changed.count) changed and \(diff.deleted.count) removed annotation(s)"
                    + (diff.cascaded.isEmpty ? "" : "; also removed \(diff.cascaded.count) relation(s)/note(s) on removed spans")
                    + "; `gloss sync` to share")
        }
    }
}
