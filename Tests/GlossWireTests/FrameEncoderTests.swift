import GlossWire
import NIOCore
import NIOEmbedded
import Testing

// FrameEncoder in a pipeline: the bytes on the wire match the layout of wire.md section 2,
// checked byte by byte rather than against the decoder.

@Test func encoderWritesPrefaceThenSpecLayoutBigEndian() throws {
    let channel = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder()))
    let payload = noise(count: 0x012C, seed: 11)  // 300 bytes: a length with two non-zero bytes
    try channel.writeOutbound(WireWrite.preface)
    try channel.writeOutbound(WireWrite.frame(Frame(
        type: .stream, flags: [.end, .compressed], requestID: 0x0A0B_0C0D, payload: buffer(payload))))

    let preface = try #require(try channel.readOutbound(as: ByteBuffer.self))
    #expect(Array(preface.readableBytesView) == [0x89, 0x47, 0x4C, 0x53, 0x0D, 0x0A, 0x1A, 0x0A])

    let frame = try #require(try channel.readOutbound(as: ByteBuffer.self))
    let bytes = Array(frame.readableBytesView)
    #expect(bytes.count == 12 + 300)
    #expect(Array(bytes[0..<4]) == [0x00, 0x00, 0x01, 0x2C])  // length
    #expect(bytes[4] == 0x05)  // type STREAM
    #expect(bytes[5] == 0x03)  // flags END | COMPRESSED
    #expect(Array(bytes[6..<8]) == [0x00, 0x00])  // reserved
    #expect(Array(bytes[8..<12]) == [0x0A, 0x0B, 0x0C, 0x0D])  // request id
    #expect(Array(bytes[12...]) == payload)
    #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    #expect(try channel.finish().isClean)
}

@Test func encoderWritesEveryFrameTypeAndFlagCombination() throws {
    let channel = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder()))
    for type in FrameType.allCases {
        for flags: FrameFlags in [[], .end, .compressed, [.end, .compressed]] {
            let id: UInt32 = type == .hello ? 0 : 0x8000_0001
            try channel.writeOutbound(WireWrite.frame(Frame(type: type, flags: flags, requestID: id, payload: buffer([0xAA]))))
            let out = try #require(try channel.readOutbound(as: ByteBuffer.self))
            #expect(Array(out.readableBytesView)
                == rawHeader(length: 1, type: type.rawValue, flags: flags.rawValue, requestID: id) + [0xAA])
        }
    }
    #expect(FrameType.allCases.map(\.rawValue) == Array(0x01...0x0A))
}

@Test func encoderWritesEmptyPayloadAsBareHeader() throws {
    let channel = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder()))
    try channel.writeOutbound(WireWrite.frame(Frame(type: .cancel, requestID: 258, payload: ByteBuffer())))
    let out = try #require(try channel.readOutbound(as: ByteBuffer.self))
    #expect(Array(out.readableBytesView) == [0, 0, 0, 0, 0x0A, 0x01, 0, 0, 0, 0, 0x01, 0x02])
}

@Test func encoderWritesOnlyTheReadableBytesOfAPayloadSlice() throws {
    // Payloads are often slices of a bigger buffer (MessageAssembler, WireMessage.frames):
    // the length and the bytes are those of the readable part only.
    var whole = buffer(Array(0..<100))
    whole.moveReaderIndex(forwardBy: 90)
    var out = ByteBuffer()
    FrameEncoder.write(Frame(type: .stream, requestID: 1, payload: whole), to: &out)
    #expect(Array(out.readableBytesView) == rawHeader(length: 10, type: 0x05, requestID: 1) + Array(90..<100))
}
