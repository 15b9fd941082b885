import Foundation
import GlossServer
import GlossStorePostgres
import Logging

// One glossd node in this process, as `glossd serve` assembles it (ServeCommand): a storage
// executor of glossd's default size, a ServerStorage (SQLite in a data directory, or
// PostgreSQL), the identity, a GlossServer on a loopback port with TLS, and on PostgreSQL the
// relay of every node's revisions to this node's subscribers.

final class BenchNode: Sendable {
    let name: String
    let server: GlossServer
    let storage: ServerStorage
    let executor: StorageExecutor
    let port: Int
    private let serverTask: Task<Void, any Error>
    private let relay: Task<Void, Never>?

    private init(
        name: String, server: GlossServer, storage: ServerStorage, executor: StorageExecutor, port: Int,
        serverTask: Task<Void, any Error>, relay: Task<Void, Never>?
    ) {
        self.name = name
        self.server = server
        self.storage = storage
        self.executor = executor
        self.port = port
        self.serverTask = serverTask
        self.relay = relay
    }

    /// glossd's storage threads for a pool of `poolSize` (`GlossdSettings.storageThreads`):
    /// one per pooled connection plus four, at least eight; the SQLite node gets as many.
    static func storageThreads(poolSize: Int) -> Int { max(8, poolSize + 4) }

    /// A node on the SQLite data directory the build role made.
    static func sqlite(name: String, data: URL, poolSize: Int) async throws -> BenchNode {
        let executor = StorageExecutor(threads: storageThreads(poolSize: poolSize))
        let storage = try await executor.run { try ServerStorage.sqlite(data: data, creating: false, executor: executor) }
        let (identity, _) = try ServerIdentity.loadOrCreate(directory: data)
        return try await start(name: name, data: data, storage: storage, identity: identity, executor: executor)
    }

    /// A node on the PostgreSQL database at `url` (several may share it); `data` is its own
    /// directory (glossd keeps its lock and `admin.token` there, nothing of the corpora).
    static func postgres(name: String, url: String, poolSize: Int, data: URL) async throws -> BenchNode {
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let executor = StorageExecutor(threads: storageThreads(poolSize: poolSize))
        let logger = quietLogger(name)
        let configuration = try PostgresStorageConfiguration(url: url, password: nil, poolSize: poolSize)
        let storage = try await executor.run { try ServerStorage.postgres(configuration, executor: executor, logger: logger) }
        guard let shared = storage.sharedIdentity else { throw BenchError("PostgreSQL storage without a shared identity") }
        let (identity, _) = try await executor.run { try ServerIdentity.loadOrCreate(store: shared, context: storage.description) }
        return try await start(name: name, data: data, storage: storage, identity: identity, executor: executor)
    }

    private static func quietLogger(_ name: String) -> Logger {
        var logger = Logger(label: "sync-bench-\(name)")
        logger.logLevel = .warning
        return logger
    }

    private static func start(
        name: String, data: URL, storage: ServerStorage, identity: ServerIdentity, executor: StorageExecutor
    ) async throws -> BenchNode {
        let logger = quietLogger(name)
        let server = try GlossServer(
            configuration: ServerConfiguration(port: 0, dataDirectory: data, maxConnections: 1024), identity: identity,
            accounts: storage.accounts, corpora: storage.corpora, logger: logger)
        let serverTask = Task { try await server.run() }
        // As glossd: on a shared database every node's revisions reach this node's subscribers.
        let relay = storage.announcer.map { announcer in
            Task { await PeerRevisionRelay(registry: storage.corpora, announcer: announcer, logger: logger).run() }
        }
        for _ in 0..<500 where server.localAddress == nil { try await Task.sleep(for: .milliseconds(10)) }
        guard let port = server.localAddress?.port else {
            serverTask.cancel()
            relay?.cancel()
            throw BenchError("node \(name) did not start")
        }
        log("node \(name) (\(storage.description)) listening on 127.0.0.1:\(port)")
        return BenchNode(
            name: name, server: server, storage: storage, executor: executor, port: port, serverTask: serverTask, relay: relay)
    }

    /// Drains the server, stops the relay, closes the database's connections and the threads.
    func stop() async {
        await server.shutdown()
        _ = try? await serverTask.value
        relay?.cancel()
        await storage.closeAndWait()
        try? await executor.shutdown()
    }
}
