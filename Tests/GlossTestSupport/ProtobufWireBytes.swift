/// Protobuf wire bytes written by hand, for tests that send what no encoder would: unknown
/// fields, millions of empty entries, a message split over repeated occurrences.
public enum ProtobufWireBytes {
    /// A base-128 varint.
    public static func varint(_ value: Int) -> [UInt8] {
        var v = UInt64(value)
        var out: [UInt8] = []
        repeat {
            out.append(UInt8(v & 0x7F) | (v >= 0x80 ? 0x80 : 0))
            v >>= 7
        } while v > 0
        return out
    }

    /// A length-delimited field: its key, its length, its bytes.
    public static func field(_ number: Int, _ body: [UInt8]) -> [UInt8] {
        varint(number << 3 | 2) + varint(body.count) + body
    }
}
