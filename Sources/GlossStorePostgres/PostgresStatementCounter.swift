import Synchronization

/// Counts the statements sent for one user of the pool (a corpus's backend): each is a round
/// trip, so the count is what an append costs on PostgreSQL, for tests and the benchmark.
public final class PostgresStatementCounter: Sendable {
    private let count = Atomic<Int>(0)
    private let waited = Atomic<Int>(0)

    public init() {}

    /// Statements sent so far, `BEGIN` and `COMMIT` included.
    public var value: Int { count.load(ordering: .relaxed) }

    /// How long callers have waited for those statements' answers, in total: the part of the
    /// store's time that is PostgreSQL's (and the round trips'), not the store's own.
    public var waitedSeconds: Double { Double(waited.load(ordering: .relaxed)) / 1e9 }

    func add(waited duration: Duration) {
        count.wrappingAdd(1, ordering: .relaxed)
        let (seconds, attoseconds) = duration.components
        waited.wrappingAdd(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000), ordering: .relaxed)
    }
}
