import Foundation
import GRDB
import GlossStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An SQLite corpus file being built from nothing, by one writer, in a place nobody else reads:
/// a replica a clone installs (``ReplicaInstaller``) in its staging directory.
///
/// Such a file needs no journal and no sync per commit: an interrupted build is deleted, not
/// recovered. Without them every page is written once instead of to the WAL and again to the
/// file, and no commit waits for the disk. ``close()`` syncs the finished file once; the
/// store then opens it as usual (``SQLiteCorpusBackend``, which puts it in WAL mode).
public final class SQLiteBulkBackend: CorpusBackend {
    private let queue: DatabaseQueue
    public let path: String

    /// Creates the corpus database at `path` (a new file) with the store's schema.
    public init(path: String) throws {
        self.path = path
        do {
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = OFF")
                try db.execute(sql: "PRAGMA synchronous = OFF")
                // Room for the B-tree pages a page of revisions touches: a few MB, not the corpus.
                try db.execute(sql: "PRAGMA cache_size = -16384")
            }
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try SQLiteCorpusBackend.migrator.migrate(queue)
        } catch {
            throw StoreError(.backend, "cannot create the corpus database: \(error)", context: path)
        }
    }

    public func read<T>(_ body: (any CorpusReader) throws -> T) throws -> T {
        try translating { try queue.read { db in try body(SQLiteCorpusRows(db: db)) } }
    }

    public func write<T>(_ body: (any CorpusWriter) throws -> T) throws -> T {
        try translating { try queue.write { db in try body(SQLiteCorpusRows(db: db, canUndo: false)) } }
    }

    /// Closes the database and syncs the file to disk: after this the build is durable.
    public func close() throws {
        try translating { try queue.close() }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError(.backend, "cannot open the built database to sync it", context: path) }
        defer { Self.closeDescriptor(fd) }
        guard fsync(fd) == 0 else {
            throw StoreError(.backend, "cannot sync the built database: \(String(cString: strerror(errno)))", context: path)
        }
    }

    private static func closeDescriptor(_ fd: Int32) {
        #if canImport(Glibc)
            _ = Glibc.close(fd)
        #else
            _ = Darwin.close(fd)
        #endif
    }

    private func translating<T>(_ work: () throws -> T) throws -> T {
        do {
            return try work()
        } catch let error as DatabaseError {
            throw StoreError(.backend, "SQLite error \(error.resultCode): \(error.message ?? "no message")", context: path)
        }
    }
}
