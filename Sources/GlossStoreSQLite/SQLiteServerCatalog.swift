import Foundation
import GRDB
import GlossStore

/// The server catalog in one SQLite file (a single-box glossd's `server.sqlite`), through GRDB.
///
/// The file uses WAL with `synchronous = FULL`, so a change is durable when its method returns.
/// Methods are safe to call from any thread; each runs in one transaction, except the
/// single-statement reads of the rights generation and of access, which need none. The
/// ``ServerCatalog`` conformance is in `SQLiteServerCatalog+Rows.swift`, the schema in
/// `SQLiteServerCatalog+Schema.swift`.
///
/// Beyond the protocol it has what only a file has: ``backup(to:)``, ``compactJournal()``,
/// ``writerSynchronousLevel()`` and ``integrityProblems(limit:)``.
public final class SQLiteServerCatalog: ServerCatalog {
    let pool: DatabasePool
    /// The database file.
    public let path: String

    public var location: String { path }

    /// Opens (creating if needed) the catalog at `path`.
    ///
    /// - Throws: ``CatalogError``: `backend` when the file cannot be opened or migrated,
    ///   `unsupportedFormat` when a newer glossd has migrated it.
    public convenience init(path: String) throws {
        try self.init(path: path, tracingStatements: nil)
    }

    /// Opens the catalog with `trace` called for each SQL statement any of its connections
    /// runs (tests count the statements a request costs).
    public init(path: String, tracingStatements trace: (@Sendable (String) -> Void)?) throws {
        self.path = path
        var configuration = Configuration()
        // An admin command may write while the server runs: wait for its lock instead of failing.
        configuration.busyMode = .timeout(5)
        if let trace {
            configuration.prepareDatabase { db in db.trace(options: .statement) { trace($0.description) } }
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets `synchronous = NORMAL` on the writer when it enables WAL: a commit
            // could then be lost on power failure. Only the writer commits, so set it there.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                guard try Int.fetchOne(db, sql: "PRAGMA synchronous") == 2 else {
                    throw CatalogError(.backend, "SQLite refused synchronous = FULL", context: path)
                }
            }
            if try pool.read(Self.migrator.hasBeenSuperseded) {
                throw CatalogError(
                    .unsupportedFormat, "the account database was written by a newer glossd", context: path)
            }
            try Self.migrator.migrate(pool)
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError(.backend, "cannot open the account database: \(error)", context: path)
        }
    }

    // MARK: What only a file has

    /// The writer connection's `synchronous` setting (2 = FULL: every commit is fsynced).
    public func writerSynchronousLevel() throws -> Int {
        try translatingErrors {
            try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
        }
    }

    /// Checkpoints and truncates the journal (at shutdown). A failure leaves the journal for
    /// the next start, harmlessly, so it is not reported.
    public func compactJournal() {
        try? pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }

    /// Writes a consistent copy of the catalog to a new file at `path` with SQLite's online
    /// backup API, while the server keeps using it (and others keep writing).
    ///
    /// The copy is taken in one step inside one read transaction: in WAL mode that never blocks
    /// a writer, and it cannot be restarted by one, so it finishes under load.
    ///
    /// - Throws: ``CatalogError`` `alreadyExists` when `path` exists, `backend` when the copy fails.
    public func backup(to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw CatalogError(.alreadyExists, "the backup destination exists", context: path)
        }
        do {
            // The same copy as the corpus stores' (one step, rollback-journal mode).
            try SQLiteCorpusBackend.backup(from: pool, to: path)
        } catch let error as StoreError {
            throw CatalogError(.backend, "backup failed: \(error.message)", context: path)
        }
    }

    /// SQLite's structural checks of the file (`PRAGMA integrity_check`, then
    /// `foreign_key_check`) on this catalog's own connections: one line per problem, at most
    /// `limit` of each; empty when it passes.
    public func integrityProblems(limit: Int) throws -> [String] {
        try translatingErrors { try pool.read { db in try SQLiteCorpusBackend.integrityProblems(db, limit: limit) } }
    }

    // MARK: Transactions

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try translatingErrors { try pool.read(body) }
    }

    /// A read with no transaction around it: for a single statement, which is consistent on
    /// its own, without the `BEGIN` and `COMMIT` of ``read(_:)`` (the rights check before every
    /// request costs one statement).
    func unisolatedRead<T>(_ body: (Database) throws -> T) throws -> T {
        try translatingErrors { try pool.unsafeRead(body) }
    }

    /// A write transaction; a uniqueness violation (a concurrent writer in another process won
    /// the race) becomes `alreadyExists` about `subject`.
    func write<T>(subject: String? = nil, _ body: (Database) throws -> T) throws -> T {
        try translatingErrors(subject: subject) { try pool.write(body) }
    }

    /// SQLite's own failures become typed errors naming the file; errors raised by the
    /// catalog's rules pass through unchanged.
    private func translatingErrors<T>(subject: String? = nil, _ work: () throws -> T) throws -> T {
        do {
            return try work()
        } catch let error as DatabaseError {
            if error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
                || error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            {
                throw CatalogError(.alreadyExists, "the name is taken: \(error.message ?? "")", context: subject ?? path)
            }
            throw CatalogError(
                .backend, "SQLite error \(error.resultCode): \(error.message ?? "no message")", context: path)
        }
    }
}
