import GlossModel

/// Reads one brat standoff `.ann` file against its `.txt` text into Gloss annotations.
///
/// The mapping:
/// - `T` lines become spans (discontinuous fragments become several ranges, sorted);
/// - `R` lines become relations (first argument = `from`, second = `to`);
/// - an `E` line becomes its trigger's span (whose label is the event type) plus one relation
///   per argument, from that span to the argument (a span, or the span of an argument event),
///   labelled with the role without brat's numeric suffix (`Theme2` → `Theme`). When several
///   events share one trigger, every event after the first gets a span of its own with the
///   trigger's ranges;
/// - `A`/`M` lines become attributes of their annotation (a binary attribute has the value
///   `"true"`);
/// - `#` lines become notes attached to their annotation (the note type, such as
///   `AnnotatorNotes`, is kept only in the ``BratDocument``);
/// - `N` (normalization) and `*` (equivalence) lines have no Gloss counterpart: they are
///   checked and kept in the ``BratDocument`` for export.
///
/// Offsets: brat counts Unicode scalars over the text as stored, like Gloss. Every `T` line's
/// recorded text is compared with the text at its offsets (fragments joined by a space); when
/// that fails and counting UTF-16 code units (as JavaScript tools do) or UTF-8 bytes makes
/// more lines match, the file is read in that unit and converted. Lines that still do not
/// match are reported but imported. Lines that cannot be imported (bad syntax, offsets outside
/// the text, references to missing ids, duplicates) are reported and kept verbatim; the rest
/// of the file still imports. With ``strict`` any problem is thrown instead.
public struct BratImporter: Sendable {
    /// Owner, layer (nil: the owner's), strictness (the first problem, in line order, is
    /// thrown) and offset unit (nil: detected from the recorded texts).
    public var options: ImportOptions

    public var owner: String { options.owner }
    public var layer: String? { options.layer }
    public var strict: Bool { options.strict }
    public var offsetUnit: OffsetError.Unit? { options.offsetUnit }

    /// An importer with these options.
    public init(options: ImportOptions) { self.options = options }

    /// An importer for annotations owned by `owner`, in `layer` (default: the owner's).
    public init(owner: String, layer: String? = nil, strict: Bool = false, offsetUnit: OffsetError.Unit? = nil) {
        self.init(options: ImportOptions(owner: owner, layer: layer, strict: strict, offsetUnit: offsetUnit))
    }

    /// Imports an `.ann` file given as text, against the document's text.
    ///
    /// - Parameters:
    ///   - document: the Gloss document the annotations belong to.
    ///   - file: the name problems carry (for example the `.ann` file's path).
    ///   - mintID: makes a fresh Gloss id for each annotation.
    /// - Throws: in ``strict`` mode, the first problem.
    public func importDocument(
        ann: String, text: String, document: DocumentID, file: String? = nil, mintID: () -> AnnotationID
    ) throws(FormatProblem) -> BratImport {
        var run = ImportRun(importer: self, file: file, documentID: document, text: text, ann: ann)
        run.importAll(mintID: mintID)
        let result = run.result
        if strict, let first = result.problems.first { throw first }
        return result
    }

    /// Imports an `.ann` file given as UTF-8 bytes, against the document's text as UTF-8 bytes.
    ///
    /// - Throws: ``FormatProblem/Code/invalidUTF8`` when either is not UTF-8 (always fatal);
    ///   in ``strict`` mode, the first problem.
    public func importDocument(
        annUTF8: some Collection<UInt8>, textUTF8: some Collection<UInt8>, document: DocumentID, file: String? = nil,
        textFile: String? = nil, mintID: () -> AnnotationID
    ) throws(FormatProblem) -> BratImport {
        let ann = try Self.decode(annUTF8, file: file)
        let text = try Self.decode(textUTF8, file: textFile)
        return try importDocument(ann: ann, text: text, document: document, file: file, mintID: mintID)
    }

    static func decode(_ bytes: some Collection<UInt8>, file: String?) throws(FormatProblem) -> String {
        do throws(ValidationError) {
            return try GlossModel.Document.text(fromUTF8: bytes)
        } catch {
            throw FormatProblem(.invalidUTF8, error.message, file: file)
        }
    }
}

/// The state of one import: the lines, what each brat id became, and the problems so far.
private struct ImportRun {
    let importer: BratImporter
    let file: String?
    let documentID: DocumentID
    let text: SourceText
    var document: BratDocument
    var problems: [FormatProblem]

    var spans: [Annotation] = []
    var relations: [Annotation] = []
    var notes: [Annotation] = []
    var bratIDs: [AnnotationID: String] = [:]
    /// What each imported T, E and R id became.
    var glossOf: [String: AnnotationID] = [:]
    /// Where each span and relation sits in `spans` / `relations`.
    var position: [AnnotationID: (kind: AnnotationKind, index: Int)] = [:]
    /// Lines not imported (indices into `document.lines`).
    var skipped: Set<Int> = []

    init(importer: BratImporter, file: String?, documentID: DocumentID, text: String, ann: String) {
        self.importer = importer
        self.file = file
        self.documentID = documentID
        self.text = SourceText(text)
        (document, problems) = BratDocument.parse(ann, file: file)
        for (i, line) in document.lines.enumerated() where line.entry == .unparsed { skipped.insert(i) }
    }

    var result: BratImport {
        let ordered = problems.enumerated().sorted { a, b in
            (a.element.line ?? 0, a.offset) < (b.element.line ?? 0, b.offset)
        }.map(\.element)
        return BratImport(
            document: document, annotations: spans + relations + notes, bratIDs: bratIDs, problems: ordered)
    }

    mutating func importAll(mintID: () -> AnnotationID) {
        rejectDuplicateIDs()
        document.offsetUnit = importer.offsetUnit ?? detectOffsetUnit()
        importTextBounds(mintID: mintID)
        importEvents(mintID: mintID)
        importRelations(mintID: mintID)
        importAttributes()
        importNotes(mintID: mintID)
        checkNormalizationsAndEquivalences()
        for i in document.lines.indices {
            let line = document.lines[i]
            document.lines[i].isImported = !skipped.contains(i) && line.entry != .blank
        }
    }

    // MARK: - Steps

    private mutating func rejectDuplicateIDs() {
        var firstLine: [String: Int] = [:]
        for (i, line) in document.lines.enumerated() {
            guard let id = line.entry.id else { continue }
            if let earlier = firstLine[id] {
                report(
                    .duplicateID, "id \(id) is already used on line \(earlier); this line is not imported", line,
                    column: 1)
                skipped.insert(i)
            } else {
                firstLine[id] = line.number
            }
        }
    }

    /// Scalars, unless UTF-16 units or UTF-8 bytes make strictly more recorded texts match.
    private func detectOffsetUnit() -> OffsetError.Unit {
        let recorded: [(fragments: [TextRange], text: String)] = document.lines.enumerated().compactMap { i, line in
            guard !skipped.contains(i), case .textBound(let t) = line.entry, let recorded = t.text else { return nil }
            return (t.fragments, recorded)
        }
        return text.detectUnit(recorded, matches: text.matches)
    }

    private mutating func importTextBounds(mintID: () -> AnnotationID) {
        let unit = document.offsetUnit
        for (i, line) in document.lines.enumerated() where !skipped.contains(i) {
            guard case .textBound(let t) = line.entry else { continue }
            let fragments: [TextRange]
            do throws(OffsetError) {
                fragments = try text.scalarRanges(t.fragments, unit: unit)
            } catch {
                let code: FormatProblem.Code = error.code == .outOfBounds ? .offsetsOutOfBounds : .invalidOffsets
                report(code, "\(error.message); the span is not imported", line, column: column(of: nil, in: line))
                skipped.insert(i)
                continue
            }
            let ranges = fragments.sorted()
            for (a, b) in zip(ranges, ranges.dropFirst()) where a.overlaps(b) || a == b {
                report(
                    .overlappingFragments, "fragments \(a) and \(b) overlap", line, column: column(of: nil, in: line))
            }
            if let recorded = t.text, !text.matches(recorded, fragments) {
                let found = (try? text.recordedText(fragments)) ?? ""
                report(
                    .textMismatch,
                    "the line records \"\(Self.abbreviated(recorded))\" but the text at \(unit) offsets "
                        + t.fragments.map { "\($0.start) \($0.end)" }.joined(separator: ";")
                        + " is \"\(Self.abbreviated(found))\"",
                    line, column: column(of: nil, in: line))
            }
            let span = Annotation.span(
                mintID(), in: documentID, ranges, label: t.type, owner: importer.owner, layer: importer.layer)
            add(span, bratID: t.id)
        }
    }

    private mutating func importEvents(mintID: () -> AnnotationID) {
        // Candidates: events whose trigger is an imported span and whose roles are distinct.
        var candidates: [(line: Int, event: BratEntry.Event)] = []
        for (i, line) in document.lines.enumerated() where !skipped.contains(i) {
            guard case .event(let e) = line.entry else { continue }
            guard isTextBound(e.trigger) else {
                reportReference(e.trigger, token: "\(e.type):\(e.trigger)", what: "trigger", line)
                skipped.insert(i)
                continue
            }
            var roles = Set<String>()
            if let k = e.arguments.firstIndex(where: { !roles.insert($0.role).inserted }) {
                let repeated = e.arguments[k]
                let occurrence = e.arguments[...k].filter { $0 == repeated }.count
                report(
                    .duplicateRole,
                    "role \(repeated.role) appears twice; brat numbers repeated roles (Theme, Theme2 …)",
                    line, column: column(of: "\(repeated.role):\(repeated.id)", in: line, occurrence: occurrence))
                skipped.insert(i)
                continue
            }
            candidates.append((i, e))
        }
        // Arguments may be other events: drop events with an argument that is neither an
        // imported span nor a surviving event, until nothing changes.
        var alive = Set(candidates.map(\.event.id))
        var changed = true
        while changed {
            changed = false
            for (i, e) in candidates where alive.contains(e.id) {
                guard let bad = e.arguments.first(where: { !isTextBound($0.id) && !alive.contains($0.id) }) else {
                    continue
                }
                reportReference(bad.id, token: "\(bad.role):\(bad.id)", what: "argument", document.lines[i])
                alive.remove(e.id)
                skipped.insert(i)
                changed = true
            }
        }
        let events = candidates.filter { alive.contains($0.event.id) }
        // Each event's span: its trigger's, or a copy when an earlier event already claimed it.
        var claimed = Set<String>()
        for (i, e) in events {
            let trigger = spans[position[glossOf[e.trigger]!]!.index]
            if claimed.insert(e.trigger).inserted {
                glossOf[e.id] = trigger.id
                if e.type != trigger.label {
                    report(
                        .eventTypeMismatch,
                        "event type \(e.type) differs from its trigger's type \(trigger.label); "
                            + "the span keeps \(trigger.label)",
                        document.lines[i], column: column(of: "\(e.type):\(e.trigger)", in: document.lines[i]))
                }
            } else {
                let copy = Annotation.span(
                    mintID(), in: documentID, trigger.ranges, label: e.type, owner: importer.owner,
                    layer: importer.layer)
                add(copy, bratID: e.id)
            }
        }
        for (_, e) in events {
            let from = glossOf[e.id]!
            for argument in e.arguments {
                let relation = Annotation.relation(
                    mintID(), in: documentID, from: from, to: glossOf[argument.id]!, label: argument.label,
                    owner: importer.owner, layer: importer.layer)
                add(relation, bratID: "\(e.id) \(argument.role)")
            }
        }
    }

    private mutating func importRelations(mintID: () -> AnnotationID) {
        for (i, line) in document.lines.enumerated() where !skipped.contains(i) {
            guard case .relation(let r) = line.entry else { continue }
            var ends: [AnnotationID] = []
            for argument in [r.from, r.to] {
                guard let id = glossOf[argument.id], position[id]?.kind == .span else {
                    reportReference(argument.id, token: "\(argument.role):\(argument.id)", what: "argument", line)
                    break
                }
                ends.append(id)
            }
            guard ends.count == 2 else {
                skipped.insert(i)
                continue
            }
            let relation = Annotation.relation(
                mintID(), in: documentID, from: ends[0], to: ends[1], label: r.type, owner: importer.owner,
                layer: importer.layer)
            add(relation, bratID: r.id)
        }
    }

    private mutating func importAttributes() {
        var seen = Set<String>()
        for (i, line) in document.lines.enumerated() where !skipped.contains(i) {
            guard case .attribute(let a) = line.entry else { continue }
            guard let target = glossOf[a.target], let place = position[target] else {
                reportReference(a.target, token: a.target, what: "target", line)
                skipped.insert(i)
                continue
            }
            guard seen.insert("\(target) \(a.name)").inserted else {
                report(
                    .duplicateAttribute, "\(a.target) already has attribute \(a.name); this line is not imported", line,
                    column: column(of: a.name, in: line))
                skipped.insert(i)
                continue
            }
            let value = a.value ?? "true"
            switch place.kind {
            case .span: spans[place.index].attributes[a.name] = value
            default: relations[place.index].attributes[a.name] = value
            }
        }
    }

    private mutating func importNotes(mintID: () -> AnnotationID) {
        for (i, line) in document.lines.enumerated() where !skipped.contains(i) {
            guard case .note(let n) = line.entry else { continue }
            guard let target = glossOf[n.target], position[target] != nil else {
                reportReference(n.target, token: n.target, what: "target", line)
                skipped.insert(i)
                continue
            }
            let note = Annotation(
                id: mintID(), document: documentID, kind: .note, layer: importer.layer ?? importer.owner,
                owner: importer.owner, target: target, text: n.text ?? "")
            bratIDs[note.id] = n.id
            notes.append(note)
        }
    }

    private mutating func checkNormalizationsAndEquivalences() {
        for (i, line) in document.lines.enumerated() where !skipped.contains(i) {
            switch line.entry {
            case .normalization(let n) where glossOf[n.target] == nil:
                reportReference(n.target, token: n.target, what: "target", line)
                skipped.insert(i)
            case .equivalence(let q):
                for member in q.members where glossOf[member] == nil {
                    reportReference(member, token: member, what: "member", line)
                    skipped.insert(i)
                }
            default: break
            }
        }
    }

    // MARK: - Helpers

    private func isTextBound(_ bratID: String) -> Bool {
        guard let id = glossOf[bratID] else { return false }
        return bratIDs[id] == bratID && bratID.hasPrefix("T")
    }

    private mutating func add(_ a: Annotation, bratID: String) {
        bratIDs[a.id] = bratID
        if a.kind == .span {
            position[a.id] = (.span, spans.count)
            spans.append(a)
        } else {
            position[a.id] = (.relation, relations.count)
            relations.append(a)
        }
        if !bratID.contains(" ") { glossOf[bratID] = a.id }
    }

    private mutating func report(
        _ code: FormatProblem.Code, _ message: String, _ line: BratDocument.Line, column: Int? = nil
    ) {
        problems.append(FormatProblem(code, message, file: file, line: line.number, column: column))
    }

    private mutating func reportReference(_ bratID: String, token: String, what: String, _ line: BratDocument.Line) {
        let known = glossOf[bratID] != nil
        report(
            known ? .invalidReference : .unknownReference,
            known
                ? "\(what) \(bratID) is not an annotation this line can point at; the line is not imported"
                : "\(what) \(bratID) is not defined (or was not imported)"
                    + (line.entry.isKeptWhenDangling ? "" : "; the line is not imported"),
            line, column: column(of: token, in: line))
    }

    /// The 1-based column of the `occurrence`-th space- or tab-separated token equal to
    /// `token` in the line; with a nil token, the column of the field after the first tab.
    private func column(of token: String?, in line: BratDocument.Line, occurrence: Int = 1) -> Int? {
        let scalars = Array(line.text.unicodeScalars)
        guard let tab = scalars.firstIndex(of: "\t") else { return nil }
        guard let token else { return tab + 2 }
        let target = Array(token.unicodeScalars)
        var seen = 0
        var i = tab + 1
        while i < scalars.count {
            if scalars[i] == " " || scalars[i] == "\t" {
                i += 1
                continue
            }
            var j = i
            while j < scalars.count, scalars[j] != " ", scalars[j] != "\t" { j += 1 }
            if Array(scalars[i..<j]) == target {
                seen += 1
                if seen == occurrence { return i + 1 }
            }
            i = j
        }
        return nil
    }

    private static func abbreviated(_ s: String) -> String {
        s.unicodeScalars.count <= 60 ? s : String(String.UnicodeScalarView(s.unicodeScalars.prefix(57))) + "…"
    }
}

extension BratEntry {
    /// Normalizations and equivalences with a dangling reference are still written back.
    fileprivate var isKeptWhenDangling: Bool {
        switch self {
        case .normalization, .equivalence: true
        default: false
        }
    }
}
