import GlossStore

extension CorpusStore {
    /// Opens or creates a corpus in an SQLite file.
    public static func sqlite(
        path: String, snapshotPolicy: SnapshotPolicy = .default, headCacheEntries: Int = serverHeadCacheEntries
    ) throws -> CorpusStore {
        CorpusStore(
            backend: try SQLiteCorpusBackend(path: path), snapshotPolicy: snapshotPolicy,
            headCacheEntries: headCacheEntries)
    }
}
