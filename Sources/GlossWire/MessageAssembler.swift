import NIOCore

/// A whole message: the payloads of its frames, inflated and joined.
public struct AssembledMessage: Hashable, Sendable {
    public var type: FrameType
    public var requestID: UInt32
    public var payload: ByteBuffer
}

/// Joins frames into messages, per request id, enforcing the message size limit as frames
/// arrive (never after buffering) and inflating compressed frames under a cap.
public struct MessageAssembler: Sendable {
    private let limits: WireLimits
    private var partial: [UInt32: AssembledMessage] = [:]

    public init(limits: WireLimits = .default) { self.limits = limits }

    /// The message the frame completes, if it does.
    public mutating func append(_ frame: Frame) throws(WireError) -> AssembledMessage? {
        var payload = frame.payload
        if frame.flags.contains(.compressed) {
            payload = try FrameCompression.decompress(payload, maxLength: limits.maxFramePayload)
        }
        var message: AssembledMessage
        if let existing = partial.removeValue(forKey: frame.requestID) {
            guard existing.type == frame.type else {
                throw WireError(
                    .protocolError,
                    "a \(frame.type) frame for request \(frame.requestID) arrived inside an unfinished \(existing.type) message")
            }
            message = existing
        } else {
            // Each unfinished message pins memory: bound how many there can be at once.
            guard partial.count <= limits.maxRequestsInFlight else {
                throw WireError(.protocolError, "more than \(limits.maxRequestsInFlight) unfinished messages at once")
            }
            message = AssembledMessage(type: frame.type, requestID: frame.requestID, payload: ByteBuffer())
        }
        guard message.payload.readableBytes + payload.readableBytes <= limits.maxMessageBytes else {
            throw WireError(
                .messageTooLarge, "a \(frame.type) message grew past \(limits.maxMessageBytes) bytes")
        }
        if message.payload.readableBytes == 0 && frame.flags.contains(.end) {
            message.payload = payload  // the common single-frame message: no copy
        } else {
            message.payload.writeBuffer(&payload)
        }
        if frame.flags.contains(.end) { return message }
        partial[frame.requestID] = message
        return nil
    }

    /// Unfinished messages, for tests and diagnostics.
    public var unfinishedCount: Int { partial.count }
}
