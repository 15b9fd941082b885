import ArgumentParser
import Foundation
import GlossClient
import GlossModel
import GlossWire

struct CorpusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus", abstract: "Create corpora and grant roles on a server.",
        discussion: HelpText.reflow(
            """
            Examples:
              gloss corpus create gloss://annot.example.org:7743 news --schema schema.json
              gloss corpus grant gloss://annot.example.org:7743 news alice curator
              gloss corpus list gloss://annot.example.org:7743
            """),
        subcommands: [Create.self, Grant.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create a corpus (server admins).",
            discussion: HelpText.reflow(
            """
                The schema file is JSON: {"spanLabels": ["PER", "ORG"], "documentLabels": ["politics"], \
                "relations": [{"label": "works_for", "fromLabels": ["PER"], "toLabels": ["ORG"]}], \
                "attributes": [{"name": "negated", "values": ["yes", "no"]}]}.

                Only the labels listed are allowed: an empty or missing spanLabels, documentLabels, \
                relations or attributes allows none of that kind. In a relation rule an empty or \
                missing fromLabels or toLabels allows any span label, and in an attribute rule empty \
                values allow any value. "isOpen": true allows any label and attribute, and so does a \
                corpus created without --schema. Unknown keys are refused, with the key named.

                Examples:
                  gloss corpus create gloss://annot.example.org:7743 news --schema schema.json
                  gloss corpus create gloss://annot.example.org:7743 scratch --own-layers
                """))

        @Argument(help: "gloss://HOST:PORT") var url: String
        @Argument(help: "The corpus name.") var name: String
        @Option(help: "A schema file (JSON, see above).") var schema: String?
        @Flag(help: "Annotators may edit only their own layer.") var ownLayers = false
        @OptionGroup var connection: ConnectionOptions

        @OptionGroup var output: OutputOptions

        func run() async throws {
            output.apply()
            try await Gloss.guarded {
                guard let server = GlossURL(url) else { throw ValidationError("expected gloss://HOST:PORT, got \(url)") }
                var json = ""
                if let schema {
                    guard let data = FileManager.default.contents(atPath: schema) else {
                        throw WorkspaceError(.io, "cannot read the schema file \(schema)")
                    }
                    do {
                        _ = try SchemaFile.parse(data)
                    } catch {
                        throw ValidationError("\(schema): \(error); see `gloss corpus create --help`")
                    }
                    json = String(decoding: data, as: UTF8.self)
                }
                let (client, _) = try await connection.connect(to: server, token: try connection.resolvedToken())
                defer { client.close() }
                _ = try await client.request(
                    .with {
                        $0.createCorpus = .with {
                            $0.name = name
                            $0.schemaJson = json
                            $0.policy = ownLayers ? .own : .shared
                        }
                    })
                say("created corpus \(name); clone it with: gloss clone \(GlossURL(host: server.host, port: server.port, corpus: name))")
            }
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "grant",
            abstract: "Give a user a role in a corpus (corpus owners).",
            discussion: HelpText.reflow(
                """
                Roles: viewer (reads), annotator (annotates; under --own-layers only their own layer), curator (every layer), owner (also schema, documents and grants); none revokes.

                Examples:
                  gloss corpus grant gloss://annot.example.org:7743 news alice curator
                  gloss corpus grant gloss://annot.example.org:7743 news bob none
                """))

        @Argument(help: "gloss://HOST:PORT") var url: String
        @Argument var corpus: String
        @Argument var user: String
        @Argument(help: "viewer, annotator, curator, owner, or none to revoke.") var role: String
        @OptionGroup var connection: ConnectionOptions

        @OptionGroup var output: OutputOptions

        func run() async throws {
            output.apply()
            try await Gloss.guarded {
                guard let server = GlossURL(url) else { throw ValidationError("expected gloss://HOST:PORT, got \(url)") }
                let roles: [String: Gloss_V1_Role] = [
                    "viewer": .viewer, "annotator": .annotator, "curator": .curator, "owner": .owner, "none": .none,
                ]
                guard let wire = roles[role.lowercased()] else {
                    throw ValidationError("role must be one of viewer, annotator, curator, owner, none")
                }
                let (client, _) = try await connection.connect(to: server, token: try connection.resolvedToken())
                defer { client.close() }
                _ = try await client.request(
                    .with {
                        $0.grant = .with {
                            $0.corpus = corpus
                            $0.user = user
                            $0.role = wire
                        }
                    })
                say(wire == .none ? "revoked \(user)'s role in \(corpus)" : "\(user) is now \(role.lowercased()) of \(corpus)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the corpora you have a role in.",
            discussion: HelpText.reflow(
                """
                Examples:
                  gloss corpus list gloss://annot.example.org:7743
                  gloss corpus list gloss://annot.example.org:7743 --json
                """))

        @Argument(help: "gloss://HOST:PORT") var url: String
        @Flag(help: "JSON Lines for scripts.") var json = false
        @OptionGroup var connection: ConnectionOptions

        struct Row: Encodable {
            var name: String
            var role: String
            var revision: UInt64
            var documents: UInt64
        }

        @OptionGroup var output: OutputOptions

        func run() async throws {
            output.apply()
            try await Gloss.guarded {
                guard let server = GlossURL(url) else { throw ValidationError("expected gloss://HOST:PORT, got \(url)") }
                let (client, _) = try await connection.connect(to: server, token: try connection.resolvedToken())
                defer { client.close() }
                let response = try await client.request(.with { $0.listCorpora = .init() })
                for c in response.listCorpora.corpora {
                    if json {
                        try printJSON(Row(name: c.name, role: "\(c.role)", revision: c.headRevision, documents: UInt64(c.documents)))
                        continue
                    }
                    say("\(c.name)\t\(c.role)\trevision \(c.headRevision)\t\(c.documents) document(s)")
                }
            }
        }
    }
}

/// Opens the workspace around the current directory and connects to its server.
/// Says, after a pull, how many spans the texts it revised left for a person to settle.
func noteAnchorProblems(_ w: Workspace, revisedAfter revision: Int) throws {
    let problems = try w.anchorProblems(revisedAfter: revision)
    guard !problems.isEmpty else { return }
    warn(
        "texts changed: \(problems.count) span(s) whose words changed wait in `gloss conflicts` "
            + "(`gloss resolve ID --mine|--value S-E|--delete`)")
}

struct WorkspaceSession {
    let workspace: Workspace
    let client: ClientConnection

    static func open(_ options: ConnectionOptions) async throws -> WorkspaceSession {
        let workspace = try Workspace.open(containing: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        let token = try options.resolvedToken(fallback: workspace.savedToken())
        let (client, _) = try await options.connect(to: try workspace.url, token: token, trust: workspace.trust)
        // Changes are made in the workspace user's name: a token for someone else (often a
        // GLOSS_TOKEN left in the environment) would push them under the wrong name.
        guard client.user == workspace.config.user else {
            client.close()
            throw WorkspaceError(
                .wrongUser,
                "this workspace is \(workspace.config.user)'s but the token "
                    + (options.token != nil ? "given" : ProcessInfo.processInfo.environment["GLOSS_TOKEN"] != nil
                        ? "in GLOSS_TOKEN" : "used") + " authenticates \(client.user); unset GLOSS_TOKEN or pass \(workspace.config.user)'s token")
        }
        return WorkspaceSession(workspace: workspace, client: client)
    }

    var engine: SyncEngine { SyncEngine(workspace: workspace, connection: client) }
}

struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch new revisions from the server.",
        discussion: HelpText.reflow(
                """
                Your pending changes stay pending and are rebased on the new revisions; conflicts with them are listed by `gloss conflicts` (exit 1).

                Examples:
                  gloss pull
                  gloss pull --quiet && gloss conflicts
                """))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let session = try await WorkspaceSession.open(connection)
            defer { session.client.close() }
            let progress = ProgressReporter("pull")
            let before = try session.workspace.replica.headRevision()
            let summary = try await session.engine.pull(progress: { progress.update($0.revisions, of: $0.total, bytes: $0.bytes) })
            progress.finish()
            note("pulled \(summary.revisions) revision(s); now at revision \(summary.head)")
            try noteAnchorProblems(session.workspace, revisedAfter: before)
            let conflicts = try session.workspace.conflicts()
            if !conflicts.isEmpty {
                warn("\(conflicts.count) conflict(s) with your pending changes: see `gloss conflicts`")
                throw ExitCode(Failure.conflicts)
            }
        }
    }
}

struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Send pending changes to the server.",
        discussion: HelpText.reflow(
                """
                Pushes only when you are up to date; otherwise `gloss sync` pulls, rebases and pushes in one go. A change the server refuses shows in `gloss status`; `gloss drop N` discards it.

                Examples:
                  gloss push
                """))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let session = try await WorkspaceSession.open(connection)
            defer { session.client.close() }
            let summary = try await session.engine.push()
            if summary.refused {
                warn("the server has revisions you have not pulled that conflict with yours: run `gloss sync`")
                throw ExitCode(Failure.conflicts)
            }
            // Pushed work stays pending until it comes back from the server: fetch it now.
            try await session.engine.pull()
            note("pushed \(summary.accepted.count) changeset(s)" + (summary.accepted.last.map { "; revision \($0)" } ?? ""))
        }
    }
}

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Pull, rebase your pending changes, push, and retry if another push won the race.",
        discussion: HelpText.reflow(
                """
                Exits 1 when your changes conflict with someone else's: `gloss conflicts`, `gloss resolve`, then `gloss sync` again.

                Examples:
                  gloss sync
                  gloss sync || gloss conflicts
                """))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let session = try await WorkspaceSession.open(connection)
            defer { session.client.close() }
            let before = try session.workspace.replica.headRevision()
            let summary = try await session.engine.sync()
            note("pulled \(summary.pulled), pushed \(summary.pushed); at revision \(summary.head)")
            try noteAnchorProblems(session.workspace, revisedAfter: before)
            if !summary.conflicts.isEmpty {
                warn("\(summary.conflicts.count) conflict(s) need resolving: `gloss conflicts`, then `gloss resolve ID --mine|--theirs|--value V`, then `gloss sync`")
                throw ExitCode(Failure.conflicts)
            }
        }
    }
}

struct Trust: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Change how this workspace verifies its server (after a certificate change).",
        discussion: HelpText.reflow(
            """
            Like removing a host from ssh's known_hosts: only do it when the server's administrator
            confirms the new certificate. The next command connects with the new trust.
            Examples:
              gloss trust --pin sha256:…          the fingerprint glossd printed
              gloss trust --ca /etc/ssl/my-ca.pem
              gloss trust --system-ca             a certificate from a public CA (Let's Encrypt)
            """))
    @Option(help: "The server certificate's fingerprint (sha256:HEX).") var pin: String?
    @Option(help: "A CA certificate file (PEM).") var ca: String?
    @Flag(help: "The system's CA store.") var systemCa = false

    func validate() throws {
        guard [pin != nil, ca != nil, systemCa].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --pin, --ca and --system-ca")
        }
        if let pin, CertificateFingerprint(parsing: pin) == nil {
            throw ValidationError("--pin must look like sha256: followed by 64 hex digits, as glossd prints it")
        }
    }

    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            try w.setTrust(pin: pin.flatMap(CertificateFingerprint.init(parsing:)), caFile: ca)
            say("this workspace now trusts " + (pin.map { "the certificate \($0)" } ?? ca.map { "certificates from \($0)" } ?? "the system's CAs"))
        }
    }
}
