import GlossWire
import Logging

/// One request's log context and clock, from its start to its final message.
struct RequestTrace: Sendable {
    let kind: RequestKind
    let corpus: String?
    let logger: Logger
    let observer: ConnectionObserver
    let start = ContinuousClock.now

    /// The final RESPONSE or ERROR was written: counts the request, times a push, and logs
    /// the outcome at info.
    func finished(_ final: WireMessage) {
        let outcome = RequestKind.outcome(of: final)
        let elapsed = ContinuousClock.now - start
        if let metrics = observer.metrics {
            metrics.request(type: kind.rawValue, outcome: outcome)
            // A push is acknowledged once durable: accepted, or found already accepted.
            if kind == .push && (outcome == "ok" || outcome == "duplicate") { metrics.pushDuration.record(duration: elapsed) }
            if outcome == "ok", let corpus { metrics.observed(corpus: corpus) }
        }
        var metadata: Logger.Metadata = ["outcome": "\(outcome)", "duration_ms": "\(Self.milliseconds(elapsed))"]
        if case .error(_, let error) = final { metadata["reason"] = "\(error.message)" }
        logger.info("request finished", metadata: metadata)
    }

    /// The token check of an auth request is done.
    func authenticated(_ result: Result<String, WireError>) {
        let elapsed = ContinuousClock.now - start
        var metadata: Logger.Metadata = ["duration_ms": "\(Self.milliseconds(elapsed))"]
        switch result {
        case .success(let user):
            observer.authenticated()
            observer.metrics?.request(type: kind.rawValue, outcome: "ok")
            metadata["outcome"] = "ok"
            metadata["user"] = "\(user)"
        case .failure(let error):
            observer.metrics?.request(type: kind.rawValue, outcome: error.code.rawValue)
            if error.code == .authFailed || error.code == .rateLimited {
                observer.metrics?.authFailure(reason: error.code.rawValue)
            }
            metadata["outcome"] = "\(error.code)"
            metadata["reason"] = "\(error.message)"
        }
        logger.info("request finished", metadata: metadata)
    }

    /// Milliseconds with microsecond precision, as a log field.
    static func milliseconds(_ duration: Duration) -> String {
        let micros = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        let whole = micros / 1000
        let fraction = String(micros % 1000)
        return "\(whole).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
