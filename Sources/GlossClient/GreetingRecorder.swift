import NIOCore
import Synchronization

/// Keeps the first bytes a server sent, before TLS sees them, so that a failed handshake can
/// say what answered instead (an SSH banner, an HTTP reply): BoringSSL only says "wrong
/// version number". Sits first in the pipeline and passes everything through unchanged.
final class GreetingRecorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// What the server sent first, shared with the task that reports the failure.
    final class Greeting: Sendable {
        static let limit = 64
        private let bytes = Mutex<[UInt8]>([])
        var value: [UInt8] { bytes.withLock { $0 } }

        fileprivate func record(_ buffer: ByteBuffer) -> Bool {
            bytes.withLock { kept in
                kept += buffer.readableBytesView.prefix(Self.limit - kept.count)
                return kept.count >= Self.limit
            }
        }
    }

    let greeting: Greeting

    init(_ greeting: Greeting) {
        self.greeting = greeting
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let full = greeting.record(unwrapInboundIn(data))
        context.fireChannelRead(data)
        // The first bytes are all a diagnosis needs: step out of the way of the rest.
        if full { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
    }
}
