import Metrics
import NIOPosix
import Prometheus
import Synchronization

/// The server's metrics, as swift-metrics handles made by one `MetricsFactory`.
///
/// Made from a factory rather than the global `MetricsSystem`, so that a test can give each
/// server a private `PrometheusCollectorRegistry` and read exactly what that server counted.
/// Names follow the Prometheus conventions (`glossd_` prefix, `_total` counters, base units):
///
/// | Name | Kind | Labels |
/// |---|---|---|
/// | `glossd_connections_open` | gauge | |
/// | `glossd_connections_total` | counter | `outcome`: see ``ConnectionOutcome`` |
/// | `glossd_requests_total` | counter | `type` (``RequestKind``), `outcome` (`ok` or a code) |
/// | `glossd_push_duration_seconds` | histogram | |
/// | `glossd_bytes_received_total`, `glossd_bytes_sent_total` | counter | |
/// | `glossd_auth_failures_total` | counter | `reason`: `auth-failed`, `rate-limited` |
/// | `glossd_store_bytes`, `glossd_revisions` | gauge | `corpus` |
public final class ServerMetrics: Sendable {
    /// How an incoming connection ended up, counted once per connection when it is known.
    public enum ConnectionOutcome: String, Sendable, CaseIterable {
        /// Completed the handshake: TLS, preface, HELLO and authentication.
        case accepted
        /// Refused with `server-busy`: the server was at its connection limit.
        case refusedBusy = "refused_busy"
        /// The TLS handshake failed (not TLS at all, no common version or cipher, a bad client
        /// certificate).
        case tlsFailed = "tls_failed"
        /// Closed before authenticating for another reason: a bad preface, no common protocol
        /// version, a refused token, a handshake timeout, or the peer hanging up.
        case handshakeFailed = "handshake_failed"
    }

    /// Buckets of ``pushDuration``: pushes commit in about a millisecond alone, and a group
    /// commit under load or a slow disk stretches that to seconds.
    public static let pushDurationBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5),
    ]

    private let factory: any MetricsFactory
    /// Live connections (admitted, not yet closed).
    let connectionsOpen: Metrics.Meter
    private let connections: [ConnectionOutcome: Metrics.Counter]
    /// Time from a push request's arrival to its durable acknowledgement being written.
    let pushDuration: Metrics.Timer
    /// Bytes of TLS payload (preface and frames) read from and written to clients.
    let bytesReceived: Metrics.Counter
    let bytesSent: Metrics.Counter
    private let authFailures: [String: Metrics.Counter]
    /// Counters are made on first use of a (type, outcome) pair, then reused: making one goes
    /// through the factory's lock and registry lookup.
    private let requests = Mutex<[RequestKey: Metrics.Counter]>([:])
    private let stores = Mutex<[String: StoreGauges]>([:])
    /// Corpora a request succeeded on: the open stores that ``refreshStoreGauges(corpora:)`` reads.
    private let corpora = Mutex<Set<String>>([])

    private struct RequestKey: Hashable {
        var type: String
        var outcome: String
    }

    private struct StoreGauges {
        var bytes: Metrics.Gauge
        var revisions: Metrics.Gauge
    }

    /// Makes the handles with `factory`. With a `PrometheusMetricsFactory`, prefer
    /// ``prometheusFactory(registry:)``, which sets the push latency buckets.
    public init(factory: any MetricsFactory) {
        self.factory = factory
        connectionsOpen = Metrics.Meter(label: "glossd_connections_open", factory: factory)
        // Every outcome is made up front so that a scrape shows zeros rather than no series
        // (rate() and alerts need the series to exist before the first event).
        connections = Dictionary(
            uniqueKeysWithValues: ConnectionOutcome.allCases.map {
                ($0, Metrics.Counter(label: "glossd_connections_total", dimensions: [("outcome", $0.rawValue)], factory: factory))
            })
        pushDuration = Metrics.Timer(label: "glossd_push_duration_seconds", factory: factory)
        bytesReceived = Metrics.Counter(label: "glossd_bytes_received_total", factory: factory)
        bytesSent = Metrics.Counter(label: "glossd_bytes_sent_total", factory: factory)
        authFailures = Dictionary(
            uniqueKeysWithValues: ["auth-failed", "rate-limited"].map {
                ($0, Metrics.Counter(label: "glossd_auth_failures_total", dimensions: [("reason", $0)], factory: factory))
            })
    }

    /// Metrics recorded into `registry`, the push histogram with ``pushDurationBuckets``.
    public convenience init(registry: PrometheusCollectorRegistry) {
        self.init(factory: Self.prometheusFactory(registry: registry))
    }

    /// A factory for `registry` with the buckets these metrics need. Bootstrapping
    /// `MetricsSystem` with it too puts other libraries' metrics on the same endpoint.
    public static func prometheusFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["glossd_push_duration_seconds"] = pushDurationBuckets
        return factory
    }

    // MARK: Recording

    func connection(_ outcome: ConnectionOutcome) {
        connections[outcome]?.increment()
    }

    /// One finished request of `type` (``RequestKind``), `outcome` being `ok` or a code.
    func request(type: String, outcome: String) {
        let key = RequestKey(type: type, outcome: outcome)
        let counter = requests.withLock { made in
            if let counter = made[key] { return counter }
            let counter = Metrics.Counter(
                label: "glossd_requests_total", dimensions: [("type", type), ("outcome", outcome)], factory: factory)
            made[key] = counter
            return counter
        }
        counter.increment()
    }

    /// A refused token (`auth-failed`) or a login attempt refused by the rate limiter.
    func authFailure(reason: String) {
        authFailures[reason]?.increment()
    }

    /// A request succeeded on `corpus`, so its store is open and worth reporting on.
    func observed(corpus: String) {
        guard !corpus.isEmpty else { return }
        corpora.withLock { _ = $0.insert(corpus) }
    }

    /// The corpora a request has succeeded on since start, by name.
    public var observedCorpora: [String] { corpora.withLock { $0 }.sorted() }

    // MARK: Store gauges

    /// Reads the size and head revision of every corpus a request has touched since start, and
    /// sets `glossd_store_bytes` and `glossd_revisions`. Call it before each scrape (see
    /// ``MetricsServer``).
    ///
    /// Cheap: the stores are already open, and each reading is two small queries. They block,
    /// so they run on the ``StorageExecutor``, off both the event loops and the cooperative pool.
    public func refreshStoreGauges(corpora registry: CorpusRegistry) async {
        let names = observedCorpora
        guard !names.isEmpty else { return }
        let readings: [(name: String, bytes: Int, head: Int)]
        do {
            readings = try await registry.executor.run {
                names.compactMap { name in
                    // A store that fails to answer keeps its last values: the health check,
                    // not a gauge, is where a broken store shows.
                    guard let store = try? registry.handle(for: name).store,
                        let summary = try? store.storageSummary(), let head = try? store.headRevision()
                    else { return nil }
                    return (name, summary.fileBytes, head)
                }
            }
        } catch {
            return  // the thread pool is shutting down with the process
        }
        for reading in readings {
            let gauges = storeGauges(reading.name)
            gauges.bytes.record(reading.bytes)
            gauges.revisions.record(reading.head)
        }
    }

    private func storeGauges(_ corpus: String) -> StoreGauges {
        stores.withLock { made in
            if let gauges = made[corpus] { return gauges }
            let gauges = StoreGauges(
                bytes: Metrics.Gauge(label: "glossd_store_bytes", dimensions: [("corpus", corpus)], factory: factory),
                revisions: Metrics.Gauge(label: "glossd_revisions", dimensions: [("corpus", corpus)], factory: factory))
            made[corpus] = gauges
            return gauges
        }
    }
}
