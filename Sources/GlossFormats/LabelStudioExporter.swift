import GlossModel

/// Writes documents as a Label Studio JSON task list that Label Studio imports (tasks with
/// `data` and `annotations`) and ``LabelStudioImporter`` reads back.
///
/// Per document, one task: `data.text` (or ``textField``) holds the text; two extra data
/// fields, which Label Studio keeps and exports again, record Gloss's names:
/// `data.gloss_document` (the document id) and `data.gloss_layers` (the layer of each
/// annotation, in order). Each layer becomes one annotation of the task, with
/// `completed_by` set to `<id>` when the layer is `annotator-<id>` (Label Studio user ids).
///
/// Results (their `from_name`/`to_name` must match the project's labelling config; see the
/// control name properties):
/// - a span: a `labels` region `{start, end, text, labels: [label]}`, with its Gloss id as the
///   region id; a discontinuous span becomes one region per range (reported);
/// - a span attribute: a per-region `choices` result named after the attribute;
/// - a note on a span: a per-region `textarea`; a note on the document: a `textarea`;
/// - document labels: one `choices` result per layer, or `taxonomy` paths split at `/`
///   when ``taxonomy`` is set;
/// - a relation: a `relation` result (`direction` `right`, or `bi` when its `direction`
///   attribute says so) between regions of the same layer.
/// Notes on relations, document labels or notes, other relation attributes, and relations
/// whose ends are not spans of the same layer have no Label Studio form and are reported.
///
/// Offsets are written in UTF-16 code units (as Label Studio counts) unless ``offsetUnit``
/// says otherwise.
public struct LabelStudioExporter: Sendable {
    /// The output file's name.
    public var fileName: String
    /// The `data` field for the text (the `$text` of the labelling config).
    public var textField: String
    /// `from_name` of span regions (the `<Labels name=…>` control).
    public var labelsName: String
    /// `from_name` of document labels (the `<Choices>` or `<Taxonomy>` control).
    public var choicesName: String
    /// `from_name` of notes (a `<TextArea>` control).
    public var notesName: String
    /// `to_name` of every result (the `<Text name=…>` object).
    public var toName: String
    /// Whether document labels are written as `taxonomy` paths (split at `/`) instead of `choices`.
    public var taxonomy: Bool
    /// The unit offsets are written in.
    public var offsetUnit: OffsetError.Unit
    /// The layers to export; nil exports every layer.
    public var layers: Set<String>?

    /// An exporter; see the properties for the parameters.
    public init(
        fileName: String = "export.json", textField: String = "text", labelsName: String = "label",
        choicesName: String = "choices", notesName: String = "notes", toName: String = "text",
        taxonomy: Bool = false, offsetUnit: OffsetError.Unit = .utf16, layers: Set<String>? = nil
    ) {
        self.fileName = fileName
        self.textField = textField
        self.labelsName = labelsName
        self.choicesName = choicesName
        self.notesName = notesName
        self.toName = toName
        self.taxonomy = taxonomy
        self.offsetUnit = offsetUnit
        self.layers = layers
    }

    /// Renders the documents, in the given order, as one JSON file.
    public func export(_ documents: [ExportDocument]) -> FormatExport {
        var problems: [FormatProblem] = []
        let tasks = documents.map { task($0, problems: &problems) }
        let json = JSONValue.array(tasks).rendered(pretty: true) + "\n"
        return FormatExport(files: [FormatExport.File(path: fileName, contents: Array(json.utf8))], problems: problems)
    }

    private func task(_ document: ExportDocument, problems: inout [FormatProblem]) -> JSONValue {
        let annotations = document.annotations.filter { layers?.contains($0.layer) ?? true }
        var layerOrder: [String] = []
        for a in annotations where !layerOrder.contains(a.layer) { layerOrder.append(a.layer) }
        let byID = Dictionary(annotations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let source = SourceText(document.text)
        var omitted = Omissions()
        // Each span's regions, for per-region results and relations.
        var regions: [AnnotationID: [(id: String, range: TextRange, fragment: TextRange)]] = [:]
        for a in annotations where a.kind == .span {
            guard !a.ranges.isEmpty, let fragments = try? source.fragments(a.ranges, unit: offsetUnit) else {
                problems.append(
                    FormatProblem(
                        .offsetsOutOfBounds,
                        "document \(document.id): span \(a.label) (\(a.id)) has no ranges or ranges outside the text; "
                            + "left out", file: fileName))
                continue
            }
            if fragments.count > 1 { omitted.add("discontinuous spans (written as one region per range)") }
            regions[a.id] = zip(a.ranges, fragments).enumerated().map { i, pair in
                (i == 0 ? a.id.description : "\(a.id)-\(i + 1)", pair.0, pair.1)
            }
        }

        var results: [String: [JSONValue]] = [:]
        for layer in layerOrder { results[layer] = [] }
        var documentLabels: [String: [String]] = [:]
        for a in annotations {
            switch a.kind {
            case .span:
                guard let spanRegions = regions[a.id] else { continue }
                for r in spanRegions {
                    let text = (try? source.text(in: r.range)) ?? ""
                    results[a.layer]!.append(
                        region(
                            r.id, r.fragment, type: "labels", from: labelsName,
                            ["text": .string(text), "labels": [.string(a.label)]]))
                    for (name, value) in a.attributes.sorted(by: { $0.key < $1.key }) {
                        results[a.layer]!.append(
                            region(r.id, r.fragment, type: "choices", from: name, ["choices": [.string(value)]]))
                    }
                }
            case .documentLabel:
                documentLabels[a.layer, default: []].append(a.label)
                if !a.attributes.isEmpty { omitted.add("document label attributes", a.attributes.count) }
            case .note:
                if let target = a.target {
                    guard let r = regions[target]?.first else {
                        omitted.add(
                            byID[target] == nil ? "notes on annotations not exported" : "notes on relations or labels")
                        continue
                    }
                    results[a.layer]!.append(
                        region(r.id, r.fragment, type: "textarea", from: notesName, ["text": [.string(a.text)]]))
                } else {
                    results[a.layer]!.append(
                        [
                            "id": .string(a.id.description), "from_name": .string(notesName),
                            "to_name": .string(toName),
                            "type": "textarea", "value": ["text": [.string(a.text)]],
                        ])
                }
            case .relation:
                guard let from = a.from, let to = a.to, let fromRegion = regions[from]?.first,
                    let toRegion = regions[to]?.first, byID[from]?.layer == a.layer, byID[to]?.layer == a.layer
                else {
                    problems.append(
                        FormatProblem(
                            .danglingReference,
                            "document \(document.id): relation \(a.label) (\(a.id)) does not join two exported spans "
                                + "of its layer \(a.layer); left out", file: fileName))
                    continue
                }
                var members: [(String, JSONValue)] = [
                    ("from_id", .string(fromRegion.id)), ("to_id", .string(toRegion.id)), ("type", "relation"),
                    ("direction", .string(a.attributes["direction"] == "bi" ? "bi" : "right")),
                ]
                if !a.label.isEmpty { members.append(("labels", [.string(a.label)])) }
                results[a.layer]!.append(.object(members))
                let dropped = a.attributes.keys.filter { $0 != "direction" }.count
                if dropped > 0 { omitted.add("relation attributes", dropped) }
            }
        }
        for layer in layerOrder {
            guard let labels = documentLabels[layer] else { continue }
            let value: JSONValue =
                taxonomy
                ? ["taxonomy": .array(labels.map { .array($0.split(separator: "/").map { .string(String($0)) }) })]
                : ["choices": .array(labels.map { .string($0) })]
            results[layer]!.append(
                [
                    "id": .string("\(document.id)-\(layer)-labels"), "from_name": .string(choicesName),
                    "to_name": .string(toName), "type": .string(taxonomy ? "taxonomy" : "choices"), "value": value,
                ])
        }
        if let p = omitted.problem(document: document.id, format: "Label Studio", file: fileName) { problems.append(p) }

        let submitted = layerOrder.map { layer -> JSONValue in
            var members: [(String, JSONValue)] = []
            if let user = Self.userID(layer) { members.append(("completed_by", .int(user))) }
            members.append(("result", .array(results[layer]!)))
            return .object(members)
        }
        return [
            "data": [
                textField: .string(document.text), "gloss_document": .string(document.id.rawValue),
                "gloss_layers": .array(layerOrder.map { .string($0) }),
            ],
            "annotations": .array(submitted),
        ]
    }

    /// A result on a region: `value` holds the region's offsets plus `extra`.
    private func region(
        _ id: String, _ fragment: TextRange, type: String, from: String, _ extra: KeyValuePairs<String, JSONValue>
    ) -> JSONValue {
        let value = JSONValue.object(
            [("start", .int(fragment.start)), ("end", .int(fragment.end))] + extra.map { ($0.key, $0.value) })
        return [
            "id": .string(id), "from_name": .string(from), "to_name": .string(toName), "type": .string(type),
            "value": value,
        ]
    }

    /// The Label Studio user id of an `annotator-<id>` layer (also `annotator-<id>-2` …).
    private static func userID(_ layer: String) -> Int? {
        guard layer.hasPrefix("annotator-") else { return nil }
        let rest = layer.dropFirst("annotator-".count)
        return Int(rest.split(separator: "-", omittingEmptySubsequences: false).first ?? "")
    }
}
