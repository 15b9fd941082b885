import Foundation
import GlossStore
import GlossStorePostgres
import GlossStoreSQLite
import GlossTestSupport
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import GlossServer

/// Which catalog a contract test runs on.
enum CatalogKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, sqlite, postgres

    var testDescription: String { rawValue }
}

/// A fresh, empty catalog of one kind, and more "nodes" on the same rows: the same instance in
/// memory, another pool on the same file for SQLite (as another process), another connection
/// pool on the same database for PostgreSQL (as another glossd node). PostgreSQL catalogs get a
/// fresh database each on the tests' shared server.
final class CatalogFixture: Sendable {
    let kind: CatalogKind
    let catalog: any ServerCatalog
    private let directory: TemporaryDirectory?
    /// The PostgreSQL database's URL.
    private let postgres: String?
    private let databases = Mutex<[PostgresConnectionPool]>([])

    private init(kind: CatalogKind, directory: TemporaryDirectory?, postgres: String?, first: PostgresConnectionPool?) throws {
        self.kind = kind
        self.directory = directory
        self.postgres = postgres
        switch kind {
        case .memory:
            catalog = MemoryServerCatalog()
        case .sqlite:
            catalog = try SQLiteServerCatalog(path: directory!.path("server.sqlite"))
        case .postgres:
            databases.withLock { $0.append(first!) }
            catalog = try PostgresServerCatalog(database: first!)
        }
    }

    static func make(_ kind: CatalogKind) async throws -> CatalogFixture {
        switch kind {
        case .memory:
            return try CatalogFixture(kind: kind, directory: nil, postgres: nil, first: nil)
        case .sqlite:
            return try CatalogFixture(kind: kind, directory: try TemporaryDirectory("catalog"), postgres: nil, first: nil)
        case .postgres:
            let url = try await TestPostgres.shared().freshDatabase()
            let database = try startDatabase(url)
            do {
                return try CatalogFixture(kind: kind, directory: nil, postgres: url, first: database)
            } catch {
                database.shutdown()
                throw error
            }
        }
    }

    private static func startDatabase(_ url: String) throws -> PostgresConnectionPool {
        let configuration = try PostgresStorageConfiguration(url: url, poolSize: 4)
        let database = PostgresConnectionPool(configuration: configuration, logger: Logger(label: "catalog-test") { _ in SwiftLogNoOpLogHandler() })
        database.start()
        return database
    }

    /// Another node on the same rows.
    func anotherNode() throws -> any ServerCatalog {
        switch kind {
        case .memory:
            return catalog
        case .sqlite:
            return try SQLiteServerCatalog(path: directory!.path("server.sqlite"))
        case .postgres:
            let database = try Self.startDatabase(postgres!)
            databases.withLock { $0.append(database) }
            return try PostgresServerCatalog(database: database)
        }
    }

    /// Runs `statement` directly on the database, as another tool would (PostgreSQL only).
    func executeOnDatabase(_ statement: String) throws {
        let database = try #require(databases.withLock { $0.first })
        try database.withConnection { try $0.execute(PostgresQuery(unsafeSQL: statement)) }
    }

    func tearDown() async {
        for database in databases.withLock({ $0 }) { database.shutdown() }
        directory?.remove()
    }
}

/// Runs `body` on a fresh catalog of `kind`, and tears it down however the body ends.
private func withCatalog(_ kind: CatalogKind, _ body: (CatalogFixture) async throws -> Void) async throws {
    let fixture = try await CatalogFixture.make(kind)
    do {
        try await body(fixture)
    } catch {
        await fixture.tearDown()
        throw error
    }
    await fixture.tearDown()
}

/// Runs `body`, expecting a ``CatalogError`` with `code` (and `context`, when given).
private func expectCatalogError(
    _ code: CatalogError.Code, context: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    expectError(CatalogError.self, code, context: context, sourceLocation: sourceLocation, body)
}

/// A time at the millisecond precision catalogs keep.
private func instant(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

private func token(_ id: String, user: String, created: Int64 = 1_700_000_000_000) -> TokenRecord {
    TokenRecord(
        hash: Array("hash-of-\(id)".utf8),
        info: TokenInfo(id: id, user: user, label: "label \(id)", createdAt: instant(created), isRevoked: false))
}

/// The ``ServerCatalog`` contract, checked on every catalog: the in-memory reference, the
/// SQLite file and PostgreSQL (a database of its own per test).
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct ServerCatalogContractTests {
    // MARK: Users

    @Test(arguments: CatalogKind.allCases)
    func usersAreUniqueExactAndListedInByteOrder(_ kind: CatalogKind) async throws {
        try await withCatalog(kind) { f in
            let catalog = f.catalog
            let zed = User(name: "Zed", isAdmin: false, createdAt: instant(1_700_000_000_123))
            let alice = User(name: "alice", isAdmin: true, createdAt: instant(1_700_000_000_456))
            try catalog.insertUser(zed)
            try catalog.insertUser(alice)
            expectCatalogError(.alreadyExists, context: "alice") {
                try catalog.insertUser(User(name: "alice", isAdmin: false, createdAt: instant(0)))
            }
            #expect(try catalog.user(named: "alice") == alice)
            #expect(try catalog.user(named: "Alice") == nil)
            // Byte order ("Z" < "a"), not a locale's, and timestamps exact to the millisecond.
            #expect(try catalog.users() == [zed, alice])
        }
    }

    // MARK: Corpora

    @Test(arguments: CatalogKind.allCases)
    func corpusNamesAreUniqueRegardlessOfCaseAndLookedUpExactly(_ kind: CatalogKind) async throws {
        try await withCatalog(kind) { f in
            let catalog = f.catalog
            try catalog.insertUser(User(name: "olga", isAdmin: false, createdAt: instant(0)))
            let news = CorpusRecord(name: "News", policy: .own, createdAt: instant(1_700_000_000_001))
            try catalog.insertCorpus(news, owner: "olga")
            let generation = try catalog.rightsGeneration()
            for clash in ["news", "NEWS", "News"] {
                expectCatalogError(.alreadyExists, context: "News") {
                    try catalog.insertCorpus(CorpusRecord(name: clash, policy: .shared, createdAt: instant(0)), owner: "olga")
                }
            }
            // A refused write leaves nothing behind, not even a move of the generation.
            #expect(try catalog.rightsGeneration() == generation)
            #expect(try catalog.corpus(named: "News") == news)
            #expect(try catalog.corpus(named: "news") == nil)
            #expect(try catalog.corpora() == [news])

            expectCatalogError(.unknownUser, context: "ghost") {
                try catalog.insertCorpus(CorpusRecord(name: "blogs", policy: .shared, createdAt: instant(0)), owner: "ghost")
            }
            #expect(try catalog.corpus(named: "blogs") == nil)

            let alpha = CorpusRecord(name: "alpha", policy: .shared, createdAt: instant(2))
            try catalog.insertCorpus(alpha, owner: "olga")
            #expect(try catalog.corpora().map(\.name) == ["News", "alpha"])
            try catalog.setPolicy(.shared, of: "News")
            #expect(try catalog.corpus(named: "News")?.policy == .shared)
            expectCatalogError(.unknownCorpus, context: "news") { try catalog.setPolicy(.own, of: "news") }
        }
    }

    // MARK: Tokens

    @Test(arguments: CatalogKind.allCases)
    func tokensAreFoundByHashWhileNotRevoked(_ kind: CatalogKind) async throws {
        try await withCatalog(kind) { f in
            let catalog = f.catalog
            let bob = User(name: "bob", isAdmin: false, createdAt: instant(5))
            try catalog.insertUser(bob)
            try catalog.insertUser(User(name: "carol", isAdmin: false, createdAt: instant(6)))
            let later = token("0000000b", user: "bob", created: 1_700_000_000_200)
            let first = token("ffffffff", user: "bob", created: 1_700_000_000_100)
            let tie = token("0000000a", user: "carol", created: 1_700_000_000_200)
            for record in [later, first, tie] { try catalog.insertToken(record) }

            #expect(try catalog.user(forTokenHash: later.hash) == bob)
            #expect(try catalog.user(forTokenHash: Array("unknown".utf8)) == nil)
            // By time of issue, then id.
            #expect(try catalog.tokens().map(\.id) == ["ffffffff", "0000000a", "0000000b"])
            #expect(try catalog.tokens(for: "bob") == [first.info, later.info])
            #expect(try catalog.tokens(for: "carol") == [tie.info])

            expectCatalogError(.alreadyExists) { try catalog.insertToken(token("ffffffff", user: "carol")) }
            var sameHash = token("12345678", user: "carol")
            sameHash.hash = later.hash
            expectCatalogError(.alreadyExists) { try catalog.insertToken(sameHash) }
            expectCatalogError(.unknownUser, context: "ghost") { try catalog.insertToken(token("87654321", user: "ghost")) }
            #expect(try catalog.tokens().count == 3)
            expectCatalogError(.unknownUser, context: "ghost") { _ = try catalog.tokens(for: "ghost") }

            try catalog.revokeToken(id: "0000000b")
            try catalog.revokeToken(id: "0000000b")  // again: nothing changes
            #expect(try catalog.user(forTokenHash: later.hash) == nil)
            #expect(try catalog.tokens(for: "bob").map(\.isRevoked) == [false, true])
            expectCatalogError(.unknownToken, context: "00000000") { try catalog.revokeToken(id: "00000000") }
        }
    }

    // MARK: Grants

    @Test(arguments: CatalogKind.allCases)
    func grantsNeedTheirCorpusAndUserAndKeepAnOwner(_ kind: CatalogKind) async throws {
        try await withCatalog(kind) { f in
            let catalog = f.catalog
            for name in ["root", "olga", "pia", "ann"] {
                try catalog.insertUser(User(name: name, isAdmin: name == "root", createdAt: instant(0)))
            }
            let news = CorpusRecord(name: "news", policy: .own, createdAt: instant(1))
            let blogs = CorpusRecord(name: "blogs", policy: .shared, createdAt: instant(2))
            try catalog.insertCorpus(news, owner: "olga")
            try catalog.insertCorpus(blogs, owner: "pia")

            expectCatalogError(.unknownCorpus, context: "NEWS") { try catalog.setRole(.viewer, of: "ann", in: "NEWS") }
            expectCatalogError(.unknownUser, context: "ghost") { try catalog.setRole(.viewer, of: "ghost", in: "news") }
            expectCatalogError(.lastOwner, context: "news") { try catalog.setRole(.curator, of: "olga", in: "news") }
            expectCatalogError(.lastOwner, context: "news") { try catalog.setRole(nil, of: "olga", in: "news") }

            try catalog.setRole(.annotator, of: "ann", in: "news")
            try catalog.setRole(.viewer, of: "ann", in: "blogs")
            try catalog.setRole(.owner, of: "pia", in: "news")
            try catalog.setRole(.curator, of: "olga", in: "news")  // pia owns it now
            #expect(try catalog.grants(corpus: "news").map { "\($0.user):\($0.role)" } == ["ann:annotator", "olga:curator", "pia:owner"])
            expectCatalogError(.unknownCorpus, context: "sports") { _ = try catalog.grants(corpus: "sports") }

            #expect(try catalog.access(of: "ann", in: "news").access == CorpusAccess(role: .annotator, policy: .own))
            #expect(try catalog.access(of: "root", in: "news").access == CorpusAccess(role: .owner, policy: .own))
            #expect(try catalog.access(of: "root", in: "nothing").access == nil)
            #expect(try catalog.access(of: "ghost", in: "news").access == nil)
            try catalog.setRole(nil, of: "ann", in: "blogs")
            #expect(try catalog.access(of: "ann", in: "blogs").access == nil)

            let visible = try catalog.corpora(visibleTo: "ann")
            #expect(visible.map(\.0) == [news] && visible.map(\.1) == [.annotator])
            let root = try catalog.corpora(visibleTo: "root")
            #expect(root.map(\.0) == [blogs, news] && root.allSatisfy { $0.1 == .owner })
            expectCatalogError(.unknownUser, context: "ghost") { _ = try catalog.corpora(visibleTo: "ghost") }
        }
    }

    @Test(arguments: CatalogKind.allCases)
    func userSummariesCountGrantsAndTokens(_ kind: CatalogKind) async throws {
        try await withCatalog(kind) { f in
            let catalog = f.catalog
            #expect(try catalog.userSummaries().isEmpty)
            let olga = User(name: "olga", isAdmin: false, createdAt: instant(3))
            let ann = User(name: "ann", isAdmin: false, createdAt: instant(4))
            try catalog.insertUser(olga)
            try catalog.insertUser(ann)
            try catalog.insertCorpus(CorpusRecord(name: "news", policy: .shared, createdAt: instant(0)), owner: "olga")
            try catalog.insertCorpus(CorpusRecord(name: "blogs", policy: .shared, createdAt: instant(0)), owner: "olga")
            try catalog.setRole(.viewer, of: "ann", in: "news")
            try catalog.insertToken(token("00000001", user: "ann"))
            try catalog.insertToken(token("00000002", user: "ann"))
            try catalog.revokeToken(id: "00000002")
            #expect(
                try catalog.userSummaries() == [
                    UserSummary(user: ann, grants: [.init(corpus: "news", role: .viewer)], activeTokens: 1, revokedTokens: 1),
                    UserSummary(
                        user: olga, grants: [.init(corpus: "blogs", role: .owner), .init(corpus: "news", role: .owner)],
                        activeTokens: 0, revokedTokens: 0),
                ])
        }
    }

    // MARK: Rights generation

    @Test(arguments: CatalogKind.allCases)
    func theRightsGenerationIncreasesWithEveryRightsChange(_ kind: CatalogKind) async throws {
        try await withCatalog(kind) { f in
            let catalog = f.catalog
            var last = try catalog.rightsGeneration()
            /// Whether `change` raised the generation (and never lowered it).
            func raises(_ change: () throws -> Void) throws -> Bool {
                try change()
                let now = try catalog.rightsGeneration()
                defer { last = now }
                return now > last
            }
            #expect(try raises { try catalog.insertUser(User(name: "olga", isAdmin: false, createdAt: instant(0))) })
            #expect(try raises { try catalog.insertUser(User(name: "ann", isAdmin: false, createdAt: instant(0))) })
            #expect(try raises { try catalog.insertCorpus(CorpusRecord(name: "c", policy: .shared, createdAt: instant(0)), owner: "olga") })
            #expect(try raises { try catalog.setRole(.annotator, of: "ann", in: "c") })
            #expect(try raises { try catalog.setRole(.curator, of: "ann", in: "c") })
            #expect(try raises { try catalog.setPolicy(.own, of: "c") })
            #expect(try raises { try catalog.setRole(nil, of: "ann", in: "c") })
            // Reads move nothing; access comes with the generation of its own read.
            #expect(try !raises { _ = try catalog.access(of: "ann", in: "c") })
            #expect(try catalog.access(of: "olga", in: "c").generation == last)
            // A refused change moves nothing either.
            #expect(try !raises { expectCatalogError(.lastOwner) { try catalog.setRole(.viewer, of: "olga", in: "c") } })

            if kind == .postgres {
                // A change made outside glossd (psql) moves it too: triggers, not glossd's code.
                #expect(try raises { try f.executeOnDatabase("UPDATE users SET is_admin = true WHERE name = 'ann'") })
                #expect(try catalog.access(of: "ann", in: "c").access?.role == .owner)
                #expect(try raises { try f.executeOnDatabase("DELETE FROM users WHERE name = 'ann'") })
            }
        }
    }

    // MARK: Several nodes

    @Test(arguments: CatalogKind.allCases)
    func twoNodesOnOneDatabaseSeeEachOthersChanges(_ kind: CatalogKind) async throws {
        try await withCatalog(kind) { f in
            let one = AccountStore(catalog: f.catalog)
            let two = AccountStore(catalog: try f.anotherNode())
            try one.addUser("root", isAdmin: true)
            let ann = try one.addUser("ann")
            let token = try one.issueToken(for: "ann", label: "laptop")
            #expect(try two.authenticate(token: token.secret) == ann)
            #expect(try two.tokens(for: "ann").map(\.id) == [token.id])

            try two.createCorpus(name: "news", owner: "root")
            let generation = try one.rightsGeneration()
            try two.grant(corpus: "news", user: "ann", role: .annotator)
            // The node that cached access at the old generation sees it move.
            #expect(try one.rightsGeneration() > generation)
            #expect(try one.role(of: "ann", in: "news") == .annotator)
            expectAccountError(.alreadyExists) { try one.createCorpus(name: "NEWS", owner: "root") }

            try two.revokeToken(id: token.id.uppercased())
            #expect(try one.authenticate(token: token.secret) == nil)
        }
    }

    @Test(arguments: CatalogKind.allCases)
    func ownersDemotingEachOtherAtOnceLeaveAnOwner(_ kind: CatalogKind) async throws {
        try await withCatalog(kind) { f in
            let nodes = [f.catalog, try f.anotherNode()]
            try f.catalog.insertUser(User(name: "olga", isAdmin: false, createdAt: instant(0)))
            try f.catalog.insertUser(User(name: "pia", isAdmin: false, createdAt: instant(0)))
            for round in 0..<5 {
                let corpus = "c\(round)"
                try f.catalog.insertCorpus(CorpusRecord(name: corpus, policy: .shared, createdAt: instant(0)), owner: "olga")
                try f.catalog.setRole(.owner, of: "pia", in: corpus)
                // Each owner steps down on their own node, at the same time: one of them must be refused.
                let refused = Mutex(0)
                DispatchQueue.concurrentPerform(iterations: 2) { index in
                    do {
                        try nodes[index].setRole(.curator, of: ["olga", "pia"][index], in: corpus)
                    } catch let error as CatalogError where error.code == .lastOwner {
                        refused.withLock { $0 += 1 }
                    } catch {
                        Issue.record(error)
                    }
                }
                #expect(refused.withLock { $0 } == 1)
                #expect(try f.catalog.grants(corpus: corpus).filter { $0.role == .owner }.count == 1)
            }
        }
    }

    // MARK: Domain rules over every catalog

    @Test(arguments: CatalogKind.allCases)
    func theAccountStoreKeepsItsErrorsOnEveryCatalog(_ kind: CatalogKind) async throws {
        try await withCatalog(kind) { f in
            let store = AccountStore(catalog: f.catalog)
            #expect(store.path == f.catalog.location)
            expectAccountError(.invalidName, context: "Olga") { try store.addUser("Olga") }
            try store.addUser("olga")
            expectAccountError(.alreadyExists, context: "olga") { try store.addUser("olga") }
            expectAccountError(.unknownUser, context: "ghost") { _ = try store.issueToken(for: "ghost") }
            try store.createCorpus(name: "News", owner: "olga")
            let error = #expect(throws: AccountError.self) { try store.createCorpus(name: "news", owner: "olga") }
            #expect(error?.code == .alreadyExists && error?.context == "News")
            #expect(error?.message == "a corpus with that name exists")
            let lastOwner = #expect(throws: AccountError.self) { try store.grant(corpus: "News", user: "olga", role: nil) }
            #expect(lastOwner?.code == .lastOwner && lastOwner?.context == "News")
            #expect(lastOwner?.message == "olga is the only owner of News: make someone else owner first")
            expectAccountError(.unknownToken, context: "ABCDEF01") { try store.revokeToken(id: "ABCDEF01") }

            let issued = try store.issueToken(for: "olga")
            #expect(try store.authenticate(token: issued.secret)?.name == "olga")
            #expect(try store.tokens(for: "olga").map(\.id) == [issued.id])
            // The catalog holds the hash, never the secret.
            #expect(!String(describing: try store.tokens()).contains(AccountStore.tokenPrefix))
            try store.revokeToken(id: issued.id)
            #expect(try store.authenticate(token: issued.secret) == nil)
            // Only an SQLite catalog has file operations.
            #expect((store.sqliteCatalog != nil) == (kind == .sqlite))
            if kind != .sqlite {
                expectAccountError(.backend) { _ = try store.writerSynchronousLevel() }
            }
        }
    }

    // MARK: Server identity

    @Test(arguments: [CatalogKind.memory, .postgres])
    func nodesStoringIdentitiesAtOnceEndWithTheSameOne(_ kind: CatalogKind) async throws {
        try await withCatalog(kind) { f in
            let nodes = try [f.catalog, try f.anotherNode()].map { try #require($0 as? any ServerIdentityStore) }
            #expect(try nodes[0].serverIdentity() == nil)
            for round in 0..<8 {
                if round > 0 {
                    // Start each round without an identity (PostgreSQL: as an operator would).
                    guard kind == .postgres else { break }
                    try f.executeOnDatabase("DELETE FROM server_identity")
                }
                let results = Mutex<[Int: (certificatePEM: String, keyPEM: String)]>([:])
                DispatchQueue.concurrentPerform(iterations: 2) { index in
                    do {
                        let stored = try nodes[index].storeServerIdentityIfAbsent(
                            certificatePEM: "certificate \(round)-\(index)", keyPEM: "key \(round)-\(index)")
                        results.withLock { $0[index] = stored }
                    } catch {
                        Issue.record(error)
                    }
                }
                let (first, second) = try results.withLock { (try #require($0[0]), try #require($0[1])) }
                #expect(first == second)
                #expect(["certificate \(round)-0", "certificate \(round)-1"].contains(first.certificatePEM))
                #expect(first.keyPEM == "key" + first.certificatePEM.dropFirst("certificate".count))
                for node in nodes { #expect(try node.serverIdentity()! == first) }
                // Stored for good: a later store returns it unchanged.
                #expect(try nodes[1].storeServerIdentityIfAbsent(certificatePEM: "late", keyPEM: "late") == first)
            }
        }
    }
}

/// A PostgreSQL node keeps the rights generation in memory while it listens for changes, so a
/// request's rights check costs no statement; a change committed on another node (or by any
/// tool) reaches it by notification, and without a listener every call reads the database.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct PostgresRightsWatchTests {
    @Test func aWatchingNodeReadsTheGenerationOnceAndHearsOfChangesMadeElsewhere() async throws {
        try await withCatalog(.postgres) { f in
            let watching = try #require(f.catalog as? PostgresServerCatalog)
            let other = try f.anotherNode()
            try other.insertUser(User(name: "alice", isAdmin: false, createdAt: instant(0)))
            try other.insertCorpus(CorpusRecord(name: "news", policy: .shared, createdAt: instant(0)), owner: "alice")

            // Not watching: each call is a statement.
            var before = watching.statements.value
            for _ in 0..<5 { _ = try watching.rightsGeneration() }
            #expect(watching.statements.value - before == 5)

            let task = watching.watchRights(logger: Logger(label: "rights-watch-test") { _ in SwiftLogNoOpLogHandler() })
            defer { task.cancel() }
            #expect(try await eventually { watching.isWatchingRights })
            let generation = try watching.rightsGeneration()
            before = watching.statements.value
            for _ in 0..<100 { #expect(try watching.rightsGeneration() == generation) }
            #expect(watching.statements.value == before, "the generation was read again while nothing changed")

            // A grant on the other node: this one hears of it and reads the new value.
            try other.insertUser(User(name: "bob", isAdmin: false, createdAt: instant(0)))
            try other.setRole(.annotator, of: "bob", in: "news")
            let changed = try other.rightsGeneration()
            #expect(changed > generation)
            #expect(try await eventually { try watching.rightsGeneration() == changed })
            // So does a change made with psql, behind every node's back.
            try f.executeOnDatabase("UPDATE corpora SET policy = 'own' WHERE name = 'news'")
            #expect(try await eventually { try watching.rightsGeneration() > changed })
            #expect(try watching.access(of: "bob", in: "news").access?.policy == .own)

            // Cancelled: no longer listening, and every call reads again.
            task.cancel()
            #expect(try await eventually { !watching.isWatchingRights })
            before = watching.statements.value
            _ = try watching.rightsGeneration()
            #expect(watching.statements.value == before + 1)
        }
    }
}

extension PostgresRightsWatchTests {
    /// A node stopping shuts its pool down: the watch then ends by itself, without warning of
    /// a lost connection and trying again every second while the process goes on.
    @Test func theWatchEndsQuietlyWhenThePoolShutsDown() async throws {
        try await withCatalog(.postgres) { f in
            let watching = try #require(f.catalog as? PostgresServerCatalog)
            let warnings = RecordedWarnings()
            let task = watching.watchRights(
                logger: Logger(label: "rights-watch-test") { _ in warnings.handler() }, retryDelay: .milliseconds(50))
            defer { task.cancel() }
            #expect(try await eventually { watching.isWatchingRights })

            watching.database.shutdown()
            let ended = Mutex(false)
            let waiter = Task {
                await task.value
                ended.withLock { $0 = true }
            }
            defer { waiter.cancel() }
            #expect(try await eventually { ended.withLock { $0 } }, "the watch went on after its pool shut down")
            #expect(!watching.isWatchingRights)
            let logged = warnings.messages
            #expect(logged.isEmpty, "warned \(logged.count) times: \(logged.first ?? "")")
        }
    }
}

/// Collects the messages logged at warning level or above.
private final class RecordedWarnings: Sendable {
    private let recorded = Mutex<[String]>([])
    var messages: [String] { recorded.withLock { $0 } }

    func handler() -> some LogHandler { Handler(warnings: self) }

    private struct Handler: LogHandler {
        let warnings: RecordedWarnings
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            guard event.level >= .warning else { return }
            warnings.recorded.withLock { $0.append("\(event.message)") }
        }
    }
}

/// Runs `body`, expecting an ``AccountError`` with `code` (and `context`, when given).
private func expectAccountError(
    _ code: AccountError.Code, context: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    let error = #expect(throws: AccountError.self, sourceLocation: sourceLocation) { try body() }
    #expect(error?.code == code, sourceLocation: sourceLocation)
    if let context {
        #expect(error?.context == context, sourceLocation: sourceLocation)
    }
}
