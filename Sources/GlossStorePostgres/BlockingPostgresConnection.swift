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

    /// Runs one statement (values interpolated into `q` travel as bound parameters) and returns
    /// all its rows. One round trip. Blocking: never call it on an event loop or in async code.
    public func query(_ q: PostgresQuery) throws -> [PostgresRow] {
        // postgres-nio leaves a statement written to a connection that has already closed (the
        // server ended the session, the network dropped) unanswered for good: such a statement
        // is not sent, and the result races the connection's close, so that a dropped
        // connection is an error rather than a hang.
        guard !connection.isClosed else {
            broken.withLock { $0 = true }
            throw closed()
        }
        let started = counter.map { _ in ContinuousClock.now }
        defer { if let counter, let started { counter.add(waited: ContinuousClock.now - started) } }
        let outcome = Mutex<Result<[PostgresRow], any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let finish = { @Sendable (result: Result<[PostgresRow], any Error>) in
            let first = outcome.withLock { outcome -> Bool in
                guard outcome == nil else { return false }
                outcome = result
                return true
            }
            if first { done.signal() }
        }
        connection.query(q, logger: logger).whenComplete { finish($0.map(\.rows)) }
        let location = self.location
        connection.closeFuture.whenComplete { _ in finish(.failure(Self.closed(location))) }
        done.wait()
        do {
            return try outcome.withLock { $0! }.get()
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
