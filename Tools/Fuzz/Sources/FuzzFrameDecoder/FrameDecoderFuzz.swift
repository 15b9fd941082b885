import FuzzSupport
import GlossWire
import NIOCore

/// Input: one mode byte, then the bytes a peer sends.
/// Mode bit 0: expect the preface; bit 1: small limits (4 KiB frames) instead of the defaults;
/// bits 2–7: the size of the chunks the bytes arrive in (0: all at once).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let limits = mode & 2 == 0 ? WireLimits.default : WireLimits(maxFramePayload: 4096, maxMessageBytes: 16384)
    let chunk = Int(mode >> 2)
    var decoder = FrameDecoder(expectPreface: mode & 1 == 1, limits: limits)
    let bytes = input.rest
    var buffer = ByteBuffer()
    var offset = bytes.startIndex
    do {
        while offset < bytes.endIndex {
            let end = chunk == 0 ? bytes.endIndex : min(offset + chunk, bytes.endIndex)
            buffer.writeBytes(bytes[offset..<end])
            offset = end
            while let frame = try decoder.decode(buffer: &buffer) { check(frame, limits) }
        }
        while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) { check(frame, limits) }
    } catch is WireError {
        // Refused with a typed error: what hostile bytes must get.
    } catch {
        fatalError("FrameDecoder threw \(type(of: error)), not a WireError: \(error)")
    }
    return 0
}

/// A decoded frame respects the limits and survives a round trip through the encoder.
private func check(_ frame: Frame, _ limits: WireLimits) {
    fuzzCheck(frame.payload.readableBytes <= limits.maxFramePayload, "frame over the payload limit")
    var encoded = ByteBuffer()
    FrameEncoder.write(frame, to: &encoded)
    var again = FrameDecoder(expectPreface: false, limits: limits)
    let decoded = try? again.decode(buffer: &encoded)
    fuzzCheck(decoded == frame && encoded.readableBytes == 0, "a frame does not survive encode and decode: \(frame)")
}
