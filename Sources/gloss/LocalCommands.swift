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
        commandName: "doc", abstract: "Add documents (corpus owners).", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add text files as documents; their id is the file name without .txt.")

        @Argument(help: "UTF-8 text files.") var files: [String]
        @Option(help: "The document id, for a single file.") var id: String?

        func run() async throws {
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
        commandName: "span", abstract: "Add, change or remove spans.", subcommands: [Add.self, Set.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a span over [START, END) (Unicode code points) and print its id.")
        @Argument var document: String
        @Argument var start: Int
        @Argument var end: Int
        @Argument var label: String
        @Option(name: .customLong("attr"), help: "KEY=VALUE, repeatable.") var attributes: [String] = []

        func run() async throws {
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
        static let configuration = CommandConfiguration(abstract: "Change a span's label, ranges or attributes.")
        @Argument(help: "The span id or a unique prefix.") var id: String
        @Option var label: String?
        @Option(help: "S-E[,S-E] for a discontinuous span.") var range: String?
        @Option(name: .customLong("attr"), help: "KEY=VALUE; KEY= removes it. Repeatable.") var attributes: [String] = []

        func run() async throws {
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
            commandName: "rm", abstract: "Remove a span, with the relations and notes that point at it.")
        @Argument var id: String

        func run() async throws {
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
        commandName: "rel", abstract: "Add or remove relations.", subcommands: [Add.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Relate two annotations of one document; prints the id.")
        @Argument var from: String
        @Argument var to: String
        @Argument var label: String

        func run() async throws {
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
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a relation.")
        @Argument var id: String

        func run() async throws {
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
        abstract: "List annotations: id, document, ranges, covered text, label, attributes, author.")
    @Argument(help: "Only this document.") var document: String?
    @Flag(help: "JSON Lines for scripts.") var json = false

    func run() async throws {
        try await Gloss.guarded {
            let w = try currentWorkspace()
            var view = try w.localView()
            if let document {
                let id = try knownDocument(w, document)
                view = view.filter { $0.document.id == id }
            }
            var rows: [(Annotation, String)] = []
            for (doc, state) in view {
                let index = TextIndex(try w.text(of: doc))
                for a in state.annotations.values.sorted(by: Self.order) {
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
    static let configuration = CommandConfiguration(abstract: "List conflicts between your pending changes and the server's.")
    @Flag(help: "JSON Lines.") var json = false

    func run() async throws {
        try await Gloss.guarded {
            let conflicts = try currentWorkspace().conflicts()
            for c in conflicts {
                if json {
                    try printJSON(ConflictJSON(c))
                } else {
                    say("\(c.id.prefix(8))\t\(c.description)")
                }
            }
            if !conflicts.isEmpty {
                if !json { warn("resolve each with `gloss resolve ID --mine|--theirs|--value V`, then `gloss sync`") }
                throw ExitCode(Failure.conflicts)
            }
        }
    }
}

struct Resolve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Settle a conflict: keep yours, theirs, or a given value.")
    @Argument(help: "The conflict id or a unique prefix.") var id: String
    @Flag var mine = false
    @Flag var theirs = false
    @Option(help: "A label or attribute value; S-E[,S-E] for ranges; an annotation id for a dangling reference.")
    var value: String?

    func validate() throws {
        guard [mine, theirs, value != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --mine, --theirs, --value V")
        }
    }

    func run() async throws {
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
            let conflict = try w.resolve(id, with: resolution)
            let left = try w.conflicts().count
            say("resolved \(conflict.id.prefix(8)); " + (left == 0 ? "`gloss sync` to push" : "\(left) left"))
        }
    }
}
