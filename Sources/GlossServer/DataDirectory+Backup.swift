import Foundation
import GlossStore
import GlossStoreSQLite

extension DataDirectory {
    /// Copies a data directory into `destination` while a server keeps serving it, checks the
    /// copy, and writes its ``BackupManifest``.
    ///
    /// Each database is copied with SQLite's online backup API from a read-only connection of
    /// its own, in one step: the copy of a file is the state of one read transaction, which in
    /// WAL mode never blocks the server's commits. So every revision acknowledged before the
    /// backup started is in the copy (an acknowledged push is committed), and revisions
    /// committed while it runs may or may not be. Corpora are copied before the accounts, so a
    /// corpus created meanwhile is at worst registered without a file (the server creates an
    /// empty one on first use), never a file the accounts do not know.
    ///
    /// The copy also carries `tls/` (clients' pinned fingerprints stay valid) and `admin.token`.
    /// A certificate given with `--cert`/`--key` outside the data directory is not copied.
    ///
    /// - Parameter destination: a new or empty directory; created (mode 0700) if missing.
    /// - Returns: the manifest written.
    /// - Throws: ``DataDirectoryError``: `notADataDirectory`, `notEmpty` when `destination`
    ///   holds anything, `io`, and `integrity` (with the report) when the copy fails its check:
    ///   the copy is then kept for inspection but has no manifest, so restore refuses it. On
    ///   other failures what was written is removed.
    @discardableResult
    public static func backup(data: URL, to destination: URL) throws -> BackupManifest {
        let startedAt = Date()
        let manager = FileManager.default
        try requireStore(data)
        let accounts = data.appendingPathComponent(accountsFile)
        let existed = manager.fileExists(atPath: destination.path)
        if existed {
            let contents = (try? manager.contentsOfDirectory(atPath: destination.path)) ?? ["?"]
            guard isDirectory(destination), contents.isEmpty else {
                throw DataDirectoryError(
                    .notEmpty, "the backup destination exists and is not an empty directory", context: destination.path)
            }
        }
        try makePrivateDirectory(destination)
        do {
            try makePrivateDirectory(destination.appendingPathComponent(corporaDirectory))
            let names = try corpora(in: data)
            for name in names {
                try copyDatabase(data.appendingPathComponent(corpusFile(name)), to: destination.appendingPathComponent(corpusFile(name)))
            }
            try copyDatabase(accounts, to: destination.appendingPathComponent(accountsFile))
            var files: [String] = []
            for directory in extraDirectories where isDirectory(data.appendingPathComponent(directory)) {
                files += DataDirectory.files(in: directory, of: data)
            }
            files += extraFiles.filter { manager.fileExists(atPath: data.appendingPathComponent($0).path) }
            for file in files {
                try copyFile(data.appendingPathComponent(file), to: destination.appendingPathComponent(file))
            }

            let report = try check(data: destination)
            guard report.isClean else {
                throw DataDirectoryError(
                    .integrity,
                    "the copy does not pass the integrity check (\(report.problemCount) problem(s)); it is kept for "
                        + "inspection without a manifest, so restore refuses it. Check the source with glossd check",
                    context: destination.path, report: report)
            }
            let manifest = BackupManifest(
                startedAt: startedAt, completedAt: Date(), source: data.path, accounts: accountsFile,
                corpora: names.map { name in
                    BackupManifest.Corpus(
                        name: name, file: corpusFile(name), headRevision: report.headRevisions[name] ?? 0,
                        bytes: size(destination.appendingPathComponent(corpusFile(name))))
                },
                files: files)
            // Last: a manifest vouches for a finished, checked copy.
            try sync(destination.appendingPathComponent(corporaDirectory))
            try manifest.write(to: destination)
            try sync(destination)
            return manifest
        } catch let error as DataDirectoryError where error.code == .integrity {
            throw error
        } catch {
            if existed {
                for item in (try? manager.contentsOfDirectory(atPath: destination.path)) ?? [] {
                    try? manager.removeItem(at: destination.appendingPathComponent(item))
                }
            } else {
                try? manager.removeItem(at: destination)
            }
            throw error
        }
    }

    /// One database, with the online backup API, made durable.
    static func copyDatabase(_ source: URL, to destination: URL) throws {
        do {
            try SQLiteCorpusBackend.backupDatabase(at: source.path, to: destination.path)
        } catch {
            throw DataDirectoryError(.io, "cannot copy \(source.path): \(error)", context: destination.path)
        }
        try sync(destination)
    }
}
