import Foundation
import GlossWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The `glossd` server: a TLS listener whose connections speak the Gloss protocol.
///
/// It is a swift-service-lifecycle `Service`: on graceful shutdown it stops accepting, sends
/// GOAWAY on every connection, lets requests in flight finish (up to the drain timeout), and
/// returns.
public final class GlossServer: Service, Sendable {
    public let configuration: ServerConfiguration
    public let router: RequestRouter
    private let authenticator: Authenticator
    private let tls: NIOSSLContext
    private let logger: Logger
    private let group: any EventLoopGroup
    private let connections = Mutex<[UInt64: ServerConnection]>([:])
    private let nextID = Atomic<UInt64>(1)
    private let bound = Mutex<SocketAddress?>(nil)
    private let listening = Mutex<(any Channel)?>(nil)

    public init(
        configuration: ServerConfiguration, identity: ServerIdentity, accounts: AccountStore, corpora: CorpusRegistry,
        logger: Logger = Logger(label: "glossd"), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.configuration = configuration
        self.router = RequestRouter(accounts: accounts, corpora: corpora, broadcaster: RevisionBroadcaster())
        self.authenticator = Authenticator(accounts: accounts)
        self.tls = try NIOSSLContext(configuration: identity.serverTLSConfiguration())
        self.logger = logger
        self.group = group
    }

    /// The address the listener is bound to, once ``run()`` has started (port 0 resolved).
    public var localAddress: SocketAddress? { bound.withLock { $0 } }

    /// Live connections.
    public var connectionCount: Int { connections.withLock { $0.count } }

    public func run() async throws {
        let limits = configuration.limits
        let tls = self.tls
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(expectPreface: true, limits: limits)))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                    return try NIOAsyncChannel<Frame, WireWrite>(wrappingChannelSynchronously: channel)
                }
            }
        bound.withLock { $0 = listener.channel.localAddress }
        listening.withLock { $0 = listener.channel }
        logger.info("listening", metadata: ["address": "\(listener.channel.localAddress.map { "\($0)" } ?? "?")"])

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await listener.executeThenClose { inbound in
                    for try await channel in inbound {
                        group.addTask { await self.serve(channel) }
                    }
                }
            }
        } onGracefulShutdown: {
            Task { await self.shutdown() }
        }
    }

    private func serve(_ channel: NIOAsyncChannel<Frame, WireWrite>) async {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let address = channel.channel.remoteAddress?.ipAddress ?? "unknown"
        let connection = ServerConnection(
            id: id, address: address, router: router, authenticator: authenticator, configuration: configuration,
            logger: logger)
        let admitted = connections.withLock { open in
            guard open.count < configuration.maxConnections else { return false }
            open[id] = connection
            return true
        }
        guard admitted else {
            logger.warning("refusing a connection: too many", metadata: ["peer": "\(address)"])
            await ServerConnection.refuse(
                channel, WireError(.serverBusy, "the server has \(configuration.maxConnections) connections; try again shortly"))
            return
        }
        await connection.run(channel)
        connections.withLock { _ = $0.removeValue(forKey: id) }
    }

    /// Graceful shutdown: stop accepting, GOAWAY everywhere, wait for requests in flight
    /// (bounded by the drain timeout), then close what is left.
    public func shutdown() async {
        logger.info("draining", metadata: ["connections": "\(connectionCount)"])
        try? await listening.withLock { $0 }?.close()
        let open = connections.withLock { Array($0.values) }
        for connection in open { await connection.drain() }
        let deadline = ContinuousClock.now + configuration.drainTimeout
        while connectionCount > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let stuck = connections.withLock { Array($0.values) }
        if !stuck.isEmpty {
            logger.warning("drain timeout: closing connections with requests still running", metadata: ["connections": "\(stuck.count)"])
            for connection in stuck { connection.forceClose() }
        }
        logger.info("stopped")
    }
}
