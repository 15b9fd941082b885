import Foundation
import GlossStore
import GlossStoreSQLite
import Synchronization

/// Opens each corpus's store once, on first use: `corpora/NAME.sqlite` under the data
/// directory, each with its own group committer so corpora commit independently.
public final class CorpusRegistry: Sendable {
    public let directory: URL
    /// The data directory the corpora live under (``DataDirectory`` names the layout).
    private let data: URL
    fileprivate let open = Mutex<[String: CorpusHandle]>([:])

    public init(directory: URL) throws {
        data = directory
        self.directory = directory.appendingPathComponent(DataDirectory.corporaDirectory)
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
    }

    /// The store and committer of a corpus the account store knows about.
    public func handle(for name: String) throws -> CorpusHandle {
        if let handle = open.withLock({ $0[name] }) { return handle }
        let store = try CorpusStore.sqlite(path: data.appendingPathComponent(DataDirectory.corpusFile(name)).path)
        let fresh = CorpusHandle(name: name, store: store)
        return open.withLock { opened in
            if let raced = opened[name] { return raced }
            opened[name] = fresh
            return fresh
        }
    }
}

extension CorpusRegistry {
    /// Checkpoints and truncates every open corpus's journal (at shutdown: the data directory
    /// at rest is then the stores alone).
    public func compactJournals() {
        for handle in open.withLock({ Array($0.values) }) { try? handle.store.backend.compactJournal(above: 0) }
    }
}

/// A corpus's store together with the queue that group-commits its pushes.
public struct CorpusHandle: Sendable {
    public let name: String
    public let store: CorpusStore
    public let committer: GroupCommitter

    init(name: String, store: CorpusStore) {
        self.name = name
        self.store = store
        self.committer = GroupCommitter(store: store)
    }
}
