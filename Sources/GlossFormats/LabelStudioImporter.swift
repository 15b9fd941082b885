import GlossModel

/// Reads a Label Studio JSON export (a list of tasks; also one task, or JSONL tasks) of a
/// text-labelling project into Gloss documents.
///
/// The mapping, per task:
/// - the text is `data.text` (or ``textField``; without either, the only string in `data`);
/// - the document is named `<prefix>/<task id>` (prefix: ``documentPrefix`` or the file's
///   stem), or `data.gloss_document` when a Gloss export wrote one;
/// - each submitted annotation becomes a layer: `annotator-<id>` from `completed_by` (an
///   object with `id`, or a number), unless ``ImportOptions/layer`` is set, or the layer named
///   in `data.gloss_layers` (Gloss exports). When one user submitted several annotations of a
///   task, the second goes to `annotator-<id>-2`, the third to `-3` …, and this is reported;
/// - `labels` results become spans (one per label when a region has several); `choices`
///   become document labels, `taxonomy` paths document labels with the levels joined by `/`
///   (`Killed/Feloniously Killed`); `relation` results become relations (direction `left`
///   swaps the ends; `bi` is kept as the attribute `direction=bi`; one relation per label, an
///   unlabelled one gets the empty label); `textarea` results become notes on the document;
/// - per-region results (same `id` as a `labels` region): `choices`/`taxonomy` become
///   attributes of the region's spans, named after `from_name`, with several values joined by
///   `,`; `textarea` becomes a note on the region's span;
/// - other result types (ratings, image regions, hypertext ranges …) are reported and skipped.
///
/// Cancelled annotations (`was_cancelled`, the annotator skipped the task) are skipped, and
/// reported when they hold results, unless ``includeCancelled``. Drafts (unsubmitted work) are
/// never imported. Predictions (model output) are imported only with
/// ``includePredictions``, into the layer `prediction-<model_version>` (or `prediction`).
///
/// Offsets: Label Studio's front end counts UTF-16 code units. The unit is detected per task
/// from the texts that results record (compared without surrounding whitespace); scalar and
/// UTF-16 offsets coincide when the text has no astral scalars (emoji). A recorded text that
/// differs from the text at the offsets is reported (saying when only surrounding whitespace
/// differs) and the span is imported at its offsets. Spans whose recorded text merely has
/// leading or trailing whitespace that the offsets include are fine and not reported.
///
/// Problems carry the line and column of the result (or task) in the file, and the task id.
public struct LabelStudioImporter: Sendable {
    /// Owner, layer, strictness and offset unit.
    public var options: ImportOptions
    /// The `data` field with the text; nil uses `text`, or else the only string in `data`.
    public var textField: String?
    /// Whether cancelled (skipped) annotations are imported like submitted ones.
    public var includeCancelled: Bool
    /// Whether predictions are imported, into `prediction-<model_version>` layers.
    public var includePredictions: Bool
    /// The prefix of document names; nil uses the file's stem.
    public var documentPrefix: String?

    /// An importer; see the properties for the parameters.
    public init(
        options: ImportOptions, textField: String? = nil, includeCancelled: Bool = false,
        includePredictions: Bool = false, documentPrefix: String? = nil
    ) {
        self.options = options
        self.textField = textField
        self.includeCancelled = includeCancelled
        self.includePredictions = includePredictions
        self.documentPrefix = documentPrefix
    }

    /// Imports one export file.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents (UTF-8 JSON).
    ///   - file: the name problems carry and document names derive from.
    ///   - mintID: makes a fresh Gloss id for each annotation.
    /// - Throws: `invalid-utf8` when the file is not UTF-8; in strict mode, the first problem.
    public func importFile(
        _ bytes: some Collection<UInt8>, file: String? = nil, mintID: () -> AnnotationID
    ) throws(FormatProblem) -> FormatImport {
        let (values, log) = try ProblemLog.readJSON(bytes, file: file, skipping: "the tasks there are")
        var run = LabelStudioRun(
            importer: self, file: file,
            prefix: documentPrefix ?? DocumentNaming.stem(of: file, fallback: "label-studio"), log: log)
        var documents: [ImportedDocument] = []
        for (n, task) in values.flatMap({ $0.array ?? [$0] }).enumerated() {
            if let document = run.importTask(task, number: n + 1, mintID: mintID) { documents.append(document) }
        }
        return try run.log.finish(documents, strict: options.strict)
    }
}

/// One import: naming state and problems.
private struct LabelStudioRun {
    /// One submitted annotation (or prediction) of a task, with the layer it goes to.
    struct Submission {
        var layer: String
        /// How problems name it: `annotation 32569318` or `prediction 2`.
        var name: String
        var results: [JSONValue]
    }

    struct Region {
        var submission: Int
        var id: String?
        var start: Int
        var end: Int
        var recorded: String?
        var labels: [String]
        var place: JSONValue
    }

    let importer: LabelStudioImporter
    let file: String?
    let prefix: String
    var log: ProblemLog
    var naming = DocumentNaming()

    init(importer: LabelStudioImporter, file: String?, prefix: String, log: ProblemLog) {
        self.importer = importer
        self.file = file
        self.prefix = prefix
        self.log = log
    }

    var options: ImportOptions { importer.options }

    mutating func importTask(_ task: JSONValue, number: Int, mintID: () -> AnnotationID) -> ImportedDocument? {
        let taskName = task["id"]?.text.map { "task \($0)" } ?? "task #\(number)"
        guard task.isObject else {
            log.add(.invalidRecord, "\(taskName) is not a JSON object; skipped", at: task)
            return nil
        }
        guard let data = task["data"], data.isObject else {
            log.add(.missingField, "\(taskName) has no \"data\" object; skipped", at: task)
            return nil
        }
        guard let text = text(of: data) else {
            log.add(
                .missingField,
                "\(taskName) has no text in data."
                    + (importer.textField ?? "text") + "; skipped", at: data)
            return nil
        }
        let id = name(task, data: data, taskName: taskName, number: number)
        let submissions = self.submissions(task, data: data, taskName: taskName)

        // Regions first: every other result may point at them.
        var regions: [Region] = []
        for (k, s) in submissions.enumerated() {
            for result in s.results where result["type"]?.string == "labels" {
                if let region = region(result, submission: k, context: "\(taskName), \(s.name)") {
                    regions.append(region)
                }
            }
        }
        let source = SourceText(text)
        let unit = offsetUnit(regions, source)

        var spans: [Annotation] = []
        var others: [Annotation] = []
        var notes: [Annotation] = []
        /// The spans of each region, by (submission, region id).
        var spansOfRegion: [String: [Int]] = [:]
        /// Each span by submission, label and range, to find copies.
        var seen: [String: Int] = [:]
        /// Gloss ids carried as region ids (``ImportedDocument/claimedIDs``).
        var claimed: [AnnotationID: AnnotationID] = [:]
        for r in regions {
            let s = submissions[r.submission]
            let context = "\(taskName), \(s.name)" + (r.id.map { ", region \($0)" } ?? "")
            let range: TextRange
            do throws(OffsetError) {
                range = try source.scalarRange(start: r.start, end: r.end, unit: unit)
            } catch {
                log.add(
                    error.code == .outOfBounds ? .offsetsOutOfBounds : .invalidOffsets,
                    "\(context): \(error.message); the span is not imported", at: r.place)
                continue
            }
            if let recorded = r.recorded { checkRecorded(recorded, range, r, unit, source, context) }
            for label in r.labels {
                let key = "\(r.submission)\u{0}\(label)\u{0}\(range.start)\u{0}\(range.end)"
                if let twin = seen[key] {
                    log.add(
                        .duplicateAnnotation,
                        "\(context): span \(label) \(r.start)-\(r.end) appears twice; the copy is skipped", at: r.place)
                    // Results that point at the copy's region point at the span it copies.
                    spansOfRegion[Self.key(r.submission, r.id), default: []].append(twin)
                    continue
                }
                seen[key] = spans.count
                let span = Annotation.span(
                    mintID(), in: id, [range], label: label, owner: options.owner, layer: s.layer)
                // Gloss writes a span's first region under the span's id.
                if let carried = r.id.flatMap(AnnotationID.init), !claimed.values.contains(carried) {
                    claimed[span.id] = carried
                }
                spansOfRegion[Self.key(r.submission, r.id), default: []].append(spans.count)
                spans.append(span)
            }
        }

        for (k, s) in submissions.enumerated() {
            let context = "\(taskName), \(s.name)"
            for result in s.results {
                let type = result["type"]?.string ?? ""
                let regionSpans = result["id"]?.text.flatMap { spansOfRegion[Self.key(k, $0)] }
                switch type {
                case "labels":
                    continue
                case "choices", "taxonomy":
                    guard let values = choices(result, type: type, context: context) else { continue }
                    if let regionSpans {
                        let name = result["from_name"]?.string ?? type
                        for i in regionSpans { spans[i].attributes[name] = values.joined(separator: ",") }
                    } else {
                        for label in values {
                            others.append(
                                Annotation(
                                    id: mintID(), document: id, kind: .documentLabel, layer: s.layer,
                                    owner: options.owner, label: label))
                        }
                    }
                case "textarea":
                    let texts = result["value"]?["text"]?.array?.compactMap(\.string) ?? []
                    if texts.isEmpty {
                        log.add(.missingField, "\(context): a textarea result has no text; skipped", at: result)
                    }
                    for t in texts {
                        let note = Annotation(
                            id: mintID(), document: id, kind: .note, layer: s.layer, owner: options.owner,
                            target: regionSpans.map { spans[$0[0]].id }, text: t)
                        // Gloss writes a note as a textarea result under the note's id.
                        if texts.count == 1, let carried = result["id"]?.text.flatMap(AnnotationID.init) {
                            claimed[note.id] = carried
                        }
                        notes.append(note)
                    }
                case "relation":
                    others += relations(
                        result, submission: k, layer: s.layer, document: id, spans: spans,
                        spansOfRegion: spansOfRegion, context: context, mintID: mintID)
                default:
                    log.add(
                        .unsupportedContent,
                        "\(context): result type \"\(type)\" has no Gloss form for text; skipped", at: result)
                }
            }
        }
        return ImportedDocument(
            id: id, text: text, annotations: spans + others + notes, offsetUnit: regions.isEmpty ? nil : unit,
            source: "\(file ?? "label-studio"):\(task.line):\(task.column) (\(taskName))", claimedIDs: claimed)
    }

    // MARK: - Tasks

    private func text(of data: JSONValue) -> String? {
        if let field = importer.textField { return data[field]?.string }
        if let t = data["text"]?.string { return t }
        let strings = (data.members ?? []).filter { !$0.key.hasPrefix("gloss_") }.compactMap(\.value.string)
        return strings.count == 1 ? strings[0] : nil
    }

    private mutating func name(_ task: JSONValue, data: JSONValue, taskName: String, number: Int) -> DocumentID {
        let name = data["gloss_document"]?.string ?? task["id"]?.text.map { "\(prefix)/\($0)" }
        let (id, problem) = naming.claim(name, fallback: "\(prefix)/\(number)")
        if let (code, message) = problem { log.add(code, "\(taskName): \(message)", at: task) }
        return id
    }

    /// The task's annotations (and predictions, when asked) with their layers.
    private mutating func submissions(_ task: JSONValue, data: JSONValue, taskName: String) -> [Submission] {
        let annotations = (task["annotations"] ?? task["completions"])?.array ?? []
        let recordedLayers = data["gloss_layers"]?.array?.compactMap(\.string)
        var layers = recordedLayers
        if let recorded = recordedLayers, recorded.count != annotations.count {
            log.add(
                .invalidRecord,
                "\(taskName): data.gloss_layers names \(recorded.count) layers for \(annotations.count) annotations; "
                    + "layers are taken from completed_by instead", at: data)
            layers = nil
        }
        var submissions: [Submission] = []
        var taken: [String: Int] = [:]
        for (k, a) in annotations.enumerated() {
            let name = a["id"]?.text.map { "annotation \($0)" } ?? "annotation #\(k + 1)"
            let results = a["result"]?.array ?? []
            if a["was_cancelled"]?.bool == true, !importer.includeCancelled {
                if !results.isEmpty {
                    log.add(
                        .cancelledAnnotation,
                        "\(taskName), \(name) was cancelled (skipped by its annotator) and holds \(results.count) "
                            + "results; not imported", at: a)
                }
                continue
            }
            let annotator = a["completed_by"].flatMap { $0["id"]?.text ?? $0.text }
            var layer = options.layer ?? layers?[k] ?? annotator.map { "annotator-\($0)" } ?? options.owner
            let seen = taken[layer, default: 0]
            taken[layer] = seen + 1
            if seen > 0 {
                let original = layer
                if options.layer == nil { layer += "-\(seen + 1)" }
                log.add(
                    .duplicateAnnotator,
                    "\(taskName): \(annotator.map { "annotator \($0)" } ?? original) submitted another annotation "
                        + "(\(name)); it goes to layer \(layer)", at: a)
            }
            submissions.append(Submission(layer: layer, name: name, results: results))
        }
        if importer.includePredictions {
            for (k, p) in (task["predictions"]?.array ?? []).enumerated() {
                let version = p["model_version"]?.text.flatMap { DocumentNaming.slug($0) }
                let layer = options.layer ?? (version.map { "prediction-\($0)" } ?? "prediction")
                submissions.append(
                    Submission(
                        layer: layer, name: "prediction \(p["id"]?.text ?? "#\(k + 1)")",
                        results: p["result"]?.array ?? []))
            }
        }
        return submissions
    }

    // MARK: - Results

    private mutating func region(_ result: JSONValue, submission: Int, context: String) -> Region? {
        guard let value = result["value"], value.isObject else {
            log.add(.missingField, "\(context): a labels result has no value; skipped", at: result)
            return nil
        }
        guard let start = value["start"]?.int, let end = value["end"]?.int else {
            log.add(
                .invalidOffsets, "\(context): a labels result has no integer start and end; skipped", at: result)
            return nil
        }
        let labels = (value["labels"]?.array ?? []).compactMap(\.text).filter { !$0.isEmpty }
        guard !labels.isEmpty else {
            log.add(.missingField, "\(context): labels result \(start)-\(end) has no label; skipped", at: result)
            return nil
        }
        return Region(
            submission: submission, id: result["id"]?.text, start: start, end: end, recorded: value["text"]?.string,
            labels: labels, place: result)
    }

    /// Document labels of a `choices` or `taxonomy` result.
    private mutating func choices(_ result: JSONValue, type: String, context: String) -> [String]? {
        guard let list = result["value"]?[type]?.array else {
            log.add(.missingField, "\(context): a \(type) result has no value.\(type) list; skipped", at: result)
            return nil
        }
        if type == "choices" { return list.compactMap(\.text) }
        return list.compactMap { path in
            let levels = path.array?.compactMap(\.text) ?? path.text.map { [$0] } ?? []
            return levels.isEmpty ? nil : levels.joined(separator: "/")
        }
    }

    private mutating func relations(
        _ result: JSONValue, submission: Int, layer: String, document: DocumentID, spans: [Annotation],
        spansOfRegion: [String: [Int]], context: String, mintID: () -> AnnotationID
    ) -> [Annotation] {
        guard let fromID = result["from_id"]?.text, let toID = result["to_id"]?.text else {
            log.add(.missingField, "\(context): a relation has no from_id and to_id; skipped", at: result)
            return []
        }
        guard let from = spansOfRegion[Self.key(submission, fromID)]?.first,
            let to = spansOfRegion[Self.key(submission, toID)]?.first
        else {
            let missing = spansOfRegion[Self.key(submission, fromID)] == nil ? fromID : toID
            log.add(
                .unknownReference, "\(context): a relation refers to region \(missing), which is not imported; skipped",
                at: result)
            return []
        }
        let direction = result["direction"]?.string ?? "right"
        let (a, b) = direction == "left" ? (to, from) : (from, to)
        var labels = (result["labels"]?.array ?? []).compactMap(\.text)
        if labels.isEmpty { labels = [""] }
        return labels.map { label in
            var r = Annotation.relation(
                mintID(), in: document, from: spans[a].id, to: spans[b].id, label: label, owner: options.owner,
                layer: layer)
            if direction == "bi" { r.attributes["direction"] = "bi" }
            return r
        }
    }

    // MARK: - Offsets

    /// The caller's unit, or the one under which more recorded texts match (ignoring whitespace at the ends).
    private func offsetUnit(_ regions: [Region], _ source: SourceText) -> OffsetError.Unit {
        if let unit = options.offsetUnit { return unit }
        let recorded = regions.compactMap { r in r.recorded.map { (fragments: [TextRange(r.start, r.end)], text: $0) } }
        guard !recorded.isEmpty else { return .scalar }
        return source.detectUnit(recorded) { text, ranges in
            guard let found = try? source.text(in: ranges[0]) else { return false }
            return trimmedWhitespace(found) == trimmedWhitespace(text)
        }
    }

    /// Reports a recorded text that is not exactly the text at the span's offsets.
    private mutating func checkRecorded(
        _ recorded: String, _ range: TextRange, _ r: Region, _ unit: OffsetError.Unit, _ source: SourceText,
        _ context: String
    ) {
        let found = (try? source.text(in: range)) ?? ""
        guard found != recorded else { return }
        let onlyWhitespace = trimmedWhitespace(found) == trimmedWhitespace(recorded)
        log.add(
            .textMismatch,
            "\(context): the result records \"\(abbreviated(recorded))\" but the text at \(unit) offsets "
                + "\(r.start)-\(r.end) is \"\(abbreviated(found))\""
                + (onlyWhitespace ? " (they differ only in whitespace at the ends)" : "")
                + "; the span is imported at its offsets",
            at: r.place)
    }

    // MARK: - Helpers

    private static func key(_ submission: Int, _ region: String?) -> String { "\(submission)\u{0}\(region ?? "")" }
}

extension ErrorCode where Domain == FormatProblem {
    /// One annotator submitted several annotations of one task; the later ones go to numbered layers.
    public static let duplicateAnnotator = Self(rawValue: "duplicate-annotator")
    /// An annotation its annotator cancelled (skipped the task) but that holds results; not imported.
    public static let cancelledAnnotation = Self(rawValue: "cancelled-annotation")
}
