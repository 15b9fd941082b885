import Foundation
import GlossModel
import GlossStore
import GlossStoreSQLite
import Synchronization

/// Opens each corpus's store once, on first use, from the server's ``CorpusStorage``, each with
/// its own group committer so corpora commit independently.
public final class CorpusRegistry: Sendable {
    /// Where the corpora live.
    public let storage: any CorpusStorage
    /// Where every blocking store call runs.
    public let executor: StorageExecutor
    /// Subscribers to the corpora's new revisions.
    public let broadcaster = RevisionBroadcaster()
    /// Whether other nodes commit to the same storage: then every revision, this node's too, is
    /// published from the database's notifications in commit order (``PeerRevisionRelay``), and
    /// the committers publish nothing.
    public let isShared: Bool
    fileprivate let open = Mutex<[String: CorpusHandle]>([:])

    /// - Parameter shared: whether other glossd nodes commit to the same storage.
    public init(storage: any CorpusStorage, executor: StorageExecutor = .shared, shared: Bool = false) {
        self.storage = storage
        self.executor = executor
        self.isShared = shared
    }

    /// The corpora of a data directory: `corpora/NAME.sqlite` files.
    public convenience init(directory: URL, executor: StorageExecutor = .shared) throws {
        self.init(
            storage: try SQLiteCorpusStorage(directory: directory.appendingPathComponent(DataDirectory.corporaDirectory)),
            executor: executor)
    }

    /// The store and committer of a corpus the account store knows about.
    public func handle(for name: String) throws -> CorpusHandle {
        if let handle = open.withLock({ $0[name] }) { return handle }
        let broadcaster = isShared ? nil : self.broadcaster
        let fresh = CorpusHandle(
            name: name, store: try storage.openCorpus(named: name), executor: executor, broadcaster: broadcaster)
        return open.withLock { opened in
            if let raced = opened[name] { return raced }
            opened[name] = fresh
            return fresh
        }
    }

    /// The corpora open so far.
    public var openHandles: [CorpusHandle] { open.withLock { Array($0.values) } }
}

extension CorpusRegistry {
    /// Checkpoints and truncates every open corpus's journal (at shutdown: the data directory
    /// at rest is then the stores alone).
    public func compactJournals() {
        for handle in openHandles { try? handle.store.backend.compactJournal(above: 0) }
    }
}

/// A corpus's store together with the queue that group-commits its pushes.
public struct CorpusHandle: Sendable {
    public let name: String
    public let store: CorpusStore
    public let committer: GroupCommitter

    /// - Parameter broadcaster: where the committer publishes each revision it commits.
    init(name: String, store: CorpusStore, executor: StorageExecutor, broadcaster: RevisionBroadcaster?) {
        self.name = name
        self.store = store
        var announce: (@Sendable (Int, EncodedChangeset) -> Void)?
        if let broadcaster {
            announce = { revision, changeset in
                broadcaster.publish(RevisionBroadcaster.Event(corpus: name, revision: revision, changeset: changeset))
            }
        }
        self.committer = GroupCommitter(store: store, executor: executor, announce: announce)
    }
}
