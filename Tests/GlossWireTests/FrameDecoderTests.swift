import GlossWire
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

// FrameDecoder: what it accepts (in any chunking) and what it rejects, with which code, and
// how early (spec: wire.md sections 1 and 2).

private let t = (hello: UInt8(0x01), welcome: UInt8(0x02), request: UInt8(0x03), response: UInt8(0x04),
    stream: UInt8(0x05), error: UInt8(0x06), ping: UInt8(0x07), pong: UInt8(0x08), goaway: UInt8(0x09), cancel: UInt8(0x0A))

private func frame(_ type: FrameType, _ payload: [UInt8] = [], flags: FrameFlags = .end, id: UInt32 = 0) -> Frame {
    Frame(type: type, flags: flags, requestID: id, payload: buffer(payload))
}

/// Frames of every type, with empty, small and limit-sized payloads, paired with their bytes
/// (built by hand, not by FrameEncoder).
private func sampleFrames(payloadLimit: Int) -> [(bytes: [UInt8], frame: Frame)] {
    let big = noise(count: payloadLimit, seed: 7)
    return [
        (rawFrame(type: t.hello, payload: [0x08, 0x01, 0x10, 0x01]), frame(.hello, [0x08, 0x01, 0x10, 0x01])),
        (rawFrame(type: t.welcome, payload: [0x08, 0x01]), frame(.welcome, [0x08, 0x01])),
        (rawFrame(type: t.request, flags: 0x00, requestID: 1, payload: [1, 2, 3]), frame(.request, [1, 2, 3], flags: [], id: 1)),
        (rawFrame(type: t.request, requestID: 1, payload: [4]), frame(.request, [4], id: 1)),
        (rawFrame(type: t.response, flags: 0x03, requestID: 0xFFFF_FFFF, payload: big),
            frame(.response, big, flags: [.end, .compressed], id: 0xFFFF_FFFF)),
        (rawFrame(type: t.stream, flags: 0x00, requestID: 2, payload: []), frame(.stream, flags: [], id: 2)),
        (rawFrame(type: t.stream, flags: 0x02, requestID: 2, payload: [9, 9]), frame(.stream, [9, 9], flags: .compressed, id: 2)),
        (rawFrame(type: t.error, requestID: 0, payload: [0x0A, 0x01, 0x78]), frame(.error, [0x0A, 0x01, 0x78], id: 0)),
        (rawFrame(type: t.error, requestID: 9, payload: []), frame(.error, id: 9)),
        (rawFrame(type: t.ping, payload: [0x09, 1, 2, 3, 4, 5, 6, 7, 8]), frame(.ping, [0x09, 1, 2, 3, 4, 5, 6, 7, 8])),
        (rawFrame(type: t.pong, payload: []), frame(.pong)),
        (rawFrame(type: t.goaway, payload: [0x08, 0x05]), frame(.goaway, [0x08, 0x05])),
        (rawFrame(type: t.cancel, requestID: 0x0102_0304, payload: []), frame(.cancel, id: 0x0102_0304)),
    ]
}

// MARK: - Accepting

@Test func decoderPassesNIOVerifierForFramesOfEveryType() throws {
    // A small limit keeps the byte-by-byte feeding fast while still covering a payload of
    // exactly the limit.
    let limits = WireLimits(maxFramePayload: 300)
    let samples = sampleFrames(payloadLimit: 300)
    var pairs = samples.map { (buffer($0.bytes), [$0.frame]) }
    // Several frames in one buffer.
    pairs.append((buffer(samples[2].bytes + samples[3].bytes + samples[12].bytes), [samples[2].frame, samples[3].frame, samples[12].frame]))
    // The verifier reuses one decoder for all inputs in shuffled order, so the preface (read
    // once per connection) is covered by the drip-feed tests below instead.
    try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
        FrameDecoder(expectPreface: false, limits: limits)
    }
}

/// Feeds `bytes` in chunks of the given sizes through an EmbeddedChannel and returns the frames.
private func feed(_ bytes: [UInt8], chunks: [Int], limits: WireLimits = .default) throws -> [Frame] {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(limits: limits)))
    var frames: [Frame] = []
    var offset = 0
    for size in chunks where offset < bytes.count {
        let end = min(bytes.count, offset + size)
        try channel.writeInbound(buffer(Array(bytes[offset..<end])))
        offset = end
        while let frame = try channel.readInbound(as: Frame.self) { frames.append(frame) }
    }
    #expect(offset == bytes.count)
    #expect(try channel.finish().isClean)
    return frames
}

@Test func prefaceAndFramesDecodeByteByByte() throws {
    let samples = sampleFrames(payloadLimit: 300)
    let bytes = Preface.bytes + samples.flatMap(\.bytes)
    let frames = try feed(bytes, chunks: Array(repeating: 1, count: bytes.count))
    #expect(frames == samples.map(\.frame))
}

@Test(arguments: [1 as UInt64, 2, 3, 4])
func prefaceAndFramesDecodeInRandomChunks(seed: UInt64) throws {
    let samples = sampleFrames(payloadLimit: 300)
    let bytes = Preface.bytes + samples.flatMap(\.bytes)
    // Chunk sizes 1...40 from a seeded generator: they cut the preface, headers and payloads
    // at arbitrary points.
    let chunks = noise(count: bytes.count, seed: seed).map { Int($0 % 40) + 1 }
    let frames = try feed(bytes, chunks: chunks)
    #expect(frames == samples.map(\.frame))
}

@Test func prefaceAloneProducesNothingAndWaitsForAFrame() throws {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
    try channel.writeInbound(buffer(Preface.bytes))
    #expect(try channel.readInbound(as: Frame.self) == nil)
    try channel.writeInbound(buffer(rawFrame(type: t.ping, payload: [])))
    #expect(try channel.readInbound(as: Frame.self) == frame(.ping))
    #expect(try channel.finish().isClean)
}

@Test func payloadOfExactlyTheDefaultLimitIsAccepted() throws {
    let payload = noise(count: WireLimits.default.maxFramePayload, seed: 3)
    let bytes = Preface.bytes + rawFrame(type: t.stream, requestID: 5, payload: payload)
    let frames = try feed(bytes, chunks: [5, 10, 400_000, 400_000, 400_000])
    #expect(frames == [frame(.stream, payload, id: 5)])
}

// MARK: - Rejecting

/// Writes `accepted` (which must not fail), then `rejected`, through a fresh channel, and
/// returns what the second write threw.
private func rejection(
    after accepted: [UInt8] = Preface.bytes, feeding rejected: [UInt8], expectPreface: Bool = true,
    limits: WireLimits = .default
) throws -> WireError? {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(expectPreface: expectPreface, limits: limits)))
    defer { _ = try? channel.finish() }
    if !accepted.isEmpty { try channel.writeInbound(buffer(accepted)) }
    let error = #expect(throws: WireError.self) { try channel.writeInbound(buffer(rejected)) }
    #expect(try channel.readInbound(as: Frame.self) == nil)
    return error
}

@Test func garbageInsteadOfThePrefaceIsBadPreface() throws {
    // A TLS ClientHello record header: someone spoke TLS inside the TLS connection.
    let error = try rejection(after: [], feeding: [0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00, 0x00])
    #expect(error?.code == .badPreface)
    #expect(error?.message.contains("89 47 4C 53 0D 0A 1A 0A") == true)
    #expect(error?.message.contains("HTTP") == false)
}

@Test func httpRequestIsBadPrefaceAndSaysThisIsNotAnHTTPServer() throws {
    let error = try rejection(after: [], feeding: Array("GET / HTTP/1.1\r\nHost: example\r\n\r\n".utf8))
    #expect(error?.code == .badPreface)
    #expect(error?.message.contains("not an HTTP server") == true)
}

@Test func httpRequestFailsOnItsFirstByte() throws {
    // A client that waits for the server to speak first must not hang: "G" alone is enough.
    let error = try rejection(after: [], feeding: Array("G".utf8))
    #expect(error?.code == .badPreface)
    #expect(error?.message.contains("not an HTTP server") == true)
}

@Test func prefaceFailsOnTheFirstMismatchingByte() throws {
    // A channel that rewrote CR LF to LF: the first four bytes are right, the fifth is not.
    let error = try rejection(after: Array(Preface.bytes.prefix(4)), feeding: [0x0A])
    #expect(error?.code == .badPreface)
}

@Test func prefaceIsRequiredOnlyOnce() throws {
    // After the preface, the same bytes are read as a frame header (length 0x89474C53, type
    // 0x0D, flags 0x0A, reserved 0x1A0A): refused as a frame, not skipped as a preface.
    let error = try rejection(after: Preface.bytes, feeding: Preface.bytes + [0, 0, 0, 0])
    #expect(error.map { [.protocolError, .frameTooLarge].contains($0.code) } == true)
}

@Test(arguments: [0x00 as UInt8, 0x0B, 0x7F, 0xFF])
func unknownFrameTypeIsProtocolError(type: UInt8) throws {
    let error = try rejection(feeding: rawHeader(length: 0, type: type))
    #expect(error?.code == .protocolError)
    #expect(error?.message.contains(String(type, radix: 16)) == true)
}

@Test(arguments: [0x04 as UInt8, 0x05, 0x08, 0x80, 0xFF])
func unknownFlagBitsAreProtocolError(flags: UInt8) throws {
    let error = try rejection(feeding: rawHeader(length: 0, type: t.ping, flags: flags))
    #expect(error?.code == .protocolError)
}

@Test(arguments: [0x0001 as UInt16, 0x0100, 0x8000])
func nonZeroReservedFieldIsProtocolError(reserved: UInt16) throws {
    let error = try rejection(feeding: rawHeader(length: 0, type: t.ping, reserved: reserved))
    #expect(error?.code == .protocolError)
}

@Test(arguments: [0x8000_0000 as UInt32, 0xFFFF_FFFF, 1_048_577])
func oversizedLengthIsRejectedFromTheHeaderAlone(length: UInt32) throws {
    // Only the 12 header bytes are fed: the decoder must not wait for (or buffer) the payload.
    let error = try rejection(feeding: rawHeader(length: length, type: t.request, requestID: 1))
    #expect(error?.code == .frameTooLarge)
    #expect(error?.message.contains("\(length)") == true)
}

@Test func lengthLimitFollowsTheConfiguredLimits() throws {
    let limits = WireLimits(maxFramePayload: 64)
    let error = try rejection(feeding: rawHeader(length: 65, type: t.stream, requestID: 1), limits: limits)
    #expect(error?.code == .frameTooLarge)
    // 64 is fine: the header is accepted and the decoder waits for the payload.
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(limits: limits)))
    try channel.writeInbound(buffer(Preface.bytes + rawHeader(length: 64, type: t.stream, requestID: 1)))
    #expect(try channel.readInbound(as: Frame.self) == nil)
    try channel.writeInbound(buffer(Array(repeating: 0xEE, count: 64)))
    #expect(try channel.readInbound(as: Frame.self) == frame(.stream, Array(repeating: 0xEE, count: 64), id: 1))
}

@Test(arguments: [
    (t.hello, 7), (t.welcome, 1), (t.ping, 3), (t.pong, 0xFFFF_FFFF), (t.goaway, 2),  // must be 0
    (t.request, 0), (t.response, 0), (t.stream, 0), (t.cancel, 0),  // must not be 0
] as [(UInt8, UInt32)])
func wrongKindOfRequestIDIsProtocolErrorFromTheHeader(type: UInt8, requestID: UInt32) throws {
    let error = try rejection(feeding: rawHeader(length: 10, type: type, requestID: requestID))
    #expect(error?.code == .protocolError)
}

@Test func errorFramesMayCarryAnyRequestID() throws {
    let frames = try decodeFrames(
        buffer(rawFrame(type: t.error, requestID: 0, payload: []) + rawFrame(type: t.error, requestID: 12, payload: [])),
        expectPreface: false)
    #expect(frames.map(\.requestID) == [0, 12])
}

@Test func connectionEndingInsideAFrameIsProtocolError() throws {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
    // A whole frame, then a header announcing 10 bytes and only 4 of them.
    try channel.writeInbound(buffer(Preface.bytes + rawFrame(type: t.ping, payload: [])
        + rawHeader(length: 10, type: t.request, requestID: 1) + [1, 2, 3, 4]))
    #expect(try channel.readInbound(as: Frame.self) == frame(.ping))
    let error = #expect(throws: WireError.self) { try channel.finish() }
    #expect(error?.code == .protocolError)
}

@Test func connectionEndingInsideTheHeaderOrPrefaceIsAnError() throws {
    var decoder = FrameDecoder()
    var input = buffer(Preface.bytes + [0, 0, 0])
    #expect(try decoder.decode(buffer: &input) == nil)
    #expect(throws: WireError.self) { try decoder.decodeLast(buffer: &input, seenEOF: true) }

    var decoder2 = FrameDecoder()
    var input2 = buffer(Array(Preface.bytes.prefix(3)))
    #expect(try decoder2.decode(buffer: &input2) == nil)
    #expect(throws: WireError.self) { try decoder2.decodeLast(buffer: &input2, seenEOF: true) }
}

@Test func connectionEndingBetweenFramesIsClean() throws {
    var decoder = FrameDecoder()
    var input = buffer(Preface.bytes + rawFrame(type: t.pong, payload: []))
    #expect(try decoder.decodeLast(buffer: &input, seenEOF: true) == frame(.pong))
    #expect(try decoder.decodeLast(buffer: &input, seenEOF: true) == nil)
}
