import Foundation
import GlossModel

/// `manifest.json` in a backup directory: when the copy was taken, by which format, and what it
/// holds. `glossd backup` writes it last, only once the copy has passed the integrity check, so
/// a directory without one is not a usable backup and `glossd restore` refuses it.
public struct BackupManifest: Codable, Hashable, Sendable {
    /// The manifest's file name in a backup directory.
    public static let fileName = "manifest.json"
    /// The version of this manifest and of the backup layout: `server.sqlite`,
    /// `corpora/NAME.sqlite`, and the other files listed in ``files``.
    public static let currentFormat = 1

    /// One corpus in the backup.
    public struct Corpus: Codable, Hashable, Sendable {
        public var name: String
        /// Its database, relative to the backup directory.
        public var file: String
        /// The last revision in the copy.
        public var headRevision: Int
        public var bytes: Int

        public init(name: String, file: String, headRevision: Int, bytes: Int) {
            self.name = name
            self.file = file
            self.headRevision = headRevision
            self.bytes = bytes
        }
    }

    /// ``currentFormat`` when written.
    public var format: Int
    /// The encoding of stored deltas and snapshots (`Protocol/storage-encoding.md`).
    public var storageEncoding: Int
    /// When the copy started: every revision acknowledged before this is in it.
    public var startedAt: Date
    /// When the copy had been written and checked.
    public var completedAt: Date
    /// The data directory copied, for people.
    public var source: String
    /// The account database, relative to the backup directory.
    public var accounts: String
    public var corpora: [Corpus]
    /// Other files copied (TLS identity, admin token), relative to the backup directory.
    public var files: [String]

    public init(
        startedAt: Date, completedAt: Date, source: String, accounts: String, corpora: [Corpus], files: [String],
        format: Int = currentFormat, storageEncoding: Int = Int(DeltaCodec.version)
    ) {
        self.format = format
        self.storageEncoding = storageEncoding
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.source = source
        self.accounts = accounts
        self.corpora = corpora
        self.files = files
    }

    /// Writes `manifest.json` into `directory`, atomically (a temporary file renamed into place).
    public func write(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let url = directory.appendingPathComponent(Self.fileName)
        do {
            try encoder.encode(self).write(to: url, options: .atomic)
        } catch {
            throw DataDirectoryError(.io, "cannot write the manifest: \(error)", context: url.path)
        }
    }

    /// Reads and validates the manifest of the backup in `directory`.
    ///
    /// - Throws: ``DataDirectoryError``: `invalidManifest` when it is missing, does not decode,
    ///   or names a path outside the backup; `unsupportedFormat` when a newer glossd wrote it.
    public static func read(from directory: URL) throws -> BackupManifest {
        let url = directory.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw DataDirectoryError(
                .invalidManifest, "no \(fileName): not a backup, or one that did not finish or pass its check",
                context: url.path)
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let manifest: BackupManifest
        do {
            manifest = try decoder.decode(BackupManifest.self, from: data)
        } catch {
            throw DataDirectoryError(.invalidManifest, "the manifest does not decode: \(error)", context: url.path)
        }
        guard manifest.format <= currentFormat, manifest.storageEncoding == Int(DeltaCodec.version) else {
            throw DataDirectoryError(
                .unsupportedFormat,
                "the backup has format \(manifest.format), storage encoding \(manifest.storageEncoding); this glossd "
                    + "reads format \(currentFormat), storage encoding \(DeltaCodec.version)", context: url.path)
        }
        guard manifest.accounts == DataDirectory.accountsFile else {
            throw DataDirectoryError(
                .invalidManifest, "the account database must be \(DataDirectory.accountsFile), not \(manifest.accounts)",
                context: url.path)
        }
        // A restore copies what the manifest lists: keep every path inside the backup.
        for path in [manifest.accounts] + manifest.corpora.map(\.file) + manifest.files where !isSafe(path) {
            throw DataDirectoryError(.invalidManifest, "the manifest names an unsafe path \"\(path)\"", context: url.path)
        }
        for corpus in manifest.corpora
        where (try? AccountStore.validateCorpusName(corpus.name)) == nil
            || corpus.file != DataDirectory.corpusFile(corpus.name)
        {
            throw DataDirectoryError(
                .invalidManifest, "corpus \(corpus.name) is not at \(DataDirectory.corpusFile(corpus.name))",
                context: url.path)
        }
        return manifest
    }

    /// A relative path with no `.` or `..` component.
    static func isSafe(_ path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/") else { return false }
        return path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy {
            !$0.isEmpty && $0 != "." && $0 != ".."
        }
    }
}
