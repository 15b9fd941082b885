import ArgumentParser
import Foundation
import GlossClient
import GlossModel
import GlossStore
import GlossWire

/// The workspace around the current directory (no server needed).
func currentWorkspace() throws -> Workspace {
    try Workspace.open(containing: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
}

/// A document of the working state by id, with its text; a clear error when there is none.
func workingDocument(_ w: Workspace, _ name: String) throws -> (id: DocumentID, state: DocumentState, text: String) {
    let id = try knownDocument(w, name)
    let state = try w.localState(of: id)
    guard let doc = state.document else {
        throw WorkspaceError(.unknownDocument, "no document \(name); `gloss docs` lists them")
    }
    return (id, state, try w.text(of: doc))
}

/// A document named on the command line that this workspace knows: in the local view, or in
/// the replica's history (a removed document still has a history to show).
func knownDocument(_ w: Workspace, _ name: String) throws -> DocumentID {
    let id: DocumentID
    do {
        id = try DocumentID(validating: name)
    } catch {
        throw WorkspaceError(.unknownDocument, "no document \(name): \(error.message); `gloss docs` lists them")
    }
    if try w.replica.document(id) != nil || w.localDocuments().contains(where: { $0.id == id }) { return id }
    throw WorkspaceError(.unknownDocument, "no document \(name); `gloss docs` lists them")
}

func parseAttributes(_ pairs: [String]) throws -> [String: String] {
    var out: [String: String] = [:]
    for pair in pairs {
        guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
            throw ValidationError("--attr takes KEY=VALUE, got \(pair)")
        }
        out[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
    }
    return out
}

struct DocCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doc", abstract: "Add documents, or give one a new text (corpus owners).",
        discussion: HelpText.reflow(
                """
                Examples:
                  gloss doc add federation-1923.txt
                  gloss doc add texts/*.txt
                  gloss doc add draft.txt --id news-2026-11
                  gloss doc update federation-1923 federation-1923-fixed.txt
                """),
        subcommands: [Add.self, Update.self])

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update",
            abstract: "Record a new text for a document, keeping its annotations and history.",
            discussion: HelpText.reflow(
                """
                Gloss diffs the old and new text code point by code point. Annotations wholly in unchanged text move with it; one whose text changed or vanished keeps a proposed place and is flagged as an anchor problem: `gloss conflicts` lists them and `gloss resolve ID --mine|--value S-E|--delete` settles each. Nothing is ever silently shifted. Annotators who worked on the old text offline get their work carried over when they sync. `gloss show DOC --at REV` shows any earlier text. Only corpus owners change texts.

                Examples:
                  gloss doc update federation-1923 federation-1923-fixed.txt
                  gloss doc update news/1 news-1.txt && gloss conflicts
                """))

        @Argument(help: "The document id.") var document: String
        @Argument(help: "The new text: a UTF-8 file.") var file: String

        @OptionGroup var output: OutputOptions

        func run() async throws {
            output.apply()
            try await Gloss.guarded {
                let w = try currentWorkspace()
                let id = try DocumentID(validating: document)
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw WorkspaceError(.io, "cannot read \(file)")
                }
                let text = try Document.text(fromUTF8: data, document: id)
                let summary = try w.reviseText(of: id, to: text)
                let edits = summary.change.edits.count
                say(
                    "revised the text of \(id): \(edits) edit(s); \(summary.moved) span(s) kept their text"
                        + (summary.flagged > 0 ? ", \(summary.flagged) flagged (`gloss conflicts` lists them)" : "")
                        + "; `gloss sync` to share")
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add text files as documents; their id is the file name without .txt.",
            discussion: HelpText.reflow(
                """
                The files must be UTF-8. Only corpus owners add documents: the change is refused before it is recorded for other roles. `gloss sync` shares them.

                Examples:
                  gloss doc add federation-1923.txt
                  gloss doc add draft.txt --id news-2026-11
                """))

        @Argument(help: "UTF-8 text files.") var files: [String]
        @Option(help: "The document id, for a single file.") var id: String?

        @OptionGroup var output: OutputOptions

        func run() async throws {
            output.apply()
            try await Gloss.guarded {
                if id != nil && files.count != 1 { throw ValidationError("--id works with one file") }
                let w = try currentWorkspace()
                var ops: [Op] = []
                var texts: [TextDigest: String] = [:]
                for file in files {
                    guard let data = FileManager.default.contents(atPath: file) else {
                        throw WorkspaceError(.io, "cannot read \(file)")
                    }
                    let name = URL(fileURLWithPath: file).lastPathComponent
                    let slug = id ?? (name.hasSuffix(".txt") ? String(name.dropLast(4)) : name)
                    let docID = try DocumentID(validating: slug)
                    let text = try Document.text(fromUTF8: data, document: docID)
                    let document = Document(id: docID, text: text)
                    ops.append(.addDocument(document))
                    texts[document.digest] = text
                }
                try w.commit(ops, texts: texts, message: "add \(files.count) document(s)")
                say("added \(files.count) document(s); `gloss push` to share")
            }
        }
    }
}

struct SpanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "span", abstract: "Add, change or remove spans.",
        discussion: HelpText.reflow(
                """
                Offsets are Unicode code points, half-open [START, END), over the text as stored (a CRLF counts two), as in brat and Python. Ids can be shortened to any unique prefix.

                Examples:
                  gloss span add fed 1 35 TITLE
                  gloss span set 33ee --label ORG
                  gloss span rm 33ee
                """),
        subcommands: [Add.self, Set.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add a span over [START, END) (Unicode code points) and print its id.",
            discussion: HelpText.reflow(
                """
                `gloss show DOC` shows the offsets of a text; the covered text is printed by `gloss annotations`.

                Examples:
                  gloss span add fed 1 35 TITLE
                  gloss span add fed 40 49 PER --attr negated=no
                  ID=$(gloss span add fed 66 72 LOC) && gloss rel add $ID 33ee located_in
                """))
        @Argument var document: String
        @Argument var start: Int
        @Argument var end: Int
        @Argument var label: String
        @Option(name: .customLong("attr"), help: "KEY=VALUE, repeatable.") var attributes: [String] = []

        @OptionGroup var output: OutputOptions

        func run() async throws {
            output.apply()
            try await Gloss.guarded {
                let w = try currentWorkspace()
                let doc = try knownDocument(w, document)
                let id = try w.mintID()
                let span = Annotation.span(
                    id, in: doc, [TextRange(start, end)], label: label, owner: w.config.user,
                    attributes: try parseAttributes(attributes))
                try w.commit([.create(span)])
                say(id.description)
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Change a span's label, ranges or attributes.",
            discussion: HelpText.reflow(
                """
                --attr KEY= (an empty value) removes the attribute.

                Examples:
                  gloss span set 33ee --label ORG
                  gloss span set 33ee --range 1-35
                  gloss span set 33ee --range 0-5,16-23
                  gloss span set 33ee --attr negated=yes --attr certainty=
                """))
        @Argument(help: "The span id or a unique prefix.") var id: String
        @Option var label: String?
        @Option(help: "S-E[,S-E] for a discontinuous span.") var range: String?
        @Option(name: .customLong("attr"), help: "KEY=VALUE; KEY= removes it. Repeatable.") var attributes: [String] = []

        @OptionGroup var output: OutputOptions

        func run() async throws {
            output.apply()
            try await Gloss.guarded {
                let w = try currentWorkspace()
                let span = try w.annotation(prefix: id)
                var ops: [Op] = []
                if let label { ops.append(.set(span.document, span.id, .label, .string(label))) }
                if let range {
                    guard let ranges = RangeList.parse(range) else { throw ValidationError("--range takes S-E[,S-E], got \(range)") }
                    ops.append(.set(span.document, span.id, .ranges, .ranges(ranges)))
                }
                for (key, value) in try parseAttributes(attributes) {
                    ops.append(.set(span.document, span.id, .attribute(key), value.isEmpty ? .none : .string(value)))
                }
                guard !ops.isEmpty else { throw ValidationError("nothing to change: give --label, --range or --attr") }
                try w.commit(ops)
                say("changed \(span.id)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove a span, with the relations and notes that point at it.",
            discussion: HelpText.reflow(
                """
                Examples:
                  gloss span rm 33ee
                """))
        @Argument var id: String

        @OptionGroup var output: OutputOptions

        func run() async throws {
            output.apply()
            try await Gloss.guarded {
                let w = try currentWorkspace()
                let span = try w.annotation(prefix: id)
                let referrers = try w.localState(of: span.document).annotations.values.filter { $0.references.contains(span.id) }
                try w.commit(referrers.map { .delete(span.document, $0.id) } + [.delete(span.document, span.id)])
                say("removed \(span.id)" + (referrers.isEmpty ? "" : " and \(referrers.count) annotation(s) pointing at it"))
            }
        }
    }
}

struct RelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rel", abstract: "Add or remove relations.",
        discussion: HelpText.reflow(
                """
                Examples:
                  gloss rel add 33ee 4f1a works_for
                  gloss rel rm 7c2d
                """),
        subcommands: [Add.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Relate two annotations of one document; prints the id.",
            discussion: HelpText.reflow(
                """
                Examples:
                  gloss rel add 33ee 4f1a works_for
                """))
        @Argument var from: String
        @Argument var to: String
        @Argument var label: String

        @OptionGroup var output: OutputOptions

        func run() async throws {
            output.apply()
            try await Gloss.guarded {
                let w = try currentWorkspace()
                let a = try w.annotation(prefix: from)
                let b = try w.annotation(prefix: to)
                guard a.document == b.document else {
                    throw ValidationError("\(from) is in \(a.document) and \(to) in \(b.document): relations stay within one document")
                }
                let id = try w.mintID()
                try w.commit([.create(Annotation.relation(id, in: a.document, from: a.id, to: b.id, label: label, owner: w.config.user))])
                say(id.description)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a relation.", discussion: HelpText.reflow(
                """
                Examples:
                  gloss rel rm 7c2d
                """))
        @Argument var id: String

        @OptionGroup var output: OutputOptions

        func run() async throws {
            output.apply()
            try await Gloss.guarded {
                let w = try currentWorkspace()
                let rel = try w.annotation(prefix: id)
                guard rel.kind == .relation else { throw ValidationError("\(id) is a \(rel.kind), not a relation; use `gloss span rm`") }
                try w.commit([.delete(rel.document, rel.id)])
                say("removed \(rel.id)")
            }
        }
    }
}

struct Annotations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotations",
        abstract: "List annotations: id, document, ranges, covered text, label, attributes, author.",
        discussion: HelpText.reflow(
                """
                Covered texts are quoted on one line (a newline shows as \\n). Relations show their two ends.

                Examples:
                  gloss annotations
                  gloss annotations fed --label PER --layer alice
                  gloss annotations --json | jq -r '.text'
                """))
    @Argument(help: "Only these documents.") var positionalDocuments: [String] = []
    @Option(name: .customLong("doc"), help: "Only this document; repeatable.") var documents: [String] = []
    @OptionGroup var filter: AnnotationFilter
    @Flag(help: "JSON Lines for scripts.") var json = false

    @Flag(help: "Print straight to the terminal, without a pager.") var noPager = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            Pager.start(disabled: noPager || json)
            let wanted = Swift.Set(try (positionalDocuments + documents).map { try knownDocument(w, $0) })
            // Named documents are the only ones read.
            let view = wanted.isEmpty ? try w.localView() : try w.localView(of: wanted)
            try filter.check(against: view.flatMap(\.state.annotations.values), user: w.config.user)
            var rows: [(Annotation, String)] = []
            for (doc, state) in view {
                let index = TextIndex(try w.text(of: doc))
                for a in state.annotations.values.sorted(by: Self.order) where filter.matches(a) {
                    rows.append((a, AnnotationJSON.covered(a, in: index)))
                }
            }
            let short = abbreviations(rows.map(\.0.id))
            for (a, covered) in rows {
                if json {
                    try printJSON(AnnotationJSON(a, covered: covered))
                } else {
                    let where_ = a.kind == .relation
                        ? "\(short[a.from!] ?? "?") → \(short[a.to!] ?? "?")"
                        : a.ranges.map(\.description).joined(separator: ",")
                    let attrs = a.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                    say([short[a.id]!, a.document.rawValue, where_, covered.isEmpty ? "" : quoted(covered), a.label, attrs, a.owner]
                        .filter { !$0.isEmpty }.joined(separator: "\t"))
                }
            }
        }
    }

    static func order(_ a: Annotation, _ b: Annotation) -> Bool {
        (a.ranges.first?.start ?? .max, a.id) < (b.ranges.first?.start ?? .max, b.id)
    }
}

struct Conflicts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "List conflicts between your pending changes and the server's.",
        discussion: HelpText.reflow(
                """
                Each conflict has a stable id (the same on every machine); resolve it with `gloss resolve ID`, then `gloss sync`. Exits 1 while any wait.

                Examples:
                  gloss conflicts
                  gloss conflicts --json | jq -r '.id'
                """))
    @Flag(help: "JSON Lines.") var json = false

    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            let conflicts = try w.conflicts()
            let anchors = try w.anchorProblems()
            for c in conflicts {
                if json {
                    try printJSON(ConflictJSON(c))
                } else {
                    say("\(c.id.prefix(8))\t\(c.description)")
                }
            }
            for p in anchors {
                if json {
                    try printJSON(ConflictJSON(p))
                } else {
                    say("\(p.id.prefix(8))\t\(p.description)")
                }
            }
            if !conflicts.isEmpty || !anchors.isEmpty {
                if !json {
                    if !conflicts.isEmpty { warn("resolve each with `gloss resolve ID --mine|--theirs|--value V`, then `gloss sync`") }
                    if !anchors.isEmpty {
                        warn("settle each anchor with `gloss resolve ID --mine` (keep the proposal), `--value S-E` or `--delete`")
                    }
                }
                throw ExitCode(Failure.conflicts)
            }
        }
    }
}

extension Resolve {
    /// --mine keeps the proposal, --value S-E places the span, --delete removes it.
    func anchorResolution() throws -> AnchorProblem.Resolution {
        if mine { return .keep }
        if delete { return .delete }
        if let value, let ranges = RangeList.parse(value) { return .ranges(ranges) }
        throw ValidationError("an anchor problem takes --mine (keep the proposal), --value S-E[,S-E] or --delete")
    }
}

struct Resolve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Settle a conflict: keep yours, theirs, or a given value.",
        discussion: HelpText.reflow(
                """
                A value the schema does not allow is refused and nothing is recorded. The resolution is applied at the next `gloss sync`.

                Examples:
                  gloss resolve 33ee --theirs
                  gloss resolve 33ee --mine
                  gloss resolve 33ee --value ORG
                  gloss resolve 91ab --value 1-35
                  gloss resolve --all --theirs
                  gloss resolve 5c20 --delete          (an anchor problem: the span no longer applies)
                """))
    @Argument(help: "The conflict id or a unique prefix.") var id: String?
    @Flag(help: "Every open conflict (with --mine or --theirs).") var all = false
    @Flag(help: "Keep your change.") var mine = false
    @Flag(help: "Keep theirs: the server's.") var theirs = false
    @Option(help: "A label or attribute value; S-E[,S-E] for ranges; an annotation id for a dangling reference.")
    var value: String?
    @Flag(help: "An anchor problem: delete the span, whose text changed.") var delete = false

    func validate() throws {
        guard [mine, theirs, value != nil, delete].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --mine, --theirs, --value V, --delete")
        }
        guard (id == nil) == all else { throw ValidationError("give a conflict id or --all (`gloss conflicts` lists them)") }
        if all && value != nil { throw ValidationError("--all takes --mine or --theirs; a --value fits one conflict") }
    }

    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            let resolution: Resolution
            if mine {
                resolution = .mine
            } else if theirs {
                resolution = .theirs
            } else if let value, let id = AnnotationID(value) {
                resolution = .value(.reference(id))
            } else if let value, let ranges = RangeList.parse(value) {
                resolution = .value(.ranges(ranges))
            } else {
                resolution = .value(.string(value ?? ""))
            }
            let anchors = try w.anchorProblems()
            if let id, anchors.contains(where: { $0.id.hasPrefix(id.lowercased()) }) {
                let settled = try w.resolveAnchor(id, with: try anchorResolution())
                say("resolved \(settled.id.prefix(8))")
            } else {
                guard !delete else {
                    throw ValidationError("--delete settles an anchor problem; \(id ?? "--all") names merge conflicts")
                }
                let ids = all ? try w.conflicts().map(\.id) : [id!]
                for id in ids {
                    let conflict = try w.resolve(id, with: resolution)
                    say("resolved \(conflict.id.prefix(8))")
                }
                if all && mine {
                    for problem in anchors where !problem.annotation.ranges.isEmpty {
                        try w.resolveAnchor(problem.id, with: .keep)
                        say("resolved \(problem.id.prefix(8))")
                    }
                }
            }
            let left = try w.conflicts().count + w.anchorProblems().count
            note(left == 0 ? "`gloss sync` to push" : "\(left) left")
        }
    }
}
