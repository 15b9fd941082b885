import GlossModel
import GlossStore
import PostgresNIO

/// The scale-out backend: one corpus's rows in a PostgreSQL database that many corpora and many
/// glossd nodes share (``PostgresCorpusSchema``).
///
/// It keeps the seam's concurrency contract across nodes: a ``write(_:)`` is one READ COMMITTED
/// transaction that first takes the corpus's advisory lock (`pg_advisory_xact_lock`), so
/// appends to a corpus run one at a time on every node, and returns once PostgreSQL has
/// committed; a ``read(_:)`` is one REPEATABLE READ READ ONLY transaction (one snapshot);
/// ``CorpusWriter/nested(_:)`` is a savepoint. Every reader call is one statement, one round
/// trip; the row writes of a write transaction wait and go together (``PostgresPendingWrites``).
///
/// Calls block their thread on the database: run them on the storage threads, never on an
/// event loop or in async code. PostgreSQL's failures surface as ``PostgresStorageError``
/// (``PostgresStorageError/Code/unavailable`` when the database cannot be reached, retryable;
/// ``PostgresStorageError/Code/uniqueViolation`` for a broken unique key); errors a body throws
/// pass through unchanged.
public final class PostgresCorpusBackend: AuditableCorpusBackend {
    /// The shared database.
    public let database: PostgresConnectionPool
    /// The corpus's name, unique in the database.
    public let corpus: String
    /// The corpus's small integer in every table's `corpus` column (`corpora_storage.key`).
    public let corpusKey: Int32
    /// The statements this backend's reads and writes have sent (each a round trip).
    public let statements = PostgresStatementCounter()

    /// Opens the rows of `corpus`, creating the tables (migrations) and the corpus's key on first
    /// use. `database` must be started. Blocking.
    public init(database: PostgresConnectionPool, corpus: String) throws {
        self.database = database
        self.corpus = corpus
        try Self.prepareTables(in: database)
        corpusKey = try database.transaction { connection in
            // Two nodes opening a new corpus at once: the second insert waits for the first and
            // does nothing; the select, a new statement, then sees the committed row.
            try connection.execute("INSERT INTO corpora_storage(name) VALUES (\(corpus)) ON CONFLICT (name) DO NOTHING")
            let rows = try connection.query("SELECT key FROM corpora_storage WHERE name = \(corpus)")
            guard let key = try rows.first?.decode(Int32.self) else {
                throw PostgresStorageError(.database, "the corpus has no storage key after creating it", context: corpus)
            }
            return key
        }
    }

    /// Creates or upgrades the corpus tables (``PostgresConnectionPool/migrate(component:_:)``); opening
    /// a backend does it too. Throws ``PostgresStorageError/Code/newerSchema`` when a newer
    /// glossd wrote the database.
    public static func prepareTables(in database: PostgresConnectionPool) throws {
        try database.migrate(component: PostgresCorpusSchema.component, PostgresCorpusSchema.migrations)
    }

    /// The names of the corpora with rows in `database` (created by opening a backend).
    public static func corpora(in database: PostgresConnectionPool) throws -> [String] {
        try database.withConnection { connection in
            try connection.query(#"SELECT name FROM corpora_storage ORDER BY name COLLATE "C""#).map { try $0.decode(String.self) }
        }
    }

    /// Deletes every row of `corpus` and its key, in one transaction under its write lock, so no
    /// append on another node interleaves. Nothing happens for an unknown name.
    public static func removeCorpus(_ corpus: String, in database: PostgresConnectionPool) throws {
        try database.transaction { connection in
            let rows = try connection.query("SELECT key FROM corpora_storage WHERE name = \(corpus)")
            guard let key = try rows.first?.decode(Int32.self) else { return }
            try connection.execute("SELECT pg_advisory_xact_lock(\(PostgresConnectionPool.LockClass.corpusWrites), \(key))")
            for table in PostgresCorpusSchema.corpusTables {
                try connection.execute("DELETE FROM \(unescaped: table) WHERE corpus = \(key)")
            }
            try connection.execute("DELETE FROM corpora_storage WHERE key = \(key)")
        }
    }

    public func read<T>(_ body: (any CorpusReader) throws -> T) throws -> T {
        try database.transaction(isolation: .repeatableRead, readOnly: true, counting: statements) { connection in
            try body(PostgresCorpusRows(connection: connection, corpus: corpusKey, name: corpus))
        }
    }

    public func write<T>(_ body: (any CorpusWriter) throws -> T) throws -> T {
        try database.transaction(counting: statements) { connection in
            // Held to the commit: the body may read the head and write head + 1 on any node.
            // Sent with the body's first statement, which PostgreSQL runs once the lock is held.
            connection.sendWithNext("SELECT pg_advisory_xact_lock(\(PostgresConnectionPool.LockClass.corpusWrites), \(corpusKey))")
            let rows = PostgresCorpusRows(connection: connection, corpus: corpusKey, name: corpus, pending: PostgresPendingWrites())
            let result = try body(rows)
            // The last writes go with COMMIT: if they fail, PostgreSQL ends the transaction
            // rolled back, and their error is COMMIT's.
            try rows.settle(withNextStatement: true)
            return result
        }
    }

    // MARK: Audit

    public func audit<T>(_ body: (any CorpusAuditReader) throws -> T) throws -> T {
        try database.transaction(isolation: .repeatableRead, readOnly: true, counting: statements) { connection in
            try body(PostgresCorpusRows(connection: connection, corpus: corpusKey, name: corpus))
        }
    }

    /// PostgreSQL checks its own pages (checksums, WAL); what is left to look at from here:
    /// indexes of the corpus tables that a failed build left invalid (their unique keys no
    /// longer hold), and, where the `amcheck` extension is installed, each B-tree index's
    /// structure (`bt_index_check`). One line per problem, at most `limit`.
    public func databaseIntegrityProblems(limit: Int) throws -> [String] {
        let limit = max(1, limit)
        return try database.withConnection { connection in
            let tables = PostgresCorpusSchema.corpusTables + ["corpora_storage"]
            var problems = try connection.query(
                """
                SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
                WHERE t.relname = ANY(\(tables)) AND t.relnamespace = current_schema()::regnamespace
                    AND NOT (x.indisvalid AND x.indisready) ORDER BY i.relname
                """
            ).map { "index \(try $0.decode(String.self)) is invalid: rebuild it with REINDEX" }
            let amcheck = try connection.query("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'amcheck')")
            if try amcheck.first?.decode(Bool.self) == true {
                let indexes = try connection.query(
                    """
                    SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
                    JOIN pg_am a ON a.oid = i.relam
                    WHERE t.relname = ANY(\(tables)) AND t.relnamespace = current_schema()::regnamespace
                        AND a.amname = 'btree' AND x.indisvalid ORDER BY i.relname
                    """
                ).map { try $0.decode(String.self) }
                for index in indexes where problems.count < limit {
                    do {
                        try connection.execute("SELECT bt_index_check(to_regclass(\(index)))")
                    } catch let error as PostgresStorageError where error.code == .database {
                        problems.append("index \(index): \(error.message)")
                    }
                }
            }
            return Array(problems.prefix(limit))
        }
    }

    /// A PostgreSQL database is copied with its own tools (`pg_dump`, or base backups and WAL
    /// archiving), which copy every corpus at one instant; one corpus's rows in a file would
    /// not be a database any backend opens.
    /// - Throws: ``StoreError`` `unsupported`, always.
    public func backup(to path: String) throws {
        throw StoreError(
            .unsupported,
            "a PostgreSQL-backed corpus is backed up with PostgreSQL's tools (pg_dump, or base backups with WAL archiving), "
                + "not copied to a file",
            context: path)
    }
}
