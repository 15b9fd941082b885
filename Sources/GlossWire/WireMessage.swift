import NIOCore
import SwiftProtobuf

/// A decoded message of the Gloss protocol: a frame type with its protobuf body.
public enum WireMessage: Sendable, Equatable {
    case hello(Gloss_V1_Hello)
    case welcome(Gloss_V1_Welcome)
    case request(UInt32, Gloss_V1_Request)
    case response(UInt32, Gloss_V1_Response)
    /// A STREAM item, left encoded: its type (`StreamItem` or `Notification`) depends on the
    /// request it belongs to, which only the requester knows.
    case stream(UInt32, ByteBuffer)
    case error(UInt32, Gloss_V1_Error)
    /// A PING, its payload left as it came: the answer echoes it byte for byte (wire.md,
    /// "Ping"), so it is never decoded, and a payload that is not a `Ping` is not an error.
    case ping(ByteBuffer)
    /// A PONG, its payload (the echoed PING payload) left as it came.
    case pong(ByteBuffer)
    case goaway(Gloss_V1_Goaway)
    case cancel(UInt32)

    /// A PING whose payload is the `Ping` message carrying `opaque`.
    public static func ping(opaque: UInt64) -> WireMessage {
        .ping(pingPayload(opaque))
    }

    /// A PONG whose payload is the `Ping` message carrying `opaque`.
    public static func pong(opaque: UInt64) -> WireMessage {
        .pong(pingPayload(opaque))
    }

    private static func pingPayload(_ opaque: UInt64) -> ByteBuffer {
        // Encoding a proto3 message built in memory cannot fail.
        ByteBuffer(bytes: (try? Gloss_V1_Ping.with { $0.opaque = opaque }.serializedBytes() as [UInt8]) ?? [])
    }

    /// The `opaque` value of a PING or PONG whose payload is a valid `Ping`; nil otherwise.
    public var pingOpaque: UInt64? {
        switch self {
        case .ping(let b), .pong(let b): try? Gloss_V1_Ping(serializedBytes: Array(b.readableBytesView)).opaque
        default: nil
        }
    }

    public var frameType: FrameType {
        switch self {
        case .hello: .hello
        case .welcome: .welcome
        case .request: .request
        case .response: .response
        case .stream: .stream
        case .error: .error
        case .ping: .ping
        case .pong: .pong
        case .goaway: .goaway
        case .cancel: .cancel
        }
    }

    public var requestID: UInt32 {
        switch self {
        case .request(let id, _), .response(let id, _), .stream(let id, _), .error(let id, _), .cancel(let id): id
        case .hello, .welcome, .ping, .pong, .goaway: 0
        }
    }

    /// Decodes an assembled message; a body that is not valid protobuf is `bad-message`.
    public init(_ message: AssembledMessage) throws(WireError) {
        let id = message.requestID
        // STREAM payloads (nearly all of a clone) are kept as they are: no copy.
        switch message.type {
        case .stream:
            self = .stream(id, message.payload)
            return
        case .cancel:
            self = .cancel(id)
            return
        case .ping:
            self = .ping(message.payload)
            return
        case .pong:
            self = .pong(message.payload)
            return
        default:
            break
        }
        let bytes = Array(message.payload.readableBytesView)
        do {
            switch message.type {
            case .hello: self = .hello(try Gloss_V1_Hello(serializedBytes: bytes))
            case .welcome: self = .welcome(try Gloss_V1_Welcome(serializedBytes: bytes))
            case .request:
                try PushShapeScan.check(bytes)
                self = .request(id, try Gloss_V1_Request(serializedBytes: bytes))
            case .response: self = .response(id, try Gloss_V1_Response(serializedBytes: bytes))
            case .stream, .cancel, .ping, .pong: preconditionFailure("handled above")
            case .error: self = .error(id, try Gloss_V1_Error(serializedBytes: bytes))
            case .goaway: self = .goaway(try Gloss_V1_Goaway(serializedBytes: bytes))
            }
        } catch let error as WireError {
            throw error
        } catch {
            throw WireError(.badMessage, "the \(message.type) message of request \(id) is not valid: \(error)")
        }
    }

    /// The body's bytes.
    public func payload() -> ByteBuffer {
        func encode(_ m: some SwiftProtobuf.Message) -> ByteBuffer {
            // Encoding a message built in memory only fails for proto2 required fields, which
            // gloss.proto (proto3) has none of.
            ByteBuffer(bytes: (try? m.serializedBytes() as [UInt8]) ?? [])
        }
        switch self {
        case .hello(let m): return encode(m)
        case .welcome(let m): return encode(m)
        case .request(_, let m): return encode(m)
        case .response(_, let m): return encode(m)
        case .stream(_, let b): return b
        case .error(_, let m): return encode(m)
        case .ping(let b), .pong(let b): return b
        case .goaway(let m): return encode(m)
        case .cancel: return ByteBuffer()
        }
    }

    /// The frames that carry this message: split at the frame limit, each chunk deflated when
    /// `compress` is on, it is large enough and deflate makes it smaller.
    public func frames(limits: WireLimits = .default, compress: Bool = false) -> [Frame] {
        Self.frames(type: frameType, requestID: requestID, payload: payload(), limits: limits, compress: compress)
    }

    public static func frames(
        type: FrameType, requestID: UInt32, payload: ByteBuffer, limits: WireLimits, compress: Bool
    ) -> [Frame] {
        var rest = payload
        var frames: [Frame] = []
        repeat {
            var chunk = rest.readSlice(length: min(rest.readableBytes, limits.maxFramePayload))!
            var flags: FrameFlags = rest.readableBytes == 0 ? .end : []
            if compress && chunk.readableBytes >= limits.compressionThreshold,
                let deflated = FrameCompression.compress(chunk)
            {
                chunk = deflated
                flags.insert(.compressed)
            }
            frames.append(Frame(type: type, flags: flags, requestID: requestID, payload: chunk))
        } while rest.readableBytes > 0
        return frames
    }
}

extension WireError {
    /// The body of an ERROR frame.
    public var errorBody: Gloss_V1_Error {
        Gloss_V1_Error.with {
            $0.code = code.rawValue
            $0.retryable = retryable
            $0.message = message
            $0.retryAfterMs = retryAfterMilliseconds
        }
    }

    /// Reads an ERROR frame's body back.
    public init(_ error: Gloss_V1_Error) {
        self.init(
            Code(rawValue: error.code), error.message, retryable: error.retryable,
            retryAfterMilliseconds: error.retryAfterMs)
    }
}
