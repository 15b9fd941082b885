import NIOPosix

/// Where glossd runs every call that may block on its database: one policy for the whole server.
///
/// The store's calls are synchronous (``GlossStore/CorpusBackend``): SQLite waits for locks and
/// fsync, and the PostgreSQL backend waits on the network for each statement. None of them may
/// run on an event loop (it would stall every connection on that loop) or on Swift's
/// cooperative pool (as many threads as cores, two on a small server, shared by every
/// connection's tasks: a store read made inline would hold up handshakes, timers and every
/// other request). So they run here, on threads of their own:
/// - request handlers, authentication, health checks and metrics ``run(_:)`` a body and await it;
/// - a corpus's group committer ``submit(_:)``s its drain loop, which holds one thread while
///   pushes keep arriving.
///
/// Size it to the database: a thread per connection the backend may open, so that each one
/// can wait on its own statement, plus a few for SQLite's readers.
public final class StorageExecutor: Sendable {
    private let pool: NIOThreadPool
    /// The number of threads.
    public let threads: Int

    /// The executor tests and tools share when they do not configure one: started once, for the
    /// whole process, so that no test leaks threads of its own. Many servers share it there (a
    /// test process runs dozens at once), each committer's drain holding a thread while its
    /// pushes keep coming: idle threads cost nothing, a starved health check fails its probe.
    public static let shared = StorageExecutor(threads: 64)

    /// Starts `threads` threads (at least 2).
    public init(threads: Int) {
        self.threads = max(2, threads)
        pool = NIOThreadPool(numberOfThreads: self.threads)
        pool.start()
    }

    /// Runs a blocking body on one of the executor's threads and returns its result.
    ///
    /// - Throws: what `body` throws, or NIO's `ioOnClosedChannel` once the executor is shut down.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    /// Runs a blocking body on one of the executor's threads, without waiting for it.
    public func submit(_ body: @escaping @Sendable () -> Void) {
        pool.submit { state in
            // Cancelled only when the pool shuts down: work nobody waits for any more.
            guard case .active = state else { return }
            body()
        }
    }

    /// Waits for bodies already running, then stops the threads.
    public func shutdown() async throws {
        try await pool.shutdownGracefully()
    }
}
