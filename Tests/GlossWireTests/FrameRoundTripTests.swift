import GlossWire
import NIOCore
import NIOEmbedded
import Testing

// WireMessage → frames → FrameEncoder → bytes → FrameDecoder → MessageAssembler → WireMessage,
// through real pipelines (EmbeddedChannel), with and without compression and frame splitting.

/// Small frames (so messages split into many) and a low compression threshold (so small
/// frames are compressed too).
private let smallLimits = WireLimits(
    maxFramePayload: 64, maxMessageBytes: 1 << 20, maxRequestsInFlight: 8, compressionThreshold: 16)

/// Sends frames through an encoding channel and a decoding channel; returns the decoded frames.
private func sendThroughPipelines(_ frames: [Frame], limits: WireLimits) throws -> [Frame] {
    let sender = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder()))
    let receiver = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(limits: limits)))
    try sender.writeOutbound(WireWrite.preface)
    for frame in frames { try sender.writeOutbound(WireWrite.frame(frame)) }
    while let bytes = try sender.readOutbound(as: ByteBuffer.self) { try receiver.writeInbound(bytes) }
    var decoded: [Frame] = []
    while let frame = try receiver.readInbound(as: Frame.self) { decoded.append(frame) }
    #expect(try sender.finish().isClean)
    #expect(try receiver.finish().isClean)
    return decoded
}

/// The frames of one message are well formed: within the limit, END on the last only.
private func checkShape(_ frames: [Frame], limits: WireLimits, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!frames.isEmpty, sourceLocation: sourceLocation)
    for (index, frame) in frames.enumerated() {
        #expect(frame.payload.readableBytes <= limits.maxFramePayload, sourceLocation: sourceLocation)
        #expect(frame.flags.contains(.end) == (index == frames.count - 1), sourceLocation: sourceLocation)
    }
}

@Test(arguments: [false, true], [false, true])
func everyMessageRoundTrips(compress: Bool, smallFrames: Bool) throws {
    let limits = smallFrames ? smallLimits : .default
    let messages = try Sample.everyMessage() + [Sample.bigPush]
    var frames: [Frame] = []
    for message in messages {
        let own = message.frames(limits: limits, compress: compress)
        checkShape(own, limits: limits)
        #expect(own.allSatisfy { $0.type == message.frameType && $0.requestID == message.requestID })
        frames += own
    }
    let decoded = try sendThroughPipelines(frames, limits: limits)
    #expect(decoded == frames)
    #expect(try assemble(decoded, limits: limits) == messages)

    // The test is only meaningful if the options took effect.
    let bigFrames = Sample.bigPush.frames(limits: limits, compress: compress)
    #expect(bigFrames.contains { $0.flags.contains(.compressed) } == compress)
    #expect(frames.contains { $0.flags.contains(.compressed) } == compress)
    if smallFrames { #expect(bigFrames.count > 40) } else { #expect(bigFrames.count == 1) }
}

@Test func compressedFramesAreSmallerAndOnlyAboveTheThreshold() throws {
    let frames = Sample.bigPush.frames(limits: .default, compress: true)
    let plain = Sample.bigPush.frames(limits: .default, compress: false)
    #expect(frames.count == 1 && plain.count == 1)
    #expect(frames[0].flags == [.end, .compressed])
    #expect(frames[0].payload.readableBytes < plain[0].payload.readableBytes / 2)
    // The first 4 bytes are the uncompressed length.
    #expect(frames[0].payload.getInteger(at: frames[0].payload.readerIndex, as: UInt32.self)
        == UInt32(plain[0].payload.readableBytes))

    // 511 compressible bytes stay as they are; 512 are compressed (threshold 512, wire.md).
    let below = WireMessage.stream(1, buffer(Array(repeating: 0x41, count: 511))).frames(compress: true)
    let at = WireMessage.stream(1, buffer(Array(repeating: 0x41, count: 512))).frames(compress: true)
    #expect(below.map(\.flags) == [.end])
    #expect(at.map(\.flags) == [[.end, .compressed]])

    // Incompressible data is sent uncompressed even when compression is on.
    let random = WireMessage.stream(1, buffer(noise(count: 4096, seed: 5))).frames(compress: true)
    #expect(random.map(\.flags) == [.end])
}

@Test func splittingAtAnExactMultipleAddsNoEmptyFrame() throws {
    let frames = WireMessage.stream(3, buffer(Array(0..<128))).frames(limits: smallLimits)
    #expect(frames.map(\.payload.readableBytes) == [64, 64])
    #expect(frames.map(\.flags) == [[], .end])
    // An empty message is one empty END frame.
    let cancel = WireMessage.cancel(3).frames(limits: smallLimits)
    #expect(cancel.map(\.payload.readableBytes) == [0])
    #expect(cancel.map(\.flags) == [.end])
    #expect(try assemble(cancel) == [.cancel(3)])
}

@Test(arguments: [false, true])
func interleavedFramesOfTwoRequestsAndAPingReassemble(compress: Bool) throws {
    let first = Sample.bigPush  // request 300
    let second = WireMessage.request(
        301, Sample.request(.createCorpus(.with { $0.name = "corpus-two"; $0.schemaJson = compressibleText(lines: 20) })))
    let ping = WireMessage.ping(opaque: 77)
    let a = first.frames(limits: smallLimits, compress: compress)
    let b = second.frames(limits: smallLimits, compress: compress)
    #expect(a.count > b.count && b.count > 3)

    // a0 b0 a1 b1 … with a PING after the second pair; the rest of a at the end.
    var mixed: [Frame] = []
    for index in 0..<max(a.count, b.count) {
        if index < a.count { mixed.append(a[index]) }
        if index < b.count { mixed.append(b[index]) }
        if index == 1 { mixed += ping.frames(limits: smallLimits) }
    }
    let decoded = try sendThroughPipelines(mixed, limits: smallLimits)
    // Messages come out as they complete: the ping first, then the shorter request.
    #expect(try assemble(decoded, limits: smallLimits) == [ping, second, first])
}

@Test func messageLargerThanOneFrameSplitsAtTheDefaultLimit() throws {
    let payload = noise(count: 2_200_000, seed: 9)
    let message = WireMessage.stream(8, buffer(payload))
    let frames = message.frames(limits: .default, compress: true)
    #expect(frames.map(\.payload.readableBytes) == [1_048_576, 1_048_576, 2_200_000 - 2 * 1_048_576])
    checkShape(frames, limits: .default)
    let decoded = try sendThroughPipelines(frames, limits: .default)
    #expect(try assemble(decoded) == [message])
}

@Test func wireErrorSurvivesAnErrorFrame() throws {
    let error = WireError(.rateLimited, "too many failed logins", retryAfterMilliseconds: 2500)
    let frames = WireMessage.error(4, error.errorBody).frames()
    guard case .error(let id, let body)? = try assemble(try decodeFrames(encode(frames), expectPreface: false)).first else {
        Issue.record("not an ERROR message")
        return
    }
    #expect(id == 4)
    #expect(WireError(body) == error)
    #expect(WireError(body).retryable)  // rate-limited is retryable (wire.md section 7)
}

@Test func invalidProtobufBodyIsBadMessage() throws {
    // A field header announcing a 10-byte string with 1 byte present.
    let frame = Frame(type: .hello, payload: buffer([0x22, 0x0A, 0x41]))
    let error = #expect(throws: WireError.self) { try assemble([frame]) }
    #expect(error?.code == .badMessage)
}
