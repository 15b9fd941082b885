import CompressNIO
import NIOCore

/// Per-frame raw deflate. A compressed payload is a big-endian u32 uncompressed length
/// followed by the deflate stream; inflation must give exactly that length.
public enum FrameCompression {
    /// The compressed form of `payload`, or nil when compressing does not make it smaller.
    public static func compress(_ payload: ByteBuffer) -> ByteBuffer? {
        var input = payload
        guard var deflated = try? input.compress(with: .deflate()) else { return nil }
        guard deflated.readableBytes + 4 < payload.readableBytes else { return nil }
        var out = ByteBuffer()
        out.reserveCapacity(deflated.readableBytes + 4)
        out.writeInteger(UInt32(payload.readableBytes))
        out.writeBuffer(&deflated)
        return out
    }

    /// Inflates a compressed payload, refusing declared lengths over `maxLength`, truncated
    /// streams and streams that inflate past their declared length (decompression bombs).
    public static func decompress(_ payload: ByteBuffer, maxLength: Int) throws(WireError) -> ByteBuffer {
        var input = payload
        guard let declared = input.readInteger(as: UInt32.self) else {
            throw WireError(.decompressionFailed, "a compressed payload is shorter than its 4-byte length")
        }
        guard Int(declared) <= maxLength else {
            throw WireError(
                .decompressionFailed, "a compressed payload declares \(declared) bytes; the limit is \(maxLength)")
        }
        let output: ByteBuffer
        do {
            // One byte of headroom: anything past the declared length proves it a lie.
            output = try input.decompress(with: .deflate(), maxSize: Int(declared) + 1)
        } catch {
            throw WireError(
                .decompressionFailed, "a compressed payload does not inflate within its declared \(declared) bytes (\(error))")
        }
        guard output.readableBytes == Int(declared) else {
            throw WireError(
                .decompressionFailed,
                "a compressed payload inflates to \(output.readableBytes) bytes, not the declared \(declared)")
        }
        return output
    }
}
