import Foundation
import GlossModel
import GlossStore
import GlossStorePostgres
import GlossTestSupport
import Logging
import Synchronization
import Testing

/// What only the PostgreSQL backend promises beyond the seam's contract (which
/// `CorpusBackendContractTests` checks on it too): several glossd nodes, each with its own pool
/// (its own ``PostgresConnectionPool``), share one database and still append to a corpus one at a
/// time, once per changeset; blobs survive byte for byte; a newer schema is refused.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct PostgresBackendTests {
    /// Two "nodes" on a fresh database: two pools, each with a backend on the same corpus.
    struct TwoNodes {
        let first: PostgresConnectionPool
        let second: PostgresConnectionPool
        let a: CorpusStore
        let b: CorpusStore

        init() async throws {
            let url = try await TestPostgres.shared().freshDatabase()
            let (first, second) = (
                try PostgresTestStores.startedDatabase(url: url, poolSize: 4),
                try PostgresTestStores.startedDatabase(url: url, poolSize: 4)
            )
            self.first = first
            self.second = second
            (a, b) = try await GlossProcesses.onOwnThread {
                (
                    CorpusStore(backend: try PostgresCorpusBackend(database: first, corpus: "shared")),
                    CorpusStore(backend: try PostgresCorpusBackend(database: second, corpus: "shared"))
                )
            }
        }

        func shutdown() {
            first.shutdown()
            second.shutdown()
        }
    }

    static func revision(_ number: Int, _ changeset: UInt64) -> Revision {
        CorpusBackendContractTests.revision(number, changeset: changeset)
    }

    @Test func twoNodesAppendingTheSameChangesetMakeOneRevision() async throws {
        let nodes = try await TwoNodes()
        defer { nodes.shutdown() }
        var alice = Minter("alice", replica: 10)
        let doc: DocumentID = "news/1"
        #expect(try nodes.a.append(alice.documents(base: 0, [(doc, SampleTexts.news)])) == .accepted(revision: 1))
        for round in 0..<10 {
            // The same push reaches both nodes at once (a client retrying through the balancer).
            let cs = alice.changeset(base: 1, [.create(alice.span(doc, round, round + 3, "PER"))])
            let (a, b) = (nodes.a, nodes.b)
            async let fromA = GlossProcesses.onOwnThread { try a.append(cs) }
            async let fromB = GlossProcesses.onOwnThread { try b.append(cs) }
            let outcomes = [try await fromA, try await fromB]
            let revision = round + 2
            #expect(outcomes.contains(.accepted(revision: revision)), "round \(round): \(outcomes)")
            #expect(outcomes.contains(.duplicate(revision: revision)), "round \(round): \(outcomes)")
        }
        for store in [nodes.a, nodes.b] {
            #expect(try store.headRevision() == 11)
            #expect(Set(try store.revisions().map(\.changeset)).count == 11)
            #expect(try store.headAnnotations(of: doc).count == 10)
        }
    }

    @Test func concurrentAppendsFromTwoNodesGetConsecutiveNumbersAndAllLand() async throws {
        let nodes = try await TwoNodes()
        defer { nodes.shutdown() }
        var alice = Minter("alice", replica: 10)
        let doc: DocumentID = "news/1"
        #expect(try nodes.a.append(alice.documents(base: 0, [(doc, SampleTexts.news)])) == .accepted(revision: 1))
        // Non-conflicting pushes on a stale base: each node rebases on whatever the other committed.
        var pushes: [[Changeset]] = [[], []]
        for i in 0..<30 {
            pushes[i % 2].append(alice.changeset(base: 1, [.create(alice.span(doc, i % 50, i % 50 + 2, "X"))]))
        }
        let (a, b, fromA, fromB) = (nodes.a, nodes.b, pushes[0], pushes[1])
        async let outcomesA = GlossProcesses.onOwnThread { try fromA.map { try a.append($0) } }
        async let outcomesB = GlossProcesses.onOwnThread { try fromB.map { try b.append($0) } }
        let numbers = (try await outcomesA + outcomesB).map(\.revision)
        #expect(numbers.allSatisfy { $0 != nil })
        #expect(numbers.compactMap { $0 }.sorted() == Array(2...31))
        #expect(try nodes.b.revisions().map(\.number) == Array(1...31))
        #expect(Set(try nodes.a.revisions().dropFirst().map(\.changeset)) == Set(pushes.joined().map(\.id)))
        #expect(try nodes.a.headAnnotations(of: doc).count == 30)
    }

    @Test func theUniqueChangesetKeyHoldsAcrossNodes() async throws {
        let nodes = try await TwoNodes()
        defer { nodes.shutdown() }
        try nodes.a.backend.write { try $0.insertRevision(Self.revision(1, 5)) }
        // Node B, deciding without the lock's help, takes the next number for the same changeset.
        let error = #expect(throws: PostgresStorageError.self) {
            try nodes.b.backend.write { try $0.insertRevision(Self.revision(2, 5)) }
        }
        #expect(error?.code == .uniqueViolation)
        #expect(error?.isPostgresUniqueViolation == true)
        #expect(error?.isRetryable == false)
        #expect(try nodes.b.backend.read { try $0.headRevision() } == 1)
    }

    @Test func aFailedStatementInANestedTransactionIsUndoneAndTheRestCommits() async throws {
        let stores = try await PostgresTestStores.shared()
        let backend = try await stores.newBackend()
        try await GlossProcesses.onOwnThread {
            try backend.write { rows throws in
                try rows.insertRevision(Self.revision(1, 1))
                // PostgreSQL refuses every later statement of a transaction after a failed one,
                // unless a savepoint takes it back: the nested transaction must.
                #expect(throws: PostgresStorageError.self) {
                    try rows.nested {
                        try rows.setMeta("lost", [1])
                        try rows.insertRevision(Self.revision(1, 2))
                        return .keep
                    }
                }
                try rows.setMeta("kept", [2])
            }
            try backend.read { rows throws in
                #expect(try rows.headRevision() == 1)
                #expect(try rows.meta("lost") == nil)
                #expect(try rows.meta("kept") == [2])
            }
            // A write that fails on a statement leaves nothing, and the pool goes on serving.
            #expect(throws: PostgresStorageError.self) {
                try backend.write { rows throws in
                    try rows.setMeta("half", [3])
                    try rows.insertRevision(Self.revision(1, 3))
                }
            }
            #expect(try backend.read { try $0.meta("half") } == nil)
        }
    }

    /// Every statement is a round trip: a group commit loads what its changesets' checks read
    /// in a few statements for the whole batch, and sends their row writes together. Here no
    /// check needs anything else (the revisions its entries name are the batch's own), so the
    /// batch costs a constant: it took 786 statements for these 100 changesets with a read and a
    /// write per row, and 382 with only the writes held back.
    @Test func aGroupCommitSendsAFewStatementsPerChangesetNotOnePerRow() async throws {
        let backend = try await PostgresTestStores.shared().newBackend()
        let store = CorpusStore(backend: backend)
        var alice = Minter("alice", replica: 10)
        let bob = Minter("bob", replica: 20)
        let docs = (0..<20).map { DocumentID(stringLiteral: "doc/\($0)") }
        let spans = docs.map { alice.span($0, 0, 5, "PER") }
        let author = alice
        let count = 100
        let measured = try await GlossProcesses.onOwnThread { () throws -> Int in
            #expect(try store.append(author.documents(base: 0, docs.map { ($0, SampleTexts.short) })) == .accepted(revision: 1))
            #expect(try store.append(author.changeset(base: 1, spans.map(Op.create))) == .accepted(revision: 2))
            // What a push of one label change looks like, on every document in turn.
            let batch = (0..<count).map { i in
                bob.changeset(base: 2, [.set(docs[i % docs.count], spans[i % docs.count].id, .label, .string("L\(i)"))])
            }
            let before = backend.statements.value
            let outcomes = try store.append(batch: batch)
            #expect(outcomes == (0..<count).map { .accepted(revision: 3 + $0) })
            return backend.statements.value - before
        }
        #expect(measured <= 12, "\(measured) statements for \(count) changesets")
        #expect(try store.headAnnotations(of: docs[0]).map(\.label) == ["L80"])
    }

    /// A batch that fills documents' head rows past the fold point and their delta chains past
    /// the snapshot point: each fold is the one statement that writes its block. Its document's
    /// rows come with the batch's prefetch, the rows the batch wrote before it need not go
    /// first only to be replaced, and the snapshots wait with the other rows.
    @Test func aFoldInAGroupCommitIsOneStatement() async throws {
        let backend = try await PostgresTestStores.shared().newBackend()
        let store = CorpusStore(backend: backend)
        var alice = Minter("alice", replica: 10)
        var bob = Minter("bob", replica: 20)
        let docs = (0..<3).map { DocumentID(stringLiteral: "doc/\($0)") }
        let author = alice
        let text = String(repeating: "Alice founded Acme in Paris. ", count: 4)
        let setUp = docs.flatMap { doc in (0..<40).map { i in Op.create(alice.span(doc, i, i + 2, "PER")) } }
        // 20 one-span pushes a document: rows pass max(16, 40 / 8) at the 17th, which folds.
        var batch: [Changeset] = []
        for i in 0..<20 {
            for doc in docs { batch.append(bob.changeset(base: 2, [.create(bob.span(doc, i, i + 3, "LOC"))])) }
        }
        let pushes = batch
        let (measured, waits) = try await GlossProcesses.onOwnThread { () throws -> (Int, Int) in
            #expect(try store.append(author.documents(base: 0, docs.map { ($0, text) })) == .accepted(revision: 1))
            #expect(try store.append(author.changeset(base: 1, setUp)) == .accepted(revision: 2))
            let snapshots = try store.storageSummary().snapshotCount
            let (before, waitsBefore) = (backend.statements.value, backend.statements.waits)
            let outcomes = try store.append(batch: pushes)
            #expect(outcomes == pushes.indices.map { .accepted(revision: 3 + $0) })
            let measured = (backend.statements.value - before, backend.statements.waits - waitsBefore)
            #expect(try store.storageSummary().snapshotCount >= snapshots + docs.count)
            return measured
        }
        // BEGIN, the lock, the head, the duplicates, the schema, the documents, their rows, a
        // block per document, the rows (snapshots with them), COMMIT.
        #expect(measured <= 9 + docs.count, "\(measured) statements for \(docs.count) folds")
        // Waits: from BEGIN to the documents (queued together), the rows, each block, the
        // writes with COMMIT.
        #expect(waits <= 3 + docs.count, "\(waits) waits for \(docs.count) folds")
        for doc in docs {
            #expect(try store.headAnnotations(of: doc).count == 60)
            #expect(try store.headAnnotations(of: doc).count(where: { $0.label == "LOC" }) == 20)
        }
    }

    @Test func storedBlobsReadBackByteIdentical() async throws {
        let stores = try await PostgresTestStores.shared()
        let backend = try await stores.newBackend()
        var rng = SplitMix64(seed: 42)
        // Every byte value, the empty blob, and a megabyte past PostgreSQL's TOAST threshold.
        let blobs: [[UInt8]] = [
            Array(0...255), [], [0], [0x5C, 0x78, 0x30, 0x30],  // "\x00" spelled in ASCII
            (0..<(1 << 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) },
        ]
        let digest = TextDigest(of: "blob")
        let id = AnnotationID(replica: ReplicaID(UInt64.max), counter: UInt64.max - 1)  // the sign bit set
        try await GlossProcesses.onOwnThread {
            try backend.write { rows throws in
                try rows.insertRevision(CorpusBackendContractTests.revision(1))
                for (i, blob) in blobs.enumerated() {
                    try rows.insertDelta(document: Int64(i), revision: 1, isBase: i % 2 == 0, rawLength: blob.count, data: blob)
                    try rows.insertSnapshot(document: Int64(i), revision: 1, rawLength: blob.count, data: blob)
                    try rows.setMeta("m\(i)", blob)
                    try rows.putHeadRows(document: Int64(i), [(id, blob)])
                    try rows.putHeadBlock(document: Int64(100 + i), HeadBlock(entries: i, rawLength: blob.count, data: blob))
                }
                try rows.putText(digest, rawLength: 7, data: blobs[4])
            }
            try backend.read { rows throws in
                #expect(try rows.deltas(after: 0, through: 1).map(\.data) == blobs)
                for (i, blob) in blobs.enumerated() {
                    #expect(try rows.latestSnapshot(document: Int64(i), atOrBefore: 1)?.data == blob)
                    #expect(try rows.meta("m\(i)") == blob)
                    #expect(try rows.headRow(document: Int64(i), id: id) == blob)
                    #expect(try rows.headRows(document: Int64(i)).map(\.id) == [id])
                    #expect(try rows.headBlock(document: Int64(100 + i)) == HeadBlock(entries: i, rawLength: blob.count, data: blob))
                }
                let text = try #require(try rows.text(digest))
                #expect(text.rawLength == 7 && text.data == blobs[4])
                let summary = try rows.storageSummary()
                #expect(summary.deltaBytes == blobs.map(\.count).reduce(0, +))
                #expect(summary.deltaCount == blobs.count)
                #expect(summary.textBytes == blobs[4].count)
                #expect(summary.fileBytes > 0)
            }
        }
    }

    @Test func aDatabaseWrittenByANewerGlossdIsRefused() async throws {
        let server = try await TestPostgres.shared()
        let url = try await server.freshDatabase()
        let database = try PostgresTestStores.startedDatabase(url: url, poolSize: 2)
        defer { database.shutdown() }
        _ = try await GlossProcesses.onOwnThread { try PostgresCorpusBackend(database: database, corpus: "c") }
        // A later glossd added version 99 of the corpus tables.
        _ = try await server.psql(
            "INSERT INTO gloss_schema_migrations(component, version) VALUES ('corpus', 99)", database: String(url.split(separator: "/").last!))
        let error = await #expect(throws: PostgresStorageError.self) {
            try await GlossProcesses.onOwnThread { _ = try PostgresCorpusBackend(database: database, corpus: "c") }
        }
        #expect(error?.code == .newerSchema)
        #expect(error?.message.contains("99") == true)
        #expect(try await GlossProcesses.onOwnThread { try database.schemaVersion(component: "corpus") } == 99)
    }

    @Test func migrationsRunOnceWhenNodesStartTogether() async throws {
        let url = try await TestPostgres.shared().freshDatabase()
        let databases = try (0..<3).map { _ in try PostgresTestStores.startedDatabase(url: url, poolSize: 2) }
        defer { databases.forEach { $0.shutdown() } }
        let applied = Mutex(0)
        let migrations = [
            PostgresMigration(version: 1, "a table") { connection in
                applied.withLock { $0 += 1 }
                try connection.execute("CREATE TABLE once(x int)")
            },
            PostgresMigration(version: 2, "a column", statements: ["ALTER TABLE once ADD COLUMN y int"]),
        ]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for database in databases {
                group.addTask { try await GlossProcesses.onOwnThread { try database.migrate(component: "test", migrations) } }
            }
            try await group.waitForAll()
        }
        #expect(applied.withLock { $0 } == 1)
        #expect(try await GlossProcesses.onOwnThread { try databases[0].schemaVersion(component: "test") } == 2)
    }

    @Test func anUnreachableDatabaseIsAvailabilityErrorNotAHang() async throws {
        let port = try TestPostgres.freeLoopbackPort()
        var configuration = try PostgresStorageConfiguration(url: "postgres://gloss@127.0.0.1:\(port)/none?sslmode=disable")
        configuration.leaseTimeout = .seconds(2)
        configuration.connectTimeout = .seconds(1)
        let database = PostgresConnectionPool(configuration: configuration, logger: PostgresTestStores.quiet)
        database.start()
        defer { database.shutdown() }
        let started = ContinuousClock.now
        let error = await #expect(throws: PostgresStorageError.self) {
            try await GlossProcesses.onOwnThread { try database.withConnection { _ in } }
        }
        #expect(error?.code == .unavailable)
        #expect(error?.isRetryable == true)
        #expect(error?.context == "127.0.0.1:\(port)/none")
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func aDroppedConnectionIsARetryableAvailabilityError() async throws {
        let url = try await TestPostgres.shared().freshDatabase()
        let database = try PostgresTestStores.startedDatabase(url: url, poolSize: 2)
        defer { database.shutdown() }
        try await GlossProcesses.onOwnThread { () throws in
            let error = #expect(throws: PostgresStorageError.self) {
                try database.transaction { connection in
                    let pid = try #require(try connection.query("SELECT pg_backend_pid()").first?.decode(Int32.self))
                    // An administrator (or a failover) ends the session in the middle of the work.
                    try database.withConnection { other in
                        // Waits (up to 5 s) for the session to be gone, so that the next statement meets its end.
                        try other.execute("SELECT pg_terminate_backend(\(pid), 5000)")
                    }
                    try connection.execute("SELECT 1")
                }
            }
            #expect(error?.code == .unavailable)
            #expect(error?.isRetryable == true)
            // The pool replaces the connection: the retry succeeds.
            #expect(try database.transaction { try $0.query("SELECT 1").count } == 1)
        }
    }

    /// Statements queued together are answered in order with one wait; the first failure is
    /// thrown, and a failing write queued with COMMIT leaves nothing committed.
    @Test func statementsQueuedTogetherAnswerInOrderAndFailAsOne() async throws {
        let url = try await TestPostgres.shared().freshDatabase()
        let database = try PostgresTestStores.startedDatabase(url: url, poolSize: 1)
        defer { database.shutdown() }
        try await GlossProcesses.onOwnThread { () throws in
            try database.withConnection { connection in
                #expect(try connection.queries(["SELECT 1", "SELECT 2", "SELECT 3"]).map { try $0[0].decode(Int.self) } == [1, 2, 3])
                let error = #expect(throws: PostgresStorageError.self) {
                    try connection.queries(["SELECT 1", "SELECT 1 / 0", "SELECT no_such_column"])
                }
                #expect(error?.sqlState == "22012", "the first failure, division by zero: \(String(describing: error))")
                try connection.execute("CREATE TABLE queued(x int PRIMARY KEY)")
            }
            let error = #expect(throws: PostgresStorageError.self) {
                try database.transaction { connection in
                    try connection.execute("INSERT INTO queued VALUES (1)")
                    connection.sendWithNext("INSERT INTO queued VALUES (1)")
                }
            }
            #expect(error?.code == .uniqueViolation)
            #expect(try database.withConnection { try $0.query("SELECT COUNT(*) FROM queued")[0].decode(Int.self) } == 0)
            // The connection went back to the pool usable.
            #expect(try database.transaction { try $0.query("SELECT 1").count } == 1)
        }
    }

    @Test func aShutDownDatabaseRefusesWork() async throws {
        let url = try await TestPostgres.shared().freshDatabase()
        let database = try PostgresTestStores.startedDatabase(url: url, poolSize: 1)
        #expect(try await GlossProcesses.onOwnThread { try database.withConnection { try $0.query("SELECT 1").count } } == 1)
        await database.shutdownAndWait()
        let error = await #expect(throws: PostgresStorageError.self) {
            try await GlossProcesses.onOwnThread { try database.withConnection { _ in } }
        }
        #expect(error?.code == .notRunning)
    }
}
