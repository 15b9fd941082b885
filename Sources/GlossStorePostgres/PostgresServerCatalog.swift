import GlossStore
import Logging
import PostgresNIO

/// The server catalog on PostgreSQL (``PostgresServerCatalogSchema``), shared by every glossd
/// node on the database: a user added, a token issued or revoked, a grant changed on one node
/// holds on all of them from their next call.
///
/// Writes are READ COMMITTED transactions that rely on the database's unique keys
/// (`INSERT … ON CONFLICT DO NOTHING`, SQLSTATE 23505 as `alreadyExists`) and, for a
/// corpus's grants, on a lock of the corpus's row, so that the last-owner rule holds across
/// nodes. Multi-statement reads are REPEATABLE READ READ ONLY (one snapshot); the rights
/// generation and access are single statements. The ``ServerCatalog`` rows are in
/// `PostgresServerCatalog+Rows.swift`, the TLS identity in `PostgresServerCatalog+Identity.swift`.
///
/// Calls block their thread on the database: run them on threads that may block.
public final class PostgresServerCatalog: ServerCatalog, ServerIdentityStore {
    /// The shared database.
    public let database: PostgresConnectionPool
    /// The statements the catalog has sent (each a round trip).
    public let statements = PostgresStatementCounter()
    let rightsWatch = PostgresRightsWatch()

    /// The database's address, without secrets.
    public var location: String { database.configuration.url }

    /// The catalog on `database` (which must be started), creating or upgrading its tables.
    /// Blocking.
    ///
    /// - Throws: ``CatalogError`` `unsupportedFormat` when a newer glossd wrote the tables,
    ///   `backend` when the database cannot be reached or refuses.
    public init(database: PostgresConnectionPool) throws {
        self.database = database
        try translatingErrors(subject: nil) {
            try database.migrate(component: PostgresServerCatalogSchema.component, PostgresServerCatalogSchema.migrations)
        }
    }

    /// Keeps ``rightsGeneration()`` in memory while PostgreSQL notifies this node of every
    /// change of rights (``PostgresRightsWatch``), so that a request's check costs no round
    /// trip: a change committed on another node holds here once its notification arrives.
    /// Listens on one pooled connection until the task is cancelled; without it, or while the
    /// listening connection is lost, every call reads the database. glossd serve runs it.
    public func watchRights(logger: Logger, retryDelay: Duration = .seconds(1)) -> Task<Void, Never> {
        Task(executorPreference: PostgresTaskExecutor.shared) { [database, rightsWatch] in
            await rightsWatch.run(database: database, logger: logger, retryDelay: retryDelay)
        }
    }

    /// Whether ``watchRights(logger:retryDelay:)`` is listening now, so the generation is kept.
    public var isWatchingRights: Bool { rightsWatch.isListening }

    // MARK: Transactions

    /// A transaction that writes; a broken unique key (a concurrent writer won the race) becomes
    /// `alreadyExists` about `subject`.
    func write<T>(subject: String? = nil, _ body: (BlockingPostgresConnection) throws -> T) throws -> T {
        try translatingErrors(subject: subject) { try database.transaction(counting: statements, body) }
    }

    /// Several reads of one snapshot.
    func read<T>(_ body: (BlockingPostgresConnection) throws -> T) throws -> T {
        try translatingErrors(subject: nil) {
            try database.transaction(isolation: .repeatableRead, readOnly: true, counting: statements, body)
        }
    }

    /// One statement, which sees one snapshot on its own: no `BEGIN` and `COMMIT` round trips.
    func single<T>(_ body: (BlockingPostgresConnection) throws -> T) throws -> T {
        try translatingErrors(subject: nil) { try database.withConnection(counting: statements, body) }
    }

    /// PostgreSQL's failures become ``CatalogError``s; errors of the catalog's rules pass through.
    private func translatingErrors<T>(subject: String?, _ work: () throws -> T) throws -> T {
        do {
            return try work()
        } catch let error as PostgresStorageError {
            switch error.code {
            case .uniqueViolation:
                throw CatalogError(.alreadyExists, "the name is taken: \(error.message)", context: subject ?? location)
            case .newerSchema:
                throw CatalogError(.unsupportedFormat, error.message, context: error.context ?? location)
            case _ where error.isRetryable:
                throw CatalogError(.unavailable, error.message, context: error.context ?? location)
            default:
                throw CatalogError(.backend, error.message, context: error.context ?? location)
            }
        } catch let error as PostgresDecodingError {
            throw CatalogError(.unsupportedFormat, "a catalog row does not decode: \(String(reflecting: error))", context: location)
        }
    }
}
