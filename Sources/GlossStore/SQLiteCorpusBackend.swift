import Foundation
import GRDB
import GRDBSQLite
import GlossModel

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
        return m
    }
}

/// Row access inside one GRDB read or write.
struct SQLiteCorpusRows: CorpusWriter {
    let db: Database

    private func statement(_ sql: String) throws -> Statement { try db.cachedStatement(sql: sql) }

    // MARK: Reads

    func headRevision() throws -> Int {
        try Int.fetchOne(statement("SELECT COALESCE(MAX(rev), 0) FROM revisions")) ?? 0
    }

    func revision(_ number: Int) throws -> Revision? {
        try Row.fetchOne(statement("SELECT * FROM revisions WHERE rev = ?"), arguments: [number]).map(Self.revision)
    }

    func revisionNumber(of changeset: ChangesetID) throws -> Int? {
        try Int.fetchOne(statement("SELECT rev FROM revisions WHERE changeset = ?"), arguments: [Data(changeset.bytes)])
    }

    func revisions(after: Int, through: Int) throws -> [Revision] {
        try Row.fetchAll(
            statement("SELECT * FROM revisions WHERE rev > ? AND rev <= ? ORDER BY rev"), arguments: [after, through]
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

    func headEntry(document: Int64, id: AnnotationID) throws -> [UInt8]? {
        try Data.fetchOne(
            statement("SELECT body FROM head WHERE doc = ? AND replica = ? AND counter = ?"),
            arguments: [document, Self.int(id.replica.rawValue), Self.int(id.counter)]
        ).map { [UInt8]($0) }
    }

    func headEntries(document: Int64) throws -> [(id: AnnotationID, body: [UInt8])] {
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
        s.headRows = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM head") ?? 0
        let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
        let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
        let size = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0
        s.fileBytes = (pages - free) * size
        return s
    }

    // MARK: Writes

    func insertRevision(_ r: Revision) throws {
        try statement(
            "INSERT INTO revisions(rev, changeset, replica, author, base, message, time, ops) VALUES (?,?,?,?,?,?,?,?)"
        ).execute(arguments: [
            r.number, Data(r.changeset.bytes), Self.int(r.replica.rawValue), r.author, r.base, r.message,
            r.timestamp, r.opCount,
        ])
    }

    @discardableResult
    func putDocument(_ record: DocumentRecord) throws -> Int64 {
        let e = record.entry
        try statement(
            """
            INSERT INTO documents(id, digest, length, metadata, added, removed, chain_len, chain_bytes, base_bytes)
            VALUES (?,?,?,?,?,?,?,?,?)
            ON CONFLICT(id) DO UPDATE SET digest = excluded.digest, length = excluded.length,
                metadata = excluded.metadata, added = excluded.added, removed = excluded.removed,
                chain_len = excluded.chain_len, chain_bytes = excluded.chain_bytes, base_bytes = excluded.base_bytes
            """
        ).execute(arguments: [
            e.document.id.rawValue, Data(e.document.digest.bytes), e.document.length,
            Data(MetadataCodec.encode(e.document.metadata)), e.addedAt, e.removedAt, record.chainLength,
            record.chainBytes, record.baseBytes,
        ])
        return try Int64.fetchOne(statement("SELECT key FROM documents WHERE id = ?"), arguments: [e.document.id.rawValue])!
    }

    func putHeadEntries(document: Int64, _ entries: [(id: AnnotationID, body: [UInt8])]) throws {
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

    func removeHeadEntries(document: Int64) throws {
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

    // MARK: Row mapping

    /// SQLite integers are signed: store 64-bit ids by bit pattern.
    static func int(_ v: UInt64) -> Int64 { Int64(bitPattern: v) }

    static func annotationID(_ replica: DatabaseValue, _ counter: DatabaseValue) -> AnnotationID {
        AnnotationID(
            replica: ReplicaID(UInt64(bitPattern: Int64.fromDatabaseValue(replica) ?? 0)),
            counter: UInt64(bitPattern: Int64.fromDatabaseValue(counter) ?? 0))
    }

    static func revision(_ row: Row) -> Revision {
        Revision(
            number: row["rev"], changeset: ChangesetID(bytes: [UInt8](row["changeset"] as Data)) ?? ChangesetID(high: 0, low: 0),
            author: row["author"], replica: ReplicaID(UInt64(bitPattern: row["replica"])), base: row["base"],
            message: row["message"], timestamp: row["time"], opCount: row["ops"])
    }

    static func document(_ row: Row) -> DocumentRecord {
        let doc = Document(
            id: DocumentID(storedRawValue: row["id"]), digest: TextDigest(bytes: [UInt8](row["digest"] as Data))!,
            length: row["length"], metadata: MetadataCodec.decode([UInt8](row["metadata"] as Data)))
        return DocumentRecord(
            key: row["key"], entry: DocumentEntry(document: doc, addedAt: row["added"], removedAt: row["removed"]),
            chainLength: row["chain_len"], chainBytes: row["chain_bytes"], baseBytes: row["base_bytes"])
    }

    static func blob(_ row: Row, kind: StoredBlob.Kind) -> StoredBlob {
        let id: String? = row[1]
        return StoredBlob(
            kind: kind, revision: row[0], document: id.map(DocumentID.init(storedRawValue:)), rawLength: row[2],
            data: [UInt8](row[3] as Data))
    }
}
