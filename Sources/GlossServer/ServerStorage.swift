import Foundation
import GlossStore
import GlossStorePostgres
import GlossStoreSQLite
import Logging

/// Everything glossd keeps, on one backend: the corpora, the accounts (``AccountStore``), and on
/// PostgreSQL the TLS identity and the announcements of new revisions that let several nodes
/// share the database.
///
/// - SQLite (the default): `corpora/NAME.sqlite` and `server.sqlite` in the data directory; the
///   identity is `tls/` there (``ServerIdentity/loadOrCreate(directory:)``). One node.
/// - PostgreSQL (`storage.url`): every table in one database that any number of nodes share;
///   the data directory keeps only what is the node's own (its lock, `admin.token`).
public final class ServerStorage: Sendable {
    public let corpora: CorpusRegistry
    public let accounts: AccountStore
    /// The identity every node presents, when the database keeps it; nil: the data directory's.
    public let sharedIdentity: (any ServerIdentityStore)?
    /// Every node's new revisions, when other nodes may commit to the same storage.
    public let announcer: (any RevisionAnnouncer)?
    /// The database, when it is PostgreSQL.
    public let database: PostgresConnectionPool?
    /// On PostgreSQL, what keeps the rights generation in memory between changes
    /// (``PostgresServerCatalog/watchRights(logger:retryDelay:)``), so that a request's rights
    /// check costs no round trip; ``close()`` ends it.
    private let rightsWatch: Task<Void, Never>?
    /// Where things are kept, for logs and errors.
    public var description: String { corpora.storage.description }

    init(
        corpora: CorpusRegistry, accounts: AccountStore, sharedIdentity: (any ServerIdentityStore)?,
        announcer: (any RevisionAnnouncer)?, database: PostgresConnectionPool?, rightsWatch: Task<Void, Never>? = nil
    ) {
        self.corpora = corpora
        self.accounts = accounts
        self.sharedIdentity = sharedIdentity
        self.announcer = announcer
        self.database = database
        self.rightsWatch = rightsWatch
    }

    /// SQLite files in a data directory: its account store must exist unless `creating`.
    public static func sqlite(data: URL, creating: Bool, executor: StorageExecutor = .shared) throws -> ServerStorage {
        let accounts = creating ? try DataDirectory.createAccounts(data: data) : try DataDirectory.openAccounts(data: data)
        return ServerStorage(
            corpora: try CorpusRegistry(directory: data, executor: executor), accounts: accounts, sharedIdentity: nil,
            announcer: nil, database: nil)
    }

    /// A PostgreSQL database, its tables created or upgraded (versioned migrations). Blocking:
    /// it connects.
    ///
    /// - Throws: ``PostgresStorageError``: `unavailable` when the database cannot be reached,
    ///   `newerSchema` when a newer glossd migrated it.
    public static func postgres(
        _ configuration: PostgresStorageConfiguration, executor: StorageExecutor = .shared, logger: Logger
    ) throws -> ServerStorage {
        let database = PostgresConnectionPool(configuration: configuration, logger: logger)
        database.start()
        do {
            let catalog = try PostgresServerCatalog(database: database)
            let corpora = CorpusRegistry(storage: try PostgresCorpusStorage(database: database), executor: executor, shared: true)
            return ServerStorage(
                corpora: corpora, accounts: AccountStore(catalog: catalog), sharedIdentity: catalog,
                announcer: PostgresRevisionAnnouncer(database: database, logger: logger), database: database,
                rightsWatch: catalog.watchRights(logger: logger))
        } catch {
            database.shutdown()
            throw error
        }
    }

    /// What the settings say: PostgreSQL with `storage.url`, else SQLite in the data directory
    /// (created only when `creating`: `glossd serve`).
    public static func open(
        settings: GlossdSettings, creating: Bool, executor: StorageExecutor = .shared, logger: Logger
    ) throws -> ServerStorage {
        if let configuration = try settings.postgresConfiguration() {
            return try postgres(configuration, executor: executor, logger: logger)
        }
        guard let data = settings.dataDirectory else {
            throw SettingsError(
                .inconsistent, "data is not set: give --data, GLOSSD_DATA or `data:` in the configuration file", key: "data")
        }
        return try sqlite(data: data, creating: creating, executor: executor)
    }

    /// Checks every corpus (or one) in full, and the database's own structure.
    public func check(corpus: String? = nil, maxProblems: Int = 1000) throws -> IntegrityReport {
        if let database {
            return try DataDirectory.check(storage: corpora.storage, corpus: corpus, maxProblems: maxProblems) {
                try PostgresCorpusBackend(database: database, corpus: "").databaseIntegrityProblems(limit: 100)
            }
        }
        guard let sqlite = corpora.storage as? SQLiteCorpusStorage else {
            return try DataDirectory.check(storage: corpora.storage, corpus: corpus, maxProblems: maxProblems) { [] }
        }
        return try DataDirectory.check(data: sqlite.directory.deletingLastPathComponent(), corpus: corpus, maxProblems: maxProblems)
    }

    /// Closes the database's connections (PostgreSQL); SQLite files close with the process.
    public func close() {
        rightsWatch?.cancel()
        database?.shutdown()
    }

    /// ``close()``, then waits until the database's connections have closed (an in-process
    /// node stopping while the process goes on).
    public func closeAndWait() async {
        rightsWatch?.cancel()
        await rightsWatch?.value
        await database?.shutdownAndWait()
    }
}
