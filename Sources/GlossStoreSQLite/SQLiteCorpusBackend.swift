import Foundation
import GRDB
import GRDBSQLite
import GlossModel
import GlossStore

/// The embedded default backend: one SQLite file per corpus, through GRDB.
///
/// WAL journal with `synchronous = FULL`, so a write returns only once it is durable; readers
/// never block the writer. One file per corpus lets corpora commit independently.
public final class SQLiteCorpusBackend: CorpusBackend {
    let pool: DatabasePool
    public let path: String

    /// Opens (creating if needed) the corpus database at `path`.
    public init(path: String) throws {
        self.path = path
        do {
            // Another process may hold the write lock for a moment (a `gloss watch --pull` next to
            // a `gloss sync` in the same workspace, `glossd backup` next to the server): wait.
            var configuration = Configuration()
            configuration.busyMode = .timeout(30)
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets `synchronous = NORMAL` on the writer when it enables WAL: a commit
            // could then be lost on power failure. Only the writer commits, so set it there.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                guard try Int.fetchOne(db, sql: "PRAGMA synchronous") == 2 else {
                    throw StoreError(.backend, "SQLite refused synchronous = FULL", context: path)
                }
                // A large import grows the WAL to its size; without a limit SQLite keeps the file
                // that big for good. With one, the file is cut back whenever the WAL restarts.
                try db.execute(sql: "PRAGMA journal_size_limit = \(Self.journalSizeLimit)")
            }
            try Self.migrator.migrate(pool)
        } catch {
            throw StoreError(.backend, "cannot open the corpus database: \(error)", context: path)
        }
    }

    public func read<T>(_ body: (any CorpusReader) throws -> T) throws -> T {
        try translatingErrors { try pool.read { db in try body(SQLiteCorpusRows(db: db)) } }
    }

    public func write<T>(_ body: (any CorpusWriter) throws -> T) throws -> T {
        try translatingErrors { try pool.write { db in try body(SQLiteCorpusRows(db: db)) } }
    }

    /// SQLite's own failures become typed store errors naming the file; errors raised by the
    /// store logic inside the transaction pass through unchanged.
    private func translatingErrors<T>(_ work: () throws -> T) throws -> T {
        do {
            return try work()
        } catch let error as DatabaseError {
            throw StoreError(.backend, "SQLite error \(error.resultCode): \(error.message ?? "no message")", context: path)
        }
    }

    /// The writer connection's `synchronous` setting (2 = FULL: every commit is fsynced).
    public func writerSynchronousLevel() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The most a WAL file keeps between writes (`PRAGMA journal_size_limit`).
    public static let journalSizeLimit = CorpusStore.idleJournalLimit

    /// Checkpoints and truncates the WAL when it holds more than `bytes`: when the store goes
    /// idle after a large write (the limit alone acts only at the next write) and at shutdown.
    /// Readers still on an older snapshot make SQLite leave the rest for later, harmlessly.
    public func compactJournal(above bytes: Int) throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        guard size > bytes else { return }
        try translatingErrors { try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) } }
    }

    /// Merges the WAL into the main file (for size reports and backups).
    public func checkpoint() throws {
        try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE revisions(
                        rev INTEGER PRIMARY KEY, changeset BLOB NOT NULL UNIQUE, replica INTEGER NOT NULL,
                        author TEXT NOT NULL, base INTEGER NOT NULL, message TEXT NOT NULL,
                        time INTEGER NOT NULL, ops INTEGER NOT NULL);
                    CREATE TABLE documents(
                        key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, digest BLOB NOT NULL,
                        length INTEGER NOT NULL, metadata BLOB NOT NULL, added INTEGER NOT NULL,
                        removed INTEGER, chain_len INTEGER NOT NULL, chain_bytes INTEGER NOT NULL,
                        base_bytes INTEGER NOT NULL);
                    CREATE TABLE texts(digest BLOB NOT NULL UNIQUE, raw_len INTEGER NOT NULL, data BLOB NOT NULL);
                    CREATE TABLE deltas(
                        rev INTEGER NOT NULL, doc INTEGER NOT NULL, base INTEGER NOT NULL,
                        raw_len INTEGER NOT NULL, data BLOB NOT NULL, UNIQUE(rev, doc));
                    CREATE INDEX deltas_by_doc ON deltas(doc, rev);
                    CREATE TABLE snapshots(
                        doc INTEGER NOT NULL, rev INTEGER NOT NULL, raw_len INTEGER NOT NULL,
                        data BLOB NOT NULL, UNIQUE(doc, rev));
                    CREATE TABLE head(
                        doc INTEGER NOT NULL, replica INTEGER NOT NULL, counter INTEGER NOT NULL,
                        body BLOB NOT NULL, PRIMARY KEY(doc, replica, counter)) WITHOUT ROWID;
                    CREATE TABLE refs(
                        doc INTEGER NOT NULL, t_replica INTEGER NOT NULL, t_counter INTEGER NOT NULL,
                        s_replica INTEGER NOT NULL, s_counter INTEGER NOT NULL,
                        PRIMARY KEY(doc, t_replica, t_counter, s_replica, s_counter)) WITHOUT ROWID;
                    CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v2: documents by revision added") { db in
            try db.execute(sql: "CREATE INDEX documents_by_added ON documents(added)")
        }
        // A store made before blocks keeps its rows: they read as rows changed since an empty
        // block, and fold into a block at the document's next write (DocumentHead).
        m.registerMigration("v3: head blocks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE head_blocks(
                        doc INTEGER PRIMARY KEY, entries INTEGER NOT NULL, raw_len INTEGER NOT NULL,
                        data BLOB NOT NULL)
                    """)
        }
        // Revisions stored before it have none: a push of their ids compares as a retry.
        m.registerMigration("v4: changeset content digests") { db in
            try db.execute(sql: "ALTER TABLE revisions ADD COLUMN content BLOB")
        }
        // Documents stored before it were never revised: NULL is what they have.
        m.registerMigration("v5: text revisions") { db in
            try db.execute(sql: "ALTER TABLE documents ADD COLUMN text_revised INTEGER")
            try db.execute(sql: "CREATE INDEX documents_by_text_revised ON documents(text_revised)")
        }
        return m
    }
}

/// Row access inside one GRDB read or write.
struct SQLiteCorpusRows: CorpusWriter {
    let db: Database
    /// False for a database without a rollback journal (``SQLiteBulkBackend``).
    var canUndo = true

    private func statement(_ sql: String) throws -> Statement { try db.cachedStatement(sql: sql) }

    // MARK: Reads

    func headRevision() throws -> Int {
        try Int.fetchOne(statement("SELECT COALESCE(MAX(rev), 0) FROM revisions")) ?? 0
    }

    func revision(_ number: Int) throws -> Revision? {
        try Row.fetchOne(statement("SELECT \(Self.revisionColumns) FROM revisions WHERE rev = ?"), arguments: [number]).map(Self.revision)
    }

    func revisionNumber(of changeset: ChangesetID) throws -> Int? {
        try Int.fetchOne(statement("SELECT rev FROM revisions WHERE changeset = ?"), arguments: [Data(changeset.bytes)])
    }

    func revisions(after: Int, through: Int) throws -> [Revision] {
        try Row.fetchAll(
            statement("SELECT \(Self.revisionColumns) FROM revisions WHERE rev > ? AND rev <= ? ORDER BY rev"), arguments: [after, through]
        ).map(Self.revision)
    }

    func document(_ id: DocumentID) throws -> DocumentRecord? {
        try Row.fetchOne(statement("SELECT * FROM documents WHERE id = ?"), arguments: [id.rawValue]).map(Self.document)
    }

    func documents() throws -> [DocumentRecord] {
        try Row.fetchAll(statement("SELECT * FROM documents ORDER BY id")).map(Self.document)
    }

    func documents(addedAfter after: Int, through: Int) throws -> [DocumentRecord] {
        try Row.fetchAll(
            statement("SELECT * FROM documents WHERE added > ? AND added <= ? ORDER BY id"), arguments: [after, through]
        ).map(Self.document)
    }

    func headBlock(document: Int64) throws -> HeadBlock? {
        try Row.fetchOne(statement("SELECT entries, raw_len, data FROM head_blocks WHERE doc = ?"), arguments: [document])
            // Read leniently, as the audit reads: damage must show as a problem, not a trap.
            .map { HeadBlock(entries: Self.integer($0[0]) ?? -1, rawLength: Self.integer($0[1]) ?? -1, data: Self.bytes($0[2])) }
    }

    func headLayout(document: Int64) throws -> (blockEntries: Int, rows: Int) {
        let row = try Row.fetchOne(
            statement(
                "SELECT (SELECT entries FROM head_blocks WHERE doc = ?), (SELECT COUNT(*) FROM head WHERE doc = ?)"),
            arguments: [document, document])
        return ((row?[0] as Int?) ?? 0, (row?[1] as Int?) ?? 0)
    }

    func headRow(document: Int64, id: AnnotationID) throws -> [UInt8]? {
        try Data.fetchOne(
            statement("SELECT body FROM head WHERE doc = ? AND replica = ? AND counter = ?"),
            arguments: [document, Self.int(id.replica.rawValue), Self.int(id.counter)]
        ).map { [UInt8]($0) }
    }

    func headRows(document: Int64) throws -> [(id: AnnotationID, body: [UInt8])] {
        try Row.fetchAll(statement("SELECT replica, counter, body FROM head WHERE doc = ?"), arguments: [document]).map {
            (Self.annotationID($0[0], $0[1]), [UInt8]($0[2] as Data))
        }
    }

    func referrers(document: Int64, target: AnnotationID) throws -> [AnnotationID] {
        try Row.fetchAll(
            statement("SELECT s_replica, s_counter FROM refs WHERE doc = ? AND t_replica = ? AND t_counter = ?"),
            arguments: [document, Self.int(target.replica.rawValue), Self.int(target.counter)]
        ).map { Self.annotationID($0[0], $0[1]) }
    }

    func deltas(document: Int64, after: Int, through: Int) throws -> [StoredBlob] {
        try Row.fetchAll(
            statement(
                """
                SELECT d.rev, docs.id, d.raw_len, d.data FROM deltas d LEFT JOIN documents docs ON docs.key = d.doc
                WHERE d.doc = ? AND d.rev > ? AND d.rev <= ? ORDER BY d.rev
                """), arguments: [document, after, through]
        ).map { Self.blob($0, kind: .delta) }
    }

    func deltas(after: Int, through: Int) throws -> [StoredBlob] {
        try Row.fetchAll(
            statement(
                """
                SELECT d.rev, docs.id, d.raw_len, d.data FROM deltas d LEFT JOIN documents docs ON docs.key = d.doc
                WHERE d.rev > ? AND d.rev <= ? ORDER BY d.rev, d.doc
                """), arguments: [after, through]
        ).map { Self.blob($0, kind: .delta) }
    }

    func liveDocumentCount() throws -> Int {
        try Int.fetchOne(statement("SELECT COUNT(*) FROM documents WHERE removed IS NULL")) ?? 0
    }

    func deltaDocuments(after: Int, through: Int) throws -> [(revision: Int, document: DocumentID?)] {
        try Row.fetchAll(
            statement(
                """
                SELECT d.rev, docs.id FROM deltas d LEFT JOIN documents docs ON docs.key = d.doc
                WHERE d.rev > ? AND d.rev <= ? ORDER BY d.rev, d.doc
                """), arguments: [after, through]
        ).map { row in
            let id: String? = row[1]
            return (row[0], id.map(DocumentID.init(storedRawValue:)))
        }
    }

    func documentAdditions(after: Int, through: Int) throws -> [(revision: Int, document: DocumentID)] {
        try Row.fetchAll(
            statement(
                """
                SELECT d.rev, docs.id FROM deltas d JOIN documents docs ON docs.key = d.doc
                WHERE d.rev > ? AND d.rev <= ? AND d.base = 1 ORDER BY d.rev, docs.id
                """), arguments: [after, through]
        ).map { row in (row[0], DocumentID(storedRawValue: row[1])) }
    }

    func documents(textRevisedAfter after: Int) throws -> [DocumentRecord] {
        try Row.fetchAll(
            statement("SELECT * FROM documents WHERE text_revised > ? ORDER BY id"), arguments: [after]
        ).map(Self.document)
    }

    func latestBaseDelta(document: Int64, atOrBefore revision: Int) throws -> Int? {
        try Int.fetchOne(
            statement("SELECT MAX(rev) FROM deltas WHERE doc = ? AND rev <= ? AND base = 1"),
            arguments: [document, revision])
    }

    func latestSnapshot(document: Int64, atOrBefore revision: Int) throws -> StoredBlob? {
        try Row.fetchOne(
            statement(
                """
                SELECT s.rev, docs.id, s.raw_len, s.data FROM snapshots s LEFT JOIN documents docs ON docs.key = s.doc
                WHERE s.doc = ? AND s.rev <= ? ORDER BY s.rev DESC LIMIT 1
                """), arguments: [document, revision]
        ).map { Self.blob($0, kind: .snapshot) }
    }

    func text(_ digest: TextDigest) throws -> (rawLength: Int, data: [UInt8])? {
        try Row.fetchOne(statement("SELECT raw_len, data FROM texts WHERE digest = ?"), arguments: [Data(digest.bytes)])
            .map { ($0[0], [UInt8]($0[1] as Data)) }
    }

    func meta(_ key: String) throws -> [UInt8]? {
        try Data.fetchOne(statement("SELECT value FROM meta WHERE key = ?"), arguments: [key]).map { [UInt8]($0) }
    }

    func storageSummary() throws -> StorageSummary {
        var s = StorageSummary()
        let d = try Row.fetchOne(db, sql: "SELECT COALESCE(SUM(LENGTH(data)), 0), COUNT(*) FROM deltas")!
        (s.deltaBytes, s.deltaCount) = (d[0], d[1])
        let n = try Row.fetchOne(db, sql: "SELECT COALESCE(SUM(LENGTH(data)), 0), COUNT(*) FROM snapshots")!
        (s.snapshotBytes, s.snapshotCount) = (n[0], n[1])
        s.textBytes = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(LENGTH(data)), 0) FROM texts") ?? 0
        let rows = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(LENGTH(body)), 0) FROM head")!
        let blocks = try Row.fetchOne(
            db, sql: "SELECT COALESCE(SUM(entries), 0), COALESCE(SUM(LENGTH(data)), 0) FROM head_blocks")!
        s.headRows = (rows[0] as Int) + (blocks[0] as Int)
        s.headBytes = (rows[1] as Int) + (blocks[1] as Int)
        let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
        let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
        let size = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0
        s.fileBytes = (pages - free) * size
        return s
    }

    // MARK: Writes

    func insertRevision(_ r: Revision) throws {
        try statement(
            "INSERT INTO revisions(rev, changeset, replica, author, base, message, time, ops, content) VALUES (?,?,?,?,?,?,?,?,?)"
        ).execute(arguments: [
            r.number, Data(r.changeset.bytes), Self.int(r.replica.rawValue), r.author, r.base, r.message,
            r.timestamp, r.opCount, r.contentDigest.map { Data($0.bytes) },
        ])
    }

    @discardableResult
    func putDocument(_ record: DocumentRecord) throws -> Int64 {
        let e = record.entry
        try statement(
            """
            INSERT INTO documents(
                id, digest, length, metadata, added, removed, chain_len, chain_bytes, base_bytes, text_revised)
            VALUES (?,?,?,?,?,?,?,?,?,?)
            ON CONFLICT(id) DO UPDATE SET digest = excluded.digest, length = excluded.length,
                metadata = excluded.metadata, added = excluded.added, removed = excluded.removed,
                chain_len = excluded.chain_len, chain_bytes = excluded.chain_bytes, base_bytes = excluded.base_bytes,
                text_revised = excluded.text_revised
            """
        ).execute(arguments: [
            e.document.id.rawValue, Data(e.document.digest.bytes), e.document.length,
            Data(MetadataCodec.encode(e.document.metadata)), e.addedAt, e.removedAt, record.chainLength,
            record.chainBytes, record.baseBytes, e.textRevisedAt,
        ])
        return try Int64.fetchOne(statement("SELECT key FROM documents WHERE id = ?"), arguments: [e.document.id.rawValue])!
    }

    func putHeadRows(document: Int64, _ entries: [(id: AnnotationID, body: [UInt8])]) throws {
        // The import hot path (a row per annotation): bind through the C API on the cached
        // statement, which costs half of GRDB's StatementArguments per row.
        let statement = try statement("INSERT OR REPLACE INTO head(doc, replica, counter, body) VALUES (?,?,?,?)")
        let handle = statement.sqliteStatement
        for (id, body) in entries {
            sqlite3_reset(handle)
            sqlite3_bind_int64(handle, 1, document)
            sqlite3_bind_int64(handle, 2, Self.int(id.replica.rawValue))
            sqlite3_bind_int64(handle, 3, Self.int(id.counter))
            _ = body.withUnsafeBytes { sqlite3_bind_blob(handle, 4, $0.baseAddress, Int32($0.count), Self.transient) }
            let status = sqlite3_step(handle)
            guard status == SQLITE_DONE else {
                let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
                sqlite3_reset(handle)
                throw StoreError(.backend, "SQLite error \(status) writing head row \(id): \(message)")
            }
        }
        sqlite3_reset(handle)
    }

    /// SQLITE_TRANSIENT: SQLite copies the blob before the Swift buffer goes away.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func putHeadBlock(document: Int64, _ block: HeadBlock) throws {
        try statement("INSERT OR REPLACE INTO head_blocks(doc, entries, raw_len, data) VALUES (?,?,?,?)").execute(
            arguments: [document, block.entries, block.rawLength, Data(block.data)])
        try statement("DELETE FROM head WHERE doc = ?").execute(arguments: [document])
    }

    func clearHead(document: Int64) throws {
        try statement("DELETE FROM head_blocks WHERE doc = ?").execute(arguments: [document])
        try statement("DELETE FROM head WHERE doc = ?").execute(arguments: [document])
        try statement("DELETE FROM refs WHERE doc = ?").execute(arguments: [document])
    }

    func addReferrer(document: Int64, target: AnnotationID, source: AnnotationID) throws {
        try statement("INSERT OR IGNORE INTO refs VALUES (?,?,?,?,?)").execute(arguments: [
            document, Self.int(target.replica.rawValue), Self.int(target.counter), Self.int(source.replica.rawValue),
            Self.int(source.counter),
        ])
    }

    func insertDelta(document: Int64, revision: Int, isBase: Bool, rawLength: Int, data: [UInt8]) throws {
        try statement("INSERT INTO deltas(rev, doc, base, raw_len, data) VALUES (?,?,?,?,?)").execute(arguments: [
            revision, document, isBase ? 1 : 0, rawLength, Data(data),
        ])
    }

    func markBaseDelta(document: Int64, revision: Int) throws {
        try statement("UPDATE deltas SET base = 1 WHERE doc = ? AND rev = ?").execute(arguments: [document, revision])
    }

    func insertSnapshot(document: Int64, revision: Int, rawLength: Int, data: [UInt8]) throws {
        try statement("INSERT OR REPLACE INTO snapshots(doc, rev, raw_len, data) VALUES (?,?,?,?)").execute(arguments: [
            document, revision, rawLength, Data(data),
        ])
    }

    func putText(_ digest: TextDigest, rawLength: Int, data: [UInt8]) throws {
        try statement("INSERT OR IGNORE INTO texts(digest, raw_len, data) VALUES (?,?,?)").execute(arguments: [
            Data(digest.bytes), rawLength, Data(data),
        ])
    }

    func setMeta(_ key: String, _ value: [UInt8]) throws {
        try statement("INSERT OR REPLACE INTO meta(key, value) VALUES (?,?)").execute(arguments: [key, Data(value)])
    }

    func nested(_ body: () throws -> NestedCompletion) throws {
        guard canUndo else {
            // Without a journal SQLite cannot roll back (its behaviour is undefined): refuse to
            // undo rather than leave half a part written. Such a file is thrown away on failure.
            guard try body() == .keep else {
                throw StoreError(.backend, "this store keeps no journal and cannot undo part of a transaction")
            }
            return
        }
        try db.inSavepoint { try body() == .keep ? .commit : .rollback }
    }

    // MARK: Row mapping

    /// SQLite integers are signed: store 64-bit ids by bit pattern.
    static func int(_ v: UInt64) -> Int64 { Int64(bitPattern: v) }

    static func annotationID(_ replica: DatabaseValue, _ counter: DatabaseValue) -> AnnotationID {
        AnnotationID(
            replica: ReplicaID(UInt64(bitPattern: Int64.fromDatabaseValue(replica) ?? 0)),
            counter: UInt64(bitPattern: Int64.fromDatabaseValue(counter) ?? 0))
    }

    /// The columns ``revision(_:)`` reads, by position: a log reads thousands of rows, and
    /// looking each column up by name was a fifth of its time.
    static let revisionColumns = "rev, changeset, author, replica, base, message, time, ops, content"

    static func revision(_ row: Row) -> Revision {
        Revision(
            number: row[0], changeset: ChangesetID(bytes: [UInt8](row[1] as Data)) ?? ChangesetID(high: 0, low: 0),
            author: row[2], replica: ReplicaID(UInt64(bitPattern: row[3])), base: row[4],
            message: row[5], timestamp: row[6], opCount: row[7],
            contentDigest: (row[8] as Data?).flatMap { ChangesetContentDigest(bytes: [UInt8]($0)) })
    }

    static func document(_ row: Row) -> DocumentRecord {
        let doc = Document(
            id: DocumentID(storedRawValue: row["id"]), digest: TextDigest(bytes: [UInt8](row["digest"] as Data))!,
            length: row["length"], metadata: MetadataCodec.decode([UInt8](row["metadata"] as Data)))
        return DocumentRecord(
            key: row["key"],
            entry: DocumentEntry(
                document: doc, addedAt: row["added"], removedAt: row["removed"], textRevisedAt: row["text_revised"]),
            chainLength: row["chain_len"], chainBytes: row["chain_bytes"], baseBytes: row["base_bytes"])
    }

    static func blob(_ row: Row, kind: StoredBlob.Kind) -> StoredBlob {
        let id: String? = row[1]
        return StoredBlob(
            kind: kind, revision: row[0], document: id.map(DocumentID.init(storedRawValue:)), rawLength: row[2],
            data: [UInt8](row[3] as Data))
    }
}

// MARK: - Audit and backup

extension SQLiteCorpusBackend: AuditableCorpusBackend {
    public func audit<T>(_ body: (any CorpusAuditReader) throws -> T) throws -> T {
        try translatingErrors { try pool.read { db in try body(SQLiteCorpusRows(db: db)) } }
    }

    public func databaseIntegrityProblems(limit: Int) throws -> [String] {
        try translatingErrors { try pool.read { db in try Self.integrityProblems(db, limit: limit) } }
    }

    /// Copies the database with SQLite's online backup API, in one step: the copy is the state
    /// of one read transaction, and in WAL mode a reader never blocks the writer, so the server
    /// keeps committing meanwhile (those commits are simply not in the copy).
    public func backup(to path: String) throws {
        try Self.backup(from: pool, to: path)
    }

    /// Runs SQLite's structural checks on any database file (the account database too), on a
    /// read-only connection of its own: `PRAGMA integrity_check`, then `PRAGMA
    /// foreign_key_check`. One line per problem, at most `limit` of each; empty when it passes.
    public static func integrityProblems(ofDatabaseAt path: String, limit: Int) throws -> [String] {
        var configuration = Configuration()
        configuration.readonly = true
        // A server may be checkpointing: wait for it rather than failing.
        configuration.busyMode = .timeout(10)
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in try integrityProblems(db, limit: limit) }
        } catch let error as DatabaseError {
            throw StoreError(.backend, "SQLite error \(error.resultCode): \(error.message ?? "no message")", context: path)
        }
    }

    /// Copies any SQLite database (the account database too) to a new file with the online
    /// backup API, from a read-only connection of its own.
    public static func backupDatabase(at source: String, to destination: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let reader: DatabaseQueue
        do {
            reader = try DatabaseQueue(path: source, configuration: configuration)
        } catch let error as DatabaseError {
            throw StoreError(
                .backend, "cannot open for backup: SQLite error \(error.resultCode): \(error.message ?? "")",
                context: source)
        }
        defer { try? reader.close() }
        try backup(from: reader, to: destination)
    }

    /// Copies an open database (a store's or the account store's pool) to a new file: one
    /// read transaction, all pages in one step, the copy in rollback-journal mode.
    public static func backup(from source: any DatabaseReader, to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.backend, "the backup destination exists", context: path)
        }
        do {
            let destination = try DatabaseQueue(path: path)
            // All pages in one step (pagesPerStep -1) inside one read transaction: a step-wise
            // copy would restart whenever another connection commits, never finishing under load.
            try source.backup(to: destination)
            // The copy inherits WAL mode from the header; a rollback journal makes it one
            // self-contained file (readers of the backup leave no -wal/-shm beside it). Opening
            // it as a store turns WAL on again.
            try destination.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            try destination.close()
        } catch let error as DatabaseError {
            throw StoreError(
                .backend, "backup failed: SQLite error \(error.resultCode): \(error.message ?? "no message")",
                context: path)
        }
    }

    static func integrityProblems(_ db: Database, limit: Int) throws -> [String] {
        let limit = max(1, limit)
        var problems = try String.fetchAll(db, sql: "PRAGMA integrity_check(\(limit))").filter { $0 != "ok" }
        // Rows: table, rowid, referenced table, constraint index.
        for row in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").prefix(limit) {
            let table = String.fromDatabaseValue(row[0]) ?? "?"
            let rowid = Int64.fromDatabaseValue(row[1])
            let parent = String.fromDatabaseValue(row[2]) ?? "?"
            problems.append("row \(rowid.map(String.init) ?? "?") of \(table) refers to a missing row of \(parent)")
        }
        return problems
    }
}

extension SQLiteCorpusRows: CorpusAuditReader {
    // Audit reads convert column values without trapping: GRDB's typed row subscripts stop the
    // process on a value of the wrong type, and a checker must report damage, not die of it.

    func documents(after id: DocumentID?, limit: Int) throws -> [DocumentRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM documents WHERE id > ? ORDER BY id LIMIT ?"),
            arguments: [id?.rawValue ?? "", limit]
        ).map(Self.auditedDocument)
    }

    func forEachDelta(document: Int64, _ body: (StoredBlob, Bool) throws -> Void) throws {
        // An uncached statement: the body runs other (cached) statements while this one steps.
        let cursor = try Row.fetchCursor(
            db.makeStatement(
                sql: """
                    SELECT d.rev, docs.id, d.raw_len, d.data, d.base FROM deltas d
                    LEFT JOIN documents docs ON docs.key = d.doc WHERE d.doc = ? ORDER BY d.rev
                    """), arguments: [document])
        while let row = try cursor.next() {
            try body(Self.auditedBlob(row, kind: .delta), Self.integer(row[4]) == 1)
        }
    }

    func snapshotRevisions(document: Int64) throws -> [Int] {
        try Int.fetchAll(
            db.cachedStatement(sql: "SELECT rev FROM snapshots WHERE doc = ? ORDER BY rev"), arguments: [document])
    }

    func forEachHeadRow(document: Int64, _ body: (AnnotationID, [UInt8]) throws -> Void) throws {
        let cursor = try Row.fetchCursor(
            db.makeStatement(sql: "SELECT replica, counter, body FROM head WHERE doc = ? ORDER BY replica, counter"),
            arguments: [document])
        while let row = try cursor.next() {
            try body(Self.annotationID(row[0], row[1]), Self.bytes(row[2]))
        }
    }

    func referrerPairs(document: Int64) throws -> [(target: AnnotationID, source: AnnotationID)] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT t_replica, t_counter, s_replica, s_counter FROM refs WHERE doc = ? ORDER BY t_replica, t_counter, s_replica, s_counter"),
            arguments: [document]
        ).map { (Self.annotationID($0[0], $0[1]), Self.annotationID($0[2], $0[3])) }
    }

    func metaEntries() throws -> [(key: String, value: [UInt8])] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT key, value FROM meta ORDER BY key")).map { ($0[0], Self.bytes($0[1])) }
    }

    func textDigests(after digest: [UInt8]?, limit: Int) throws -> [[UInt8]] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT digest FROM texts WHERE digest > ? ORDER BY digest LIMIT ?"),
            arguments: [Data(digest ?? []), limit]
        ).map { Self.bytes($0[0]) }
    }

    func text(storedDigest digest: [UInt8]) throws -> (rawLength: Int, data: [UInt8])? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT raw_len, data FROM texts WHERE digest = ?"), arguments: [Data(digest)]
        ).map { (Self.integer($0[0]) ?? -1, Self.bytes($0[1])) }
    }

    func danglingRows(limit: Int) throws
        -> [(table: String, documentKey: Int64, document: DocumentID?, revision: Int?, missing: String)]
    {
        try Row.fetchAll(
            db,
            sql: """
                SELECT 'deltas', d.doc, docs.id, d.rev, 'revision' FROM deltas d
                    LEFT JOIN documents docs ON docs.key = d.doc WHERE d.rev NOT IN (SELECT rev FROM revisions)
                UNION ALL
                SELECT 'deltas', doc, NULL, rev, 'document' FROM deltas
                    WHERE doc <> 0 AND doc NOT IN (SELECT key FROM documents)
                UNION ALL
                SELECT 'snapshots', s.doc, docs.id, s.rev, 'revision' FROM snapshots s
                    LEFT JOIN documents docs ON docs.key = s.doc WHERE s.rev NOT IN (SELECT rev FROM revisions)
                UNION ALL
                SELECT 'snapshots', doc, NULL, rev, 'document' FROM snapshots
                    WHERE doc NOT IN (SELECT key FROM documents)
                UNION ALL
                SELECT DISTINCT 'head', doc, NULL, NULL, 'document' FROM head
                    WHERE doc NOT IN (SELECT key FROM documents)
                UNION ALL
                SELECT 'head_blocks', doc, NULL, NULL, 'document' FROM head_blocks
                    WHERE doc NOT IN (SELECT key FROM documents)
                LIMIT ?
                """, arguments: [limit]
        ).map { row in
            (
                String.fromDatabaseValue(row[0]) ?? "?", Int64.fromDatabaseValue(row[1]) ?? -1,
                String.fromDatabaseValue(row[2]).map(DocumentID.init(storedRawValue:)), Self.integer(row[3]),
                String.fromDatabaseValue(row[4]) ?? "?"
            )
        }
    }

    static func integer(_ value: DatabaseValue) -> Int? { Int.fromDatabaseValue(value) }

    static func bytes(_ value: DatabaseValue) -> [UInt8] { Data.fromDatabaseValue(value).map { [UInt8]($0) } ?? [] }

    static func auditedBlob(_ row: Row, kind: StoredBlob.Kind) -> StoredBlob {
        let id = String.fromDatabaseValue(row[1])
        return StoredBlob(
            kind: kind, revision: integer(row[0]) ?? -1, document: id.map(DocumentID.init(storedRawValue:)),
            rawLength: integer(row[2]) ?? -1, data: bytes(row[3]))
    }

    /// A damaged digest (not 32 bytes) reads as all zeros, so that the check reports the
    /// document's entry as differing from what its deltas say.
    static func auditedDocument(_ row: Row) -> DocumentRecord {
        let digest = TextDigest(bytes: bytes(row["digest"])) ?? TextDigest(bytes: [UInt8](repeating: 0, count: 32))!
        let doc = Document(
            id: DocumentID(storedRawValue: String.fromDatabaseValue(row["id"]) ?? ""), digest: digest,
            length: integer(row["length"]) ?? -1, metadata: MetadataCodec.decode(bytes(row["metadata"])))
        return DocumentRecord(
            key: Int64.fromDatabaseValue(row["key"]) ?? -1,
            entry: DocumentEntry(
                document: doc, addedAt: integer(row["added"]) ?? -1, removedAt: integer(row["removed"]),
                textRevisedAt: integer(row["text_revised"])),
            chainLength: integer(row["chain_len"]) ?? -1, chainBytes: integer(row["chain_bytes"]) ?? -1,
            baseBytes: integer(row["base_bytes"]) ?? -1)
    }
}
