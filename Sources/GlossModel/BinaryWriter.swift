/// Appends the primitives of Gloss's compact encodings: LEB128 varints, zigzag signed
/// varints, fixed little-endian words and length-prefixed UTF-8 strings.
public struct BinaryWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    public mutating func byte(_ b: UInt8) { bytes.append(b) }

    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func varint(_ value: Int) {
        precondition(value >= 0, "varint of a negative value; use zigzag")
        varint(UInt64(value))
    }

    public mutating func zigzag(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    public mutating func fixed64(_ value: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }

    public mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        varint(utf8.count)
        bytes.append(contentsOf: utf8)
    }

    public mutating func raw(_ data: some Sequence<UInt8>) { bytes.append(contentsOf: data) }
}
