import Logging

/// How `glossd` reports on itself: where the metrics and health endpoint listens, and the
/// format and level of its logs.
///
/// The endpoint binds to the loopback address by default: the metrics name corpora and show
/// who is busy when, which is nobody's business outside the host. Run the scraper (or a proxy
/// with authentication) next to it rather than opening the port.
public struct ObservabilityConfiguration: Sendable, Hashable {
    /// The log line format.
    public enum LogFormat: String, Sendable, Hashable, CaseIterable {
        /// swift-log's human-readable lines (`StreamLogHandler`).
        case text
        /// One JSON object per line (``JSONLogHandler``), for log shippers.
        case json
    }

    /// The address the metrics endpoint listens on.
    public var metricsHost: String
    /// The port of the metrics endpoint; nil disables it, 0 picks a free port (tests).
    public var metricsPort: Int?
    public var logFormat: LogFormat
    public var logLevel: Logger.Level

    public init(
        metricsHost: String = "127.0.0.1", metricsPort: Int? = 9743, logFormat: LogFormat = .text,
        logLevel: Logger.Level = .info
    ) {
        self.metricsHost = metricsHost
        self.metricsPort = metricsPort
        self.logFormat = logFormat
        self.logLevel = logLevel
    }

    /// Whether the metrics endpoint runs at all.
    public var metricsEnabled: Bool { metricsPort != nil }

    /// Checks the values a configuration file could get wrong.
    public func validate() throws(ObservabilityError) {
        if let port = metricsPort, !(0...65535).contains(port) {
            throw ObservabilityError(
                .invalidConfiguration, "the metrics port must be 0…65535 (or absent to disable metrics), not \(port)",
                context: "metrics.port")
        }
        if metricsEnabled && metricsHost.isEmpty {
            throw ObservabilityError(
                .invalidConfiguration, "the metrics host is empty; use 127.0.0.1 to listen on loopback only",
                context: "metrics.host")
        }
    }

    /// The log handler factory for `LoggingSystem.bootstrap`, in the configured format and at
    /// the configured level, writing to standard error.
    public func makeLogHandler(label: String) -> any LogHandler {
        switch logFormat {
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        case .json:
            var handler = JSONLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
    }
}
