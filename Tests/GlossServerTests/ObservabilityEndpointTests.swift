import Foundation
import GlossClient
import GlossModel
import GlossStore
import GlossTestSupport
import GlossWire
import Logging
import NIOCore
import NIOPosix
import Prometheus
import Synchronization
import Testing

@testable import GlossServer

/// The metrics endpoint over real sockets: a real glossd (TLS, in process) with a private
/// registry, driven by real clients, and scraped over HTTP with a raw client.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct ObservabilityEndpointTests {
    // MARK: Counters that follow real traffic

    @Test func scrapeReflectsPushesAuthAndBytes() async throws {
        let fixture = try await ObservedServer.start()
        defer { Task { await fixture.stop() } }
        let admin = try await fixture.connect()
        _ = try await admin.request(.with { $0.createCorpus = .with { $0.name = "news" } })

        let before = try await fixture.scrape()
        #expect(before.value("glossd_push_duration_seconds_count") == 0)
        #expect(before.value("glossd_requests_total", ["type": "push", "outcome": "ok"]) == nil)
        // Made up front, so that rate() works before the first event.
        #expect(before.value("glossd_connections_total", ["outcome": "refused_busy"]) == 0)
        #expect(before.value("glossd_auth_failures_total", ["reason": "auth-failed"]) == 0)

        // Two accepted pushes and one replay of the second (a duplicate).
        let documents = Minter("admin", replica: 5).documents(base: 0, [("d1", SampleTexts.short)])
        #expect(try await ObservedServer.push(admin, "news", Gloss_V1_Changeset(documents)).acceptedRevision == 1)
        var minter = Minter("admin", replica: 5)
        let span = Gloss_V1_Changeset(minter.changeset(base: 1, [.create(minter.span("d1", 0, 5, "PER"))]))
        #expect(try await ObservedServer.push(admin, "news", span).acceptedRevision == 2)
        #expect(try await ObservedServer.push(admin, "news", span).duplicateRevision == 2)

        // A viewer's push is refused, and the connection stays up for more.
        let viewerToken = try fixture.user("vera", role: .viewer, in: "news")
        let viewer = try await fixture.connect(token: viewerToken)
        var vera = Minter("vera", replica: 9)
        let refused = Gloss_V1_Changeset(vera.changeset(base: 2, [.create(vera.span("d1", 6, 13, "ORG"))]))
        await #expect(throws: (any Error).self) { _ = try await ObservedServer.push(viewer, "news", refused) }
        try await viewer.ping()

        // A bad token: refused, counted as an auth failure and a failed handshake.
        await #expect(throws: (any Error).self) { _ = try await fixture.connect(token: "not-a-token") }

        let after = try await fixture.scrape { scrape in
            (scrape.value("glossd_requests_total", ["type": "ping", "outcome": "ok"]) ?? 0) >= 1
                && scrape.value("glossd_connections_total", ["outcome": "handshake_failed"]) == 1
        }
        #expect(after.value("glossd_requests_total", ["type": "create_corpus", "outcome": "ok"]) == 1)
        #expect(after.value("glossd_requests_total", ["type": "push", "outcome": "ok"]) == 2)
        #expect(after.value("glossd_requests_total", ["type": "push", "outcome": "duplicate"]) == 1)
        #expect(after.value("glossd_requests_total", ["type": "push", "outcome": "permission-denied"]) == 1)
        #expect(after.value("glossd_requests_total", ["type": "auth", "outcome": "ok"]) == 2)
        #expect(after.value("glossd_requests_total", ["type": "auth", "outcome": "auth-failed"]) == 1)
        #expect(after.value("glossd_auth_failures_total", ["reason": "auth-failed"]) == 1)
        #expect(after.value("glossd_connections_total", ["outcome": "accepted"]) == 2)
        #expect(after.value("glossd_connections_open") == 2)

        // Acknowledged pushes only (two accepted, one duplicate), all well under 5 s.
        #expect(after.value("glossd_push_duration_seconds_count") == 3)
        #expect(after.value("glossd_push_duration_seconds_bucket", ["le": "5.0"]) == 3)
        #expect((after.value("glossd_push_duration_seconds_sum") ?? 0) > 0)

        let received = try #require(after.value("glossd_bytes_received_total"))
        let sent = try #require(after.value("glossd_bytes_sent_total"))
        #expect(received > 0 && sent > 0)
        // The pushes alone carry the document text to the server.
        #expect(received > Double(SampleTexts.short.utf8.count))
        #expect(received > before.value("glossd_bytes_received_total") ?? 0)
        #expect(sent > before.value("glossd_bytes_sent_total") ?? 0)

        // Store gauges, read at scrape time from the corpus's open store.
        #expect(after.value("glossd_revisions", ["corpus": "news"]) == 2)
        #expect((after.value("glossd_store_bytes", ["corpus": "news"]) ?? 0) > 0)

        // The server's own health check: listening, and its stores answer.
        let health = try await HTTPProbe.get(port: fixture.metricsPort, "/health")
        #expect(health.status == 200)
        let status = try #require(JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: String])
        #expect(status["status"] == "ok" && status["corpora_open"] == "1")
        #expect(Int(status["connections"] ?? "") != nil)

        // Draining closes both connections and brings the open gauge down (a client's close()
        // only ends its sending side; the server closes the socket). The endpoint keeps serving.
        await fixture.server.shutdown()
        let drained = try await fixture.scrape { $0.value("glossd_connections_open") == 0 }
        #expect(drained.value("glossd_connections_open") == 0)
        #expect(drained.value("glossd_connections_total", ["outcome": "accepted"]) == 2)
        viewer.close()
        admin.close()
    }

    @Test func refusedAndFailedConnectionsAreCountedByOutcome() async throws {
        let fixture = try await ObservedServer.start(maxConnections: 1)
        defer { Task { await fixture.stop() } }
        // Not TLS at all: the TLS handshake fails. (First, while the one slot is free:
        // admission comes at accept, before TLS, so this would count as refused otherwise.)
        let answer = try await HTTPProbe.send(port: fixture.port, Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(!String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/"))
        let failed = try await fixture.scrape {
            $0.value("glossd_connections_total", ["outcome": "tls_failed"]) == 1 && $0.value("glossd_connections_open") == 0
        }
        #expect(failed.value("glossd_connections_open") == 0)
        // The server forgets the connection a moment after counting it closed.
        _ = try await eventually { fixture.server.connectionCount == 0 }

        let first = try await fixture.connect()
        // Over the limit: refused with server-busy.
        await #expect(throws: (any Error).self) { _ = try await fixture.connect() }
        defer { first.close() }

        let scrape = try await fixture.scrape { $0.value("glossd_connections_total", ["outcome": "refused_busy"]) == 1 }
        #expect(scrape.value("glossd_connections_total", ["outcome": "refused_busy"]) == 1)
        #expect(scrape.value("glossd_connections_total", ["outcome": "accepted"]) == 1)
        #expect(scrape.value("glossd_connections_total", ["outcome": "tls_failed"]) == 1)
        #expect(scrape.value("glossd_connections_total", ["outcome": "handshake_failed"]) == 0)
    }

    // MARK: Health and routing over HTTP

    @Test func healthFollowsTheClosureAndRoutesAreChecked() async throws {
        let healthy = Atomic<Bool>(true)
        let registry = PrometheusCollectorRegistry()
        let metrics = ServerMetrics(registry: registry)
        let endpoint = MetricsServer(
            port: 0, registry: registry, logger: ObservedServer.quiet,
            health: {
                healthy.load(ordering: .relaxed)
                    ? .healthy(details: ["connections": "0"]) : .unhealthy("the corpus stores do not open")
            })
        let running = Task { try await endpoint.run() }
        defer { running.cancel() }
        let port = try await HTTPProbe.waitForPort(endpoint)
        metrics.connection(.accepted)

        let ok = try await HTTPProbe.get(port: port, "/health")
        #expect(ok.status == 200)
        #expect(ok.headers["content-type"] == "application/json")
        let okJSON = try #require(JSONSerialization.jsonObject(with: Data(ok.body.utf8)) as? [String: String])
        #expect(okJSON == ["status": "ok", "connections": "0"])
        #expect(try await HTTPProbe.get(port: port, "/ready").status == 200)

        healthy.store(false, ordering: .relaxed)
        let down = try await HTTPProbe.get(port: port, "/health")
        #expect(down.status == 503)
        let downJSON = try #require(JSONSerialization.jsonObject(with: Data(down.body.utf8)) as? [String: String])
        #expect(downJSON == ["status": "unavailable", "reason": "the corpus stores do not open"])
        #expect(try await HTTPProbe.get(port: port, "/ready").status == 503)

        let scrape = try await HTTPProbe.get(port: port, "/metrics?name[]=x")
        #expect(scrape.status == 200)
        #expect(scrape.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(scrape.body.contains("glossd_connections_total{outcome=\"accepted\"} 1"))

        let missing = try await HTTPProbe.get(port: port, "/metrics/extra")
        #expect(missing.status == 404)
        let post = try await HTTPProbe.request(port: port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
        #expect(post.status == 405)
        #expect(post.headers["allow"] == "GET, HEAD")
        let head = try await HTTPProbe.request(port: port, "HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", head: true)
        #expect(head.status == 503)
        #expect(head.body.isEmpty)
        #expect(Int(head.headers["content-length"] ?? "") ?? 0 > 0)
    }

    @Test func aServerThatIsNotListeningIsUnhealthy() async throws {
        let directory = try TemporaryDirectory("glossd-obs")
        defer { directory.remove() }
        let accounts = try AccountStore(path: directory.path("server.sqlite"))
        let (identity, _) = try ServerIdentity.loadOrCreate(directory: directory.url)
        let server = try GlossServer(
            configuration: ServerConfiguration(port: 0, dataDirectory: directory.url), identity: identity,
            accounts: accounts, corpora: try CorpusRegistry(directory: directory.url), logger: ObservedServer.quiet,
            metrics: ServerMetrics(registry: PrometheusCollectorRegistry()))
        let status = await server.healthStatus()
        #expect(!status.isHealthy)
        #expect(status.reason == "the listener is not bound yet")
    }

    @Test func keepAliveServesPipelinedRequestsAndIdleConnectionsClose() async throws {
        let registry = PrometheusCollectorRegistry()
        // Long enough that a starved event loop still reads the requests before the timer
        // fires (a busy 2-core machine can stall it for a few hundred milliseconds).
        let endpoint = MetricsServer(port: 0, registry: registry, idleTimeout: .seconds(2), logger: ObservedServer.quiet, health: { .healthy() })
        let running = Task { try await endpoint.run() }
        defer { running.cancel() }
        let port = try await HTTPProbe.waitForPort(endpoint)

        // Two requests in one write; the connection stays open after them until idle.
        let two = "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
        let started = ContinuousClock.now
        let bytes = try await HTTPProbe.send(port: port, Array(two.utf8), timeout: .seconds(120))
        let elapsed = ContinuousClock.now - started
        let responses = HTTPProbe.parse(String(decoding: bytes, as: UTF8.self))
        #expect(responses.map(\.status) == [200, 404])
        // Closed by the server's idle timer (never before it), not by our 120 s timeout.
        #expect(elapsed >= .seconds(2) && elapsed < .seconds(120))
    }

    @Test func stopsOnCancellationAndReportsBindFailures() async throws {
        let registry = PrometheusCollectorRegistry()
        let endpoint = MetricsServer(port: 0, registry: registry, logger: ObservedServer.quiet, health: { .healthy() })
        let running = Task { try await endpoint.run() }
        let port = try await HTTPProbe.waitForPort(endpoint)

        // The same port again: in use.
        let clash = MetricsServer(port: port, registry: registry, logger: ObservedServer.quiet, health: { .healthy() })
        await #expect(throws: ObservabilityError.self) { try await clash.run() }

        running.cancel()
        try await running.value
        await #expect(throws: (any Error).self) { _ = try await HTTPProbe.get(port: port, "/health") }
    }
}

// MARK: - Helpers

/// A glossd with metrics in a private registry, and its metrics endpoint, on loopback ports.
final class ObservedServer: Sendable {
    let server: GlossServer
    let endpoint: MetricsServer
    let registry: PrometheusCollectorRegistry
    let accounts: AccountStore
    let fingerprint: CertificateFingerprint
    let adminToken: String
    let port: Int
    let metricsPort: Int
    let directory: TemporaryDirectory
    private let tasks: [Task<Void, any Error>]

    /// Logs nothing below critical: keeps test output readable.
    static var quiet: Logger {
        var logger = Logger(label: "test-glossd")
        logger.logLevel = .critical
        return logger
    }

    static func start(maxConnections: Int = 64, logger: Logger? = nil) async throws -> ObservedServer {
        let directory = try TemporaryDirectory("glossd-obs")
        let accounts = try AccountStore(path: directory.path("server.sqlite"))
        let (identity, _) = try ServerIdentity.loadOrCreate(directory: directory.url)
        try AdminBootstrap.ensureAdmin(accounts: accounts, dataDirectory: directory.url)
        let token = try String(contentsOf: directory.url.appendingPathComponent("admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let registry = PrometheusCollectorRegistry()
        let metrics = ServerMetrics(registry: registry)
        let server = try GlossServer(
            configuration: ServerConfiguration(
                port: 0, dataDirectory: directory.url, handshakeTimeout: .seconds(120), idleTimeout: .seconds(600),
                maxConnections: maxConnections, drainTimeout: .seconds(5)),
            identity: identity, accounts: accounts, corpora: try CorpusRegistry(directory: directory.url),
            logger: logger ?? quiet, metrics: metrics)
        let endpoint = MetricsServer(
            port: 0, registry: registry, logger: quiet,
            health: { await server.healthStatus() },
            beforeScrape: { await metrics.refreshStoreGauges(corpora: server.router.corpora) })
        let tasks = [Task { try await server.run() }, Task { try await endpoint.run() }]
        _ = try await eventually { server.localAddress != nil && endpoint.localAddress != nil }
        guard let port = server.localAddress?.port, let metricsPort = endpoint.localAddress?.port else {
            throw ClientError(.connectionFailed, "server did not start")
        }
        return ObservedServer(
            server: server, endpoint: endpoint, registry: registry, accounts: accounts, fingerprint: identity.fingerprint,
            adminToken: token, port: port, metricsPort: metricsPort, directory: directory, tasks: tasks)
    }

    private init(
        server: GlossServer, endpoint: MetricsServer, registry: PrometheusCollectorRegistry, accounts: AccountStore,
        fingerprint: CertificateFingerprint, adminToken: String, port: Int, metricsPort: Int,
        directory: TemporaryDirectory, tasks: [Task<Void, any Error>]
    ) {
        self.server = server
        self.endpoint = endpoint
        self.registry = registry
        self.accounts = accounts
        self.fingerprint = fingerprint
        self.adminToken = adminToken
        self.port = port
        self.metricsPort = metricsPort
        self.directory = directory
        self.tasks = tasks
    }

    func connect(token: String? = nil) async throws -> ClientConnection {
        try await ClientConnection.connect(
            .init(host: "127.0.0.1", port: port, trust: .pinned(fingerprint), token: token ?? adminToken))
    }

    func user(_ name: String, role: Role, in corpus: String) throws -> String {
        if try accounts.user(named: name) == nil { _ = try accounts.addUser(name) }
        try accounts.grant(corpus: corpus, user: name, role: role)
        return try accounts.issueToken(for: name).secret
    }

    static func push(_ connection: ClientConnection, _ corpus: String, _ changeset: Gloss_V1_Changeset) async throws
        -> Gloss_V1_PushResponse
    {
        try await ClientSyncTests.push(connection, corpus: corpus, changeset)
    }

    /// Scrapes `/metrics` over HTTP, again until `until` holds (events that finish after the
    /// client's call returns, like a close, land a moment later), for up to 5 s.
    func scrape(until: (Scrape) -> Bool = { _ in true }) async throws -> Scrape {
        var last: Scrape?
        for _ in 0..<100 {
            let response = try await HTTPProbe.get(port: metricsPort, "/metrics")
            try #require(response.status == 200)
            let scrape = Scrape(response.body)
            if until(scrape) { return scrape }
            last = scrape
            try await Task.sleep(for: .milliseconds(50))
        }
        return try #require(last)
    }

    func stop() async {
        endpoint.stop()
        await server.shutdown()
        for task in tasks { _ = try? await task.value }
        directory.remove()
    }
}

/// A parsed Prometheus text exposition: each sample by its series (`name{k="v",…}`).
struct Scrape {
    let samples: [String: Double]
    let text: String

    init(_ text: String) {
        self.text = text
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        self.samples = samples
    }

    /// The sample of `name` whose labels are exactly `labels` (in any order).
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { series, _ in Self.split(series) == (name, labels) }?.value
    }

    private static func split(_ series: String) -> (String, [String: String]) {
        guard let brace = series.firstIndex(of: "{") else { return (series, [:]) }
        var labels: [String: String] = [:]
        for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
        }
        return (String(series[..<brace]), labels)
    }
}

/// A raw HTTP/1.1 client over a plain NIO socket (URLSession is unreliable on Linux).
enum HTTPProbe {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    static func waitForPort(_ endpoint: MetricsServer) async throws -> Int {
        if try await eventually({ endpoint.localAddress?.port != nil }), let port = endpoint.localAddress?.port { return port }
        throw ClientError(.connectionFailed, "the metrics endpoint did not start")
    }

    static func get(port: Int, _ path: String) async throws -> Response {
        try await request(port: port, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    }

    /// Sends `text` and parses the one response before the server closes.
    static func request(port: Int, _ text: String, head: Bool = false) async throws -> Response {
        let bytes = try await send(port: port, Array(text.utf8))
        guard let response = parse(String(decoding: bytes, as: UTF8.self), head: head).first else {
            throw ClientError(.protocolViolation, "no HTTP response")
        }
        return response
    }

    /// Sends `bytes` and returns everything received until the server closes (or `timeout`).
    static func send(port: Int, _ bytes: [UInt8], timeout: Duration = .seconds(5)) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: bytes))
            return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                group.addTask {
                    var received: [UInt8] = []
                    do {
                        for try await chunk in inbound { received += chunk.readableBytesView }
                    } catch {}
                    return received
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next()!
                group.cancelAll()
                return first ?? []
            }
        }
    }

    /// The responses in `text`, one after another, bodies delimited by Content-Length.
    static func parse(_ text: String, head: Bool = false) -> [Response] {
        var rest = Substring(text)
        var responses: [Response] = []
        while let end = rest.range(of: "\r\n\r\n") {
            let lines = rest[..<end.lowerBound].components(separatedBy: "\r\n")
            guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1."),
                let status = Int(statusLine.split(separator: " ")[1])
            else { break }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = head ? 0 : Int(headers["content-length"] ?? "0") ?? 0
            let bodyStart = end.upperBound
            let body = rest.utf8[bodyStart...].prefix(length)
            responses.append(Response(status: status, headers: headers, body: String(decoding: body, as: UTF8.self)))
            rest = rest[body.endIndex...]
        }
        return responses
    }
}
