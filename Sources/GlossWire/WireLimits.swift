/// The sizes and counts a connection enforces (`Protocol/wire.md`, "Limits and timeouts").
public struct WireLimits: Hashable, Sendable {
    /// Payload bytes of one frame, checked on the header before the payload is read.
    public var maxFramePayload: Int
    /// Bytes of one message, uncompressed, all frames together.
    public var maxMessageBytes: Int
    public var maxRequestsInFlight: Int
    /// Payloads at least this large may be compressed.
    public var compressionThreshold: Int

    public init(
        maxFramePayload: Int = 1 << 20, maxMessageBytes: Int = 64 << 20, maxRequestsInFlight: Int = 32,
        compressionThreshold: Int = 512
    ) {
        self.maxFramePayload = maxFramePayload
        self.maxMessageBytes = maxMessageBytes
        self.maxRequestsInFlight = maxRequestsInFlight
        self.compressionThreshold = compressionThreshold
    }

    public static let `default` = WireLimits()
}
