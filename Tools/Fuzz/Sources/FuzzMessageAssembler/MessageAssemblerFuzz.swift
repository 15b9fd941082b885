import FuzzSupport
import GlossWire
import NIOCore

/// Input: one mode byte, then frames without the preface, as a peer sends them after it.
/// Mode bit 0: small limits (1 KiB frames, 4 KiB messages, 2 requests in flight) instead of
/// the defaults. Every frame goes to the assembler and every message to `WireMessage`, as a
/// connection does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessageAssembler(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let limits =
        mode & 1 == 0
        ? WireLimits.default : WireLimits(maxFramePayload: 1024, maxMessageBytes: 4096, maxRequestsInFlight: 2)
    var decoder = FrameDecoder(expectPreface: false, limits: limits)
    var assembler = MessageAssembler(limits: limits)
    var buffer = ByteBuffer(bytes: input.rest)
    do {
        while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) {
            guard let message = try assembler.append(frame) else {
                fuzzCheck(assembler.unfinishedCount <= limits.maxRequestsInFlight + 1, "too many unfinished messages")
                continue
            }
            fuzzCheck(message.payload.readableBytes <= limits.maxMessageBytes, "a message over the size limit")
            let decoded = try WireMessage(message)
            fuzzCheck(decoded.frameType == message.type, "WireMessage changed the frame type")
            // What a peer sends back must be frames the same assembler accepts again.
            var reassembler = MessageAssembler(limits: limits)
            var rebuilt: AssembledMessage?
            for frame in decoded.frames(limits: limits, compress: mode & 2 != 0) {
                rebuilt = try reassembler.append(frame)
            }
            fuzzCheck(rebuilt != nil, "a message re-framed does not assemble")
            if let rebuilt {
                let again = try WireMessage(rebuilt)
                fuzzCheck(again == decoded, "a message does not survive re-framing")
            }
        }
    } catch is WireError {
        // Refused with a typed error: what hostile bytes must get.
    } catch {
        fatalError("the frame path threw \(type(of: error)), not a WireError: \(error)")
    }
    return 0
}
