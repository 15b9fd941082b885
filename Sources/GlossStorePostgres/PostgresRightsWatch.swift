import Logging
import PostgresNIO
import Synchronization

/// Keeps the catalog's rights generation in memory while PostgreSQL confirms, by a `LISTEN`,
/// that no change of rights has committed since it was read.
///
/// Every request checks the generation (``PostgresServerCatalog/rightsGeneration()``): on
/// PostgreSQL a read is a round trip and a statement for the database, once per push. The
/// bump triggers also `NOTIFY gloss_rights` in the transaction of the change, so the
/// notification goes out when it commits, on whichever node. While this node listens, a value
/// it read stays good until a notification arrives; a notification during the read, or a lost
/// listening connection, drops it, and reads go to the database again until listening resumes.
///
/// The price is the notification's delay: a change committed on another node holds here once
/// its notification arrives (milliseconds), not at the very next statement.
final class PostgresRightsWatch: Sendable {
    /// The notification channel (``PostgresServerCatalogSchema``'s bump function notifies it).
    static let channel = "gloss_rights"

    private struct State {
        var listening = false
        /// Moves on every notification and every change of `listening`: a value read across a
        /// move may be stale.
        var epoch = 0
        var value: Int64?
    }

    private let state = Mutex(State())

    /// Whether a `LISTEN` is in place, so values are kept.
    var isListening: Bool { state.withLock { $0.listening } }

    /// The generation, from memory if it holds, else from `read`.
    func generation(_ read: () throws -> Int64) throws -> Int64 {
        let (cached, epoch) = state.withLock { ($0.listening ? $0.value : nil, $0.epoch) }
        if let cached { return cached }
        let value = try read()
        state.withLock { state in
            if state.listening && state.epoch == epoch { state.value = value }
        }
        return value
    }

    private func moved(listening: Bool) {
        state.withLock { state in
            state.listening = listening
            state.epoch &+= 1
            state.value = nil
        }
    }

    /// Listens until cancelled or the pool shuts down, on one connection of `database`'s pool, listening again after
    /// `retryDelay` when the connection is lost.
    func run(database: PostgresConnectionPool, logger: Logger, retryDelay: Duration) async {
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    let notifications = try await connection.listen(Self.channel)
                    moved(listening: true)
                    for try await _ in notifications { moved(listening: true) }
                }
            } catch is CancellationError {
                break
            } catch {
                // The pool shutting down ends the watch as cancelling it does: no warning.
                if Task.isCancelled || database.isShutDown { break }
                logger.warning(
                    "lost the database's rights notifications; reading the rights generation each time until listening again",
                    metadata: [
                        "error": "\(PostgresStorageError.translating(error, context: "listening for rights changes"))",
                        "database": "\(database.configuration.location)"])
            }
            moved(listening: false)
            try? await Task.sleep(for: retryDelay)
        }
        moved(listening: false)
    }
}
