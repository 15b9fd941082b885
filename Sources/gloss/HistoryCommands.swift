import ArgumentParser
import Foundation
import GlossClient
import GlossModel

/// `2026-11-29 14:03` in UTC, as history listings show times.
func formatTime(_ seconds: Int64) -> String { MinuteFormat.utc(seconds) }

/// Text in double quotes on one line: a newline, tab or quote inside is escaped as in JSON, so
/// that a covered text spanning lines does not break the listing.
func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// One annotation in a line of text: kind, label, where, and the covered text.
func describe(_ a: Annotation, index: TextIndex?, short: (AnnotationID) -> String) -> String {
    switch a.kind {
    case .span:
        let covered = index.map { quoted(AnnotationJSON.covered(a, in: $0)) } ?? ""
        return "span \(short(a.id)) \(a.label) \(a.ranges.map(\.description).joined(separator: ",")) \(covered)"
    case .relation:
        return "relation \(short(a.id)) \(a.label) \(a.from.map(short) ?? "?") → \(a.to.map(short) ?? "?")"
    case .documentLabel:
        return "document label \(short(a.id)) \(a.label)"
    case .note:
        return "note \(short(a.id)) on \(a.target.map(short) ?? "the document"): \(a.text)"
    }
}

struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "List revisions, newest first; your unpushed changesets come first as `pending`.",
        discussion: HelpText.reflow(
            """
            Examples:
              gloss log
              gloss log news-1 --author alice -n 5
              gloss log --json | jq -r '.revision'
            """))
    @Argument(help: "Only revisions that changed this document.") var document: String?
    @Option(help: "Only revisions by this user.") var author: String?
    @Option(name: [.customShort("n"), .long], help: "At most this many entries.") var limit: Int?
    @Flag(help: "JSON Lines for scripts.") var json = false


    @Flag(help: "Print straight to the terminal, without a pager.") var noPager = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            Pager.start(disabled: noPager || json)
            let id = try document.map { try knownDocument(w, $0) }
            for gap in try id.map(w.replica.historyGaps(of:)) ?? [] where !json {
                warn(
                    "note: this workspace caught up from a snapshot at r\(gap.caughtUpAt), so revisions "
                        + "\(gap.knownThrough + 1)...\(gap.caughtUpAt - 1) of \(document!) are not listed")
            }
            // Rows are written into a page buffer as they are read, by hand for --json:
            // JSONEncoder's tree of boxed values costs more than reading the row.
            var out = StandardOutput()
            defer { out.flush() }
            var row = JSONWriter(capacity: 512)
            try w.forEachLogEntry(document: id, author: author, limit: limit ?? .max) { e in
                if json {
                    row.removeAll()
                    Self.write(e, to: &row)
                    row.bytes.append(UInt8(ascii: "\n"))
                    out.append(row.bytes)
                } else {
                    let number = e.revision.map { "r\($0)" } ?? "pending"
                    let docs = e.documents.count > 3
                        ? "\(e.documents.count) documents" : e.documents.map(\.rawValue).joined(separator: ",")
                    let revised = e.revisedTexts.isEmpty ? "" : "text revised: " + e.revisedTexts.map(\.rawValue).joined(separator: ",")
                    out.line(
                        [number, e.author, formatTime(e.timestamp), "\(e.opCount) op(s)", docs, revised, e.message]
                            .filter { !$0.isEmpty }.joined(separator: "\t"))
                }
            }
        }
    }

    /// One entry as a JSON object: `author`, `changeset`, `documents`, `message`, `ops`,
    /// `pending`, `revision` (left out when pending), `textRevised` (the documents whose text it
    /// revised) and `timestamp`, keys sorted, as
    /// `printJSON` writes objects.
    static func write(_ e: LogEntry, to json: inout JSONWriter) {
        json.beginObject()
        json.key("author")
        json.string(e.author)
        json.key("changeset")
        json.hexString(e.changeset.high, e.changeset.low)
        json.key("documents")
        json.beginArray()
        for document in e.documents { json.string(document.rawValue) }
        json.endArray()
        json.key("message")
        json.string(e.message)
        json.key("ops")
        json.int(e.opCount)
        json.key("pending")
        json.bool(e.revision == nil)
        if let revision = e.revision {
            json.key("revision")
            json.int(revision)
        }
        json.key("textRevised")
        json.beginArray()
        for document in e.revisedTexts { json.string(document.rawValue) }
        json.endArray()
        json.key("timestamp")
        json.int(e.timestamp)
        json.endObject()
    }
}

struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show how annotations changed.",
        discussion: HelpText.reflow(
            """
            Add a document id to see only that document; --json for scripts.

            Examples:
              gloss diff              your pending changes against the last pulled revision
              gloss diff 12           what revision 12 changed
              gloss diff 10..14       from the state at revision 10 to the state at 14
              gloss diff 10..         from revision 10 to your working state
              gloss diff 12 news-1 --json
            """))
    @Argument(help: "REV, REV1..REV2 or REV.. (default: pending changes).") var revisions: String?
    @Argument(help: "Only this document.") var document: String?
    @Flag(help: "JSON Lines: one object per changed document.") var json = false

    struct ChangeJSON: Encodable {
        var change: String
        var annotation: AnnotationJSON
        var before: AnnotationJSON?
        var fields: [String]?
    }

    struct DocumentJSON: Encodable {
        var document: String
        var kind: String
        /// For a revised text: each replaced stretch.
        var textEdits: [TextEditJSON]?
        var changes: [ChangeJSON]
    }

    /// One replaced stretch of a revised text: where it was, what it said, what it says now.
    struct TextEditJSON: Encodable {
        var old: [Int]
        var new: [Int]
        var before: String
        var after: String
    }

    /// The replaced stretches between two texts of a document, from the texts themselves.
    static func textEdits(_ w: Workspace, _ change: DocumentChange) -> [TextEditJSON]? {
        guard let (before, after) = change.texts else { return nil }
        let read = { (digest: TextDigest) in try? w.text(of: Document(id: change.document, digest: digest, length: 0)) }
        guard let old = read(before), let new = read(after) else { return nil }
        let (oldIndex, newIndex) = (TextIndex(old), TextIndex(new))
        // Whole words, as a revision records its edits.
        return TextRevision(from: old, to: new).diff().hunks.filter { $0.kind == .replace }.map { h in
            TextEditJSON(
                old: [h.old.start, h.old.end], new: [h.new.start, h.new.end],
                before: (try? oldIndex.text(in: h.old)) ?? "", after: (try? newIndex.text(in: h.new)) ?? "")
        }
    }

    @Flag(help: "Print straight to the terminal, without a pager.") var noPager = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            Pager.start(disabled: noPager || json)
            // A single argument that is not a revision is a document: `gloss diff news-1`.
            var spec = revisions
            var documentName = document
            if let s = spec, documentName == nil, Int(s) == nil, !s.contains("..") {
                documentName = s
                spec = nil
            }
            let id = try documentName.map { try knownDocument(w, $0) }
            let changes: [DocumentChange]
            let labels: (String, String)
            switch try Self.parse(spec) {
            case .pending:
                let head = try w.replica.headRevision()
                changes = try w.changes(from: head, to: nil, document: id)
                labels = ("r\(head)", "working")
            case .single(let r):
                changes = try w.changes(in: r, document: id)
                labels = ("r\(r - 1)", "r\(r)")
            case .range(let a, let b):
                changes = try w.changes(from: a, to: b, document: id)
                labels = ("r\(a)", b.map { "r\($0)" } ?? "working")
            }
            let colors = Terminal.colorsStdout && !json
            // Covered texts come from the working state's documents (read once, not per change).
            let documents = changes.isEmpty ? [:] : Dictionary(try w.localDocuments().map { ($0.id, $0) }) { a, _ in a }
            for change in changes {
                let index = documents[change.document].flatMap { try? w.text(of: $0) }.map(TextIndex.init)
                let covered = { (a: Annotation) in index.map { AnnotationJSON.covered(a, in: $0) } ?? "" }
                let edits = Self.textEdits(w, change)
                if json {
                    try printJSON(
                        DocumentJSON(
                            document: change.document.rawValue, kind: change.kind.rawValue, textEdits: edits,
                            changes: change.changes.map { c in
                                switch c {
                                case .added(let a):
                                    ChangeJSON(change: "added", annotation: AnnotationJSON(a, covered: covered(a)))
                                case .removed(let a):
                                    ChangeJSON(change: "removed", annotation: AnnotationJSON(a, covered: covered(a)))
                                case .changed(let b, let a, let fields):
                                    ChangeJSON(
                                        change: "changed", annotation: AnnotationJSON(a, covered: covered(a)),
                                        before: AnnotationJSON(b, covered: covered(b)),
                                        fields: fields.map(\.description))
                                }
                            }))
                    continue
                }
                say("--- \(change.document) (\(labels.0))")
                say("+++ \(change.document) (\(labels.1))" + (change.kind == .annotations ? "" : "  [document \(change.kind.rawValue)]"))
                for edit in edits ?? [] {
                    let line = "~ text \(edit.old[0])-\(edit.old[1]) \(quoted(edit.before)) → \(edit.new[0])-\(edit.new[1]) \(quoted(edit.after))"
                    say(colors ? LabelColors.paint(line, "36") : line)
                }
                let short = abbreviations(change.changes.map(\.annotation.id))
                let name = { (id: AnnotationID) in short[id] ?? String(id.description.prefix(7)) }
                for c in change.changes {
                    let line: String
                    let color: String
                    switch c {
                    case .added(let a):
                        (line, color) = ("+ " + describe(a, index: index, short: name) + " [\(a.layer)]", "32")
                    case .removed(let a):
                        (line, color) = ("- " + describe(a, index: index, short: name) + " [\(a.layer)]", "31")
                    case .changed(let b, let a, let fields):
                        let parts = fields.map { "\($0): \(b.value(of: $0)) → \(a.value(of: $0))" }
                        (line, color) = ("~ \(a.kind) \(name(a.id)) " + parts.joined(separator: "; "), "33")
                    }
                    say(colors ? LabelColors.paint(line, color) : line)
                }
            }
        }
    }

    enum Spec: Equatable {
        case pending
        case single(Int)
        case range(Int, Int?)
    }

    static func parse(_ text: String?) throws -> Spec {
        guard let text else { return .pending }
        if let r = Int(text.trimmingPrefix("r")) { return .single(r) }
        let parts = text.components(separatedBy: "..")
        guard parts.count == 2, let a = Int(parts[0].trimmingPrefix("r")) else {
            throw ValidationError("expected REV, REV1..REV2 or REV.., got \(text)")
        }
        if parts[1].isEmpty { return .range(a, nil) }
        guard let b = Int(parts[1].trimmingPrefix("r")) else {
            throw ValidationError("expected REV, REV1..REV2 or REV.., got \(text)")
        }
        return .range(a, b)
    }
}

struct Blame: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blame",
        abstract: "Show who last changed each annotation of a document, and in which revision.",
        discussion: "Example: gloss blame news-1 --json | jq -r 'select(.author==\"alice\") | .id'")
    @Argument(help: "The document id.") var document: String
    @Flag(help: "JSON Lines for scripts.") var json = false

    struct Row: Encodable {
        var revision: Int?
        /// When the replica caught up from a snapshot: the change was made after this revision,
        /// at or before `revision`, and `author` is unknown ("?").
        var after: Int?
        var author: String
        var timestamp: Int64
        var fields: [String]
        var annotation: AnnotationJSON
    }

    @Flag(help: "Print straight to the terminal, without a pager.") var noPager = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            Pager.start(disabled: noPager || json)
            let (id, state, text) = try workingDocument(w, document)
            let entries = try w.blame(id, localState: state)
            let index = TextIndex(text)
            let short = abbreviations(entries.map(\.annotation.id))
            for gap in Set(entries.compactMap(\.caughtUp)).sorted(by: { $0.caughtUpAt < $1.caughtUpAt }) where !json {
                warn(
                    "note: this workspace caught up from a snapshot at r\(gap.caughtUpAt), so the history of \(id) "
                        + "in r\(gap.knownThrough + 1)...r\(gap.caughtUpAt) is not in it: annotations last changed there show "
                        + "r\(gap.knownThrough + 1)-\(gap.caughtUpAt) and no author (the server keeps the whole history)")
            }
            // The text has a history of its own: who last revised it, and when.
            if !json, let revised = try w.replica.document(id)?.textRevisedAt,
                let r = try w.replica.revisions(after: revised - 1, through: revised).first
            {
                say("r\(revised)\t\(r.author)\t\(formatTime(r.timestamp))\ttext revised (`gloss diff \(revised) \(id)` shows how)")
            }
            for e in entries {
                if json {
                    try printJSON(
                        Row(
                            revision: e.revision, after: e.caughtUp?.knownThrough, author: e.author, timestamp: e.timestamp,
                            fields: e.fields.map(\.description),
                            annotation: AnnotationJSON(e.annotation, covered: AnnotationJSON.covered(e.annotation, in: index))))
                } else {
                    var rev = e.revision.map { "r\($0)" } ?? "pending"
                    if let gap = e.caughtUp { rev = "r\(gap.knownThrough + 1)-\(gap.caughtUpAt)" }
                    let what = describe(e.annotation, index: index) { short[$0] ?? String($0.description.prefix(7)) }
                    let when = e.caughtUp == nil ? formatTime(e.timestamp) : "?"
                    say("\(rev)\t\(e.author)\t\(when)\t\(what)")
                }
            }
        }
    }
}

struct Revert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revert",
        abstract: "Record a changeset that undoes a revision.",
        discussion: HelpText.reflow(
            """
            The undo is made against that revision: where later revisions changed the same
            fields you get conflicts to resolve (`gloss conflicts`), not a silent overwrite.
            Then `gloss sync` shares it. Example: gloss revert 12
            """))
    @Argument(help: "The revision to undo.") var revision: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            guard let number = Int(revision.trimmingPrefix("r")) else {
                throw ValidationError("expected a revision number such as 12, got \(revision)")
            }
            let w = try currentWorkspace()
            let (changeset, conflicts) = try w.revert(number)
            note("recorded a revert of r\(number): \(changeset.ops.count) op(s)")
            if !conflicts.isEmpty {
                warn(
                    "\(conflicts.count) conflict(s) with later revisions: `gloss conflicts`, then `gloss resolve ID --mine|--theirs`")
                throw ExitCode(Failure.conflicts)
            }
            note("`gloss sync` to share it")
        }
    }
}
