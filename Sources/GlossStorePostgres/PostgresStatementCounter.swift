import Synchronization

/// Counts the statements sent for one user of the pool (a corpus's backend): each is a round
/// trip, so the count is what an append costs on PostgreSQL, for tests and the benchmark.
public final class PostgresStatementCounter: Sendable {
    private let count = Atomic<Int>(0)
    private let waited = Atomic<Int>(0)

    public init() {}

    private let waitCount = Atomic<Int>(0)

    /// Statements sent so far, `BEGIN` and `COMMIT` included.
    public var value: Int { count.load(ordering: .relaxed) }

    /// How many times a caller waited for answers: statements queued together
    /// (``BlockingPostgresConnection/queries(_:)``) are one wait, one round trip from its thread.
    public var waits: Int { waitCount.load(ordering: .relaxed) }

    /// How long callers have waited for those statements' answers, in total: the part of the
    /// store's time that is PostgreSQL's (and the round trips'), not the store's own.
    public var waitedSeconds: Double { Double(waited.load(ordering: .relaxed)) / 1e9 }

    /// `statements` sent together, answered after `duration`.
    func add(statements: Int, waited duration: Duration) {
        count.wrappingAdd(statements, ordering: .relaxed)
        waitCount.wrappingAdd(1, ordering: .relaxed)
        let (seconds, attoseconds) = duration.components
        waited.wrappingAdd(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000), ordering: .relaxed)
    }
}
