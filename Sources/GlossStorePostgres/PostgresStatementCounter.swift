import Synchronization

/// Counts the statements sent for one user of the pool (a corpus's backend): each is a round
/// trip, so the count is what an append costs on PostgreSQL, for tests and the benchmark.
public final class PostgresStatementCounter: Sendable {
    private let count = Atomic<Int>(0)

    public init() {}

    /// Statements sent so far, `BEGIN` and `COMMIT` included.
    public var value: Int { count.load(ordering: .relaxed) }

    func add() { count.wrappingAdd(1, ordering: .relaxed) }
}
