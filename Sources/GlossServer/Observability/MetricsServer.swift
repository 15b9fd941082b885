import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization

/// The local HTTP/1.1 endpoint of `glossd`'s metrics and health, a swift-service-lifecycle
/// `Service` to run next to ``GlossServer``.
///
/// - `GET /metrics`: the registry in the Prometheus text format (`text/plain; version=0.0.4`),
///   after `beforeScrape` has run (to refresh gauges that are read rather than counted, like
///   ``ServerMetrics/refreshStoreGauges(corpora:)``).
/// - `GET /health`, `GET /ready`: 200 `{"status":"ok", …}` or 503 `{"status":"unavailable",
///   "reason": …}`, as the `health` closure says.
/// - 404 for other paths, 405 for other methods; HEAD is answered like GET without the body.
///
/// Nothing runs on the event loop but HTTP parsing: the closures run as tasks. Connections idle
/// for ``idleTimeout`` are closed; on graceful shutdown the listener and every connection close.
///
/// ```swift
/// let registry = PrometheusCollectorRegistry()
/// let metrics = ServerMetrics(registry: registry)
/// let server = try GlossServer(..., metrics: metrics)
/// let endpoint = MetricsServer(
///     host: "127.0.0.1", port: 9743, registry: registry,
///     health: { await server.healthStatus() },
///     beforeScrape: { await metrics.refreshStoreGauges(corpora: server.router.corpora) })
/// ```
public final class MetricsServer: Service, Sendable {
    public let host: String
    /// 0 picks a free port (tests); ``localAddress`` tells which.
    public let port: Int
    public let idleTimeout: Duration
    private let registry: PrometheusCollectorRegistry
    private let health: @Sendable () async -> HealthStatus
    private let beforeScrape: @Sendable () async -> Void
    private let logger: Logger
    private let group: any EventLoopGroup
    private let bound = Mutex<SocketAddress?>(nil)
    private let state = Mutex(State())

    private struct State {
        var listener: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var stopped = false
    }

    public init(
        host: String = "127.0.0.1", port: Int = 9743, registry: PrometheusCollectorRegistry,
        idleTimeout: Duration = .seconds(60), logger: Logger = Logger(label: "glossd.metrics"),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        health: @escaping @Sendable () async -> HealthStatus,
        beforeScrape: @escaping @Sendable () async -> Void = {}
    ) {
        self.host = host
        self.port = port
        self.registry = registry
        self.idleTimeout = idleTimeout
        self.logger = logger
        self.group = group
        self.health = health
        self.beforeScrape = beforeScrape
    }

    /// The endpoint `configuration` asks for, or nil when it disables metrics.
    public convenience init?(
        configuration: ObservabilityConfiguration, registry: PrometheusCollectorRegistry,
        logger: Logger = Logger(label: "glossd.metrics"), health: @escaping @Sendable () async -> HealthStatus,
        beforeScrape: @escaping @Sendable () async -> Void = {}
    ) {
        guard let port = configuration.metricsPort else { return nil }
        self.init(
            host: configuration.metricsHost, port: port, registry: registry, logger: logger, health: health,
            beforeScrape: beforeScrape)
    }

    /// The address the listener is bound to, once ``run()`` has started (port 0 resolved).
    public var localAddress: SocketAddress? { bound.withLock { $0 } }

    /// Listens and serves until stopped or graceful shutdown.
    ///
    /// - Throws: ``ObservabilityError`` `bindFailed` when the address cannot be bound, its
    ///   message as ``ListenError``'s: "cannot listen for metrics on HOST:PORT: address already
    ///   in use; …".
    public func run() async throws {
        let responder = makeResponder()
        let idle = TimeAmount.nanoseconds(Int64(idleTimeout.components.seconds) * 1_000_000_000
            + idleTimeout.components.attoseconds / 1_000_000_000)
        let listener: any Channel
        do {
            listener = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle))
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                            withPipeliningAssistance: true, withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(responder: responder))
                        self.track(channel)
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            // The sync server's listener words it the same way (naming the address and the flag);
            // the type stays ObservabilityError, which callers of this endpoint already catch.
            let named = ListenError.binding(error, host: host, port: port, what: "for metrics ", setting: "--metrics-listen")
            throw ObservabilityError(.bindFailed, named.message, context: named.context)
        }
        bound.withLock { $0 = listener.localAddress }
        let stoppedEarly = state.withLock { s in
            s.listener = listener
            return s.stopped
        }
        if stoppedEarly { stop() }
        logger.info("metrics listening", metadata: ["address": "\(listener.localAddress.map { "\($0)" } ?? "?")"])

        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await listener.closeFuture.get()
            } onCancel: {
                self.stop()
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// Closes the listener and every open connection; ``run()`` then returns.
    public func stop() {
        let (listener, connections) = state.withLock { s in
            s.stopped = true
            return (s.listener, Array(s.connections.values))
        }
        listener?.close(promise: nil)
        for connection in connections { connection.close(promise: nil) }
    }

    /// Keeps `channel` until it closes, so that ``stop()`` can close it: an idle keep-alive
    /// connection would otherwise outlive the service by up to the idle timeout.
    private func track(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        let stopped = state.withLock { s in
            if !s.stopped { s.connections[key] = channel }
            return s.stopped
        }
        if stopped {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { _ in
            _ = self.state.withLock { $0.connections.removeValue(forKey: key) }
        }
    }

    private func makeResponder() -> MetricsHTTPHandler.Responder {
        { [registry, health, beforeScrape] route, eventLoop in
            let promise = eventLoop.makePromise(of: MetricsHTTPResponse.self)
            promise.completeWithTask {
                switch route {
                case .metrics:
                    await beforeScrape()
                    return .metrics(registry.emitToBuffer())
                case .health:
                    return .health(await health())
                case .notFound:
                    return .notFound
                case .methodNotAllowed:
                    return .methodNotAllowed
                }
            }
            return promise.futureResult
        }
    }
}
