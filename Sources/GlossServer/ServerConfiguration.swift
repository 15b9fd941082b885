import Foundation
import GlossWire

/// How a `glossd` instance runs: where, with which limits and timeouts.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (tests).
    public var port: Int
    public var dataDirectory: URL
    public var limits: WireLimits
    public var handshakeTimeout: Duration
    public var idleTimeout: Duration
    public var maxConnections: Int
    /// How long a graceful shutdown waits for requests in flight before closing anyway.
    public var drainTimeout: Duration
    /// Bytes per second a frame in progress must keep arriving at (slow-loris protection); 0 disables.
    public var minimumTransferRate: Int
    /// Bytes all connections together may hold in unfinished messages; past it a request
    /// whose frame would cross it is refused `server-busy` (retryable).
    public var maxBufferedBytes: Int

    public init(
        host: String = "127.0.0.1", port: Int = 7743, dataDirectory: URL, limits: WireLimits = .default,
        handshakeTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(300), maxConnections: Int = 1024,
        drainTimeout: Duration = .seconds(30), minimumTransferRate: Int = 1024, maxBufferedBytes: Int = 256 << 20
    ) {
        self.minimumTransferRate = minimumTransferRate
        self.maxBufferedBytes = maxBufferedBytes
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.limits = limits
        self.handshakeTimeout = handshakeTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.drainTimeout = drainTimeout
    }
}
