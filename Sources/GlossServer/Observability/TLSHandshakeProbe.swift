import Synchronization

/// Whether a connection's TLS handshake failed: set in its pipeline by
/// ``ConnectionMetricsHandler``, read by the connection when it closes, to count it as
/// `tls_failed` rather than `handshake_failed`.
final class TLSHandshakeProbe: Sendable {
    private let failed = Mutex(false)

    init() {}

    func handshakeFailed() {
        failed.withLock { $0 = true }
    }

    var didFail: Bool { failed.withLock { $0 } }
}
