import Synchronization

/// Where a server keeps its corpora's stores: a directory of SQLite files, or one PostgreSQL
/// database shared by several glossd nodes.
///
/// Calls block, like those of ``CorpusBackend``: callers run them on threads that may wait.
public protocol CorpusStorage: Sendable {
    /// Names the place for logs and errors: "SQLite files in /var/lib/glossd/corpora",
    /// "PostgreSQL gloss@db:5432/gloss".
    var description: String { get }

    /// Opens a corpus's store, creating its storage when the corpus has none yet.
    ///
    /// Callers open each corpus once and keep the store: it holds caches and, for SQLite, the
    /// file's connections.
    func openCorpus(named name: String) throws -> CorpusStore

    /// The corpora that have storage, sorted by name.
    func corpusNames() throws -> [String]

    /// Whether a corpus has storage, without creating it (what `glossd check --corpus` needs).
    func hasCorpus(named name: String) throws -> Bool
}

extension CorpusStorage {
    public func hasCorpus(named name: String) throws -> Bool { try corpusNames().contains(name) }
}

/// Corpora in memory, for pure tests: each lives as long as this value.
public final class MemoryCorpusStorage: CorpusStorage {
    private let stores = Mutex<[String: CorpusStore]>([:])

    public init() {}

    public var description: String { "memory" }

    public func openCorpus(named name: String) throws -> CorpusStore {
        stores.withLock { opened in
            if let store = opened[name] { return store }
            let store = CorpusStore(backend: MemoryCorpusBackend())
            opened[name] = store
            return store
        }
    }

    public func corpusNames() throws -> [String] { stores.withLock { $0.keys.sorted() } }
}
