import Foundation
import GlossStore

/// Corpora as SQLite files in one directory, `NAME.sqlite` each: a single-box glossd.
public struct SQLiteCorpusStorage: CorpusStorage {
    /// The directory holding the files (a data directory's `corpora/`).
    public let directory: URL
    /// The file extension of a corpus database.
    public static let fileExtension = "sqlite"

    /// Corpora in `directory`, which is created if missing.
    public init(directory: URL) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.backend, "cannot create the corpora directory: \(error)", context: directory.path)
        }
    }

    /// Corpora already in `directory`, which must exist: for reading a data directory, never
    /// creating one (`glossd check`).
    public init(existing directory: URL) {
        self.directory = directory
    }

    public var description: String { "SQLite files in \(directory.path)" }

    /// A corpus's file.
    public func file(of name: String) -> URL {
        directory.appendingPathComponent("\(name).\(Self.fileExtension)")
    }

    public func openCorpus(named name: String) throws -> CorpusStore {
        try CorpusStore.sqlite(path: file(of: name).path)
    }

    public func corpusNames() throws -> [String] {
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { $0.hasSuffix(".\(Self.fileExtension)") }
                .map { String($0.dropLast(Self.fileExtension.count + 1)) }
                .sorted()
        } catch {
            throw StoreError(.backend, "cannot list the corpora: \(error)", context: directory.path)
        }
    }

    public func hasCorpus(named name: String) throws -> Bool {
        FileManager.default.fileExists(atPath: file(of: name).path)
    }
}
