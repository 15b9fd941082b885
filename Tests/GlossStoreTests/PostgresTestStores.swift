import Foundation
import GlossStore
import GlossStorePostgres
import GlossTestSupport
import Logging

/// The PostgreSQL the store tests run on: one database of the shared throwaway server, one
/// pool on it for the whole test process, and a new corpus (a new name) for every store, as
/// the corpora of a deployment share one database.
final class PostgresTestStores: Sendable {
    let server: TestPostgres
    let url: String
    let database: PostgresConnectionPool

    private init(server: TestPostgres, url: String, database: PostgresConnectionPool) {
        self.server = server
        self.url = url
        self.database = database
    }

    static func shared() async throws -> PostgresTestStores { try await sharedStores.value }

    private static let sharedStores = Task {
        let server = try await TestPostgres.shared()
        let url = try await server.freshDatabase()
        // Sized for every test body that may run at once (TestBodyExecutor's four), each holding
        // up to two connections (a read open while a write commits), with room to spare; not
        // more: every connection is a descriptor of the test process, and past a thousand of
        // them Foundation's Process.run crashes while it lists them for the child.
        let database = try startedDatabase(url: url, poolSize: 16)
        return PostgresTestStores(server: server, url: url, database: database)
    }

    /// A started ``PostgresConnectionPool`` on `url`: another "node" when called twice.
    static func startedDatabase(url: String, poolSize: Int = 10) throws -> PostgresConnectionPool {
        let database = PostgresConnectionPool(
            configuration: try PostgresStorageConfiguration(url: url, poolSize: poolSize), logger: quiet)
        database.start()
        return database
    }

    /// Tests provoke connection failures on purpose: the pool's reports of them are noise.
    static let quiet = Logger(label: "gloss.test.postgres") { _ in SwiftLogNoOpLogHandler() }

    /// A backend on a new, empty corpus (opening it is blocking: done off the cooperative pool).
    func newBackend() async throws -> PostgresCorpusBackend {
        let database = self.database
        let corpus = "test-" + UUID().uuidString
        return try await GlossProcesses.onOwnThread { try PostgresCorpusBackend(database: database, corpus: corpus) }
    }
}
