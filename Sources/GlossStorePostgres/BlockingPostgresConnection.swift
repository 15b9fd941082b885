import Dispatch
import Logging
import PostgresNIO
import Synchronization

/// A pooled PostgreSQL connection lent to a thread that may block: each call sends one
/// statement and waits for its whole result.
///
/// Valid only inside the ``PostgresConnectionPool/withConnection(_:)`` or
/// ``PostgresConnectionPool/transaction(isolation:readOnly:_:)`` body it was given to; never keep it.
/// Failures are ``PostgresStorageError``s (a unique key broken: ``PostgresStorageError/Code/uniqueViolation``;
/// the connection lost: ``PostgresStorageError/Code/unavailable``).
public final class BlockingPostgresConnection {
    /// The postgres-nio connection, for what this wrapper does not offer.
    public let connection: PostgresConnection
    let logger: Logger
    /// How errors name the database: `host:port/database`.
    let location: String
    /// Counts this lease's statements for the pool's user, if it asked.
    let counter: PostgresStatementCounter?

    /// Set once a statement found the connection gone: it must not go back to the pool as is.
    let broken = Mutex(false)

    init(connection: PostgresConnection, logger: Logger, location: String, counter: PostgresStatementCounter? = nil) {
        self.connection = connection
        self.logger = logger
        self.location = location
        self.counter = counter
    }

    /// Before the connection goes back to the pool: one that failed for want of a connection is
    /// closed, and its close awaited, so that the pool (told of the close first) never lends it
    /// out again.
    func retireIfBroken() {
        guard broken.withLock({ $0 }) else { return }
        _ = try? connection.close().wait()
    }

    /// Statements waiting to go with the next one (``sendWithNext(_:)``).
    private var ahead: [PostgresQuery] = []

    /// Sends `q` with the next statement, and waits for both at once: a statement whose result
    /// nothing reads (`BEGIN`, a lock, the last writes before `COMMIT`) then costs this thread no
    /// wait of its own. postgres-nio queues statements on a connection and sends each as the one
    /// before completes, on the connection's event loop. A failure of `q` is the next call's.
    public func sendWithNext(_ q: PostgresQuery) {
        ahead.append(q)
    }

    /// Runs one statement (values interpolated into `q` travel as bound parameters) and returns
    /// all its rows. One round trip. Blocking: never call it on an event loop or in async code.
    public func query(_ q: PostgresQuery) throws -> [PostgresRow] {
        try queries([q])[0]
    }

    /// Runs statements in order, queued on the connection together, and waits once for all of
    /// their rows: one wait for statements whose inputs do not depend on each other's results.
    /// The first failure, in order, is thrown (a later statement of a transaction then fails
    /// or does nothing, as PostgreSQL aborts the transaction).
    public func queries(_ statements: [PostgresQuery]) throws -> [[PostgresRow]] {
        let all = ahead + statements
        ahead = []
        // postgres-nio leaves a statement written to a connection that has already closed (the
        // server ended the session, the network dropped) unanswered for good: such a statement
        // is not sent, and the result races the connection's close, so that a dropped
        // connection is an error rather than a hang.
        guard !connection.isClosed else {
            broken.withLock { $0 = true }
            throw closed()
        }
        let started = counter.map { _ in ContinuousClock.now }
        defer { if let counter, let started { counter.add(statements: all.count, waited: ContinuousClock.now - started) } }
        let outcomes = Mutex<[Result<[PostgresRow], any Error>?]>(Array(repeating: nil, count: all.count))
        let remaining = Mutex(all.count)
        let done = DispatchSemaphore(value: 0)
        let finish = { @Sendable (index: Int?, result: Result<[PostgresRow], any Error>) in
            let settled = outcomes.withLock { outcomes -> Int in
                var newly = 0
                for i in index.map({ [$0] }) ?? Array(outcomes.indices) where outcomes[i] == nil {
                    outcomes[i] = result
                    newly += 1
                }
                return newly
            }
            guard settled > 0 else { return }
            let left = remaining.withLock { remaining -> Int in
                remaining -= settled
                return remaining
            }
            if left == 0 { done.signal() }
        }
        for (index, statement) in all.enumerated() {
            connection.query(statement, logger: logger).whenComplete { finish(index, $0.map(\.rows)) }
        }
        let location = self.location
        connection.closeFuture.whenComplete { _ in finish(nil, .failure(Self.closed(location))) }
        done.wait()
        do {
            let results = try outcomes.withLock { outcomes in try outcomes.map { try $0!.get() } }
            return Array(results.suffix(statements.count))
        } catch {
            let translated = PostgresStorageError.translating(error, context: location)
            if (translated as? PostgresStorageError)?.code == .unavailable { broken.withLock { $0 = true } }
            throw translated
        }
    }

    private func closed() -> PostgresStorageError { Self.closed(location) }

    private static func closed(_ location: String) -> PostgresStorageError {
        PostgresStorageError(.unavailable, "the connection to PostgreSQL closed (the server ended the session, or the network dropped)", context: location)
    }

    /// Runs one statement for its effect. One round trip.
    public func execute(_ q: PostgresQuery) throws {
        _ = try query(q)
    }
}
