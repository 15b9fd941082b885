import Metrics
import NIOCore
import NIOSSL

/// Watches a connection's pipeline right after the TLS handler: counts the bytes between TLS
/// and the frame codec, and notes whether the TLS handshake failed.
///
/// The bytes are the protocol's own (preface, frame headers, payloads as sent, compressed or
/// not), without TLS records. Sitting before any decoding, it sees whole reads: a frame split
/// over reads or a message the decoder refuses is still counted.
///
/// The TLS outcome is noted here, in the pipeline, because the connection's own code may never
/// see it: a handshake that fails before the connection task starts closes the channel, and
/// the task's first write then fails with a closed channel instead of the TLS error.
final class ConnectionMetricsHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let received: Metrics.Counter
    private let sent: Metrics.Counter
    private let probe: TLSHandshakeProbe

    init(metrics: ServerMetrics, probe: TLSHandshakeProbe) {
        self.received = metrics.bytesReceived
        self.sent = metrics.bytesSent
        self.probe = probe
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = unwrapInboundIn(data).readableBytes
        if count > 0 { received.increment(by: count) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Counted when handed to TLS rather than when flushed: a write that then fails with
        // the connection is rare, and waiting on every promise would cost an allocation each.
        let count = unwrapOutboundIn(data).readableBytes
        if count > 0 { sent.increment(by: count) }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case NIOSSLError.handshakeFailed = error { probe.handshakeFailed() }
        context.fireErrorCaught(error)
    }
}
