import GlossModel

/// `gloss import inline` and `gloss export inline`: one inline-markup file per document
/// (`DOCUMENT-ID.inline.txt`), the text with its spans inline and document labels and other
/// spans in the trailer (see ``InlineMarkupRenderer``).
public enum InlineMarkupFormat {
    /// The suffix of an inline-markup file after the document id.
    public static let fileSuffix = ".inline.txt"

    /// Writes each document to `ID.inline.txt`. Relations and notes have no inline form: each is
    /// left out and reported as ``FormatProblem/Code/unrepresentable``.
    public static func export(_ documents: [ExportDocument], schema: Schema? = nil) -> FormatExport {
        var result = FormatExport()
        let renderer = InlineMarkupRenderer(schema: schema)
        for document in documents {
            let path = document.id.rawValue + fileSuffix
            let markup = renderer.render(text: document.text, annotations: document.annotations)
            result.files.append(FormatExport.File(path: path, contents: Array(markup.utf8)))
            for a in document.annotations.sorted(by: { $0.id < $1.id }) where a.kind == .relation || a.kind == .note {
                result.problems.append(
                    FormatProblem(
                        .unrepresentable,
                        "\(a.kind) \(a.id) is not written: inline markup shows spans and document labels only",
                        file: path))
            }
        }
        return result
    }

    /// Reads one inline-markup file as a new document: the text outside the markup becomes the
    /// document's text, every span and document label a new annotation in `options.layer` (or
    /// the owner's layer). Problems are always fatal: a partly read file would shift offsets.
    ///
    /// - Throws: ``InlineMarkupError`` with every problem (checked against `schema`).
    public static func importDocument(
        markup: String, id: DocumentID, source: String, options: ImportOptions, schema: Schema = .open,
        mintID: () -> AnnotationID
    ) throws(InlineMarkupError) -> ImportedDocument {
        let content = try InlineMarkupParser(schema: schema, file: source).parse(markup, originalText: nil)
        let layer = options.layer ?? options.owner
        var annotations: [Annotation] = []
        for span in content.spans {
            annotations.append(
                Annotation(
                    id: mintID(), document: id, kind: .span, layer: layer, owner: options.owner, label: span.label,
                    ranges: span.ranges, attributes: span.attributes))
        }
        for label in content.documentLabels {
            annotations.append(
                Annotation(
                    id: mintID(), document: id, kind: .documentLabel, layer: layer, owner: options.owner,
                    label: label.label, attributes: label.attributes))
        }
        return ImportedDocument(
            id: id, text: content.text, annotations: annotations, offsetUnit: .scalar, source: source)
    }
}
