import NIOCore

/// What a connection writes: the preface once, then frames.
public enum WireWrite: Sendable {
    case preface
    case frame(Frame)
}

/// Writes the preface and frame headers; payloads go out as they are.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = WireWrite

    public init() {}

    public func encode(data: WireWrite, out: inout ByteBuffer) {
        switch data {
        case .preface:
            out.writeBytes(Preface.bytes)
        case .frame(let frame):
            Self.write(frame, to: &out)
        }
    }

    public static func write(_ frame: Frame, to out: inout ByteBuffer) {
        out.reserveCapacity(minimumWritableBytes: Frame.headerSize + frame.payload.readableBytes)
        out.writeInteger(UInt32(frame.payload.readableBytes))
        out.writeInteger(frame.type.rawValue)
        out.writeInteger(frame.flags.rawValue)
        out.writeInteger(UInt16(0))
        out.writeInteger(frame.requestID)
        out.writeImmutableBuffer(frame.payload)
    }
}
