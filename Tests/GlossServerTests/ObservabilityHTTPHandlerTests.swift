import GlossTestSupport
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import GlossServer

/// The metrics port's HTTP handler on an `EmbeddedChannel`: routing, headers, keep-alive,
/// HEAD, failures and the idle close, with no socket.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct ObservabilityHTTPHandlerTests {
    /// What the handler wrote for one request.
    struct Written {
        var head: HTTPResponseHead
        var body: String
        var ended: Bool
    }

    /// A channel whose responder answers at once (on the embedded loop), recording the routes
    /// it was asked for.
    final class Harness {
        let channel: EmbeddedChannel
        let asked = RouteLog()

        init(failing: Bool = false) throws {
            let asked = self.asked
            channel = EmbeddedChannel(
                handler: MetricsHTTPHandler { route, loop in
                    asked.append(route)
                    if failing { return loop.makeFailedFuture(ObservabilityError(.bindFailed, "store unreadable")) }
                    switch route {
                    case .metrics: return loop.makeSucceededFuture(.metrics(Array("glossd_up 1\n".utf8)))
                    default: return loop.makeSucceededFuture(.health(.unhealthy("draining")))
                    }
                })
            // An embedded channel is inactive until connected; the handler's close shows as inactive.
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9743)).wait()
        }

        func send(_ method: HTTPMethod, _ uri: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = [:])
            throws -> Written?
        {
            try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: version, method: method, uri: uri, headers: headers)))
            try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: "ignored")))
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
            guard case .head(let head)? = try channel.readOutbound(as: HTTPServerResponsePart.self) else { return nil }
            var body = ""
            var ended = false
            while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
                switch part {
                case .body(.byteBuffer(let buffer)): body += String(buffer: buffer)
                case .body: Issue.record("unexpected body part")
                case .end: ended = true
                case .head: Issue.record("a second head")
                }
            }
            return Written(head: head, body: body, ended: ended)
        }
    }

    final class RouteLog: @unchecked Sendable {
        // Only touched on the embedded loop, which is this test's thread.
        var routes: [MetricsRoute] = []
        func append(_ route: MetricsRoute) { routes.append(route) }
    }

    @Test func metricsAnswerWithTheExpositionFormat() throws {
        let harness = try Harness()
        let written = try #require(try harness.send(.GET, "/metrics"))
        #expect(written.head.status == .ok)
        #expect(written.head.headers["Content-Type"] == ["text/plain; version=0.0.4; charset=utf-8"])
        #expect(written.head.headers["Content-Length"] == ["12"])
        #expect(written.body == "glossd_up 1\n")
        #expect(written.ended)
        #expect(harness.asked.routes == [.metrics])
        // HTTP/1.1 without `Connection: close` stays open for the next scrape.
        #expect(harness.channel.isActive)
        #expect(written.head.headers["Connection"].isEmpty)
    }

    @Test func healthIsJSONAndUnhealthyIs503() throws {
        let harness = try Harness()
        for path in ["/health", "/ready", "/health?verbose=1"] {
            let written = try #require(try harness.send(.GET, path))
            #expect(written.head.status == .serviceUnavailable, "\(path)")
            #expect(written.head.headers["Content-Type"] == ["application/json"])
            #expect(written.head.headers["Cache-Control"] == ["no-store"])
            #expect(written.body == #"{"status":"unavailable","reason":"draining"}"# + "\n")
        }
        #expect(harness.asked.routes == [.health, .health, .health])
    }

    @Test func unknownPathsAre404AndOtherMethods405WithoutAskingTheResponder() throws {
        let harness = try Harness()
        let missing = try #require(try harness.send(.GET, "/metricsx"))
        #expect(missing.head.status == .notFound)
        let root = try #require(try harness.send(.GET, "/"))
        #expect(root.head.status == .notFound)
        for method in [HTTPMethod.POST, .PUT, .DELETE] {
            let refused = try #require(try harness.send(method, "/metrics"))
            #expect(refused.head.status == .methodNotAllowed)
            #expect(refused.head.headers["Allow"] == ["GET, HEAD"])
        }
        #expect(harness.asked.routes.isEmpty)
    }

    @Test func headHasTheLengthButNoBody() throws {
        let harness = try Harness()
        let written = try #require(try harness.send(.HEAD, "/metrics"))
        #expect(written.head.status == .ok)
        #expect(written.head.headers["Content-Length"] == ["12"])
        #expect(written.body.isEmpty)
        #expect(written.ended)
    }

    @Test func connectionCloseAndHTTP10CloseAfterTheResponse() throws {
        let closing = try Harness()
        let written = try #require(try closing.send(.GET, "/metrics", headers: ["Connection": "close"]))
        #expect(written.head.headers["Connection"] == ["close"])
        #expect(!closing.channel.isActive)

        let old = try Harness()
        let answer = try #require(try old.send(.GET, "/metrics", version: .http1_0))
        #expect(answer.head.version == .http1_0)
        #expect(!old.channel.isActive)

        let kept = try Harness()
        let keptAnswer = try #require(try kept.send(.GET, "/metrics", version: .http1_0, headers: ["Connection": "keep-alive"]))
        #expect(keptAnswer.head.headers["Connection"] == ["keep-alive"])
        #expect(kept.channel.isActive)
    }

    @Test func aFailingResponderGives500() throws {
        let harness = try Harness(failing: true)
        let written = try #require(try harness.send(.GET, "/metrics"))
        #expect(written.head.status == .internalServerError)
        #expect(written.body.contains("store unreadable"))
    }

    @Test func anIdleEventClosesTheConnection() throws {
        let harness = try Harness()
        #expect(harness.channel.isActive)
        harness.channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
        #expect(!harness.channel.isActive)
    }

    @Test func routesIgnoreQueriesButMatchPathsExactly() {
        #expect(MetricsRoute(method: .GET, uri: "/metrics") == .metrics)
        #expect(MetricsRoute(method: .GET, uri: "/metrics?x=1") == .metrics)
        #expect(MetricsRoute(method: .HEAD, uri: "/ready") == .health)
        #expect(MetricsRoute(method: .GET, uri: "/metrics/") == .notFound)
        #expect(MetricsRoute(method: .GET, uri: "/HEALTH") == .notFound)
        #expect(MetricsRoute(method: .POST, uri: "/health") == .methodNotAllowed)
        #expect(MetricsRoute(method: .POST, uri: "/elsewhere") == .notFound)
    }
}
