import GlossModel

/// Writes Gloss annotations of one document as a brat standoff `.ann` file.
///
/// Given the ``BratDocument`` and brat ids of an earlier import, the exporter walks the
/// original lines in order: a line whose annotations did not change is written back byte for
/// byte; a changed one is re-rendered in place (keeping its id, note type, relation role
/// names and trailing field); a line whose annotation was deleted is dropped (and so are `A`,
/// `N` and `#` lines on it; `*` lines lose the member). Lines that were not imported
/// (malformed, dangling) are written back verbatim. New annotations follow, as `T`, `E`, `R`,
/// `A` and `#` lines, with fresh ids above the highest of each kind. So an unedited import
/// exports to the same bytes.
///
/// Without an original document every line is new; without brat ids every annotation gets a
/// fresh id (`T1`, `R1`, `A1`, `#1` …).
///
/// Events: a relation whose brat id is an event argument (`"E1 Theme2"`) and that still starts
/// at the event's span stays an argument (its role keeps its number while its label is the
/// role's label); a new relation that starts at an event's span becomes a new argument of that
/// event, with a numbered role when the role is taken (`Theme`, `Theme2` …); every other
/// relation is an `R` line. An event's type is its span's label.
///
/// Offsets are written in the original document's unit (scalars without one). Line breaks
/// inside a span's recorded text are written as spaces, as the line format requires.
public struct BratExporter: Sendable {
    /// An exporter; it keeps no state between exports.
    public init() {}

    /// Renders annotations as an `.ann` file.
    ///
    /// - Parameters:
    ///   - annotations: the document's annotations (spans, relations and notes; document labels
    ///     and notes on the whole document have no brat form and are reported).
    ///   - text: the document's text (for offsets in other units and the recorded span texts).
    ///   - bratIDs: brat ids from ``BratImport/bratIDs`` or an earlier ``BratExport/bratIDs``.
    ///   - original: the imported ``BratDocument`` whose order, formatting and extras to keep.
    ///   - file: the name problems carry.
    public func export(
        _ annotations: [Annotation], text: String, bratIDs: [AnnotationID: String] = [:],
        original: BratDocument? = nil, file: String? = nil
    ) -> BratExport {
        var run = ExportRun(
            annotations: annotations, text: SourceText(text), bratIDs: bratIDs,
            original: original ?? BratDocument(), file: file)
        return run.export()
    }
}

/// One export: plans every annotation's brat form, then writes the original lines and the new ones.
private struct ExportRun {
    struct EventPlan {
        var id: String
        var span: AnnotationID
        var original: BratEntry.Event?
        /// Argument relations in output order: the role their brat id names (if any) and the
        /// role they are written with (once assigned).
        var arguments: [(relation: AnnotationID, mappedRole: String?, role: String?)] = []
        /// The trigger's T id (nil until planned).
        var trigger: String?
        /// Whether the trigger is a T line written for this event's span just before the E line.
        var ownsTriggerLine = false
    }

    let text: SourceText
    let original: BratDocument
    let file: String?
    let inputBratIDs: [AnnotationID: String]
    let unit: OffsetError.Unit
    let terminator: String

    var annotations: [AnnotationID: Annotation] = [:]
    /// Exportable annotations by kind, in input order.
    var spans: [AnnotationID] = []
    var relations: [AnnotationID] = []
    var notes: [AnnotationID] = []
    var problems: [FormatProblem] = []

    /// brat id → Gloss id, from the caller's mapping (plain ids only, not event arguments).
    var inverse: [String: AnnotationID] = [:]
    /// The original document's imported events, by id.
    var originalEvents: [String: (line: Int, event: BratEntry.Event)] = [:]

    var spanTID: [AnnotationID: String] = [:]
    var events: [String: EventPlan] = [:]
    var eventOrder: [String] = []
    var eventOfSpan: [AnnotationID: String] = [:]
    var relationRID: [AnnotationID: String] = [:]
    var argumentOf: [AnnotationID: String] = [:]
    var noteID: [AnnotationID: String] = [:]
    var ids: IDAllocator

    init(
        annotations input: [Annotation], text: SourceText, bratIDs: [AnnotationID: String], original: BratDocument,
        file: String?
    ) {
        self.text = text
        self.original = original
        self.file = file
        self.inputBratIDs = bratIDs
        self.unit = original.offsetUnit
        self.terminator = original.preferredTerminator
        ids = IDAllocator(original: original, bratIDs: bratIDs)
        for a in input where annotations[a.id] == nil {
            annotations[a.id] = a
        }
        var seenInput = Set<AnnotationID>()
        for a in input where seenInput.insert(a.id).inserted {
            switch a.kind {
            case .span: spans.append(a.id)
            case .relation: relations.append(a.id)
            case .note: notes.append(a.id)
            case .documentLabel:
                report(.unrepresentable, "document label \"\(a.label)\" (\(a.id)) has no brat form; it is not exported")
            }
        }
        for (id, bratID) in bratIDs where !bratID.contains(" ") && inverse[bratID] == nil {
            inverse[bratID] = id
        }
        // Deterministic when two annotations claim one brat id: the smaller Gloss id keeps it.
        for (id, bratID) in bratIDs where !bratID.contains(" ") && id < inverse[bratID]! {
            inverse[bratID] = id
        }
        for (i, line) in original.lines.enumerated() where line.isImported {
            if case .event(let e) = line.entry { originalEvents[e.id] = (i, e) }
        }
    }

    mutating func export() -> BratExport {
        planSpans()
        planEvents()
        planRelations()
        planNotes()
        planArgumentsAndTriggers()
        let ann = write()
        var out: [AnnotationID: String] = [:]
        for (id, t) in spanTID where eventOfSpan[id] == nil || inputBratIDs[id] != eventOfSpan[id] { out[id] = t }
        for (id, e) in eventOfSpan where spanTID[id] == nil || inputBratIDs[id] == e { out[id] = e }
        for (id, r) in relationRID { out[id] = r }
        for plan in events.values {
            for argument in plan.arguments { out[argument.relation] = "\(plan.id) \(argument.role!)" }
        }
        for (id, n) in noteID { out[id] = n }
        return BratExport(ann: ann, bratIDs: out, problems: problems)
    }

    // MARK: - Planning

    /// Which spans can be written, and their T ids (mapped, else fresh in text order).
    private mutating func planSpans() {
        var exportable: [AnnotationID] = []
        for id in spans {
            let span = annotations[id]!
            guard checkName(span.label, what: "span label", of: span) else { continue }
            guard !span.ranges.isEmpty, (try? text.fragments(span.ranges, unit: unit)) != nil else {
                report(
                    .offsetsOutOfBounds,
                    "span \(id) has no ranges or ranges outside the text "
                        + "(\(span.ranges.map(\.description).joined(separator: ","))); it is not exported")
                continue
            }
            exportable.append(id)
        }
        spans = exportable
        var fresh: [AnnotationID] = []
        for id in spans {
            if let t = inputBratIDs[id], t.hasPrefix("T"), inverse[t] == id {
                spanTID[id] = t
            } else if let e = inputBratIDs[id], e.hasPrefix("E"), inverse[e] == id {
                // The span of an event that shares its trigger: planned with the events.
            } else {
                fresh.append(id)
            }
        }
        for id in fresh.sorted(by: { textOrder(annotations[$0]!, annotations[$1]!) }) {
            spanTID[id] = ids.next("T")
        }
    }

    /// Events of the original document whose span survives, then events named only in the
    /// caller's brat ids (a span `"E7"` or an argument `"E7 Theme"`).
    private mutating func planEvents() {
        let exportable = Set(spans)
        for line in original.lines where line.isImported {
            guard case .event(let e) = line.entry else { continue }
            guard let span = inverse[e.id] ?? inverse[e.trigger], exportable.contains(span), eventOfSpan[span] == nil
            else {
                continue
            }
            addEvent(EventPlan(id: e.id, span: span, original: e))
        }
        let mappedEventSpans = spans.compactMap { id -> (String, AnnotationID)? in
            guard let e = inputBratIDs[id], e.hasPrefix("E"), inverse[e] == id else { return nil }
            return (e, id)
        }
        for (e, span) in mappedEventSpans.sorted(by: { IDAllocator.order($0.0, $1.0) }) where events[e] == nil {
            addEvent(EventPlan(id: e, span: span))
        }
        for (e, span) in argumentMappings().sorted(by: { IDAllocator.order($0.0, $1.0) }) where events[e] == nil {
            guard exportable.contains(span), eventOfSpan[span] == nil else { continue }
            addEvent(EventPlan(id: e, span: span))
        }
        // A span that stands for an event but whose event could not be planned gets a T line.
        for id in spans where spanTID[id] == nil && eventOfSpan[id] == nil {
            spanTID[id] = ids.next("T")
        }
        for e in eventOrder {
            let span = annotations[events[e]!.span]!
            if !checkName(span.label, what: "event type", of: span, allowColon: false) {
                // Written as a plain T line instead: the label cannot precede ":TRIGGER".
                eventOfSpan[span.id] = nil
                events[e] = nil
                if spanTID[span.id] == nil { spanTID[span.id] = ids.next("T") }
            }
        }
        eventOrder.removeAll { events[$0] == nil }
    }

    /// Events named by argument ids (`"E7 Theme"`) and the span their first argument starts at.
    private func argumentMappings() -> [(String, AnnotationID)] {
        var first: [String: AnnotationID] = [:]
        for id in relations {
            guard let mapped = inputBratIDs[id], let space = mapped.firstIndex(of: " ") else { continue }
            let e = String(mapped[..<space])
            if first[e] == nil, let from = annotations[id]?.from { first[e] = from }
        }
        return first.map { ($0.key, $0.value) }
    }

    private mutating func addEvent(_ plan: EventPlan) {
        events[plan.id] = plan
        eventOrder.append(plan.id)
        eventOfSpan[plan.span] = plan.id
    }

    /// Relations: arguments of events or R lines; both ends must be exported spans.
    private mutating func planRelations() {
        let exportable = Set(spans)
        var fresh: [AnnotationID] = []
        var usedRIDs = Set<String>()
        for id in relations {
            let r = annotations[id]!
            guard let from = r.from, let to = r.to, exportable.contains(from), exportable.contains(to) else {
                let ends = [r.from, r.to].compactMap { $0 }
                let kinds = ends.compactMap { annotations[$0]?.kind }
                if kinds.count == 2 && kinds.contains(where: { $0 != .span }) {
                    report(
                        .unrepresentable, "relation \(id) (\(r.label)) points at a non-span; brat relations join spans")
                } else {
                    report(
                        .danglingReference, "relation \(id) (\(r.label)) points at an annotation that is not exported")
                }
                continue
            }
            guard checkName(r.label, what: "relation label", of: r, allowColon: eventOfSpan[from] == nil) else {
                continue
            }
            if let mapped = inputBratIDs[id], let space = mapped.firstIndex(of: " ") {
                let e = String(mapped[..<space])
                let role = String(mapped[mapped.index(after: space)...])
                if let plan = events[e], plan.span == from {
                    events[e]!.arguments.append((id, role, nil))
                    argumentOf[id] = e
                    continue
                }
            } else if let mapped = inputBratIDs[id], mapped.hasPrefix("R"), inverse[mapped] == id,
                usedRIDs.insert(mapped).inserted
            {
                relationRID[id] = mapped
                continue
            }
            fresh.append(id)
        }
        for id in fresh {
            let r = annotations[id]!
            if let e = eventOfSpan[r.from!] {
                events[e]!.arguments.append((id, nil, nil))
                argumentOf[id] = e
            } else {
                relationRID[id] = ids.next("R")
            }
        }
    }

    private mutating func planNotes() {
        var exportable: [AnnotationID] = []
        for id in notes {
            let note = annotations[id]!
            guard let target = note.target else {
                report(.unrepresentable, "note \(id) is attached to the whole document; brat notes need an annotation")
                continue
            }
            guard reference(to: target) != nil else {
                report(
                    .danglingReference, "note \(id) is attached to \(target), which is not exported or has no brat id")
                continue
            }
            exportable.append(id)
        }
        notes = exportable
        for id in notes {
            if let mapped = inputBratIDs[id], mapped.hasPrefix("#"), inverse[mapped] == id {
                noteID[id] = mapped
            }
        }
    }

    /// Orders each event's arguments (original ones first, in their original order), gives
    /// new and relabelled arguments a free role, and picks each event's trigger.
    private mutating func planArgumentsAndTriggers() {
        for e in eventOrder {
            var plan = events[e]!
            // A mapped role counts once, and with an original event only if the event had it;
            // it is kept when the relation's label is still the role's label.
            let position = plan.original.map {
                Dictionary(
                    $0.arguments.enumerated().map { ($0.element.role, $0.offset) }, uniquingKeysWith: { a, _ in a })
            }
            var mapped = Set<String>()
            for i in plan.arguments.indices {
                guard let role = plan.arguments[i].mappedRole else { continue }
                if (position != nil && position![role] == nil) || !mapped.insert(role).inserted {
                    plan.arguments[i].mappedRole = nil
                } else if BratEntry.Argument.label(ofRole: role) == annotations[plan.arguments[i].relation]!.label {
                    plan.arguments[i].role = role
                }
            }
            // Original arguments keep their place (relabelled ones too); new ones follow.
            if let position {
                let known = plan.arguments.filter { $0.mappedRole != nil }
                    .sorted { position[$0.mappedRole!]! < position[$1.mappedRole!]! }
                plan.arguments = known + plan.arguments.filter { $0.mappedRole == nil }
            }
            var used = Set(plan.arguments.compactMap { $0.role })
            for i in plan.arguments.indices where plan.arguments[i].role == nil {
                let relation = plan.arguments[i].relation
                let label = annotations[relation]!.label
                var role = label
                if BratEntry.Argument.label(ofRole: label) == label {
                    var n = 2
                    while used.contains(role) {
                        role = "\(label)\(n)"
                        n += 1
                    }
                } else {
                    // brat reads trailing digits of a role as a repetition number.
                    report(
                        .unrepresentable,
                        "event argument \(relation) is labelled \"\(label)\"; brat reads a role's trailing digits as a "
                            + "number, so it reads back as \"\(BratEntry.Argument.label(ofRole: label))\"")
                    var n = 2
                    while used.contains(role) {
                        role = "\(label)-\(n)"
                        n += 1
                    }
                }
                used.insert(role)
                plan.arguments[i].role = role
            }
            if let t = spanTID[plan.span] {
                plan.trigger = t
            } else {
                let span = annotations[plan.span]!
                if let t = plan.original?.trigger, let other = inverse[t], let triggerSpan = annotations[other],
                    spanTID[other] == t, triggerSpan.label == span.label, triggerSpan.ranges == span.ranges
                {
                    plan.trigger = t
                } else {
                    let t = ids.next("T")
                    spanTID[plan.span] = t
                    plan.trigger = t
                    plan.ownsTriggerLine = true
                }
            }
            events[e] = plan
        }
        for id in notes where noteID[id] == nil { noteID[id] = ids.next("#") }
    }

    // MARK: - Writing

    private mutating func write() -> String {
        var out = ""
        var written = Set<String>()  // T, E, R and # ids already written
        var writtenAttributes = Set<String>()  // "glossID name"
        for line in original.lines {
            guard line.isImported else {
                out += line.text + line.terminator
                continue
            }
            var rendered: String?
            switch line.entry {
            case .textBound(let t):
                guard let span = inverse[t.id], spanTID[span] == t.id else { continue }
                let entry = textBoundEntry(span, id: t.id)
                let originalRanges = (try? text.scalarRanges(t.fragments, unit: unit))?.sorted()
                let same = t.type == entry.type && originalRanges == annotations[span]!.ranges.sorted()
                rendered = same ? line.text : BratEntry.textBound(entry).rendered
                written.insert(t.id)
            case .event(let e):
                guard let plan = events[e.id], plan.original != nil else { continue }
                if plan.ownsTriggerLine, let t = plan.trigger {
                    out += BratEntry.textBound(textBoundEntry(plan.span, id: t)).rendered! + line.terminator
                    written.insert(t)
                }
                let entry = eventEntry(plan, original: e)
                rendered = entry == e ? line.text : BratEntry.event(entry).rendered
                written.insert(e.id)
            case .relation(let r):
                guard let relation = inverse[r.id], relationRID[relation] == r.id else { continue }
                let entry = relationEntry(relation, id: r.id, original: r)
                rendered = entry == r ? line.text : BratEntry.relation(entry).rendered
                written.insert(r.id)
            case .attribute(let a):
                guard let target = resolveOriginal(a.target), reference(to: target) != nil,
                    let value = annotations[target]?.attributes[a.name],
                    writtenAttributes.insert("\(target) \(a.name)").inserted,
                    checkAttribute(a.name, value, on: target)
                else { continue }
                if value == a.value ?? "true" {
                    rendered = line.text
                } else {
                    let entry = BratEntry.Attribute(
                        id: a.id, name: a.name, target: a.target, value: value == "true" ? nil : value)
                    rendered = BratEntry.attribute(entry).rendered
                }
            case .note(let n):
                guard let note = inverse[n.id], noteID[note] == n.id else { continue }
                let entry = noteEntry(note, id: n.id, original: n)
                rendered = entry == n ? line.text : BratEntry.note(entry).rendered
                written.insert(n.id)
            case .normalization(let n):
                guard let target = resolveOriginal(n.target), reference(to: target) != nil else { continue }
                rendered = line.text
            case .equivalence(let q):
                let members = q.members.filter { resolveOriginal($0).flatMap { reference(to: $0) } != nil }
                guard members.count >= 2 else { continue }
                rendered =
                    members == q.members
                    ? line.text : BratEntry.equivalence(BratEntry.Equivalence(type: q.type, members: members)).rendered
            case .blank, .unparsed:
                rendered = line.text
            }
            if let rendered { out += rendered + line.terminator }
        }

        // New lines: T (mapped ids first, by number; then fresh ones in text order), E, R, A, #.
        var lines: [String] = []
        let newSpans = spans.filter { spanTID[$0] != nil && !written.contains(spanTID[$0]!) }
            .sorted { IDAllocator.order(spanTID[$0]!, spanTID[$1]!) }
        for id in newSpans { lines.append(BratEntry.textBound(textBoundEntry(id, id: spanTID[id]!)).rendered!) }
        for e in eventOrder.sorted(by: IDAllocator.order) where !written.contains(e) {
            lines.append(BratEntry.event(eventEntry(events[e]!, original: nil)).rendered!)
        }
        let newRelations = relations.filter { relationRID[$0] != nil && !written.contains(relationRID[$0]!) }
            .sorted { IDAllocator.order(relationRID[$0]!, relationRID[$1]!) }
        for id in newRelations {
            lines.append(BratEntry.relation(relationEntry(id, id: relationRID[id]!, original: nil)).rendered!)
        }
        let holders = (spans.sorted { IDAllocator.order(reference(to: $0) ?? "", reference(to: $1) ?? "") }) + relations
        for holder in holders {
            guard let target = reference(to: holder), let a = annotations[holder] else { continue }
            for (name, value) in a.attributes.sorted(by: { $0.key < $1.key })
            where !writtenAttributes.contains("\(holder) \(name)") {
                guard checkAttribute(name, value, on: holder) else { continue }
                let entry = BratEntry.Attribute(
                    id: ids.next("A"), name: name, target: target, value: value == "true" ? nil : value)
                lines.append(BratEntry.attribute(entry).rendered!)
            }
        }
        for id in notes where !written.contains(noteID[id]!) {
            lines.append(BratEntry.note(noteEntry(id, id: noteID[id]!, original: nil)).rendered!)
        }
        for (holder, name) in attributesOnArguments() {
            report(
                .unrepresentable,
                "attribute \(name) of event argument \(holder) has no brat form (arguments have no id); it is not exported"
            )
        }
        if !lines.isEmpty {
            if !out.isEmpty && !out.hasSuffix("\n") && !out.hasSuffix("\r") { out += terminator }
            for line in lines { out += line + terminator }
        }
        return out
    }

    private func attributesOnArguments() -> [(AnnotationID, String)] {
        relations.filter { argumentOf[$0] != nil }.flatMap { id in
            annotations[id]!.attributes.keys.sorted().map { (id, $0) }
        }
    }

    // MARK: - Entries

    private func textBoundEntry(_ span: AnnotationID, id: String) -> BratEntry.TextBound {
        let a = annotations[span]!
        let ranges = a.ranges.sorted()
        // Checked in planSpans: the ranges are inside the text.
        let fragments = (try? text.fragments(ranges, unit: unit)) ?? ranges
        return BratEntry.TextBound(
            id: id, type: a.label, fragments: fragments, text: (try? text.recordedText(ranges)) ?? "")
    }

    private func eventEntry(_ plan: EventPlan, original: BratEntry.Event?) -> BratEntry.Event {
        var arguments: [BratEntry.Argument] = []
        for (relation, mappedRole, role) in plan.arguments {
            let r = annotations[relation]!
            let originalArgument = original?.arguments.first { $0.role == mappedRole }
            let target =
                originalArgument.flatMap { resolveOriginal($0.id) == r.to ? $0.id : nil } ?? reference(to: r.to!)!
            arguments.append(BratEntry.Argument(role: role!, id: target))
        }
        return BratEntry.Event(
            id: plan.id, type: annotations[plan.span]!.label, trigger: plan.trigger!, arguments: arguments,
            tail: original?.tail)
    }

    private func relationEntry(_ relation: AnnotationID, id: String, original: BratEntry.Relation?)
        -> BratEntry.Relation
    {
        let r = annotations[relation]!
        func end(_ target: AnnotationID, _ originalArgument: BratEntry.Argument?, role: String) -> BratEntry.Argument {
            guard let originalArgument else { return BratEntry.Argument(role: role, id: reference(to: target)!) }
            let id = resolveOriginal(originalArgument.id) == target ? originalArgument.id : reference(to: target)!
            return BratEntry.Argument(role: originalArgument.role, id: id)
        }
        return BratEntry.Relation(
            id: id, type: r.label, from: end(r.from!, original?.from, role: "Arg1"),
            to: end(r.to!, original?.to, role: "Arg2"),
            tail: original?.tail)
    }

    private mutating func noteEntry(_ note: AnnotationID, id: String, original: BratEntry.Note?) -> BratEntry.Note {
        let n = annotations[note]!
        let target =
            original.flatMap { resolveOriginal($0.target) == n.target ? $0.target : nil } ?? reference(to: n.target!)!
        var text = n.text
        if text.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) {
            report(.unrepresentable, "note \(note) has line breaks; they are written as spaces")
            text = SourceText.flatteningLineBreaks(text)
        }
        let keepAbsent = original?.text == nil && text.isEmpty
        return BratEntry.Note(
            id: id, type: original?.type ?? "AnnotatorNotes", target: target, text: keepAbsent ? nil : text)
    }

    // MARK: - References

    /// The brat id other lines use to point at an exported annotation: an event's id for its
    /// span, a T id for other spans, an R id for relations; nil when it has none.
    private func reference(to id: AnnotationID) -> String? {
        if let e = eventOfSpan[id], events[e] != nil { return e }
        if let t = spanTID[id] { return t }
        return relationRID[id]
    }

    /// The Gloss annotation an id of the original document stood for.
    private func resolveOriginal(_ bratID: String) -> AnnotationID? {
        if let id = inverse[bratID] { return id }
        if let e = originalEvents[bratID] { return inverse[e.event.trigger] }
        return nil
    }

    // MARK: - Checks

    /// Labels are single tokens in brat: no whitespace (and no colon where one would split
    /// the token), not empty.
    private mutating func checkName(_ name: String, what: String, of a: Annotation, allowColon: Bool = true) -> Bool {
        let bad =
            name.isEmpty || name.unicodeScalars.contains { $0.properties.isWhitespace || (!allowColon && $0 == ":") }
        if bad {
            report(
                .unrepresentable,
                "\(what) \"\(name)\" of \(a.id) is empty or contains whitespace\(allowColon ? "" : " or a colon"); "
                    + "it is not exported")
        }
        return !bad
    }

    private mutating func checkAttribute(_ name: String, _ value: String, on holder: AnnotationID) -> Bool {
        let bad = [name, value].contains { $0.isEmpty || $0.unicodeScalars.contains { $0.properties.isWhitespace } }
        if bad {
            report(
                .unrepresentable,
                "attribute \"\(name)\" = \"\(value)\" of \(holder) is empty or contains whitespace; it is not exported")
        }
        return !bad
    }

    private mutating func report(_ code: FormatProblem.Code, _ message: String) {
        problems.append(FormatProblem(code, message, file: file))
    }

    private func textOrder(_ a: Annotation, _ b: Annotation) -> Bool {
        let ra = a.ranges.sorted()
        let rb = b.ranges.sorted()
        if ra != rb { return ra.lexicographicallyPrecedes(rb) }
        if a.label != b.label { return a.label < b.label }
        return a.id < b.id
    }
}

/// Fresh brat ids: for each kind, one above the highest number already in use.
private struct IDAllocator {
    var next: [String: Int] = [:]

    init(original: BratDocument, bratIDs: [AnnotationID: String]) {
        var used: [String] = bratIDs.values.map { String($0.prefix { $0 != " " }) }
        for line in original.lines {
            if let id = line.entry.id {
                used.append(id)
            } else if let tab = line.text.firstIndex(of: "\t") {
                used.append(String(line.text[..<tab]))  // ids of unparsed lines are taken too
            }
        }
        for id in used {
            guard let (kind, number) = Self.split(id) else { continue }
            let key = kind == "M" ? "A" : kind
            next[key] = max(next[key] ?? 1, number + 1)
        }
    }

    mutating func next(_ kind: String) -> String {
        let n = next[kind] ?? 1
        next[kind] = n + 1
        return "\(kind)\(n)"
    }

    /// The kind letter and the number that follows it (`T12` → (T, 12)); nil without digits.
    static func split(_ id: String) -> (String, Int)? {
        guard let first = id.first else { return nil }
        let digits = id.dropFirst().prefix { $0.isASCII && $0.isNumber }
        guard let n = Int(digits) else { return nil }
        return (String(first), n)
    }

    /// Orders ids by kind, then number, then spelling.
    static func order(_ a: String, _ b: String) -> Bool {
        switch (split(a), split(b)) {
        case (let x?, let y?) where x != y: return (x.0, x.1) < (y.0, y.1)
        default: return a < b
        }
    }
}
