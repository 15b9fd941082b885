import NIOPosix

/// Runs a blocking call (SQLite waits for locks and for fsync) on NIO's thread pool.
///
/// Swift's cooperative pool has as many threads as cores, two on a small server, and every
/// connection's tasks share them: a store read made inline would hold up handshakes, timers and
/// every other request behind it.
func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(body)
}
