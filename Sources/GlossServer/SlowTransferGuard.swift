import GlossWire
import NIOCore

/// Slow-loris protection: once a frame (or the preface) has started to arrive, it must keep
/// coming at `minimumRate` bytes per second on average, measured from its first byte once
/// `grace` has passed; otherwise the connection fails with `timeout` and is closed.
///
/// The idle timeout covers silence between frames and the handshake timeout a client that never
/// authenticates; this covers the gap between them: a peer that holds a connection (and a
/// partly filled buffer) open by trickling a frame a few bytes at a time.
///
/// It sits before the frame decoder and follows frame boundaries from the 12-byte headers
/// alone; the decoder still checks everything else.
final class SlowTransferGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let minimumRate: Int
    let grace: TimeAmount

    private var prefaceRemaining = Preface.bytes.count
    private var header: [UInt8] = []
    private var payloadRemaining = 0
    /// When the frame in progress began arriving, and how many of its bytes came since.
    private var started: NIODeadline?
    private var received = 0
    /// One check a second for the connection's life (not one scheduled per frame).
    private var check: RepeatedTask?

    init(minimumRate: Int, grace: TimeAmount = .seconds(10)) {
        self.minimumRate = minimumRate
        self.grace = grace
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data).readableBytesView
        let now = context.eventLoop.now
        var index = bytes.startIndex
        while index < bytes.endIndex {
            // These bytes belong to a frame (or the preface) in progress: start its clock.
            if started == nil {
                started = now
                received = 0
            }
            let available = bytes.endIndex - index
            let consumed: Int
            if prefaceRemaining > 0 {
                consumed = min(prefaceRemaining, available)
                prefaceRemaining -= consumed
            } else if payloadRemaining > 0 {
                consumed = min(payloadRemaining, available)
                payloadRemaining -= consumed
            } else {
                header.append(bytes[index])
                consumed = 1
                if header.count == Frame.headerSize {
                    payloadRemaining = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
                    header.removeAll(keepingCapacity: true)
                }
            }
            received += consumed
            index += consumed
            if !inFrame { started = nil }
        }
        context.fireChannelRead(data)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        check = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in
            self.evaluate(context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    /// Whether a frame (or the preface) has started and not yet finished.
    private var inFrame: Bool {
        (prefaceRemaining > 0 && prefaceRemaining < Preface.bytes.count) || !header.isEmpty || payloadRemaining > 0
    }

    private func evaluate(_ context: ChannelHandlerContext) {
        guard let started else { return }
        let elapsed = context.eventLoop.now - started
        if elapsed >= grace {
            let seconds = Double(elapsed.nanoseconds) / 1e9
            let rate = Double(received) / seconds
            if rate < Double(minimumRate) {
                check?.cancel()
                check = nil
                context.fireErrorCaught(
                    WireError(
                        .timeout,
                        "a frame has been arriving at \(Int(rate)) bytes/s for \(Int(seconds)) s; the minimum is \(minimumRate) bytes/s"
                    ))
            }
        }
    }
}
