import Foundation
import GlossStore
import GlossStoreSQLite

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files of a glossd data directory, and the operations on it as a whole: ``check(data:corpus:maxProblems:)``,
/// ``backup(data:to:)`` and ``restore(from:to:force:)``.
///
/// Layout: `server.sqlite` (users, token hashes, corpora, grants), `corpora/NAME.sqlite` (one
/// store per corpus, created on the corpus's first use), `tls/` (the generated identity),
/// `admin.token`, and `.lock` (``DataDirectoryLock``).
public enum DataDirectory {
    /// The account database.
    public static let accountsFile = "server.sqlite"
    public static let corporaDirectory = "corpora"
    /// What a backup carries besides the databases, when present: the generated TLS identity
    /// (so clients' pinned fingerprints stay valid) and the admin token.
    static let extraDirectories = ["tls"]
    static let extraFiles = ["admin.token"]

    /// A corpus's database, relative to the data directory.
    public static func corpusFile(_ name: String) -> String { "\(corporaDirectory)/\(name).sqlite" }

    /// The corpora that have a database file, by name.
    public static func corpora(in data: URL) throws -> [String] {
        do {
            return try corpusStorage(of: data).corpusNames()
        } catch let error as StoreError {
            throw DataDirectoryError(.io, error.message, context: error.context)
        }
    }

    /// The corpora of an existing data directory (never created here).
    public static func corpusStorage(of data: URL) -> SQLiteCorpusStorage {
        SQLiteCorpusStorage(existing: data.appendingPathComponent(corporaDirectory))
    }

    // MARK: Check

    /// Checks a data directory: SQLite's own check of `server.sqlite`, then every corpus
    /// database in full (``CorpusStore/checkIntegrity(corpus:maxProblems:)``). With `corpus`,
    /// only that corpus. Safe while a server runs: it reads, one document at a time.
    ///
    /// - Throws: ``DataDirectoryError``: `notADataDirectory` when `data` has no
    ///   `server.sqlite`, `notFound` when `corpus` has no database. Damage is not thrown: it
    ///   is in the report.
    public static func check(data: URL, corpus: String? = nil, maxProblems: Int = 1000) throws -> IntegrityReport {
        try requireStore(data)
        let accounts = data.appendingPathComponent(accountsFile)
        return try check(storage: corpusStorage(of: data), corpus: corpus, maxProblems: maxProblems) {
            try SQLiteCorpusBackend.integrityProblems(ofDatabaseAt: accounts.path, limit: 100)
        }
    }

    /// Checks the corpora of any storage, every one or only `corpus`, and, when all are
    /// checked, the catalog's database with `catalogProblems` (the engine's own check).
    ///
    /// - Throws: ``DataDirectoryError`` `notFound` when `corpus` has no storage.
    public static func check(
        storage: any CorpusStorage, corpus: String? = nil, maxProblems: Int = 1000,
        catalogProblems: () throws -> [String]
    ) throws -> IntegrityReport {
        var report = IntegrityReport(maxProblems: maxProblems)
        let names: [String]
        if let corpus {
            // A name, not a path: `--corpus ../x` must not open files outside the directory.
            guard (try? AccountStore.validateCorpusName(corpus)) != nil, (try? storage.hasCorpus(named: corpus)) == true
            else {
                throw DataDirectoryError(.notFound, "no database for corpus \(corpus)", context: storage.description)
            }
            names = [corpus]
        } else {
            do {
                names = try storage.corpusNames()
            } catch {
                throw DataDirectoryError(.io, "cannot list the corpora: \(error)", context: storage.description)
            }
            report.counts.databases += 1
            do {
                for line in try catalogProblems() {
                    report.record(IntegrityProblem(.databaseCorrupt, line, table: "database"))
                }
            } catch {
                report.record(IntegrityProblem(.databaseCorrupt, "the database does not open: \(error)", table: "database"))
            }
        }
        for name in names {
            report.merge(checkCorpus(name, in: storage, maxProblems: maxProblems))
        }
        return report
    }

    static func checkCorpus(_ name: String, in storage: any CorpusStorage, maxProblems: Int) -> IntegrityReport {
        do {
            return try storage.openCorpus(named: name).checkIntegrity(corpus: name, maxProblems: maxProblems)
        } catch {
            var report = IntegrityReport(maxProblems: maxProblems)
            report.counts.databases = 1
            report.counts.corpora = 1
            report.record(
                IntegrityProblem(.databaseCorrupt, "the database does not open: \(error)", corpus: name, table: "database"))
            return report
        }
    }

    // MARK: Files

    /// Whether a directory holds nothing but a lock file (a stopped server leaves its `.lock`).
    static func isEmpty(_ directory: URL) throws -> Bool {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .allSatisfy { $0 == DataDirectoryLock.fileName }
        } catch {
            throw DataDirectoryError(.io, "cannot list the directory: \(error)", context: directory.path)
        }
    }

    static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Creates a directory readable only by its owner: it holds token hashes and the TLS key.
    static func makePrivateDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw DataDirectoryError(.io, "cannot create the directory: \(error)", context: url.path)
        }
    }

    /// Copies a file and its permissions, and makes the copy durable.
    static func copyFile(_ source: URL, to destination: URL) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(
                at: destination.deletingLastPathComponent(), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            try manager.copyItem(at: source, to: destination)
            if let mode = try manager.attributesOfItem(atPath: source.path)[.posixPermissions] {
                try manager.setAttributes([.posixPermissions: mode], ofItemAtPath: destination.path)
            }
        } catch {
            throw DataDirectoryError(.io, "cannot copy \(source.path): \(error)", context: destination.path)
        }
        try sync(destination)
    }

    /// The regular files in the subdirectory `name` of `root`, as paths relative to `root`, sorted.
    static func files(in name: String, of root: URL) -> [String] {
        let directory = root.appendingPathComponent(name)
        guard let enumerator = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        var out: [String] = []
        while let item = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = directory.appendingPathComponent(item).path
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                out.append(name + "/" + item)
            }
        }
        return out.sorted()
    }

    /// `fsync(2)` on a file or directory: a rename or a copy is durable only once the data and
    /// the directory entry naming it are.
    static func sync(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw DataDirectoryError(.io, "cannot open to sync: \(String(cString: strerror(errno)))", context: url.path)
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw DataDirectoryError(.io, "fsync failed: \(String(cString: strerror(errno)))", context: url.path)
        }
    }

    /// The size of a file, 0 when it cannot be read.
    static func size(_ url: URL) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}
