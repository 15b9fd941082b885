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
    /// The TLS context new connections get; replaced by ``reloadIdentity(_:)`` (SIGHUP), while
    /// open connections keep the one they started with.
    private let tls: Mutex<(context: NIOSSLContext, fingerprint: CertificateFingerprint)>
    private let clientAuthentication: ClientAuthentication
    private let logger: Logger
    private let group: any EventLoopGroup
    /// Where connections and requests are counted; nil records nothing.
    public let metrics: ServerMetrics?
    /// Per-user and per-address limits shared by every connection.
    public let budgets: ClientBudgets?
    /// Bytes in unfinished messages, all connections together (`limits.max_buffered_bytes`).
    public let bufferBudget: SharedByteBudget
    private let connections = Mutex<[UInt64: ServerConnection]>([:])
    private let nextID = Atomic<UInt64>(1)
    private let bound = Mutex<SocketAddress?>(nil)
    private let listening = Mutex<(any Channel)?>(nil)

    public init(
        configuration: ServerConfiguration, identity: ServerIdentity, accounts: AccountStore, corpora: CorpusRegistry,
        logger: Logger = Logger(label: "glossd"), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        clientAuthentication: ClientAuthentication = .none, metrics: ServerMetrics? = nil,
        budgets: ClientBudgets? = ClientBudgets(limits: .init())
    ) throws {
        self.budgets = budgets
        self.configuration = configuration
        self.bufferBudget = SharedByteBudget(total: configuration.maxBufferedBytes)
        self.router = RequestRouter(accounts: accounts, corpora: corpora)
        self.authenticator = Authenticator(accounts: accounts, executor: corpora.executor)
        self.clientAuthentication = clientAuthentication
        self.tls = Mutex(
            (try Self.context(identity, clientAuthentication: clientAuthentication), identity.fingerprint))
        self.logger = logger
        self.group = group
        self.metrics = metrics
    }

    static func context(_ identity: ServerIdentity, clientAuthentication: ClientAuthentication) throws -> NIOSSLContext {
        var configuration = identity.serverTLSConfiguration()
        clientAuthentication.apply(to: &configuration)
        return try NIOSSLContext(configuration: configuration)
    }

    /// Presents a new certificate and key to connections accepted from now on (SIGHUP after a
    /// certificate renewal); connections already open are not dropped.
    public func reloadIdentity(_ identity: ServerIdentity) throws {
        let context = try Self.context(identity, clientAuthentication: clientAuthentication)
        let old = tls.withLock { current in
            defer { current = (context, identity.fingerprint) }
            return current.fingerprint
        }
        logger.notice(
            "reloaded the TLS certificate",
            metadata: ["fingerprint": "\(identity.fingerprint)", "previous": "\(old)"])
    }

    /// The fingerprint of the certificate new connections see.
    public var fingerprint: CertificateFingerprint { tls.withLock { $0.fingerprint } }

    /// The address the listener is bound to, once ``run()`` has started (port 0 resolved).
    public var localAddress: SocketAddress? { bound.withLock { $0 } }

    /// Live connections.
    public var connectionCount: Int { connections.withLock { $0.count } }

    /// Listens and serves until graceful shutdown.
    ///
    /// - Throws: ``ListenError`` when the address cannot be bound (in use, not local, no
    ///   permission).
    public func run() async throws {
        let limits = configuration.limits
        let clientAuthentication = self.clientAuthentication
        let minimumRate = configuration.minimumTransferRate
        let metrics = self.metrics
        // A clash names the address and the flag, not just the socket call that failed.
        let listener = try await ListenError.naming(host: configuration.host, port: configuration.port, setting: "--listen") {
            try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let context = self.tls.withLock { $0.context }
                        let handler =
                            clientAuthentication.verificationCallback.map { NIOSSLServerHandler(context: context, customVerificationCallback: $0) }
                            ?? NIOSSLServerHandler(context: context)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        // Per connection: what its pipeline saw of the TLS handshake, for the metrics.
                        let tlsProbe = metrics.map { _ in TLSHandshakeProbe() }
                        if let metrics, let tlsProbe {
                            try channel.pipeline.syncOperations.addHandler(ConnectionMetricsHandler(metrics: metrics, probe: tlsProbe))
                        }
                        if minimumRate > 0 {
                            try channel.pipeline.syncOperations.addHandler(SlowTransferGuard(minimumRate: minimumRate))
                        }
                        // Small until the client authenticates: an unauthenticated peer pins little.
                        let payloadCap = FramePayloadCap(min(limits.maxAuthMessageBytes, limits.maxFramePayload))
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(FrameDecoder(expectPreface: true, limits: limits, cap: payloadCap)))
                        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                        let asyncChannel = try NIOAsyncChannel<Frame, WireWrite>(
                            wrappingChannelSynchronously: channel, configuration: Self.channelConfiguration)
                        return (asyncChannel, ConnectionExtras(tlsProbe: tlsProbe, payloadCap: payloadCap))
                    }
                }
        }
        bound.withLock { $0 = listener.channel.localAddress }
        listening.withLock { $0 = listener.channel }
        logger.info("listening", metadata: ["address": "\(listener.channel.localAddress.map { "\($0)" } ?? "?")"])

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await listener.executeThenClose { inbound in
                    for try await (channel, extras) in inbound {
                        group.addTask { await self.serve(channel, extras) }
                    }
                }
            }
        } onGracefulShutdown: {
            Task { await self.shutdown() }
        }
    }

    /// What a connection's pipeline hands to its ``ServerConnection``.
    private struct ConnectionExtras: Sendable {
        var tlsProbe: TLSHandshakeProbe?
        var payloadCap: FramePayloadCap
    }

    /// Inbound frames queued for a connection's read loop: a few, so that a client whose
    /// answers back up (it does not read) pins a few frames, not dozens.
    static let channelConfiguration = NIOAsyncChannel<Frame, WireWrite>.Configuration(
        backPressureStrategy: .init(lowWatermark: 1, highWatermark: 2))

    private func serve(_ channel: NIOAsyncChannel<Frame, WireWrite>, _ extras: ConnectionExtras) async {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let address = channel.channel.remoteAddress?.ipAddress ?? "unknown"
        let connection = ServerConnection(
            id: id, address: address, router: router, authenticator: authenticator, configuration: configuration,
            logger: logger, metrics: metrics, tlsProbe: extras.tlsProbe, budgets: budgets, payloadCap: extras.payloadCap,
            bufferBudget: bufferBudget)
        let admitted = connections.withLock { open in
            guard open.count < configuration.maxConnections else { return false }
            open[id] = connection
            return true
        }
        guard admitted else {
            logger.warning("refusing a connection: too many", metadata: ["peer": "\(address)"])
            metrics?.connection(.refusedBusy)
            await ServerConnection.refuse(
                channel, WireError(.serverBusy, "the server has \(configuration.maxConnections) connections; try again shortly"))
            return
        }
        await connection.run(channel)
        connections.withLock { _ = $0.removeValue(forKey: id) }
    }

    /// How long the `shutting-down` answers sent at the drain timeout get to be written before
    /// the connections still open are closed by force.
    static let finalFramesGrace: Duration = .seconds(2)

    /// Graceful shutdown: stop accepting, GOAWAY everywhere, wait for requests in flight
    /// (bounded by the drain timeout), answer those still running `shutting-down`, then close.
    public func shutdown() async {
        logger.info("draining", metadata: ["connections": "\(connectionCount)"])
        try? await listening.withLock { $0 }?.close()
        let open = connections.withLock { Array($0.values) }
        for connection in open { await connection.drain() }
        // Subscriptions never finish by themselves: end them, so that watchers move on now
        // rather than at the drain timeout.
        router.broadcaster.finishAll()
        let deadline = ContinuousClock.now + configuration.drainTimeout
        while connectionCount > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let stuck = connections.withLock { Array($0.values) }
        if !stuck.isEmpty {
            // Every request still owes one final frame: answer the ones still running
            // `shutting-down`, and give those frames a moment to go out before closing by force
            // (a client that stopped reading would hold them forever).
            logger.warning("drain timeout: answering requests still running", metadata: ["connections": "\(stuck.count)"])
            let answering = Task {
                await withTaskGroup(of: Void.self) { group in
                    for connection in stuck { group.addTask { await connection.drainTimedOut() } }
                }
            }
            let deadline = ContinuousClock.now + Self.finalFramesGrace
            while connectionCount > 0 && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            answering.cancel()
            for connection in connections.withLock({ Array($0.values) }) { connection.forceClose() }
        }
        // Nothing writes any more: leave the data directory as the stores alone, no WAL.
        _ = try? await router.corpora.executor.run { [router] in
            router.corpora.compactJournals()
            router.accounts.compactJournal()
        }
        logger.info("stopped")
    }
}
