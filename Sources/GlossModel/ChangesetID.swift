/// The client-generated id of a changeset: 128 random bits, the idempotency key of a push.
public struct ChangesetID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public static func random() -> ChangesetID {
        var rng = SystemRandomNumberGenerator()
        return random(using: &rng)
    }

    public static func random<G: RandomNumberGenerator>(using rng: inout G) -> ChangesetID {
        ChangesetID(high: rng.next(), low: rng.next())
    }

    /// The 16 bytes, big-endian.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        let a = Array(bytes)
        self.high = a[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        self.low = a[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    public var description: String { bytes.map { String(format2: $0) }.joined() }
}

extension String {
    /// Two lowercase hex digits.
    init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef".utf8)
        self = String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
    }
}
