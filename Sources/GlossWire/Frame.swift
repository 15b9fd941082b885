import NIOCore

/// One frame of the Gloss protocol: a 12-byte big-endian header and a payload.
///
/// ```
/// u32 length | u8 type | u8 flags | u16 reserved (0) | u32 request id | payload
/// ```
public struct Frame: Hashable, Sendable {
    public var type: FrameType
    public var flags: FrameFlags
    public var requestID: UInt32
    /// The payload as sent: when ``FrameFlags/compressed`` is set, a u32 uncompressed length
    /// followed by raw deflate.
    public var payload: ByteBuffer

    public init(type: FrameType, flags: FrameFlags = .end, requestID: UInt32 = 0, payload: ByteBuffer) {
        self.type = type
        self.flags = flags
        self.requestID = requestID
        self.payload = payload
    }

    public static let headerSize = 12
}

/// The frame types of version 1.
public enum FrameType: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case hello = 0x01
    case welcome = 0x02
    case request = 0x03
    case response = 0x04
    case stream = 0x05
    case error = 0x06
    case ping = 0x07
    case pong = 0x08
    case goaway = 0x09
    case cancel = 0x0A

    public var description: String {
        switch self {
        case .hello: "HELLO"
        case .welcome: "WELCOME"
        case .request: "REQUEST"
        case .response: "RESPONSE"
        case .stream: "STREAM"
        case .error: "ERROR"
        case .ping: "PING"
        case .pong: "PONG"
        case .goaway: "GOAWAY"
        case .cancel: "CANCEL"
        }
    }

    /// Frames about the connection carry request id 0; the others a request's non-zero id.
    /// ERROR may be either.
    var requestIDRule: RequestIDRule {
        switch self {
        case .hello, .welcome, .ping, .pong, .goaway: .zero
        case .request, .response, .stream, .cancel: .nonZero
        case .error: .any
        }
    }

    enum RequestIDRule { case zero, nonZero, any }
}

/// Frame flags: END marks the last frame of a message; COMPRESSED a deflated payload.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let end = FrameFlags(rawValue: 1 << 0)
    public static let compressed = FrameFlags(rawValue: 1 << 1)

    public static let known: FrameFlags = [.end, .compressed]
}

/// The 8 bytes a client sends first, and the server echoes: `\x89GLS\r\n\x1a\n`.
public enum Preface {
    public static let bytes: [UInt8] = [0x89, 0x47, 0x4C, 0x53, 0x0D, 0x0A, 0x1A, 0x0A]
}
