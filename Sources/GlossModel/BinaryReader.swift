/// Reads what ``BinaryWriter`` wrote, checking every length against the bytes left before
/// allocating, so hostile input fails with a ``CodecError`` instead of a trap or a huge buffer.
public struct BinaryReader {
    private let bytes: [UInt8]
    public private(set) var offset: Int
    /// What is being decoded, for error messages ("delta", "snapshot" …).
    let what: String

    public init(_ bytes: [UInt8], what: String) {
        self.bytes = bytes
        self.offset = 0
        self.what = what
    }

    public var isAtEnd: Bool { offset == bytes.count }
    public var remaining: Int { bytes.count - offset }

    public mutating func byte() throws(CodecError) -> UInt8 {
        guard offset < bytes.count else { throw truncated("a byte") }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func varint() throws(CodecError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            if shift == 63 && b > 1 { throw malformed("varint overflows 64 bits") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw malformed("varint longer than 10 bytes") }
        }
    }

    /// A varint that must fit `0...limit` (a count, an index or an offset).
    public mutating func int(max limit: Int = Int(Int32.max), _ name: String) throws(CodecError) -> Int {
        let v = try varint()
        guard v <= UInt64(limit) else { throw malformed("\(name) \(v) exceeds \(limit)") }
        return Int(v)
    }

    /// A count of items that each take at least `minBytes`: refused if the input cannot hold them.
    public mutating func count(_ name: String, minBytes: Int = 1) throws(CodecError) -> Int {
        let n = try int(name)
        guard n <= remaining / max(minBytes, 1) else {
            throw truncated("\(n) \(name) (only \(remaining) bytes left)")
        }
        return n
    }

    public mutating func zigzag() throws(CodecError) -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    public mutating func fixed64() throws(CodecError) -> UInt64 {
        guard remaining >= 8 else { throw truncated("8 bytes") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return v
    }

    public mutating func raw(_ n: Int) throws(CodecError) -> ArraySlice<UInt8> {
        guard n >= 0, remaining >= n else { throw truncated("\(n) bytes") }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    public mutating func string() throws(CodecError) -> String {
        let n = try int("string length")
        let slice = try raw(n)
        guard let s = String(validating: slice, as: UTF8.self) else { throw malformed("string is not valid UTF-8") }
        return s
    }

    public func truncated(_ expected: String) -> CodecError {
        CodecError(.truncated, "\(what) ends early: expected \(expected) at byte \(offset)", offset: offset)
    }

    public func malformed(_ problem: String) -> CodecError {
        CodecError(.malformed, "\(what) is malformed at byte \(offset): \(problem)", offset: offset)
    }
}
