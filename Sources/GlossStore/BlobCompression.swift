import CompressNIO
import NIOCore

/// Raw deflate for everything stored: deltas, snapshots and texts. Compressed once at write
/// time; the protocol streams the stored bytes as they are.
///
/// compress-nio does not notice a truncated stream (it inflates to partial output), so every
/// blob is stored with its uncompressed length and inflation must produce exactly that.
public enum BlobCompression {
    /// zlib level 6: about 40 MB/s per core here, a good trade for data written once.
    public static let level: Int32 = 6

    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        let algorithm = CompressionAlgorithm.deflate(configuration: ZlibConfiguration(compressionLevel: level))
        // compress(with:) only fails on zlib misuse, which would be a programming error here.
        guard var output = try? input.compress(with: algorithm) else {
            preconditionFailure("deflate of \(bytes.count) bytes failed")
        }
        return output.readBytes(length: output.readableBytes) ?? []
    }

    /// Inflates `bytes`, which must expand to exactly `expectedLength` bytes.
    public static func decompress(_ bytes: [UInt8], expectedLength: Int, what: @autoclosure () -> String) throws(StoreError)
        -> [UInt8]
    {
        // A length read from a peer or a damaged row may be anything: no trap on it.
        guard expectedLength >= 0, expectedLength < Int.max else {
            throw StoreError(.corrupt, "declares an impossible length, \(expectedLength) bytes", context: what())
        }
        var input = ByteBuffer(bytes: bytes)
        do {
            // One byte of headroom: output past the declared length proves the length wrong.
            var output = try input.decompress(with: .deflate(), maxSize: expectedLength + 1)
            guard output.readableBytes == expectedLength else {
                throw StoreError(
                    .corrupt, "inflates to \(output.readableBytes) bytes, expected \(expectedLength)", context: what())
            }
            return output.readBytes(length: expectedLength) ?? []
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.corrupt, "does not inflate (\(error)), expected \(expectedLength) bytes", context: what())
        }
    }
}
