import NIOCore
import NIOHTTP1

/// Answers the requests of the metrics port, one at a time per connection (NIO's pipelining
/// handler in front holds back the next request until a response ends).
///
/// It never waits on the event loop: `/metrics` and `/health` go to a ``Responder`` that
/// returns a future (the real one runs the work as a task), and the response is written
/// when that completes. A connection that stays idle past the ``IdleStateHandler`` in front
/// is closed.
final class MetricsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Makes the response of `.metrics` or `.health`, completing on any loop.
    typealias Responder = @Sendable (MetricsRoute, any EventLoop) -> EventLoopFuture<MetricsHTTPResponse>

    private let responder: Responder
    private var request: HTTPRequestHead?

    init(responder: @escaping Responder) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break  // no route takes a body: drop it as it arrives rather than buffer it
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Parse errors were answered 400 by NIO's error handler already; anything else leaves
        // the connection in no state worth keeping.
        context.close(promise: nil)
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let route = MetricsRoute(method: head.method, uri: head.uri)
        switch route {
        case .notFound:
            write(.notFound, to: head, context: context)
        case .methodNotAllowed:
            write(.methodNotAllowed, to: head, context: context)
        case .metrics, .health:
            responder(route, context.eventLoop).hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
                switch result {
                case .success(let response):
                    self.write(response, to: head, context: context)
                case .failure(let error):
                    self.write(.text(.internalServerError, "the \(route) check failed: \(error)"), to: head, context: context)
                }
            }
        }
    }

    private func write(_ response: MetricsHTTPResponse, to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = request.isKeepAlive
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        // HEAD gets the length the GET body would have, and no body.
        headers.add(name: "Content-Length", value: "\(response.body.count)")
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if request.version == .http1_0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        let head = HTTPResponseHead(version: request.version, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD && !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
        }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        }
    }
}
