import Logging
import NIOPosix
import PostgresNIO
import Synchronization

/// One PostgreSQL database shared by every glossd node: a pool of connections (postgres-nio's
/// `PostgresClient`) and a blocking API over it for the storage code, which runs on threads
/// that may block (the storage thread pool), never on an event loop or the cooperative pool.
///
/// ``start()`` it once, ``shutdown()`` it once; calls before or after throw
/// ``PostgresStorageError/Code/notRunning``.
public final class PostgresConnectionPool: Sendable {
    /// Where it is and how to reach it.
    public let configuration: PostgresStorageConfiguration
    /// The pool, for async users (LISTEN/NOTIFY). Runs once ``start()`` was called.
    public let client: PostgresClient
    let logger: Logger

    private enum State {
        case idle
        case running(Task<Void, Never>)
        case shutDown
    }

    private let state = Mutex(State.idle)

    /// Advisory lock classes (the first key of `pg_advisory_xact_lock(int, int)`): Gloss's own,
    /// so that they never meet another application's locks on a shared database.
    public enum LockClass {
        /// Schema migrations (second key 0).
        public static let migrations: Int32 = 0x476C_7300  // "Gls\0"
        /// Appends to one corpus (second key: its storage key).
        public static let corpusWrites: Int32 = 0x476C_7301  // "Gls\1"
    }

    /// The event loops of every pool's connections: threads of their own, apart from the
    /// process's shared ones that serve Gloss clients. On those, a statement's answer waited
    /// behind the TLS and protocol work of every client whose frames arrived with it, and a
    /// group commit makes several statements one after the other while holding its corpus's
    /// lock. Each thread is idle but for the answers it reads.
    static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: max(1, System.coreCount / 2))

    /// A database at `configuration`; nothing connects before ``start()``.
    public init(configuration: PostgresStorageConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.client = PostgresClient(
            configuration: configuration.clientConfiguration, eventLoopGroup: Self.eventLoops, backgroundLogger: logger)
    }

    /// Begins running the pool (in a task of its own, on a thread outside the cooperative pool);
    /// connections open as they are needed. Calling it again does nothing.
    public func start() {
        state.withLock { state in
            guard case .idle = state else { return }
            let client = self.client
            state = .running(Task(executorPreference: PostgresTaskExecutor.shared) { await client.run() })
        }
    }

    /// Ends the pool: connections close, and later calls throw ``PostgresStorageError/Code/notRunning``.
    /// Work under way may fail with ``PostgresStorageError/Code/unavailable``.
    public func shutdown() {
        let task = state.withLock { state -> Task<Void, Never>? in
            defer { state = .shutDown }
            if case .running(let task) = state { return task }
            return nil
        }
        task?.cancel()
    }

    /// ``shutdown()``, then waits until the pool has stopped and closed its connections (for a
    /// graceful exit; async, so it never blocks a thread).
    public func shutdownAndWait() async {
        let task = state.withLock { state -> Task<Void, Never>? in
            if case .running(let task) = state { return task }
            return nil
        }
        shutdown()
        await task?.value
    }

    /// Whether ``shutdown()`` was called: nothing leased from the pool works any more.
    public var isShutDown: Bool {
        state.withLock { state in
            if case .shutDown = state { return true }
            return false
        }
    }

    private func requireRunning() throws {
        let running = state.withLock { state -> Bool in
            if case .running = state { return true }
            return false
        }
        guard running else {
            throw PostgresStorageError(
                .notRunning, "the PostgreSQL pool is not running (start() not called, or shut down)",
                context: configuration.location)
        }
    }

    /// Runs `body` on a connection leased from the pool, and gives it back after. Blocking; call
    /// from a thread that may block. Throws ``PostgresStorageError/Code/unavailable`` when no
    /// connection comes within the configuration's `leaseTimeout` (the database down or
    /// unreachable, or every pooled connection busy).
    public func withConnection<T>(counting counter: PostgresStatementCounter? = nil, _ body: (BlockingPostgresConnection) throws -> T)
        throws -> T
    {
        // Blocking an event loop would stall every connection it serves, this one's included.
        precondition(
            MultiThreadedEventLoopGroup.currentEventLoop == nil,
            "PostgresConnectionPool blocks its caller: call it from a storage thread, not on an event loop")
        try requireRunning()
        // The pool learns of a connection's end a moment after it happens: a connection that
        // just dropped can come back from it once or twice. Give those back and lease again.
        var (connection, handoff) = try lease()
        var attempts = 1
        while connection.isClosed && attempts <= configuration.poolSize {
            handoff.release()
            (connection, handoff) = try lease()
            attempts += 1
        }
        let blocking = BlockingPostgresConnection(
            connection: connection, logger: logger, location: configuration.location, counter: counter)
        defer {
            blocking.retireIfBroken()
            handoff.release()
        }
        return try body(blocking)
    }

    /// Leases a connection through a task (the pool is async) and waits for it on this thread.
    /// The returned handoff gives it back (``ConnectionHandoff/release()``).
    private func lease() throws -> (PostgresConnection, ConnectionHandoff) {
        let handoff = ConnectionHandoff()
        let client = self.client
        let lease = Task(executorPreference: PostgresTaskExecutor.shared) {
            defer { handoff.taskFinished() }
            do {
                try await client.withConnection { connection in
                    guard handoff.deliver(connection) else { return }
                    await handoff.released()
                }
            } catch {
                handoff.fail(error)
            }
        }
        do {
            if let delivered = try handoff.receive(timeout: configuration.leaseTimeout) {
                return (delivered, handoff)
            }
            if handoff.abandon() {
                // It arrived just as the wait ended: the semaphore is (about to be) signalled.
                guard let late = try handoff.receive(timeout: .seconds(5)) else {
                    preconditionFailure("a delivered connection did not signal its arrival")
                }
                return (late, handoff)
            }
            lease.cancel()
            throw PostgresStorageError(
                .unavailable,
                "no PostgreSQL connection within \(configuration.leaseTimeout): the database is down or unreachable, "
                    + "or all \(configuration.poolSize) pooled connections are busy",
                context: configuration.location)
        } catch {
            throw PostgresStorageError.translating(error, context: configuration.location)
        }
    }

    /// Runs `body` in one transaction (`BEGIN` … `COMMIT`, `ROLLBACK` when it throws) on one
    /// leased connection, and returns once PostgreSQL has committed it. Blocking.
    ///
    /// When the connection drops during the `COMMIT` (``PostgresStorageError/Code/unavailable``)
    /// the transaction may or may not have committed: retry only work that is idempotent (an
    /// append is, by its changeset id).
    /// - Parameters:
    ///   - isolation: READ COMMITTED (the default) or REPEATABLE READ (one snapshot for all reads).
    ///   - readOnly: refuse writes (lets PostgreSQL skip work for snapshot reads).
    ///   - counter: counts the statements sent, `BEGIN` and `COMMIT` included.
    public func transaction<T>(
        isolation: PostgresIsolation = .readCommitted, readOnly: Bool = false, counting counter: PostgresStatementCounter? = nil,
        _ body: (BlockingPostgresConnection) throws -> T
    ) throws -> T {
        try withConnection(counting: counter) { connection in
            // With the body's first statement: BEGIN answers nothing worth a wait of its own.
            connection.sendWithNext(
                PostgresQuery(unsafeSQL: "BEGIN ISOLATION LEVEL \(isolation.rawValue)" + (readOnly ? " READ ONLY" : "")))
            let result: T
            do {
                result = try body(connection)
            } catch {
                // A connection that dropped rolls back by itself; the body's error is what matters.
                try? connection.execute("ROLLBACK")
                throw error
            }
            try connection.execute("COMMIT")
            return result
        }
    }

    /// Brings `component`'s tables up to the newest of `migrations`, each step in a transaction
    /// of its own, recorded in `gloss_schema_migrations`. Nodes starting together take turns
    /// (an advisory lock), so every step runs once. Throws ``PostgresStorageError/Code/newerSchema``
    /// when the database is at a version newer than any of `migrations`: a newer glossd wrote it.
    public func migrate(component: String, _ migrations: [PostgresMigration]) throws {
        let steps = migrations.sorted { $0.version < $1.version }
        let known = steps.last?.version ?? 0
        while true {
            let applied = try transaction { connection -> Bool in
                try connection.execute("SELECT pg_advisory_xact_lock(\(LockClass.migrations), 0)")
                // Under the lock, so that two nodes creating it at once do not collide.
                try connection.execute(
                    """
                    CREATE TABLE IF NOT EXISTS gloss_schema_migrations(
                        component text NOT NULL, version integer NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY(component, version))
                    """)
                let rows = try connection.query(
                    "SELECT COALESCE(MAX(version), 0) FROM gloss_schema_migrations WHERE component = \(component)")
                let current = try rows.first?.decode(Int.self) ?? 0
                guard current <= known else {
                    throw PostgresStorageError(
                        .newerSchema,
                        "the database's \(component) schema is at version \(current), but this glossd knows versions up to "
                            + "\(known): a newer glossd wrote it; run that version (or newer) instead",
                        context: configuration.location)
                }
                guard let next = steps.first(where: { $0.version > current }) else { return false }
                logger.info(
                    "applying a schema migration",
                    metadata: ["component": "\(component)", "version": "\(next.version)", "summary": "\(next.summary)"])
                try next.apply(connection)
                try connection.execute(
                    "INSERT INTO gloss_schema_migrations(component, version) VALUES (\(component), \(next.version))")
                return true
            }
            if !applied { return }
        }
    }

    /// The schema version `component` is at in the database (0: none applied).
    public func schemaVersion(component: String) throws -> Int {
        try withConnection { connection in
            let exists = try connection.query("SELECT to_regclass('gloss_schema_migrations') IS NOT NULL")
            guard try exists.first?.decode(Bool.self) == true else { return 0 }
            let rows = try connection.query(
                "SELECT COALESCE(MAX(version), 0) FROM gloss_schema_migrations WHERE component = \(component)")
            return try rows.first?.decode(Int.self) ?? 0
        }
    }
}
