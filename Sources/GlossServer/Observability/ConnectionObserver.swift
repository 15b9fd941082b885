import GlossWire
import Logging
import NIOSSL
import Synchronization

/// What one connection reports about itself: a short id in every log line, request logs with
/// `connection/request` ids, and the connection and request metrics.
///
/// The connection calls it at a handful of points (opened, a message received, a request
/// started or finished, a read failed, closed); everything about what to count and log is
/// here, so the connection's own code stays about the protocol.
final class ConnectionObserver: Sendable {
    /// Eight hex digits, random: tells connections apart in logs across restarts and nodes,
    /// where a counter would repeat.
    let id: String
    /// The connection's logger: `connection` and `peer` metadata.
    let logger: Logger
    let metrics: ServerMetrics?
    /// The pipeline's view of the TLS handshake, when the server installed one.
    private let tls: TLSHandshakeProbe?
    private let state = Mutex(State())

    private struct State {
        var authenticated = false
        var tlsFailed = false
        var closed = false
    }

    init(
        logger: Logger, peer: String, metrics: ServerMetrics?, tls: TLSHandshakeProbe? = nil,
        id: String = ConnectionObserver.makeID()
    ) {
        self.id = id
        var logger = logger
        logger[metadataKey: "connection"] = "\(id)"
        logger[metadataKey: "peer"] = "\(peer)"
        self.logger = logger
        self.metrics = metrics
        self.tls = tls
    }

    static func makeID() -> String {
        let hex = String(UInt32.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    // MARK: Connection

    /// The connection was admitted and starts serving.
    func opened() {
        metrics?.connectionsOpen.increment()
    }

    /// Reading (or the TLS handshake) failed with `error`. The TLS probe, when there is one,
    /// sees handshake failures this may miss.
    func readFailed(_ error: any Error) {
        if case NIOSSLError.handshakeFailed = error {
            state.withLock { $0.tlsFailed = true }
        }
    }

    /// The connection is closed: counts how it ended, if it never got as far as authenticating.
    func closed() {
        let tlsFailed = tls?.didFail ?? false
        let (first, outcome) = state.withLock { s -> (Bool, ServerMetrics.ConnectionOutcome?) in
            defer { s.closed = true }
            // An authenticated connection was counted as accepted when it authenticated.
            return (!s.closed, s.authenticated ? nil : s.tlsFailed || tlsFailed ? .tlsFailed : .handshakeFailed)
        }
        guard first else { return }
        metrics?.connectionsOpen.decrement()
        if let outcome { metrics?.connection(outcome) }
    }

    /// The connection authenticated: it counts as accepted.
    func authenticated() {
        let first = state.withLock { s in
            defer { s.authenticated = true }
            return !s.authenticated
        }
        if first { metrics?.connection(.accepted) }
    }

    // MARK: Requests

    /// Sees each message with the action the state machine chose, to count what never becomes
    /// a request task: pings, and requests refused on arrival (too many in flight, draining).
    func received(_ message: WireMessage, action: ServerConnectionStateMachine.Action) {
        switch action {
        case .sendPong:
            metrics?.request(type: RequestKind.ping.rawValue, outcome: "ok")
        case .failRequest(let requestID, let error):
            if case .request(_, let request) = message {
                refused(requestID, error, kind: RequestKind(request))
            } else {
                refused(requestID, error)
            }
        default:
            break
        }
    }

    /// A request was refused: on arrival (too many in flight, draining), or while its frames
    /// were arriving (the unfinished-message budgets), when its kind is not known yet.
    func refused(_ requestID: UInt32, _ error: WireError, kind: RequestKind = .unknown) {
        metrics?.request(type: kind.rawValue, outcome: error.code.rawValue)
        logger.info(
            "request refused",
            metadata: [
                "request": "\(requestReference(requestID))", "type": "\(kind.rawValue)",
                "outcome": "\(error.code)", "reason": "\(error.message)",
            ])
    }

    /// A request starts: logs it at debug and returns its trace, to finish with the final message.
    func started(_ requestID: UInt32, _ request: Gloss_V1_Request, user: String?) -> RequestTrace {
        let kind = RequestKind(request)
        let corpus = RequestKind.corpus(of: request)
        var logger = logger
        logger[metadataKey: "request"] = "\(requestReference(requestID))"
        logger[metadataKey: "type"] = "\(kind.rawValue)"
        if let user { logger[metadataKey: "user"] = "\(user)" }
        if let corpus { logger[metadataKey: "corpus"] = "\(corpus)" }
        logger.debug("request started")
        return RequestTrace(kind: kind, corpus: corpus, logger: logger, observer: self)
    }

    /// An auth request starts (its token stays out of the logs).
    func startedAuthentication(_ requestID: UInt32) -> RequestTrace {
        var logger = logger
        logger[metadataKey: "request"] = "\(requestReference(requestID))"
        logger[metadataKey: "type"] = "\(RequestKind.auth.rawValue)"
        logger.debug("request started")
        return RequestTrace(kind: .auth, corpus: nil, logger: logger, observer: self)
    }

    /// `connection/request`, the id of a request in logs.
    func requestReference(_ requestID: UInt32) -> String { "\(id)/\(requestID)" }
}
