import Foundation
import GRDB
import GlossClient
import GlossModel
import GlossStore
import GlossTestSupport
import GlossWire
import NIOCore
import Synchronization
import Testing

@testable import GlossServer

/// A push is authorised by the pusher's role and the corpus's policy. The server reads them
/// once per user and corpus and reuses them until the account store's rights generation moves;
/// these tests check that a change, made by this server or by another process, holds from the
/// next push of a connection that is already open, and that an unchanged one costs no look-up.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct PushRightsCacheTests {
    // MARK: Statements per push

    @Test func aPushReadsOnlyTheRightsGenerationUntilItMoves() async throws {
        let directory = try TemporaryDirectory("rights")
        defer { directory.remove() }
        let log = StatementLog()
        let accounts = try AccountStore(path: directory.path("server.sqlite"), tracingStatements: log.record)
        _ = try accounts.addUser("admin", isAdmin: true)
        _ = try accounts.addUser("ann")
        try accounts.createCorpus(name: "c", owner: "admin")
        try accounts.grant(corpus: "c", user: "ann", role: .annotator)
        let router = RequestRouter(
            accounts: accounts, corpora: try CorpusRegistry(directory: directory.url))
        func push(_ changeset: Changeset, as user: String) async throws -> Gloss_V1_PushResponse {
            try await router.handle(.push(changeset, to: "c"), user: user, sink: NoStream()).push
        }
        let documents = Minter("admin", replica: 1).documents(base: 0, [("d", SampleTexts.short)])
        #expect(try await push(documents, as: "admin").acceptedRevision == 1)
        var ann = Minter("ann", replica: 2)
        var head = 1
        /// The account statements of one push by ann, which must be accepted.
        func statementsOfAPush() async throws -> [String] {
            _ = log.take()
            let response = try await push(ann.changeset(base: head, [.create(ann.span("d", 0, 5, "PER"))]), as: "ann")
            head += 1
            #expect(response.acceptedRevision == UInt64(head))
            return log.take()
        }
        // Tables that hold roles and policies; `rights_generation` names none of them.
        func rightsReads(_ statements: [String]) -> [String] {
            statements.filter { sql in ["corpora", "users", "grants"].contains { sql.contains($0) } }
        }

        #expect(rightsReads(try await statementsOfAPush()).count == 1)  // the first: resolved
        for _ in 0..<3 {
            let statements = try await statementsOfAPush()
            #expect(rightsReads(statements) == [])
            #expect(statements.filter { $0.contains("rights_generation") }.count == 1)
            // The generation and GRDB's schema-cookie check, with no transaction around them
            // (the uncached path read 5 rows in 3 transactions: 14 statements).
            #expect(statements.count <= 2, "\(statements)")
        }
        try accounts.grant(corpus: "c", user: "ann", role: .curator)
        #expect(rightsReads(try await statementsOfAPush()).count == 1)  // moved: read again, once
        #expect(rightsReads(try await statementsOfAPush()) == [])
    }

    /// A server whose corpus `c` (policy `shared`) holds document `d` and `ownerSpans` from
    /// revision 1, with the admin and annotator `ann` connected.
    static func corpusWithAnAnnotator(ownerSpans: [Annotation] = []) async throws
        -> (server: TestServer, admin: ClientConnection, ann: ClientConnection)
    {
        let server = try await TestServer.start()
        let admin = try await server.connect()
        try await SyncOverTLSTests.createCorpus(admin, "c")
        var setup = Minter("admin", replica: 1).documents(base: 0, [("d", SampleTexts.short)])
        setup.ops += ownerSpans.map(Op.create)
        #expect(try await SyncOverTLSTests.push(admin, corpus: "c", setup).acceptedRevision == 1)
        let ann = try await server.connect(token: try server.user("ann", role: .annotator, in: "c"))
        return (server, admin, ann)
    }

    // MARK: Grants

    /// Where a grant change comes from.
    enum GrantChange: String, CaseIterable, CustomTestStringConvertible, Sendable {
        /// An owner's grant request to this server (what `gloss corpus grant` sends).
        case grantRequest
        /// Another account store on the same file: another glossd process's own connections.
        case otherConnection
        /// The sqlite3 shell, a separate process that knows nothing of the rights generation.
        case sqliteShell

        var testDescription: String { rawValue }

        /// The ways this machine can run: the shell only where it is installed.
        static var available: [GrantChange] {
            allCases.filter { $0 != .sqliteShell || SQLiteShell.path != nil }
        }

        func set(_ role: Role, of user: String, in corpus: String, server: TestServer, admin: ClientConnection)
            async throws
        {
            switch self {
            case .grantRequest:
                _ = try await admin.request(
                    .with {
                        $0.grant = .with {
                            $0.corpus = corpus
                            $0.user = user
                            $0.role = role.wire
                        }
                    })
            case .otherConnection:
                try AccountStore(path: server.accounts.path).grant(corpus: corpus, user: user, role: role)
            case .sqliteShell:
                try SQLiteShell.run(
                    server.accounts.path,
                    "UPDATE grants SET role = \(role.rawValue) WHERE corpus = '\(corpus)' AND user = '\(user)';")
            }
        }
    }

    @Test(arguments: GrantChange.available)
    func aLoweredGrantRefusesTheNextPushOnAnOpenConnection(_ change: GrantChange) async throws {
        let (server, admin, ann) = try await Self.corpusWithAnAnnotator()
        defer { Task { await server.stop() } }
        var minter = Minter("ann", replica: 2)
        func pushASpan(base: Int) async throws -> Gloss_V1_PushResponse {
            let span = minter.span("d", 0, 5, "PER")
            return try await SyncOverTLSTests.push(ann, corpus: "c", minter.changeset(base: base, [.create(span)]))
        }
        #expect(try await pushASpan(base: 1).acceptedRevision == 2)

        try await change.set(.viewer, of: "ann", in: "c", server: server, admin: admin)
        await expectServerError(.permissionDenied) { _ = try await pushASpan(base: 2) }

        try await change.set(.annotator, of: "ann", in: "c", server: server, admin: admin)
        #expect(try await pushASpan(base: 2).acceptedRevision == 3)
        ann.close()
        admin.close()
    }

    // MARK: Policy

    @Test func aPolicyChangeHoldsFromTheNextPushOnAnOpenConnection() async throws {
        var owner = Minter("admin", replica: 1)
        let spans = [owner.span("d", 0, 5, "PER"), owner.span("d", 14, 18, "ORG")]
        let (server, admin, ann) = try await Self.corpusWithAnAnnotator(ownerSpans: spans)
        defer { Task { await server.stop() } }
        let minter = Minter("ann", replica: 2)
        func deleteOwnersSpan(_ index: Int, base: Int) async throws -> Gloss_V1_PushResponse {
            try await SyncOverTLSTests.push(ann, corpus: "c", minter.changeset(base: base, [.delete("d", spans[index].id)]))
        }
        // Policy `shared`: an annotator edits the owner's layer.
        #expect(try await deleteOwnersSpan(0, base: 1).acceptedRevision == 2)

        // Changed by another process (its own connections to the same file).
        try AccountStore(path: server.accounts.path).setPolicy(.own, of: "c")
        await expectServerError(.permissionDenied) { _ = try await deleteOwnersSpan(1, base: 2) }

        try AccountStore(path: server.accounts.path).setPolicy(.shared, of: "c")
        #expect(try await deleteOwnersSpan(1, base: 2).acceptedRevision == 3)
        ann.close()
        admin.close()
    }

    // MARK: The generation itself

    @Test func everyRightsChangeMovesTheGenerationAndNothingElseDoes() throws {
        let directory = try TemporaryDirectory("rights")
        defer { directory.remove() }
        let accounts = try AccountStore(path: directory.path("server.sqlite"))
        var last = try accounts.rightsGeneration()
        /// Whether `change` moved the generation.
        func moves(_ change: () throws -> Void) throws -> Bool {
            try change()
            let now = try accounts.rightsGeneration()
            defer { last = now }
            return now != last
        }
        let raw = try DatabaseQueue(path: accounts.path)

        #expect(try moves { _ = try accounts.addUser("olga") })
        #expect(try moves { try accounts.createCorpus(name: "c", owner: "olga") })
        #expect(try moves { _ = try accounts.addUser("ann") })
        #expect(try moves { try accounts.grant(corpus: "c", user: "ann", role: .annotator) })
        #expect(try moves { try accounts.grant(corpus: "c", user: "ann", role: .curator) })
        #expect(try moves { try accounts.setPolicy(.own, of: "c") })
        #expect(try moves { try raw.write { try $0.execute(sql: "UPDATE users SET is_admin = 1 WHERE name = 'ann'") } })
        // A user removed: their grants go by cascade.
        #expect(try moves { try raw.write { try $0.execute(sql: "DELETE FROM users WHERE name = 'ann'") } })
        #expect(try accounts.access(of: "ann", in: "c").access == nil)
        #expect(try accounts.access(of: "olga", in: "c").access == CorpusAccess(role: .owner, policy: .own))

        // Tokens authenticate a connection once; they do not change what a user may do.
        let token = try accounts.issueToken(for: "olga")
        #expect(try !moves { try accounts.revokeToken(id: token.id) })
        #expect(try !moves { _ = try accounts.role(of: "olga", in: "c") })
    }
}

// MARK: Helpers

/// Runs `body`, expecting the server to refuse the request with `code`.
private func expectServerError(
    _ code: WireError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async {
    let error = await #expect(throws: ClientError.self, sourceLocation: sourceLocation) { try await body() }
    #expect(error?.server?.code == code, sourceLocation: sourceLocation)
}

extension Gloss_V1_Request {
    fileprivate static func push(_ changeset: Changeset, to corpus: String) -> Self {
        .with {
            $0.push = .with {
                $0.corpus = corpus
                $0.changeset = Gloss_V1_Changeset(changeset)
            }
        }
    }
}

/// The SQL statements an account store ran, in order.
private final class StatementLog: Sendable {
    private let statements = Mutex<[String]>([])

    func record(_ sql: String) { statements.withLock { $0.append(sql) } }

    /// The statements since the last call.
    func take() -> [String] {
        statements.withLock { taken in
            defer { taken = [] }
            return taken
        }
    }
}

/// A sink for requests that stream nothing (push).
private struct NoStream: ResponseSink {
    func stream(_ item: ByteBuffer) async throws {}
    func interim(_ response: Gloss_V1_Response) async throws {}
}

/// The `sqlite3` command-line shell, where installed (CI does not install it).
private enum SQLiteShell {
    static let path: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin")
        .split(separator: ":").map { "\($0)/sqlite3" }
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs `sql` on the database at `database`, waiting up to 5 s for its lock.
    static func run(_ database: String, _ sql: String) throws {
        let result = try GlossProcesses.runBlocking(
            URL(fileURLWithPath: try #require(path)), ["-bail", "-cmd", ".timeout 5000", database, sql])
        #expect(result.status == 0, "\(result.err)")
    }
}
