/// How a transaction sees other transactions' commits.
public enum PostgresIsolation: String, Sendable {
    /// Each statement sees what was committed when it began (PostgreSQL's default): for
    /// writes serialised by a lock.
    case readCommitted = "READ COMMITTED"
    /// Every statement sees the snapshot taken at the first: for reads of one committed state.
    case repeatableRead = "REPEATABLE READ"
}
