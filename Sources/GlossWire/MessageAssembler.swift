import NIOCore

/// A whole message: the payloads of its frames, inflated and joined.
public struct AssembledMessage: Hashable, Sendable {
    public var type: FrameType
    public var requestID: UInt32
    public var payload: ByteBuffer

    public init(type: FrameType, requestID: UInt32, payload: ByteBuffer) {
        self.type = type
        self.requestID = requestID
        self.payload = payload
    }
}

/// Bytes that several assemblers share (the server's budget for unfinished messages across
/// all connections). Reservations never exceed the total.
public protocol AssemblyBudget: Sendable {
    /// Takes `bytes` from the budget; false, taking nothing, if that would exceed it.
    func reserve(_ bytes: Int) -> Bool
    func release(_ bytes: Int)
}

/// Joins frames into messages, per request id, enforcing the size limits as frames arrive
/// (never after buffering) and inflating compressed frames under a cap.
///
/// Memory held in unfinished messages is bounded three ways: per message, per connection (all
/// its unfinished messages together), and, with an ``AssemblyBudget``, across connections.
/// The per-message and count limits are connection errors (the peer broke the announced
/// limits); the other two refuse just the request whose frame would cross them, so a busy
/// server sheds load without closing anyone's connection.
public struct MessageAssembler: Sendable {
    /// What may be held at once.
    public struct Bounds: Hashable, Sendable {
        public var maxMessageBytes: Int
        /// Unfinished messages at once.
        public var maxUnfinished: Int
        /// Bytes in unfinished messages, all together.
        public var maxBufferedBytes: Int

        public init(maxMessageBytes: Int, maxUnfinished: Int, maxBufferedBytes: Int) {
            self.maxMessageBytes = maxMessageBytes
            self.maxUnfinished = maxUnfinished
            self.maxBufferedBytes = maxBufferedBytes
        }
    }

    /// What a frame came to.
    public enum Outcome: Hashable, Sendable {
        /// Buffered: its message needs more frames (or the frame belonged to a refused request).
        case incomplete
        case complete(AssembledMessage)
        /// The request is refused with this error (send it as the request's ERROR); the rest of
        /// its frames, up to the one flagged END, are dropped unread.
        case refused(requestID: UInt32, WireError)
    }

    private let limits: WireLimits
    private let budget: (any AssemblyBudget)?
    /// The current bounds: the server tightens them until the peer is authenticated.
    public var bounds: Bounds
    private var partial: [UInt32: AssembledMessage] = [:]
    /// Refused requests whose remaining frames are still arriving.
    private var discarding: Set<UInt32> = []
    /// Bytes in unfinished messages (all of them reserved from the budget, when there is one).
    public private(set) var bufferedBytes = 0

    public init(limits: WireLimits = .default, bounds: Bounds? = nil, budget: (any AssemblyBudget)? = nil) {
        self.limits = limits
        self.bounds = bounds ?? limits.assemblyBounds
        self.budget = budget
    }

    /// The message the frame completes, if it does; a refusal is thrown, as a connection error
    /// would be (for peers that have no use for request-level refusals: the client).
    public mutating func append(_ frame: Frame) throws(WireError) -> AssembledMessage? {
        switch try assemble(frame) {
        case .incomplete: return nil
        case .complete(let message): return message
        case .refused(_, let error): throw error
        }
    }

    /// Adds a frame. Throws the connection errors: a message past ``Bounds/maxMessageBytes``,
    /// more than ``Bounds/maxUnfinished`` messages, a frame of another type inside a message,
    /// a compressed payload that does not inflate.
    public mutating func assemble(_ frame: Frame) throws(WireError) -> Outcome {
        if discarding.contains(frame.requestID) {
            if frame.flags.contains(.end) { discarding.remove(frame.requestID) }
            return .incomplete
        }
        var payload = frame.payload
        if frame.flags.contains(.compressed) {
            payload = try FrameCompression.decompress(payload, maxLength: limits.maxFramePayload)
        }
        let existing = partial.removeValue(forKey: frame.requestID)
        if existing == nil, !frame.flags.contains(.end), partial.count + discarding.count >= bounds.maxUnfinished {
            // Each unfinished message pins memory: bound how many there can be at once.
            throw WireError(.protocolError, "more than \(bounds.maxUnfinished) unfinished messages at once")
        }
        var message = existing ?? AssembledMessage(type: frame.type, requestID: frame.requestID, payload: ByteBuffer())
        if let existing, existing.type != frame.type {
            release(existing.payload.readableBytes)
            throw WireError(
                .protocolError,
                "a \(frame.type) frame for request \(frame.requestID) arrived inside an unfinished \(existing.type) message")
        }
        let held = message.payload.readableBytes
        guard held + payload.readableBytes <= bounds.maxMessageBytes else {
            release(held)
            throw WireError(.messageTooLarge, "a \(frame.type) message grew past \(bounds.maxMessageBytes) bytes")
        }
        if frame.flags.contains(.end) {
            release(held)
            if held == 0 {
                message.payload = payload  // the common single-frame message: no copy
            } else {
                message.payload.writeBuffer(&payload)
            }
            return .complete(message)
        }
        // The frame stays buffered: it must fit this connection's share and the shared budget.
        let added = payload.readableBytes
        if let refusal = refusal(adding: added, to: frame) {
            release(held)
            discarding.insert(frame.requestID)
            return .refused(requestID: frame.requestID, refusal)
        }
        bufferedBytes += added
        message.payload.writeBuffer(&payload)
        partial[frame.requestID] = message
        return .incomplete
    }

    /// Unfinished messages, for tests and diagnostics.
    public var unfinishedCount: Int { partial.count }

    /// Drops every unfinished message and gives its bytes back to the budget (the connection
    /// ended).
    public mutating func releaseAll() {
        release(bufferedBytes)
        partial.removeAll()
        discarding.removeAll()
    }

    private func refusal(adding bytes: Int, to frame: Frame) -> WireError? {
        guard bufferedBytes + bytes <= bounds.maxBufferedBytes else {
            return WireError(
                .tooManyRequests,
                "request \(frame.requestID) would take this connection's unfinished messages past \(bounds.maxBufferedBytes) bytes; finish sending the others first")
        }
        if let budget, !budget.reserve(bytes) {
            return WireError(
                .serverBusy, "the server holds as many unfinished messages as it can; send request \(frame.requestID) again shortly",
                retryAfterMilliseconds: 1000)
        }
        return nil
    }

    private mutating func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        bufferedBytes -= bytes
        budget?.release(bytes)
    }
}
