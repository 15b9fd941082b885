import NIOCore

/// Reads the preface (when expected) and then frames, validating every header field and the
/// announced length **before** waiting for or buffering the payload.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = Frame

    private var expectingPreface: Bool
    private let maxFramePayload: Int
    private let cap: FramePayloadCap?

    /// - Parameters:
    ///   - expectPreface: true on both sides: the client sends the preface, and the server
    ///     echoes it before its first frame.
    ///   - cap: when set, the limit in force instead of `limits.maxFramePayload` (the server's
    ///     is small until the peer has authenticated).
    public init(expectPreface: Bool = true, limits: WireLimits = .default, cap: FramePayloadCap? = nil) {
        self.expectingPreface = expectPreface
        self.maxFramePayload = limits.maxFramePayload
        self.cap = cap
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        if expectingPreface {
            // Compare what has arrived so far, so that "GET / HTTP/1.1" fails on its first byte.
            let available = min(buffer.readableBytes, Preface.bytes.count)
            let got = buffer.getBytes(at: buffer.readerIndex, length: available) ?? []
            guard got == Array(Preface.bytes.prefix(available)) else {
                throw WireError(.badPreface, Self.describePreface(got))
            }
            guard available == Preface.bytes.count else { return nil }
            buffer.moveReaderIndex(forwardBy: available)
            expectingPreface = false
        }
        guard buffer.readableBytes >= Frame.headerSize,
            let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
            let rawType = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt8.self),
            let rawFlags = buffer.getInteger(at: buffer.readerIndex + 5, as: UInt8.self),
            let reserved = buffer.getInteger(at: buffer.readerIndex + 6, as: UInt16.self),
            let requestID = buffer.getInteger(at: buffer.readerIndex + 8, as: UInt32.self)
        else { return nil }

        guard let type = FrameType(rawValue: rawType) else {
            throw WireError(.protocolError, "unknown frame type 0x\(String(rawType, radix: 16))")
        }
        let flags = FrameFlags(rawValue: rawFlags)
        guard FrameFlags.known.isSuperset(of: flags), reserved == 0 else {
            throw WireError(
                .protocolError, "\(type) frame has unknown flags 0x\(String(rawFlags, radix: 16)) or reserved bits set")
        }
        let limit = cap?.bytes ?? maxFramePayload
        guard Int(length) <= limit else {
            let when = limit < maxFramePayload ? " before authentication" : ""
            throw WireError(.frameTooLarge, "\(type) frame announces \(length) bytes; the limit\(when) is \(limit)")
        }
        switch type.requestIDRule {
        case .zero where requestID != 0:
            throw WireError(.protocolError, "\(type) frame must have request id 0, has \(requestID)")
        case .nonZero where requestID == 0:
            throw WireError(.protocolError, "\(type) frame needs a non-zero request id")
        default:
            break
        }
        guard buffer.readableBytes >= Frame.headerSize + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: Frame.headerSize)
        let payload = buffer.readSlice(length: Int(length))!
        return Frame(type: type, flags: flags, requestID: requestID, payload: payload)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        if buffer.readableBytes > 0 {
            throw WireError(.protocolError, "the connection ended inside a frame (\(buffer.readableBytes) bytes left)")
        }
        return nil
    }

    private static func describePreface(_ got: [UInt8]) -> String {
        let text = String(decoding: got.prefix(4), as: UTF8.self)
        if ["GET ", "POST", "HEAD", "PUT ", "PRI "].contains(where: { text.hasPrefix($0) || $0.hasPrefix(text) }) {
            return "this is a Gloss server, not an HTTP server: use the gloss client (gloss://host:port/corpus)"
        }
        return "the connection did not start with the Gloss preface 89 47 4C 53 0D 0A 1A 0A"
    }
}
