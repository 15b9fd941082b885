import Foundation
import GlossModel
import GlossStore
import GlossStorePostgres
import GlossTestSupport
import GlossWire
import Logging
import NIOCore
import Synchronization
import Testing

@testable import GlossServer

/// Everything a request handler streams, in order.
private final class CapturingSink: ResponseSink, Sendable {
    private let items = Mutex<[[UInt8]]>([])
    var captured: [[UInt8]] { items.withLock { $0 } }
    func stream(_ item: ByteBuffer) async throws { items.withLock { $0.append(Array(buffer: item)) } }
    func interim(_ response: Gloss_V1_Response) async throws {
        let bytes: [UInt8] = try response.serializedBytes()
        items.withLock { $0.append(bytes) }
    }
}

/// `glossd migrate-store`: a single-box data directory moved into PostgreSQL serves the same
/// bytes, to the same users and tokens, under the same certificate.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct StoreMigrationTests {
    static let quiet = Logger(label: "migration-test") { _ in SwiftLogNoOpLogHandler() }

    /// A data directory with history worth copying: a schema, many documents, snapshots (a long
    /// chain), relations whose targets were deleted (referrers), head rows and blocks, grants.
    static func buildSource(_ directory: TemporaryDirectory) async throws -> (token: String, fingerprint: String) {
        let accounts = try AccountStore(path: directory.path("server.sqlite"))
        _ = try accounts.addUser("admin", isAdmin: true)
        _ = try accounts.addUser("ann")
        let token = try accounts.issueToken(for: "ann", label: "laptop")
        let (identity, _) = try ServerIdentity.loadOrCreate(directory: directory.url)
        let router = RequestRouter(accounts: accounts, corpora: try CorpusRegistry(directory: directory.url))
        let schema = #"{"spanLabels": ["PER", "ORG", "LOC"], "relations": [{"label": "rel"}]}"#
        _ = try await router.handle(
            .with { $0.createCorpus = .with { $0.name = "news"; $0.schemaJson = schema } }, user: "admin", sink: CapturingSink())
        _ = try await router.handle(.with { $0.createCorpus = .with { $0.name = "empty" } }, user: "admin", sink: CapturingSink())
        try accounts.grant(corpus: "news", user: "ann", role: .annotator)

        var admin = Minter("admin", replica: 1)
        var cs = admin.changeset(base: 1, [])
        let docs = (0..<30).map { DocumentID(storedRawValue: "doc/\($0)") }
        for d in docs { cs.addDocument(d, text: String(repeating: "Alice met Bob in Paris. ", count: 10)) }
        var spans: [Annotation] = []
        for d in docs { for i in 0..<20 { spans.append(admin.span(d, i * 5, i * 5 + 4, "PER")) } }
        cs.ops += spans.map(Op.create)
        var head = try await push(router, cs, as: "admin")
        // A long chain on one document: snapshots.
        var ann = Minter("ann", replica: 2)
        let first = spans.filter { $0.document == docs[0] }
        for round in 0..<60 {
            let span = first[round % first.count]
            head = try await push(
                router, ann.changeset(base: head, [.set(docs[0], span.id, .label, .string(round % 2 == 0 ? "ORG" : "LOC"))]),
                as: "ann")
        }
        // Relations onto spans, then both deleted: referrer rows stay.
        let second = spans.filter { $0.document == docs[1] }
        let relations = (0..<5).map { i in ann.relation(docs[1], second[i + 5].id, second[i].id, "rel") }
        head = try await push(router, ann.changeset(base: head, relations.map(Op.create)), as: "ann")
        head = try await push(router, ann.changeset(base: head, relations.map { .delete(docs[1], $0.id) }), as: "ann")
        head = try await push(router, ann.changeset(base: head, (0..<5).map { .delete(docs[1], second[$0].id) }), as: "ann")
        #expect(head > 60)
        return (token.secret, identity.fingerprint.description)
    }

    static func push(_ router: RequestRouter, _ changeset: Changeset, as user: String) async throws -> Int {
        let response = try await router.handle(
            .with { $0.push = .with { $0.corpus = "news"; $0.changeset = Gloss_V1_Changeset(changeset) } }, user: user,
            sink: CapturingSink())
        try #require(response.push.acceptedRevision > 0, "push refused: \(response.push)")
        return Int(response.push.acceptedRevision)
    }

    /// What a clone, and a pull from the middle, stream: every byte, in order.
    static func streams(_ router: RequestRouter) async throws -> [[UInt8]] {
        let clone = CapturingSink(), pull = CapturingSink()
        _ = try await router.handle(.with { $0.clone = .with { $0.corpus = "news" } }, user: "ann", sink: clone)
        _ = try await router.handle(.with { $0.pull = .with { $0.corpus = "news"; $0.sinceRevision = 30 } }, user: "ann", sink: pull)
        return clone.captured + [[0xFF]] + pull.captured
    }

    @Test func aMigratedStoreServesByteIdenticalClonesToTheSameUsersUnderTheSameCertificate() async throws {
        let directory = try TemporaryDirectory("migrate")
        defer { directory.remove() }
        let (token, fingerprint) = try await Self.buildSource(directory)
        let sqlite = try ServerStorage.sqlite(data: directory.url, creating: false)
        let before = try await Self.streams(RequestRouter(accounts: sqlite.accounts, corpora: sqlite.corpora))

        let postgres = try await TestPostgres.shared()
        let configuration = try PostgresStorageConfiguration(url: try await postgres.freshDatabase())
        let report = try await GlossProcesses.onOwnThread {
            try StoreMigration.migrate(from: directory.url, to: configuration, logger: Self.quiet)
        }
        #expect(report.check.isClean, "\(report.check.summary)")
        #expect(report.users == 2 && report.tokens == 1 && report.identityCopied)
        #expect(report.corpora.map(\.name).sorted() == ["empty", "news"])
        let news = try #require(report.corpora.first { $0.name == "news" }?.counts)
        #expect(news.snapshots > 0 && news.headRows > 0 && news.revisions > 60)

        let copy = try await GlossProcesses.onOwnThread { try ServerStorage.postgres(configuration, logger: Self.quiet) }
        defer { copy.close() }
        let after = try await Self.streams(RequestRouter(accounts: copy.accounts, corpora: copy.corpora))
        #expect(after.count == before.count)
        #expect(after == before, "the migrated store streams different bytes")
        // The same token still authenticates the same user; the grants and the identity came along.
        #expect(try copy.accounts.authenticate(token: token)?.name == "ann")
        #expect(try copy.accounts.role(of: "ann", in: "news") == .annotator)
        #expect(try copy.accounts.role(of: "admin", in: "empty") == .owner)
        let shared = try #require(copy.sharedIdentity)
        #expect(try ServerIdentity.loadOrCreate(store: shared, context: "test").identity.fingerprint.description == fingerprint)

        // A second migration into the same database is refused, and leaves it as it was.
        #expect(throws: StoreMigrationError.self) {
            try StoreMigration.migrate(from: directory.url, to: configuration, logger: Self.quiet)
        }
    }

    @Test func aServedDataDirectoryIsNotMigrated() async throws {
        let directory = try TemporaryDirectory("migrate-locked")
        defer { directory.remove() }
        _ = try await Self.buildSource(directory)
        let lock = try DataDirectoryLock(directory: directory.url)
        defer { lock.release() }
        let postgres = try await TestPostgres.shared()
        let configuration = try PostgresStorageConfiguration(url: try await postgres.freshDatabase())
        #expect(throws: DataDirectoryError.self) {
            try StoreMigration.migrate(from: directory.url, to: configuration, logger: Self.quiet)
        }
    }
}
