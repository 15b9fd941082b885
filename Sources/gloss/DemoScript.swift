import Foundation
import GlossClient
import GlossFormats
import GlossModel
import GlossWire

/// What `gloss demo` does, step by step, narrating as it goes.
struct DemoScript {
    let root: URL
    let server: DemoServer
    let corpus = "federation"
    let document: DocumentID = "federation-1923"

    /// The mentions each annotator marks: (text, occurrence, label). They agree on most and
    /// differ on a few, so that agreement is high but not perfect.
    static let alice: [(String, Int, String)] = [
        ("Inprecorr", 1, "ORG"), ("Moscow", 1, "LOC"), ("Jan. 10, 1923", 1, "DATE"), ("J. Stalin", 1, "PER"),
        ("International Press Correspondence", 1, "ORG"), ("Moscow", 2, "LOC"), ("Stalin", 2, "PER"),
        ("Stalin", 3, "PER"), ("December 1922", 1, "DATE"), ("Russia", 1, "LOC"), ("Genoa", 1, "LOC"),
        ("The Hague", 1, "LOC"), ("Genoa Conference", 1, "EVENT"), ("Republic of the Far East", 1, "LOC"),
    ]
    static let bob: [(String, Int, String)] = [
        ("Inprecorr", 1, "ORG"), ("Moscow", 1, "LOC"), ("Jan. 10, 1923", 1, "DATE"), ("J. Stalin", 1, "PER"),
        ("International Press Correspondence", 1, "ORG"), ("Moscow", 2, "LOC"), ("Stalin", 2, "PER"),
        ("Stalin", 3, "PER"), ("December 1922", 1, "DATE"), ("1918", 1, "DATE"), ("Genoa", 1, "LOC"),
        ("The Hague", 1, "LOC"), ("Genoa", 2, "LOC"), ("Republic of the Far East", 1, "ORG"),
    ]

    func run() async throws {
        step("1. glossd is listening on 127.0.0.1:\(server.port) (TLS; certificate \(server.pin.description.prefix(23))…)")
        let admin = try await server.connect(token: server.adminToken)
        defer { admin.close() }
        let schema = Schema(spanLabels: ["PER", "ORG", "LOC", "DATE", "EVENT", "TITLE", "WORK"])
        let schemaJSON = String(decoding: try JSONEncoder().encode(schema), as: UTF8.self)
        _ = try await admin.request(
            .with {
                $0.createCorpus = .with {
                    $0.name = corpus
                    $0.schemaJson = schemaJSON
                    $0.policy = .shared
                }
            })
        var tokens: [String: String] = [:]
        for user in ["alice", "bob"] {
            tokens[user] = try server.addUser(user)
            _ = try await admin.request(
                .with {
                    $0.grant = .with {
                        $0.corpus = corpus
                        $0.user = user
                        $0.role = .annotator
                    }
                })
        }
        let url = GlossURL(host: "127.0.0.1", port: server.port, corpus: corpus)

        // The owner adds the sample and marks its title, which both annotators will relabel.
        let owner = try await SyncEngine.clone(
            url: url, into: root.appendingPathComponent("owner"), connection: admin, pin: server.pin, caFile: nil,
            token: server.adminToken)
        let sample = Document(id: document, text: SampleDocument.text)
        let title = try owner.mintID()
        try owner.commit(
            [
                .addDocument(sample),
                .create(
                    Annotation.span(
                        title, in: document, [try Self.range(of: "The Federation of Soviet Republics", 1)], label: "TITLE",
                        owner: "admin")),
            ], texts: [sample.digest: SampleDocument.text], message: "add the sample document")
        _ = try await SyncEngine(workspace: owner, connection: admin).sync()
        step("2. corpus \(corpus): the sample document \(document) (\(sample.length) code points), schema \(schema.spanLabels.joined(separator: ","))")

        // Both annotators clone, then annotate offline in their own workspaces. Neither syncs
        // before both have committed, so they always relabel the same title from the same
        // revision, however fast or slow the machine: the conflict is certain.
        let alice = try await clone("alice", token: tokens["alice"]!, url: url)
        let bob = try await clone("bob", token: tokens["bob"]!, url: url)
        try annotate(alice, Self.alice, retitle: "WORK", title: title)
        try annotate(bob, Self.bob, retitle: "EVENT", title: title)
        step("3. alice and bob annotated in parallel: \(Self.alice.count + 1) and \(Self.bob.count + 1) change(s), and both relabelled the title")

        // alice syncs first and her label lands; bob syncs second and has the conflict.
        for session in [alice, bob] {
            let result = try await session.engine.sync()
            if !result.conflicts.isEmpty {
                for conflict in result.conflicts {
                    step("4. \(session.workspace.config.user)'s sync found a real conflict: \(conflict.description)")
                    _ = try session.workspace.resolve(String(conflict.id.prefix(8)), with: .theirs)
                    step("   \(session.workspace.config.user) resolves it: gloss resolve \(conflict.id.prefix(8)) --theirs")
                }
                _ = try await session.engine.sync()
            }
        }
        for session in [alice, bob] { try await session.engine.pull() }
        let left = try alice.workspace.localState(of: document)
        let right = try bob.workspace.localState(of: document)
        guard left == right else { throw WorkspaceError(.corrupt, "the demo's workspaces did not converge") }
        let head = try alice.workspace.replica.headRevision()
        step("5. both workspaces converged at revision \(head): \(left.annotations.count) annotations, the same on both sides")

        // The annotated document: the first part, with alice's layer and the shared title.
        let shown = left.sortedAnnotations.filter { $0.layer == "alice" || $0.layer == "admin" }
        let excerpt = Self.excerpt(SampleDocument.text, annotations: shown, scalars: 900)
        note("\n" + (Terminal.colorsStdout
            ? ColoredDocument(text: excerpt.text, annotations: excerpt.annotations).render()
            : InlineMarkupRenderer().render(text: excerpt.text, annotations: excerpt.annotations)))
        note("(first \(excerpt.text.unicodeScalars.count) code points, alice's layer; `gloss show` shows it all)\n")

        let report = try AgreementReport.compute(
            documents: [AgreementDocument(text: SampleDocument.text, layers: Dictionary(grouping: left.annotations.values, by: \.layer))],
            annotators: ["alice", "bob"])
        note("6. agreement between alice and bob (`gloss agree alice bob`):\n")
        print(AgreementTable(report: report).render(), terminator: "")
        alice.connection.close()
        bob.connection.close()
    }

    struct Session {
        let workspace: Workspace
        let connection: ClientConnection
        var engine: SyncEngine { SyncEngine(workspace: workspace, connection: connection) }
    }

    /// One annotator's workspace, cloned from the server.
    private func clone(_ user: String, token: String, url: GlossURL) async throws -> Session {
        let connection = try await server.connect(token: token)
        let workspace = try await SyncEngine.clone(
            url: url, into: root.appendingPathComponent(user), connection: connection, pin: server.pin, caFile: nil,
            token: token)
        return Session(workspace: workspace, connection: connection)
    }

    /// One annotator, offline: mark every mention, relabel the title.
    private func annotate(_ session: Session, _ mentions: [(String, Int, String)], retitle: String, title: AnnotationID)
        throws
    {
        let workspace = session.workspace
        let user = workspace.config.user
        var ops: [Op] = []
        for (text, occurrence, label) in mentions {
            ops.append(
                .create(
                    Annotation.span(
                        try workspace.mintID(), in: document, [try Self.range(of: text, occurrence)], label: label, owner: user)))
        }
        try workspace.commit(ops, message: "\(user)'s entities")
        try workspace.commit([.set(document, title, .label, .string(retitle))], message: "the title is a \(retitle)")
    }

    /// The scalar range of the n-th occurrence (1-based) of `needle` in the sample.
    static func range(of needle: String, _ occurrence: Int) throws -> TextRange {
        let text = SampleDocument.text
        var from = text.startIndex
        for n in 1...occurrence {
            guard let found = text.range(of: needle, range: from..<text.endIndex) else { break }
            if n == occurrence {
                let start = text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: found.lowerBound)
                return TextRange(start, start + needle.unicodeScalars.count)
            }
            from = found.upperBound
        }
        throw WorkspaceError(.corrupt, "the sample has no occurrence \(occurrence) of \"\(needle)\"")
    }

    /// The first `scalars` code points (cut at a line end) and the spans inside them.
    static func excerpt(_ text: String, annotations: [Annotation], scalars: Int) -> (text: String, annotations: [Annotation]) {
        let all = Array(text.unicodeScalars)
        var end = min(scalars, all.count)
        while end < all.count && all[end - 1] != "\n" { end += 1 }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: all[..<end])
        return (String(view), annotations.filter { $0.ranges.allSatisfy { $0.end <= end } })
    }

    private func step(_ line: String) { note(line) }
}
