import GlossStore

/// Every corpus of a deployment in one PostgreSQL database, which several glossd nodes share.
public struct PostgresCorpusStorage: CorpusStorage {
    public let database: PostgresConnectionPool

    /// Creates or upgrades the corpus tables and the trigger that announces new revisions
    /// (``PostgresRevisionAnnouncer``). `database` must be started. Blocking.
    public init(database: PostgresConnectionPool) throws {
        self.database = database
        try PostgresCorpusBackend.prepareTables(in: database)
        try PostgresRevisionAnnouncer.prepare(database)
    }

    public var description: String { "PostgreSQL \(database.configuration.url)" }

    public func openCorpus(named name: String) throws -> CorpusStore {
        CorpusStore(backend: try PostgresCorpusBackend(database: database, corpus: name))
    }

    public func corpusNames() throws -> [String] { try PostgresCorpusBackend.corpora(in: database) }
}
