import GlossModel

/// Reads doccano exports (JSONL, or one JSON object or array) into Gloss documents.
///
/// Every record is an object with the document text under `text` (or ``textField``) and
/// annotations in any of doccano's shapes, which may be mixed:
/// - sequence labeling: `"label": [[start, end, "LABEL"], …]` (also under `"labels"`);
/// - text classification: `"label": ["A", "B"]` → document labels (also `"cats"`, as a list
///   of labels or spaCy's `{"A": 1.0, "B": 0.0}`, where values of at least 0.5 count);
/// - relation extraction: `"entities": [{id, label, start_offset, end_offset}]` and
///   `"relations": [{id, from_id, to_id, type}]`;
/// - doccano 1.x: `"annotations": [{label, start_offset, end_offset, user, …}]`, where each
///   annotation's `user` becomes a layer: `user-<n>` for a numeric id, the name itself for a
///   string (unless ``ImportOptions/layer`` is set). Labels written as numeric label ids stay
///   those numbers as label strings, since the file has no label names. Items without offsets
///   are document labels. Timestamps are not kept.
///
/// Documents are named after the record's `id`: a string id is the name itself (slugged); a
/// numeric id (a database row) is prefixed with ``documentPrefix`` (default: the file's stem),
/// as in `AliceInWonderland/131`; a record without id is named by its number among the
/// records read (`<prefix>/3`).
///
/// Offsets: doccano records no span texts, so the unit cannot be checked against them. When
/// the text has astral scalars (emoji), where UTF-16 units (counted by doccano's JavaScript
/// front end in older versions) and scalars differ, the unit that puts more span ends on word
/// boundaries wins; otherwise the units agree and offsets are read as scalars.
///
/// A record that cannot be read (bad JSON, no text) is reported and skipped; so is a span with
/// bad offsets, a duplicate span of one annotator, or a relation whose entity is missing. The
/// rest of the file still imports.
public struct DoccanoImporter: Sendable {
    /// Owner, layer, strictness and offset unit.
    public var options: ImportOptions
    /// The field holding the text (`text`; doccano's import lets projects rename it, as in
    /// `column_data`).
    public var textField: String
    /// The field holding span or document labels; nil reads both `label` and `labels`.
    public var labelField: String?
    /// The prefix of documents named by a numeric id or by their number; nil uses the file's stem.
    public var documentPrefix: String?

    /// An importer; see the properties for the parameters.
    public init(
        options: ImportOptions, textField: String = "text", labelField: String? = nil, documentPrefix: String? = nil
    ) {
        self.options = options
        self.textField = textField
        self.labelField = labelField
        self.documentPrefix = documentPrefix
    }

    /// Imports one file.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents (UTF-8).
    ///   - file: the name problems carry and document names derive from.
    ///   - mintID: makes a fresh Gloss id for each annotation.
    /// - Throws: `invalid-utf8` when the file is not UTF-8; in strict mode, the first problem.
    public func importFile(
        _ bytes: some Collection<UInt8>, file: String? = nil, mintID: () -> AnnotationID
    ) throws(FormatProblem) -> FormatImport {
        let (values, log) = try ProblemLog.readJSON(bytes, file: file, skipping: "the record is")
        // A file that is one JSON array (doccano's JSON export) holds the records as its elements.
        let records = values.flatMap { $0.array ?? [$0] }
        var run = DoccanoRun(
            importer: self, file: file, prefix: documentPrefix ?? DocumentNaming.stem(of: file, fallback: "doccano"),
            log: log)
        var documents: [ImportedDocument] = []
        for (n, record) in records.enumerated() {
            if let document = run.importRecord(record, number: n + 1, mintID: mintID) { documents.append(document) }
        }
        return try run.log.finish(documents, strict: options.strict)
    }
}

/// One import: the naming state and the problems so far.
private struct DoccanoRun {
    struct RawSpan {
        var start: Int
        var end: Int
        var label: String
        /// The annotator's layer as the file records it (nil: none recorded).
        var layer: String?
        var entityID: String?
        var place: JSONValue
    }

    struct RawRelation {
        var from: String
        var to: String
        var label: String
        var place: JSONValue
    }

    struct RawLabel {
        var label: String
        var layer: String?
        var place: JSONValue
    }

    let importer: DoccanoImporter
    let file: String?
    let prefix: String
    var log: ProblemLog
    var naming = DocumentNaming()

    init(importer: DoccanoImporter, file: String?, prefix: String, log: ProblemLog) {
        self.importer = importer
        self.file = file
        self.prefix = prefix
        self.log = log
    }

    var options: ImportOptions { importer.options }

    mutating func importRecord(_ record: JSONValue, number: Int, mintID: () -> AnnotationID) -> ImportedDocument? {
        guard record.isObject else {
            log.add(.invalidRecord, "record \(number) is not a JSON object; skipped", at: record)
            return nil
        }
        guard let text = record[importer.textField]?.string else {
            log.add(.missingField, "record \(number) has no \"\(importer.textField)\" string; skipped", at: record)
            return nil
        }
        let id = name(record, number: number)

        var spans: [RawSpan] = []
        var relations: [RawRelation] = []
        var labels: [RawLabel] = []
        readAnnotations(record, id: id, spans: &spans, labels: &labels)
        for key in importer.labelField.map({ [$0] }) ?? ["label", "labels"] {
            if let value = record[key] { readLabels(value, key: key, id: id, spans: &spans, labels: &labels) }
        }
        readEntities(record, id: id, spans: &spans, relations: &relations)
        readCats(record, id: id, labels: &labels)

        let source = SourceText(text)
        let unit = offsetUnit(spans, source)
        var annotations: [Annotation] = []
        var seen = Set<String>()
        var spanOfEntity: [String: AnnotationID] = [:]
        for raw in spans {
            let range: TextRange
            do throws(OffsetError) {
                range = try source.scalarRange(start: raw.start, end: raw.end, unit: unit)
            } catch {
                log.add(
                    error.code == .outOfBounds ? .offsetsOutOfBounds : .invalidOffsets,
                    "document \(id): \(error.message); the span is not imported", at: raw.place)
                continue
            }
            let key = "\(raw.layer ?? "")\u{0}\(raw.label)\u{0}\(range.start)\u{0}\(range.end)"
            guard seen.insert(key).inserted else {
                log.add(
                    .duplicateAnnotation,
                    "document \(id): span \(raw.label) \(raw.start)-\(raw.end) appears twice"
                        + (raw.layer.map { " for \($0)" } ?? "") + "; the copy is skipped",
                    at: raw.place)
                if let e = raw.entityID,
                    let twin = annotations.last(where: { $0.ranges == [range] && $0.label == raw.label })
                {
                    spanOfEntity[e] = twin.id
                }
                continue
            }
            let span = Annotation.span(
                mintID(), in: id, [range], label: raw.label, owner: options.owner, layer: layer(raw.layer))
            if let e = raw.entityID { spanOfEntity[e] = span.id }
            annotations.append(span)
        }
        for raw in relations {
            guard let from = spanOfEntity[raw.from], let to = spanOfEntity[raw.to] else {
                let missing = spanOfEntity[raw.from] == nil ? raw.from : raw.to
                log.add(
                    .unknownReference,
                    "document \(id): relation \(raw.label) refers to entity \(missing), which is not imported; "
                        + "the relation is not imported",
                    at: raw.place)
                continue
            }
            annotations.append(
                Annotation.relation(
                    mintID(), in: id, from: from, to: to, label: raw.label, owner: options.owner, layer: layer(nil)))
        }
        for raw in labels {
            guard seen.insert("\(raw.layer ?? "")\u{0}\(raw.label)").inserted else {
                log.add(
                    .duplicateAnnotation,
                    "document \(id): document label \(raw.label) appears twice"
                        + (raw.layer.map { " for \($0)" } ?? "") + "; the copy is skipped",
                    at: raw.place)
                continue
            }
            annotations.append(
                Annotation(
                    id: mintID(), document: id, kind: .documentLabel, layer: layer(raw.layer), owner: options.owner,
                    label: raw.label))
        }
        return ImportedDocument(
            id: id, text: text, annotations: annotations, offsetUnit: spans.isEmpty ? nil : unit,
            source: "\(file ?? "doccano"):\(record.line)")
    }

    // MARK: - Reading the shapes

    private mutating func name(_ record: JSONValue, number: Int) -> DocumentID {
        let fallback = "\(prefix)/\(number)"
        var name: String?
        if let s = record["id"]?.string {
            name = s
        } else if let n = record["id"]?.text {
            name = "\(prefix)/\(n)"
        }
        let (id, problem) = naming.claim(name, fallback: fallback)
        if let (code, message) = problem { log.add(code, "record \(number): \(message)", at: record) }
        return id
    }

    /// doccano 1.x: `annotations` with a user per item.
    private mutating func readAnnotations(
        _ record: JSONValue, id: DocumentID, spans: inout [RawSpan], labels: inout [RawLabel]
    ) {
        guard let value = record["annotations"] else { return }
        guard let items = value.array else {
            log.add(.invalidRecord, "document \(id): \"annotations\" is not a list; ignored", at: value)
            return
        }
        for item in items {
            guard item.isObject else {
                log.add(.invalidRecord, "document \(id): an annotation is not an object; skipped", at: item)
                continue
            }
            guard let label = item["label"]?.text, !label.isEmpty else {
                log.add(.missingField, "document \(id): an annotation has no label; skipped", at: item)
                continue
            }
            let layer = item["user"]?.text.map { Int($0) != nil ? "user-\($0)" : $0 }
            let start = item["start_offset"]
            let end = item["end_offset"]
            if start == nil && end == nil {
                labels.append(RawLabel(label: label, layer: layer, place: item))
            } else if let s = start?.int, let e = end?.int {
                spans.append(RawSpan(start: s, end: e, label: label, layer: layer, entityID: nil, place: item))
            } else {
                log.add(
                    .invalidOffsets, "document \(id): annotation \(label) has no integer offsets; skipped", at: item)
            }
        }
    }

    /// `label` / `labels`: `[start, end, label]` triples (spans) or plain labels (document labels).
    private mutating func readLabels(
        _ value: JSONValue, key: String, id: DocumentID, spans: inout [RawSpan], labels: inout [RawLabel]
    ) {
        guard let items = value.array else {
            if let label = value.text, !label.isEmpty {
                labels.append(RawLabel(label: label, layer: nil, place: value))
            } else if !value.isNull {
                log.add(.invalidRecord, "document \(id): \"\(key)\" is neither a list nor a label; ignored", at: value)
            }
            return
        }
        for item in items {
            if let triple = item.array {
                guard triple.count >= 3, let s = triple[0].int, let e = triple[1].int, let label = triple[2].text,
                    !label.isEmpty
                else {
                    log.add(
                        .invalidRecord, "document \(id): a span must be [start, end, \"label\"]; skipped", at: item)
                    continue
                }
                spans.append(RawSpan(start: s, end: e, label: label, layer: nil, entityID: nil, place: item))
            } else if item.isObject {
                guard let label = item["label"]?.text, let s = item["start_offset"]?.int,
                    let e = item["end_offset"]?.int
                else {
                    log.add(
                        .missingField, "document \(id): a span needs label, start_offset and end_offset; skipped",
                        at: item)
                    continue
                }
                spans.append(RawSpan(start: s, end: e, label: label, layer: nil, entityID: nil, place: item))
            } else if let label = item.text, !label.isEmpty {
                labels.append(RawLabel(label: label, layer: nil, place: item))
            } else {
                log.add(.invalidRecord, "document \(id): a \"\(key)\" item is not a span or a label; skipped", at: item)
            }
        }
    }

    /// Relation extraction: `entities` and `relations`.
    private mutating func readEntities(
        _ record: JSONValue, id: DocumentID, spans: inout [RawSpan], relations: inout [RawRelation]
    ) {
        if let value = record["entities"] {
            var ids = Set<String>()
            for item in value.array ?? [] {
                guard let label = item["label"]?.text, let s = item["start_offset"]?.int,
                    let e = item["end_offset"]?.int
                else {
                    log.add(
                        .missingField, "document \(id): an entity needs label, start_offset and end_offset; skipped",
                        at: item)
                    continue
                }
                let entityID = item["id"]?.text
                if let entityID, !ids.insert(entityID).inserted {
                    log.add(.duplicateID, "document \(id): entity id \(entityID) is used twice; skipped", at: item)
                    continue
                }
                spans.append(RawSpan(start: s, end: e, label: label, layer: nil, entityID: entityID, place: item))
            }
            if value.array == nil {
                log.add(.invalidRecord, "document \(id): \"entities\" is not a list; ignored", at: value)
            }
        }
        if let value = record["relations"] {
            for item in value.array ?? [] {
                guard let from = item["from_id"]?.text, let to = item["to_id"]?.text else {
                    log.add(.missingField, "document \(id): a relation needs from_id and to_id; skipped", at: item)
                    continue
                }
                let label = item["type"]?.text ?? item["label"]?.text ?? ""
                relations.append(RawRelation(from: from, to: to, label: label, place: item))
            }
            if value.array == nil {
                log.add(.invalidRecord, "document \(id): \"relations\" is not a list; ignored", at: value)
            }
        }
    }

    /// `cats`: a list of labels, or spaCy's label → score object (scores of at least 0.5 count).
    private mutating func readCats(_ record: JSONValue, id: DocumentID, labels: inout [RawLabel]) {
        guard let value = record["cats"] else { return }
        if let items = value.array {
            for item in items {
                if let label = item.text, !label.isEmpty {
                    labels.append(RawLabel(label: label, layer: nil, place: item))
                } else {
                    log.add(.invalidRecord, "document \(id): a \"cats\" item is not a label; skipped", at: item)
                }
            }
        } else if let members = value.members {
            for m in members where (m.value.bool ?? false) || (m.value.double ?? 0) >= 0.5 {
                labels.append(RawLabel(label: m.key, layer: nil, place: m.value))
            }
        } else {
            log.add(.invalidRecord, "document \(id): \"cats\" is neither a list nor an object; ignored", at: value)
        }
    }

    // MARK: - Helpers

    private func layer(_ recorded: String?) -> String { options.layer ?? recorded ?? options.owner }

    /// The caller's unit, or the one that puts more span ends on word boundaries (see the type's notes).
    private func offsetUnit(_ spans: [RawSpan], _ source: SourceText) -> OffsetError.Unit {
        if let unit = options.offsetUnit { return unit }
        guard !spans.isEmpty, source.hasAstralScalars else { return .scalar }
        let recorded = spans.map { (fragments: [TextRange($0.start, $0.end)], text: "") }
        return source.detectUnit(recorded) { _, ranges in
            ranges.allSatisfy { source.isWordBoundary($0.start) && source.isWordBoundary($0.end) }
        }
    }
}
