import GlossModel

/// The parsed content of one line of a brat standoff `.ann` file, exactly as written: ids are
/// brat's (`T5`, `E2`, `#1`), offsets are in the file's own unit, nothing is resolved.
///
/// ``BratDocument`` keeps one entry per line; ``BratImporter`` derives Gloss annotations from
/// the entries and ``BratExporter`` renders changed entries back with ``rendered``.
public enum BratEntry: Hashable, Sendable {
    /// `T1\tOrganization 0 4;10 15\tSony Corp`: a (possibly discontinuous) span of text.
    case textBound(TextBound)
    /// `R1\tOrigin Arg1:T3 Arg2:T4`: a binary relation.
    case relation(Relation)
    /// `E1\tMerge-org:T2 Org-Arg:T1 Org-Arg2:T3`: an event with its trigger and role arguments.
    case event(Event)
    /// `A1\tNegation E1` (binary) or `A2\tConfidence E2 L1` (valued); `M` lines are the old name.
    case attribute(Attribute)
    /// `N1\tReference T1 Wikipedia:534366\tBarack Obama`: a link to an external resource.
    case normalization(Normalization)
    /// `#1\tAnnotatorNotes T1\tfree text`: a note attached to an annotation.
    case note(Note)
    /// `*\tEquiv T1 T2 T3`: an equivalence class (the only line without an id).
    case equivalence(Equivalence)
    /// An empty or all-whitespace line.
    case blank
    /// A line that does not parse; it is kept verbatim and never imported.
    case unparsed

    /// A text-bound annotation. `fragments` are as written, in the document's offset unit.
    public struct TextBound: Hashable, Sendable {
        /// The line's id (`T1`).
        public var id: String
        /// The entity or event type.
        public var type: String
        /// The `START END` pairs as written (split at `;`), in file order.
        public var fragments: [TextRange]
        /// The text the line records for its fragments (joined by a space); nil when the line has none.
        public var text: String?

        /// A text-bound line's content.
        public init(id: String, type: String, fragments: [TextRange], text: String?) {
            self.id = id
            self.type = type
            self.fragments = fragments
            self.text = text
        }
    }

    /// One `ROLE:ID` argument of a relation or an event.
    public struct Argument: Hashable, Sendable {
        /// The role as written (`Arg1`, `Theme2`).
        public var role: String
        /// The id it points at (`T3`, `E1`).
        public var id: String

        /// An argument `ROLE:ID`.
        public init(role: String, id: String) {
            self.role = role
            self.id = id
        }

        /// The role without the digits brat appends to tell repeated roles apart (`Theme2` →
        /// `Theme`, as brat's own checks read it): the label of the Gloss relation for an
        /// event argument. A role of digits only stays as it is.
        public var label: String { Self.label(ofRole: role) }

        static func label(ofRole role: String) -> String {
            let scalars = role.unicodeScalars
            var end = scalars.endIndex
            while end > scalars.startIndex, ("0"..."9").contains(scalars[scalars.index(before: end)]) {
                end = scalars.index(before: end)
            }
            return end == scalars.startIndex ? role : String(scalars[..<end])
        }
    }

    /// A binary relation. `tail` is whatever followed a tab after the arguments (brat itself
    /// writes an empty one: `R1\tOrigin Arg1:T3 Arg2:T4\t`); nil when there was no tab.
    public struct Relation: Hashable, Sendable {
        /// The line's id (`R1`).
        public var id: String
        /// The relation type.
        public var type: String
        /// The first argument: the relation's start.
        public var from: Argument
        /// The second argument: the relation's end.
        public var to: Argument
        /// Text after a tab that follows the arguments.
        public var tail: String?

        /// A relation line's content.
        public init(id: String, type: String, from: Argument, to: Argument, tail: String? = nil) {
            self.id = id
            self.type = type
            self.from = from
            self.to = to
            self.tail = tail
        }
    }

    /// An event: its type, the id of its trigger (a `T` line) and its arguments in file order.
    public struct Event: Hashable, Sendable {
        /// The line's id (`E1`).
        public var id: String
        /// The event type (written before the trigger).
        public var type: String
        /// The id of the trigger's `T` line.
        public var trigger: String
        /// The role arguments, in file order.
        public var arguments: [Argument]
        /// Text after a tab that follows the arguments.
        public var tail: String?

        /// An event line's content.
        public init(id: String, type: String, trigger: String, arguments: [Argument], tail: String? = nil) {
            self.id = id
            self.type = type
            self.trigger = trigger
            self.arguments = arguments
            self.tail = tail
        }
    }

    /// An attribute of the annotation `target`; `value` is nil for a binary attribute.
    public struct Attribute: Hashable, Sendable {
        /// The line's id (`A1`, `M1`).
        public var id: String
        /// The attribute's name.
        public var name: String
        /// The id of the annotation it describes.
        public var target: String
        /// The value; nil for a binary attribute.
        public var value: String?

        /// An attribute line's content.
        public init(id: String, name: String, target: String, value: String?) {
            self.id = id
            self.name = name
            self.target = target
            self.value = value
        }
    }

    /// A normalization: `reference` is `DATABASE:ID`, `text` the optional label after a tab.
    public struct Normalization: Hashable, Sendable {
        /// The line's id (`N1`).
        public var id: String
        /// The normalization type (`Reference`).
        public var type: String
        /// The id of the annotation it normalizes.
        public var target: String
        /// `DATABASE:ID`.
        public var reference: String
        /// The label after the second tab.
        public var text: String?

        /// A normalization line's content.
        public init(id: String, type: String, target: String, reference: String, text: String?) {
            self.id = id
            self.type = type
            self.target = target
            self.reference = reference
            self.text = text
        }
    }

    /// A note: `type` is usually `AnnotatorNotes`; `text` is everything after the second tab,
    /// verbatim (nil when there is no second tab).
    public struct Note: Hashable, Sendable {
        /// The line's id (`#1`).
        public var id: String
        /// The note type (`AnnotatorNotes`).
        public var type: String
        /// The id of the annotation it is attached to.
        public var target: String
        /// The note text, verbatim.
        public var text: String?

        /// A note line's content.
        public init(id: String, type: String, target: String, text: String?) {
            self.id = id
            self.type = type
            self.target = target
            self.text = text
        }
    }

    /// An equivalence class of two or more annotations.
    public struct Equivalence: Hashable, Sendable {
        /// The equivalence type (`Equiv`, `Alias`).
        public var type: String
        /// The ids of the equivalent annotations, in file order.
        public var members: [String]

        /// An equivalence line's content.
        public init(type: String, members: [String]) {
            self.type = type
            self.members = members
        }
    }

    /// The line's brat id (nil for equivalences, blank and unparsed lines).
    public var id: String? {
        switch self {
        case .textBound(let t): t.id
        case .relation(let r): r.id
        case .event(let e): e.id
        case .attribute(let a): a.id
        case .normalization(let n): n.id
        case .note(let n): n.id
        case .equivalence, .blank, .unparsed: nil
        }
    }

    /// The ids the line refers to, in line order.
    public var references: [String] {
        switch self {
        case .textBound: []
        case .relation(let r): [r.from.id, r.to.id]
        case .event(let e): [e.trigger] + e.arguments.map(\.id)
        case .attribute(let a): [a.target]
        case .normalization(let n): [n.target]
        case .note(let n): [n.target]
        case .equivalence(let q): q.members
        case .blank, .unparsed: []
        }
    }

    /// The line in brat's canonical spelling (without line terminator); nil for blank and
    /// unparsed lines, which only exist verbatim.
    public var rendered: String? {
        switch self {
        case .textBound(let t):
            let offsets = t.fragments.map { "\($0.start) \($0.end)" }.joined(separator: ";")
            return "\(t.id)\t\(t.type) \(offsets)" + (t.text.map { "\t" + $0 } ?? "")
        case .relation(let r):
            return "\(r.id)\t\(r.type) \(r.from.role):\(r.from.id) \(r.to.role):\(r.to.id)"
                + (r.tail.map { "\t" + $0 } ?? "")
        case .event(let e):
            let arguments = e.arguments.map { " \($0.role):\($0.id)" }.joined()
            return "\(e.id)\t\(e.type):\(e.trigger)\(arguments)" + (e.tail.map { "\t" + $0 } ?? "")
        case .attribute(let a):
            return "\(a.id)\t\(a.name) \(a.target)" + (a.value.map { " " + $0 } ?? "")
        case .normalization(let n):
            return "\(n.id)\t\(n.type) \(n.target) \(n.reference)" + (n.text.map { "\t" + $0 } ?? "")
        case .note(let n):
            return "\(n.id)\t\(n.type) \(n.target)" + (n.text.map { "\t" + $0 } ?? "")
        case .equivalence(let q):
            return "*\t\(q.type) " + q.members.joined(separator: " ")
        case .blank, .unparsed:
            return nil
        }
    }
}

// MARK: - Parsing

extension BratEntry {
    /// Why a line does not parse, and where (1-based scalar column).
    struct Failure: Hashable, Sendable {
        var code: FormatProblem.Code
        var message: String
        var column: Int?
    }

    /// Parses one line (without its terminator). Returns the entry, or `.unparsed` with the
    /// failures; a parsed entry may still come with failures that do not stop its import
    /// (a `T` line without text).
    static func parse(_ line: Substring) -> (BratEntry, [Failure]) {
        if line.allSatisfy({ $0 == " " || $0 == "\t" }) { return (.blank, []) }
        guard let tab = line.firstIndex(of: "\t") else {
            return fail(.malformedLine, "no tab after the id", column: nil)
        }
        let id = line[..<tab]
        let restStart = line.index(after: tab)
        let scanner = LineScanner(line: line)
        if id.isEmpty || id.contains(" ") {
            return fail(.malformedLine, "the id \"\(id)\" is empty or contains a space", column: 1)
        }
        let kind = id.unicodeScalars.first!
        switch kind {
        case "T": return parseTextBound(String(id), scanner, from: restStart)
        case "R": return parseRelation(String(id), scanner, from: restStart)
        case "E": return parseEvent(String(id), scanner, from: restStart)
        case "A", "M": return parseAttribute(String(id), scanner, from: restStart)
        case "N": return parseNormalization(String(id), scanner, from: restStart)
        case "#": return parseNote(String(id), scanner, from: restStart)
        case "*":
            guard id == "*" else { break }
            return parseEquivalence(scanner, from: restStart)
        default: break
        }
        return fail(
            .unknownLineKind, "brat has no annotation kind \"\(kind)\" (ids start with T, R, E, A, M, N, # or are *)",
            column: 1)
    }

    private static func fail(_ code: FormatProblem.Code, _ message: String, column: Int?) -> (BratEntry, [Failure]) {
        (.unparsed, [Failure(code: code, message: message, column: column)])
    }

    private static func parseTextBound(_ id: String, _ s: LineScanner, from start: Substring.Index) -> (
        BratEntry, [Failure]
    ) {
        let (head, text) = s.splitAtTab(from: start)
        guard let typeEnd = s.line[head].firstIndex(of: " ") else {
            return fail(
                .malformedLine, "a text-bound line needs a type and offsets: TYPE START END",
                column: s.column(of: head.lowerBound))
        }
        let type = String(s.line[head.lowerBound..<typeEnd])
        if type.isEmpty { return fail(.malformedLine, "the type is empty", column: s.column(of: head.lowerBound)) }
        var fragments: [TextRange] = []
        var fragmentStart = s.line.index(after: typeEnd)
        while true {
            let fragmentEnd = s.line[fragmentStart..<head.upperBound].firstIndex(of: ";") ?? head.upperBound
            let tokens = s.tokens(in: fragmentStart..<fragmentEnd)
            guard tokens.count == 2 else {
                return fail(
                    .invalidOffsets,
                    "a fragment needs two offsets, START END; found \"\(s.line[fragmentStart..<fragmentEnd])\"",
                    column: s.column(of: fragmentStart))
            }
            guard let low = Self.offset(s.line[tokens[0]]), let high = Self.offset(s.line[tokens[1]]) else {
                let bad = Self.offset(s.line[tokens[0]]) == nil ? tokens[0] : tokens[1]
                return fail(
                    .invalidOffsets, "\"\(s.line[bad])\" is not an offset", column: s.column(of: bad.lowerBound))
            }
            guard low <= high else {
                return fail(
                    .invalidOffsets, "fragment \(low) \(high) ends before it starts",
                    column: s.column(of: tokens[0].lowerBound))
            }
            fragments.append(TextRange(low, high))
            guard fragmentEnd < head.upperBound else { break }
            fragmentStart = s.line.index(after: fragmentEnd)
        }
        let entry = BratEntry.textBound(
            TextBound(id: id, type: type, fragments: fragments, text: text.map { String(s.line[$0]) }))
        guard text != nil else {
            return (
                entry,
                [
                    Failure(
                        code: .malformedLine, message: "a text-bound line should end with a tab and the covered text",
                        column: nil)
                ]
            )
        }
        return (entry, [])
    }

    private static func parseRelation(_ id: String, _ s: LineScanner, from start: Substring.Index) -> (
        BratEntry, [Failure]
    ) {
        let (head, tail) = s.splitAtTab(from: start)
        let tokens = s.tokens(in: head)
        guard tokens.count == 3 else {
            return fail(
                .malformedLine, "a relation line needs TYPE ARG1:ID ARG2:ID; found \(tokens.count) fields",
                column: s.column(of: head.lowerBound))
        }
        guard let from = argument(tokens[1], s) else { return badArgument(tokens[1], s) }
        guard let to = argument(tokens[2], s) else { return badArgument(tokens[2], s) }
        let relation = Relation(
            id: id, type: String(s.line[tokens[0]]), from: from, to: to, tail: tail.map { String(s.line[$0]) })
        return (.relation(relation), [])
    }

    private static func parseEvent(_ id: String, _ s: LineScanner, from start: Substring.Index) -> (
        BratEntry, [Failure]
    ) {
        let (head, tail) = s.splitAtTab(from: start)
        let tokens = s.tokens(in: head)
        guard let first = tokens.first, let trigger = argument(first, s) else {
            return fail(.malformedLine, "an event line starts with TYPE:TRIGGER", column: s.column(of: head.lowerBound))
        }
        var arguments: [Argument] = []
        for token in tokens.dropFirst() {
            guard let a = argument(token, s) else { return badArgument(token, s) }
            arguments.append(a)
        }
        let event = Event(
            id: id, type: trigger.role, trigger: trigger.id, arguments: arguments, tail: tail.map { String(s.line[$0]) }
        )
        return (.event(event), [])
    }

    private static func parseAttribute(_ id: String, _ s: LineScanner, from start: Substring.Index) -> (
        BratEntry, [Failure]
    ) {
        let tokens = s.tokens(in: start..<s.line.endIndex)
        if let tab = s.line[start...].firstIndex(of: "\t") {
            return fail(.malformedLine, "an attribute line has no second tab", column: s.column(of: tab))
        }
        guard tokens.count == 2 || tokens.count == 3 else {
            return fail(
                .malformedLine, "an attribute line needs NAME TARGET [VALUE]; found \(tokens.count) fields",
                column: s.column(of: start))
        }
        let attribute = Attribute(
            id: id, name: String(s.line[tokens[0]]), target: String(s.line[tokens[1]]),
            value: tokens.count == 3 ? String(s.line[tokens[2]]) : nil)
        return (.attribute(attribute), [])
    }

    private static func parseNormalization(_ id: String, _ s: LineScanner, from start: Substring.Index) -> (
        BratEntry, [Failure]
    ) {
        let (head, text) = s.splitAtTab(from: start)
        let tokens = s.tokens(in: head)
        guard tokens.count == 3 else {
            return fail(
                .malformedLine, "a normalization line needs TYPE TARGET DATABASE:ID; found \(tokens.count) fields",
                column: s.column(of: head.lowerBound))
        }
        let normalization = Normalization(
            id: id, type: String(s.line[tokens[0]]), target: String(s.line[tokens[1]]),
            reference: String(s.line[tokens[2]]), text: text.map { String(s.line[$0]) })
        return (.normalization(normalization), [])
    }

    private static func parseNote(_ id: String, _ s: LineScanner, from start: Substring.Index) -> (BratEntry, [Failure])
    {
        let (head, text) = s.splitAtTab(from: start)
        let tokens = s.tokens(in: head)
        guard tokens.count == 2 else {
            return fail(
                .malformedLine, "a note line needs TYPE TARGET before its text; found \(tokens.count) fields",
                column: s.column(of: head.lowerBound))
        }
        let note = Note(
            id: id, type: String(s.line[tokens[0]]), target: String(s.line[tokens[1]]),
            text: text.map { String(s.line[$0]) })
        return (.note(note), [])
    }

    private static func parseEquivalence(_ s: LineScanner, from start: Substring.Index) -> (BratEntry, [Failure]) {
        let tokens = s.tokens(in: start..<s.line.endIndex)
        if let tab = s.line[start...].firstIndex(of: "\t") {
            return fail(.malformedLine, "an equivalence line has no second tab", column: s.column(of: tab))
        }
        guard tokens.count >= 3 else {
            return fail(.malformedLine, "an equivalence needs a type and at least two ids", column: s.column(of: start))
        }
        let members = tokens.dropFirst().map { String(s.line[$0]) }
        return (.equivalence(Equivalence(type: String(s.line[tokens[0]]), members: members)), [])
    }

    /// `ROLE:ID`, split at the first colon; both parts non-empty.
    private static func argument(_ token: Range<Substring.Index>, _ s: LineScanner) -> Argument? {
        let text = s.line[token]
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let role = text[..<colon]
        let id = text[text.index(after: colon)...]
        guard !role.isEmpty, !id.isEmpty else { return nil }
        return Argument(role: String(role), id: String(id))
    }

    private static func badArgument(_ token: Range<Substring.Index>, _ s: LineScanner) -> (BratEntry, [Failure]) {
        fail(.malformedLine, "\"\(s.line[token])\" is not ROLE:ID", column: s.column(of: token.lowerBound))
    }

    /// A non-negative decimal offset (ASCII digits only).
    private static func offset(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }
}

/// Splits a line into tab-separated fields and space-separated tokens, remembering positions
/// so that problems can name a column.
private struct LineScanner {
    let line: Substring

    /// The 1-based column (in Unicode scalars) of a position in the line.
    func column(of index: Substring.Index) -> Int {
        line.unicodeScalars.distance(from: line.startIndex, to: index) + 1
    }

    /// The field from `start` to the next tab, and everything after that tab (nil without a tab).
    func splitAtTab(from start: Substring.Index) -> (head: Range<Substring.Index>, tail: Range<Substring.Index>?) {
        guard let tab = line[start...].firstIndex(of: "\t") else { return (start..<line.endIndex, nil) }
        return (start..<tab, line.index(after: tab)..<line.endIndex)
    }

    /// The space-separated tokens of a range (runs of spaces separate; none are empty).
    func tokens(in range: Range<Substring.Index>) -> [Range<Substring.Index>] {
        var result: [Range<Substring.Index>] = []
        var i = range.lowerBound
        while i < range.upperBound {
            while i < range.upperBound, line[i] == " " { i = line.index(after: i) }
            guard i < range.upperBound else { break }
            var j = i
            while j < range.upperBound, line[j] != " " { j = line.index(after: j) }
            result.append(i..<j)
            i = j
        }
        return result
    }
}
