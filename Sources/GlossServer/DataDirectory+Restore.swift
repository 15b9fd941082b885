import Foundation
import GlossStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DataDirectory {
    /// What ``restore(from:to:force:now:)`` did.
    public struct RestoreResult: Sendable {
        public var manifest: BackupManifest
        /// The check of the restored files, run before they were put in place.
        public var report: IntegrityReport
        /// Where the data directory's previous contents were moved, when there were any.
        public var previous: URL?
    }

    /// Replaces a data directory with a backup made by ``backup(data:to:)``.
    ///
    /// The backup's manifest is read and every file it lists must be there; the files are then
    /// copied into a sibling `DIR.restore-tmp`, and that copy is checked in full (and each
    /// corpus's head revision compared with the manifest) before `DIR` is touched. Only then
    /// is the copy renamed into place: a non-empty `DIR` (with `force`) is first renamed to
    /// `DIR.before-restore-<UTC timestamp>` and kept. The directory's ``DataDirectoryLock`` is
    /// held throughout, so this refuses to run while a server uses `DIR`, and no server can
    /// start on it halfway.
    ///
    /// - Throws: ``DataDirectoryError``: `invalidManifest`, `unsupportedFormat`, `incomplete`
    ///   (the backup); `notEmpty` (a non-empty `DIR` without `force`, or a leftover
    ///   `DIR.restore-tmp`); `locked` (a server is running on `DIR`); `integrity` with the
    ///   report; `io`. On failure `DIR` is as it was.
    public static func restore(from backup: URL, to data: URL, force: Bool = false, now: Date = Date()) throws
        -> RestoreResult
    {
        let manager = FileManager.default
        let data = data.standardizedFileURL

        let manifest = try BackupManifest.read(from: backup)
        let listed = [manifest.accounts] + manifest.corpora.map(\.file) + manifest.files
        for path in listed where !manager.fileExists(atPath: backup.appendingPathComponent(path).path) {
            throw DataDirectoryError(.incomplete, "the backup lacks \(path), which its manifest lists", context: backup.path)
        }
        let present = try corpora(in: backup)
        guard present == manifest.corpora.map(\.name).sorted() else {
            throw DataDirectoryError(
                .incomplete,
                "the backup's corpora (\(present.joined(separator: ", "))) are not those its manifest lists "
                    + "(\(manifest.corpora.map(\.name).sorted().joined(separator: ", ")))", context: backup.path)
        }

        let exists = manager.fileExists(atPath: data.path)
        if exists {
            guard isDirectory(data) else {
                throw DataDirectoryError(.notEmpty, "the data directory path is not a directory", context: data.path)
            }
            guard try force || isEmpty(data) else {
                throw DataDirectoryError(
                    .notEmpty, "the data directory is not empty; --force moves its contents aside", context: data.path)
            }
        }
        let lock = exists ? try DataDirectoryLock(directory: data) : nil
        defer { lock?.release() }

        let staging = sibling(of: data, suffix: ".restore-tmp")
        guard !manager.fileExists(atPath: staging.path) else {
            throw DataDirectoryError(
                .notEmpty, "an earlier restore left \(staging.lastPathComponent); remove it first", context: staging.path)
        }
        try makePrivateDirectory(staging)
        do {
            try makePrivateDirectory(staging.appendingPathComponent(corporaDirectory))
            for path in listed {
                try copyFile(backup.appendingPathComponent(path), to: staging.appendingPathComponent(path))
            }
            // Check what will be installed, not the source: a copy could differ from it.
            let report = try check(data: staging)
            guard report.isClean else {
                throw DataDirectoryError(
                    .integrity, "the backup does not pass the integrity check (\(report.problemCount) problem(s))",
                    context: backup.path, report: report)
            }
            for corpus in manifest.corpora where report.headRevisions[corpus.name] != corpus.headRevision {
                throw DataDirectoryError(
                    .integrity,
                    "corpus \(corpus.name) is at revision \(report.headRevisions[corpus.name] ?? 0), "
                        + "its manifest says \(corpus.headRevision)", context: backup.path, report: report)
            }
            try sync(staging.appendingPathComponent(corporaDirectory))
            try sync(staging)

            var previous: URL?
            if exists {
                if try isEmpty(data) {
                    try remove(data)
                } else {
                    let aside = try uniqueSibling(of: data, suffix: ".before-restore-" + timestamp(now))
                    try rename(data, to: aside)
                    previous = aside
                }
            }
            do {
                try rename(staging, to: data)
            } catch {
                // Put the old contents back: a failed restore leaves the directory as it was.
                if let previous { try? rename(previous, to: data) }
                throw error
            }
            try sync(data.deletingLastPathComponent())
            return RestoreResult(manifest: manifest, report: report, previous: previous)
        } catch {
            try? manager.removeItem(at: staging)
            throw error
        }
    }

    static func sibling(of directory: URL, suffix: String) -> URL {
        URL(fileURLWithPath: directory.path + suffix, isDirectory: true)
    }

    static func uniqueSibling(of directory: URL, suffix: String) throws -> URL {
        var candidate = sibling(of: directory, suffix: suffix)
        var n = 2
        while FileManager.default.fileExists(atPath: candidate.path) {
            candidate = sibling(of: directory, suffix: "\(suffix)-\(n)")
            n += 1
        }
        return candidate
    }

    /// `20250102T030405Z`: sorts by time, and has no `:` (awkward in shells and on some file systems).
    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    /// `rename(2)`: atomic within one file system, which siblings share.
    static func rename(_ source: URL, to destination: URL) throws {
        #if canImport(Glibc)
        let status = Glibc.rename(source.path, destination.path)
        #else
        let status = Darwin.rename(source.path, destination.path)
        #endif
        guard status == 0 else {
            throw DataDirectoryError(
                .io, "cannot rename \(source.path): \(String(cString: strerror(errno)))", context: destination.path)
        }
    }

    static func remove(_ url: URL) throws {
        do {
            try FileManager.default.removeItem(at: url)
        } catch {
            throw DataDirectoryError(.io, "cannot remove: \(error)", context: url.path)
        }
    }
}
