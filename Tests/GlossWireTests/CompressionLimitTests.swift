import GlossWire
import NIOCore
import Testing

// FrameCompression (wire.md, "Compression") and the limits MessageAssembler enforces
// (wire.md section 2 and "Limits and timeouts"). Tampered payloads are made from
// FrameCompression's own output: the test target has no direct zlib dependency.

private let text = buffer(compressibleText(lines: 100))

/// A compressed payload with its declared length replaced.
private func withDeclaredLength(_ compressed: ByteBuffer, _ length: UInt32) -> ByteBuffer {
    var copy = compressed
    copy.setInteger(length, at: copy.readerIndex)
    return copy
}

private func declaredLength(_ compressed: ByteBuffer) -> UInt32 {
    compressed.getInteger(at: compressed.readerIndex, as: UInt32.self)!
}

private func decompressionError(_ payload: ByteBuffer, maxLength: Int = 1 << 20) -> WireError? {
    #expect(throws: WireError.self) { try FrameCompression.decompress(payload, maxLength: maxLength) }
}

/// 100 MB of zeros, deflated once (about 100 KB): a decompression bomb.
private let bomb: ByteBuffer = {
    FrameCompression.compress(ByteBuffer(repeating: 0, count: 100_000_000))!
}()

// MARK: - FrameCompression

@Test func compressThenDecompressGivesTheSameBytes() throws {
    let compressed = try #require(FrameCompression.compress(text))
    #expect(declaredLength(compressed) == UInt32(text.readableBytes))
    #expect(compressed.readableBytes < text.readableBytes / 2)
    #expect(try FrameCompression.decompress(compressed, maxLength: text.readableBytes) == text)
}

@Test func compressRefusesWhenItDoesNotShrink() {
    #expect(FrameCompression.compress(buffer(noise(count: 2000, seed: 4))) == nil)
    #expect(FrameCompression.compress(buffer([1, 2, 3])) == nil)
}

@Test(arguments: [1000 as UInt32, 1 << 20])
func decompressionBombFailsAtTheDeclaredLength(declared: UInt32) throws {
    #expect(bomb.readableBytes < 200_000)
    #expect(declaredLength(bomb) == 100_000_000)
    // Declared small, or exactly at the limit: inflation stops one byte past it.
    let error = decompressionError(withDeclaredLength(bomb, declared), maxLength: 1 << 20)
    #expect(error?.code == .decompressionFailed)
}

@Test func bombWithItsTrueLengthIsRefusedByTheDeclaredLengthCheck() {
    let error = decompressionError(bomb, maxLength: 1 << 20)
    #expect(error?.code == .decompressionFailed)
    #expect(error?.message.contains("100000000") == true)
}

@Test func declaredLengthLargerThanTheActualIsRefused() throws {
    let compressed = try #require(FrameCompression.compress(text))
    let error = decompressionError(withDeclaredLength(compressed, declaredLength(compressed) + 1))
    #expect(error?.code == .decompressionFailed)
}

@Test func declaredLengthSmallerThanTheActualIsRefused() throws {
    let compressed = try #require(FrameCompression.compress(text))
    for lie in [declaredLength(compressed) - 1, declaredLength(compressed) / 2, 1] {
        let error = decompressionError(withDeclaredLength(compressed, lie))
        #expect(error?.code == .decompressionFailed)
    }
}

@Test(arguments: [3, 4, 8, 100])
func truncatedStreamIsRefused(cut: Int) throws {
    // compress-nio inflates a cut stream to partial output without an error; the exact-length
    // check is what catches it. (Cutting 3 or more bytes always loses output: the end-of-block
    // code and padding fit in 22 bits.)
    let compressed = try #require(FrameCompression.compress(text))
    let truncated = compressed.getSlice(at: compressed.readerIndex, length: compressed.readableBytes - cut)!
    let error = decompressionError(truncated)
    #expect(error?.code == .decompressionFailed)
}

@Test func declaredLengthOverTheMaximumIsRefusedBeforeInflating() throws {
    let compressed = try #require(FrameCompression.compress(text))
    let error = decompressionError(compressed, maxLength: text.readableBytes - 1)
    #expect(error?.code == .decompressionFailed)
    #expect(error?.message.contains("limit") == true)
    #expect(try FrameCompression.decompress(compressed, maxLength: text.readableBytes).readableBytes == text.readableBytes)
}

@Test func payloadShorterThanItsLengthFieldIsRefused() {
    #expect(decompressionError(buffer([0x00, 0x00, 0x01]))?.code == .decompressionFailed)
    #expect(decompressionError(ByteBuffer())?.code == .decompressionFailed)
}

@Test func lengthWithoutAnyDeflateDataIsRefused() {
    #expect(decompressionError(buffer([0x00, 0x00, 0x00, 0x10]))?.code == .decompressionFailed)
}

@Test func corruptDeflateIsRefused() {
    // 0xFF… starts a block of the reserved type 3: invalid deflate.
    #expect(decompressionError(buffer([0x00, 0x00, 0x00, 0x10] + Array(repeating: 0xFF, count: 12)))?.code
        == .decompressionFailed)
}

// MARK: - MessageAssembler

private func frame(
    _ type: FrameType = .stream, id: UInt32 = 1, end: Bool, _ payload: ByteBuffer, compressed: Bool = false
) -> Frame {
    var flags: FrameFlags = end ? .end : []
    if compressed { flags.insert(.compressed) }
    return Frame(type: type, flags: flags, requestID: id, payload: payload)
}

private func bytes(_ count: Int) -> ByteBuffer { ByteBuffer(repeating: 0x42, count: count) }

/// An assembled message's fields, comparable in #expect.
private struct Assembled: Equatable {
    var type: FrameType
    var id: UInt32
    var payload: [UInt8]
    init(_ type: FrameType, _ id: UInt32, _ payload: [UInt8]) { (self.type, self.id, self.payload) = (type, id, payload) }
    init?(_ message: AssembledMessage?) {
        guard let message else { return nil }
        self.init(message.type, message.requestID, Array(message.payload.readableBytesView))
    }
}

@Test func assemblerJoinsFramesAndInflatesCompressedOnes() throws {
    var assembler = MessageAssembler()
    let compressed = try #require(FrameCompression.compress(text))
    #expect(try assembler.append(frame(end: false, buffer([1, 2, 3]))) == nil)
    #expect(assembler.unfinishedCount == 1)
    #expect(try assembler.append(frame(end: false, compressed, compressed: true)) == nil)
    let message = try assembler.append(frame(end: true, buffer([4])))
    #expect(Assembled(message) == Assembled(.stream, 1, [1, 2, 3] + Array(text.readableBytesView) + [4]))
    #expect(assembler.unfinishedCount == 0)
}

@Test func messageOverTheLimitAcrossFramesIsRefusedWhenTheFrameArrives() throws {
    var assembler = MessageAssembler(limits: WireLimits(maxFramePayload: 64, maxMessageBytes: 150))
    #expect(try assembler.append(frame(end: false, bytes(64))) == nil)
    #expect(try assembler.append(frame(end: false, bytes(64))) == nil)
    // 128 + 64 > 150: refused on the third frame, before its END.
    let error = #expect(throws: WireError.self) { try assembler.append(frame(end: false, bytes(64))) }
    #expect(error?.code == .messageTooLarge)
}

@Test func messageOfExactlyTheLimitIsAccepted() throws {
    var assembler = MessageAssembler(limits: WireLimits(maxFramePayload: 64, maxMessageBytes: 150))
    #expect(try assembler.append(frame(end: false, bytes(64))) == nil)
    #expect(try assembler.append(frame(end: false, bytes(64))) == nil)
    #expect(try assembler.append(frame(end: true, bytes(22)))?.payload.readableBytes == 150)
}

@Test func messageLimitCountsInflatedBytes() throws {
    // 2,000 bytes deflate to a few dozen: the limit applies to what they inflate to.
    let compressed = try #require(FrameCompression.compress(ByteBuffer(repeating: 0, count: 2000)))
    #expect(compressed.readableBytes < 100)
    var assembler = MessageAssembler(limits: WireLimits(maxMessageBytes: 1000))
    let error = #expect(throws: WireError.self) { try assembler.append(frame(end: true, compressed, compressed: true)) }
    #expect(error?.code == .messageTooLarge)
}

@Test func compressedFrameDeclaringMoreThanTheFrameLimitIsRefused() throws {
    let compressed = try #require(FrameCompression.compress(ByteBuffer(repeating: 0, count: 2000)))
    var assembler = MessageAssembler(limits: WireLimits(maxFramePayload: 1999))
    let error = #expect(throws: WireError.self) { try assembler.append(frame(end: true, compressed, compressed: true)) }
    #expect(error?.code == .decompressionFailed)
}

@Test func bombInAFrameIsRefusedByTheAssembler() throws {
    var assembler = MessageAssembler()
    let error = #expect(throws: WireError.self) {
        try assembler.append(frame(end: true, withDeclaredLength(bomb, 1 << 20), compressed: true))
    }
    #expect(error?.code == .decompressionFailed)
}

@Test(arguments: [FrameType.response, .error, .cancel])
func frameOfAnotherTypeInsideAnUnfinishedMessageIsProtocolError(other: FrameType) throws {
    var assembler = MessageAssembler()
    #expect(try assembler.append(frame(.stream, id: 5, end: false, bytes(10))) == nil)
    let error = #expect(throws: WireError.self) { try assembler.append(frame(other, id: 5, end: true, bytes(1))) }
    #expect(error?.code == .protocolError)
}

@Test func messagesOfDifferentRequestsInterleave() throws {
    var assembler = MessageAssembler()
    #expect(try assembler.append(frame(.stream, id: 5, end: false, buffer([1]))) == nil)
    #expect(try assembler.append(frame(.response, id: 6, end: false, buffer([2]))) == nil)
    #expect(Assembled(try assembler.append(frame(.ping, id: 0, end: true, buffer([])))) == Assembled(.ping, 0, []))
    #expect(Assembled(try assembler.append(frame(.stream, id: 5, end: true, buffer([3])))) == Assembled(.stream, 5, [1, 3]))
    // After its STREAM message ended, request 5 may start another message of another type.
    #expect(Assembled(try assembler.append(frame(.response, id: 5, end: true, buffer([4])))) == Assembled(.response, 5, [4]))
    #expect(Assembled(try assembler.append(frame(.response, id: 6, end: true, buffer([5])))) == Assembled(.response, 6, [2, 5]))
    #expect(assembler.unfinishedCount == 0)
}

@Test func tooManyUnfinishedMessagesAreRefused() throws {
    let limits = WireLimits(maxRequestsInFlight: 4)
    var assembler = MessageAssembler(limits: limits)
    // One unfinished message per request in flight is normal: exactly that many, not one more.
    for id in UInt32(1)...4 { #expect(try assembler.append(frame(id: id, end: false, bytes(1))) == nil) }
    #expect(assembler.unfinishedCount == 4)
    let error = #expect(throws: WireError.self) { try assembler.append(frame(id: 5, end: false, bytes(1))) }
    #expect(error?.code == .protocolError)
    #expect(error?.message.contains("more than 4 unfinished") == true)
    // Frames continuing an unfinished message are not new messages, nor are whole ones.
    var fresh = MessageAssembler(limits: limits)
    for id in UInt32(1)...4 { _ = try fresh.append(frame(id: id, end: false, bytes(1))) }
    for id in UInt32(1)...4 { #expect(try fresh.append(frame(id: id, end: false, bytes(1))) == nil) }
    #expect(try fresh.append(frame(id: 9, end: true, bytes(1))) != nil)
    #expect(fresh.unfinishedCount == 4)
}
