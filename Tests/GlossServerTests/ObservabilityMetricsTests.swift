import Foundation
import GlossTestSupport
import GlossWire
import NIOCore
import NIOEmbedded
import Prometheus
import Testing

@testable import GlossServer

/// `ServerMetrics` and its helpers on a private registry: names, labels, buckets and the
/// outcome of each kind of final message.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct ObservabilityMetricsTests {
    @Test func everySeriesIsNamedAndLabelledForPrometheus() {
        let registry = PrometheusCollectorRegistry()
        let metrics = ServerMetrics(registry: registry)
        metrics.connection(.accepted)
        metrics.connection(.accepted)
        metrics.connection(.tlsFailed)
        metrics.request(type: RequestKind.push.rawValue, outcome: "ok")
        metrics.request(type: RequestKind.push.rawValue, outcome: "conflicts")
        metrics.request(type: RequestKind.push.rawValue, outcome: "ok")
        metrics.authFailure(reason: "rate-limited")
        metrics.connectionsOpen.increment()
        metrics.pushDuration.record(duration: .milliseconds(3))

        let scrape = Scrape(registry.emitToString())
        #expect(scrape.value("glossd_connections_total", ["outcome": "accepted"]) == 2)
        #expect(scrape.value("glossd_connections_total", ["outcome": "tls_failed"]) == 1)
        #expect(scrape.value("glossd_connections_total", ["outcome": "handshake_failed"]) == 0)
        #expect(scrape.value("glossd_requests_total", ["type": "push", "outcome": "ok"]) == 2)
        #expect(scrape.value("glossd_requests_total", ["type": "push", "outcome": "conflicts"]) == 1)
        #expect(scrape.value("glossd_auth_failures_total", ["reason": "rate-limited"]) == 1)
        #expect(scrape.value("glossd_connections_open") == 1)
        #expect(scrape.value("glossd_bytes_received_total") == 0)
        #expect(scrape.value("glossd_bytes_sent_total") == 0)
        #expect(scrape.text.contains("# TYPE glossd_push_duration_seconds histogram"))
        #expect(scrape.text.contains("# TYPE glossd_requests_total counter"))
        #expect(scrape.text.contains("# TYPE glossd_connections_open gauge"))
        // 3 ms lands in the 5 ms bucket and above, not the 1 ms or 2.5 ms ones.
        #expect(scrape.value("glossd_push_duration_seconds_bucket", ["le": "0.001"]) == 0)
        #expect(scrape.value("glossd_push_duration_seconds_bucket", ["le": "0.0025"]) == 0)
        #expect(scrape.value("glossd_push_duration_seconds_bucket", ["le": "0.005"]) == 1)
        #expect(scrape.value("glossd_push_duration_seconds_bucket", ["le": "5.0"]) == 1)
        #expect(scrape.value("glossd_push_duration_seconds_bucket", ["le": "+Inf"]) == 1)
        let bucketCount = scrape.samples.keys.filter { $0.hasPrefix("glossd_push_duration_seconds_bucket") }.count
        #expect(bucketCount == ServerMetrics.pushDurationBuckets.count + 1)
    }

    @Test func twoServersWithTheirOwnRegistriesDoNotShareCounts() {
        let one = PrometheusCollectorRegistry()
        let two = PrometheusCollectorRegistry()
        ServerMetrics(registry: one).request(type: "ping", outcome: "ok")
        _ = ServerMetrics(registry: two)
        #expect(Scrape(one.emitToString()).value("glossd_requests_total", ["type": "ping", "outcome": "ok"]) == 1)
        #expect(Scrape(two.emitToString()).value("glossd_requests_total", ["type": "ping", "outcome": "ok"]) == nil)
    }

    @Test func outcomesOfFinalMessages() {
        func push(_ fill: (inout Gloss_V1_PushResponse) -> Void) -> WireMessage {
            .response(3, .with { $0.push = .with(fill) })
        }
        #expect(RequestKind.outcome(of: push { $0.acceptedRevision = 4 }) == "ok")
        #expect(RequestKind.outcome(of: push { $0.duplicateRevision = 4 }) == "duplicate")
        #expect(RequestKind.outcome(of: push { $0.conflicts = .init() }) == "conflicts")
        #expect(RequestKind.outcome(of: push { $0.invalid = .init() }) == "invalid")
        #expect(RequestKind.outcome(of: .response(3, .with { $0.grant = .init() })) == "ok")
        #expect(RequestKind.outcome(of: .error(3, WireError(.permissionDenied, "viewer").errorBody)) == "permission-denied")
        #expect(RequestKind.outcome(of: .error(3, WireError(.badMessage, "?").errorBody)) == "bad-message")
        #expect(RequestKind.outcome(of: .error(3, Gloss_V1_Error())) == "internal")
    }

    @Test func requestKindsAndTheirCorpus() {
        let push = Gloss_V1_Request.with { $0.push = .with { $0.corpus = "news" } }
        #expect(RequestKind(push) == .push)
        #expect(RequestKind.corpus(of: push) == "news")
        let create = Gloss_V1_Request.with { $0.createCorpus = .with { $0.name = "law" } }
        #expect(RequestKind(create).rawValue == "create_corpus")
        #expect(RequestKind.corpus(of: create) == "law")
        #expect(RequestKind(.with { $0.listCorpora = .init() }).rawValue == "list_corpora")
        #expect(RequestKind.corpus(of: .with { $0.listCorpora = .init() }) == nil)
        #expect(RequestKind(Gloss_V1_Request()) == .unknown)
    }

    @Test func theByteCounterCountsBothDirections() throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = ServerMetrics(registry: registry)
        let channel = EmbeddedChannel(handler: ConnectionMetricsHandler(metrics: metrics, probe: TLSHandshakeProbe()))
        try channel.writeInbound(ByteBuffer(bytes: [1, 2, 3, 4, 5]))
        try channel.writeInbound(ByteBuffer(bytes: [6, 7]))
        try channel.writeOutbound(ByteBuffer(bytes: Array(repeating: 0, count: 100)))
        // Bytes pass through untouched.
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [1, 2, 3, 4, 5]))
        #expect(try channel.readOutbound(as: ByteBuffer.self)?.readableBytes == 100)
        let scrape = Scrape(registry.emitToString())
        #expect(scrape.value("glossd_bytes_received_total") == 7)
        #expect(scrape.value("glossd_bytes_sent_total") == 100)
    }

    @Test func healthBodiesAreJSONWithStatusFirst() throws {
        let ok = HealthStatus.healthy(details: ["version": "1.0", "status": "ignored"])
        #expect(String(decoding: ok.jsonBody, as: UTF8.self) == #"{"status":"ok","version":"1.0"}"#)
        let down = HealthStatus.unhealthy("stores \"news\" failed\n", details: ["connections": "3"])
        let parsed = try #require(JSONSerialization.jsonObject(with: Data(down.jsonBody)) as? [String: String])
        #expect(parsed == ["status": "unavailable", "reason": "stores \"news\" failed\n", "connections": "3"])
    }

    @Test func configurationDefaultsAndValidation() throws {
        let defaults = ObservabilityConfiguration()
        #expect(defaults.metricsHost == "127.0.0.1")
        #expect(defaults.metricsPort == 9743)
        #expect(defaults.logFormat == .text)
        #expect(defaults.logLevel == .info)
        try defaults.validate()
        try ObservabilityConfiguration(metricsPort: nil, logFormat: .json).validate()
        #expect(throws: ObservabilityError.self) { try ObservabilityConfiguration(metricsPort: 70000).validate() }
        #expect(throws: ObservabilityError.self) { try ObservabilityConfiguration(metricsHost: "").validate() }
        let disabled = MetricsServer(configuration: .init(metricsPort: nil), registry: .init(), health: { .healthy() })
        #expect(disabled == nil)
        let enabled = MetricsServer(
            configuration: .init(metricsHost: "::1", metricsPort: 0), registry: .init(), health: { .healthy() })
        #expect(enabled?.host == "::1" && enabled?.port == 0)
        #expect(ObservabilityConfiguration(logFormat: .json).makeLogHandler(label: "x") is JSONLogHandler)
        #expect(ObservabilityConfiguration(logLevel: .debug).makeLogHandler(label: "x").logLevel == .debug)
    }
}
