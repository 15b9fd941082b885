import GlossModel

/// Writes documents as doccano JSONL, one line per document, which doccano's importers and
/// ``DoccanoImporter`` read back.
///
/// Every line starts with `"id"` (the Gloss document id, so that a re-import names documents
/// the same) and `"text"`, then:
/// - a document whose spans take part in relations: `"entities": [{id, label, start_offset,
///   end_offset}]` and `"relations": [{id, from_id, to_id, type}]` (doccano's relation
///   extraction shape);
/// - otherwise, with spans: `"label": [[start, end, "LABEL"], …]` (sequence labeling);
/// - document labels: `"label": ["A", …]` (text classification) when the document has no
///   spans; next to spans they go under `"cats": ["A", …]` instead, since `label` is taken.
///
/// Layers (``Layout``): `.merged` writes every exported layer into one file and does not
/// record layers; `.filePerLayer` writes one file per layer (`<layer>.jsonl`, every document
/// in each), which imports back with ``ImportOptions/layer`` set to the layer;
/// `.userAnnotations` writes doccano 1.x lines (`"annotations": [{label, start_offset,
/// end_offset, user}]`) with the layer name as `user`, which keeps layers in one file (1.x
/// has no relations; they are reported).
///
/// Offsets are Unicode scalars (doccano's Python back end counts them) unless ``offsetUnit``
/// says otherwise. doccano has no discontinuous spans (each range becomes a span of its own),
/// attributes or notes; all of these are reported as `unrepresentable`, once per document.
public struct DoccanoExporter: Sendable {
    /// How layers are written.
    public enum Layout: Sendable, Hashable {
        /// One file; layers are not recorded.
        case merged
        /// One file per layer, named `<layer>.jsonl` (the layer slugged).
        case filePerLayer
        /// One file of doccano 1.x records whose annotations carry the layer as `user`.
        case userAnnotations
    }

    /// How layers are written.
    public var layout: Layout
    /// The layers to export; nil exports every layer.
    public var layers: Set<String>?
    /// The file name for `.merged` and `.userAnnotations`.
    public var fileName: String
    /// The unit offsets are written in.
    public var offsetUnit: OffsetError.Unit

    /// An exporter; see the properties for the parameters.
    public init(
        layout: Layout = .merged, layers: Set<String>? = nil, fileName: String = "export.jsonl",
        offsetUnit: OffsetError.Unit = .scalar
    ) {
        self.layout = layout
        self.layers = layers
        self.fileName = fileName
        self.offsetUnit = offsetUnit
    }

    /// Renders the documents (in the given order) as JSONL.
    public func export(_ documents: [ExportDocument]) -> FormatExport {
        var problems: [FormatProblem] = []
        switch layout {
        case .merged, .userAnnotations:
            var lines: [String] = []
            for document in documents {
                let annotations = document.annotations.filter { layers?.contains($0.layer) ?? true }
                let record =
                    layout == .merged
                    ? sequenceRecord(document, annotations, file: fileName, problems: &problems)
                    : userRecord(document, annotations, file: fileName, problems: &problems)
                lines.append(record.rendered())
            }
            return FormatExport(files: [Self.file(fileName, lines)], problems: problems)
        case .filePerLayer:
            var found: [String] = []
            for d in documents {
                for a in d.annotations where !found.contains(a.layer) && (layers?.contains(a.layer) ?? true) {
                    found.append(a.layer)
                }
            }
            let names = Self.fileNames(found.sorted())
            var files: [FormatExport.File] = []
            // Each document's text index and layers once, not once per layer file.
            let sources = documents.map { SourceText($0.text) }
            let byLayer = documents.map { Dictionary(grouping: $0.annotations, by: \.layer) }
            for layer in found.sorted() {
                let name = names[layer]!
                var lines: [String] = []
                for (i, document) in documents.enumerated() {
                    lines.append(
                        sequenceRecord(
                            document, byLayer[i][layer] ?? [], file: name, source: sources[i], problems: &problems
                        ).rendered())
                }
                files.append(Self.file(name, lines))
            }
            return FormatExport(files: files, problems: problems)
        }
    }

    // MARK: - Records

    /// The current doccano shapes: `label` triples, or entities and relations.
    private func sequenceRecord(
        _ document: ExportDocument, _ annotations: [Annotation], file: String, source: SourceText? = nil,
        problems: inout [FormatProblem]
    ) -> JSONValue {
        let source = source ?? SourceText(document.text)
        var omitted = Omissions()
        var spans: [(annotation: Annotation, range: TextRange, fragment: Int)] = []
        var documentLabels: [String] = []
        for a in annotations {
            switch a.kind {
            case .span:
                guard let fragments = fileFragments(a, source, document.id, file, &problems) else { continue }
                if fragments.count > 1 { omitted.add("discontinuous spans (written as one span per range)") }
                for (i, f) in fragments.enumerated() { spans.append((a, f, i)) }
                if !a.attributes.isEmpty { omitted.add("span attributes", a.attributes.count) }
            case .documentLabel:
                documentLabels.append(a.label)
                if !a.attributes.isEmpty { omitted.add("document label attributes", a.attributes.count) }
            case .note: omitted.add("notes")
            case .relation: break
            }
        }
        spans.sort { ($0.range, $0.annotation.label) < ($1.range, $1.annotation.label) }
        // A relation goes from (and to) the first range of its spans.
        var entityOf: [AnnotationID: Int] = [:]
        for (i, s) in spans.enumerated() where s.fragment == 0 { entityOf[s.annotation.id] = i }
        var relations: [JSONValue] = []
        for a in annotations where a.kind == .relation {
            guard let from = a.from.flatMap({ entityOf[$0] }), let to = a.to.flatMap({ entityOf[$0] }) else {
                problems.append(
                    FormatProblem(
                        .danglingReference,
                        "document \(document.id): relation \(a.label) (\(a.id)) does not join two exported spans; "
                            + "left out", file: file))
                continue
            }
            if !a.attributes.isEmpty { omitted.add("relation attributes", a.attributes.count) }
            relations.append(
                ["id": .int(relations.count), "from_id": .int(from), "to_id": .int(to), "type": .string(a.label)])
        }
        var members: [(String, JSONValue)] = [("id", .string(document.id.rawValue)), ("text", .string(document.text))]
        if !relations.isEmpty {
            let entities = spans.enumerated().map { i, s -> JSONValue in
                [
                    "id": .int(i), "label": .string(s.annotation.label), "start_offset": .int(s.range.start),
                    "end_offset": .int(s.range.end),
                ]
            }
            members.append(("entities", .array(entities)))
            members.append(("relations", .array(relations)))
        } else if !spans.isEmpty {
            let triples = spans.map { s -> JSONValue in
                [.int(s.range.start), .int(s.range.end), .string(s.annotation.label)]
            }
            members.append(("label", .array(triples)))
        }
        if !documentLabels.isEmpty || (spans.isEmpty && relations.isEmpty) {
            let key = spans.isEmpty && relations.isEmpty ? "label" : "cats"
            members.append((key, .array(documentLabels.map { .string($0) })))
        }
        if let p = omitted.problem(document: document.id, format: "doccano", file: file) { problems.append(p) }
        return .object(members)
    }

    /// doccano 1.x: `annotations` with the layer as `user`.
    private func userRecord(
        _ document: ExportDocument, _ annotations: [Annotation], file: String, problems: inout [FormatProblem]
    ) -> JSONValue {
        let source = SourceText(document.text)
        var omitted = Omissions()
        var items: [(key: (Int, Int, String, String), value: JSONValue)] = []
        for a in annotations {
            switch a.kind {
            case .span:
                guard let fragments = fileFragments(a, source, document.id, file, &problems) else { continue }
                if fragments.count > 1 { omitted.add("discontinuous spans (written as one span per range)") }
                for f in fragments {
                    items.append(
                        (
                            (f.start, f.end, a.layer, a.label),
                            [
                                "label": .string(a.label), "start_offset": .int(f.start), "end_offset": .int(f.end),
                                "user": .string(a.layer),
                            ]
                        ))
                }
                if !a.attributes.isEmpty { omitted.add("span attributes", a.attributes.count) }
            case .documentLabel:
                items.append(((-1, -1, a.layer, a.label), ["label": .string(a.label), "user": .string(a.layer)]))
            case .relation: omitted.add("relations")
            case .note: omitted.add("notes")
            }
        }
        items.sort { $0.key < $1.key }
        if let p = omitted.problem(document: document.id, format: "doccano 1.x", file: file) { problems.append(p) }
        return [
            "id": .string(document.id.rawValue), "text": .string(document.text),
            "annotations": .array(items.map(\.value)),
        ]
    }

    // MARK: - Helpers

    /// A span's ranges in the output unit, or nil (reported) when they are not inside the text.
    private func fileFragments(
        _ a: Annotation, _ source: SourceText, _ document: DocumentID, _ file: String,
        _ problems: inout [FormatProblem]
    ) -> [TextRange]? {
        guard !a.ranges.isEmpty, let fragments = try? source.fragments(a.ranges, unit: offsetUnit) else {
            problems.append(
                FormatProblem(
                    .offsetsOutOfBounds,
                    "document \(document): span \(a.label) (\(a.id)) has no ranges or ranges outside the text; left out",
                    file: file))
            return nil
        }
        return fragments
    }

    private static func file(_ name: String, _ lines: [String]) -> FormatExport.File {
        FormatExport.File(path: name, contents: Array(lines.map { $0 + "\n" }.joined().utf8))
    }

    /// `<layer>.jsonl` per layer, slugged and made unique.
    private static func fileNames(_ layers: [String]) -> [String: String] {
        var naming = DocumentNaming()
        var names: [String: String] = [:]
        for layer in layers {
            let slug = (DocumentNaming.slug(layer) ?? "layer").split(separator: "/").joined(separator: "-")
            names[layer] = naming.claim(slug, fallback: "layer").id.rawValue + ".jsonl"
        }
        return names
    }
}
