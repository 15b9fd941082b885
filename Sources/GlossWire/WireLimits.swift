/// The sizes and counts a connection enforces (`Protocol/wire.md`, "Limits and timeouts").
public struct WireLimits: Hashable, Sendable {
    /// Payload bytes of one frame, checked on the header before the payload is read.
    public var maxFramePayload: Int
    /// Bytes of one message, uncompressed, all frames together.
    public var maxMessageBytes: Int
    public var maxRequestsInFlight: Int
    /// Payloads at least this large may be compressed.
    public var compressionThreshold: Int
    /// Before authentication, the largest frame payload and message (HELLO, the AUTH request,
    /// PING): an unauthenticated peer pins no more than this.
    public var maxAuthMessageBytes: Int
    /// Bytes one connection may hold in unfinished messages, all requests together; past it the
    /// request whose frame would cross it is refused `too-many-requests`.
    public var maxBufferedBytes: Int

    public init(
        maxFramePayload: Int = 1 << 20, maxMessageBytes: Int = 64 << 20, maxRequestsInFlight: Int = 32,
        compressionThreshold: Int = 512, maxAuthMessageBytes: Int = 64 << 10, maxBufferedBytes: Int = 64 << 20
    ) {
        self.maxFramePayload = maxFramePayload
        self.maxMessageBytes = maxMessageBytes
        self.maxRequestsInFlight = maxRequestsInFlight
        self.compressionThreshold = compressionThreshold
        self.maxAuthMessageBytes = maxAuthMessageBytes
        self.maxBufferedBytes = maxBufferedBytes
    }

    public static let `default` = WireLimits()

    /// What the assembler may hold once the peer is authenticated (or on the client's side,
    /// where the server is trusted as far as these limits go).
    public var assemblyBounds: MessageAssembler.Bounds {
        MessageAssembler.Bounds(
            maxMessageBytes: maxMessageBytes, maxUnfinished: maxRequestsInFlight, maxBufferedBytes: maxBufferedBytes)
    }

    /// What the assembler may hold before authentication: one small message.
    public var preAuthenticationBounds: MessageAssembler.Bounds {
        let cap = min(maxAuthMessageBytes, maxMessageBytes)
        return MessageAssembler.Bounds(maxMessageBytes: cap, maxUnfinished: 1, maxBufferedBytes: cap)
    }
}
