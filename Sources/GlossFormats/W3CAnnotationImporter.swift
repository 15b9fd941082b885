import GlossModel

/// Reads W3C Web Annotations (JSON-LD) about plain-text documents into Gloss: what
/// ``W3CAnnotationExporter`` writes, and annotations of other tools.
///
/// The file may hold an `Annotation`, an `AnnotationPage` (its `items`, and an embedded
/// `next` page), an `AnnotationCollection` with an embedded `first` page, a JSON array of any
/// of these, or one per line. Pages given only by IRI cannot be followed and are reported.
///
/// The texts: W3C annotations point at their documents by IRI and do not contain them, so the
/// caller passes the texts, keyed by source IRI or by document id (a source that starts with
/// ``documentBase`` is looked up by the rest as well). The document id is the source minus
/// ``documentBase``, or else the whole IRI, slugged. Annotations on a source without a text
/// are reported (once per source) and skipped.
///
/// The mapping, per annotation (the layer is ``ImportOptions/layer``, else the `creator`'s
/// `nickname`, `name` or IRI, else the owner):
/// - targets with selectors on a text → a span: one range per target (overlapping ranges are
///   merged and reported). Its label is each `tagging` body's value (one span per tag); with
///   no tag, the motivation (`highlighting` …) or `annotation`. `classifying` bodies
///   `name=value` become attributes (a value without `=` is the attribute `value=true`),
///   other resource bodies the attribute named by their purpose (`link` without one) with
///   the IRI as value, and other textual bodies (comments) notes on the span;
/// - a target that is a document (its IRI, or a source without selector) → document labels
///   from tagging bodies, notes on the document from other textual bodies;
/// - a target that is another annotation of the file → a relation to the annotation named by
///   a body with `purpose: linking` (labelled by the tagging body; empty without one), or else
///   notes (textual bodies) on the target.
///
/// Selectors: a `TextPositionSelector` is preferred. Positions should count code points, but
/// JavaScript tools often count UTF-16 units: the unit is detected per document from the
/// quotes recorded next to positions. A quote that differs from the text at the position is
/// reported, and the span imported at its position. With only a `TextQuoteSelector`, the
/// quote is searched for and its `prefix` and `suffix` pick among occurrences; a quote found
/// nowhere, or at several places that match equally well, is reported and not imported; one
/// found only with a different prefix or suffix is imported and reported. Other selectors
/// (XPath, ranges, fragments) are not supported.
public struct W3CAnnotationImporter: Sendable {
    /// Owner, layer, strictness and offset unit.
    public var options: ImportOptions
    /// The IRI prefix that document ids follow (as ``W3CAnnotationExporter/documentBase``).
    public var documentBase: String

    /// An importer; see the properties for the parameters.
    public init(options: ImportOptions, documentBase: String = "urn:gloss:document:") {
        self.options = options
        self.documentBase = documentBase
    }

    /// Imports one JSON-LD file.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents (UTF-8).
    ///   - file: the name problems carry.
    ///   - texts: document texts by source IRI or by document id.
    ///   - mintID: makes a fresh Gloss id for each annotation.
    /// - Throws: `invalid-utf8` when the file is not UTF-8; in strict mode, the first problem.
    public func importFile(
        _ bytes: some Collection<UInt8>, file: String? = nil, texts: [String: String], mintID: () -> AnnotationID
    ) throws(FormatProblem) -> FormatImport {
        let (values, log) = try ProblemLog.readJSON(bytes, file: file, skipping: "the annotations there are")
        var run = W3CRun(importer: self, texts: texts, log: log)
        for v in values { run.collect(v) }
        let documents = run.importAll(mintID: mintID)
        return try run.log.finish(documents, strict: options.strict)
    }
}

/// One import: the annotations read, the documents and what each annotation IRI became.
private struct W3CRun {
    struct Body {
        /// The value of a textual body, or nil for a resource.
        var value: String?
        /// The IRI of a resource body.
        var iri: String?
        var purpose: String?
    }

    enum Target {
        case iri(String)
        case specific(source: String, selectors: [JSONValue])
    }

    struct Raw {
        var iri: String
        var place: JSONValue
        var motivation: String?
        var layer: String?
        var bodies: [Body]
        var targets: [Target]
    }

    struct Doc {
        var id: DocumentID
        var text: String
        var source: SourceText
        var scalars: [Unicode.Scalar]
        var unit: OffsetError.Unit = .scalar
        var hasPositions = false
        var annotations: [Annotation] = []
        /// The Gloss ids the annotations' IRIs carry (``ImportedDocument/claimedIDs``).
        var claimedIDs: [AnnotationID: AnnotationID] = [:]
    }

    let importer: W3CAnnotationImporter
    let texts: [String: String]
    var log: ProblemLog
    var raws: [Raw] = []
    var docs: [String: Doc] = [:]
    var docOrder: [String] = []
    var missing: Set<String> = []
    var naming = DocumentNaming()
    /// What each annotation IRI became: its annotations (the first is the one others point at) and document.
    var created: [String: (ids: [AnnotationID], source: String)] = [:]

    init(importer: W3CAnnotationImporter, texts: [String: String], log: ProblemLog) {
        self.importer = importer
        self.texts = texts
        self.log = log
    }

    var options: ImportOptions { importer.options }

    // MARK: - Reading the file

    mutating func collect(_ value: JSONValue) {
        if let elements = value.array {
            for e in elements { collect(e) }
            return
        }
        guard value.isObject else {
            log.add(.invalidRecord, "expected an annotation, page or collection object; skipped", at: value)
            return
        }
        let types = Self.strings(value["type"] ?? value["@type"])
        if types.contains("AnnotationCollection") {
            if let first = value["first"] {
                if first.isObject {
                    collect(first)
                } else {
                    log.add(
                        .unsupportedContent, "the collection's first page is given by IRI and cannot be read here",
                        at: first)
                }
            }
            if let items = value["items"] { collect(items) }
            return
        }
        if types.contains("AnnotationPage") {
            if let items = value["items"] { collect(items) }
            if let next = value["next"], next.isObject { collect(next) }
            return
        }
        if let graph = value["@graph"] {
            collect(graph)
            return
        }
        guard types.contains("Annotation") || value["target"] != nil else {
            log.add(
                .invalidRecord, "an object that is not an Annotation, AnnotationPage or AnnotationCollection; skipped",
                at: value)
            return
        }
        readAnnotation(value)
    }

    private mutating func readAnnotation(_ value: JSONValue) {
        let iri = value["id"]?.string ?? value["@id"]?.string ?? "_:annotation-\(raws.count + 1)"
        var bodies: [Body] = []
        for b in Self.elements(value["body"]) {
            if let iri = b.string {
                bodies.append(Body(value: nil, iri: iri, purpose: nil))
            } else if b.isObject {
                let purpose = Self.strings(b["purpose"]).first
                if let text = b["value"]?.string {
                    bodies.append(Body(value: text, iri: nil, purpose: purpose))
                } else if let iri = b["source"]?.string ?? b["id"]?.string {
                    bodies.append(Body(value: nil, iri: iri, purpose: purpose))
                } else {
                    log.add(.unsupportedContent, "annotation \(iri): a body without value or IRI; skipped", at: b)
                }
            }
        }
        if let text = value["bodyValue"]?.string { bodies.append(Body(value: text, iri: nil, purpose: nil)) }
        var targets: [Target] = []
        for t in Self.elements(value["target"]) {
            if let iri = t.string {
                targets.append(.iri(iri))
            } else if let source = t["source"]?.string {
                targets.append(.specific(source: source, selectors: Self.elements(t["selector"])))
            } else if let iri = t["id"]?.string {
                targets.append(.iri(iri))
            } else {
                log.add(.unsupportedContent, "annotation \(iri): a target without source or IRI; skipped", at: t)
            }
        }
        guard !targets.isEmpty else {
            log.add(.missingField, "annotation \(iri) has no target; skipped", at: value)
            return
        }
        let creator = Self.elements(value["creator"]).first
        let layer = creator.flatMap { $0.string ?? $0["nickname"]?.string ?? $0["name"]?.string ?? $0["id"]?.string }
        raws.append(
            Raw(
                iri: iri, place: value, motivation: Self.strings(value["motivation"]).first, layer: layer,
                bodies: bodies,
                targets: targets))
    }

    // MARK: - Importing

    mutating func importAll(mintID: () -> AnnotationID) -> [ImportedDocument] {
        let annotationIRIs = Set(raws.map(\.iri))
        var pending: [Raw] = []
        var textBound: [(raw: Raw, source: String)] = []
        for raw in raws {
            let selected = raw.targets.compactMap { t -> String? in
                if case .specific(let source, let selectors) = t, !selectors.isEmpty { return source }
                return nil
            }
            if let source = selected.first {
                if document(source, place: raw.place) != nil { textBound.append((raw, source)) }
                continue
            }
            let iri: String
            switch raw.targets[0] {
            case .iri(let i): iri = i
            case .specific(let source, _): iri = source
            }
            if annotationIRIs.contains(iri) {
                pending.append(raw)
            } else if document(iri, place: raw.place) != nil {
                textBound.append((raw, iri))
            }
        }
        // Units need every position of a document, so they are settled before any span.
        detectUnits(textBound)
        for (raw, source) in textBound { importTextBound(raw, source: source, mintID: mintID) }
        importOnAnnotations(pending, mintID: mintID)
        return docOrder.compactMap { key in
            docs[key].map {
                ImportedDocument(
                    id: $0.id, text: $0.text, annotations: $0.annotations, offsetUnit: $0.hasPositions ? $0.unit : nil,
                    source: "\(log.file ?? "w3c") (\(key))", claimedIDs: $0.claimedIDs)
            }
        }
    }

    /// The document of a source IRI, made on first use; nil (reported once) without a text.
    private mutating func document(_ source: String, place: JSONValue) -> Doc? {
        if let doc = docs[source] { return doc }
        let stripped =
            source.hasPrefix(importer.documentBase) ? String(source.dropFirst(importer.documentBase.count)) : nil
        guard let text = texts[source] ?? stripped.flatMap({ texts[$0] }) else {
            if missing.insert(source).inserted {
                log.add(
                    .missingText,
                    "no text was given for \(source) (nor is it an annotation of this file); "
                        + "the annotations on it are not imported", at: place)
            }
            return nil
        }
        let (id, problem) = naming.claim(stripped ?? source, fallback: "w3c/\(docOrder.count + 1)")
        if let (code, message) = problem { log.add(code, message, at: place) }
        let doc = Doc(id: id, text: text, source: SourceText(text), scalars: Array(text.unicodeScalars))
        docs[source] = doc
        docOrder.append(source)
        return doc
    }

    private mutating func detectUnits(_ textBound: [(raw: Raw, source: String)]) {
        var recorded: [String: [(fragments: [TextRange], text: String)]] = [:]
        for (raw, source) in textBound {
            for case .specific(let s, let selectors) in raw.targets where s == source {
                let (position, quote) = Self.selectors(selectors)
                guard let position else { continue }
                docs[source]?.hasPositions = true
                if let exact = quote?["exact"]?.string {
                    recorded[source, default: []].append(([position], exact))
                }
            }
        }
        for key in docOrder {
            guard let doc = docs[key] else { continue }
            if let unit = options.offsetUnit {
                docs[key]!.unit = unit
            } else if let spans = recorded[key] {
                docs[key]!.unit = doc.source.detectUnit(spans) { exact, ranges in
                    (try? doc.source.text(in: ranges[0])) == exact
                }
            }
        }
    }

    /// Spans, document labels and document notes.
    private mutating func importTextBound(_ raw: Raw, source: String, mintID: () -> AnnotationID) {
        let doc = docs[source]!
        let layer = options.layer ?? raw.layer ?? options.owner
        let tags = raw.bodies.filter { $0.purpose == "tagging" && $0.value != nil }.map { $0.value! }
        let attributes = attributes(raw)
        let comments = raw.bodies.filter { $0.value != nil && $0.purpose != "tagging" && $0.purpose != "classifying" }
        var made: [Annotation] = []
        let specifics = raw.targets.compactMap { t -> (String, [JSONValue])? in
            if case .specific(let s, let selectors) = t, !selectors.isEmpty { return (s, selectors) }
            return nil
        }
        if specifics.isEmpty {
            for label in tags {
                made.append(
                    Annotation(
                        id: mintID(), document: doc.id, kind: .documentLabel, layer: layer, owner: options.owner,
                        label: label, attributes: attributes))
            }
            if tags.isEmpty && comments.isEmpty {
                log.add(
                    .unsupportedContent, "annotation \(raw.iri) on a whole document has no tag or comment; skipped",
                    at: raw.place)
            }
        } else {
            var ranges: [TextRange] = []
            for (s, selectors) in specifics {
                guard s == source else {
                    log.add(
                        .unsupportedContent,
                        "annotation \(raw.iri) also targets \(s); only its targets on \(source) are imported",
                        at: raw.place)
                    continue
                }
                if let r = resolve(selectors, in: doc, raw: raw) { ranges.append(r) }
            }
            guard !ranges.isEmpty else { return }
            ranges = merged(ranges.sorted(), raw: raw)
            for label in tags.isEmpty ? [raw.motivation ?? "annotation"] : tags {
                made.append(
                    Annotation.span(
                        mintID(), in: doc.id, ranges, label: label, owner: options.owner, layer: layer,
                        attributes: attributes))
            }
        }
        for c in comments {
            made.append(
                Annotation(
                    id: mintID(), document: doc.id, kind: .note, layer: layer, owner: options.owner,
                    target: specifics.isEmpty ? nil : made.first?.id, text: c.value!))
        }
        docs[source]!.annotations += made
        claim(raw.iri, for: made, in: source)
        created[raw.iri] = (made.filter { $0.kind != .note }.map(\.id), source)
    }

    /// Relations and notes on other annotations, in rounds until every target that can be found is.
    private mutating func importOnAnnotations(_ pending: [Raw], mintID: () -> AnnotationID) {
        var waiting = pending
        var progress = true
        while progress && !waiting.isEmpty {
            progress = false
            var next: [Raw] = []
            for raw in waiting {
                guard let target = created[Self.iri(of: raw.targets[0])] else {
                    next.append(raw)
                    continue
                }
                let links = raw.bodies.filter { $0.iri != nil && ($0.purpose == "linking" || created[$0.iri!] != nil) }
                if let link = links.first, created[link.iri!] == nil {
                    next.append(raw)
                    continue
                }
                progress = true
                importOnAnnotation(raw, target: target, link: links.first?.iri, mintID: mintID)
            }
            waiting = next
        }
        for raw in waiting {
            let targetIRI = Self.iri(of: raw.targets[0])
            let missing = created[targetIRI] == nil ? targetIRI : (raw.bodies.first { $0.iri != nil }?.iri ?? targetIRI)
            log.add(
                .unknownReference, "annotation \(raw.iri) refers to \(missing), which is not imported; skipped",
                at: raw.place)
        }
    }

    private mutating func importOnAnnotation(
        _ raw: Raw, target: (ids: [AnnotationID], source: String), link: String?, mintID: () -> AnnotationID
    ) {
        let documentID = docs[target.source]!.id
        let layer = options.layer ?? raw.layer ?? options.owner
        var made: [Annotation] = []
        if let link, let to = created[link]?.ids.first, let from = target.ids.first {
            let labels = raw.bodies.filter { $0.purpose == "tagging" && $0.value != nil }.map { $0.value! }
            for label in labels.isEmpty ? [""] : labels {
                var r = Annotation.relation(
                    mintID(), in: documentID, from: from, to: to, label: label, owner: options.owner, layer: layer)
                r.attributes = attributes(raw)
                made.append(r)
            }
        }
        let comments = raw.bodies.filter { $0.value != nil && $0.purpose != "tagging" && $0.purpose != "classifying" }
        let noteTarget = made.first?.id ?? target.ids.first
        for c in comments {
            made.append(
                Annotation(
                    id: mintID(), document: documentID, kind: .note, layer: layer, owner: options.owner,
                    target: noteTarget, text: c.value!))
        }
        if made.isEmpty {
            log.add(
                .unsupportedContent,
                "annotation \(raw.iri) on another annotation is neither a link nor a comment; skipped",
                at: raw.place)
        }
        docs[target.source]!.annotations += made
        claim(raw.iri, for: made, in: target.source)
        created[raw.iri] = (made.filter { $0.kind != .note }.map(\.id), target.source)
    }

    /// Gloss writes each annotation as one W3C annotation named `urn:gloss:annotation:ID`: such an
    /// IRI names the first annotation it became.
    private mutating func claim(_ iri: String, for made: [Annotation], in source: String) {
        let prefix = W3CAnnotationExporter.defaultAnnotationBase
        guard iri.hasPrefix(prefix), let first = made.first, let id = AnnotationID(String(iri.dropFirst(prefix.count)))
        else { return }
        docs[source]!.claimedIDs[first.id] = id
    }

    // MARK: - Selectors

    /// A target's range: by position (checked against the quote), else by quote.
    private mutating func resolve(_ selectors: [JSONValue], in doc: Doc, raw: Raw) -> TextRange? {
        let (position, quoteSelector) = Self.selectors(selectors)
        let exact = quoteSelector?["exact"]?.string
        let context = "document \(doc.id), annotation \(raw.iri)"
        if let position {
            do throws(OffsetError) {
                let range = try doc.source.scalarRange(start: position.start, end: position.end, unit: doc.unit)
                if let exact, let found = try? doc.source.text(in: range), found != exact {
                    log.add(
                        .textMismatch,
                        "\(context): the quote is \"\(abbreviated(exact))\" but the text at \(doc.unit) positions "
                            + "\(position.start)-\(position.end) is \"\(abbreviated(found))\"; imported at the position",
                        at: raw.place)
                }
                return range
            } catch {
                log.add(
                    error.code == .outOfBounds ? .offsetsOutOfBounds : .invalidOffsets,
                    "\(context): \(error.message)"
                        + (exact == nil ? "; skipped" : "; the quote is searched for instead"),
                    at: raw.place)
            }
        }
        guard let exact else {
            if position == nil {
                log.add(
                    .unsupportedContent,
                    "\(context): no TextPositionSelector or TextQuoteSelector (other selectors are not supported); skipped",
                    at: raw.place)
            }
            return nil
        }
        let quote = W3CTextQuote(
            exact: exact, prefix: quoteSelector?["prefix"]?.string, suffix: quoteSelector?["suffix"]?.string)
        switch quote.locate(in: doc.scalars) {
        case .found(let range):
            return range
        case .foundWithDifferentContext(let range):
            log.add(
                .textMismatch,
                "\(context): the quote \"\(abbreviated(exact))\" is found at \(range) only with a different prefix "
                    + "or suffix; imported there", at: raw.place)
            return range
        case .notFound:
            log.add(
                .quoteNotFound, "\(context): the quote \"\(abbreviated(exact))\" is not in the text; skipped",
                at: raw.place)
            return nil
        case .ambiguous(let n):
            log.add(
                .ambiguousQuote,
                "\(context): the quote \"\(abbreviated(exact))\" matches \(n) places equally well; skipped",
                at: raw.place)
            return nil
        }
    }

    /// Ranges sorted and with overlaps merged (reported).
    private mutating func merged(_ sorted: [TextRange], raw: Raw) -> [TextRange] {
        var out: [TextRange] = []
        for r in sorted {
            if let last = out.last, r.start < last.end || r == last {
                log.add(
                    .overlappingFragments, "annotation \(raw.iri): targets \(last) and \(r) overlap; merged",
                    at: raw.place)
                out[out.count - 1].end = max(last.end, r.end)
            } else {
                out.append(r)
            }
        }
        return out
    }

    private func attributes(_ raw: Raw) -> [String: String] {
        var attributes: [String: String] = [:]
        for b in raw.bodies {
            if b.purpose == "classifying", let v = b.value {
                if let eq = v.firstIndex(of: "=") {
                    attributes[String(v[..<eq])] = String(v[v.index(after: eq)...])
                } else {
                    attributes[v] = "true"
                }
            } else if let iri = b.iri, b.purpose != "linking" {
                attributes[b.purpose ?? "link"] = iri
            }
        }
        return attributes
    }

    // MARK: - Helpers

    /// The position (as written) and the quote selector among a target's selectors.
    private static func selectors(_ selectors: [JSONValue]) -> (position: TextRange?, quote: JSONValue?) {
        var position: TextRange?
        var quote: JSONValue?
        for s in selectors {
            switch s["type"]?.string {
            case "TextPositionSelector":
                if position == nil, let start = s["start"]?.int, let end = s["end"]?.int {
                    position = TextRange(start, end)
                }
            case "TextQuoteSelector":
                if quote == nil, s["exact"]?.string != nil { quote = s }
            default: break
            }
        }
        return (position, quote)
    }

    private static func iri(of target: Target) -> String {
        switch target {
        case .iri(let i): i
        case .specific(let source, _): source
        }
    }

    /// A value that may be one item or a list of them, as a list.
    private static func elements(_ value: JSONValue?) -> [JSONValue] {
        guard let value, !value.isNull else { return [] }
        return value.array ?? [value]
    }

    private static func strings(_ value: JSONValue?) -> [String] { elements(value).compactMap(\.string) }
}

extension ErrorCode where Domain == FormatProblem {
    /// A quote (W3C `TextQuoteSelector`) that occurs nowhere in the text; not imported.
    public static let quoteNotFound = Self(rawValue: "quote-not-found")
    /// A quote that occurs at several places that its prefix and suffix cannot tell apart; not imported.
    public static let ambiguousQuote = Self(rawValue: "ambiguous-quote")
}
